// Command year runs a simulated year of an agent's portfolio on vattest, at
// simulated time, with the agentsync planner (told of the periods the agent
// learns of, then told nothing) and with a daily sweep of every client (on a
// sample of the clients, scaled up), and prints the figures side by side as
// a Markdown table.
//
//	go run ./bench/year -clients 10000
//
// Every figure is on the simulated clock: calls made, the share of HMRC's
// rate of 3 requests per second they use, and the time from the moment
// HMRC's data changed to the moment the strategy reported it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "year:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("year", flag.ContinueOnError)
	fs.SetOutput(stderr)
	clients := fs.Int("clients", 10000, "clients at the start (about 6% more register during the year)")
	days := fs.Int("days", 365, "days simulated and measured")
	tail := fs.Int("tail", 100, "days simulated after the measured ones, so that late changes can still be seen (more than the longest gap between two fetches of a client, the 90-day sweep + 10%)")
	seed := fs.Uint64("seed", 1, "the population's seed")
	sample := fs.Int("sweep-sample", 300, "clients the daily sweep is run on (0: none); its calls are scaled to the whole portfolio")
	quiet := fs.Bool("q", false, "no progress on standard error")
	extras := fs.Bool("extras", false, "also follow liabilities, payments and penalties (the planner's optional schedules)")
	untold := fs.Bool("untold", true, "also run the planner without telling it the periods the agent learns of (Planner.Expect)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: go run ./bench/year [flags]\n\nRuns a simulated year with the agentsync planner (told of the periods the agent learns of, and,\nwith -untold, told nothing) and with a daily sweep, and prints them side by side.\nNo environment variables are read.\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	progress := func(name string) func(now, end time.Time) {
		if *quiet {
			return nil
		}
		return func(now, end time.Time) {
			fmt.Fprintf(stderr, "\r%s: %s of %s", name, now.Format(time.DateOnly), end.Format(time.DateOnly))
		}
	}
	o := Options{Clients: *clients, Days: *days, Tail: *tail, Seed: *seed, Extras: *extras}
	started := time.Now()
	o.Progress = progress("planner")
	pf, err := runPlanner(ctx, o)
	if err != nil {
		return err
	}
	plannerTook := time.Since(started)
	pf.Strategy = "planner, told of announced periods"
	figs := []Figures{pf}
	if *untold {
		uo := o
		uo.Untold, uo.Progress = true, progress("planner, untold")
		uf, err := runPlanner(ctx, uo)
		if err != nil {
			return err
		}
		uf.Strategy = "planner, told nothing"
		figs = append(figs, uf)
	}
	var sweepTook time.Duration
	if *sample > 0 {
		started = time.Now()
		o.Sample, o.Progress = *sample, progress("daily sweep")
		sf, err := runSweep(ctx, o)
		if err != nil {
			return err
		}
		sweepTook = time.Since(started)
		scale := float64(pf.Clients) / float64(sf.Clients)
		sf.Strategy = fmt.Sprintf("daily sweep (%d-client sample, calls scaled ×%.1f)", sf.Clients, scale)
		sf.Calls = int(float64(sf.Calls) * scale)
		sf.BudgetShare *= scale
		sf.PeakHourShare *= scale
		figs = append(figs, sf)
	}
	if !*quiet {
		fmt.Fprintln(stderr)
	}
	fmt.Fprintf(stdout, "%d clients at the start, %d days from %s, seed %d.\n\n", *clients, *days, "2025-01-06", *seed)
	fmt.Fprint(stdout, table(figs...))
	fmt.Fprintf(stdout, "\nPlanner fetches by reason: %v\n", pf.Reasons)
	fmt.Fprintf(stdout, "Real time: planner %v, daily sweep %v.\n", plannerTook.Round(time.Second), sweepTook.Round(time.Second))
	return nil
}

// Command agent-bulk is an agent's tool for keeping up with the VAT
// obligations of a whole portfolio of clients. It runs the agentsync planner
// for a list of VRNs, shows its progress, prints the obligations due
// soonest and writes a CSV of every client's obligations.
//
//	agent-bulk [-vrns clients.txt | -n 100] [-csv portfolio.csv] [-state DIR] [-soonest 10] [-rate 3]
//
// It runs offline, against an in-process vattest simulator of HMRC in which
// it creates the clients (those of the -vrns file, or -n generated ones),
// each with quarterly or monthly obligations, and an agent they have
// authorised. The simulator enforces the same rate limit as the tool's
// client, HMRC's 3 requests per second unless -rate says otherwise, so 100
// clients take about 35 seconds the first time.
//
// With -state, the planner keeps what it learnt in that directory, so that
// a second run fetches only the clients whose schedule says so (after a
// period's end, a due date, a return filed…) instead of every client again.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		os.Exit(exitCode(err, os.Stderr))
	}
}

// usageError is a command line that could not be parsed: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// exitCode reports err and returns the exit status for it: 0 for -h, 2 for
// a usage error, 1 for anything else.
func exitCode(err error, stderr io.Writer) int {
	var ue usageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintln(stderr, "agent-bulk:", err)
		return 2
	}
	fmt.Fprintln(stderr, "agent-bulk:", err)
	return 1
}

const usage = `Usage: agent-bulk [-vrns FILE | -n N] [-csv FILE] [-state DIR] [-soonest K] [-rate R]

Keeps an agent's view of its clients' VAT obligations up to date with the
agentsync planner, against an in-process simulator of HMRC (it never calls
HMRC), then prints the obligations due soonest and writes a CSV of the
whole portfolio. Progress is a bar on a terminal, plain lines otherwise.

It reads no environment variables.

Examples:
  agent-bulk -n 50
  agent-bulk -vrns clients.txt -csv portfolio.csv -state .agent-bulk

Flags:
`

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("agent-bulk", flag.ContinueOnError)
	fs.SetOutput(out)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	cfg := defaultConfig()
	fs.StringVar(&cfg.vrnFile, "vrns", "", "file of client VRNs, one a line (# starts a comment); when empty, -n clients are generated")
	fs.IntVar(&cfg.clients, "n", cfg.clients, "number of clients to generate when there is no -vrns file")
	fs.StringVar(&cfg.csvPath, "csv", cfg.csvPath, `CSV file to write the portfolio to ("" for none)`)
	fs.StringVar(&cfg.stateDir, "state", "", "directory where the planner keeps its state between runs (none when empty)")
	fs.IntVar(&cfg.soonest, "soonest", cfg.soonest, "how many open obligations to list, due soonest first")
	fs.IntVar(&cfg.rate, "rate", cfg.rate, "requests per second, at the tool and at the simulator (HMRC's limit is 3)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	if err := cfg.check(); err != nil {
		return usageError{err}
	}
	vrns, err := cfg.readVRNs()
	if err != nil {
		return err
	}
	p, err := newPractice(cfg, vrns)
	if err != nil {
		return err
	}
	defer p.close()
	prog := newProgress(out, len(p.vrns))
	rep, err := p.sync(ctx, prog)
	if err != nil {
		return err
	}
	printReport(out, rep, cfg.soonest, time.Now())
	if cfg.csvPath != "" {
		if err := writeCSV(cfg.csvPath, rep.Records); err != nil {
			return err
		}
		fmt.Fprintf(out, "\nPortfolio written to %s.\n", cfg.csvPath)
	}
	return nil
}

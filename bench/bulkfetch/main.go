// Command bulkfetch measures a sweep: an agent's software reading the open
// VAT obligations of all its clients at once (N client VRNs, one vat.Client,
// one application rate limiter that every request waits on, and a bounded
// pool of workers). It is the baseline that examples/agent-bulk's planner
// avoids, and the load that shows the limiter at work. It runs against an in-process vattest simulator whose
// own rate limit is the same, so a request over the limit would be
// answered 429 as HMRC answers it.
//
//	go run ./bench/bulkfetch [-n 1000] [-rate 3] [-workers 16]
//
// It prints the rate achieved against the limit, the 429 responses seen,
// the time taken and the memory used. HMRC's limit is 3 requests per
// second per application, so 1,000 clients take about six minutes; -rate
// raises the limit of both sides to see the pipeline at speed. The limiter
// counts the server's window by the times requests actually left, so that
// a request let go a little late cannot push the server's window over the
// limit (see config.limiter).
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "bulkfetch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bulkfetch", flag.ContinueOnError)
	fs.SetOutput(out)
	cfg := defaultConfig()
	fs.IntVar(&cfg.clients, "n", cfg.clients, "number of client VRNs")
	fs.IntVar(&cfg.rate, "rate", cfg.rate, "the application's rate limit, requests per second (HMRC's is 3)")
	fs.IntVar(&cfg.workers, "workers", cfg.workers, "calls in flight at most")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	setup := time.Now()
	p, err := newPractice(cfg)
	if err != nil {
		return err
	}
	defer p.close()
	fmt.Fprintf(out, "%d clients set up in %v; fetching their open obligations at %d requests/second with %d workers…\n",
		cfg.clients, time.Since(setup).Round(time.Millisecond), cfg.rate, cfg.workers)
	rep, err := p.fetchOpenObligations(ctx)
	if err != nil {
		return err
	}
	runtime.GC()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)
	printReport(out, cfg, rep, mem)
	if rep.Failed > 0 {
		for _, r := range rep.Results {
			if r.Err != nil {
				return fmt.Errorf("%d of %d clients failed, the first with: %w", rep.Failed, cfg.clients, r.Err)
			}
		}
	}
	return nil
}

func printReport(out io.Writer, cfg config, rep *report, mem runtime.MemStats) {
	open := 0
	for _, r := range rep.Results {
		open += len(r.Open)
	}
	fmt.Fprintf(out, "clients            %d (%d open obligations, %d failed)\n", len(rep.Results), open, rep.Failed)
	fmt.Fprintf(out, "requests           %d, of which 429: %d\n", rep.Requests, rep.Throttled)
	fmt.Fprintf(out, "elapsed            %v\n", rep.Elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "achieved rate      %.1f requests/second in the steady state: %.1f %% of the limit of %d\n",
		rep.SteadyRate, 100*rep.SteadyRate/float64(cfg.rate), cfg.rate)
	if rep.TightestReceived > 0 {
		fmt.Fprintf(out, "tightest window    %d requests sent in %v, received in %v (the limit allows %d a second)\n",
			cfg.rate+1, rep.TightestSent.Round(100*time.Microsecond), rep.TightestReceived.Round(100*time.Microsecond), cfg.rate)
	}
	fmt.Fprintf(out, "connections        %d opened for %d workers\n", rep.Conns, cfg.workers)
	fmt.Fprintf(out, "goroutines         %d at most\n", rep.PeakGoroutines)
	fmt.Fprintf(out, "memory             %.1f KiB allocated per client; %.1f MiB heap in use after (simulator included)\n",
		rep.AllocatedPerClient/1024, float64(mem.HeapInuse)/(1<<20))
}

package main

import (
	"bufio"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/time/rate"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
	"github.com/go-mtd/vat/vattest"
)

// config describes one run.
type config struct {
	vrnFile  string
	clients  int
	csvPath  string
	stateDir string
	soonest  int
	rate     int
}

func defaultConfig() config {
	return config{clients: 100, csvPath: "portfolio.csv", soonest: 10, rate: vat.HMRCRateLimit}
}

func (c config) check() error {
	switch {
	case c.vrnFile == "" && c.clients < 1:
		return fmt.Errorf("-n: need at least one client, got %d", c.clients)
	case c.rate < 1:
		return fmt.Errorf("-rate: must be at least 1 request per second, got %d", c.rate)
	case c.soonest < 0:
		return fmt.Errorf("-soonest: must not be negative, got %d", c.soonest)
	}
	return nil
}

// readVRNs reads the -vrns file: one VRN a line; blank lines and text after
// # are ignored. It returns nil when there is no file.
func (c config) readVRNs() ([]vat.VRN, error) {
	if c.vrnFile == "" {
		return nil, nil
	}
	f, err := os.Open(c.vrnFile)
	if err != nil {
		return nil, fmt.Errorf("-vrns: %w", err)
	}
	defer f.Close()
	return parseVRNs(f, c.vrnFile)
}

func parseVRNs(r io.Reader, name string) ([]vat.VRN, error) {
	var out []vat.VRN
	seen := map[vat.VRN]bool{}
	sc := bufio.NewScanner(r)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		text = strings.TrimSpace(text)
		if text == "" {
			continue
		}
		v, err := vat.ParseVRN(text)
		if err != nil {
			return nil, fmt.Errorf("%s, line %d: %q is not a VRN (nine digits)", name, line, text)
		}
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no VRN in the file", name)
	}
	return out, nil
}

// practice is the agent's software: a simulator of HMRC holding the
// clients, a vat.Client acting as the agent, and a planner.
type practice struct {
	srv      *vattest.Server
	client   *vat.Client
	planner  *agentsync.Planner
	vrns     []vat.VRN
	requests atomic.Int64 // obligations requests answered
	events   []agentsync.Event
}

func newPractice(cfg config, vrns []vat.VRN) (*practice, error) {
	srv, err := vattest.New(vattest.WithRateLimit(cfg.rate))
	if err != nil {
		return nil, err
	}
	p := &practice{srv: srv}
	ok := false
	defer func() {
		if !ok {
			srv.Close()
		}
	}()
	agent := srv.CreateAgent()
	n := len(vrns)
	if n == 0 {
		n = cfg.clients
	}
	for i := range n {
		org := vattest.Organisation{Plan: &vattest.Plan{Period: vattest.Quarterly, Fulfilled: 2, Open: i % 2}}
		if i%7 == 3 {
			org.Plan.Period = vattest.Monthly
		}
		if vrns != nil {
			org.VRN = string(vrns[i])
		}
		u, err := srv.CreateOrganisation(org)
		if err != nil {
			return nil, err
		}
		if err := srv.AuthoriseAgent(agent.UserID, u.VRN); err != nil {
			return nil, err
		}
		p.vrns = append(p.vrns, vat.VRN(u.VRN))
	}
	tok, err := srv.IssueToken(agent.UserID, "read:vat")
	if err != nil {
		return nil, err
	}
	limiter := rate.NewLimiter(rate.Every((time.Second+40*time.Millisecond)/time.Duration(cfg.rate)), 1)
	p.client, err = vat.NewClient(
		vat.WithBaseURL(srv.URL),
		vat.WithHTTPClient(&http.Client{Transport: &counter{next: srv.Client().Transport, n: &p.requests}, Timeout: time.Minute}),
		vat.WithTokenSource(oauth2.StaticTokenSource(tok.OAuth2())),
		vat.WithRateLimiter(limiter),
		vat.WithUserAgent("AgentBulkExample/2.0"),
	)
	if err != nil {
		return nil, err
	}
	var store agentsync.Store = agentsync.NewMemoryStore()
	if cfg.stateDir != "" {
		if store, err = agentsync.NewFileStore(cfg.stateDir); err != nil {
			return nil, err
		}
	}
	p.planner, err = agentsync.New(p.client, store, agentsync.WithHandler(func(e agentsync.Event) { p.events = append(p.events, e) }))
	if err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

func (p *practice) close() { p.srv.Close() }

// counter counts the answers to obligations requests, for the progress.
type counter struct {
	next http.RoundTripper
	n    *atomic.Int64
}

func (c *counter) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.next.RoundTrip(r)
	if strings.HasSuffix(r.URL.Path, "/obligations") {
		c.n.Add(1)
	}
	return resp, err
}

// report is what one run learnt.
type report struct {
	Clients  int
	Fetched  int64 // obligations requests made
	Records  []agentsync.Record
	Events   []agentsync.Event
	Elapsed  time.Duration
	Problems []agentsync.Event // access lost, fetch failed
}

// sync adds the clients to the planner and makes every fetch that is due
// now (all of them the first time), showing progress.
func (p *practice) sync(ctx context.Context, prog *progress) (*report, error) {
	start := time.Now()
	if err := p.planner.Add(ctx, p.vrns...); err != nil {
		return nil, err
	}
	// The fetches due now: the clients never fetched, and those whose
	// schedule has come round since the last run.
	recs, err := p.planner.Records(ctx)
	if err != nil {
		return nil, err
	}
	due := 0
	for _, r := range recs {
		if !r.Parked && !r.Next.After(start) {
			due++
		}
	}
	prog.total = due
	done := make(chan error, 1)
	go func() {
		_, err := p.planner.RunDue(ctx)
		done <- err
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for running := true; running; {
		select {
		case err = <-done:
			running = false
		case <-tick.C:
		}
		prog.update(int(p.requests.Load()))
	}
	prog.finish(int(p.requests.Load()))
	if err != nil {
		return nil, err
	}
	recs, err = p.planner.Records(ctx)
	if err != nil {
		return nil, err
	}
	rep := &report{Clients: len(p.vrns), Fetched: p.requests.Load(), Records: recs, Events: p.events, Elapsed: time.Since(start)}
	for _, e := range p.events {
		if e.Kind == agentsync.EventAccessLost || e.Kind == agentsync.EventFetchFailed {
			rep.Problems = append(rep.Problems, e)
		}
	}
	return rep, nil
}

// progress shows how many of the due fetches are done: a bar redrawn in
// place on a terminal, a line every tenth otherwise.
type progress struct {
	out      io.Writer
	terminal bool
	total    int
	shown    int // plain mode: the last count printed
}

func newProgress(out io.Writer, total int) *progress {
	return &progress{out: out, terminal: isTerminal(out), total: total, shown: -1}
}

// isTerminal reports whether out is a character device (a terminal).
func isTerminal(out io.Writer) bool {
	f, ok := out.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

func (p *progress) update(done int) {
	done = min(done, p.total)
	if p.terminal {
		const width = 30
		filled := 0
		if p.total > 0 {
			filled = width * done / p.total
		}
		fmt.Fprintf(p.out, "\rFetching [%s%s] %d/%d", strings.Repeat("#", filled), strings.Repeat(".", width-filled), done, p.total)
		return
	}
	step := max(p.total/10, 1)
	if done == p.shown || done != p.total && done/step == p.shown/step && p.shown >= 0 {
		return
	}
	p.shown = done
	fmt.Fprintf(p.out, "fetched %d of %d\n", done, p.total)
}

func (p *progress) finish(done int) {
	p.update(done)
	if p.terminal {
		fmt.Fprintln(p.out)
	}
}

// dueLine is one open obligation of one client.
type dueLine struct {
	vrn     vat.VRN
	o       vat.Obligation
	overdue bool
}

func openObligations(recs []agentsync.Record, today vat.Date) []dueLine {
	var out []dueLine
	for _, r := range recs {
		for _, o := range r.Obligations {
			if !o.Fulfilled() {
				out = append(out, dueLine{r.VRN, o, o.Due.Before(today)})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b dueLine) int {
		if c := a.o.Due.Compare(b.o.Due); c != 0 {
			return c
		}
		return strings.Compare(string(a.vrn), string(b.vrn))
	})
	return out
}

func printReport(out io.Writer, rep *report, soonest int, now time.Time) {
	today := vat.DateOf(now.UTC())
	open := openObligations(rep.Records, today)
	overdue := 0
	for _, l := range open {
		if l.overdue {
			overdue++
		}
	}
	fmt.Fprintf(out, "\n%d clients, %d fetched in %v; %d open obligations, %d overdue.\n",
		rep.Clients, rep.Fetched, rep.Elapsed.Round(time.Millisecond), len(open), overdue)
	for _, e := range rep.Problems {
		fmt.Fprintf(out, "problem: %v\n", e)
	}
	if soonest == 0 || len(open) == 0 {
		return
	}
	fmt.Fprintf(out, "\nDue soonest:\n%-9s  %-4s  %-10s  %-10s  %s\n", "VRN", "KEY", "PERIOD END", "DUE", "")
	for _, l := range open[:min(soonest, len(open))] {
		note := ""
		if l.overdue {
			note = "overdue"
		}
		fmt.Fprintf(out, "%-9s  %-4s  %-10s  %-10s  %s\n", l.vrn, l.o.PeriodKey, l.o.End, l.o.Due, note)
	}
}

// writeCSV writes every known obligation of every client to path (0600,
// through a temporary file renamed into place).
func writeCSV(path string, recs []agentsync.Record) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".portfolio-*.csv")
	if err != nil {
		return fmt.Errorf("-csv: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename, there is nothing to remove
	w := csv.NewWriter(tmp)
	_ = w.Write([]string{"vrn", "period_key", "start", "end", "due", "status", "received", "client_status"})
	for _, r := range recs {
		status := "ok"
		if r.Parked {
			status = "access lost"
		}
		if len(r.Obligations) == 0 {
			_ = w.Write([]string{string(r.VRN), "", "", "", "", "", "", status})
		}
		for _, o := range r.Obligations {
			received := ""
			if !o.Received.IsZero() {
				received = o.Received.String()
			}
			_ = w.Write([]string{string(r.VRN), string(o.PeriodKey), o.Start.String(), o.End.String(), o.Due.String(), string(o.Status), received, status})
		}
	}
	w.Flush()
	err = errors.Join(w.Error(), tmp.Close())
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("-csv: %w", err)
	}
	return nil
}

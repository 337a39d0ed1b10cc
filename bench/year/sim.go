package main

// The simulation: a year of an agent's portfolio on vattest at simulated
// time, once with the agentsync planner and once with a daily sweep, both
// measured the same way: calls, staleness of what each reports against the
// moment HMRC's data changed, and changes missed.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
	"github.com/go-mtd/vat/vattest"
)

// Options configures a run.
type Options struct {
	Clients int       // clients at the start
	Days    int       // recorded window (365)
	Tail    int       // days simulated after it (100: longer than the sweep)
	Seed    uint64    // the population's seed
	Start   time.Time // midnight UTC; zero: 2025-01-06
	// Sample, when positive, watches only every client whose index is a
	// multiple of Clients/Sample (for the daily sweep, whose cost is high).
	Sample int
	// Untold keeps from the planner what the agent learns of the periods a
	// client's history does not predict (vattest.HappeningAnnounced): the
	// planner must find them by itself.
	Untold bool
	// Extras turns on the planner's optional liabilities, payments and
	// penalties schedules.
	Extras bool
	// Progress, when set, is called now and then with the simulated time.
	Progress func(now, end time.Time)
}

// Figures are the measurements of one strategy.
type Figures struct {
	Strategy         string
	Clients          int     // clients watched (registered at some point of the window)
	Calls            int     // calls made in the window
	CallsPerClient   float64 // per client-year watched
	BudgetShare      float64 // Calls / (3 per second × window)
	PeakHourShare    float64 // busiest hour's calls / 10,800, after the first day
	Changes          int     // observable changes in the window
	Missed           int     // observable changes never reported
	New              Stats   // regular new obligations: from appearing to reported
	NewIrregular     Stats   // new obligations after a pattern change, deregistration or registration
	FulfilSoftware   Stats   // returns filed through the software by their due date: from shown to reported
	FulfilElsewhere  Stats   // returns filed elsewhere by their due date
	FulfilLate       Stats   // returns filed after their due date, through the software or not
	ElsewhereLateDay int     // regular on-time returns shown by HMRC before 09:00 the day after the due date but reported after that day
	FalseOverdue     int     // overdue reports while HMRC already showed the return
	Overdue          int     // overdue reports in the window
	Revoked          int     // clients who withdrew the agent's authority in the window
	AccessLost       int     // of those, reported
	AccessLostAfter  Stats   // from the withdrawal to its report
	// FirstFetches counts the calls that read a client for the first time
	// (once in a client's life, not once a year).
	FirstFetches         int
	SteadyCallsPerClient float64        // CallsPerClient without the first fetches
	Reasons              map[string]int // the planner's fetches by reason (whole run)

	clientYears float64
}

// Stats summarises staleness.
type Stats struct {
	N       int
	OverDay int // how many took more than 24 hours
	Median  time.Duration
	P95     time.Duration
	Worst   time.Duration
}

func stats(ds []time.Duration) Stats {
	if len(ds) == 0 {
		return Stats{}
	}
	slices.Sort(ds)
	over := len(ds) - sort.Search(len(ds), func(i int) bool { return ds[i] > 24*time.Hour })
	return Stats{N: len(ds), OverDay: over, Median: ds[len(ds)/2], P95: ds[len(ds)*95/100], Worst: ds[len(ds)-1]}
}

// clock is the simulated clock shared by the server, the client and the
// planner.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t
	}
}

// limiter paces calls at HMRC's rate on the simulated clock: each call
// moves the clock to its slot. It counts the calls of the window and lets
// the world move with the clock.
type limiter struct {
	clk        *clock
	interval   time.Duration
	last       time.Time
	start, end time.Time
	calls      int
	hours      map[int64]int
	world      func(time.Time)
}

func (l *limiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := l.clk.Now()
	if next := l.last.Add(l.interval); next.After(t) {
		t = next
	}
	l.last = t
	l.clk.set(t)
	if !t.Before(l.start) && t.Before(l.end) {
		l.calls++
		l.hours[t.Unix()/3600]++
	}
	l.world(t)
	return nil
}

// peakHourShare returns the busiest hour's share of the budget, the first
// day's (when every client is read for the first time) left out.
func (l *limiter) peakHourShare() float64 {
	peak := 0
	first := l.start.Add(24*time.Hour).Unix() / 3600
	for h, n := range l.hours {
		if h >= first {
			peak = max(peak, n)
		}
	}
	return float64(peak) / (3 * 3600)
}

// tokens issues the agent's access tokens on the server's clock.
type tokens struct {
	srv   *vattest.Server
	agent string
	mu    sync.Mutex
	tok   vattest.Token
}

func (t *tokens) Token() (*oauth2.Token, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.tok.AccessToken == "" || !t.srv.Now().Before(t.tok.Expiry.Add(-5*time.Minute)) {
		tok, err := t.srv.IssueToken(t.agent, "read:vat")
		if err != nil {
			return nil, err
		}
		t.tok = tok
	}
	return &oauth2.Token{AccessToken: t.tok.AccessToken, TokenType: "bearer"}, nil
}

type report struct {
	kind agentsync.EventKind
	at   time.Time
}

type key struct{ vrn, period string }

// world is one simulated portfolio and the client to reach it.
type world struct {
	clk    *clock
	srv    *vattest.Server
	pop    *vattest.Population
	lim    *limiter
	client *vat.Client
	queue  []vattest.Happening
	start  time.Time
	end    time.Time
	stop   time.Time
}

func newWorld(o Options) (*world, error) {
	w := &world{clk: &clock{t: o.Start}, start: o.Start}
	srv, err := vattest.New(vattest.WithClock(w.clk.Now), vattest.WithRateLimit(0))
	if err != nil {
		return nil, err
	}
	w.srv = srv
	w.pop, err = srv.NewPopulation(vattest.PopulationOptions{Clients: o.Clients, Start: o.Start, Days: o.Days, Tail: o.Tail, Seed: o.Seed})
	if err != nil {
		srv.Close()
		return nil, err
	}
	w.end = w.pop.End()
	w.stop = w.end.AddDate(0, 0, o.Tail)
	w.lim = &limiter{clk: w.clk, interval: (time.Second + 40*time.Millisecond) / 3, start: w.start, end: w.end, hours: map[int64]int{},
		world: w.advance}
	w.client, err = vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithTokenSource(&tokens{srv: srv, agent: w.pop.Agent().UserID}),
		vat.WithRateLimiter(w.lim), vat.WithClock(w.clk.Now), vat.WithUserAgent("yearsim/1.0"))
	if err != nil {
		srv.Close()
		return nil, err
	}
	return w, nil
}

func (w *world) advance(t time.Time) { w.queue = append(w.queue, w.pop.AdvanceTo(t)...) }

func (w *world) take() []vattest.Happening {
	q := w.queue
	w.queue = nil
	return q
}

// watched decides which clients a run watches.
func watched(o Options, clients []vattest.PopulationClient) map[string]bool {
	step := 1
	if o.Sample > 0 && o.Sample < len(clients) {
		step = len(clients) / o.Sample
	}
	m := map[string]bool{}
	for i, c := range clients {
		if i%step == 0 {
			m[c.VRN] = true
		}
	}
	return m
}

func defaults(o Options) Options {
	if o.Days == 0 {
		o.Days = 365
	}
	if o.Start.IsZero() {
		o.Start = time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	}
	return o
}

// runPlanner runs the year with the agentsync planner.
func runPlanner(ctx context.Context, o Options) (Figures, error) {
	o = defaults(o)
	w, err := newWorld(o)
	if err != nil {
		return Figures{}, err
	}
	defer w.srv.Close()
	watch := watched(o, w.pop.Clients())
	reports := map[key][]report{}
	opts := []agentsync.Option{agentsync.WithClock(w.clk.Now)}
	if o.Extras {
		opts = append(opts, agentsync.WithLiabilities(), agentsync.WithPayments(), agentsync.WithPenalties())
	}
	p, err := agentsync.New(w.client, agentsync.NewMemoryStore(), append(opts,
		agentsync.WithHandler(func(e agentsync.Event) {
			k := key{string(e.VRN), string(e.Obligation.PeriodKey)}
			if e.Kind == agentsync.EventAccessLost {
				k.period = ""
			}
			reports[k] = append(reports[k], report{e.Kind, e.At})
		}))...)
	if err != nil {
		return Figures{}, err
	}
	var initial []vat.VRN
	for _, c := range w.pop.Clients() {
		if c.Registered.IsZero() && watch[c.VRN] {
			initial = append(initial, vat.VRN(c.VRN))
		}
	}
	if err := p.Add(ctx, initial...); err != nil {
		return Figures{}, err
	}
	lastProgress := w.start
	for {
		next, err := p.RunDue(ctx)
		if err != nil {
			return Figures{}, err
		}
		w.advance(w.clk.Now())
		for _, h := range w.take() {
			if !watch[h.VRN] {
				continue
			}
			switch h.Kind {
			case vattest.HappeningRegistered:
				err = p.Add(ctx, vat.VRN(h.VRN))
			case vattest.HappeningFiled:
				err = p.Submitted(ctx, vat.VRN(h.VRN), vat.PeriodKey(h.PeriodKey), h.At)
			case vattest.HappeningAnnounced:
				if !o.Untold {
					err = p.Expect(ctx, vat.VRN(h.VRN), vat.DateOf(h.PeriodEnd))
				}
			}
			if err != nil {
				return Figures{}, err
			}
		}
		now := w.clk.Now()
		if !now.Before(w.stop) {
			break
		}
		wake := w.stop
		if !next.IsZero() && next.Before(wake) {
			wake = next
		}
		if ev := w.pop.NextEvent(); !ev.IsZero() && ev.Before(wake) {
			wake = ev
		}
		if wake.After(now) {
			w.clk.set(wake)
			w.advance(wake)
		}
		if o.Progress != nil && now.Sub(lastProgress) > 7*24*time.Hour {
			o.Progress(now, w.stop)
			lastProgress = now
		}
	}
	f := w.measure("planner", watch, reports)
	f.Reasons = p.Fetches()
	f.FirstFetches = f.Reasons[agentsync.ReasonFirst]
	f.SteadyCallsPerClient = float64(f.Calls-f.FirstFetches) / f.clientYears
	return f, nil
}

// runSweep runs the year with a daily sweep: every watched client is fetched
// once a day, at a time of day spread by client, and each fetch is compared
// with the one before.
func runSweep(ctx context.Context, o Options) (Figures, error) {
	o = defaults(o)
	w, err := newWorld(o)
	if err != nil {
		return Figures{}, err
	}
	defer w.srv.Close()
	watch := watched(o, w.pop.Clients())
	var vrns []string
	for _, c := range w.pop.Clients() {
		if watch[c.VRN] {
			vrns = append(vrns, c.VRN)
		}
	}
	slices.Sort(vrns)
	known := map[string]map[string]bool{} // VRN → period key → fulfilled
	reports := map[key][]report{}
	slot := 24 * time.Hour / time.Duration(len(vrns))
	// A first pass at the start, as the planner's first fetches, then one
	// fetch a day for each client at its own time of day.
	for d := w.start.Add(-24 * time.Hour); d.Before(w.stop); d = d.AddDate(0, 0, 1) {
		if o.Progress != nil && d.Weekday() == time.Monday {
			o.Progress(d, w.stop)
		}
		for i, v := range vrns {
			at := d.Add(time.Duration(i) * slot)
			if d.Before(w.start) {
				at = w.start
			}
			w.clk.set(at)
			w.advance(w.clk.Now())
			now := w.clk.Now()
			to := vat.DateOf(now)
			obs, err := w.client.Obligations(ctx, vat.VRN(v), vat.ObligationsQuery{From: to.AddYears(-1).AddDays(1), To: to}, vat.WithBulk())
			if err != nil {
				if ctx.Err() != nil {
					return Figures{}, ctx.Err()
				}
				if errors.Is(err, vat.ErrNotAuthorised) && len(reports[key{v, ""}]) == 0 {
					reports[key{v, ""}] = append(reports[key{v, ""}], report{agentsync.EventAccessLost, w.clk.Now()})
				}
				if known[v] == nil { // not registered yet: what comes is new
					known[v] = map[string]bool{}
				}
				continue
			}
			now = w.clk.Now()
			k := known[v]
			first := k == nil
			if first {
				k = map[string]bool{}
				known[v] = k
			}
			for _, ob := range obs {
				pk := string(ob.PeriodKey)
				was, ok := k[pk]
				switch {
				case !ok && !ob.Fulfilled():
					if !first {
						reports[key{v, pk}] = append(reports[key{v, pk}], report{agentsync.EventNewObligation, now})
					}
				case !ok || !was && ob.Fulfilled():
					if !first {
						reports[key{v, pk}] = append(reports[key{v, pk}], report{agentsync.EventFulfilled, now})
					}
				}
				k[pk] = ob.Fulfilled()
				if !ob.Fulfilled() && !now.Before(ob.Due.Time(time.UTC).AddDate(0, 0, 1).Add(9*time.Hour)) &&
					!slices.ContainsFunc(reports[key{v, pk}], func(r report) bool { return r.kind == agentsync.EventOverdue }) {
					reports[key{v, pk}] = append(reports[key{v, pk}], report{agentsync.EventOverdue, now})
				}
			}
		}
	}
	return w.measure("daily sweep", watch, reports), nil
}

// measure compares what was reported with what changed.
func (w *world) measure(name string, watch map[string]bool, reports map[key][]report) Figures {
	f := Figures{Strategy: name, Calls: w.lim.calls, PeakHourShare: w.lim.peakHourShare()}
	window := w.end.Sub(w.start)
	f.BudgetShare = float64(f.Calls) / (3 * window.Seconds())
	var clientYears float64
	var lost []time.Duration
	for _, c := range w.pop.Clients() {
		if !watch[c.VRN] || !c.Registered.IsZero() && !c.Registered.Before(w.end) {
			continue
		}
		f.Clients++
		from, to := w.start, w.end
		if !c.Registered.IsZero() {
			from = c.Registered
		}
		if !c.AccessRevoked.IsZero() && c.AccessRevoked.Before(w.end) {
			f.Revoked++
			if rs := reports[key{c.VRN, ""}]; len(rs) > 0 {
				f.AccessLost++
				lost = append(lost, rs[0].at.Sub(c.AccessRevoked))
			}
			to = c.AccessRevoked
		}
		clientYears += to.Sub(from).Hours() / (24 * 365)
	}
	f.CallsPerClient = float64(f.Calls) / clientYears
	f.clientYears = clientYears
	var news, irr, soft, elsewhere, late []time.Duration
	shown := map[key]time.Time{}
	for _, ch := range w.pop.Changes() {
		if ch.Kind == vattest.ChangeFulfilled {
			shown[key{ch.VRN, ch.PeriodKey}] = ch.At
		}
	}
	for _, ch := range w.pop.Changes() {
		if !watch[ch.VRN] || !ch.Observable {
			continue
		}
		f.Changes++
		k := key{ch.VRN, ch.PeriodKey}
		var seen time.Time
		for _, r := range reports[k] {
			if r.at.Before(ch.At) {
				continue
			}
			if ch.Kind == vattest.ChangeNewObligation && (r.kind == agentsync.EventNewObligation || r.kind == agentsync.EventFulfilled) ||
				ch.Kind == vattest.ChangeFulfilled && r.kind == agentsync.EventFulfilled {
				seen = r.at
				break
			}
		}
		if seen.IsZero() {
			f.Missed++
			continue
		}
		d := seen.Sub(ch.At)
		switch {
		case ch.Kind == vattest.ChangeNewObligation && ch.Irregular:
			irr = append(irr, d)
		case ch.Kind == vattest.ChangeNewObligation:
			news = append(news, d)
		case !ch.Filed.Before(ch.Due.AddDate(0, 0, 1)):
			late = append(late, d)
		case ch.ThroughSoftware:
			soft = append(soft, d)
		default:
			elsewhere = append(elsewhere, d)
			dayAfter := ch.Due.AddDate(0, 0, 1)
			if !ch.Irregular && ch.At.Before(dayAfter.Add(9*time.Hour)) && !seen.Before(dayAfter.AddDate(0, 0, 1)) {
				f.ElsewhereLateDay++

			}
		}
	}
	for k, rs := range reports {
		for _, r := range rs {
			if r.kind != agentsync.EventOverdue || !r.at.Before(w.end) {
				continue
			}
			f.Overdue++
			if s, ok := shown[k]; ok && !s.After(r.at) {
				f.FalseOverdue++
			}
		}
	}
	f.New, f.NewIrregular, f.FulfilSoftware, f.FulfilElsewhere, f.FulfilLate = stats(news), stats(irr), stats(soft), stats(elsewhere), stats(late)
	f.AccessLostAfter = stats(lost)
	return f
}

// table formats the figures side by side as a Markdown table.
func table(fs ...Figures) string {
	row := func(name string, cell func(Figures) string) string {
		s := "| " + name + " |"
		for _, f := range fs {
			s += " " + cell(f) + " |"
		}
		return s + "\n"
	}
	st := func(s Stats) string {
		if s.N == 0 {
			return "–"
		}
		return fmt.Sprintf("%s / %s (n=%d)", hours(s.Median), hours(s.Worst), s.N)
	}
	stOver := func(s Stats) string {
		if s.N == 0 {
			return "–"
		}
		return fmt.Sprintf("%s / %s (n=%d, %d after more than 24 h)", hours(s.Median), hours(s.Worst), s.N, s.OverDay)
	}
	out := row("", func(f Figures) string { return f.Strategy })
	out += row("---", func(Figures) string { return "---" })
	out += row("clients watched", func(f Figures) string { return fmt.Sprint(f.Clients) })
	out += row("calls in the year", func(f Figures) string { return fmt.Sprint(f.Calls) })
	out += row("calls per client per year", func(f Figures) string { return fmt.Sprintf("%.1f", f.CallsPerClient) })
	out += row("… without first fetches (steady state)", func(f Figures) string {
		if f.FirstFetches == 0 {
			return "–"
		}
		return fmt.Sprintf("%.1f", f.SteadyCallsPerClient)
	})
	out += row("rate budget used (3 req/s, year)", func(f Figures) string { return fmt.Sprintf("%.3f%%", 100*f.BudgetShare) })
	out += row("busiest hour's share of the budget (after the first day)", func(f Figures) string { return fmt.Sprintf("%.1f%%", 100*f.PeakHourShare) })
	out += row("changes (observable)", func(f Figures) string { return fmt.Sprint(f.Changes) })
	out += row("changes missed", func(f Figures) string { return fmt.Sprint(f.Missed) })
	out += row("new obligation: median / worst", func(f Figures) string { return st(f.New) })
	out += row("new obligation, irregular period: median / worst", func(f Figures) string { return stOver(f.NewIrregular) })
	out += row("fulfilment, filed through the software", func(f Figures) string { return st(f.FulfilSoftware) })
	out += row("fulfilment, filed elsewhere on time", func(f Figures) string { return st(f.FulfilElsewhere) })
	out += row("fulfilment, filed late", func(f Figures) string { return st(f.FulfilLate) })
	out += row("on-time returns shown but not seen by the day after due", func(f Figures) string { return fmt.Sprint(f.ElsewhereLateDay) })
	out += row("overdue reports / false (HMRC already showed it)", func(f Figures) string { return fmt.Sprintf("%d / %d", f.Overdue, f.FalseOverdue) })
	out += row("access withdrawn / reported", func(f Figures) string { return fmt.Sprintf("%d / %d", f.Revoked, f.AccessLost) })
	out += row("withdrawal reported after: median / worst", func(f Figures) string { return st(f.AccessLostAfter) })
	return out
}

func hours(d time.Duration) string {
	if d >= 48*time.Hour {
		return fmt.Sprintf("%.1f d", d.Hours()/24)
	}
	return fmt.Sprintf("%.1f h", d.Hours())
}

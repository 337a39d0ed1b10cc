package agentsync

import (
	"cmp"
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/go-mtd/vat"
)

// An Option configures a Planner.
type Option func(*config) error

type config struct {
	now                              func() time.Time
	handler                          func(Event)
	sweep                            time.Duration
	liabilities, payments, penalties bool
}

func (c *config) extras() bool { return c.liabilities || c.payments || c.penalties }

// WithLiabilities makes the planner fetch each client's liabilities when
// they change: when it sees a return fulfilled (HMRC posts the return's
// charge with it) and three days after a due date (when a payment has been
// taken). Changes are reported with EventLiabilities. Off by default.
func WithLiabilities() Option {
	return func(c *config) error { c.liabilities = true; return nil }
}

// WithPayments makes the planner fetch each client's payments at the same
// moments as liabilities (see WithLiabilities), reporting changes with
// EventPayments. Off by default.
func WithPayments() Option {
	return func(c *config) error { c.payments = true; return nil }
}

// WithPenalties makes the planner fetch each client's penalties when they
// may change: when it reports an obligation overdue (a late submission
// point) and when it sees a late return fulfilled. Changes are reported with
// EventPenalties. Off by default.
func WithPenalties() Option {
	return func(c *config) error { c.penalties = true; return nil }
}

// WithClock sets the planner's clock (default time.Now). Run still waits
// with real timers; a simulation drives the planner with [Planner.RunDue].
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("agentsync: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithHandler sets the function that receives the planner's events. It is
// called from the goroutine running [Planner.Run] or [Planner.RunDue], one
// event at a time, and may call the planner's methods.
func WithHandler(h func(Event)) Option {
	return func(c *config) error {
		if h == nil {
			return errors.New("agentsync: WithHandler: nil handler")
		}
		c.handler = h
		return nil
	}
}

// WithSweepInterval sets the longest time between two fetches of a client
// (default 90 days, spread ±10% by VRN): the safety sweep that finds the
// changes the schedule cannot predict. It must be between one day and one
// year.
func WithSweepInterval(d time.Duration) Option {
	return func(c *config) error {
		if d < day || d > 366*day {
			return fmt.Errorf("agentsync: WithSweepInterval: %v is not between one day and one year", d)
		}
		c.sweep = d
		return nil
	}
}

// Planner decides when to fetch each client's obligations, fetches them as
// bulk calls through a vat.Client, and reports the changes. Its methods are
// safe for concurrent use.
type Planner struct {
	client *vat.Client
	store  Store
	cfg    config
	wake   chan struct{}

	mu      sync.Mutex
	loaded  bool
	recs    map[vat.VRN]*entry
	queue   queue
	fetches map[string]int
}

type entry struct {
	rec   Record
	next  time.Time
	index int // in the queue; -1 when not queued
	busy  bool
	gone  bool
}

// New returns a Planner that fetches through client and keeps its records in
// store. It reads the store on first use.
func New(client *vat.Client, store Store, opts ...Option) (*Planner, error) {
	if client == nil {
		return nil, errors.New("agentsync: New: nil client")
	}
	if store == nil {
		return nil, errors.New("agentsync: New: nil store")
	}
	cfg := config{now: time.Now, handler: func(Event) {}, sweep: defaultSweep}
	for _, o := range opts {
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	return &Planner{client: client, store: store, cfg: cfg, wake: make(chan struct{}, 1), recs: map[vat.VRN]*entry{}, fetches: map[string]int{}}, nil
}

func (p *Planner) now() time.Time { return p.cfg.now().UTC() }

// loadLocked reads the store once.
func (p *Planner) loadLocked(ctx context.Context) error {
	if p.loaded {
		return nil
	}
	recs, err := p.store.Load(ctx)
	if err != nil {
		return fmt.Errorf("agentsync: loading the store: %w", err)
	}
	for _, r := range recs {
		e := &entry{rec: r, index: -1}
		p.recs[r.VRN] = e
		p.scheduleLocked(e)
	}
	p.loaded = true
	return nil
}

// scheduleLocked decides e's next fetch and places it in the queue.
func (p *Planner) scheduleLocked(e *entry) {
	e.next, e.rec.NextReason = nextFetch(&e.rec, p.cfg.sweep, p.cfg.extras())
	p.placeLocked(e)
}

// placeLocked puts e in the queue at e.next, or takes it out when it is
// parked; a busy or removed entry is left alone.
func (p *Planner) placeLocked(e *entry) {
	e.rec.Next = e.next
	switch {
	case e.busy || e.gone:
	case e.next.IsZero() && !e.rec.Parked && e.index < 0:
		heap.Push(&p.queue, e)
	case e.rec.Parked && e.index >= 0:
		heap.Remove(&p.queue, e.index)
	case e.rec.Parked:
	case e.index >= 0:
		heap.Fix(&p.queue, e.index)
	default:
		heap.Push(&p.queue, e)
	}
}

// lockLoaded takes p.mu, reading the store first if it was not read yet. On
// error p.mu is not held.
func (p *Planner) lockLoaded(ctx context.Context) error {
	p.mu.Lock()
	if err := p.loadLocked(ctx); err != nil {
		p.mu.Unlock()
		return err
	}
	return nil
}

// watchedLocked returns the entry of vrn, or an error naming the method
// when the client is not watched.
func (p *Planner) watchedLocked(method string, vrn vat.VRN) (*entry, error) {
	e, ok := p.recs[vrn]
	if !ok {
		return nil, fmt.Errorf("agentsync: %s: client %q is not watched (Add it first)", method, vrn)
	}
	return e, nil
}

func (p *Planner) poke() {
	select {
	case p.wake <- struct{}{}:
	default:
	}
}

// Add starts watching the clients of vrns. A client already watched is left
// as it is, unless it was parked after losing access: adding it again
// resumes it. The first fetch of a new client is due at once.
func (p *Planner) Add(ctx context.Context, vrns ...vat.VRN) error {
	for i, v := range vrns {
		if !v.Valid() {
			return fmt.Errorf("agentsync: Add: vrns[%d] %q is not nine digits", i, v)
		}
	}
	if err := p.lockLoaded(ctx); err != nil {
		return err
	}
	var save []Record
	for _, v := range vrns {
		e, ok := p.recs[v]
		switch {
		case !ok:
			e = &entry{rec: Record{VRN: v}, index: -1}
			p.recs[v] = e
		case e.rec.Parked:
			e.rec.Parked, e.rec.ParkedReason, e.rec.Failures = false, "", 0
			e.rec.Attempted, e.rec.Fetched = time.Time{}, time.Time{}
		default:
			continue
		}
		p.scheduleLocked(e)
		save = append(save, cloneRecord(e.rec))
	}
	p.mu.Unlock()
	for _, r := range save {
		if err := p.store.Put(ctx, r); err != nil {
			return fmt.Errorf("agentsync: Add: saving %s: %w", r.VRN, err)
		}
	}
	p.poke()
	return nil
}

// Remove stops watching vrn and deletes its record.
func (p *Planner) Remove(ctx context.Context, vrn vat.VRN) error {
	if err := p.lockLoaded(ctx); err != nil {
		return err
	}
	if e, ok := p.recs[vrn]; ok {
		e.gone = true
		if e.index >= 0 {
			heap.Remove(&p.queue, e.index)
		}
		delete(p.recs, vrn)
	}
	p.mu.Unlock()
	if err := p.store.Delete(ctx, vrn); err != nil {
		return fmt.Errorf("agentsync: Remove: %w", err)
	}
	return nil
}

// Submitted tells the planner that a return for period key of client vrn was
// filed through the software at at, so that it looks for its fulfilment
// when HMRC is expected to show it, and does not report it overdue.
func (p *Planner) Submitted(ctx context.Context, vrn vat.VRN, key vat.PeriodKey, at time.Time) error {
	if !key.Valid() {
		return fmt.Errorf("agentsync: Submitted: period key %q is not four characters of [#0-9A-Z]", key)
	}
	if at.IsZero() {
		return errors.New("agentsync: Submitted: zero time at")
	}
	return p.update(ctx, "Submitted", vrn, func(r *Record) bool {
		if !r.submitted(key) {
			r.Submitted = append(r.Submitted, Submission{PeriodKey: key, At: at.UTC()})
		}
		r.FilesHere = true
		return true
	})
}

// update applies change to the record of vrn and, when change reports a
// change, schedules the client again and saves the record. method names
// the caller in errors.
func (p *Planner) update(ctx context.Context, method string, vrn vat.VRN, change func(*Record) bool) error {
	if err := p.lockLoaded(ctx); err != nil {
		return err
	}
	e, err := p.watchedLocked(method, vrn)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	if !change(&e.rec) {
		p.mu.Unlock()
		return nil
	}
	p.scheduleLocked(e)
	r := cloneRecord(e.rec)
	p.mu.Unlock()
	if err := p.store.Put(ctx, r); err != nil {
		return fmt.Errorf("agentsync: %s: saving %s: %w", method, vrn, err)
	}
	p.poke()
	return nil
}

// Expect tells the planner that a period of client vrn ends on end although
// the client's history does not predict it: the first period of a new
// registration (its end is on the registration certificate), the first
// period after a change of stagger, or the last one, which ends on the
// deregistration date. The planner looks for its obligation the day after
// end, and again as for a predicted period while it is not there.
// Announcing a period already listed does nothing.
func (p *Planner) Expect(ctx context.Context, vrn vat.VRN, end vat.Date) error {
	if end.IsZero() {
		return errors.New("agentsync: Expect: zero end date")
	}
	return p.update(ctx, "Expect", vrn, func(r *Record) bool {
		if slices.Contains(r.Expected, end) || listsPeriodEnding(r.Obligations, end) {
			return false
		}
		r.Expected = append(r.Expected, end)
		slices.SortFunc(r.Expected, func(a, b vat.Date) int { return a.Compare(b) })
		return true
	})
}

// Refresh makes a fetch for vrn due at once, for when the application needs
// the client's obligations as HMRC shows them now (a user asked, HMRC
// wrote of a change). For a period whose end is known but whose obligation
// HMRC does not list yet, Expect is the better call: it looks the day after
// the period ends. Refresh does nothing for a parked client.
func (p *Planner) Refresh(ctx context.Context, vrn vat.VRN) error {
	if err := p.lockLoaded(ctx); err != nil {
		return err
	}
	e, err := p.watchedLocked("Refresh", vrn)
	if err != nil {
		p.mu.Unlock()
		return err
	}
	if !e.rec.Parked && !e.busy {
		e.next, e.rec.NextReason = p.now(), ReasonRefresh
		p.placeLocked(e)
	}
	p.mu.Unlock()
	p.poke()
	return nil
}

// Records returns a copy of every client's record, by VRN.
func (p *Planner) Records(ctx context.Context) ([]Record, error) {
	if err := p.lockLoaded(ctx); err != nil {
		return nil, err
	}
	defer p.mu.Unlock()
	out := make([]Record, 0, len(p.recs))
	for _, e := range p.recs {
		out = append(out, cloneRecord(e.rec))
	}
	slices.SortFunc(out, func(a, b Record) int { return cmp.Compare(a.VRN, b.VRN) })
	return out, nil
}

// Fetches returns how many fetches the planner made since it was created,
// by reason (ReasonPeriodEnd, ReasonSubmitted…).
func (p *Planner) Fetches() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[string]int, len(p.fetches))
	for k, v := range p.fetches {
		out[k] = v
	}
	return out
}

// Run fetches for each client when its schedule says, until ctx is done,
// waiting in between (with real timers). It returns ctx's error, or the
// store's error when the store cannot be read or written.
func (p *Planner) Run(ctx context.Context) error {
	for {
		next, err := p.RunDue(ctx)
		if err != nil {
			return err
		}
		var timer <-chan time.Time
		var t *time.Timer
		if !next.IsZero() {
			t = time.NewTimer(max(next.Sub(p.now()), 0))
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-p.wake:
		case <-timer:
		}
		if t != nil {
			t.Stop()
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// RunDue makes every fetch that is due on the planner's clock, one after
// another, and returns when the next one is due (zero when none is
// scheduled). A simulation calls it after moving its clock.
func (p *Planner) RunDue(ctx context.Context) (time.Time, error) {
	if err := p.lockLoaded(ctx); err != nil {
		return time.Time{}, err
	}
	p.mu.Unlock()
	for {
		if err := ctx.Err(); err != nil {
			return time.Time{}, err
		}
		p.mu.Lock()
		if len(p.queue) == 0 {
			p.mu.Unlock()
			return time.Time{}, nil
		}
		e := p.queue[0]
		if e.next.After(p.now()) {
			next := e.next
			p.mu.Unlock()
			return next, nil
		}
		heap.Pop(&p.queue)
		e.busy = true
		p.fetches[e.rec.NextReason]++
		vrn := e.rec.VRN
		p.mu.Unlock()
		if err := p.fetch(ctx, e, vrn); err != nil {
			return time.Time{}, err
		}
	}
}

// fetch fetches vrn's obligations, updates e and reports the changes.
func (p *Planner) fetch(ctx context.Context, e *entry, vrn vat.VRN) error {
	to := vat.DateOf(p.now())
	from := to.AddYears(-1).AddDays(1)
	obs, err := p.client.Obligations(ctx, vrn, vat.ObligationsQuery{From: from, To: to}, vat.WithBulk())
	if err != nil && ctx.Err() != nil {
		p.mu.Lock()
		e.busy = false
		p.scheduleLocked(e)
		p.mu.Unlock()
		return ctx.Err()
	}
	if errors.Is(err, vat.ErrNotFound) { // HMRC answers 404 for a client without obligations
		obs, err = nil, nil
	}
	at := p.now()
	p.mu.Lock()
	e.busy = false
	e.rec.Attempted = at
	var events []Event
	switch {
	case err == nil:
		e.rec.Failures = 0
		events = e.rec.apply(obs, from, at)
		e.rec.Fetched = at
		e.rec.scheduleExtras(events, at, p.cfg.liabilities || p.cfg.payments, p.cfg.penalties)
	case accessLost(err):
		e.rec.Parked, e.rec.ParkedReason = true, err.Error()
		events = []Event{{Kind: EventAccessLost, VRN: vrn, Err: err, At: at}}
	default:
		e.rec.Failures++
		events = []Event{{Kind: EventFetchFailed, VRN: vrn, Err: err, At: at}}
	}
	var financial, penalties bool
	if err == nil {
		financial = (p.cfg.liabilities || p.cfg.payments) && !e.rec.FinancialDue.IsZero() && !e.rec.FinancialDue.After(at)
		penalties = p.cfg.penalties && !e.rec.PenaltiesDue.IsZero() && !e.rec.PenaltiesDue.After(at)
	}
	if financial || penalties {
		e.busy = true
		p.mu.Unlock()
		extra, err := p.fetchExtras(ctx, e, vrn, financial, penalties)
		if err != nil {
			return err
		}
		events = append(events, extra...)
		p.mu.Lock()
		e.busy = false
	}
	p.scheduleLocked(e)
	r, gone := cloneRecord(e.rec), e.gone
	p.mu.Unlock()
	if gone {
		return nil
	}
	if err := p.store.Put(ctx, r); err != nil {
		return fmt.Errorf("agentsync: saving %s: %w", vrn, err)
	}
	for _, ev := range events {
		p.cfg.handler(ev)
	}
	return nil
}

// fetchExtras fetches the liabilities, payments and penalties that are due
// for e and returns the changes. A failure is reported and the fetch left
// for the next visit; only ctx's end is returned as an error.
func (p *Planner) fetchExtras(ctx context.Context, e *entry, vrn vat.VRN, financial, penalties bool) ([]Event, error) {
	to := vat.DateOf(p.now())
	r := vat.DateRange{From: to.AddDays(-364), To: to} // under a year, leap years included
	var events []Event
	fail := func(err error) bool {
		if ctx.Err() != nil {
			return true
		}
		events = append(events, Event{Kind: EventFetchFailed, VRN: vrn, Err: err, At: p.now()})
		return false
	}
	var (
		liabs     []vat.Liability
		pays      []vat.Payment
		pens      *vat.Penalties
		gotL      bool
		gotP      bool
		gotPen    bool
		financeOK = true
	)
	if financial && p.cfg.liabilities {
		l, err := fetchRange(ctx, p.client.Liabilities, vrn, r)
		if err != nil {
			financeOK = false
			if fail(err) {
				return nil, ctx.Err()
			}
		} else {
			liabs, gotL = l, true
		}
	}
	if financial && p.cfg.payments {
		pp, err := fetchRange(ctx, p.client.Payments, vrn, r)
		if err != nil {
			financeOK = false
			if fail(err) {
				return nil, ctx.Err()
			}
		} else {
			pays, gotP = pp, true
		}
	}
	if penalties {
		pen, err := p.client.Penalties(ctx, vrn, vat.WithBulk())
		if err != nil {
			if fail(err) {
				return nil, ctx.Err()
			}
		} else {
			pens, gotPen = pen, true
		}
	}
	at := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	switch {
	case financial && financeOK:
		e.rec.FinancialDue = e.rec.nextPaymentCheck(at)
	case financial:
		e.rec.FinancialDue = at.Add(extraRetry)
	}
	switch {
	case gotPen:
		e.rec.PenaltiesDue = time.Time{}
	case penalties:
		e.rec.PenaltiesDue = at.Add(extraRetry)
	}
	if gotL && !sameJSON(e.rec.Liabilities, liabs) {
		e.rec.Liabilities = liabs
		events = append(events, Event{Kind: EventLiabilities, VRN: vrn, Liabilities: liabs, At: at})
	}
	if gotP && !sameJSON(e.rec.Payments, pays) {
		e.rec.Payments = pays
		events = append(events, Event{Kind: EventPayments, VRN: vrn, Payments: pays, At: at})
	}
	if gotPen && !sameJSON(e.rec.Penalties, pens) {
		e.rec.Penalties = pens
		events = append(events, Event{Kind: EventPenalties, VRN: vrn, Penalties: pens, At: at})
	}
	return events, nil
}

// fetchRange reads a list over a date range as bulk work; HMRC's 404 is
// an empty list.
func fetchRange[T any](ctx context.Context, fetch func(context.Context, vat.VRN, vat.DateRange, ...vat.CallOption) ([]T, error), vrn vat.VRN, r vat.DateRange) ([]T, error) {
	items, err := fetch(ctx, vrn, r, vat.WithBulk())
	if errors.Is(err, vat.ErrNotFound) {
		return nil, nil
	}
	return items, err
}

// extraRetry is the wait before fetching liabilities, payments or penalties
// again after a failure.
const extraRetry = 6 * time.Hour

// sameJSON compares two values by their JSON encodings (nil and empty
// lists alike).
func sameJSON(a, b any) bool {
	x, err1 := json.Marshal(a)
	y, err2 := json.Marshal(b)
	norm := func(b []byte) string {
		if s := string(b); s != "[]" {
			return s
		}
		return "null"
	}
	return err1 == nil && err2 == nil && norm(x) == norm(y)
}

// scheduleExtras sets when liabilities, payments and penalties are next due
// after a fetch at at that produced events.
// Only the schedules turned on (financial, penalties) are set.
func (r *Record) scheduleExtras(events []Event, at time.Time, financial, penalties bool) {
	for _, ev := range events {
		switch ev.Kind {
		case EventFulfilled:
			if financial {
				r.FinancialDue = at
			}
			if penalties && !ev.Obligation.Received.IsZero() && ev.Obligation.Received.After(ev.Obligation.Due) {
				r.PenaltiesDue = at
			}
		case EventOverdue:
			if penalties {
				r.PenaltiesDue = at
			}
		}
	}
	if financial && r.FinancialDue.IsZero() {
		r.FinancialDue = r.nextPaymentCheck(at)
	}
}

// nextPaymentCheck returns three days after the next due date after at,
// when a payment due then has been taken; zero when no due date is ahead.
func (r *Record) nextPaymentCheck(at time.Time) time.Time {
	var next time.Time
	for _, o := range r.Obligations {
		t := dateTime(o.Due.AddDays(3), lookTime(r.VRN))
		if t.After(at) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// accessLost reports the errors after which fetching again is useless until
// the client (or the agent) authorises the software again.
func accessLost(err error) bool {
	var ae *vat.APIError
	return errors.Is(err, vat.ErrNotAuthorised) || errors.Is(err, vat.ErrReauthorizationRequired) ||
		errors.Is(err, vat.ErrVRNInvalid) || errors.Is(err, vat.ErrInsolventTrader) ||
		errors.As(err, &ae) && ae.StatusCode == 401
}

// apply merges a fetch's obligations (of the range from…) into r and returns
// the changes.
func (r *Record) apply(obs []vat.Obligation, from vat.Date, at time.Time) []Event {
	initial := r.Fetched.IsZero()
	known := make(map[vat.PeriodKey]vat.Obligation, len(r.Obligations))
	for _, o := range r.Obligations {
		known[o.PeriodKey] = o
	}
	var events []Event
	seen := make(map[vat.PeriodKey]bool, len(obs))
	merged := make([]vat.Obligation, 0, len(obs)+1)
	for _, o := range obs {
		seen[o.PeriodKey] = true
		merged = append(merged, o)
		old, ok := known[o.PeriodKey]
		switch {
		case !ok && !o.Fulfilled():
			events = append(events, Event{Kind: EventNewObligation, VRN: r.VRN, Obligation: o, Initial: initial, At: at})
		case ok && !old.Fulfilled() && o.Fulfilled(), !ok && !initial:
			// (or appeared and was fulfilled between two fetches)
			events = append(events, Event{Kind: EventFulfilled, VRN: r.VRN, Obligation: o, At: at})
			r.FilesHere = r.submitted(o.PeriodKey)
		}
	}
	for _, o := range r.Obligations {
		if seen[o.PeriodKey] {
			continue
		}
		if !o.Fulfilled() && o.End.Before(from) { // out of range: keep it
			merged = append(merged, o)
		} else if !o.Fulfilled() {
			events = append(events, Event{Kind: EventRemoved, VRN: r.VRN, Obligation: o, At: at})
		}
	}
	slices.SortStableFunc(merged, func(a, b vat.Obligation) int { return a.Start.Compare(b.Start) })
	r.Obligations = merged
	// Forget announced periods that are listed, or that never came.
	r.Expected = slices.DeleteFunc(r.Expected, func(end vat.Date) bool {
		return listsPeriodEnding(merged, end) || at.After(dateTime(end.AddDays(1), 0).Add(newRetryFor+day))
	})
	// Forget submissions HMRC shows as fulfilled, and old ones.
	r.Submitted = slices.DeleteFunc(r.Submitted, func(s Submission) bool {
		o, ok := findObligation(merged, s.PeriodKey)
		return ok && o.Fulfilled() || at.Sub(s.At) > submittedForget
	})
	for _, o := range merged {
		if o.Fulfilled() || r.submitted(o.PeriodKey) || slices.Contains(r.Overdue, o.PeriodKey) {
			continue
		}
		if !at.Before(dateTime(o.Due.AddDays(1), lookTime(r.VRN))) {
			r.Overdue = append(r.Overdue, o.PeriodKey)
			events = append(events, Event{Kind: EventOverdue, VRN: r.VRN, Obligation: o, Initial: initial, At: at})
		}
	}
	r.Overdue = slices.DeleteFunc(r.Overdue, func(k vat.PeriodKey) bool {
		o, ok := findObligation(merged, k)
		return !ok || o.Fulfilled()
	})
	return events
}

// listsPeriodEnding reports whether obs holds an obligation of the period
// ending on end.
func listsPeriodEnding(obs []vat.Obligation, end vat.Date) bool {
	return slices.ContainsFunc(obs, func(o vat.Obligation) bool { return o.End == end })
}

func findObligation(obs []vat.Obligation, k vat.PeriodKey) (vat.Obligation, bool) {
	for _, o := range obs {
		if o.PeriodKey == k {
			return o, true
		}
	}
	return vat.Obligation{}, false
}

// queue is a min-heap of entries by next fetch.
type queue []*entry

func (q queue) Len() int { return len(q) }
func (q queue) Less(i, j int) bool {
	if !q[i].next.Equal(q[j].next) {
		return q[i].next.Before(q[j].next)
	}
	return q[i].rec.VRN < q[j].rec.VRN
}
func (q queue) Swap(i, j int) {
	q[i], q[j] = q[j], q[i]
	q[i].index, q[j].index = i, j
}
func (q *queue) Push(x any) {
	e := x.(*entry)
	e.index = len(*q)
	*q = append(*q, e)
}
func (q *queue) Pop() any {
	old := *q
	e := old[len(old)-1]
	old[len(old)-1] = nil
	e.index = -1
	*q = old[:len(old)-1]
	return e
}

package vattest

import (
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"sort"
	"time"

	"github.com/go-mtd/vat/vattest/internal/civil"
	"github.com/go-mtd/vat/vattest/internal/vrn"
)

// PopulationOptions describes a simulated agent's portfolio for
// [Server.NewPopulation].
type PopulationOptions struct {
	// Clients is the number of clients registered when the simulation
	// starts; about 6% more register during the first Days.
	Clients int
	// Start is when the simulation starts (read in UTC).
	Start time.Time
	// Days is the length, in days, of the window whose changes are recorded
	// (Changes). The world goes on changing for Tail days after it.
	Days int
	// Tail is the number of days simulated after the recorded window, so
	// that the changes at its end can still be observed.
	Tail int
	// Seed makes the population and its year reproducible.
	Seed uint64
}

// Filing patterns of a PopulationClient.
const (
	PatternQuarterly1 = "quarterly-1" // quarters ending March, June, September, December
	PatternQuarterly2 = "quarterly-2" // quarters ending January, April, July, October
	PatternQuarterly3 = "quarterly-3" // quarters ending February, May, August, November
	PatternMonthly    = "monthly"
	PatternAnnual     = "annual" // annual accounting: due two months after the year's end
)

// PopulationClient is one client of a population and the habits the
// simulation gave it.
type PopulationClient struct {
	// VRN is the client's VAT registration number.
	VRN string
	// Pattern is its filing pattern at the start (PatternQuarterly1…).
	Pattern string
	// Registered is when it registers, during the simulation; zero for a
	// client registered before Start.
	Registered time.Time
	// Deregistered is when its registration ends (its last period ends
	// that day); zero if it does not.
	Deregistered time.Time
	// PatternChanged is the end of the last period under Pattern, after
	// which it files monthly; zero if its pattern does not change.
	PatternChanged time.Time
	// AccessRevoked is when the client withdraws the agent's authority;
	// zero if it does not.
	AccessRevoked time.Time
	// LateFiler files most returns after their due date.
	LateFiler bool
	// FilesElsewhere files its own returns with other software; the
	// others' returns are filed through the agent's software.
	FilesElsewhere bool
}

// ChangeKind is what changed in HMRC's view of a client.
type ChangeKind int

const (
	// ChangeNewObligation: an obligation starts to be listed.
	ChangeNewObligation ChangeKind = iota + 1
	// ChangeFulfilled: an obligation starts to be listed as fulfilled.
	ChangeFulfilled
)

// Change is one change of HMRC's data, at the moment HMRC starts to show it.
type Change struct {
	// VRN is the client whose obligation changed.
	VRN string
	// PeriodKey is the obligation's period key.
	PeriodKey string
	// Kind says how.
	Kind ChangeKind
	// At is when HMRC starts to show the change.
	At time.Time
	// Due is the obligation's due date (midnight UTC).
	Due time.Time
	// Filed is when the return was filed (ChangeFulfilled only).
	Filed time.Time
	// ThroughSoftware is true when the return was filed through the agent's
	// software (ChangeFulfilled only).
	ThroughSoftware bool
	// Irregular marks an obligation the client's earlier periods do not
	// predict: the first two after a change of pattern, the last, shortened
	// one of a deregistration, the first of a new registration.
	Irregular bool
	// Observable is false for the changes of a client who withdraws the
	// agent's authority during the simulation.
	Observable bool
}

// HappeningKind is an event in the agent's world that its software learns
// of directly.
type HappeningKind int

const (
	// HappeningRegistered: a new client registered and authorised the agent.
	HappeningRegistered HappeningKind = iota + 1
	// HappeningFiled: a return was filed through the agent's software.
	HappeningFiled
	// HappeningAnnounced: the agent learns of a period the client's history
	// does not predict, with its end (Happening.PeriodEnd): the first
	// period of a new registration (on the registration certificate), the
	// first after a change of filing pattern, or the last one, which ends on
	// the deregistration date.
	HappeningAnnounced
)

// Happening is returned by [Population.AdvanceTo] for the application to act
// on: add a new client, or tell its planner of a return it filed.
type Happening struct {
	// Kind says what happened.
	Kind HappeningKind
	// VRN is the client concerned.
	VRN string
	// PeriodKey is the period of the return filed (HappeningFiled).
	PeriodKey string
	// PeriodEnd is the end of the period announced (HappeningAnnounced),
	// at midnight UTC.
	PeriodEnd time.Time
	// At is when it happened.
	At time.Time
}

type popEventKind uint8

const (
	evRegister popEventKind = iota + 1
	evAppear
	evFiled
	evShow
	evRevoke
	evAnnounce
)

type popEvent struct {
	at    time.Time
	kind  popEventKind
	org   int // index into clients
	ob    *popPeriod
	order int
}

type popPeriod struct {
	key         string
	start, end  civil.Date
	due         civil.Date
	appear      time.Time
	filed, show time.Time
	software    bool
	irregular   bool
	announce    time.Time // when the agent learns of it; zero if it is predictable
}

// Population is a simulated agent's portfolio on a Server: thousands of
// clients with realistic filing habits whose obligations appear and are
// fulfilled as the server's clock moves, each at a known moment. Move the
// server's clock, then call AdvanceTo with the new time. It is safe for use by
// one goroutine at a time.
type Population struct {
	s       *Server
	agent   TestUser
	opts    PopulationOptions
	clients []PopulationClient
	periods [][]*popPeriod
	events  []popEvent
	next    int
	changes []Change
	end     time.Time
}

// NewPopulation seeds the server with a population described by opts: an
// agent user, and clients who have authorised it, with their obligations of
// the last year as they stand at opts.Start. The server's clock should read
// opts.Start.
func (s *Server) NewPopulation(opts PopulationOptions) (*Population, error) {
	switch {
	case opts.Clients < 1:
		return nil, fmt.Errorf("vattest: NewPopulation: Clients %d is not positive", opts.Clients)
	case opts.Days < 1 || opts.Tail < 0:
		return nil, fmt.Errorf("vattest: NewPopulation: Days %d must be positive and Tail %d not negative", opts.Days, opts.Tail)
	case opts.Start.IsZero():
		return nil, errors.New("vattest: NewPopulation: zero Start")
	}
	opts.Start = opts.Start.UTC()
	p := &Population{s: s, opts: opts, end: opts.Start.AddDate(0, 0, opts.Days)}
	rng := mrand.New(mrand.NewPCG(opts.Seed, opts.Seed^0x9e3779b97f4a7c15))
	horizon := opts.Start.AddDate(0, 0, opts.Days+opts.Tail)
	s.mu.Lock()
	defer s.mu.Unlock()
	agent := s.newUserLocked("agent")
	agent.AgentServicesAccountNumber = "NARN" + s.rnd.digits(7)
	p.agent = agent.TestUser
	taken := map[string]bool{}
	newRegs := opts.Clients * 6 / 100
	for i := 0; i < opts.Clients+newRegs; i++ {
		var v string
		for {
			v = vrn.Complete(fmt.Sprintf("%07d", 1000000+rng.IntN(9000000)))
			if _, exists := s.orgs[v]; !exists && !taken[v] {
				break
			}
		}
		taken[v] = true
		c := PopulationClient{VRN: v}
		switch r := rng.Float64(); {
		case r < 0.82:
			c.Pattern = []string{PatternQuarterly1, PatternQuarterly2, PatternQuarterly3}[rng.IntN(3)]
		case r < 0.95:
			c.Pattern = PatternMonthly
		default:
			c.Pattern = PatternAnnual
		}
		dayIn := func() time.Time {
			return opts.Start.AddDate(0, 0, rng.IntN(opts.Days)).Add(time.Duration(8+rng.IntN(10)) * time.Hour)
		}
		if i >= opts.Clients {
			c.Registered = dayIn()
			if c.Pattern == PatternAnnual {
				c.Pattern = PatternMonthly
			}
		}
		c.LateFiler = rng.Float64() < 0.08
		c.FilesElsewhere = rng.Float64() < 0.15
		if rng.Float64() < 0.03 {
			c.Deregistered = dayIn()
			if c.Deregistered.Before(c.Registered.AddDate(0, 3, 0)) {
				c.Deregistered = time.Time{}
			}
		}
		if rng.Float64() < 0.005 {
			c.AccessRevoked = dayIn()
			if c.AccessRevoked.Before(c.Registered.AddDate(0, 1, 0)) {
				c.AccessRevoked = time.Time{}
			}
		}
		periods := p.plan(&c, rng, horizon)
		p.clients = append(p.clients, c)
		p.periods = append(p.periods, periods)
	}
	for i, c := range p.clients {
		if c.Registered.IsZero() {
			p.registerLocked(i, agent)
		} else {
			p.events = append(p.events, popEvent{at: c.Registered, kind: evRegister, org: i})
		}
		if !c.AccessRevoked.IsZero() {
			p.events = append(p.events, popEvent{at: c.AccessRevoked, kind: evRevoke, org: i})
		}
		for _, pp := range p.periods[i] {
			if pp.appear.After(opts.Start) {
				p.events = append(p.events, popEvent{at: pp.appear, kind: evAppear, org: i, ob: pp})
			}
			switch {
			case pp.software && pp.filed.After(opts.Start):
				p.events = append(p.events, popEvent{at: pp.filed, kind: evFiled, org: i, ob: pp})
			case pp.software && pp.show.After(opts.Start) && c.Registered.IsZero():
				// Filed before the start and not shown yet: the software
				// learns of it at the start.
				p.events = append(p.events, popEvent{at: opts.Start, kind: evFiled, org: i, ob: pp})
			}
			if pp.show.After(opts.Start) {
				p.events = append(p.events, popEvent{at: pp.show, kind: evShow, org: i, ob: pp})
			}
			if pp.announce.After(opts.Start) {
				p.events = append(p.events, popEvent{at: pp.announce, kind: evAnnounce, org: i, ob: pp})
			}
		}
	}
	for i := range p.events {
		p.events[i].order = i
	}
	sort.Slice(p.events, func(i, j int) bool {
		a, b := p.events[i], p.events[j]
		if !a.at.Equal(b.at) {
			return a.at.Before(b.at)
		}
		return a.order < b.order
	})
	return p, nil
}

// plan generates c's periods up to horizon, and decides its pattern change.
func (p *Population) plan(c *PopulationClient, rng *mrand.Rand, horizon time.Time) []*popPeriod {
	start := p.opts.Start
	months, anchor := 3, 0 // anchor: a month (0–11) in which a period ends
	switch c.Pattern {
	case PatternQuarterly1:
		anchor = 2
	case PatternQuarterly2:
		anchor = 0
	case PatternQuarterly3:
		anchor = 1
	case PatternMonthly:
		months = 1
	case PatternAnnual:
		months, anchor = 12, rng.IntN(12)
	}
	changeWanted := months == 3 && c.Deregistered.IsZero() && rng.Float64() < 0.01
	first := civil.Of(start).AddMonths(-13).FirstOfMonth()
	irregularNext, irregularAfter := false, 0
	if !c.Registered.IsZero() {
		first = civil.Of(c.Registered)
		irregularNext = true
	}
	if c.Registered.IsZero() { // start on a whole period of the pattern
		end := first.AddDays(27).LastOfMonth()
		for (int(end.Month)-1-anchor+12)%months != 0 {
			end = end.AddDays(1).LastOfMonth()
		}
		first = end.AddDays(1).AddMonths(-months)
	}
	var out []*popPeriod
	cur := first
	for cur.Time().Before(horizon) {
		// The end of the period starting at cur: the first month end on the
		// pattern at least a month after cur (a whole period for a regular start).
		end := cur.AddDays(27).LastOfMonth()
		if irregularNext && months > 1 { // a first period is at least a whole one
			end = cur.AddMonths(months).AddDays(-1).LastOfMonth()
		}
		for (int(end.Month)-1-anchor+12)%months != 0 {
			end = end.AddDays(1).LastOfMonth()
		}
		irregular := irregularNext || irregularAfter > 0
		irregularNext = false
		if irregularAfter > 0 {
			irregularAfter--
		}
		final := false
		if !c.Deregistered.IsZero() {
			if d := civil.Of(c.Deregistered); !end.Before(d) {
				end, final, irregular = d, true, true
			}
		}
		pp := &popPeriod{start: cur, end: end, irregular: irregular}
		switch {
		case final:
			pp.announce = c.Deregistered
		case irregular && !c.PatternChanged.IsZero() && irregularAfter == 1:
			pp.announce = c.PatternChanged // the first period of the new pattern
		case irregular && len(out) == 0 && !c.Registered.IsZero():
			pp.announce = c.Registered
		}
		pp.key = popKey(end, months)
		pp.due = dueDate(end)
		if months == 12 {
			pp.due = end.AddDays(1).AddMonths(2).AddDays(-1)
		}
		pp.appear = end.AddDays(1).Time().Add(time.Duration(rng.IntN(6*60)) * time.Minute)
		pp.software = !c.FilesElsewhere
		dueT := pp.due.Time()
		if c.LateFiler && rng.Float64() < 0.6 {
			pp.filed = dueT.AddDate(0, 0, 1+rng.IntN(25)).Add(time.Duration(8+rng.IntN(12)) * time.Hour)
		} else {
			window := int(dueT.Sub(pp.appear).Hours()/24) - 1
			pp.filed = dueT.AddDate(0, 0, -rng.IntN(max(window, 1))).Add(time.Duration(8+rng.IntN(14)) * time.Hour)
			if pp.filed.Before(pp.appear.Add(time.Hour)) {
				pp.filed = pp.appear.Add(time.Hour)
			}
		}
		pp.show = expectedShow(pp.filed).Add(time.Duration(rng.IntN(60)) * time.Minute)
		if rng.Float64() < 0.1 { // HMRC is a working day late
			pp.show = nextWorkingDay(pp.show)
		}
		out = append(out, pp)
		if final {
			break
		}
		cur = end.AddDays(1)
		if changeWanted && c.PatternChanged.IsZero() && end.Time().After(p.opts.Start.AddDate(0, 1, 0)) &&
			end.Time().Before(p.end.AddDate(0, -2, 0)) && rng.IntN(3) == 0 {
			c.PatternChanged = end.Time()
			months, irregularNext, irregularAfter = 1, true, 2
		}
	}
	return out
}

// popKey names a period by its length and the month it ends in: "25QC" for
// the quarter ending in March 2025, "25MC" for March, "25YC" for the year.
func popKey(end civil.Date, months int) string {
	letter := map[int]byte{1: 'M', 3: 'Q', 12: 'Y'}[months]
	if letter == 0 {
		letter = 'Q'
	}
	return fmt.Sprintf("%02d%c%c", end.Year%100, letter, 'A'+rune(end.Month-1))
}

// expectedShow is when HMRC shows a return filed at t as fulfilled: the next
// working day's morning; the Tuesday for one filed on Friday evening or at
// the weekend.
func expectedShow(t time.Time) time.Time {
	d := civil.Of(t)
	six := 6 * time.Hour
	switch wd := t.Weekday(); {
	case wd >= time.Monday && wd <= time.Thursday:
		return d.AddDays(1).Time().Add(six)
	case wd == time.Friday && t.Hour() < 18:
		return d.AddDays(3).Time().Add(six)
	case wd == time.Friday:
		return d.AddDays(4).Time().Add(six)
	case wd == time.Saturday:
		return d.AddDays(3).Time().Add(six)
	}
	return d.AddDays(2).Time().Add(six)
}

func nextWorkingDay(t time.Time) time.Time {
	t = t.AddDate(0, 0, 1)
	for t.Weekday() == time.Saturday || t.Weekday() == time.Sunday {
		t = t.AddDate(0, 0, 1)
	}
	return t
}

// registerLocked creates client i's organisation, with the obligations HMRC
// shows at the current time, and authorises the agent.
func (p *Population) registerLocked(i int, agent *user) {
	c := p.clients[i]
	reg := civil.Of(p.opts.Start).AddYears(-3)
	if !c.Registered.IsZero() {
		reg = civil.Of(c.Registered)
	}
	o, err := p.s.addOrganisationLocked(Organisation{VRN: c.VRN, RegistrationDate: reg.String(), Obligations: []Obligation{}}, nil)
	if err != nil {
		panic(err) // VRNs were chosen free
	}
	now := p.s.clock.now()
	for _, pp := range p.periods[i] {
		if pp.appear.After(now) {
			continue
		}
		ob := &obligation{key: pp.key, start: pp.start, end: pp.end, due: pp.due}
		if !pp.show.After(now) {
			ob.received = civil.Of(pp.filed)
		}
		o.obligations = append(o.obligations, ob)
	}
	agent.clients[c.VRN] = true
}

// Agent returns the agent user the clients authorised. Issue its tokens with
// [Server.IssueToken].
func (p *Population) Agent() TestUser { return p.agent }

// Clients returns the population's clients, those who register later
// included.
func (p *Population) Clients() []PopulationClient {
	return append([]PopulationClient(nil), p.clients...)
}

// End returns the end of the recorded window (Start plus Days).
func (p *Population) End() time.Time { return p.end }

// NextEvent returns when the world changes next; zero when it no longer does.
func (p *Population) NextEvent() time.Time {
	if p.next >= len(p.events) {
		return time.Time{}
	}
	return p.events[p.next].at
}

// AdvanceTo applies every change of the world up to and including t and
// returns what the agent's software learns directly: new clients, returns
// filed through it.
func (p *Population) AdvanceTo(t time.Time) []Happening {
	var out []Happening
	p.s.mu.Lock()
	defer p.s.mu.Unlock()
	agent := p.s.users[p.agent.UserID]
	for p.next < len(p.events) && !p.events[p.next].at.After(t) {
		ev := p.events[p.next]
		p.next++
		c := p.clients[ev.org]
		record := !ev.at.Before(p.opts.Start) && ev.at.Before(p.end)
		observable := c.AccessRevoked.IsZero() // the others are reported as access lost
		switch ev.kind {
		case evRegister:
			p.registerLocked(ev.org, agent)
			out = append(out, Happening{Kind: HappeningRegistered, VRN: c.VRN, At: ev.at})
		case evRevoke:
			delete(agent.clients, c.VRN)
		case evAppear:
			o := p.s.orgs[c.VRN]
			if o == nil || o.obligation(ev.ob.key) != nil {
				continue // appears with the registration
			}
			o.obligations = append(o.obligations, &obligation{key: ev.ob.key, start: ev.ob.start, end: ev.ob.end, due: ev.ob.due})
			sortObligations(o.obligations)
			if record {
				p.changes = append(p.changes, Change{VRN: c.VRN, PeriodKey: ev.ob.key, Kind: ChangeNewObligation, At: ev.at,
					Due: ev.ob.due.Time(), Irregular: ev.ob.irregular, Observable: observable})
			}
		case evAnnounce:
			if observable {
				out = append(out, Happening{Kind: HappeningAnnounced, VRN: c.VRN, PeriodEnd: ev.ob.end.Time(), At: ev.at})
			}
		case evFiled:
			if observable {
				out = append(out, Happening{Kind: HappeningFiled, VRN: c.VRN, PeriodKey: ev.ob.key, At: ev.ob.filed})
			}
		case evShow:
			o := p.s.orgs[c.VRN]
			if o == nil {
				continue
			}
			ob := o.obligation(ev.ob.key)
			if ob == nil || !ob.received.IsZero() {
				continue
			}
			ob.received = civil.Of(ev.ob.filed)
			if record {
				p.changes = append(p.changes, Change{VRN: c.VRN, PeriodKey: ev.ob.key, Kind: ChangeFulfilled, At: ev.at,
					Due: ev.ob.due.Time(), Filed: ev.ob.filed, ThroughSoftware: ev.ob.software, Irregular: ev.ob.irregular, Observable: observable})
			}
		}
	}
	return out
}

// Changes returns the changes of HMRC's data recorded so far (those inside
// the window of Start plus Days), in order.
func (p *Population) Changes() []Change { return append([]Change(nil), p.changes...) }

package vattest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/go-mtd/vat/vattest/internal/civil"
)

// snapshotVersion is the version of the state format State writes.
const snapshotVersion = 1

// snapshot is the server's state as State writes it and LoadState reads it.
type snapshot struct {
	Version      int                         `json:"version"`
	Clock        clockSnapshot               `json:"clock"`
	DefaultApp   string                      `json:"defaultClientId"`
	Applications []Application               `json:"applications"`
	Users        []userSnapshot              `json:"users"`
	Businesses   []orgSnapshot               `json:"businesses"`
	Grants       []grantSnapshot             `json:"grants"`
	Tokens       []tokenSnapshot             `json:"tokens"`
	Submissions  map[string]SubmissionCounts `json:"submissions,omitempty"`
}

type clockSnapshot struct {
	Frozen bool          `json:"frozen"`
	At     time.Time     `json:"at,omitzero"`
	Offset time.Duration `json:"offsetNanoseconds"`
}

type userSnapshot struct {
	TestUser
	Clients []string       `json:"clients,omitempty"`
	Extra   map[string]any `json:"extra,omitempty"`
}

type orgSnapshot struct {
	VRN                  string          `json:"vrn"`
	Name                 string          `json:"name"`
	UserID               string          `json:"userId"`
	RegistrationDate     string          `json:"registrationDate"`
	Obligations          []Obligation    `json:"obligations"`
	Returns              []returnSnap    `json:"returns,omitempty"`
	Charges              []chargeSnap    `json:"charges,omitempty"`
	Payments             []paymentSnap   `json:"payments,omitempty"`
	DirectDebit          bool            `json:"directDebit,omitempty"`
	RepaymentBankAccount bool            `json:"repaymentBankAccount,omitempty"`
	Insolvent            bool            `json:"insolvent,omitempty"`
	FlatRateScheme       *FlatRateScheme `json:"flatRateScheme,omitempty"`
}

type returnSnap struct {
	PeriodKey string   `json:"periodKey"`
	Pence     [9]int64 `json:"pence"`
}

type chargeSnap struct {
	PeriodKey   string `json:"periodKey"`
	Ref         string `json:"chargeReference"`
	Type        string `json:"type"`
	From        string `json:"from"`
	To          string `json:"to"`
	Due         string `json:"due"`
	Posted      string `json:"posted"`
	Original    int64  `json:"originalPence"`
	Outstanding int64  `json:"outstandingPence"`
}

type paymentSnap struct {
	Ref      string `json:"chargeReference"`
	PeriodTo string `json:"periodTo"`
	Amount   int64  `json:"pence"`
	Received string `json:"received"`
}

type grantSnapshot struct {
	ClientID     string    `json:"clientId"`
	UserID       string    `json:"userId"`
	Scope        string    `json:"scope"`
	AuthorisedAt time.Time `json:"authorisedAt"`
	Refresh      string    `json:"refreshToken"`
}

type tokenSnapshot struct {
	Value    string    `json:"accessToken"`
	App      bool      `json:"application,omitempty"`
	ClientID string    `json:"clientId"`
	UserID   string    `json:"userId,omitempty"`
	Scope    string    `json:"scope,omitempty"`
	Expiry   time.Time `json:"expiry"`
	Refresh  string    `json:"refreshToken,omitempty"` // of the grant it belongs to
}

// State returns the server's state as JSON: the clock, applications, test
// users, businesses (obligations, returns, liabilities, payments), grants
// and unexpired tokens, and submission counts. It holds every credential the
// server issued, so keep it as private as they are. Faults, the request log,
// authorization codes and rate-limit windows are not part of it.
// [Server.LoadState] reads it back.
func (s *Server) State() ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	snap := snapshot{
		Version:     snapshotVersion,
		Clock:       clockSnapshot{Frozen: s.clock.frozen, At: s.clock.at, Offset: s.clock.offset},
		DefaultApp:  s.defaultApp.ClientID,
		Submissions: map[string]SubmissionCounts{},
	}
	for _, id := range sortedKeys(s.apps) {
		a := *s.apps[id]
		a.RedirectURIs = append([]string{}, a.RedirectURIs...)
		snap.Applications = append(snap.Applications, a)
	}
	for _, id := range sortedKeys(s.users) {
		u := s.users[id]
		us := userSnapshot{TestUser: u.TestUser, Clients: sortedKeys(u.clients), Extra: u.extra}
		if len(us.Extra) == 0 {
			us.Extra = nil
		}
		snap.Users = append(snap.Users, us)
	}
	for _, v := range sortedKeys(s.orgs) {
		snap.Businesses = append(snap.Businesses, s.orgSnapshotLocked(s.orgs[v]))
	}
	for _, r := range sortedKeys(s.refreshes) {
		g := s.refreshes[r]
		snap.Grants = append(snap.Grants, grantSnapshot{ClientID: g.clientID, UserID: g.userID, Scope: g.scope, AuthorisedAt: g.authorisedAt, Refresh: g.refresh})
	}
	now := s.clock.now()
	for _, v := range sortedKeys(s.tokens) {
		t := s.tokens[v]
		if !now.Before(t.expiry) {
			continue
		}
		ts := tokenSnapshot{Value: t.value, App: t.app, ClientID: t.clientID, UserID: t.userID, Scope: t.scope, Expiry: t.expiry}
		if t.grant != nil {
			ts.Refresh = t.grant.refresh
		}
		snap.Tokens = append(snap.Tokens, ts)
	}
	for k, v := range s.counts {
		snap.Submissions[k] = v
	}
	return json.MarshalIndent(snap, "", "  ")
}

func (s *Server) orgSnapshotLocked(o *organisation) orgSnapshot {
	os := orgSnapshot{VRN: o.vrn, Name: o.name, UserID: o.userID, RegistrationDate: o.regDate.String(),
		Obligations: []Obligation{}, DirectDebit: o.directDebit, RepaymentBankAccount: o.bank, Insolvent: o.insolvent, FlatRateScheme: o.frs}
	for _, ob := range o.obligations {
		x := Obligation{PeriodKey: ob.key, Start: ob.start.String(), End: ob.end.String(), Due: ob.due.String()}
		if !ob.received.IsZero() {
			x.Received = ob.received.String()
		}
		os.Obligations = append(os.Obligations, x)
	}
	for _, k := range sortedKeys(o.returns) {
		os.Returns = append(os.Returns, returnSnap{PeriodKey: k, Pence: o.returns[k].boxes})
	}
	for _, c := range o.charges {
		os.Charges = append(os.Charges, chargeSnap{PeriodKey: c.key, Ref: c.ref, Type: c.typ, From: c.from.String(), To: c.to.String(),
			Due: c.due.String(), Posted: c.posted.String(), Original: c.original, Outstanding: c.outstanding})
	}
	for _, p := range o.payments {
		os.Payments = append(os.Payments, paymentSnap{Ref: p.ref, PeriodTo: p.periodTo.String(), Amount: p.amount, Received: p.received.String()})
	}
	return os
}

// LoadState replaces the server's state with one written by [Server.State]:
// everything State holds is replaced (applications registered with
// [WithApplication] stay registered), and injected faults, the request log,
// authorization codes and rate-limit windows are cleared. On error the
// state is left as it was.
func (s *Server) LoadState(data []byte) error {
	var snap snapshot
	if err := json.Unmarshal(data, &snap); err != nil {
		return fmt.Errorf("vattest: LoadState: %w", err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("vattest: LoadState: version %d, want %d", snap.Version, snapshotVersion)
	}
	st, err := buildState(snap)
	if err != nil {
		return fmt.Errorf("vattest: LoadState: %w", err)
	}
	for i := range s.cfg.apps { // applications of WithApplication stay registered
		if a := s.cfg.apps[i]; st.apps[a.ClientID] == nil {
			st.apps[a.ClientID] = &a
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.frozen, s.clock.at, s.clock.offset = snap.Clock.Frozen, snap.Clock.At.UTC(), snap.Clock.Offset
	s.apps, s.defaultApp = st.apps, st.apps[snap.DefaultApp]
	s.users, s.orgs, s.tokens, s.refreshes = st.users, st.orgs, st.tokens, st.refreshes
	s.counts = st.counts
	s.clearTransientLocked()
	return nil
}

func (s *Server) clearTransientLocked() {
	s.codes = map[string]*authCode{}
	s.windows = map[string]*window{}
	s.faults = nil
	s.requests, s.oldest = nil, 0
	s.lastFraud = map[string]map[string]fraudRecord{}
}

type builtState struct {
	apps      map[string]*Application
	users     map[string]*user
	orgs      map[string]*organisation
	tokens    map[string]*token
	refreshes map[string]*grant
	counts    map[string]SubmissionCounts
}

func buildState(snap snapshot) (*builtState, error) {
	st := &builtState{apps: map[string]*Application{}, users: map[string]*user{}, orgs: map[string]*organisation{},
		tokens: map[string]*token{}, refreshes: map[string]*grant{}, counts: map[string]SubmissionCounts{}}
	for i := range snap.Applications {
		a := snap.Applications[i]
		if err := validateApplication(a); err != nil {
			return nil, fmt.Errorf("applications[%d]: %w", i, err)
		}
		st.apps[a.ClientID] = &a
	}
	if st.apps[snap.DefaultApp] == nil {
		return nil, fmt.Errorf("defaultClientId %q is not among the applications", snap.DefaultApp)
	}
	for i, us := range snap.Users {
		if us.UserID == "" {
			return nil, fmt.Errorf("users[%d]: empty userId", i)
		}
		u := &user{TestUser: us.TestUser, clients: map[string]bool{}, extra: us.Extra}
		if u.extra == nil {
			u.extra = map[string]any{}
		}
		for _, c := range us.Clients {
			u.clients[c] = true
		}
		st.users[u.UserID] = u
	}
	for i, os := range snap.Businesses {
		o, err := buildOrg(os)
		if err != nil {
			return nil, fmt.Errorf("businesses[%d]: %w", i, err)
		}
		if st.users[o.userID] == nil {
			return nil, fmt.Errorf("businesses[%d]: no user %q", i, o.userID)
		}
		st.orgs[o.vrn] = o
	}
	for i, gs := range snap.Grants {
		bits, _, err := parseScopeList(strings.Fields(gs.Scope))
		if err != nil || gs.Refresh == "" || st.apps[gs.ClientID] == nil {
			return nil, fmt.Errorf("grants[%d]: bad scope, refresh token or client ID", i)
		}
		st.refreshes[gs.Refresh] = &grant{clientID: gs.ClientID, userID: gs.UserID, scope: gs.Scope, scopes: bits, authorisedAt: gs.AuthorisedAt, refresh: gs.Refresh}
	}
	for i, ts := range snap.Tokens {
		bits, _, err := parseScopeList(strings.Fields(ts.Scope))
		if err != nil || ts.Value == "" {
			return nil, fmt.Errorf("tokens[%d]: bad scope or empty token", i)
		}
		t := &token{value: ts.Value, app: ts.App, clientID: ts.ClientID, userID: ts.UserID, scopes: bits, scope: ts.Scope, expiry: ts.Expiry}
		if ts.Refresh != "" {
			g := st.refreshes[ts.Refresh]
			if g == nil {
				return nil, fmt.Errorf("tokens[%d]: no grant with its refresh token", i)
			}
			t.grant, g.access = g, t.value
		}
		st.tokens[t.value] = t
	}
	for k, v := range snap.Submissions {
		st.counts[k] = v
	}
	return st, nil
}

func buildOrg(os orgSnapshot) (*organisation, error) {
	if !vrnPattern.MatchString(os.VRN) {
		return nil, fmt.Errorf("vrn %q is not nine digits", os.VRN)
	}
	reg, ok := civil.Parse(os.RegistrationDate)
	if !ok {
		return nil, fmt.Errorf("registrationDate %q is not a date", os.RegistrationDate)
	}
	obs, err := parseObligations(os.Obligations)
	if err != nil {
		return nil, err
	}
	o := &organisation{vrn: os.VRN, name: os.Name, userID: os.UserID, regDate: reg, obligations: obs, returns: map[string]*storedReturn{},
		directDebit: os.DirectDebit, bank: os.RepaymentBankAccount, insolvent: os.Insolvent, frs: os.FlatRateScheme}
	for _, r := range os.Returns {
		if !periodKeyPattern.MatchString(r.PeriodKey) {
			return nil, fmt.Errorf("returns: period key %q", r.PeriodKey)
		}
		o.returns[r.PeriodKey] = &storedReturn{key: r.PeriodKey, boxes: r.Pence}
	}
	dates := func(ss ...string) ([]civil.Date, error) {
		out := make([]civil.Date, len(ss))
		for i, x := range ss {
			d, ok := civil.Parse(x)
			if !ok {
				return nil, fmt.Errorf("%q is not a date", x)
			}
			out[i] = d
		}
		return out, nil
	}
	for _, c := range os.Charges {
		d, err := dates(c.From, c.To, c.Due, c.Posted)
		if err != nil {
			return nil, fmt.Errorf("charges: %w", err)
		}
		o.charges = append(o.charges, &charge{key: c.PeriodKey, ref: c.Ref, typ: c.Type, from: d[0], to: d[1], due: d[2], posted: d[3], original: c.Original, outstanding: c.Outstanding})
	}
	for _, p := range os.Payments {
		d, err := dates(p.PeriodTo, p.Received)
		if err != nil {
			return nil, fmt.Errorf("payments: %w", err)
		}
		o.payments = append(o.payments, &payment{ref: p.Ref, periodTo: d[0], amount: p.Amount, received: d[1]})
	}
	return o, nil
}

// Reset forgets every test user, business, token and submission, clears
// faults and the request log, sets the clock back to the one the server
// started with, and seeds the organisations of [WithOrganisation] again.
// Registered applications, including the default one, are kept.
func (s *Server) Reset() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = clock{base: s.cfg.now}
	s.users = map[string]*user{}
	s.orgs = map[string]*organisation{}
	s.tokens = map[string]*token{}
	s.refreshes = map[string]*grant{}
	s.counts = map[string]SubmissionCounts{}
	s.clearTransientLocked()
	for _, org := range s.cfg.orgs {
		if _, err := s.addOrganisationLocked(org, nil); err != nil {
			return fmt.Errorf("vattest: Reset: %w", err)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

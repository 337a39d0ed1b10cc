package vattest

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	mrand "math/rand/v2"
	"regexp"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/go-mtd/vat/internal/uuid"
	"github.com/go-mtd/vat/vattest/internal/civil"
	"github.com/go-mtd/vat/vattest/internal/vrn"
)

var (
	vrnPattern       = regexp.MustCompile(`^\d{9}$`)
	periodKeyPattern = regexp.MustCompile(`^[#0-9A-Z]{4}$`)
	chargeRefPattern = regexp.MustCompile(`^X[a-zA-Z]\d{12}$`)
	frsPattern       = regexp.MustCompile(`^(00[1-9]|0[1-4][0-9]|05[0-5]|999)$`)
)

// scope bits
const (
	scopeReadVAT = 1 << iota
	scopeWriteVAT
)

var knownScopes = map[string]int{"read:vat": scopeReadVAT, "write:vat": scopeWriteVAT}

type user struct {
	TestUser
	clients map[string]bool // VRNs the user may act for (own enrolment, or an agent's clients)
	extra   map[string]any  // further fields of the Create Test User response
}

type obligation struct {
	key             string
	start, end, due civil.Date
	received        civil.Date // zero: open
}

type storedReturn struct {
	key   string
	boxes [9]int64 // pence (boxes 6–9 are whole pounds ×100)
}

type charge struct {
	key, ref, typ         string
	from, to, due, posted civil.Date
	original, outstanding int64
}

type payment struct {
	ref      string
	periodTo civil.Date
	amount   int64
	received civil.Date
}

type organisation struct {
	vrn, name   string
	userID      string
	regDate     civil.Date
	obligations []*obligation // sorted by start
	returns     map[string]*storedReturn
	charges     []*charge
	payments    []*payment
	directDebit bool
	bank        bool
	insolvent   bool
	frs         *FlatRateScheme
}

func (o *organisation) obligation(key string) *obligation {
	for _, ob := range o.obligations {
		if ob.key == key {
			return ob
		}
	}
	return nil
}

type grant struct {
	clientID, userID string
	scope            string
	scopes           int
	authorisedAt     time.Time
	refresh          string
	access           string
}

type token struct {
	value    string
	app      bool
	clientID string
	userID   string
	scopes   int
	scope    string
	expiry   time.Time
	grant    *grant
}

type authCode struct {
	clientID, userID, redirectURI, scope string
	scopes                               int
	challenge                            string
	expiry                               time.Time
}

const (
	accessTokenLifetime = 4 * time.Hour
	codeLifetime        = 10 * time.Minute
	grantMonths         = 18
)

// clock is the server's time source; guarded by Server.mu.
type clock struct {
	base   func() time.Time
	frozen bool
	at     time.Time
	offset time.Duration
}

func (c *clock) now() time.Time {
	if c.frozen {
		return c.at
	}
	return c.base().Add(c.offset).UTC()
}

// ---- identifiers -----------------------------------------------------------

// rng draws the server's identifiers: from a seeded source with [WithSeed],
// so that the same calls give the same VRNs, credentials and tokens;
// otherwise from math/rand (and crypto/rand for secrets).
type rng struct {
	mu sync.Mutex
	r  *mrand.Rand // nil: unseeded
}

func newRNG(seed *uint64) *rng {
	if seed == nil {
		return &rng{}
	}
	return &rng{r: mrand.New(mrand.NewPCG(*seed, *seed^0x9e3779b97f4a7c15))}
}

func (g *rng) intN(n int) int {
	if g.r == nil {
		return mrand.IntN(n)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.IntN(n)
}

func (g *rng) uint64() uint64 {
	if g.r == nil {
		return mrand.Uint64()
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.r.Uint64()
}

// uuid returns a random (version 4) UUID string for correlation and receipt IDs.
func (g *rng) uuid() string {
	var b [16]byte
	hi, lo := g.uint64(), g.uint64()
	for i := 0; i < 8; i++ {
		b[i] = byte(hi >> (8 * i))
		b[8+i] = byte(lo >> (8 * i))
	}
	return uuid.Format(b)
}

// secret returns n random bytes in hex, for tokens, codes and secrets.
func (g *rng) secret(n int) string {
	b := make([]byte, n)
	if g.r == nil {
		_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
		return hex.EncodeToString(b)
	}
	for i := range b {
		b[i] = byte(g.intN(256))
	}
	return hex.EncodeToString(b)
}

func (g *rng) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.intN(10))
	}
	return string(b)
}

func (g *rng) letters(n int, alphabet string) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[g.intN(len(alphabet))]
	}
	return string(b)
}

func itoa(n int) string { return strconv.Itoa(n) }

// ---- organisations ---------------------------------------------------------

func checkOrganisation(org Organisation) error {
	if org.VRN != "" && !vrnPattern.MatchString(org.VRN) {
		return fmt.Errorf("VRN %q is not nine digits", org.VRN)
	}
	if org.RegistrationDate != "" {
		if _, ok := civil.Parse(org.RegistrationDate); !ok {
			return fmt.Errorf("RegistrationDate %q is not a YYYY-MM-DD date", org.RegistrationDate)
		}
	}
	if p := org.Plan; p != nil {
		if p.Period != 0 && p.Period != Quarterly && p.Period != Monthly && p.Period != Annually {
			return fmt.Errorf("Plan.Period %d is not Quarterly, Monthly or Annually", p.Period)
		}
		if p.Fulfilled < 0 || p.Open < 0 || p.Fulfilled+p.Open > 1000 {
			return fmt.Errorf("Plan wants %d fulfilled and %d open periods: each must be 0 or more, 1000 in all at most", p.Fulfilled, p.Open)
		}
	}
	if _, err := parseObligations(org.Obligations); err != nil {
		return err
	}
	if f := org.FlatRateScheme; f != nil {
		if !frsPattern.MatchString(f.Category) {
			return fmt.Errorf("FlatRateScheme.Category %q is not 001–055 or 999", f.Category)
		}
		if _, ok := civil.Parse(f.StartDate); !ok {
			return fmt.Errorf("FlatRateScheme.StartDate %q is not a YYYY-MM-DD date", f.StartDate)
		}
	}
	return nil
}

func parseObligations(in []Obligation) ([]*obligation, error) {
	out := make([]*obligation, 0, len(in))
	seen := map[string]bool{}
	for i, o := range in {
		if !periodKeyPattern.MatchString(o.PeriodKey) {
			return nil, fmt.Errorf("Obligations[%d].PeriodKey %q does not match ^[#0-9A-Z]{4}$", i, o.PeriodKey)
		}
		if seen[o.PeriodKey] {
			return nil, fmt.Errorf("Obligations[%d].PeriodKey %q appears twice", i, o.PeriodKey)
		}
		seen[o.PeriodKey] = true
		ob := &obligation{key: o.PeriodKey}
		var ok bool
		if ob.start, ok = civil.Parse(o.Start); !ok {
			return nil, fmt.Errorf("Obligations[%d].Start %q is not a YYYY-MM-DD date", i, o.Start)
		}
		if ob.end, ok = civil.Parse(o.End); !ok || ob.end.Before(ob.start) {
			return nil, fmt.Errorf("Obligations[%d].End %q is not a YYYY-MM-DD date on or after Start", i, o.End)
		}
		ob.due = dueDate(ob.end)
		if o.Due != "" {
			if ob.due, ok = civil.Parse(o.Due); !ok {
				return nil, fmt.Errorf("Obligations[%d].Due %q is not a YYYY-MM-DD date", i, o.Due)
			}
		}
		if o.Received != "" {
			if ob.received, ok = civil.Parse(o.Received); !ok {
				return nil, fmt.Errorf("Obligations[%d].Received %q is not a YYYY-MM-DD date", i, o.Received)
			}
		}
		out = append(out, ob)
	}
	sortObligations(out)
	return out, nil
}

func sortObligations(obs []*obligation) {
	sort.SliceStable(obs, func(i, j int) bool { return obs[i].start.Before(obs[j].start) })
}

// dueDate is one month and seven days after the end of a period: for a period
// ending on a month's last day, seven days after the end of the next month
// (HMRC's examples: 2017-02-28 → 2017-04-07).
func dueDate(end civil.Date) civil.Date {
	if end == end.LastOfMonth() {
		return end.AddDays(1).LastOfMonth().AddDays(7)
	}
	return end.AddMonths(1).AddDays(7)
}

// planObligations generates p relative to today (see Plan).
func planObligations(p Plan, today, reg civil.Date) []*obligation {
	months := 3
	switch p.Period {
	case Monthly:
		months = 1
	case Annually:
		months = 12
	}
	cur := today.FirstOfMonth()
	switch months {
	case 3:
		cur = civil.Date{Year: today.Year, Month: (today.Month-1)/3*3 + 1, Day: 1}
	case 12:
		cur = civil.Date{Year: today.Year, Month: 1, Day: 1}
	}
	var out []*obligation
	for i := p.Open + p.Fulfilled; i >= 0; i-- {
		start := cur.AddMonths(-i * months)
		end := start.AddMonths(months).AddDays(-1)
		if end.Before(reg) {
			continue
		}
		ob := &obligation{key: periodKeyFor(start, months), start: start, end: end, due: dueDate(end)}
		if i > p.Open {
			ob.received = ob.due.AddDays(-1)
			if ob.received.After(today) {
				ob.received = today
			}
		}
		out = append(out, ob)
	}
	return out
}

// periodKeyFor makes keys like HMRC's: two digits of the year, then A and the
// quarter ("24A1"), M and a letter for the month ("24MA" for January), or
// Y1 for a year ("24Y1").
func periodKeyFor(start civil.Date, months int) string {
	yy := start.Year % 100
	switch months {
	case 3:
		return fmt.Sprintf("%02dA%d", yy, (int(start.Month)-1)/3+1)
	case 12:
		return fmt.Sprintf("%02dY1", yy)
	}
	return fmt.Sprintf("%02dM%c", yy, 'A'+rune(start.Month-1))
}

var firstNames = []string{"Ida", "Alan", "Grace", "Ada", "Tim", "Mary", "Karen", "Donald", "Barbara", "Edsger"}
var lastNames = []string{"Newton", "Turing", "Hopper", "Lovelace", "Berners-Lee", "Somerville", "Jones", "Knuth", "Liskov", "Dijkstra"}

// newUserLocked creates a test user of kind; s.mu must be held.
func (s *Server) newUserLocked(kind string) *user {
	first, last := firstNames[s.rnd.intN(len(firstNames))], lastNames[s.rnd.intN(len(lastNames))]
	u := &user{clients: map[string]bool{}, extra: map[string]any{}}
	for {
		u.UserID = s.rnd.digits(12)
		if _, taken := s.users[u.UserID]; !taken {
			break
		}
	}
	u.Password = s.rnd.letters(12, "abcdefghijklmnopqrstuvwxyz")
	u.UserFullName = first + " " + last
	u.EmailAddress = fmt.Sprintf("%s.%s@example.com", lowerASCII(first), lowerASCII(last))
	u.Kind = kind
	s.users[u.UserID] = u
	return u
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// newVRNLocked returns an unused check-digit-valid VRN.
func (s *Server) newVRNLocked() string {
	for {
		v := vrn.Complete(s.rnd.digits(7))
		if _, taken := s.orgs[v]; !taken && v[0] != '0' {
			return v
		}
	}
}

// addOrganisationLocked seeds org and enrols u (which may be nil) for it.
func (s *Server) addOrganisationLocked(org Organisation, u *user) (*organisation, error) {
	if err := checkOrganisation(org); err != nil {
		return nil, err
	}
	if org.VRN == "" {
		org.VRN = s.newVRNLocked()
	} else if _, taken := s.orgs[org.VRN]; taken {
		return nil, fmt.Errorf("VRN %s already exists", org.VRN)
	}
	today := s.todayLocked()
	o := &organisation{
		vrn: org.VRN, returns: map[string]*storedReturn{},
		directDebit: org.DirectDebit, bank: org.RepaymentBankAccount, insolvent: org.Insolvent,
	}
	o.name = "Company " + s.rnd.letters(3, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") + s.rnd.digits(3)
	if org.RegistrationDate != "" {
		o.regDate, _ = civil.Parse(org.RegistrationDate)
	} else {
		o.regDate = today.AddYears(-1 - s.rnd.intN(20)).AddDays(-s.rnd.intN(365))
	}
	if org.FlatRateScheme != nil {
		f := *org.FlatRateScheme
		o.frs = &f
	}
	if org.Obligations != nil {
		o.obligations, _ = parseObligations(org.Obligations)
	} else {
		p := Plan{Period: Quarterly, Fulfilled: 1, Open: 1}
		if org.Plan != nil {
			p = *org.Plan
		}
		o.obligations = planObligations(p, today, o.regDate)
	}
	if u == nil {
		u = s.newUserLocked("organisation")
	}
	u.VRN = o.vrn
	u.VATRegistrationDate = o.regDate.String()
	u.clients[o.vrn] = true
	o.userID = u.UserID
	s.orgs[o.vrn] = o
	return o, nil
}

func (s *Server) todayLocked() civil.Date { return civil.Of(s.clock.now()) }

// ---- public state methods ----------------------------------------------------

// CreateOrganisation seeds an organisation and creates a test user enrolled
// for MTD VAT as it, as POST /create-test-user/organisations with
// {"serviceNames":["mtd-vat"]} does, without an HTTP round trip.
func (s *Server) CreateOrganisation(org Organisation) (TestUser, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, err := s.addOrganisationLocked(org, nil)
	if err != nil {
		return TestUser{}, fmt.Errorf("vattest: CreateOrganisation: %w", err)
	}
	return s.users[o.userID].TestUser, nil
}

// CreateAgent creates an agent test user (an agent services account). Give it
// clients with [Server.AuthoriseAgent].
func (s *Server) CreateAgent() TestUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.newUserLocked("agent")
	u.AgentServicesAccountNumber = "NARN" + s.rnd.digits(7)
	return u.TestUser
}

// AuthoriseAgent records that the organisation with VRN vrn has authorised the
// agent with user ID agentUserID, so the agent's tokens may call the VAT API
// for that VRN.
func (s *Server) AuthoriseAgent(agentUserID, vrn string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[agentUserID]
	if !ok || u.Kind != "agent" {
		return fmt.Errorf("vattest: AuthoriseAgent: no agent with user ID %q", agentUserID)
	}
	if _, ok := s.orgs[vrn]; !ok {
		return fmt.Errorf("vattest: AuthoriseAgent: no organisation with VRN %q", vrn)
	}
	u.clients[vrn] = true
	return nil
}

// IssueToken issues an access token, with a refresh token, for the default
// application, as if the user had signed in and granted scopes (default
// "read:vat" and "write:vat"). who is a VRN (the organisation's own user) or
// a test user's user ID.
func (s *Server) IssueToken(who string, scopes ...string) (Token, error) {
	if len(scopes) == 0 {
		scopes = []string{"read:vat", "write:vat"}
	}
	bits, scope, err := parseScopeList(scopes)
	if err != nil {
		return Token{}, fmt.Errorf("vattest: IssueToken: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var u *user
	if o, ok := s.orgs[who]; ok {
		u = s.users[o.userID]
	} else if u, ok = s.users[who]; !ok {
		return Token{}, fmt.Errorf("vattest: IssueToken: no organisation or user %q", who)
	}
	g := &grant{clientID: s.defaultApp.ClientID, userID: u.UserID, scope: scope, scopes: bits, authorisedAt: s.clock.now()}
	return s.issueUserTokenLocked(g), nil
}

// IssueApplicationToken issues an application-restricted (client_credentials)
// access token for the default application, for the Create Test User API
// and the Test Fraud Prevention Headers API.
func (s *Server) IssueApplicationToken() Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.issueAppTokenLocked(s.defaultApp.ClientID, "", 0)
}

func parseScopeList(scopes []string) (int, string, error) {
	bits := 0
	scope := ""
	for _, sc := range scopes {
		b, ok := knownScopes[sc]
		if !ok {
			return 0, "", fmt.Errorf("unknown scope %q", sc)
		}
		if bits&b == 0 {
			if scope != "" {
				scope += " "
			}
			scope += sc
		}
		bits |= b
	}
	return bits, scope, nil
}

func (s *Server) issueUserTokenLocked(g *grant) Token {
	now := s.clock.now()
	if g.access != "" {
		delete(s.tokens, g.access)
	}
	if g.refresh != "" {
		delete(s.refreshes, g.refresh)
	}
	t := &token{value: s.rnd.secret(16), clientID: g.clientID, userID: g.userID, scopes: g.scopes, scope: g.scope, expiry: now.Add(accessTokenLifetime), grant: g}
	g.access = t.value
	g.refresh = s.rnd.secret(16)
	s.tokens[t.value] = t
	s.refreshes[g.refresh] = g
	return Token{AccessToken: t.value, RefreshToken: g.refresh, Expiry: t.expiry, Scope: g.scope}
}

func (s *Server) issueAppTokenLocked(clientID, scope string, bits int) Token {
	t := &token{value: s.rnd.secret(16), app: true, clientID: clientID, scopes: bits, scope: scope, expiry: s.clock.now().Add(accessTokenLifetime)}
	s.tokens[t.value] = t
	return Token{AccessToken: t.value, Expiry: t.expiry, Scope: scope}
}

// RecordPayment records that HMRC received a payment of pence pence on date
// received (YYYY-MM-DD) against the liability of the return for periodKey.
// The liability's outstanding amount goes down by the payment, which then
// appears in the payments endpoint.
func (s *Server) RecordPayment(vrn, periodKey string, pence int64, received string) error {
	day, ok := civil.Parse(received)
	if !ok {
		return fmt.Errorf("vattest: RecordPayment: received %q is not a YYYY-MM-DD date", received)
	}
	if pence <= 0 {
		return fmt.Errorf("vattest: RecordPayment: amount %d pence is not positive", pence)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[vrn]
	if !ok {
		return fmt.Errorf("vattest: RecordPayment: no organisation with VRN %q", vrn)
	}
	for _, c := range o.charges {
		if c.key != periodKey {
			continue
		}
		if pence > c.outstanding {
			return fmt.Errorf("vattest: RecordPayment: %d pence is more than the %d outstanding for %s", pence, c.outstanding, periodKey)
		}
		c.outstanding -= pence
		o.payments = append(o.payments, &payment{ref: c.ref, periodTo: c.to, amount: pence, received: day})
		return nil
	}
	return errors.New("vattest: RecordPayment: no liability for period " + periodKey)
}

// Submissions returns the counts of POST …/returns requests for vrn.
func (s *Server) Submissions(vrn string) SubmissionCounts {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.counts[vrn]
}

// Requests returns the requests received so far, oldest first (at most the
// latest 10,000).
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Request, 0, len(s.requests))
	out = append(out, s.requests[s.oldest:]...)
	return append(out, s.requests[:s.oldest]...)
}

// Obligations returns the current obligations of vrn, oldest first, as the
// endpoint would report them; nil for an unknown VRN.
func (s *Server) Obligations(vrn string) []Obligation {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.orgs[vrn]
	if !ok {
		return nil
	}
	out := make([]Obligation, 0, len(o.obligations))
	for _, ob := range o.obligations {
		x := Obligation{PeriodKey: ob.key, Start: ob.start.String(), End: ob.end.String(), Due: ob.due.String()}
		if !ob.received.IsZero() {
			x.Received = ob.received.String()
		}
		out = append(out, x)
	}
	return out
}

// Businesses returns the test users of the organisations the server knows,
// ordered by VRN.
func (s *Server) Businesses() []TestUser {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]TestUser, 0, len(s.orgs))
	for _, v := range sortedKeys(s.orgs) {
		if u := s.users[s.orgs[v].userID]; u != nil {
			out = append(out, u.TestUser)
		}
	}
	return out
}

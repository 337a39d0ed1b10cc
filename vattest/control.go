package vattest

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-mtd/vat/vattest/internal/civil"
	"github.com/go-mtd/vat/vattest/internal/decimal"
)

// ControlPrefix is the path under which the server answers its control API,
// a simulator extension that no HMRC API uses. Control requests meet no
// injected fault, no rate limit and are not recorded in [Server.Requests].
const ControlPrefix = "/_sandbox/"

const maxControlBody = 10 << 20

// control answers the control API. Every answer is JSON; errors are
// {"code":…,"message":…} with 400 (bad request, naming the field), 403 (peer
// not allowed), 404 (unknown control path) or 405 (method).
func (s *Server) control(w http.ResponseWriter, r *http.Request) {
	if !s.controlAllowed(r) {
		controlError(w, http.StatusForbidden, "FORBIDDEN", "the control API answers loopback peers, and others only with the control token (WithControlToken, vat-sandbox -control-token)")
		return
	}
	path := strings.TrimPrefix(r.URL.Path, ControlPrefix)
	route := r.Method + " " + path
	switch route {
	case "GET health":
		s.mu.Lock()
		now := s.clock.now()
		s.mu.Unlock()
		controlJSON(w, http.StatusOK, map[string]any{"status": "ok", "now": now.Format(time.RFC3339Nano)})
	case "POST businesses":
		s.controlCreateBusiness(w, r)
	case "GET clock":
		s.controlClock(w)
	case "POST clock":
		s.controlSetClock(w, r)
	case "GET faults":
		s.controlListFaults(w)
	case "POST faults":
		s.controlInjectFault(w, r)
	case "DELETE faults":
		s.ClearFaults()
		w.WriteHeader(http.StatusNoContent)
	case "POST payments":
		s.controlPayment(w, r)
	case "GET requests":
		s.controlRequests(w)
	case "DELETE requests":
		s.mu.Lock()
		s.requests, s.oldest = nil, 0
		s.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	case "GET state":
		b, err := s.State()
		if err != nil {
			controlError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
			return
		}
		writeJSON(w, http.StatusOK, b)
	case "PUT state":
		b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody))
		if err == nil {
			err = s.LoadState(b)
		}
		if err != nil {
			controlError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case "POST reset":
		if err := s.Reset(); err != nil {
			controlError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
			return
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		switch path {
		case "health", "businesses", "clock", "faults", "payments", "requests", "state", "reset":
			controlError(w, http.StatusMethodNotAllowed, "METHOD_NOT_ALLOWED", r.Method+" is not allowed on "+r.URL.Path)
		default:
			controlError(w, http.StatusNotFound, "NOT_FOUND", "no control endpoint "+r.URL.Path)
		}
	}
}

// controlAllowed reports whether r may use the control API: loopback peers
// may; others need the control token as a bearer token.
func (s *Server) controlAllowed(r *http.Request) bool {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return true
		}
	}
	if s.cfg.control == "" {
		return false
	}
	scheme, tok, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return strings.EqualFold(scheme, "Bearer") && subtle.ConstantTimeCompare([]byte(strings.TrimSpace(tok)), []byte(s.cfg.control)) == 1
}

func controlJSON(w http.ResponseWriter, status int, v any) {
	b, err := marshalNoEscape(v)
	if err != nil {
		controlError(w, http.StatusInternalServerError, "INTERNAL_SERVER_ERROR", err.Error())
		return
	}
	writeJSON(w, status, b)
}

func controlError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := marshalNoEscape(map[string]string{"code": code, "message": msg})
	writeJSON(w, status, b)
}

// decodeControl reads a JSON object into v, refusing unknown fields.
func decodeControl(w http.ResponseWriter, r *http.Request, v any) bool {
	b, err := io.ReadAll(io.LimitReader(r.Body, maxControlBody))
	if err == nil && len(bytes.TrimSpace(b)) == 0 {
		b = []byte("{}")
	}
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		dec.UseNumber()
		err = dec.Decode(v)
	}
	if err != nil {
		controlError(w, http.StatusBadRequest, "INVALID_REQUEST", "body: "+err.Error())
		return false
	}
	return true
}

// BusinessRequest is the body of POST /_sandbox/businesses.
type BusinessRequest struct {
	// VRN is the business's VAT registration number; generated when empty.
	VRN string `json:"vrn,omitempty"`
	// Filing is "quarterly" (default), "monthly" or "annual": the pattern of
	// generated obligations. Ignored when Obligations is given.
	Filing string `json:"filing,omitempty"`
	// Fulfilled is the number of ended periods already fulfilled (Plan's
	// Fulfilled); with Open it defaults to 1 when neither is given.
	Fulfilled *int `json:"fulfilled,omitempty"`
	// Open is the number of ended periods still open (Plan's Open).
	Open *int `json:"open,omitempty"`
	// RegistrationDate is YYYY-MM-DD; generated when empty.
	RegistrationDate string `json:"registrationDate,omitempty"`
	// Obligations, when given, are the business's obligations verbatim.
	Obligations []ObligationJSON `json:"obligations,omitempty"`
	// DirectDebit is Organisation.DirectDebit.
	DirectDebit bool `json:"directDebit,omitempty"`
	// RepaymentBankAccount is Organisation.RepaymentBankAccount.
	RepaymentBankAccount bool `json:"repaymentBankAccount,omitempty"`
	// Insolvent is Organisation.Insolvent.
	Insolvent bool `json:"insolvent,omitempty"`
}

// ObligationJSON is an Obligation as the control API reads and writes it.
type ObligationJSON struct {
	// PeriodKey is four characters of [#0-9A-Z].
	PeriodKey string `json:"periodKey"`
	// Start is the period's first day, YYYY-MM-DD.
	Start string `json:"start"`
	// End is the period's last day, YYYY-MM-DD.
	End string `json:"end"`
	// Due is the due date, YYYY-MM-DD; it defaults as in Obligation.
	Due string `json:"due,omitempty"`
	// Received is the date the return was received; empty while open.
	Received string `json:"received,omitempty"`
}

// Business is a test business as the control API answers it: the VRN, the
// test user enrolled for it and an access token for the default application
// with read:vat and write:vat.
type Business struct {
	// VRN is the business's VAT registration number.
	VRN string `json:"vrn"`
	// UserID is the test user's ID, to sign in at /oauth/authorize.
	UserID string `json:"userId"`
	// Password is the test user's password.
	Password string `json:"password"`
	// AccessToken was issued to the default application.
	AccessToken string `json:"accessToken"`
	// RefreshToken refreshes AccessToken at /oauth/token (single use).
	RefreshToken string `json:"refreshToken"`
	// ExpiresAt is when AccessToken expires, on the server's clock.
	ExpiresAt time.Time `json:"expiresAt"`
	// Scope is "read:vat write:vat".
	Scope string `json:"scope"`
	// Obligations are the business's obligations, oldest first.
	Obligations []ObligationJSON `json:"obligations"`
}

// Organisation turns the request into an Organisation for
// [Server.CreateOrganisation], naming the field that is wrong.
func (b BusinessRequest) Organisation() (Organisation, error) {
	org := Organisation{VRN: b.VRN, RegistrationDate: b.RegistrationDate, DirectDebit: b.DirectDebit,
		RepaymentBankAccount: b.RepaymentBankAccount, Insolvent: b.Insolvent}
	if b.Obligations != nil {
		org.Obligations = []Obligation{}
		for _, o := range b.Obligations {
			org.Obligations = append(org.Obligations, Obligation(o))
		}
		return org, nil
	}
	p := Plan{Fulfilled: 1, Open: 1}
	if b.Fulfilled != nil || b.Open != nil {
		p = Plan{}
		if b.Fulfilled != nil {
			p.Fulfilled = *b.Fulfilled
		}
		if b.Open != nil {
			p.Open = *b.Open
		}
	}
	switch strings.ToLower(b.Filing) {
	case "", "quarterly":
		p.Period = Quarterly
	case "monthly":
		p.Period = Monthly
	case "annual", "annually", "yearly":
		p.Period = Annually
	default:
		return Organisation{}, fmt.Errorf("filing %q is not quarterly, monthly or annual", b.Filing)
	}
	org.Plan = &p
	return org, nil
}

// CreateBusiness creates a test business as POST /_sandbox/businesses does:
// an organisation, its user and a token with read:vat and write:vat.
func (s *Server) CreateBusiness(req BusinessRequest) (Business, error) {
	org, err := req.Organisation()
	if err != nil {
		return Business{}, fmt.Errorf("vattest: CreateBusiness: %w", err)
	}
	u, err := s.CreateOrganisation(org)
	if err != nil {
		return Business{}, err
	}
	tok, err := s.IssueToken(u.VRN)
	if err != nil {
		return Business{}, err
	}
	b := Business{VRN: u.VRN, UserID: u.UserID, Password: u.Password, AccessToken: tok.AccessToken,
		RefreshToken: tok.RefreshToken, ExpiresAt: tok.Expiry, Scope: tok.Scope, Obligations: []ObligationJSON{}}
	for _, o := range s.Obligations(u.VRN) {
		b.Obligations = append(b.Obligations, ObligationJSON(o))
	}
	return b, nil
}

func (s *Server) controlCreateBusiness(w http.ResponseWriter, r *http.Request) {
	var req BusinessRequest
	if !decodeControl(w, r, &req) {
		return
	}
	b, err := s.CreateBusiness(req)
	if err != nil {
		controlError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	controlJSON(w, http.StatusCreated, b)
}

type clockJSON struct {
	Now    string `json:"now"`
	Today  string `json:"today"`
	Frozen bool   `json:"frozen"`
}

func (s *Server) controlClock(w http.ResponseWriter) {
	s.mu.Lock()
	now, frozen := s.clock.now(), s.clock.frozen
	s.mu.Unlock()
	controlJSON(w, http.StatusOK, clockJSON{Now: now.Format(time.RFC3339Nano), Today: civil.Of(now).String(), Frozen: frozen})
}

// ClockRequest is the body of POST /_sandbox/clock. Set one of Now, Today,
// Advance or Days.
type ClockRequest struct {
	// Now stops the clock at this RFC 3339 time.
	Now string `json:"now,omitempty"`
	// Today stops the clock at noon UTC on this YYYY-MM-DD date.
	Today string `json:"today,omitempty"`
	// Advance moves the clock by a Go duration ("720h", "-1h30m").
	Advance string `json:"advance,omitempty"`
	// Days moves the clock by whole days.
	Days int `json:"days,omitempty"`
	// Run, with Now or Today, lets the clock run on from there instead of
	// stopping it.
	Run bool `json:"run,omitempty"`
}

func (s *Server) controlSetClock(w http.ResponseWriter, r *http.Request) {
	var req ClockRequest
	if !decodeControl(w, r, &req) {
		return
	}
	if err := s.setClock(req); err != nil {
		controlError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	s.controlClock(w)
}

func (s *Server) setClock(req ClockRequest) error {
	set := 0
	for _, b := range []bool{req.Now != "", req.Today != "", req.Advance != "", req.Days != 0} {
		if b {
			set++
		}
	}
	if set != 1 {
		return fmt.Errorf("give exactly one of now, today, advance and days (got %d)", set)
	}
	var at time.Time
	switch {
	case req.Now != "":
		t, err := time.Parse(time.RFC3339Nano, req.Now)
		if err != nil {
			return fmt.Errorf("now %q is not an RFC 3339 time", req.Now)
		}
		at = t
	case req.Today != "":
		t, err := time.Parse(time.DateOnly, req.Today)
		if err != nil {
			return fmt.Errorf("today %q is not a YYYY-MM-DD date", req.Today)
		}
		at = t.Add(12 * time.Hour)
	case req.Advance != "":
		d, err := time.ParseDuration(req.Advance)
		if err != nil {
			return fmt.Errorf("advance %q is not a duration such as 720h", req.Advance)
		}
		s.Advance(d)
		return nil
	default:
		s.Advance(time.Duration(req.Days) * 24 * time.Hour)
		return nil
	}
	if !req.Run {
		s.SetNow(at)
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.frozen = false
	s.clock.offset = at.Sub(s.clock.base())
	return nil
}

// FaultRequest is the body of POST /_sandbox/faults: a [Fault] in JSON.
type FaultRequest struct {
	// Method selects requests by method; "" matches any.
	Method string `json:"method,omitempty"`
	// Path selects requests by escaped path; "" matches any, a trailing *
	// makes it a prefix.
	Path string `json:"path,omitempty"`
	// Times is how many matching requests fail: 0 means 1, -1 every one.
	Times int `json:"times,omitempty"`
	// Delay is a Go duration waited before the action ("2s").
	Delay string `json:"delay,omitempty"`
	// Action is "respond" (default when status is set), "drop-before-body",
	// "drop-after-processing", "process-then-respond", or "" for a delay
	// alone.
	Action string `json:"action,omitempty"`
	// Status is the status code to answer.
	Status int `json:"status,omitempty"`
	// Body is the body to send; by default HMRC's body for Status.
	Body string `json:"body,omitempty"`
	// ContentType is the Content-Type sent; application/json by default.
	ContentType string `json:"contentType,omitempty"`
	// RetryAfter, if set, is sent as the Retry-After header.
	RetryAfter string `json:"retryAfter,omitempty"`
}

var faultActions = map[string]FaultAction{
	"": FaultAuto, "auto": FaultAuto, "respond": FaultRespond, "drop-before-body": FaultDropBeforeBody,
	"drop-after-processing": FaultDropAfterProcessing, "process-then-respond": FaultProcessThenRespond,
}

// Fault turns the request into a Fault, naming the field that is wrong.
func (f FaultRequest) Fault() (Fault, error) {
	a, ok := faultActions[f.Action]
	if !ok {
		return Fault{}, fmt.Errorf("action %q is not respond, drop-before-body, drop-after-processing or process-then-respond", f.Action)
	}
	out := Fault{Method: f.Method, Path: f.Path, Times: f.Times, Action: a, Status: f.Status, ContentType: f.ContentType, RetryAfter: f.RetryAfter}
	if f.Body != "" {
		out.Body = []byte(f.Body)
	}
	if f.Delay != "" {
		d, err := time.ParseDuration(f.Delay)
		if err != nil {
			return Fault{}, fmt.Errorf("delay %q is not a duration such as 2s", f.Delay)
		}
		out.Delay = d
	}
	return out, nil
}

func faultName(a FaultAction) string {
	for k, v := range faultActions {
		if v == a && k != "" && k != "auto" {
			return k
		}
	}
	return ""
}

func (s *Server) controlInjectFault(w http.ResponseWriter, r *http.Request) {
	var req FaultRequest
	if !decodeControl(w, r, &req) {
		return
	}
	f, err := req.Fault()
	if err == nil {
		err = s.InjectFault(f)
	}
	if err != nil {
		controlError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	s.controlListFaults(w, http.StatusCreated)
}

func (s *Server) controlListFaults(w http.ResponseWriter, status ...int) {
	type faultJSON struct {
		FaultRequest
		Left int `json:"left"`
	}
	s.mu.Lock()
	out := []faultJSON{}
	for _, f := range s.faults {
		fr := FaultRequest{Method: f.Method, Path: f.Path, Times: f.Times, Action: faultName(f.Action), Status: f.Status,
			Body: string(f.Body), ContentType: f.ContentType, RetryAfter: f.RetryAfter}
		if f.Delay > 0 {
			fr.Delay = f.Delay.String()
		}
		out = append(out, faultJSON{fr, f.left})
	}
	s.mu.Unlock()
	code := http.StatusOK
	if len(status) > 0 {
		code = status[0]
	}
	controlJSON(w, code, map[string]any{"faults": out})
}

// PaymentRequest is the body of POST /_sandbox/payments.
type PaymentRequest struct {
	// VRN is the business that paid.
	VRN string `json:"vrn"`
	// PeriodKey names the return whose liability is paid.
	PeriodKey string `json:"periodKey"`
	// Amount is in pounds with at most two decimals, a JSON number or string.
	Amount json.RawMessage `json:"amount"`
	// Received is YYYY-MM-DD; today on the server's clock when empty.
	Received string `json:"received,omitempty"`
}

func (s *Server) controlPayment(w http.ResponseWriter, r *http.Request) {
	var req PaymentRequest
	if !decodeControl(w, r, &req) {
		return
	}
	text := string(req.Amount)
	if unq, err := strconv.Unquote(text); err == nil {
		text = unq
	}
	d, err := decimal.Parse(text)
	pence, exact := d.Pence()
	if err != nil || !exact || d.Scale() > 2 {
		controlError(w, http.StatusBadRequest, "INVALID_REQUEST", fmt.Sprintf("amount %q is not pounds with at most two decimals", req.Amount))
		return
	}
	if req.Received == "" {
		s.mu.Lock()
		req.Received = s.todayLocked().String()
		s.mu.Unlock()
	}
	if err := s.RecordPayment(req.VRN, req.PeriodKey, pence, req.Received); err != nil {
		controlError(w, http.StatusBadRequest, "INVALID_REQUEST", err.Error())
		return
	}
	controlJSON(w, http.StatusCreated, map[string]any{"vrn": req.VRN, "periodKey": req.PeriodKey, "amount": json.RawMessage(decimal.FormatPence(pence)), "received": req.Received})
}

// RequestJSON is one request of GET /_sandbox/requests. Secrets are never
// in it: Authorization is not recorded, fraud prevention header values are
// replaced with "REDACTED", and so are the values of query parameters that
// carry passwords, codes, secrets or tokens.
type RequestJSON struct {
	// Time is on the server's clock.
	Time time.Time `json:"time"`
	// Method is the request's method.
	Method string `json:"method"`
	// Path is the request's escaped path.
	Path string `json:"path"`
	// Query is the request's query, secrets redacted.
	Query string `json:"query,omitempty"`
	// Headers are the recorded headers (Accept, Content-Type,
	// Gov-Test-Scenario, User-Agent).
	Headers http.Header `json:"headers,omitempty"`
	// FraudHeaders maps each fraud prevention header sent to "REDACTED".
	FraudHeaders map[string]string `json:"fraudHeaders,omitempty"`
	// ClientID is the application of the request's token, when valid.
	ClientID string `json:"clientId,omitempty"`
	// Status is the status answered; 0 when the connection was dropped.
	Status int `json:"status"`
}

// RedactedRequests returns [Server.Requests] as GET /_sandbox/requests
// answers them, secrets redacted.
func (s *Server) RedactedRequests() []RequestJSON {
	reqs := s.Requests()
	out := make([]RequestJSON, 0, len(reqs))
	for _, r := range reqs {
		j := RequestJSON{Time: r.Time, Method: r.Method, Path: r.Path, Query: r.RawQuery, Headers: r.Header, ClientID: r.ClientID, Status: r.Status}
		if len(j.Headers) == 0 {
			j.Headers = nil
		}
		if len(r.FraudHeaders) > 0 {
			j.FraudHeaders = map[string]string{}
			for k := range r.FraudHeaders {
				j.FraudHeaders[k] = "REDACTED"
			}
		}
		out = append(out, j)
	}
	return out
}

func (s *Server) controlRequests(w http.ResponseWriter) {
	controlJSON(w, http.StatusOK, map[string]any{"requests": s.RedactedRequests()})
}

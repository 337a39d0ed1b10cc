package vattest

import (
	"net/http"
	"net/url"
	"strings"
	"time"
)

type endpoint int

const (
	epNone endpoint = iota
	epObligations
	epSubmitReturn
	epViewReturn
	epLiabilities
	epPayments
	epPenalties
	epFinancialDetails
	epInformation
	epCreateOrganisation
	epCreateIndividual
	epCreateAgent
	epServices
	epFraudValidate
	epFraudFeedback
)

// route is a resource of an HMRC API as the platform's gateway sees it.
type route struct {
	ep     endpoint
	method string
	vat    bool   // VAT (MTD) API: user-restricted
	scope  int    // required scope bits for user-restricted routes
	key    string // "GET /organisations/vat/{vrn}/obligations", for fraud feedback
}

var (
	routeObligations  = route{epObligations, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/obligations"}
	routeSubmit       = route{epSubmitReturn, http.MethodPost, true, scopeWriteVAT, "POST /organisations/vat/{vrn}/returns"}
	routeView         = route{epViewReturn, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/returns/{periodKey}"}
	routeLiabilities  = route{epLiabilities, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/liabilities"}
	routePayments     = route{epPayments, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/payments"}
	routePenalties    = route{epPenalties, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/penalties"}
	routeFinancial    = route{epFinancialDetails, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/financial-details/{penaltyChargeReference}"}
	routeInformation  = route{epInformation, http.MethodGet, true, scopeReadVAT, "GET /organisations/vat/{vrn}/information"}
	routeCreateOrg    = route{ep: epCreateOrganisation, method: http.MethodPost}
	routeCreateInd    = route{ep: epCreateIndividual, method: http.MethodPost}
	routeCreateAgent  = route{ep: epCreateAgent, method: http.MethodPost}
	routeServices     = route{ep: epServices, method: http.MethodGet}
	routeFraudCheck   = route{ep: epFraudValidate, method: http.MethodGet}
	routeFraudResults = route{ep: epFraudFeedback, method: http.MethodGet}
)

// call carries one API request through the pipeline.
type call struct {
	w        http.ResponseWriter
	r        *http.Request
	route    route
	vrn      string // decoded path segments
	param    string
	tok      *token
	scenario string
	now      time.Time
}

const vatPrefix = "/organisations/vat/"

// matchRoute finds the resource for an escaped path; params are decoded.
func matchRoute(path string) (rt route, vrn, param string, ok bool) {
	switch path {
	case "/create-test-user/organisations":
		return routeCreateOrg, "", "", true
	case "/create-test-user/individuals":
		return routeCreateInd, "", "", true
	case "/create-test-user/agents":
		return routeCreateAgent, "", "", true
	case "/create-test-user/services":
		return routeServices, "", "", true
	case "/test/fraud-prevention-headers/validate":
		return routeFraudCheck, "", "", true
	}
	if rest, found := strings.CutPrefix(path, "/test/fraud-prevention-headers/"); found {
		api, tail, _ := strings.Cut(rest, "/")
		if tail == "validation-feedback" && api != "" {
			a, err := url.PathUnescape(api)
			return routeFraudResults, "", a, err == nil
		}
		return route{}, "", "", false
	}
	rest, found := strings.CutPrefix(path, vatPrefix)
	if !found {
		return route{}, "", "", false
	}
	if len(rest) > 1 && strings.HasSuffix(rest, "/") { // vat-api strips one trailing slash
		rest = rest[:len(rest)-1]
	}
	segs := strings.Split(rest, "/")
	for i, seg := range segs {
		d, err := url.PathUnescape(seg)
		if err != nil || d == "" {
			return route{}, "", "", false
		}
		segs[i] = d
	}
	switch {
	case len(segs) == 2:
		switch segs[1] {
		case "obligations":
			rt = routeObligations
		case "returns":
			rt = routeSubmit
		case "liabilities":
			rt = routeLiabilities
		case "payments":
			rt = routePayments
		case "penalties":
			rt = routePenalties
		case "information":
			rt = routeInformation
		default:
			return route{}, "", "", false
		}
		return rt, segs[0], "", true
	case len(segs) == 3 && segs[1] == "returns":
		return routeView, segs[0], segs[2], true
	case len(segs) == 3 && segs[1] == "financial-details":
		return routeFinancial, segs[0], segs[2], true
	}
	return route{}, "", "", false
}

// ServeHTTP answers one request. The server answers requests through its
// own listener; ServeHTTP is exported so that a Server can also be mounted
// in another mux.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.enter() {
		panic(http.ErrAbortHandler)
	}
	defer s.handlers.Done()
	if strings.HasPrefix(r.URL.Path, ControlPrefix) {
		s.control(w, r)
		return
	}
	sw := &statusWriter{ResponseWriter: w}
	rec := s.begin(r)
	w.Header()["Date"] = []string{rec.Time.Format(http.TimeFormat)} // the simulated clock's time
	defer s.finish(rec, sw)
	if f := s.takeFault(r); f != nil {
		s.applyFault(sw, r, f)
		return
	}
	s.serve(sw, r)
}

// serve routes a request that no fault intercepted.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	switch path := r.URL.EscapedPath(); path {
	case "/oauth/authorize":
		s.authorize(w, r)
	case "/oauth/token":
		s.tokenEndpoint(w, r)
	default:
		if strings.HasPrefix(path, checkVATPrefix) {
			s.checkVATNumber(w, r, path) // checkvat.go
			return
		}
		s.gateway(w, r, path)
	}
}

const acceptV1 = "application/vnd.hmrc.1.0+json"

// gateway applies the API platform's checks, in this order: method
// (405), Accept (406), resource (404), credentials (401), rate limit (429),
// token type (401), scope (403); then hands the request to the API.
func (s *Server) gateway(w http.ResponseWriter, r *http.Request, path string) {
	switch r.Method {
	case http.MethodGet, http.MethodPut, http.MethodPost, http.MethodPatch, http.MethodDelete, http.MethodOptions:
	default:
		writeJSON(w, http.StatusMethodNotAllowed, bodyMethodNotAllowed)
		return
	}
	if r.Header.Get("Accept") != acceptV1 {
		writeJSON(w, http.StatusNotAcceptable, bodyAcceptInvalid)
		return
	}
	rt, vrn, param, ok := matchRoute(path)
	if !ok || rt.method != r.Method || !s.routeEnabled(rt, param) {
		writeJSON(w, http.StatusNotFound, bodyMatchingResourceNotFound)
		return
	}
	c := &call{w: w, r: r, route: rt, vrn: vrn, param: param, scenario: r.Header.Get("Gov-Test-Scenario")}
	if !s.authenticate(c) {
		return
	}
	if rt.vat {
		s.noteFraudHeaders(c)
	}
	if rt.vat && s.cfg.enforce {
		if valid, body := s.cfg.validator(govHeaders(r.Header)); !valid {
			writeJSON(w, http.StatusBadRequest, body)
			return
		}
	}
	switch rt.ep {
	case epCreateOrganisation, epCreateIndividual, epCreateAgent, epServices:
		s.testUsers(c)
	case epFraudValidate, epFraudFeedback:
		s.fraudAPI(c)
	default:
		s.vatAPI(c)
	}
}

func (s *Server) routeEnabled(rt route, param string) bool {
	switch rt.ep {
	case epFraudValidate:
		return s.cfg.validator != nil
	case epFraudFeedback:
		return s.cfg.validator != nil && fraudAPIs[param]
	}
	return true
}

// authenticate checks the bearer token, the rate limit, the token type and
// the scope, answering the platform's error when one fails.
func (s *Server) authenticate(c *call) bool {
	auth := c.r.Header.Get("Authorization")
	if auth == "" {
		writeJSON(c.w, http.StatusUnauthorized, bodyMissingCredentials)
		return false
	}
	scheme, value, _ := strings.Cut(auth, " ")
	s.mu.Lock()
	c.now = s.clock.now()
	t, found := s.tokens[strings.TrimSpace(value)]
	if found && !c.now.Before(t.expiry) {
		delete(s.tokens, t.value) // expired for good, even if the clock is set back
	}
	if !strings.EqualFold(scheme, "Bearer") || !found || !c.now.Before(t.expiry) {
		s.mu.Unlock()
		writeJSON(c.w, http.StatusUnauthorized, bodyInvalidCredentials)
		return false
	}
	tok := *t
	c.tok = &tok
	allowed, retry := s.allowLocked(tok.clientID, c.now)
	s.mu.Unlock()
	if sw, ok := c.w.(*statusWriter); ok {
		sw.clientID = tok.clientID
	}
	if !allowed {
		if s.cfg.retryAfter {
			c.w.Header().Set("Retry-After", itoa(retry))
		}
		writeJSON(c.w, http.StatusTooManyRequests, bodyThrottled)
		return false
	}
	if c.route.vat {
		if tok.app {
			writeJSON(c.w, http.StatusUnauthorized, bodyIncorrectTokenType)
			return false
		}
		if tok.scopes&c.route.scope == 0 {
			writeJSON(c.w, http.StatusForbidden, bodyInvalidScope)
			return false
		}
	}
	return true
}

// govHeaders returns the Gov-* headers of h.
func govHeaders(h http.Header) http.Header {
	out := http.Header{}
	for k, v := range h {
		if len(k) > 4 && strings.EqualFold(k[:4], "Gov-") {
			out[k] = append([]string(nil), v...)
		}
	}
	return out
}

// statusWriter remembers the status code and the application of the request.
type statusWriter struct {
	http.ResponseWriter
	status   int
	clientID string
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

var recordedHeaders = []string{"Accept", "Content-Type", "Gov-Test-Scenario", "User-Agent"}

// begin starts the record of a request and counts submissions.
func (s *Server) begin(r *http.Request) *Request {
	rec := &Request{Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: redactQuery(r.URL.RawQuery), Header: http.Header{}}
	for _, k := range recordedHeaders {
		if v, ok := r.Header[k]; ok {
			rec.Header[k] = append([]string(nil), v...)
		}
	}
	for k, v := range r.Header {
		if len(k) > 4 && strings.EqualFold(k[:4], "Gov-") && !strings.EqualFold(k, "Gov-Test-Scenario") {
			if rec.FraudHeaders == nil {
				rec.FraudHeaders = FraudHeaders{}
			}
			rec.FraudHeaders[k] = append([]string(nil), v...)
		}
	}
	s.mu.Lock()
	rec.Time = s.clock.now()
	if r.Method == http.MethodPost {
		if rt, vrn, _, ok := matchRoute(rec.Path); ok && rt.ep == epSubmitReturn {
			n := s.counts[vrn]
			n.Received++
			s.counts[vrn] = n
		}
	}
	s.mu.Unlock()
	return rec
}

// finish completes the record with the outcome.
func (s *Server) finish(rec *Request, w *statusWriter) {
	rec.Status = w.status
	rec.ClientID = w.clientID
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.requests) < maxRecordedRequests {
		s.requests = append(s.requests, *rec)
		return
	}
	s.requests[s.oldest] = *rec // a ring once full
	s.oldest = (s.oldest + 1) % maxRecordedRequests
}

// secretParams are query parameters whose values are never recorded.
var secretParams = []string{"password", "client_secret", "code", "code_verifier", "refresh_token", "access_token"}

// redactQuery replaces the values of secret parameters with "REDACTED".
func redactQuery(raw string) string {
	if raw == "" {
		return raw
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return "REDACTED"
	}
	changed := false
	for _, k := range secretParams {
		if vs, ok := q[k]; ok {
			for i := range vs {
				vs[i] = "REDACTED"
			}
			changed = true
		}
	}
	if !changed {
		return raw
	}
	return q.Encode()
}

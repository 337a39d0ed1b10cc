package vat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/google/go-querystring/query"
	"golang.org/x/oauth2"
)

// The request pipeline: one path for every endpoint (see do).

// authKind says which token a request carries.
type authKind uint8

const (
	authUser authKind = iota // user-restricted: the VAT endpoints
	authApp                  // application-restricted: companion APIs
)

// request is one API call as endpoint methods describe it.
type request struct {
	op     string   // the method name, for errors and logs
	method string   // HTTP method
	path   []string // path segments after the base URL; each is escaped
	query  any      // encoded with go-querystring when non-nil
	body   any      // marshalled as JSON when non-nil
	auth   authKind
	accept string // Accept header; "" means VAT (MTD) 1.0
	want   int    // the documented success status; 0 means any 2xx
}

// response is what came back from HMRC.
type response struct {
	status   int
	header   http.Header
	body     []byte
	attempts int
	sent     http.Header // the request's headers, to keep their secrets out of errors
}

// get sends a GET and decodes a successful JSON body into out.
func (c *Client) get(ctx context.Context, r *request, out any, opts []CallOption) (*response, error) {
	r.method = http.MethodGet
	return c.do(ctx, r, out, opts)
}

// do is the one request pipeline: call options → URL → body → per attempt
// (headers → fraud headers → token → rate limiter → send → capped read) →
// error decoding → JSON decoding → response metadata.
func (c *Client) do(ctx context.Context, r *request, out any, opts []CallOption) (*response, error) {
	cc, err := c.callConfig(r, opts)
	if err != nil {
		return nil, err
	}
	target, path, err := c.url(r)
	if err != nil {
		return nil, err
	}
	var payload []byte
	if r.body != nil {
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, fmt.Errorf("vat: %s: encoding request body: %w", r.op, err)
		}
	}
	resp, sent, err := c.send(ctx, r, target, path, payload, &cc)
	if cc.meta != nil {
		*cc.meta = ResponseMeta{Attempts: sent}
		if resp != nil {
			*cc.meta = ResponseMeta{
				StatusCode:    resp.status,
				CorrelationID: resp.header.Get("X-CorrelationId"),
				Header:        resp.header,
				Attempts:      resp.attempts,
			}
		}
	}
	if err != nil {
		return resp, err
	}
	if !r.success(resp.status) {
		return resp, c.statusError(r, path, resp)
	}
	if out != nil {
		if err := json.Unmarshal(resp.body, out); err != nil {
			return resp, &DecodeError{StatusCode: resp.status, CorrelationID: resp.header.Get("X-CorrelationId"), Method: r.method, Path: path,
				Err: redactErr(err, secretsOf(resp.sent))}
		}
	}
	return resp, nil
}

// success reports whether status is r's documented success: r.want, or
// any 2xx when r has none. Anything else (a redirect not followed, a 2xx
// other than the documented one, an error status) is an *APIError.
func (r *request) success(status int) bool {
	if r.want != 0 {
		return status == r.want
	}
	return status >= 200 && status <= 299
}

func (c *Client) callConfig(r *request, opts []CallOption) (callConfig, error) {
	var cc callConfig
	for _, o := range opts {
		if o == nil {
			return cc, fmt.Errorf("vat: %s: nil CallOption", r.op)
		}
		if err := o(&cc); err != nil {
			return cc, err
		}
	}
	if cc.scenario != "" && c.cfg.env == Production {
		return cc, fmt.Errorf("vat: %s: WithTestScenario: Gov-Test-Scenario exists only in HMRC's sandbox, and this client is for production", r.op)
	}
	if cc.scenarioFor != "" && cc.scenarioFor != r.op {
		return cc, fmt.Errorf("vat: %s: WithTestScenario: %s is a scenario of %s, not of %s", r.op, cc.scenario, cc.scenarioFor, r.op)
	}
	return cc, nil
}

// url joins the base URL, the escaped path segments and the query. It
// returns the absolute URL and its path (for errors and logs). Queries that
// write themselves (queryAppender) are encoded without reflection; any
// other is encoded from its `url` tags by go-querystring.
func (c *Client) url(r *request) (target, path string, err error) {
	b := make([]byte, 0, len(c.cfg.base)+96)
	b = append(b, c.cfg.base...)
	for i, seg := range r.path {
		if seg == "" || seg == "." || seg == ".." {
			return "", "", fmt.Errorf("vat: %s: empty or relative path segment", r.op)
		}
		if i > 0 {
			b = append(b, '/')
		}
		b = append(b, url.PathEscape(seg)...)
	}
	pathEnd := len(b)
	switch q := r.query.(type) {
	case nil:
	case queryAppender:
		if b = q.appendQuery(b); len(b) > pathEnd {
			b[pathEnd] = '?' // the first parameter's '&'
		}
	default:
		v, err := query.Values(q)
		if err != nil {
			return "", "", fmt.Errorf("vat: %s: encoding query: %w", r.op, err)
		}
		if len(v) > 0 {
			b = append(b, '?')
			b = append(b, v.Encode()...)
		}
	}
	target = string(b)
	path = c.cfg.basePath + target[len(c.cfg.base):pathEnd]
	return target, path, nil
}

// send runs the attempts of one call, and returns the last response (nil
// when none arrived), the number of times the request was sent, and the
// error of the last attempt. A 401 INVALID_CREDENTIALS from a refreshable
// token source is answered by one refresh and one replay: HMRC did not
// process a request it refused to authenticate. When the context ends
// during a wait between attempts (or would end before the next attempt),
// the error is a *retryCanceledError holding both the last failure and the
// context's error.
func (c *Client) send(ctx context.Context, r *request, target, path string, payload []byte, cc *callConfig) (*response, int, error) {
	replayed := false
	for attempt := 1; ; attempt++ {
		o := c.attempt(ctx, r, target, path, payload, cc, attempt)
		resp, err := o.resp, o.err
		if resp != nil {
			resp.attempts = attempt
		}
		if o.local {
			return resp, attempt - 1, err
		}
		if te, ok := err.(*TransportError); ok {
			te.Attempts = attempt
		}
		if err == nil && resp.status == http.StatusUnauthorized && !replayed {
			if rts, ok := c.source(r.auth).(RefreshingTokenSource); ok && isCodeInBody(resp, "INVALID_CREDENTIALS") {
				replayed = true
				if _, err := rts.RefreshToken(ctx, o.tok); err != nil {
					return resp, attempt, fmt.Errorf("vat: %s %s: access token refused by HMRC and could not be refreshed: %w", r.method, path, err)
				}
				continue
			}
		}
		if attempt < c.cfg.retry.MaxAttempts && shouldRetry(r, resp, err) {
			var retryAfter time.Duration
			if resp != nil {
				retryAfter = parseRetryAfter(resp.header.Get("Retry-After"), c.cfg.now())
			}
			stop := c.wait(ctx, c.cfg.retry.backoff(attempt, retryAfter))
			if stop == nil {
				continue
			}
			if err == nil {
				// A response to retry (429, 5xx) that is not yet an error.
				err = c.statusError(r, path, resp)
			}
			if !errors.Is(err, stop) { // a failure the context caused already says so
				err = &retryCanceledError{Err: err, Cause: stop}
			}
		}
		return resp, attempt, err
	}
}

// statusError is the *APIError of a response whose status is not r's
// success.
func (c *Client) statusError(r *request, path string, resp *response) *APIError {
	e := newAPIError(r.method, path, resp.status, resp.header, resp.body, c.cfg.now())
	e.Attempts = resp.attempts
	e.redact(secretsOf(resp.sent))
	return e
}

// outcome is the result of one attempt.
type outcome struct {
	resp  *response     // nil when no response arrived
	tok   *oauth2.Token // the token sent
	err   error
	local bool // err happened before sending: not worth a retry
}

// isCodeInBody reports whether an error response carries code.
func isCodeInBody(resp *response, code string) bool {
	var eb errorBody
	return json.Unmarshal(resp.body, &eb) == nil && eb.Code == code
}

// attempt sends the request once, after the limiter allows it, and reads
// the whole response body through the size cap, so that the connection can
// be reused.
func (c *Client) attempt(ctx context.Context, r *request, target, path string, payload []byte, cc *callConfig, n int) outcome {
	var body io.Reader
	if payload != nil {
		body = bytes.NewReader(payload)
	}
	lctx := ctx // the limiter's view of the call
	if cc.bulk {
		lctx = context.WithValue(ctx, bulkKey{}, true)
	}
	// One trace serves both watchers: whether writing a submission failed
	// (it cannot then have reached HMRC whole), and, for a limiter that
	// observes, when the request really left.
	var trace *httptrace.ClientTrace
	var ww *writeWatch
	if r.method != http.MethodGet {
		ww = &writeWatch{}
		ww.trace.WroteRequest = ww.wrote
		trace = &ww.trace
	}
	obs, _ := c.cfg.limiter.(LimiterObserver)
	var reportSent func()
	if obs != nil {
		// The limiter learns when the request really left: when its headers
		// were written, or at the latest when the exchange ended.
		var once atomic.Bool
		reportSent = func() {
			if once.CompareAndSwap(false, true) {
				obs.Sent(lctx, time.Now())
			}
		}
		if trace == nil {
			trace = &httptrace.ClientTrace{}
		}
		trace.WroteHeaders = reportSent
	}
	reqCtx := ctx
	if trace != nil {
		reqCtx = httptrace.WithClientTrace(ctx, trace)
	}
	req, err := http.NewRequestWithContext(reqCtx, r.method, target, body)
	if err != nil {
		return outcome{err: fmt.Errorf("vat: %s: %w", r.op, err), local: true}
	}
	h := req.Header
	if cc.fraud != nil || c.cfg.fraud != nil {
		// Room for every header, so that the map is not grown three times.
		h = make(http.Header, 5+numFraudHeaders)
		req.Header = h
	}
	accept := r.accept
	if accept == "" {
		accept = acceptV1
	}
	h.Set("Accept", accept)
	h.Set("User-Agent", c.cfg.userAgent)
	if payload != nil {
		h.Set("Content-Type", "application/json")
	}
	if cc.scenario != "" {
		h.Set("Gov-Test-Scenario", cc.scenario)
	}
	if err := c.fraudHeaders(ctx, r, h, cc); err != nil {
		return outcome{err: err, local: true}
	}
	tok, err := c.token(ctx, r)
	if err != nil {
		return outcome{err: err, local: true}
	}
	tok.SetAuthHeader(req)
	if err := c.cfg.limiter.Wait(lctx); err != nil {
		return outcome{err: fmt.Errorf("vat: %s %s: waiting for the rate limiter: %w", r.method, path, err), local: true}
	}

	start := c.cfg.now()
	res, err := c.cfg.hc.Do(req)
	if obs != nil {
		reportSent()
		if err == nil && res.StatusCode == http.StatusTooManyRequests {
			obs.Throttled(lctx, parseRetryAfter(res.Header.Get("Retry-After"), c.cfg.now()))
		}
	}
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		c.log(ctx, r, path, 0, nil, n, start, err)
		return outcome{tok: tok, err: &TransportError{Method: r.method, Path: path, Attempts: n, Err: err, unwritten: ww != nil && ww.failed.Load()}}
	}
	defer res.Body.Close()
	data, readErr := readBody(res.Body)
	resp := &response{status: res.StatusCode, header: res.Header, body: data, attempts: n, sent: h}
	c.log(ctx, r, path, res.StatusCode, res.Header, n, start, readErr)
	if readErr != nil {
		// Whatever the status, a body not read whole is never decoded.
		return outcome{resp: resp, tok: tok, err: &DecodeError{StatusCode: res.StatusCode, CorrelationID: res.Header.Get("X-CorrelationId"), Method: r.method, Path: path,
			Err: redactErr(readErr, secretsOf(h))}}
	}
	return outcome{resp: resp, tok: tok}
}

// writeWatch learns whether writing a request failed: such a request cannot
// have reached HMRC whole. Only a reported write error counts: a request
// whose writing was not reported (yet) may have reached HMRC.
type writeWatch struct {
	trace  httptrace.ClientTrace
	failed atomic.Bool
}

func (w *writeWatch) wrote(i httptrace.WroteRequestInfo) {
	if i.Err != nil {
		w.failed.Store(true)
	}
}

// secretsOf lists what a request carried that must never appear in an
// error: the access token and every fraud prevention header value, whole
// and in its percent-decoded parts. Short parts (under 6 bytes) are left
// out: they cannot identify anyone and would mangle messages.
func secretsOf(h http.Header) []string {
	var out []string
	add := func(s string) {
		if len(s) >= 6 {
			out = append(out, s)
		}
	}
	if auth := h.Get("Authorization"); auth != "" {
		add(auth)
		if _, tok, ok := strings.Cut(auth, " "); ok {
			add(tok)
		}
	}
	for name, vals := range h {
		if !strings.HasPrefix(name, "Gov-Client-") && !strings.HasPrefix(name, "Gov-Vendor-") {
			continue
		}
		for _, v := range vals {
			add(v)
			for _, part := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == '&' || r == '=' }) {
				add(part)
				if dec, err := url.PathUnescape(part); err == nil && dec != part {
					add(dec)
				}
			}
		}
	}
	return out
}

// redactErr returns err, or, when its text quotes a secret, an error with
// the same text less the secrets that errors.Is and errors.As see through.
func redactErr(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	if msg := err.Error(); redact(msg, secrets) != msg {
		return &redactedError{msg: redact(msg, secrets), err: err}
	}
	return err
}

// readBody reads r to EOF through the size cap.
func readBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxResponseBody+1))
	if err != nil {
		return data, err
	}
	if len(data) > maxResponseBody {
		return data[:maxResponseBody], ErrResponseTooLarge
	}
	return data, nil
}

// source returns the token source for an auth kind.
func (c *Client) source(k authKind) oauth2.TokenSource {
	if k == authApp {
		return c.cfg.appTokens
	}
	return c.cfg.tokens
}

// token gets an access token for r, passing ctx to sources that take one.
func (c *Client) token(ctx context.Context, r *request) (*oauth2.Token, error) {
	src := c.source(r.auth)
	if src == nil {
		if r.auth == authApp {
			return nil, fmt.Errorf("vat: %s: no application token source: use WithApplicationTokenSource", r.op)
		}
		return nil, fmt.Errorf("vat: %s: no token source: use WithTokenSource", r.op)
	}
	var tok *oauth2.Token
	var err error
	if cts, ok := src.(ContextTokenSource); ok {
		tok, err = cts.TokenContext(ctx)
	} else {
		tok, err = src.Token()
	}
	if err != nil {
		return nil, fmt.Errorf("vat: %s: getting an access token: %w", r.op, err)
	}
	if tok == nil || tok.AccessToken == "" {
		return nil, fmt.Errorf("vat: %s: the token source returned no access token", r.op)
	}
	if !validHeaderValue(tok.AccessToken) {
		return nil, fmt.Errorf("vat: %s: the access token contains characters not allowed in a header", r.op)
	}
	return tok, nil
}

// log writes one Debug record per exchange; never headers or bodies. h is
// the response's header, nil when no response arrived.
func (c *Client) log(ctx context.Context, r *request, path string, status int, h http.Header, attempt int, start time.Time, err error) {
	l := c.cfg.logger
	if l == nil || !l.Enabled(ctx, slog.LevelDebug) {
		return
	}
	attrs := []slog.Attr{
		slog.String("op", r.op),
		slog.String("method", r.method),
		slog.String("path", path),
		slog.Int("attempt", attempt),
		slog.Duration("elapsed", c.cfg.now().Sub(start)),
	}
	if status != 0 {
		attrs = append(attrs, slog.Int("status", status))
	}
	if corr := h.Get("X-CorrelationId"); corr != "" {
		attrs = append(attrs, slog.String("correlation_id", corr))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", err.Error()))
	}
	l.LogAttrs(ctx, slog.LevelDebug, "vat: HMRC exchange", attrs...)
}

// validHeaderValue reports whether s is printable ASCII (with spaces), so it
// cannot split or smuggle headers.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}
	return true
}

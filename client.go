package vat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/internal/wait"
	"golang.org/x/oauth2"
)

// Version is this package's version, sent in the User-Agent header.
const Version = "0.4.0"

// acceptV1 is the Accept header of HMRC's VAT (MTD) API version 1.0.
const acceptV1 = "application/vnd.hmrc.1.0+json"

// maxResponseBody caps how much of a response body the Client reads. HMRC's
// largest documented body (penalties) is a few kilobytes.
const maxResponseBody = 1 << 20

// ErrResponseTooLarge reports a response body over the 1 MiB the Client
// reads; it is wrapped in a *DecodeError.
var ErrResponseTooLarge = errors.New("vat: response body exceeds 1 MiB")

// Client calls HMRC's VAT (MTD) API. Create one with NewClient and share it:
// it is safe for concurrent use and reuses connections. Every endpoint method
// takes a context first, validates its input before sending anything (a
// *ValidationError names each bad field), and returns HMRC's errors as
// *APIError, which errors.Is matches against the Err… sentinels.
type Client struct {
	cfg config
}

// config is what Options set; it does not change after NewClient.
type config struct {
	env       Environment
	base      string // absolute URL ending in "/"
	basePath  string // its path, ending in "/"
	hc        *http.Client
	tokens    oauth2.TokenSource
	appTokens oauth2.TokenSource
	userAgent string
	logger    *slog.Logger
	now       func() time.Time
	retry     RetryPolicy
	settle    settlePolicy // from retry
	limiter   Limiter
	sleep     func(context.Context, time.Duration) error
	fraud     fraud.Source
	// fraudPerCall says every call brings its own fraud prevention headers
	// (WithPerCallFraudHeaders).
	fraudPerCall bool
	// plainHTTP allows a plain http base URL for any host in the sandbox
	// environment (WithPlainHTTP).
	plainHTTP bool
}

// Option configures a Client. Options check their arguments: NewClient
// returns the first option's error instead of building a Client that would
// fail later.
type Option func(*config) error

// NewClient returns a Client for HMRC's Sandbox unless options say otherwise.
// It refuses a set-up on which every call would fail: no token source at all
// (WithTokenSource for the VAT endpoints, or WithApplicationTokenSource for
// the companion APIs), or Production without fraud prevention headers
// (WithFraudHeaders or WithPerCallFraudHeaders; the error matches
// fraud.ErrNoHeaders).
func NewClient(opts ...Option) (*Client, error) {
	cfg := config{
		env:       Sandbox,
		hc:        &http.Client{Timeout: 60 * time.Second},
		userAgent: "go-mtd-vat/" + Version,
		now:       time.Now,
		retry:     DefaultRetryPolicy(),
		settle:    settlePolicyOf(DefaultRetryPolicy()),
		limiter:   NewApplicationLimiter(),
		sleep:     wait.Sleep,
	}
	baseSet := false
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("vat: NewClient: nil Option")
		}
		prev := cfg.base
		if err := o(&cfg); err != nil {
			return nil, err
		}
		baseSet = baseSet || cfg.base != prev
	}
	if !baseSet {
		if err := cfg.setBase(cfg.env.APIBaseURL()); err != nil {
			return nil, err
		}
	}
	if err := cfg.check(); err != nil {
		return nil, err
	}
	cfg.hc.CheckRedirect = redirectPolicy(cfg.hc.CheckRedirect) // on the Client's own copy
	return &Client{cfg: cfg}, nil
}

// check refuses a configuration on which every call would fail, or that
// would send requests where they must not go.
func (c *config) check() error {
	switch {
	case c.tokens == nil && c.appTokens == nil:
		return errors.New("vat: NewClient: no token source: use WithTokenSource (user-restricted tokens, for the VAT endpoints) or WithApplicationTokenSource (for Create Test User and Test Fraud Prevention Headers)")
	case c.env == Production && c.fraud == nil && !c.fraudPerCall:
		return fmt.Errorf("vat: NewClient: %w: HMRC requires them on every call in production; configure a source with WithFraudHeaders, or WithPerCallFraudHeaders when each call brings its own", fraud.ErrNoHeaders)
	}
	u, err := url.Parse(c.base)
	if err != nil {
		return fmt.Errorf("vat: WithBaseURL: %w", err)
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		if !c.plainHTTP {
			return fmt.Errorf("vat: WithBaseURL: plain http is allowed only for loopback hosts, not %q, unless WithPlainHTTP allows it for a sandbox simulator", u.Hostname())
		}
		if c.env != Sandbox {
			return fmt.Errorf("vat: WithPlainHTTP: plain http to %q is allowed only in the sandbox environment", u.Hostname())
		}
	}
	return nil
}

// WithPlainHTTP allows a base URL with plain http to a host that is not a
// loopback address, for a simulator reached over a network (for example
// vat-sandbox in a container: WithBaseURL("http://vat-sandbox:8080")). It
// is refused in the Production environment: nothing is ever sent to HMRC
// without TLS.
func WithPlainHTTP() Option {
	return func(c *config) error {
		c.plainHTTP = true
		return nil
	}
}

// maxRedirects is how many redirects a read follows, as net/http does.
const maxRedirects = 10

// redirectPolicy wraps the CheckRedirect of the Client's copy of the
// *http.Client. A request other than GET or HEAD is never redirected: its
// 3xx answer comes back to the pipeline, which reports it (a submission
// redirected to a maintenance page is settled by reading back, never taken
// for HMRC's acceptance, and never re-sent elsewhere by a 307 or 308). A
// read follows at most 10 redirects, and only on the scheme and host it was
// sent to (HMRC may move an endpoint with a redirect), so that its fraud
// prevention headers and token never go to another host; a redirect
// elsewhere is returned as an *APIError. Within those rules, the caller's
// own CheckRedirect, if any, still decides.
func redirectPolicy(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0]
		if (first.Method != http.MethodGet && first.Method != http.MethodHead) ||
			req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// WithEnvironment selects HMRC's Sandbox or Production. The default is
// Sandbox. It also sets the base URL unless WithBaseURL is given.
func WithEnvironment(env Environment) Option {
	return func(c *config) error {
		if !env.Valid() {
			return fmt.Errorf("vat: WithEnvironment: unknown environment %d", int(env))
		}
		c.env = env
		return nil
	}
}

// WithBaseURL sends requests to base instead of the environment's HMRC host,
// for example to a vattest server or a proxy. base must be an absolute https
// URL, or http for a loopback host (localhost, 127.0.0.0/8, ::1); it may have
// a path prefix, and must not have a query or fragment. WithEnvironment still
// decides environment rules such as Gov-Test-Scenario being sandbox-only.
func WithBaseURL(base string) Option {
	return func(c *config) error { return c.setBase(base) }
}

func (c *config) setBase(base string) error {
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("vat: WithBaseURL: %w", err)
	}
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("vat: WithBaseURL: scheme %q is not https", u.Scheme)
	case u.Host == "":
		return errors.New("vat: WithBaseURL: no host")
	case u.User != nil:
		return errors.New("vat: WithBaseURL: credentials in the URL are not allowed")
	case u.RawQuery != "" || u.Fragment != "" || u.ForceQuery:
		return errors.New("vat: WithBaseURL: a base URL cannot have a query or fragment")
	}
	if !strings.HasSuffix(u.Path, "/") {
		u.Path += "/"
		if u.RawPath != "" {
			u.RawPath += "/"
		}
	}
	c.base = u.String()
	c.basePath = u.EscapedPath()
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithHTTPClient sets the *http.Client used to send requests. The Client
// keeps a copy and never changes the original. The default has a 60-second
// timeout. The copy's redirect policy is narrowed: only GET and HEAD
// requests follow redirects, at most 10, and only on the host they were
// sent to; any other 3xx is returned as an *APIError. hc's CheckRedirect, if
// set, is consulted for the redirects that remain.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *config) error {
		if hc == nil {
			return errors.New("vat: WithHTTPClient: nil *http.Client")
		}
		cp := *hc
		c.hc = &cp
		return nil
	}
}

// WithTokenSource sets the source of user-restricted access tokens (the
// authorization-code grant, scopes read:vat and write:vat) sent to the VAT
// endpoints. A source that implements ContextTokenSource gets each request's
// context; one that implements RefreshingTokenSource is asked to refresh when
// HMRC answers 401 INVALID_CREDENTIALS, and the request is replayed once.
func WithTokenSource(ts oauth2.TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return errors.New("vat: WithTokenSource: nil token source")
		}
		if _, ok := ts.(applicationRestricted); ok {
			return errors.New("vat: WithTokenSource: this source issues application-restricted tokens, which HMRC refuses on VAT endpoints (INCORRECT_ACCESS_TOKEN_TYPE); use it with WithApplicationTokenSource")
		}
		c.tokens = ts
		return nil
	}
}

// WithApplicationTokenSource sets the source of application-restricted
// access tokens (the client_credentials grant) used by HMRC's companion APIs:
// Create Test User and Test Fraud Prevention Headers.
func WithApplicationTokenSource(ts oauth2.TokenSource) Option {
	return func(c *config) error {
		if ts == nil {
			return errors.New("vat: WithApplicationTokenSource: nil token source")
		}
		c.appTokens = ts
		return nil
	}
}

// WithUserAgent names the software making the calls. It is sent as the
// User-Agent header, followed by this package's own name and version.
func WithUserAgent(ua string) Option {
	return func(c *config) error {
		ua = strings.TrimSpace(ua)
		if ua == "" {
			return errors.New("vat: WithUserAgent: empty user agent")
		}
		if !validHeaderValue(ua) || len(ua) > 256 {
			return errors.New("vat: WithUserAgent: user agent must be printable ASCII of at most 256 bytes")
		}
		c.userAgent = ua + " go-mtd-vat/" + Version
		return nil
	}
}

// WithLogger logs one Debug record per HTTP exchange (method, path, status,
// correlation ID, attempt, duration) to l. Headers, tokens and bodies are
// never logged. By default nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("vat: WithLogger: nil logger")
		}
		c.logger = l
		return nil
	}
}

// WithClock sets the clock used for "today" in local date checks (for
// example that a liabilities range does not end in the future) and for
// Retry-After dates. It is for tests; the default is time.Now.
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("vat: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// Environment returns the HMRC environment the Client was configured for.
func (c *Client) Environment() Environment { return c.cfg.env }

// BaseURL returns the URL requests are sent under, ending in "/".
func (c *Client) BaseURL() string { return c.cfg.base }

// today is the latest date it can be in the UK now (UTC or UTC+1), so that
// date checks never refuse a range HMRC's service would accept.
func (c *Client) today() Date { return DateOf(c.cfg.now().UTC().Add(time.Hour)) }

// CallOption configures one call.
type CallOption func(*callConfig) error

type callConfig struct {
	scenario    string
	scenarioFor string // the endpoint a typed scenario belongs to
	meta        *ResponseMeta
	resubmit    bool
	fraud       fraud.Source
	bulk        bool // WithBulk
}

// WithTestScenario sends the Gov-Test-Scenario header, which makes HMRC's
// sandbox answer with a documented scenario. Pass one of the typed
// constants of the endpoint called (ObligationsQuarterlyOneMet,
// SubmitReturnDuplicateSubmission, …): a constant of another endpoint is
// refused before sending. Any plain string is accepted too, so that
// scenarios HMRC adds later can be used. It is an error on a Client for
// Production, where the header means nothing.
func WithTestScenario[S ~string](scenario S) CallOption {
	return func(cc *callConfig) error {
		s := string(scenario)
		if s == "" || len(s) > 100 || !validHeaderValue(s) {
			return fmt.Errorf("vat: WithTestScenario: %q is not a scenario name", truncate(s, 40))
		}
		cc.scenario, cc.scenarioFor = s, ""
		if t, ok := any(scenario).(interface{ scenarioFor() string }); ok {
			cc.scenarioFor = t.scenarioFor()
		}
		return nil
	}
}

// ResponseMeta receives details of the final HTTP response of a call, see
// WithResponseMeta.
type ResponseMeta struct {
	// StatusCode is the HTTP status of the final response.
	StatusCode int
	// CorrelationID is HMRC's X-CorrelationId header.
	CorrelationID string
	// Header is the final response's header.
	Header http.Header
	// Attempts is the number of times the request was sent.
	Attempts int
}

// WithResponseMeta fills m with the status, correlation ID, headers and
// attempt count of the call's final response, whether the call succeeds or
// fails. When no response was received, only Attempts is set (0 when nothing
// was sent).
func WithResponseMeta(m *ResponseMeta) CallOption {
	return func(cc *callConfig) error {
		if m == nil {
			return errors.New("vat: WithResponseMeta: nil *ResponseMeta")
		}
		cc.meta = m
		return nil
	}
}

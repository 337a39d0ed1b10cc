package vattest

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-mtd/vat/fraud"
)

// An Option configures a Server. Options check their arguments: [New]
// returns the first problem as an error, [NewServer] panics with it and
// [NewTestServer] fails the test.
type Option func(*config) error

type config struct {
	addr       string
	now        func() time.Time
	rate       int
	retryAfter bool
	apps       []Application
	orgs       []Organisation
	validator  FraudHeaderValidator
	enforce    bool
	bound      bool
	control    string
	seed       *uint64
}

func defaultConfig() config {
	return config{addr: "127.0.0.1:0", now: time.Now, rate: 3, validator: HMRCFraudHeaderValidator}
}

// WithAddr makes the server listen on addr ("host:port") instead of a free
// loopback port. cmd/vat-sandbox uses it.
func WithAddr(addr string) Option {
	return func(c *config) error {
		if _, _, err := net.SplitHostPort(addr); err != nil {
			return fmt.Errorf("vattest: WithAddr: %w", err)
		}
		c.addr = addr
		return nil
	}
}

// WithClock makes now the server's clock. It decides "today" (the end of a
// period, the newest allowed 'to' date, the date a return is received),
// token and authorization-code expiry, and the rate limiter's window.
// The server reads it in UTC. See also [Server.SetNow] and [Server.Advance].
func WithClock(now func() time.Time) Option {
	return func(c *config) error {
		if now == nil {
			return errors.New("vattest: WithClock: nil clock")
		}
		c.now = now
		return nil
	}
}

// WithRateLimit sets how many requests per second each application may make
// (HMRC's standard limit, and the default, is 3). The limit is a sliding
// one-second window on the server's clock, keyed by the application behind
// the access token; the request over the limit gets 429 MESSAGE_THROTTLED_OUT.
// 0 disables the limit.
func WithRateLimit(perSecond int) Option {
	return func(c *config) error {
		if perSecond < 0 {
			return fmt.Errorf("vattest: WithRateLimit: negative limit %d", perSecond)
		}
		c.rate = perSecond
		return nil
	}
}

// WithThrottleRetryAfter adds a Retry-After header (whole seconds until the
// window has room) to 429 answers. HMRC's documentation does not say it sends
// one, so it is off by default.
func WithThrottleRetryAfter() Option {
	return func(c *config) error {
		c.retryAfter = true
		return nil
	}
}

// WithApplication registers an application besides the default one. Redirect
// URIs follow HMRC's rules: at most five; https, or http://localhost with an
// optional port, or urn:ietf:wg:oauth:2.0:oob[:auto]; no IP address, no
// fragment.
func WithApplication(clientID, clientSecret string, redirectURIs ...string) Option {
	return func(c *config) error {
		app := Application{ClientID: clientID, ClientSecret: clientSecret, RedirectURIs: append([]string(nil), redirectURIs...)}
		if err := validateApplication(app); err != nil {
			return fmt.Errorf("vattest: WithApplication: %w", err)
		}
		for _, a := range c.apps {
			if a.ClientID == clientID {
				return fmt.Errorf("vattest: WithApplication: client ID %q registered twice", clientID)
			}
		}
		c.apps = append(c.apps, app)
		return nil
	}
}

func validateApplication(app Application) error {
	if app.ClientID == "" || strings.ContainsAny(app.ClientID, " \t\r\n&=+%") {
		return fmt.Errorf("client ID %q is empty or has characters a form would mangle", app.ClientID)
	}
	if app.ClientSecret == "" || strings.ContainsAny(app.ClientSecret, " \t\r\n") {
		return errors.New("client secret is empty or has white space")
	}
	if len(app.RedirectURIs) > 5 {
		return fmt.Errorf("%d redirect URIs: HMRC allows at most 5", len(app.RedirectURIs))
	}
	for _, u := range app.RedirectURIs {
		if err := validateRedirectURI(u); err != nil {
			return fmt.Errorf("redirect URI %q: %w", u, err)
		}
	}
	return nil
}

func validateRedirectURI(raw string) error {
	if raw == oob || raw == oobAuto {
		return nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return err
	}
	if u.Fragment != "" || strings.Contains(raw, "#") {
		return errors.New("has a fragment")
	}
	host := u.Hostname()
	switch {
	case u.Scheme == "http" && host == "localhost":
	case u.Scheme == "https" && host != "":
		if net.ParseIP(host) != nil {
			return errors.New("uses an IP address")
		}
	default:
		return errors.New("must be https, http://localhost or urn:ietf:wg:oauth:2.0:oob")
	}
	return nil
}

// WithOrganisation seeds an organisation when the server starts; org.VRN is
// required. Its obligations are generated from the clock at that moment.
// Use [Server.IssueToken] with the VRN to call the API as its user.
func WithOrganisation(org Organisation) Option {
	return func(c *config) error {
		if org.VRN == "" {
			return errors.New("vattest: WithOrganisation: empty VRN")
		}
		if err := checkOrganisation(org); err != nil {
			return fmt.Errorf("vattest: WithOrganisation: %w", err)
		}
		for _, o := range c.orgs {
			if o.VRN == org.VRN {
				return fmt.Errorf("vattest: WithOrganisation: VRN %s seeded twice", org.VRN)
			}
		}
		c.orgs = append(c.orgs, org)
		return nil
	}
}

// A FraudHeaderValidator checks the fraud prevention headers of one request.
// It receives the request's Gov-* headers and returns whether they are valid
// and a JSON object describing the result, in the shape of HMRC's Test Fraud
// Prevention Headers API (specVersion, code, message, errors, warnings).
type FraudHeaderValidator func(h http.Header) (valid bool, body []byte)

// WithFraudHeaderValidator enables HMRC's Test Fraud Prevention Headers API on
// the server, answered by v:
//
//   - GET /test/fraud-prevention-headers/validate answers 200 with v's body for
//     the request's own headers;
//   - GET /test/fraud-prevention-headers/{api}/validation-feedback answers
//     {"specVersion":…,"requests":[…]} with one item per VAT endpoint: the
//     latest request the token's application made to it, with path, method,
//     requestTimestamp and the members of v's body for that request's headers
//     (a specVersion member moves to the top level). The optional
//     connectionMethod query parameter filters on Gov-Client-Connection-Method.
//
// Both are application-restricted. By default the validator is
// HMRCFraudHeaderValidator.
func WithFraudHeaderValidator(v FraudHeaderValidator) Option {
	return func(c *config) error {
		if v == nil {
			return errors.New("vattest: WithFraudHeaderValidator: nil validator")
		}
		c.validator = v
		return nil
	}
}

// HMRCFraudHeaderValidator answers as HMRC's Test Fraud Prevention Headers
// API does, with package fraud's validator (fraud.Validate)
// limited to HMRC's automated checks. Headers are valid unless it reports
// errors (INVALID_HEADERS); warnings alone do not make them invalid.
func HMRCFraudHeaderValidator(h http.Header) (valid bool, body []byte) {
	res := fraud.Validate(h).Automated()
	body, err := marshalNoEscape(res) // HMRC writes "UTC±<hh>:<mm>" as it is
	if err != nil {
		return false, []byte(`{"code":"INVALID_HEADERS","message":"At least 1 header is invalid"}`)
	}
	return res.Code != fraud.CodeInvalidHeaders, body
}

// WithSeed makes the server draw its identifiers (the default application's
// client ID and secret, VRNs, user IDs, passwords, tokens, receipts) from a
// source seeded with seed, so that a program that makes the same calls gets
// the same values on every start. Tokens drawn this way are predictable:
// use it for tests only. Without it secrets come from crypto/rand.
func WithSeed(seed uint64) Option {
	return func(c *config) error {
		c.seed = &seed
		return nil
	}
}

// WithControlToken sets the secret that opens the control API (/_sandbox/)
// to peers that are not on the loopback interface: they must send
// Authorization: Bearer token. Loopback peers never need it. Without a
// token only loopback peers may use the control API.
func WithControlToken(token string) Option {
	return func(c *config) error {
		if token == "" || strings.ContainsAny(token, " \t\r\n") {
			return errors.New("vattest: WithControlToken: empty token or one with white space")
		}
		c.control = token
		return nil
	}
}

// WithObligationBoundReturns makes the server accept a return only for one
// of the organisation's period keys, as HMRC's live service does: any other
// well-formed key is 400 PERIOD_KEY_INVALID. Without it the server behaves as
// HMRC's sandbox does, whose OpenAPI says "There is no requirement to use the
// periodKeys in the obligation response in the sandbox environment": a
// return for a well-formed key that matches no obligation is stored (a second
// one for that key is a DUPLICATE_SUBMISSION) and can be viewed, but fulfils
// no obligation and raises no liability.
func WithObligationBoundReturns() Option {
	return func(c *config) error {
		c.bound = true
		return nil
	}
}

// WithFraudHeaderEnforcement makes the server reject VAT API calls whose
// fraud prevention headers the validator finds invalid: 400 with the
// validator's body, after the platform's checks and before the VAT service's.
// HMRC does not reject such calls today (it checks headers offline); this is
// for test suites that want a failing test instead.
func WithFraudHeaderEnforcement() Option {
	return func(c *config) error {
		c.enforce = true
		return nil
	}
}

package vat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const testToken = "access-token-MARKER-5f1d"

// setup returns a Client whose base URL is an httptest server mounted under
// /base/, so a request built with an absolute path fails loudly, and the mux
// on which tests register HMRC's paths (without the /base prefix).
func setup(t *testing.T, opts ...Option) (*Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	root := http.NewServeMux()
	root.Handle("/base/", http.StripPrefix("/base", mux))
	root.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("request outside the base path: %s %s", r.Method, r.URL)
		http.Error(w, "outside base path", http.StatusTeapot)
	})
	srv := httptest.NewServer(root)
	t.Cleanup(srv.Close)
	base := []Option{
		WithBaseURL(srv.URL + "/base/"),
		WithHTTPClient(srv.Client()),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})),
		WithRateLimiter(NoRateLimit),
	}
	c, err := NewClient(append(base, opts...)...)
	require.NoError(t, err)
	c.cfg.sleep = func(ctx context.Context, _ time.Duration) error { return ctx.Err() } // retries without waiting
	return c, mux
}

// writeJSON answers with HMRC's usual JSON headers.
func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-CorrelationId", "c75f40a6-a3df-4429-a697-471eeec46435")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestNewClientDefaults(t *testing.T) {
	t.Parallel()
	c, err := NewClient(anyTokens)
	require.NoError(t, err)
	assert.Equal(t, Sandbox, c.Environment())
	assert.Equal(t, "https://test-api.service.hmrc.gov.uk/", c.BaseURL())

	c, err = NewClient(anyTokens, WithEnvironment(Production), WithPerCallFraudHeaders())
	require.NoError(t, err)
	assert.Equal(t, Production, c.Environment())
	assert.Equal(t, "https://api.service.hmrc.gov.uk/", c.BaseURL())

	c, err = NewClient(anyTokens, WithBaseURL("http://127.0.0.1:8080/prefix"), WithEnvironment(Production), WithPerCallFraudHeaders())
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8080/prefix/", c.BaseURL(), "an explicit base URL wins over the environment's host")
}

func TestEnvironmentHosts(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "https://test-api.service.hmrc.gov.uk", Sandbox.APIBaseURL())
	assert.Equal(t, "https://test-www.tax.service.gov.uk/oauth/authorize", Sandbox.AuthorizeURL())
	assert.Equal(t, "https://test-api.service.hmrc.gov.uk/oauth/token", Sandbox.TokenURL())
	assert.Equal(t, "https://api.service.hmrc.gov.uk", Production.APIBaseURL())
	assert.Equal(t, "https://www.tax.service.gov.uk/oauth/authorize", Production.AuthorizeURL())
	assert.Equal(t, "https://api.service.hmrc.gov.uk/oauth/token", Production.TokenURL())
	assert.Equal(t, "sandbox", Sandbox.String())
	assert.Equal(t, "production", Production.String())
	var zero Environment
	assert.False(t, zero.Valid())
	assert.Empty(t, zero.APIBaseURL())
	assert.Empty(t, zero.AuthorizeURL())
	assert.Empty(t, zero.TokenURL())
	assert.Equal(t, "Environment(0)", zero.String())
}

type appSource struct{ oauth2.TokenSource }

func (appSource) applicationRestricted() {}

func TestOptionsRefuseBadInput(t *testing.T) {
	t.Parallel()
	static := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"nil option", nil, "nil Option"},
		{"unknown environment", WithEnvironment(Environment(7)), "unknown environment"},
		{"plain http to a remote host", WithBaseURL("http://api.service.hmrc.gov.uk"), "plain http is allowed only for loopback"},
		{"plain http to a private address", WithBaseURL("http://10.0.0.1"), "plain http is allowed only for loopback"},
		{"other scheme", WithBaseURL("ftp://example.com"), "scheme"},
		{"relative", WithBaseURL("/just/a/path"), "scheme"},
		{"no host", WithBaseURL("https://"), "no host"},
		{"credentials", WithBaseURL("https://user:pass@example.com"), "credentials"},
		{"query", WithBaseURL("https://example.com/?a=b"), "query"},
		{"fragment", WithBaseURL("https://example.com/#x"), "fragment"},
		{"unparsable", WithBaseURL("https://exa mple.com/%zz"), "WithBaseURL"},
		{"nil http client", WithHTTPClient(nil), "nil *http.Client"},
		{"nil token source", WithTokenSource(nil), "nil token source"},
		{"application token as user token", WithTokenSource(appSource{static}), "application-restricted"},
		{"nil app token source", WithApplicationTokenSource(nil), "nil token source"},
		{"empty user agent", WithUserAgent("  "), "empty user agent"},
		{"user agent with newline", WithUserAgent("app\r\nX-Evil: 1"), "printable ASCII"},
		{"user agent too long", WithUserAgent(strings.Repeat("a", 300)), "printable ASCII"},
		{"nil logger", WithLogger(nil), "nil logger"},
		{"nil clock", WithClock(nil), "nil clock"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(anyTokens, tc.opt)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Contains(t, err.Error(), tc.want)
			assert.True(t, strings.HasPrefix(err.Error(), "vat: "))
		})
	}
	for _, ok := range []string{"http://localhost:9000", "http://127.0.0.1", "http://127.9.9.9/x/", "http://[::1]:8080", "https://proxy.example.com/hmrc"} {
		_, err := NewClient(anyTokens, WithBaseURL(ok))
		assert.NoError(t, err, ok)
	}
}

func TestWithHTTPClientKeepsCallersClientIntact(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(`{"obligations":[]}`)), Request: r}, nil
	})
	hc := &http.Client{Transport: rt, Timeout: 5 * time.Second}
	before := *hc
	c, err := NewClient(WithHTTPClient(hc), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})))
	require.NoError(t, err)
	_, err = c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	require.NoError(t, err)
	assert.Equal(t, int32(1), calls.Load(), "the caller's transport is used")
	assert.Equal(t, before.Timeout, hc.Timeout)
	assert.NotSame(t, hc, c.cfg.hc, "the client keeps its own copy")
	assert.Nil(t, hc.CheckRedirect, "the caller's redirect policy is left alone")
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a redirect to another host was followed: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(other.Close)
	c, mux := setup(t)
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("status") == "F" {
			w.Header().Set("Location", other.URL+"/maintenance")
			w.WriteHeader(http.StatusFound)
			return
		}
		http.Redirect(w, r, "/base/organisations/vat/123456789/moved?"+r.URL.RawQuery, http.StatusMovedPermanently)
	})
	var auth string
	mux.HandleFunc("GET /organisations/vat/123456789/moved", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		writeJSON(w, 200, `{"obligations":[]}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	require.NoError(t, err, "a read follows a redirect on its own host")
	assert.Equal(t, "Bearer "+testToken, auth)

	var meta ResponseMeta
	_, err = c.Obligations(context.Background(), "123456789",
		ObligationsQuery{From: NewDate(2017, 1, 1), To: NewDate(2017, 3, 31), Status: ObligationFulfilled}, WithResponseMeta(&meta))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr, "a redirect to another host is not followed, and is an error")
	assert.Equal(t, http.StatusFound, apiErr.StatusCode)
	assert.Equal(t, http.StatusFound, meta.StatusCode)
	assert.Contains(t, err.Error(), "302")
}

func TestTruncatedErrorBodyIsNotDecodedAsWhole(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxAttempts: 1}))
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "300")
		w.WriteHeader(403)
		io.WriteString(w, `{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","mess`)
	})
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr), "an error body cut short is not HMRC's error: %v", err)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 403, de.StatusCode)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRequestHeadersGolden(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithUserAgent("AcmeBooks/2.1"))
	var got *http.Request
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		writeJSON(w, 200, `{"obligations":[]}`)
	})
	_, err := c.Obligations(context.Background(), "123456789",
		ObligationsQuery{From: NewDate(2017, 1, 1), To: NewDate(2017, 12, 31), Status: ObligationFulfilled},
		WithTestScenario("QUARTERLY_ONE_MET"))
	require.NoError(t, err)
	require.NotNil(t, got)
	assert.Equal(t, "GET", got.Method)
	assert.Equal(t, "/organisations/vat/123456789/obligations", got.URL.Path)
	assert.Equal(t, "from=2017-01-01&status=F&to=2017-12-31", got.URL.RawQuery)
	assert.Equal(t, "application/vnd.hmrc.1.0+json", got.Header.Get("Accept"))
	assert.Equal(t, "Bearer "+testToken, got.Header.Get("Authorization"))
	assert.Equal(t, "AcmeBooks/2.1 go-mtd-vat/"+Version, got.Header.Get("User-Agent"))
	assert.Equal(t, "QUARTERLY_ONE_MET", got.Header.Get("Gov-Test-Scenario"))
	assert.Empty(t, got.Header.Get("Content-Type"), "no body, no Content-Type")
}

func TestURLEscapesEachPathSegment(t *testing.T) {
	t.Parallel()
	c, err := NewClient(anyTokens, WithBaseURL("http://127.0.0.1:1/base"))
	require.NoError(t, err)
	target, path, err := c.url(&request{path: []string{"organisations", "vat", "123456789", "returns", "#001"}})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/base/organisations/vat/123456789/returns/%23001", target)
	assert.Equal(t, "/base/organisations/vat/123456789/returns/%23001", path)
	target, _, err = c.url(&request{path: []string{"a/b", "c?d", "e f"}})
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:1/base/a%2Fb/c%3Fd/e%20f", target)
	for _, seg := range []string{"", ".", ".."} {
		_, _, err = c.url(&request{op: "X", path: []string{"a", seg}})
		assert.Error(t, err, seg)
	}
}

func TestTestScenarioRules(t *testing.T) {
	t.Parallel()
	c, err := NewClient(WithEnvironment(Production), WithBaseURL("http://127.0.0.1:1"), WithPerCallFraudHeaders(),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})))
	require.NoError(t, err)
	_, err = c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, WithTestScenario("QUARTERLY_ONE_MET"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sandbox")

	for _, bad := range []string{"", "A\r\nB", strings.Repeat("A", 101)} {
		var cc callConfig
		assert.Error(t, WithTestScenario(bad)(&cc), bad)
	}
	type myScenario string
	var cc callConfig
	require.NoError(t, WithTestScenario(myScenario("SOMETHING_NEW"))(&cc), "typed and future scenario names are accepted")
	assert.Equal(t, "SOMETHING_NEW", cc.scenario)
	_, err = c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, nil)
	assert.ErrorContains(t, err, "nil CallOption")
	_, err = c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, WithResponseMeta(nil))
	assert.ErrorContains(t, err, "nil *ResponseMeta")
}

func TestResponseMetaAndCorrelationID(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("status") == "F" {
			writeJSON(w, 404, `{"code":"NOT_FOUND","message":"The remote endpoint has indicated that no data can be found"}`)
			return
		}
		writeJSON(w, 200, `{"obligations":[]}`)
	})
	var meta ResponseMeta
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, WithResponseMeta(&meta))
	require.NoError(t, err)
	assert.Equal(t, 200, meta.StatusCode)
	assert.Equal(t, "c75f40a6-a3df-4429-a697-471eeec46435", meta.CorrelationID)
	assert.Equal(t, 1, meta.Attempts)
	assert.Equal(t, "application/json", meta.Header.Get("Content-Type"))

	meta = ResponseMeta{}
	_, err = c.Obligations(context.Background(), "123456789",
		ObligationsQuery{From: NewDate(2017, 1, 1), To: NewDate(2017, 3, 31), Status: ObligationFulfilled}, WithResponseMeta(&meta))
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.ErrorIs(t, err, ErrNotFound)
	assert.Equal(t, "c75f40a6-a3df-4429-a697-471eeec46435", apiErr.CorrelationID)
	assert.Equal(t, 404, meta.StatusCode)
	assert.Equal(t, "/base/organisations/vat/123456789/obligations", apiErr.Path)
	assert.Equal(t, "GET", apiErr.Method)
	assert.Equal(t, 1, apiErr.Attempts)
}

func TestResponseBodyProblems(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var body []byte
	var mu sync.Mutex
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b := body
		mu.Unlock()
		w.Header().Set("X-CorrelationId", "corr-1")
		w.Write(b)
	})
	set := func(b []byte) { mu.Lock(); body = b; mu.Unlock() }
	q := ObligationsQuery{Status: ObligationOpen}

	set(bytes.Repeat([]byte(" "), maxResponseBody+10))
	_, err := c.Obligations(context.Background(), "123456789", q)
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.ErrorIs(t, err, ErrResponseTooLarge)
	assert.Equal(t, 200, de.StatusCode)
	assert.Equal(t, "corr-1", de.CorrelationID)
	assert.Contains(t, err.Error(), "correlation ID corr-1")

	set([]byte(`{"obligations":[{"start":"2017-02-30"}]}`))
	_, err = c.Obligations(context.Background(), "123456789", q)
	require.ErrorAs(t, err, &de)
	assert.Contains(t, err.Error(), "start")
	assert.Contains(t, err.Error(), "200 response body")

	set([]byte(`<html>`))
	_, err = c.Obligations(context.Background(), "123456789", q)
	require.ErrorAs(t, err, &de)
}

// refreshingSource hands out "old" until it is told the token was rejected.
type refreshingSource struct {
	mu        sync.Mutex
	current   string
	refreshes int
	failWith  error
	ctxSeen   context.Context
}

func (s *refreshingSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

func (s *refreshingSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ctxSeen = ctx
	return &oauth2.Token{AccessToken: s.current}, nil
}

func (s *refreshingSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failWith != nil {
		return nil, s.failWith
	}
	if rejected.AccessToken == s.current {
		s.refreshes++
		s.current = fmt.Sprintf("new-%d", s.refreshes)
	}
	return &oauth2.Token{AccessToken: s.current}, nil
}

func TestExpiredTokenIsRefreshedOnceAndReplayed(t *testing.T) {
	t.Parallel()
	src := &refreshingSource{current: "old"}
	c, mux := setup(t, WithTokenSource(src))
	var seen []string
	var mu sync.Mutex
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.Header.Get("Authorization") == "Bearer old" {
			writeJSON(w, 401, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
			return
		}
		writeJSON(w, 200, `{"obligations":[]}`)
	})
	type ctxKey struct{}
	ctx := context.WithValue(context.Background(), ctxKey{}, "mine")
	var meta ResponseMeta
	_, err := c.Obligations(ctx, "123456789", ObligationsQuery{Status: ObligationOpen}, WithResponseMeta(&meta))
	require.NoError(t, err)
	assert.Equal(t, []string{"Bearer old", "Bearer new-1"}, seen)
	assert.Equal(t, 1, src.refreshes)
	assert.Equal(t, "mine", src.ctxSeen.Value(ctxKey{}), "the token source gets the request's context")
	assert.Equal(t, 2, meta.Attempts)
}

func TestRefreshIsNotRepeatedWhenTheNewTokenIsAlsoRefused(t *testing.T) {
	t.Parallel()
	src := &refreshingSource{current: "old"}
	c, mux := setup(t, WithTokenSource(src))
	var n atomic.Int32
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 401, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	assert.ErrorIs(t, err, ErrInvalidCredentials)
	assert.Equal(t, int32(2), n.Load(), "one replay only")
	assert.Equal(t, 1, src.refreshes)
}

func TestRefreshFailureIsReported(t *testing.T) {
	t.Parallel()
	reauth := errors.New("sign in again")
	src := &refreshingSource{current: "old", failWith: reauth}
	c, mux := setup(t, WithTokenSource(src))
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 401, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	assert.ErrorIs(t, err, reauth)
	assert.Contains(t, err.Error(), "could not be refreshed")
}

func TestOther401sAreNotReplayed(t *testing.T) {
	t.Parallel()
	src := &refreshingSource{current: "old"}
	c, mux := setup(t, WithTokenSource(src))
	var n atomic.Int32
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 401, `{"code":"INCORRECT_ACCESS_TOKEN_TYPE","message":"The access token type used is not supported"}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	assert.ErrorIs(t, err, ErrIncorrectAccessTokenType)
	assert.Equal(t, int32(1), n.Load())
	assert.Zero(t, src.refreshes)
}

type failingSource struct{}

func (failingSource) Token() (*oauth2.Token, error) { return nil, errors.New("store unavailable") }

type emptySource struct{}

func (emptySource) Token() (*oauth2.Token, error) { return &oauth2.Token{}, nil }

func TestTokenProblemsStopTheRequest(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("nothing should be sent, got %s", r.URL)
	}))
	t.Cleanup(srv.Close)
	q := ObligationsQuery{Status: ObligationOpen}
	for name, tc := range map[string]struct {
		opts []Option
		want string
	}{
		"no source":      {[]Option{WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app"}))}, "no token source"},
		"source fails":   {[]Option{WithTokenSource(failingSource{})}, "store unavailable"},
		"empty token":    {[]Option{WithTokenSource(emptySource{})}, "no access token"},
		"newline in tok": {[]Option{WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "a\nb"}))}, "not allowed in a header"},
	} {
		c, err := NewClient(append([]Option{WithBaseURL(srv.URL)}, tc.opts...)...)
		require.NoError(t, err)
		_, err = c.Obligations(context.Background(), "123456789", q)
		assert.ErrorContains(t, err, tc.want, name)
	}
	c, err := NewClient(anyTokens, WithBaseURL(srv.URL))
	require.NoError(t, err)
	_, err = c.do(context.Background(), &request{op: "CreateTestUser", method: "GET", path: []string{"x"}, auth: authApp}, nil, nil)
	assert.ErrorContains(t, err, "WithApplicationTokenSource")
}

func TestApplicationTokensGoToApplicationEndpoints(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app-token"})))
	var auth string
	mux.HandleFunc("GET /create-test-user/services", func(w http.ResponseWriter, r *http.Request) {
		auth = r.Header.Get("Authorization")
		writeJSON(w, 200, `[]`)
	})
	var out []any
	_, err := c.get(context.Background(), &request{op: "Services", path: []string{"create-test-user", "services"}, auth: authApp}, &out, nil)
	require.NoError(t, err)
	assert.Equal(t, "Bearer app-token", auth)
}

func TestTransportErrors(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // never answers: only the caller's deadline ends the call
	}))
	t.Cleanup(srv.Close)
	c, err := NewClient(WithBaseURL(srv.URL), WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: testToken})))
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = c.Obligations(ctx, "123456789", ObligationsQuery{Status: ObligationOpen})
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "vat: GET /organisations/vat/123456789/obligations")
	assert.NotContains(t, err.Error(), testToken)
}

func TestTransportErrorAfterRetriesHasTheAttemptCount(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		conn.Close() // never an answer
	})
	var meta ResponseMeta
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, WithResponseMeta(&meta))
	var te *TransportError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, 4, te.Attempts, "every attempt of the default policy was made")
	assert.Equal(t, "GET", te.Method)
	assert.Equal(t, "/base/organisations/vat/123456789/obligations", te.Path)
	assert.Contains(t, err.Error(), "(after 4 attempts)")
	assert.NotContains(t, err.Error(), testToken)
	assert.Equal(t, 4, meta.Attempts, "the attempts are reported even though no response arrived")
	assert.Zero(t, meta.StatusCode)

	// Nothing sent: no attempt.
	c2, _ := setup(t, WithTokenSource(failingSource{}))
	meta = ResponseMeta{Attempts: 99}
	_, err = c2.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, WithResponseMeta(&meta))
	require.Error(t, err)
	assert.Zero(t, meta.Attempts)
}

func TestLoggingNeverShowsSecrets(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: &buf, mu: &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, mux := setup(t, WithLogger(logger))
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 403, `{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised."}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen}, WithTestScenario("X"))
	require.Error(t, err)
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	assert.Contains(t, out, `"status":403`)
	assert.Contains(t, out, `"correlation_id":"c75f40a6-a3df-4429-a697-471eeec46435"`)
	assert.Contains(t, out, `"op":"Obligations"`)
	assert.NotContains(t, out, testToken)
	assert.NotContains(t, out, "Bearer")
	assert.NotContains(t, err.Error(), testToken)
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

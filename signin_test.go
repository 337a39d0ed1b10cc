package vat_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
)

// The sign-in tests do not call t.Parallel: each checks that SignIn leaves
// no goroutine behind, which needs no other test running.

// noLeakedGoroutines checks, after the test and its other cleanups (such as
// closing the fake), that the test left no goroutine running.
func noLeakedGoroutines(t *testing.T) {
	t.Helper()
	opt := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, opt) })
}

// browserPage is what the fake browser saw.
type browserPage struct {
	status int
	body   string
}

// fakeBrowser returns a WithSignInBrowser func that follows the sign-in address
// through the fake's authorize endpoint to the loopback listener, as a
// browser would, and records the final page.
func fakeBrowser(t *testing.T, got *browserPage) vat.SignInOption {
	return vat.WithSignInBrowser(func(authURL string) error {
		got.status, got.body = browseTo(t, authURL)
		return nil
	})
}

// redirectOf returns the redirect_uri of a sign-in address.
func redirectOf(t *testing.T, authURL string) *url.URL {
	t.Helper()
	u, err := url.Parse(authURL)
	require.NoError(t, err)
	r, err := url.Parse(u.Query().Get("redirect_uri"))
	require.NoError(t, err)
	return r
}

// assertClosed checks that nothing listens on the port any more.
func assertClosed(t *testing.T, port string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", port), time.Second)
	if err == nil {
		c.Close()
	}
	assert.Error(t, err, "the loopback listener is closed")
}

func freeLoopbackPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	port := ln.Addr().(*net.TCPAddr).Port
	require.NoError(t, ln.Close())
	return port
}

func TestSignInEndToEnd(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	cfg := f.config(t, "")
	var out bytes.Buffer
	var got browserPage
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	tok, err := vat.SignIn(ctx, cfg, vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&out), fakeBrowser(t, &got))
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok), "the token works")
	assert.NotEmpty(t, tok.RefreshToken)
	assert.Zero(t, tok.ExpiresIn)

	assert.Equal(t, http.StatusOK, got.status)
	assert.Contains(t, got.body, "You can close this window")
	assert.Contains(t, got.body, "<title>Signed in to HMRC</title>")

	text := out.String()
	assert.Contains(t, text, f.srv.URL+"/oauth/authorize?", "the sign-in address is shown")
	authURL := strings.Fields(text[strings.Index(text, f.srv.URL):])[0]
	redirect := redirectOf(t, authURL)
	assert.Equal(t, "http", redirect.Scheme)
	assert.Equal(t, "localhost", redirect.Hostname(), "HMRC refuses IP literals")
	assert.Empty(t, redirect.Path)
	assertClosed(t, redirect.Port())
	assert.Empty(t, cfg.RedirectURL, "the caller's config is not modified")

	c := f.count()
	assert.Equal(t, 1, c.Authorize)
	assert.Equal(t, 1, c.CodeOK, "the code was exchanged with a matching PKCE verifier")
	f.noLeak(t, text, got.body)
}

func TestSignInRegisteredRedirect(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	port := strconv.Itoa(freeLoopbackPort(t))
	cfg := f.config(t, "http://localhost:"+port+"/callback")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	type probe struct {
		name   string
		do     func() (*http.Response, error)
		status int
	}
	var probes []string
	var final browserPage
	open := vat.WithSignInBrowser(func(authURL string) error {
		assert.Equal(t, "http://localhost:"+port+"/callback", redirectOf(t, authURL).String())
		base := "http://localhost:" + port
		client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
		for _, p := range []probe{
			{"other path", func() (*http.Response, error) { return client.Get(base + "/favicon.ico") }, http.StatusNotFound},
			{"POST", func() (*http.Response, error) { return client.Post(base+"/callback", "text/plain", nil) }, http.StatusMethodNotAllowed},
			{"foreign host", func() (*http.Response, error) {
				req, _ := http.NewRequest(http.MethodGet, base+"/callback?code=x&state=y", nil)
				req.Host = "attacker.example:" + port
				return client.Do(req)
			}, http.StatusForbidden},
			{"IPv6 loopback", func() (*http.Response, error) { return client.Get("http://[::1]:" + port + "/favicon.ico") }, http.StatusNotFound},
		} {
			resp, err := p.do()
			if p.name == "IPv6 loopback" && err != nil {
				t.Logf("no IPv6 loopback here: %v", err)
				continue
			}
			if assert.NoError(t, err, p.name) {
				resp.Body.Close()
				assert.Equal(t, p.status, resp.StatusCode, p.name)
				probes = append(probes, p.name)
			}
		}
		// None of those ended the sign-in; the real redirect does.
		final.status, final.body = browseTo(t, authURL)
		// A second delivery after the sign-in finished is answered, not used.
		again, err := client.Get(base + "/callback?code=replayed&state=whatever")
		if assert.NoError(t, err) {
			again.Body.Close()
			assert.Equal(t, http.StatusConflict, again.StatusCode)
		}
		return nil
	})
	tok, err := vat.SignIn(ctx, cfg, vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&bytes.Buffer{}), open)
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
	assert.Equal(t, http.StatusOK, final.status)
	assert.GreaterOrEqual(t, len(probes), 3)
	assert.Equal(t, 1, f.count().Code, "only the real redirect was exchanged")
	assertClosed(t, port)
}

// TestSignInOverIPv6 delivers the redirect to [::1], as a browser resolving
// localhost to IPv6 would.
func TestSignInOverIPv6(t *testing.T) {
	noLeakedGoroutines(t)
	ln, err := net.Listen("tcp6", "[::1]:0")
	if err != nil {
		t.Skipf("no IPv6 loopback: %v", err)
	}
	ln.Close()
	f := newFakeOAuth(t, newAuthClock())
	cfg := f.config(t, "")
	var status int
	open := vat.WithSignInBrowser(func(authURL string) error {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(authURL)
		if !assert.NoError(t, err) {
			return err
		}
		resp.Body.Close()
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		loc.Host = "[::1]:" + loc.Port()
		status, _ = browseTo(t, loc.String())
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := vat.SignIn(ctx, cfg, vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&bytes.Buffer{}), open)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, status)
	assert.True(t, f.accepts(t, tok))
}

// TestSignInIgnoresForeignRequests: requests to the loopback redirect
// address that do not carry this sign-in's state (a web page probing the
// port, a stale tab, a forged code or error) get an error page and do not
// end the sign-in; the real redirect that follows does.
func TestSignInIgnoresForeignRequests(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	var final browserPage
	foreign := map[string]string{
		"no query":       "",
		"forged code":    "?code=forged&state=wrong",
		"code, no state": "?code=forged",
		"forged error":   "?error=access_denied&error_code=USER_DENIED_AUTHORIZATION&state=wrong",
		"empty state":    "?error=access_denied&state=",
	}
	open := vat.WithSignInBrowser(func(authURL string) error {
		redirect := redirectOf(t, authURL).String()
		for name, query := range foreign {
			status, body := browseTo(t, redirect+query)
			assert.Equal(t, http.StatusBadRequest, status, name)
			assert.Contains(t, body, "does not match the sign-in the application started", name)
		}
		final.status, final.body = browseTo(t, authURL)
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := vat.SignIn(ctx, f.config(t, ""), vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&bytes.Buffer{}), open)
	require.NoError(t, err, "the foreign requests did not end the sign-in")
	assert.True(t, f.accepts(t, tok))
	assert.Equal(t, http.StatusOK, final.status)
	assert.Contains(t, final.body, "<title>Signed in to HMRC</title>")
	assert.Equal(t, 1, f.count().Code, "only the real redirect's code was exchanged")
}

// TestSignInStateMismatch: HMRC's redirect comes back with a state that is
// not this sign-in's. It is answered with an error page and never used, and
// SignIn keeps waiting; when it gives up, its error says why.
func TestSignInStateMismatch(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	f.tamperState = true
	var got browserPage
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	open := vat.WithSignInBrowser(func(authURL string) error {
		got.status, got.body = browseTo(t, authURL)
		cancel() // the user gives up
		return nil
	})
	tok, err := vat.SignIn(ctx, f.config(t, ""), vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&bytes.Buffer{}), open)
	noSecret(t, err)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, context.Canceled)
	assert.ErrorIs(t, err, vat.ErrStateMismatch, "the error says a redirect with another state was ignored")
	assert.Equal(t, http.StatusBadRequest, got.status)
	assert.Contains(t, got.body, "does not match the sign-in the application started")
	assert.Zero(t, f.count().Code, "the code of a foreign redirect is never exchanged")
}

func TestSignInDenied(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	f.denyAuthorize = true
	var got browserPage
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := vat.SignIn(ctx, f.config(t, ""), vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&bytes.Buffer{}), fakeBrowser(t, &got))
	noSecret(t, err)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, vat.ErrUserDeniedAuthorization)
	var ae *vat.AuthorizationError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "USER_DENIED_AUTHORIZATION", ae.ErrorCode)
	assert.Contains(t, got.body, "You did not grant the application access")
	assert.Zero(t, f.count().Code)
}

func TestSignInTimeout(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	var authURL string
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	tok, err := vat.SignIn(ctx, f.config(t, ""),
		vat.WithSignInPrompt(func(u string) { authURL = u }),
		vat.WithSignInBrowser(nil)) // the user never signs in
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for the HMRC sign-in redirect")
	require.NotEmpty(t, authURL)
	assertClosed(t, redirectOf(t, authURL).Port())
}

func TestSignInCancelledDuringExchange(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var got browserPage
	slow := &http.Client{Transport: authRoundTripFunc(func(r *http.Request) (*http.Response, error) {
		cancel() // the user gives up while the code is being exchanged
		<-r.Context().Done()
		return nil, r.Context().Err()
	})}
	tok, err := vat.SignIn(ctx, f.config(t, ""), vat.WithSignInHTTPClient(slow), vat.WithSignInOutput(&bytes.Buffer{}), fakeBrowser(t, &got))
	noSecret(t, err)
	assert.Nil(t, tok)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, http.StatusBadGateway, got.status)
	assert.Contains(t, got.body, "could not be completed")
}

// TestSignInExpiredCode: the redirect arrives after the code's 10 minutes;
// HMRC refuses it and SignIn says so.
func TestSignInExpiredCode(t *testing.T) {
	noLeakedGoroutines(t)
	f := newFakeOAuth(t, newAuthClock())
	var got browserPage
	open := vat.WithSignInBrowser(func(authURL string) error {
		client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		resp, err := client.Get(authURL)
		if !assert.NoError(t, err) {
			return err
		}
		resp.Body.Close()
		f.clock.Advance(11 * time.Minute) // the user wandered off
		got.status, got.body = browseTo(t, resp.Header.Get("Location"))
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tok, err := vat.SignIn(ctx, f.config(t, ""), vat.WithSignInHTTPClient(f.srv.Client()), vat.WithSignInOutput(&bytes.Buffer{}), open)
	noSecret(t, err)
	assert.Nil(t, tok)
	var te *vat.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, vat.TokenError{Grant: "authorization_code", StatusCode: 400, Code: "invalid_request", Description: "code is invalid"}, *te)
	assert.Equal(t, http.StatusBadGateway, got.status)
	assert.Contains(t, got.body, "could not be completed")
	f.noLeakErr(t, err)
	f.noLeak(t, got.body)
}

func TestSignInSandboxAddress(t *testing.T) {
	noLeakedGoroutines(t)
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: "id", ClientSecret: fakeSecret})
	require.NoError(t, err)
	var out bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = vat.SignIn(ctx, cfg, vat.WithSignInOutput(&out), vat.WithSignInPath("/cb"),
		vat.WithSignInBrowser(func(string) error { return errors.New("no display") }))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	text := out.String()
	assert.Contains(t, text, "https://test-www.tax.service.gov.uk/oauth/authorize?")
	assert.Contains(t, text, "Could not open a browser (no display)")
	assert.NotContains(t, text, fakeSecret)
	i := strings.Index(text, "https://")
	require.GreaterOrEqual(t, i, 0)
	redirect := redirectOf(t, strings.Fields(text[i:])[0])
	assert.Equal(t, "/cb", redirect.Path)
	assert.Equal(t, "localhost", redirect.Hostname())
}

func TestSignInRefusesBadInput(t *testing.T) {
	noLeakedGoroutines(t)
	good, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: "id", ClientSecret: fakeSecret})
	require.NoError(t, err)
	withRedirect := func(r string) *oauth2.Config {
		c := *good
		c.RedirectURL = r
		return &c
	}
	busy, err := net.Listen("tcp4", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	busyPort := busy.Addr().(*net.TCPAddr).Port

	tests := []struct {
		name string
		cfg  *oauth2.Config
		opts []vat.SignInOption
		want string
	}{
		{"nil config", nil, nil, "nil *oauth2.Config"},
		{"web redirect", withRedirect("https://app.example.com/cb"), nil, "not a loopback address"},
		{"oob redirect", withRedirect(vat.RedirectOOB), nil, "not a loopback address"},
		{"invalid redirect", withRedirect("http://127.0.0.1:8080/"), nil, "IP address"},
		{"redirect and port", withRedirect("http://localhost:8080/cb"), []vat.SignInOption{vat.WithSignInPort(9090)}, "must not be"},
		{"redirect and path", withRedirect("http://localhost:8080/cb"), []vat.SignInOption{vat.WithSignInPath("/x")}, "must not be"},
		{"negative port", good, []vat.SignInOption{vat.WithSignInPort(-1)}, "WithSignInPort"},
		{"huge port", good, []vat.SignInOption{vat.WithSignInPort(70000)}, "WithSignInPort"},
		{"relative path", good, []vat.SignInOption{vat.WithSignInPath("cb")}, "WithSignInPath"},
		{"path with query", good, []vat.SignInOption{vat.WithSignInPath("/cb?x=1")}, "WithSignInPath"},
		{"nil output", good, []vat.SignInOption{vat.WithSignInOutput(nil)}, "WithSignInOutput"},
		{"nil prompt", good, []vat.SignInOption{vat.WithSignInPrompt(nil)}, "WithSignInPrompt"},
		{"nil client", good, []vat.SignInOption{vat.WithSignInHTTPClient(nil)}, "WithSignInHTTPClient"},
		{"nil option", good, []vat.SignInOption{nil}, "nil SignInOption"},
		{"port in use", good, []vat.SignInOption{vat.WithSignInPort(busyPort), vat.WithSignInBrowser(nil)}, "listening on the loopback interface"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := vat.SignIn(context.Background(), tt.cfg, tt.opts...)
			noSecret(t, err)
			assert.Nil(t, tok)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), fakeSecret)
		})
	}
	//lint:ignore SA1012 checking that a nil context is refused, not a panic
	_, err = vat.SignIn(nil, good)
	noSecret(t, err)
	assert.ErrorContains(t, err, "nil context")
}

package vat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
)

func TestOAuthEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct {
		env             vat.Environment
		authURL, tokURL string
	}{
		{vat.Sandbox, "https://test-www.tax.service.gov.uk/oauth/authorize", "https://test-api.service.hmrc.gov.uk/oauth/token"},
		{vat.Production, "https://www.tax.service.gov.uk/oauth/authorize", "https://api.service.hmrc.gov.uk/oauth/token"},
	}
	for _, tt := range tests {
		t.Run(tt.env.String(), func(t *testing.T) {
			t.Parallel()
			e := tt.env.OAuthEndpoint()
			assert.Equal(t, tt.authURL, e.AuthURL)
			assert.Equal(t, tt.tokURL, e.TokenURL)
			assert.Equal(t, oauth2.AuthStyleInParams, e.AuthStyle)
		})
	}
	assert.Equal(t, oauth2.Endpoint{}, vat.Environment(0).OAuthEndpoint())
}

func TestNewOAuthConfig(t *testing.T) {
	t.Parallel()
	scopes := []string{vat.ScopeReadVAT}
	cfg, err := vat.NewOAuthConfig(vat.Production, vat.OAuthApp{
		ClientID: "id", ClientSecret: "secret", RedirectURL: "https://app.example.com/cb", Scopes: scopes,
	})
	require.NoError(t, err)
	assert.Equal(t, "id", cfg.ClientID)
	assert.Equal(t, "secret", cfg.ClientSecret)
	assert.Equal(t, "https://app.example.com/cb", cfg.RedirectURL)
	assert.Equal(t, vat.Production.OAuthEndpoint(), cfg.Endpoint)
	assert.Equal(t, []string{"read:vat"}, cfg.Scopes)
	scopes[0] = "changed"
	assert.Equal(t, []string{"read:vat"}, cfg.Scopes, "the caller's slice is copied")

	cfg, err = vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: "id", ClientSecret: "secret"})
	require.NoError(t, err)
	assert.Equal(t, []string{"read:vat", "write:vat"}, cfg.Scopes, "default scopes")
	assert.Empty(t, cfg.RedirectURL)
}

func TestNewOAuthConfigRefusesBadInput(t *testing.T) {
	t.Parallel()
	const secret = "s3cret-LEAKMARK"
	good := vat.OAuthApp{ClientID: "id", ClientSecret: secret}
	tests := []struct {
		name string
		env  vat.Environment
		edit func(a *vat.OAuthApp)
		want string
	}{
		{"invalid environment", 0, func(*vat.OAuthApp) {}, "environment"},
		{"missing client ID", vat.Sandbox, func(a *vat.OAuthApp) { a.ClientID = "" }, "ClientID is empty"},
		{"missing client secret", vat.Sandbox, func(a *vat.OAuthApp) { a.ClientSecret = "" }, "ClientSecret is empty"},
		{"padded client secret", vat.Sandbox, func(a *vat.OAuthApp) { a.ClientSecret = secret + "\n" }, "ClientSecret contains white space"},
		{"client ID with space", vat.Sandbox, func(a *vat.OAuthApp) { a.ClientID = "an id" }, "ClientID contains white space"},
		{"http redirect", vat.Sandbox, func(a *vat.OAuthApp) { a.RedirectURL = "http://www.example.com:8080/cb" }, "RedirectURL"},
		{"scopes joined by plus", vat.Sandbox, func(a *vat.OAuthApp) { a.Scopes = []string{"read:vat+write:vat"} }, `"+"`},
		{"scopes joined by space", vat.Sandbox, func(a *vat.OAuthApp) { a.Scopes = []string{"read:vat write:vat"} }, "list each scope"},
		{"empty scope", vat.Sandbox, func(a *vat.OAuthApp) { a.Scopes = []string{vat.ScopeReadVAT, ""} }, "empty scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			app := good
			tt.edit(&app)
			cfg, err := vat.NewOAuthConfig(tt.env, app)
			noSecret(t, err)
			require.Error(t, err)
			assert.Nil(t, cfg)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), secret)
		})
	}
}

func TestValidateRedirectURL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		url  string
		ok   bool
		want string // part of the error
	}{
		{"https://www.example.com/auth-redirect", true, ""},
		{"https://www.example.com", true, ""},
		{"https://www.example.com:8080/auth-redirect", true, ""},
		{"https://www.example.com:8080/auth-redirect?some_parameter=some_value", true, ""},
		{"HTTPS://WWW.EXAMPLE.COM/x", true, ""},
		{"http://localhost:8080", true, ""},
		{"http://localhost:8080/callback", true, ""},
		{"http://localhost:8080/callback?x=1", true, ""},
		{"http://LocalHost:1", true, ""},
		{"http://localhost:65535/", true, ""},
		{"urn:ietf:wg:oauth:2.0:oob", true, ""},
		{"urn:ietf:wg:oauth:2.0:oob:auto", true, ""},
		{"", false, "empty"},
		{"http://www.example.com:8080/auth-redirect", false, "use https"},
		{"/auth-redirect", false, "absolute"},
		{"www.example.com/cb", false, "absolute"},
		{"https://203.0.113.11/auth-redirect", false, "IP address"},
		{"https://[2001:db8::1]/cb", false, "IP address"},
		{"https://2130706433/cb", false, "IP address"},
		{"https://0x7f.1/cb", false, "IP address"},
		{"http://127.0.0.1:8080/cb", false, "IP address"},
		{"http://[::1]:8080/cb", false, "IP address"},
		{"https://www.example.com:8080/auth-redirect#some_fragment", false, "fragment"},
		{"https://www.example.com/#", false, "fragment"},
		{"http://localhost", false, "explicit port"},
		{"http://localhost/cb", false, "explicit port"},
		{"http://localhost:0", false, "invalid port"},
		{"http://localhost:65536", false, "invalid port"},
		{"https://www.example.com:/cb", false, "invalid port"},
		{"http://localhost.example.com:8080", false, "use https"},
		{"urn:ietf:wg:oauth:2.0:oob:other", false, "absolute URL"},
		{"ftp://www.example.com/x", false, "scheme"},
		{"https:///path", false, "host"},
		{"https://exa mple.com/", false, "not a valid URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			err := vat.ValidateRedirectURL(tt.url)
			noSecret(t, err)
			if tt.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestAuthRequestAuthCodeURL(t *testing.T) {
	t.Parallel()
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{
		ClientID: "my-id", ClientSecret: fakeSecret, RedirectURL: "http://localhost:8080/cb",
	})
	require.NoError(t, err)
	ar := vat.NewAuthRequest()
	raw := ar.AuthCodeURL(cfg)

	u, err := url.Parse(raw)
	require.NoError(t, err)
	assert.Equal(t, "test-www.tax.service.gov.uk", u.Host, "sandbox sign-in is on the www host")
	assert.Equal(t, "/oauth/authorize", u.Path)
	assert.Contains(t, u.RawQuery, "scope=read%3Avat+write%3Avat", "scopes joined by a space")
	assert.NotContains(t, u.RawQuery, "%2B", "never an encoded plus")
	q := u.Query()
	assert.Equal(t, "code", q.Get("response_type"))
	assert.Equal(t, "my-id", q.Get("client_id"))
	assert.Equal(t, "read:vat write:vat", q.Get("scope"))
	assert.Equal(t, "http://localhost:8080/cb", q.Get("redirect_uri"))
	assert.Equal(t, ar.State, q.Get("state"))
	assert.Equal(t, "S256", q.Get("code_challenge_method"))
	assert.Equal(t, oauth2.S256ChallengeFromVerifier(ar.Verifier), q.Get("code_challenge"))
	assert.False(t, q.Has("client_secret"))
	assert.NotContains(t, raw, fakeSecret)
	assert.NotContains(t, raw, ar.Verifier, "only the challenge travels through the browser")
}

func TestNewAuthRequestIsRandom(t *testing.T) {
	t.Parallel()
	a, b := vat.NewAuthRequest(), vat.NewAuthRequest()
	assert.NotEqual(t, a.State, b.State)
	assert.NotEqual(t, a.Verifier, b.Verifier)
	assert.Len(t, a.State, 43, "256 bits, base64url")
	assert.Len(t, a.Verifier, 43)
}

func TestAuthRequestCheckState(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, want, got string
		ok              bool
	}{
		{"equal", "abc123", "abc123", true},
		{"different", "abc123", "abc124", false},
		{"prefix", "abc123", "abc12", false},
		{"missing", "abc123", "", false},
		{"never started", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := (&vat.AuthRequest{State: tt.want}).CheckState(tt.got)
			if tt.ok {
				assert.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, vat.ErrStateMismatch)
			}
		})
	}
}

// signInAt follows the fake's authorize endpoint without a listener and
// returns the redirect's query.
func signInAt(t *testing.T, f *fakeOAuth, cfg *oauth2.Config, ar *vat.AuthRequest) url.Values {
	t.Helper()
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Get(ar.AuthCodeURL(cfg))
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	return loc.Query()
}

func TestAuthRequestExchange(t *testing.T) {
	t.Parallel()
	clock := newAuthClock()
	f := newFakeOAuth(t, clock)
	cfg := f.config(t, "https://app.example.com/cb")
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, f.srv.Client())

	t.Run("success", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		tok, err := ar.Exchange(ctx, cfg, signInAt(t, f, cfg, ar))
		require.NoError(t, err)
		assert.True(t, f.accepts(t, tok))
		assert.NotEmpty(t, tok.RefreshToken)
		assert.Zero(t, tok.ExpiresIn)
		assert.WithinDuration(t, time.Now().Add(4*time.Hour), tok.Expiry, time.Minute)
		assert.Equal(t, "read:vat write:vat", tok.Extra("scope"))
	})
	t.Run("reused code", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		cb := signInAt(t, f, cfg, ar)
		_, err := ar.Exchange(ctx, cfg, cb)
		require.NoError(t, err)
		_, err = ar.Exchange(ctx, cfg, cb)
		noSecret(t, err)
		var te *vat.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, vat.TokenError{Grant: "authorization_code", StatusCode: 400, Code: "invalid_request", Description: "code is invalid"}, *te)
		assert.NotErrorIs(t, err, vat.ErrReauthorizationRequired)
		f.noLeakErr(t, err)
	})
	t.Run("expired code", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		cb := signInAt(t, f, cfg, ar)
		clock.Advance(11 * time.Minute)
		_, err := ar.Exchange(ctx, cfg, cb)
		noSecret(t, err)
		var te *vat.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "invalid_request", te.Code)
		assert.Contains(t, err.Error(), `"code is invalid"`)
		f.noLeakErr(t, err)
	})
	t.Run("wrong verifier", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		cb := signInAt(t, f, cfg, ar)
		ar.Verifier = oauth2.GenerateVerifier()
		_, err := ar.Exchange(ctx, cfg, cb)
		noSecret(t, err)
		var te *vat.TokenError
		require.ErrorAs(t, err, &te)
		assert.Equal(t, "invalid_grant", te.Code)
		assert.NotErrorIs(t, err, vat.ErrReauthorizationRequired, "invalid_grant on a code exchange is not about the refresh token")
		f.noLeakErr(t, err)
	})
	t.Run("state mismatch is refused before the code is used", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		cb := signInAt(t, f, cfg, ar)
		before := f.count().Code
		cb.Set("state", "forged")
		_, err := ar.Exchange(ctx, cfg, cb)
		noSecret(t, err)
		assert.ErrorIs(t, err, vat.ErrStateMismatch)
		assert.Equal(t, before, f.count().Code)
	})
	t.Run("denied", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		_, err := ar.Exchange(ctx, cfg, url.Values{
			"state": {ar.State}, "error": {"access_denied"}, "error_code": {"USER_DENIED_AUTHORIZATION"},
			"error_description": {"user denied the authorization"},
		})
		assert.ErrorIs(t, err, vat.ErrUserDeniedAuthorization)
		var ae *vat.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.Equal(t, vat.AuthorizationError{Err: "access_denied", ErrorCode: "USER_DENIED_AUTHORIZATION", Description: "user denied the authorization"}, *ae)
		assert.Equal(t, `vat: HMRC sign-in did not grant access: access_denied (USER_DENIED_AUTHORIZATION): "user denied the authorization"`, err.Error())
	})
	t.Run("other error", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		_, err := ar.Exchange(ctx, cfg, url.Values{
			"state": {ar.State}, "error": {"access_denied"}, "error_code": {"SOMETHING_ELSE"},
			"error_description": {"line one\r\nforged log line"},
		})
		var ae *vat.AuthorizationError
		require.ErrorAs(t, err, &ae)
		assert.NotErrorIs(t, err, vat.ErrUserDeniedAuthorization)
		assert.NotContains(t, err.Error(), "\n", "control characters from the redirect are dropped")
	})
	t.Run("no code", func(t *testing.T) {
		ar := vat.NewAuthRequest()
		_, err := ar.Exchange(ctx, cfg, url.Values{"state": {ar.State}})
		noSecret(t, err)
		assert.ErrorContains(t, err, "neither a code nor an error")
		_, err = ar.Exchange(ctx, nil, url.Values{"state": {ar.State}})
		noSecret(t, err)
		assert.ErrorContains(t, err, "nil *oauth2.Config")
	})
}

// newUserSource returns a UserTokenSource on the fake, with the test clock.
func newUserSource(t *testing.T, f *fakeOAuth, store vat.TokenStore, opts ...vat.TokenOption) *vat.UserTokenSource {
	t.Helper()
	opts = append([]vat.TokenOption{vat.WithTokenHTTPClient(f.srv.Client()), vat.WithTokenClock(f.clock.Now)}, opts...)
	ts, err := vat.NewUserTokenSource(f.config(t, ""), store, opts...)
	require.NoError(t, err)
	return ts
}

func TestUserTokenSourceImplementsContracts(t *testing.T) {
	t.Parallel()
	var ts any = &vat.UserTokenSource{}
	_, ok := ts.(oauth2.TokenSource)
	assert.True(t, ok)
	_, ok = ts.(vat.ContextTokenSource)
	assert.True(t, ok)
	_, ok = ts.(vat.RefreshingTokenSource)
	assert.True(t, ok)
}

func TestNewUserTokenSourceRefusesBadInput(t *testing.T) {
	t.Parallel()
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: "id", ClientSecret: fakeSecret})
	require.NoError(t, err)
	store := vat.NewMemoryStore(nil)
	withoutSecret := *cfg
	withoutSecret.ClientSecret = ""
	noTokenURL := *cfg
	noTokenURL.Endpoint.TokenURL = ""
	tests := []struct {
		name  string
		cfg   *oauth2.Config
		store vat.TokenStore
		opts  []vat.TokenOption
		want  string
	}{
		{"nil config", nil, store, nil, "nil *oauth2.Config"},
		{"nil store", cfg, nil, nil, "nil TokenStore"},
		{"no secret", &withoutSecret, store, nil, "ClientSecret is empty"},
		{"no token URL", &noTokenURL, store, nil, "TokenURL is empty"},
		{"negative margin", cfg, store, []vat.TokenOption{vat.WithRefreshMargin(-time.Second)}, "WithRefreshMargin"},
		{"huge margin", cfg, store, []vat.TokenOption{vat.WithRefreshMargin(2 * time.Hour)}, "WithRefreshMargin"},
		{"nil clock", cfg, store, []vat.TokenOption{vat.WithTokenClock(nil)}, "WithTokenClock"},
		{"nil client", cfg, store, []vat.TokenOption{vat.WithTokenHTTPClient(nil)}, "WithTokenHTTPClient"},
		{"nil hook", cfg, store, []vat.TokenOption{vat.WithRefreshHook(nil)}, "WithRefreshHook"},
		{"nil option", cfg, store, []vat.TokenOption{nil}, "nil TokenOption"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ts, err := vat.NewUserTokenSource(tt.cfg, tt.store, tt.opts...)
			noSecret(t, err)
			assert.Nil(t, ts)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
			assert.NotContains(t, err.Error(), fakeSecret)
		})
	}
}

func TestUserTokenSourceLoadsLazily(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	tok := f.grant()
	store := &countingStore{TokenStore: vat.NewMemoryStore(tok)}
	ts := newUserSource(t, f, store)
	assert.Zero(t, store.loads.Load(), "nothing is read at construction")

	for range 3 {
		got, err := ts.TokenContext(context.Background())
		require.NoError(t, err)
		assert.Equal(t, tok.AccessToken, got.AccessToken)
	}
	assert.Equal(t, int32(1), store.loads.Load(), "loaded once, then served from memory")
	assert.Zero(t, f.count().Refresh)

	got, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, got.AccessToken, "Token works like TokenContext")
	got.AccessToken = "scribbled"
	again, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "callers get copies")
}

func TestUserTokenSourceNoToken(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	ts := newUserSource(t, f, vat.NewMemoryStore(nil))
	_, err := ts.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrNoToken)
	assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	assert.Contains(t, err.Error(), "must sign in")

	// An expired token without a refresh token cannot be renewed either.
	expired := &oauth2.Token{AccessToken: "at-old-" + leakMarker, Expiry: f.clock.Now().Add(-time.Hour)}
	ts = newUserSource(t, f, vat.NewMemoryStore(expired))
	_, err = ts.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	f.noLeakErr(t, err)
	assert.Zero(t, f.count().Refresh)
}

func TestUserTokenSourceRefreshesWithinMargin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		opts        []vat.TokenOption
		advance     time.Duration
		wantRefresh bool
	}{
		{"default margin, well before", nil, 4*time.Hour - 5*time.Minute - time.Second, false},
		{"default margin, at the margin", nil, 4*time.Hour - 5*time.Minute, true},
		{"one-minute margin, before", []vat.TokenOption{vat.WithRefreshMargin(time.Minute)}, 4*time.Hour - 2*time.Minute, false},
		{"one-minute margin, inside", []vat.TokenOption{vat.WithRefreshMargin(time.Minute)}, 4*time.Hour - 30*time.Second, true},
		{"zero margin, just before", []vat.TokenOption{vat.WithRefreshMargin(0)}, 4*time.Hour - time.Second, false},
		{"zero margin, expired", []vat.TokenOption{vat.WithRefreshMargin(0)}, 4 * time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeOAuth(t, newAuthClock())
			tok := f.grant()
			store := vat.NewMemoryStore(tok)
			ts := newUserSource(t, f, store, tt.opts...)
			f.clock.Advance(tt.advance)
			got, err := ts.TokenContext(context.Background())
			require.NoError(t, err)
			if !tt.wantRefresh {
				assert.Equal(t, tok.AccessToken, got.AccessToken)
				assert.Zero(t, f.count().Refresh)
				return
			}
			assert.NotEqual(t, tok.AccessToken, got.AccessToken)
			assert.Equal(t, 1, f.count().RefreshOK)
			assert.True(t, f.accepts(t, got))
			assert.Equal(t, f.clock.Now().Add(4*time.Hour), got.Expiry, "expiry counts from the source's clock")
			saved, err := store.Load(context.Background())
			require.NoError(t, err)
			assert.Equal(t, got.AccessToken, saved.AccessToken)
			assert.Equal(t, got.RefreshToken, saved.RefreshToken)
		})
	}
}

// TestUserTokenSourceNoTokenLost drives a user's token through 18 months
// of four-hourly refreshes: every token handed out works, the store always
// holds the newest refresh token, and no refresh token is ever spent twice.
func TestUserTokenSourceNoTokenLost(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	ts := newUserSource(t, f, store)

	refreshes := 0
	for f.clock.Now().Before(time.Date(2026, 9, 30, 0, 0, 0, 0, time.UTC)) {
		tok, err := ts.TokenContext(context.Background())
		require.NoError(t, err)
		require.True(t, f.accepts(t, tok), "token handed out at %v is rejected", f.clock.Now())
		saved, err := store.Load(context.Background())
		require.NoError(t, err)
		require.Equal(t, tok.RefreshToken, saved.RefreshToken, "the store holds the newest refresh token")
		f.clock.Advance(4 * time.Hour)
		refreshes++
	}
	c := f.count()
	assert.Equal(t, refreshes-1, c.RefreshOK, "one refresh per four hours")
	assert.Equal(t, c.Refresh, c.RefreshOK, "every refresh succeeded")
	assert.Zero(t, c.ReusedRefresh)
	assert.Equal(t, c.RefreshOK, store.Saves())

	// Past 18 months HMRC refuses the refresh: the user must sign in again.
	f.clock.Advance(30 * 24 * time.Hour)
	_, err := ts.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	f.noLeakErr(t, err)
}

func TestUserTokenSourceConcurrentRefreshOnce(t *testing.T) {
	noLeakedGoroutines(t) // not parallel: no other test may run meanwhile
	const n = 100
	f := newFakeOAuth(t, newAuthClock())
	f.refreshDelay = 20 * time.Millisecond // let the callers pile up
	old := f.grant()
	store := vat.NewMemoryStore(old)
	var hooks atomic.Int32
	ts := newUserSource(t, f, store, vat.WithRefreshHook(func(context.Context, vat.TokenRefresh) { hooks.Add(1) }))
	_, err := ts.TokenContext(context.Background()) // loaded, valid
	require.NoError(t, err)
	f.clock.Advance(5 * time.Hour) // now expired

	start := make(chan struct{})
	tokens := make([]*oauth2.Token, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			tokens[i], errs[i] = ts.TokenContext(context.Background())
			noSecret(t, errs[i])
		}()
	}
	close(start)
	wg.Wait()

	for i := range n {
		require.NoError(t, errs[i])
		assert.Equal(t, tokens[0].AccessToken, tokens[i].AccessToken)
	}
	c := f.count()
	assert.Equal(t, 1, c.Refresh, "%d goroutines on an expired token cause exactly one refresh", n)
	assert.Equal(t, 1, store.Saves())
	assert.Equal(t, int32(1), hooks.Load())
	assert.NotEqual(t, old.AccessToken, tokens[0].AccessToken)
	assert.True(t, f.accepts(t, tokens[0]))
	t.Logf("%d goroutines -> %d refresh call(s)", n, c.Refresh)
}

func TestUserTokenSourceWaitRespectsContext(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	f.refreshGate = make(chan struct{})
	f.refreshEntered = make(chan struct{}, 1)
	store := vat.NewMemoryStore(f.grant())
	ts := newUserSource(t, f, store)
	f.clock.Advance(5 * time.Hour)

	first := make(chan tokenOrErr, 1)
	go func() {
		tok, err := ts.TokenContext(context.Background())
		noSecret(t, err)
		first <- tokenOrErr{tok, err}
	}()
	<-f.refreshEntered // the first caller is refreshing

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := ts.TokenContext(ctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a waiter gives up with its own context")
	assert.Contains(t, err.Error(), "waiting for another goroutine's token refresh")

	close(f.refreshGate)
	r := <-first
	require.NoError(t, r.err, "the refreshing caller is unaffected")
	assert.True(t, f.accepts(t, r.tok))
	assert.Equal(t, 1, f.count().Refresh)
}

type tokenOrErr struct {
	tok *oauth2.Token
	err error
}

// TestUserTokenSourceCallerGivesUpMidRefresh: the caller's context ends
// while HMRC is answering the refresh. The caller returns at once, but the
// answer is still saved, so the grant is not lost.
func TestUserTokenSourceCallerGivesUpMidRefresh(t *testing.T) {
	noLeakedGoroutines(t) // not parallel: no other test may run meanwhile
	f := newFakeOAuth(t, newAuthClock())
	f.refreshGate = make(chan struct{})
	f.refreshEntered = make(chan struct{}, 1)
	store := vat.NewMemoryStore(f.grant())
	ts := newUserSource(t, f, store)
	f.clock.Advance(5 * time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := ts.TokenContext(ctx)
		noSecret(t, err)
		done <- err
	}()
	<-f.refreshEntered
	cancel()
	err := <-done
	assert.ErrorIs(t, err, context.Canceled)
	assert.Contains(t, err.Error(), "goes on and saves its result")

	close(f.refreshGate) // HMRC answers after the caller left
	tok, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
	saved, err := store.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok.RefreshToken, saved.RefreshToken)
	c := f.count()
	assert.Equal(t, 1, c.Refresh)
	assert.Zero(t, c.ReusedRefresh)
}

func TestUserTokenSourceUsesCallerContext(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	// No WithTokenHTTPClient: the HTTP client comes from the caller's context.
	ts, err := vat.NewUserTokenSource(f.config(t, ""), store, vat.WithTokenClock(f.clock.Now))
	require.NoError(t, err)
	f.clock.Advance(5 * time.Hour)

	var used atomic.Int32
	hc := &http.Client{Transport: authRoundTripFunc(func(r *http.Request) (*http.Response, error) {
		used.Add(1)
		return f.srv.Client().Transport.RoundTrip(r)
	})}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	tok, err := ts.TokenContext(ctx)
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
	assert.Equal(t, int32(1), used.Load(), "the refresh went through the caller's context")

	// An already-cancelled context stops the caller before anything is sent.
	f.clock.Advance(5 * time.Hour)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ts.TokenContext(cctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 1, f.count().Refresh)
}

type authRoundTripFunc func(*http.Request) (*http.Response, error)

func (f authRoundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestUserTokenSourceSaveFailure: HMRC rotates the token but the store
// cannot save it. The caller gets an error, not a token; the new refresh
// token stays in memory, and once the store works again it is saved
// without another refresh.
func TestUserTokenSourceSaveFailure(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	old := f.grant()
	store := vat.NewMemoryStore(old)
	var events []vat.TokenRefresh
	ts := newUserSource(t, f, store, vat.WithRefreshHook(func(_ context.Context, e vat.TokenRefresh) { events = append(events, e) }))
	f.clock.Advance(5 * time.Hour)

	diskFull := errors.New("disk full")
	store.FailSaves(diskFull)
	for range 2 {
		tok, err := ts.TokenContext(context.Background())
		noSecret(t, err)
		assert.Nil(t, tok)
		assert.ErrorIs(t, err, vat.ErrTokenNotSaved)
		assert.ErrorIs(t, err, diskFull)
		assert.Contains(t, err.Error(), "could not be saved")
		f.noLeakErr(t, err)
	}
	assert.Equal(t, 1, f.count().Refresh, "the save is retried, not the refresh")
	saved, err := store.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, old.RefreshToken, saved.RefreshToken, "the store still holds the old token")
	assert.Empty(t, events)

	store.FailSaves(nil)
	tok, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
	saved, err = store.Load(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok.RefreshToken, saved.RefreshToken)
	c := f.count()
	assert.Equal(t, 1, c.Refresh)
	assert.Zero(t, c.ReusedRefresh)
	require.Len(t, events, 1)
	assert.True(t, events[0].Retried)

	// Later refreshes go on from the saved token.
	f.clock.Advance(5 * time.Hour)
	tok, err = ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
	assert.Zero(t, f.count().ReusedRefresh)
}

// TestUserTokenSourceUnsavedTokenExpires: the unsaved token expires before
// the store works again. It is saved first, then refreshed from: its refresh
// token is the only valid one.
func TestUserTokenSourceUnsavedTokenExpires(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	var events []vat.TokenRefresh
	ts := newUserSource(t, f, store, vat.WithRefreshHook(func(_ context.Context, e vat.TokenRefresh) { events = append(events, e) }))
	f.clock.Advance(5 * time.Hour)
	store.FailSaves(errors.New("read-only file system"))
	_, err := ts.TokenContext(context.Background())
	require.ErrorIs(t, err, vat.ErrTokenNotSaved)
	noSecret(t, err)

	f.clock.Advance(5 * time.Hour)
	store.FailSaves(nil)
	tok, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
	c := f.count()
	assert.Equal(t, 2, c.RefreshOK)
	assert.Zero(t, c.ReusedRefresh)
	assert.Equal(t, 2, store.Saves())
	require.Len(t, events, 2)
	assert.True(t, events[0].Retried)
	assert.False(t, events[1].Retried)
}

// TestUserTokenSourceCrashBeforeSave: if the process stops between HMRC's
// answer and a successful save, the stored refresh token is spent. A new
// process fails cleanly with ErrReauthorizationRequired (HMRC refuses the
// reuse); it never hands out a token that does not work.
func TestUserTokenSourceCrashBeforeSave(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	crashed := newUserSource(t, f, store)
	f.clock.Advance(5 * time.Hour)
	store.FailSaves(errors.New("power cut"))
	_, err := crashed.TokenContext(context.Background())
	noSecret(t, err)
	require.ErrorIs(t, err, vat.ErrTokenNotSaved)
	store.FailSaves(nil)

	restarted := newUserSource(t, f, store)
	_, err = restarted.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	f.noLeakErr(t, err)
	assert.Equal(t, 1, f.count().ReusedRefresh, "the fake saw the spent refresh token again")
}

func TestUserTokenSourceGrantExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	ts := newUserSource(t, f, store)
	f.endGrants()
	f.clock.Advance(5 * time.Hour)

	_, err := ts.TokenContext(context.Background())
	noSecret(t, err)
	require.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	var te *vat.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, vat.TokenError{Grant: "refresh_token", StatusCode: 400, Code: "invalid_grant", Description: "refresh_token is invalid"}, *te)
	assert.Contains(t, err.Error(), "must sign in to HMRC again")
	f.noLeakErr(t, err)
	refreshes := f.count().Refresh

	_, err = ts.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	assert.Equal(t, refreshes, f.count().Refresh, "a refused refresh token is not sent again")

	// After the user signs in again (a new token saved), it works again.
	fresh := f.grant()
	require.NoError(t, store.Save(context.Background(), fresh))
	tok, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, fresh.AccessToken, tok.AccessToken)
}

func TestUserTokenSourceTokenEndpointErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		failure *fakeFailure
		echo    bool
		want    vat.TokenError
	}{
		{"invalid client", &fakeFailure{401, "application/json", `{"error":"invalid_client","error_description":"invalid client id or secret"}`}, false,
			vat.TokenError{Grant: "refresh_token", StatusCode: 401, Code: "invalid_client", Description: "invalid client id or secret"}},
		{"refresh in progress", &fakeFailure{400, "application/json", `{"error":"invalid_request","error_description":"Refresh operation is already in progress"}`}, false,
			vat.TokenError{Grant: "refresh_token", StatusCode: 400, Code: "invalid_request", Description: "Refresh operation is already in progress"}},
		{"server error with a body", &fakeFailure{502, "text/html", "<html>proxy error BODY-" + leakMarker + "</html>"}, false,
			vat.TokenError{Grant: "refresh_token", StatusCode: 502}},
		{"description quoting the refresh token", nil, true,
			vat.TokenError{Grant: "refresh_token", StatusCode: 400, Code: "invalid_grant", Description: "refresh_token [redacted] is invalid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeOAuth(t, newAuthClock())
			tok := f.grant()
			if tt.echo {
				f.endGrants()
			}
			f.refreshFailure, f.echoRefresh = tt.failure, tt.echo
			ts := newUserSource(t, f, vat.NewMemoryStore(tok))
			f.clock.Advance(5 * time.Hour)
			_, err := ts.TokenContext(context.Background())
			noSecret(t, err)
			var te *vat.TokenError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, tt.want, *te)
			assert.Equal(t, tt.want.Code == "invalid_grant", errors.Is(err, vat.ErrReauthorizationRequired))
			f.noLeakErr(t, err)
			assert.NotContains(t, err.Error(), "BODY-")
		})
	}
}

func TestUserTokenSourceRefreshToken(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	var events []vat.TokenRefresh
	ts := newUserSource(t, f, store, vat.WithRefreshHook(func(_ context.Context, e vat.TokenRefresh) { events = append(events, e) }))
	ctx := context.Background()

	first, err := ts.TokenContext(ctx)
	require.NoError(t, err)
	second, err := ts.RefreshToken(ctx, first)
	require.NoError(t, err)
	assert.NotEqual(t, first.AccessToken, second.AccessToken, "the rejected token is replaced although not yet expired")
	assert.Equal(t, 1, f.count().Refresh)
	assert.False(t, f.accepts(t, first), "refreshing invalidated the previous access token")
	assert.True(t, f.accepts(t, second))
	require.Len(t, events, 1)
	assert.True(t, events[0].Rejected)

	// A late caller reports the old token: someone already refreshed.
	again, err := ts.RefreshToken(ctx, first)
	require.NoError(t, err)
	assert.Equal(t, second.AccessToken, again.AccessToken)
	assert.Equal(t, 1, f.count().Refresh, "no second refresh for an already-replaced token")

	// Many goroutines reporting the same rejected token: one refresh.
	var wg sync.WaitGroup
	got := make([]*oauth2.Token, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = ts.RefreshToken(ctx, second)
		}()
	}
	wg.Wait()
	assert.Equal(t, 2, f.count().Refresh)
	for _, g := range got {
		require.NotNil(t, g)
		assert.Equal(t, got[0].AccessToken, g.AccessToken)
	}

	_, err = ts.RefreshToken(ctx, nil)
	noSecret(t, err)
	assert.ErrorContains(t, err, "no rejected access token")
	_, err = ts.RefreshToken(ctx, &oauth2.Token{})
	noSecret(t, err)
	assert.ErrorContains(t, err, "no rejected access token")
	//lint:ignore SA1012 checking that a nil context is refused, not a panic
	_, err = ts.RefreshToken(nil, first)
	noSecret(t, err)
	assert.ErrorContains(t, err, "nil context")
	//lint:ignore SA1012 checking that a nil context is refused, not a panic
	_, err = ts.TokenContext(nil)
	noSecret(t, err)
	assert.ErrorContains(t, err, "nil context")
}

// TestUserTokenSourceClockSkew: HMRC considers the access token expired
// three minutes before the expiry this machine computed. The default
// five-minute margin refreshes in time; with no margin, the 401 that
// follows is answered by RefreshToken.
func TestUserTokenSourceClockSkew(t *testing.T) {
	t.Parallel()
	t.Run("margin absorbs the skew", func(t *testing.T) {
		t.Parallel()
		f := newFakeOAuth(t, newAuthClock())
		f.earlyExpiry = 3 * time.Minute
		old := f.grant()
		ts := newUserSource(t, f, vat.NewMemoryStore(old))
		f.clock.Advance(4*time.Hour - 2*time.Minute)
		require.False(t, f.accepts(t, old), "HMRC already considers the old token expired")
		tok, err := ts.TokenContext(context.Background())
		require.NoError(t, err)
		assert.True(t, f.accepts(t, tok))
	})
	t.Run("401 then RefreshToken", func(t *testing.T) {
		t.Parallel()
		f := newFakeOAuth(t, newAuthClock())
		f.earlyExpiry = 3 * time.Minute
		ts := newUserSource(t, f, vat.NewMemoryStore(f.grant()), vat.WithRefreshMargin(0))
		f.clock.Advance(4*time.Hour - 2*time.Minute)
		tok, err := ts.TokenContext(context.Background())
		require.NoError(t, err)
		require.False(t, f.accepts(t, tok), "this machine thinks the token is valid, HMRC does not")
		tok, err = ts.RefreshToken(context.Background(), tok)
		require.NoError(t, err)
		assert.True(t, f.accepts(t, tok))
		assert.Equal(t, 1, f.count().Refresh)
	})
}

// TestUserTokenSourceTokenWithoutExpiry: a stored token with no expiry is
// used until HMRC rejects it.
func TestUserTokenSourceTokenWithoutExpiry(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	tok := f.grant()
	tok.Expiry = time.Time{}
	ts := newUserSource(t, f, vat.NewMemoryStore(tok))
	f.clock.Advance(10 * time.Hour)
	got, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, got.AccessToken)
	assert.Zero(t, f.count().Refresh)
	got, err = ts.RefreshToken(context.Background(), got)
	require.NoError(t, err)
	assert.True(t, f.accepts(t, got))
	assert.False(t, got.Expiry.IsZero(), "the new token's expiry is known")
}

// TestUserTokenSourceShortLivedToken: a token lasting less than twice the
// margin is renewed at half its lifetime, not on every call.
func TestUserTokenSourceShortLivedToken(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	ts := newUserSource(t, f, store, vat.WithRefreshMargin(time.Hour))
	f.clock.Advance(5 * time.Hour)
	_, err := ts.TokenContext(context.Background()) // refreshed: lives 4h, margin capped at 2h
	require.NoError(t, err)
	f.clock.Advance(90 * time.Minute)
	_, err = ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, f.count().Refresh)
}

// TestUserTokenSourcesShareStore: two token sources on one store (as two
// processes on one file) never spend the same refresh token, and each picks
// up the other's refresh instead of refreshing again.
func TestUserTokenSourcesShareStore(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	store := vat.NewMemoryStore(f.grant())
	a, b := newUserSource(t, f, store), newUserSource(t, f, store)
	ta, err := a.TokenContext(context.Background())
	require.NoError(t, err)
	tb, err := b.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ta.AccessToken, tb.AccessToken)

	f.clock.Advance(5 * time.Hour)
	ta, err = a.TokenContext(context.Background())
	require.NoError(t, err)
	tb, err = b.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, ta.AccessToken, tb.AccessToken, "b found a's token in the store")
	assert.Equal(t, 1, f.count().Refresh)

	// a refreshes after a rejection; b still holds the old token and gets a
	// 401, and RefreshToken finds a's new token instead of refreshing.
	ta, err = a.RefreshToken(context.Background(), ta)
	require.NoError(t, err)
	tb, err = b.TokenContext(context.Background())
	require.NoError(t, err)
	require.False(t, f.accepts(t, tb))
	tb, err = b.RefreshToken(context.Background(), tb)
	require.NoError(t, err)
	assert.Equal(t, ta.AccessToken, tb.AccessToken)
	c := f.count()
	assert.Equal(t, 2, c.Refresh)
	assert.Zero(t, c.ReusedRefresh)
}

// unlockedStore hides the store's Lock and, once, answers Load with a stale
// token, as a store without locking would when another writer races it.
type unlockedStore struct {
	vat.TokenStore
	mu    sync.Mutex
	stale *oauth2.Token
}

func (s *unlockedStore) Load(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	stale := s.stale
	s.stale = nil
	s.mu.Unlock()
	if stale != nil {
		return stale, nil
	}
	return s.TokenStore.Load(ctx)
}

// TestUserTokenSourceRecoversFromRacingWriter: with a store that has no
// lock, another writer rotates the token between this source's read and its
// refresh. HMRC refuses the spent refresh token; the source reads the store
// again and uses the other writer's token.
func TestUserTokenSourceRecoversFromRacingWriter(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	old := f.grant()
	mem := vat.NewMemoryStore(old)
	other := newUserSource(t, f, mem)
	f.clock.Advance(5 * time.Hour)
	theirs, err := other.TokenContext(context.Background())
	require.NoError(t, err)

	store := &unlockedStore{TokenStore: mem, stale: old}
	ts := newUserSource(t, f, store)
	tok, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	assert.Equal(t, theirs.AccessToken, tok.AccessToken)
	assert.True(t, f.accepts(t, tok))
}

func TestUserTokenSourceHookCarriesNoSecrets(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	var lines []string
	var saved []string
	store := vat.NewMemoryStore(f.grant())
	ts := newUserSource(t, f, store, vat.WithRefreshHook(func(ctx context.Context, e vat.TokenRefresh) {
		lines = append(lines, fmt.Sprintf("token rotated: %+v %v", e, e))
		s, err := store.Load(ctx)
		if assert.NoError(t, err) {
			saved = append(saved, s.AccessToken)
		}
	}))
	f.clock.Advance(5 * time.Hour)
	tok, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	require.Len(t, lines, 1)
	f.noLeak(t, lines...)
	assert.Equal(t, []string{tok.AccessToken}, saved, "the hook runs after the save")
	assert.Contains(t, lines[0], "Expiry:")
}

type countingStore struct {
	vat.TokenStore
	loads atomic.Int32
}

func (s *countingStore) Load(ctx context.Context) (*oauth2.Token, error) {
	s.loads.Add(1)
	return s.TokenStore.Load(ctx)
}

func newAppSource(t *testing.T, f *fakeOAuth, scopes []string, opts ...vat.TokenOption) *vat.ApplicationTokenSource {
	t.Helper()
	opts = append([]vat.TokenOption{vat.WithTokenHTTPClient(f.srv.Client()), vat.WithTokenClock(f.clock.Now)}, opts...)
	ts, err := vat.NewApplicationTokenSource(f.config(t, ""), scopes, opts...)
	require.NoError(t, err)
	return ts
}

func TestApplicationTokenSource(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	var hooks atomic.Int32
	ts := newAppSource(t, f, []string{vat.ScopeReadVAT, "other:scope"},
		vat.WithRefreshHook(func(context.Context, vat.TokenRefresh) { hooks.Add(1) }))
	ctx := context.Background()

	var wg sync.WaitGroup
	got := make([]*oauth2.Token, 20)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[i], _ = ts.TokenContext(ctx)
		}()
	}
	wg.Wait()
	for _, g := range got {
		require.NotNil(t, g)
		assert.Equal(t, got[0].AccessToken, g.AccessToken)
	}
	assert.Equal(t, 1, f.count().ClientCredentials, "one request for concurrent callers")
	assert.Empty(t, got[0].RefreshToken)
	assert.Equal(t, f.clock.Now().Add(4*time.Hour), got[0].Expiry)

	f.clock.Advance(4*time.Hour - 5*time.Minute - time.Second)
	tok, err := ts.Token()
	require.NoError(t, err)
	assert.Equal(t, got[0].AccessToken, tok.AccessToken, "cached until shortly before expiry")
	f.clock.Advance(time.Second)
	tok, err = ts.TokenContext(ctx)
	require.NoError(t, err)
	assert.NotEqual(t, got[0].AccessToken, tok.AccessToken)
	assert.Equal(t, 2, f.count().ClientCredentials)

	again, err := ts.RefreshToken(ctx, got[0])
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, again.AccessToken, "an already-replaced token is not refreshed")
	again, err = ts.RefreshToken(ctx, tok)
	require.NoError(t, err)
	assert.NotEqual(t, tok.AccessToken, again.AccessToken)
	assert.Equal(t, 3, f.count().ClientCredentials)
	assert.Equal(t, int32(3), hooks.Load())

	f.mu.Lock()
	assert.Equal(t, []string{"read:vat other:scope", "read:vat other:scope", "read:vat other:scope"}, f.scopes)
	assert.Empty(t, f.headers, "credentials go in the form body, never a header")
	f.mu.Unlock()
	assert.False(t, f.accepts(t, again), "an application token does not open user-restricted endpoints")

	_, err = ts.RefreshToken(ctx, nil)
	noSecret(t, err)
	assert.Error(t, err)
	//lint:ignore SA1012 checking that a nil context is refused, not a panic
	_, err = ts.RefreshToken(nil, again)
	noSecret(t, err)
	assert.ErrorContains(t, err, "nil context")
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = ts.RefreshToken(cctx, again)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestApplicationTokenSourceNoScopes(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	ts := newAppSource(t, f, nil)
	_, err := ts.TokenContext(context.Background())
	require.NoError(t, err)
	f.mu.Lock()
	defer f.mu.Unlock()
	assert.Equal(t, []string{""}, f.scopes, "Create Test User needs no scope")
}

func TestApplicationTokenSourceErrors(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	cfg := f.config(t, "")
	cfg.ClientSecret = "wrong-" + leakMarker
	ts, err := vat.NewApplicationTokenSource(cfg, nil, vat.WithTokenHTTPClient(f.srv.Client()))
	require.NoError(t, err)
	_, err = ts.TokenContext(context.Background())
	noSecret(t, err)
	var te *vat.TokenError
	require.ErrorAs(t, err, &te)
	assert.Equal(t, vat.TokenError{Grant: "client_credentials", StatusCode: 401, Code: "invalid_client", Description: "invalid client id or secret"}, *te)
	assert.NotContains(t, err.Error(), leakMarker)

	_, err = vat.NewApplicationTokenSource(nil, nil)
	noSecret(t, err)
	assert.ErrorContains(t, err, "nil *oauth2.Config")
	_, err = vat.NewApplicationTokenSource(f.config(t, ""), []string{"a+b"})
	noSecret(t, err)
	assert.ErrorContains(t, err, `"+"`)
	_, err = vat.NewApplicationTokenSource(f.config(t, ""), nil, vat.WithRefreshMargin(-1))
	noSecret(t, err)
	assert.ErrorContains(t, err, "WithRefreshMargin")
	//lint:ignore SA1012 checking that a nil context is refused, not a panic
	_, err = ts.TokenContext(nil)
	noSecret(t, err)
	assert.ErrorContains(t, err, "nil context")

	// A transport failure is wrapped, with the cause kept for errors.Is.
	ts, err = vat.NewApplicationTokenSource(f.config(t, ""), nil, vat.WithTokenHTTPClient(&http.Client{
		Transport: authRoundTripFunc(func(*http.Request) (*http.Response, error) { return nil, errAuthTransport }),
	}))
	require.NoError(t, err)
	_, err = ts.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, errAuthTransport)
	assert.True(t, strings.HasPrefix(err.Error(), "vat: requesting an application token: "))
}

var errAuthTransport = errors.New("connection refused")

// FuzzValidateRedirectURL checks that whatever ValidateRedirectURL accepts
// follows HMRC's rules, and that nothing makes it panic.
func FuzzValidateRedirectURL(f *testing.F) {
	for _, s := range []string{
		"https://www.example.com/cb?x=1", "http://localhost:8080/cb", vat.RedirectOOB, vat.RedirectOOBAuto,
		"https://203.0.113.11/", "http://[::1]:80/", "https://x/#f", "http://localhost", "https://0x7f.1/", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if vat.ValidateRedirectURL(s) != nil || s == vat.RedirectOOB || s == vat.RedirectOOBAuto {
			return
		}
		u, err := url.Parse(s)
		require.NoError(t, err)
		assert.NotContains(t, s, "#")
		assert.NotEmpty(t, u.Hostname())
		switch u.Scheme {
		case "https":
		case "http":
			assert.True(t, strings.EqualFold(u.Hostname(), "localhost"), "http only for localhost: %q", s)
			assert.NotEmpty(t, u.Port())
		default:
			t.Fatalf("accepted scheme %q in %q", u.Scheme, s)
		}
	})
}

// locklessStore is a TokenStore without TokenStoreLocker, as a database
// store may be. If gate is set, Save waits for it to close first.
type locklessStore struct {
	mem  *vat.MemoryStore
	gate chan struct{}
}

func (s *locklessStore) Load(ctx context.Context) (*oauth2.Token, error) { return s.mem.Load(ctx) }

func (s *locklessStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if s.gate != nil {
		<-s.gate
	}
	return s.mem.Save(ctx, tok)
}

// handlerTransport serves requests with a handler in the calling goroutine,
// so that a synctest bubble can talk to the fake without a network.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	resp := rec.Result()
	resp.Request = r
	return resp, nil
}

// TestUserTokenSourcesRaceOnLocklessStore: two sources share a store that
// has no lock, and both find the token expired. The first spends the
// refresh token with HMRC but has not saved the new token yet when the
// second sends the same refresh token and HMRC refuses it. The grant is
// intact: the second source waits for the first one's save and uses its
// token, instead of telling the user to sign in again.
func TestUserTokenSourcesRaceOnLocklessStore(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	mem := vat.NewMemoryStore(f.grant())
	f.clock.Advance(5 * time.Hour)
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		hc := &http.Client{Transport: handlerTransport{f.srv.Config.Handler}}
		gate := make(chan struct{})
		a := newUserSource(t, f, &locklessStore{mem: mem, gate: gate}, vat.WithTokenHTTPClient(hc))
		b := newUserSource(t, f, &locklessStore{mem: mem}, vat.WithTokenHTTPClient(hc))

		var ta, tb *oauth2.Token
		var errA, errB error
		doneA, doneB := make(chan struct{}), make(chan struct{})
		go func() { ta, errA = a.TokenContext(ctx); close(doneA) }()
		synctest.Wait() // a has its new token from HMRC and is saving it
		require.Equal(t, 1, f.count().RefreshOK)

		go func() { tb, errB = b.TokenContext(ctx); close(doneB) }()
		synctest.Wait() // HMRC refused b's refresh token: a spent it
		require.Equal(t, 1, f.count().ReusedRefresh)

		close(gate) // a's save goes through
		<-doneA
		<-doneB
		require.NoError(t, errA)
		require.NoError(t, errB, "the grant is intact: no sign-in needed")
		assert.Equal(t, ta.AccessToken, tb.AccessToken, "b uses the token a saved")
		assert.True(t, f.accepts(t, tb))
		assert.Equal(t, 1, f.count().RefreshOK)

		// A grant that really ended is still reported, after the same
		// bounded wait.
		f.endGrants()
		f.clock.Advance(5 * time.Hour)
		start := time.Now()
		_, err := b.TokenContext(ctx)
		assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
		assert.Less(t, time.Since(start), 5*time.Second, "the wait for another writer is bounded")
	})
}

package vat_test

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
)

// Values the fake issues or is configured with all contain leakMarker, so
// any of them appearing in an error or log line is caught.
const (
	leakMarker      = "LEAKMARK"
	fakeClientID    = "client-id-1"
	fakeSecret      = "client-secret-LEAKMARK-7f3a"
	fakeAccessLife  = 4 * time.Hour
	fakeCodeLife    = 10 * time.Minute
	fakeGrantMonths = 18
)

// authClock is a settable clock shared by a token source and the fake.
type authClock struct {
	mu sync.Mutex
	t  time.Time
}

func newAuthClock() *authClock {
	return &authClock{t: time.Date(2025, 4, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *authClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *authClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeOAuth is an in-process HMRC OAuth 2.0 service: authorize, token
// (authorization_code with PKCE, refresh_token, client_credentials) and a
// user-restricted resource. Refresh tokens are single use, a refresh
// invalidates the previous access token, a reused refresh token gets 400
// invalid_grant, and grants end after 18 months (or on demand).
type fakeOAuth struct {
	srv   *httptest.Server
	clock *authClock

	mu      sync.Mutex
	seq     int
	codes   map[string]*fakeCode
	grants  []*fakeGrant
	rts     map[string]*fakeRT
	ats     map[string]*fakeAT
	issued  []string // every token and code value, for leak checks
	counts  fakeCounts
	scopes  []string // scope parameters of client_credentials requests
	headers []string // Authorization headers seen at the token endpoint

	// behaviour, set by tests before use
	earlyExpiry    time.Duration // access tokens die this long before expires_in says
	refreshDelay   time.Duration // the refresh handler sleeps this long
	refreshGate    chan struct{} // if set, the refresh handler waits for it
	refreshEntered chan struct{} // if set, signalled when a refresh arrives
	denyAuthorize  bool
	tamperState    bool
	echoRefresh    bool // error_description quotes the refresh token sent
	refreshFailure *fakeFailure
}

type fakeCounts struct {
	Refresh, RefreshOK, ReusedRefresh, Code, CodeOK, ClientCredentials, Authorize, Resource int
}

type fakeFailure struct {
	status      int
	contentType string
	body        string
}

type fakeCode struct {
	redirect, challenge string
	created             time.Time
	used                bool
}

type fakeGrant struct {
	created time.Time
	ended   bool
}

type fakeRT struct {
	grant *fakeGrant
	used  bool
	at    string // access token issued with it
}

type fakeAT struct {
	expiry  time.Time
	revoked bool
	app     bool
}

func newFakeOAuth(t *testing.T, clock *authClock) *fakeOAuth {
	t.Helper()
	f := &fakeOAuth{
		clock: clock,
		codes: map[string]*fakeCode{},
		rts:   map[string]*fakeRT{},
		ats:   map[string]*fakeAT{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /oauth/authorize", f.authorize)
	mux.HandleFunc("GET /hello/user", f.resource)
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// config returns an *oauth2.Config for the fake, built by NewOAuthConfig and
// pointed at the fake's endpoints.
func (f *fakeOAuth) config(t *testing.T, redirect string) *oauth2.Config {
	t.Helper()
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{
		ClientID: fakeClientID, ClientSecret: fakeSecret, RedirectURL: redirect,
	})
	require.NoError(t, err)
	cfg.Endpoint.AuthURL = f.srv.URL + "/oauth/authorize"
	cfg.Endpoint.TokenURL = f.srv.URL + "/oauth/token"
	return cfg
}

func (f *fakeOAuth) count() fakeCounts {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.counts
}

func (f *fakeOAuth) nextLocked(kind string) string {
	f.seq++
	v := fmt.Sprintf("%s-%d-%s", kind, f.seq, leakMarker)
	f.issued = append(f.issued, v)
	return v
}

// grant makes the fake issue a fresh grant, as if the user had signed in
// now, and returns the token a client would hold.
func (f *fakeOAuth) grant() *oauth2.Token {
	f.mu.Lock()
	defer f.mu.Unlock()
	g := &fakeGrant{created: f.clock.Now()}
	f.grants = append(f.grants, g)
	return f.issueLocked(g)
}

func (f *fakeOAuth) issueLocked(g *fakeGrant) *oauth2.Token {
	now := f.clock.Now()
	at, rt := f.nextLocked("at"), f.nextLocked("rt")
	f.ats[at] = &fakeAT{expiry: now.Add(fakeAccessLife - f.earlyExpiry)}
	f.rts[rt] = &fakeRT{grant: g, at: at}
	return &oauth2.Token{AccessToken: at, TokenType: "bearer", RefreshToken: rt, Expiry: now.Add(fakeAccessLife)}
}

// endGrants ends every grant, as 18 months passing or the user revoking
// access would.
func (f *fakeOAuth) endGrants() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, g := range f.grants {
		g.ended = true
	}
}

// accepts reports whether the resource accepts tok's access token now.
func (f *fakeOAuth) accepts(t *testing.T, tok *oauth2.Token) bool {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, f.srv.URL+"/hello/user", nil)
	require.NoError(t, err)
	tok.SetAuthHeader(req)
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

// leaks returns the secret values found in s.
func (f *fakeOAuth) leaks(s string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var found []string
	for _, v := range append([]string{fakeSecret, leakMarker}, f.issued...) {
		if strings.Contains(s, v) {
			found = append(found, v)
		}
	}
	return found
}

// noLeak fails the test if any token, code or the client secret appears in
// the texts (error strings, log lines, pages).
func (f *fakeOAuth) noLeak(t *testing.T, texts ...string) {
	t.Helper()
	for _, s := range texts {
		assert.Empty(t, f.leaks(s), "secret value in %q", s)
	}
}

// noLeakErr checks err's message; a nil err passes.
func (f *fakeOAuth) noLeakErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		f.noLeak(t, err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err))
	}
}

func oauthError(w http.ResponseWriter, status int, code, desc string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": desc})
}

func tokenJSON(w http.ResponseWriter, v map[string]any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

func (f *fakeOAuth) token(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || len(r.URL.Query()) > 0 {
		oauthError(w, 400, "invalid_request", "parameters must be in the form body")
		return
	}
	f.mu.Lock()
	if h := r.Header.Get("Authorization"); h != "" {
		f.headers = append(f.headers, h)
	}
	f.mu.Unlock()
	if r.PostForm.Get("client_id") != fakeClientID || r.PostForm.Get("client_secret") != fakeSecret {
		oauthError(w, 401, "invalid_client", "invalid client id or secret")
		return
	}
	switch r.PostForm.Get("grant_type") {
	case "refresh_token":
		f.refresh(w, r)
	case "authorization_code":
		f.exchange(w, r)
	case "client_credentials":
		f.clientCredentials(w, r)
	default:
		oauthError(w, 400, "invalid_request", "unsupported grant_type")
	}
}

func (f *fakeOAuth) refresh(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.counts.Refresh++
	gate, entered, delay, failure := f.refreshGate, f.refreshEntered, f.refreshDelay, f.refreshFailure
	f.mu.Unlock()
	if entered != nil {
		entered <- struct{}{}
	}
	if gate != nil {
		<-gate
	}
	time.Sleep(delay)
	if failure != nil {
		w.Header().Set("Content-Type", failure.contentType)
		w.WriteHeader(failure.status)
		fmt.Fprint(w, failure.body)
		return
	}

	f.mu.Lock()
	defer f.mu.Unlock()
	sent := r.PostForm.Get("refresh_token")
	rt, ok := f.rts[sent]
	desc := "refresh_token is invalid"
	if f.echoRefresh {
		desc = "refresh_token " + sent + " is invalid"
	}
	switch {
	case sent == "":
		oauthError(w, 400, "invalid_request", "refresh_token is required")
		return
	case !ok:
		oauthError(w, 400, "invalid_grant", desc)
		return
	case rt.used:
		f.counts.ReusedRefresh++
		oauthError(w, 400, "invalid_grant", desc)
		return
	case rt.grant.ended || !f.clock.Now().Before(rt.grant.created.AddDate(0, fakeGrantMonths, 0)):
		oauthError(w, 400, "invalid_grant", desc)
		return
	}
	rt.used = true
	if at := f.ats[rt.at]; at != nil {
		at.revoked = true // refreshing invalidates the previous access token
	}
	tok := f.issueLocked(rt.grant)
	f.counts.RefreshOK++
	tokenJSON(w, map[string]any{
		"access_token": tok.AccessToken, "token_type": "bearer",
		"expires_in": int(fakeAccessLife / time.Second), "refresh_token": tok.RefreshToken,
	})
}

func (f *fakeOAuth) exchange(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Code++
	c, ok := f.codes[r.PostForm.Get("code")]
	if !ok || c.used || !f.clock.Now().Before(c.created.Add(fakeCodeLife)) {
		oauthError(w, 400, "invalid_request", "code is invalid")
		return
	}
	if r.PostForm.Get("redirect_uri") != c.redirect {
		oauthError(w, 400, "invalid_request", "redirect_uri is invalid")
		return
	}
	if c.challenge != "" {
		v := r.PostForm.Get("code_verifier")
		sum := sha256.Sum256([]byte(v))
		if len(v) < 43 || len(v) > 128 {
			oauthError(w, 400, "invalid_request", "code_verifier is invalid")
			return
		}
		if base64.RawURLEncoding.EncodeToString(sum[:]) != c.challenge {
			oauthError(w, 400, "invalid_grant", "code_verifier is invalid")
			return
		}
	}
	c.used = true
	g := &fakeGrant{created: f.clock.Now()}
	f.grants = append(f.grants, g)
	tok := f.issueLocked(g)
	f.counts.CodeOK++
	tokenJSON(w, map[string]any{
		"access_token": tok.AccessToken, "token_type": "bearer",
		"expires_in": int(fakeAccessLife / time.Second), "refresh_token": tok.RefreshToken,
		"scope": "read:vat write:vat",
	})
}

func (f *fakeOAuth) clientCredentials(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.ClientCredentials++
	f.scopes = append(f.scopes, r.PostForm.Get("scope"))
	at := f.nextLocked("app")
	f.ats[at] = &fakeAT{expiry: f.clock.Now().Add(fakeAccessLife), app: true}
	tokenJSON(w, map[string]any{
		"access_token": at, "token_type": "bearer", "expires_in": int(fakeAccessLife / time.Second),
		"scope": r.PostForm.Get("scope"),
	})
}

// authorize plays HMRC's sign-in pages: it checks the request as HMRC does
// and redirects the browser back with a code (or an error).
func (f *fakeOAuth) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Authorize++
	problem := ""
	switch {
	case q.Get("response_type") != "code":
		problem = "response_type must be 'code'"
	case q.Get("client_id") != fakeClientID:
		problem = "client_id is invalid"
	case q.Get("redirect_uri") == "":
		problem = "redirect_uri is required"
	case q.Get("scope") == "" || strings.Contains(r.URL.RawQuery, "%2B"):
		problem = "scope is invalid"
	case q.Has("client_secret"):
		problem = "client_secret should NOT be present"
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		problem = "PKCE parameters are invalid"
	}
	if problem != "" {
		oauthError(w, 400, "invalid_request", problem)
		return
	}
	back, err := url.Parse(q.Get("redirect_uri"))
	if err != nil {
		oauthError(w, 400, "invalid_request", "redirect_uri is invalid")
		return
	}
	v := back.Query()
	state := q.Get("state")
	if f.tamperState {
		state += "x"
	}
	v.Set("state", state)
	if f.denyAuthorize {
		v.Set("error", "access_denied")
		v.Set("error_description", "user denied the authorization")
		v.Set("error_code", "USER_DENIED_AUTHORIZATION")
	} else {
		code := f.nextLocked("code")
		f.codes[code] = &fakeCode{redirect: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), created: f.clock.Now()}
		v.Set("code", code)
	}
	back.RawQuery = v.Encode()
	http.Redirect(w, r, back.String(), http.StatusFound)
}

// resource is a user-restricted endpoint: 401 INVALID_CREDENTIALS unless
// the access token is current.
func (f *fakeOAuth) resource(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.counts.Resource++
	at, ok := f.ats[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
	if !ok || at.revoked || at.app || !f.clock.Now().Before(at.expiry) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
		return
	}
	fmt.Fprint(w, `{"message":"Hello User"}`)
}

// browseTo follows u like a browser would, through redirects, and returns the
// final page's status and body.
func browseTo(t *testing.T, u string) (int, string) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	client := &http.Client{Timeout: 10 * time.Second, Transport: tr}
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, u, nil)
	require.NoError(t, err)
	resp, err := client.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// noSecret fails the test if err's message carries any value the tests
// treat as secret (all of them contain leakMarker); a nil err passes.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		assert.NotContains(t, err.Error(), leakMarker, "secret value in an error")
	}
}

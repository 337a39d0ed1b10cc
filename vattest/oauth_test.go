package vattest

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func authorizeQuery(app Application, extra map[string]string) url.Values {
	q := url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {"http://localhost:8000/callback"}, "scope": {"read:vat write:vat"}, "state": {"s1"}}
	for k, v := range extra {
		if v == "-" {
			q.Del(k)
			continue
		}
		q.Set(k, v)
	}
	return q
}

func getAuthorize(t *testing.T, srv *Server, rawQuery string) (*http.Response, string) {
	t.Helper()
	resp, err := noRedirects(srv).Get(srv.URL + "/oauth/authorize?" + rawQuery)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp, string(b)
}

func TestAuthorizeErrors(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	app := srv.DefaultApplication()
	_, challenge := pkcePair()
	cases := []struct {
		name   string
		extra  map[string]string
		raw    string
		status int
		body   string
	}{
		{"missing client_id", map[string]string{"client_id": "-"}, "", 400, `{"error":"invalid_request","error_description":"client_id is missing"}`},
		{"unknown client_id", map[string]string{"client_id": "nobody"}, "", 400, `{"error":"invalid_request","error_description":"client_id is invalid"}`},
		{"missing redirect_uri", map[string]string{"redirect_uri": "-"}, "", 400, `{"error":"invalid_request","error_description":"redirect_uri is missing"}`},
		{"unregistered redirect_uri", map[string]string{"redirect_uri": "https://evil.example/callback"}, "", 400, `{"error":"invalid_request","error_description":"redirect_uri is invalid"}`},
		{"localhost on another path", map[string]string{"redirect_uri": "http://localhost:8000/other"}, "", 400, `{"error":"invalid_request","error_description":"redirect_uri is invalid"}`},
		{"missing response_type", map[string]string{"response_type": "-"}, "", 400, `{"error":"invalid_request","error_description":"response_type is missing"}`},
		{"response_type token", map[string]string{"response_type": "token"}, "", 400, `{"error":"unsupported_response_type","error_description":"response_type must be code"}`},
		{"missing scope", map[string]string{"scope": "-"}, "", 400, `{"error":"invalid_request","error_description":"scope is missing"}`},
		{"unknown scope", map[string]string{"scope": "read:vat hello"}, "", 400, `{"error":"invalid_scope","error_description":"scope is invalid"}`},
		{"scopes joined by an encoded +", nil, "&scope=read%3Avat%2Bwrite%3Avat", 400, `{"error":"invalid_scope","error_description":"scope is invalid"}`},
		{"client_secret sent", map[string]string{"client_secret": app.ClientSecret}, "", 400, `{"error":"invalid_request","error_description":"client_secret must not be sent to the authorization endpoint"}`},
		{"challenge without method", map[string]string{"code_challenge": challenge}, "", 400, `{"error":"invalid_request","error_description":"code_challenge and code_challenge_method must be sent together"}`},
		{"method without challenge", map[string]string{"code_challenge_method": "S256"}, "", 400, `{"error":"invalid_request","error_description":"code_challenge and code_challenge_method must be sent together"}`},
		{"plain PKCE", map[string]string{"code_challenge": challenge, "code_challenge_method": "plain"}, "", 400, `{"error":"invalid_request","error_description":"code_challenge_method must be S256"}`},
		{"short challenge", map[string]string{"code_challenge": "abc", "code_challenge_method": "S256"}, "", 400, `{"error":"invalid_request","error_description":"code_challenge is invalid"}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			q := authorizeQuery(app, tc.extra)
			raw := q.Encode()
			if tc.raw != "" {
				q.Del("scope")
				raw = q.Encode() + tc.raw
			}
			resp, body := getAuthorize(t, srv, raw)
			assert.Equal(t, tc.status, resp.StatusCode)
			assert.Equal(t, tc.body, body)
			assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
		})
	}
}

func TestAuthorizeSignInForm(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	app := srv.DefaultApplication()
	user, err := srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	q := authorizeQuery(app, nil)

	resp, page := getAuthorize(t, srv, q.Encode())
	require.Equal(t, 200, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Contains(t, page, `<form method="post" action="/oauth/authorize">`)
	assert.Contains(t, page, `name="client_id" value="`+app.ClientID+`"`)
	assert.Contains(t, page, `name="state" value="s1"`)
	assert.Contains(t, page, `name="user_id"`)

	post := func(form url.Values) *http.Response {
		resp, err := noRedirects(srv).PostForm(srv.URL+"/oauth/authorize", form)
		require.NoError(t, err)
		resp.Body.Close()
		return resp
	}
	form := authorizeQuery(app, map[string]string{"user_id": user.UserID, "password": "wrong", "action": "grant"})
	assert.Equal(t, 401, post(form).StatusCode)

	form.Set("password", user.Password)
	resp = post(form)
	require.Equal(t, 302, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "/callback", loc.Path)
	assert.Equal(t, "s1", loc.Query().Get("state"))
	assert.Len(t, loc.Query().Get("code"), 32)

	form.Set("action", "deny")
	resp = post(form)
	require.Equal(t, 302, resp.StatusCode)
	loc, err = url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, url.Values{"error": {"access_denied"}, "error_description": {"user denied the authorization"}, "error_code": {"USER_DENIED_AUTHORIZATION"}, "state": {"s1"}}, loc.Query())

	// the no-browser shortcut denies too
	resp, _ = getAuthorize(t, srv, authorizeQuery(app, map[string]string{"action": "deny", "state": "-"}).Encode())
	require.Equal(t, 302, resp.StatusCode)
	assert.NotContains(t, resp.Header.Get("Location"), "state=", "no state sent, none returned")
}

func TestRedirectURIKeepsItsQuery(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithApplication("app-2", "secret-2", "https://app.example/cb?tenant=7"))
	user, err := srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	q := url.Values{"response_type": {"code"}, "client_id": {"app-2"}, "redirect_uri": {"https://app.example/cb?tenant=7"}, "scope": {"read:vat"}, "user_id": {user.UserID}, "password": {user.Password}}
	resp, _ := getAuthorize(t, srv, q.Encode())
	require.Equal(t, 302, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	assert.Equal(t, "app.example", loc.Host)
	assert.Equal(t, "7", loc.Query().Get("tenant"))
	assert.NotEmpty(t, loc.Query().Get("code"))
}

func TestOutOfBandCode(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	app := srv.DefaultApplication()
	user, err := srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	q := authorizeQuery(app, map[string]string{"redirect_uri": oob, "user_id": user.UserID, "password": user.Password})
	resp, page := getAuthorize(t, srv, q.Encode())
	require.Equal(t, 200, resp.StatusCode)
	start := strings.Index(page, `<p id="code">`) + len(`<p id="code">`)
	code := page[start : start+32]
	status, tok := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "redirect_uri": {oob}, "code": {code}})
	assert.Equal(t, 200, status, tok)
	assert.Equal(t, "read:vat write:vat", tok["scope"])
}

func TestTokenErrors(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(0), WithApplication("other-app", "other-secret", "http://localhost/callback"))
	srv.SetNow(testNow)
	app := srv.DefaultApplication()
	user, err := srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	verifier, challenge := pkcePair()
	redirect := "http://localhost:8000/callback"
	newCode := func(pkce bool) string {
		extra := map[string]string{"user_id": user.UserID, "password": user.Password, "redirect_uri": redirect}
		if pkce {
			extra["code_challenge"], extra["code_challenge_method"] = challenge, "S256"
		}
		resp, _ := getAuthorize(t, srv, authorizeQuery(app, extra).Encode())
		require.Equal(t, 302, resp.StatusCode)
		loc, err := url.Parse(resp.Header.Get("Location"))
		require.NoError(t, err)
		return loc.Query().Get("code")
	}
	form := func(kv ...string) url.Values {
		v := url.Values{"client_id": {app.ClientID}, "client_secret": {app.ClientSecret}}
		for i := 0; i < len(kv); i += 2 {
			if kv[i+1] == "-" {
				v.Del(kv[i])
				continue
			}
			v.Set(kv[i], kv[i+1])
		}
		return v
	}
	codeForm := func(code string, kv ...string) url.Values {
		return form(append([]string{"grant_type", "authorization_code", "redirect_uri", redirect, "code", code}, kv...)...)
	}
	cases := []struct {
		name   string
		form   url.Values
		status int
		error  string
		desc   string
	}{
		{"missing grant_type", form(), 400, "invalid_request", "grant_type is missing"},
		{"missing client_id", form("grant_type", "client_credentials", "client_id", "-"), 400, "invalid_request", "client_id is missing"},
		{"missing client_secret", form("grant_type", "client_credentials", "client_secret", "-"), 400, "invalid_request", "client_secret is missing"},
		{"wrong secret", form("grant_type", "client_credentials", "client_secret", "nope"), 401, "invalid_client", "invalid client id or secret"},
		{"unknown client", form("grant_type", "client_credentials", "client_id", "nobody"), 401, "invalid_client", "invalid client id or secret"},
		{"unsupported grant", form("grant_type", "password"), 400, "invalid_request", "grant_type is not supported"},
		{"code: missing redirect_uri", codeForm(newCode(false), "redirect_uri", "-"), 400, "invalid_request", "redirect_uri is missing"},
		{"code: missing code", codeForm("-"), 400, "invalid_request", "code is missing"},
		{"code: unknown", codeForm("nope"), 400, "invalid_request", "code is invalid"},
		{"code: other redirect_uri", codeForm(newCode(false), "redirect_uri", "http://localhost:9000/callback"), 400, "invalid_request", "redirect_uri is invalid"},
		{"code: PKCE verifier missing", codeForm(newCode(true)), 400, "invalid_request", "code_verifier is missing"},
		{"code: PKCE verifier too short", codeForm(newCode(true), "code_verifier", "short"), 400, "invalid_request", "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' or '~'"},
		{"code: PKCE verifier wrong", codeForm(newCode(true), "code_verifier", verifier+"x"), 400, "invalid_grant", "code_verifier is invalid"},
		{"refresh: missing token", form("grant_type", "refresh_token"), 400, "invalid_request", "refresh_token is missing"},
		{"refresh: unknown token", form("grant_type", "refresh_token", "refresh_token", "nope"), 400, "invalid_grant", "refresh_token is invalid"},
		{"client_credentials: unknown scope", form("grant_type", "client_credentials", "scope", "hello"), 400, "invalid_scope", "scope is invalid"},
	}
	for _, tc := range cases {
		status, body := postForm(t, srv, "/oauth/token", tc.form)
		assert.Equal(t, tc.status, status, tc.name)
		assert.Equal(t, map[string]any{"error": tc.error, "error_description": tc.desc}, body, tc.name)
	}

	t.Run("a code is single use", func(t *testing.T) {
		c := newCode(true)
		status, _ := postForm(t, srv, "/oauth/token", codeForm(c, "code_verifier", verifier))
		require.Equal(t, 200, status)
		status, body := postForm(t, srv, "/oauth/token", codeForm(c, "code_verifier", verifier))
		assert.Equal(t, 400, status)
		assert.Equal(t, "code is invalid", body["error_description"])
	})
	t.Run("a code lasts ten minutes", func(t *testing.T) {
		c := newCode(false)
		srv.Advance(10 * time.Minute)
		status, body := postForm(t, srv, "/oauth/token", codeForm(c))
		assert.Equal(t, 400, status)
		assert.Equal(t, "code is invalid", body["error_description"])
	})
	t.Run("a code belongs to its application", func(t *testing.T) {
		c := newCode(false)
		status, body := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"authorization_code"}, "client_id": {"other-app"}, "client_secret": {"other-secret"}, "redirect_uri": {redirect}, "code": {c}})
		assert.Equal(t, 400, status)
		assert.Equal(t, "code is invalid", body["error_description"])
	})
	t.Run("credentials only in the body", func(t *testing.T) {
		req, _ := http.NewRequest("POST", srv.URL+"/oauth/token", strings.NewReader("grant_type=client_credentials"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(app.ClientID, app.ClientSecret)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 400, resp.StatusCode)
	})
	t.Run("GET is not allowed", func(t *testing.T) {
		resp, err := srv.Client().Get(srv.URL + "/oauth/token")
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, 405, resp.StatusCode)
	})
	t.Run("there is no /oauth/refresh", func(t *testing.T) {
		status, _ := postForm(t, srv, "/oauth/refresh", url.Values{})
		assert.NotEqual(t, 200, status)
	})
}

func TestRefreshTokens(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(0))
	srv.SetNow(testNow)
	app := srv.DefaultApplication()
	user, err := srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	access, refresh := signIn(t, srv, user, "read:vat")
	f := &fixture{srv, user, Token{AccessToken: access}}
	obligations := f.vat("/obligations?status=O")
	require.Equal(t, 200, f.do(t, "GET", obligations, nil, "").status)

	refreshForm := func(rt string) url.Values {
		return url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "refresh_token": {rt}}
	}
	status, tok := postForm(t, srv, "/oauth/token", refreshForm(refresh))
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "bearer", tok["token_type"])
	assert.Equal(t, float64(14400), tok["expires_in"])
	_, hasScope := tok["scope"]
	assert.False(t, hasScope, "HMRC's refresh example has no scope")
	newAccess, newRefresh := tok["access_token"].(string), tok["refresh_token"].(string)
	assert.NotEqual(t, refresh, newRefresh)

	r := f.do(t, "GET", obligations, nil, "")
	assert.Equal(t, 401, r.status, "refreshing revokes the previous access token")
	assert.Equal(t, wantInvalidCreds, r.body)
	f.tok.AccessToken = newAccess
	assert.Equal(t, 200, f.do(t, "GET", obligations, nil, "").status, "the refreshed token keeps the grant's scope")
	r = f.do(t, "POST", f.vat("/returns"), nil, validReturn(t, nil))
	assert.Equal(t, 403, r.status, "only read:vat was granted")

	status, body := postForm(t, srv, "/oauth/token", refreshForm(refresh))
	assert.Equal(t, 400, status, "a refresh token is single use")
	assert.Equal(t, "invalid_grant", body["error"])

	// The authority lasts 18 months from the grant, however often it is refreshed.
	rt := newRefresh
	for range 17 {
		srv.Advance(30 * 24 * time.Hour)
		status, tok = postForm(t, srv, "/oauth/token", refreshForm(rt))
		require.Equal(t, 200, status, tok)
		rt = tok["refresh_token"].(string)
	}
	srv.SetNow(testNow.AddDate(0, 18, 0))
	status, body = postForm(t, srv, "/oauth/token", refreshForm(rt))
	assert.Equal(t, 400, status)
	assert.Equal(t, "invalid_grant", body["error"])
}

func TestClientCredentialsScope(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	app := srv.DefaultApplication()
	status, tok := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "scope": {"read:vat"}})
	require.Equal(t, 200, status)
	assert.Equal(t, "read:vat", tok["scope"])
	assert.Equal(t, float64(14400), tok["expires_in"])
}

func TestRequestLogRedactsSecrets(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	app := srv.DefaultApplication()
	user, err := srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	resp, _ := getAuthorize(t, srv, authorizeQuery(app, map[string]string{"user_id": user.UserID, "password": user.Password, "client_secret": app.ClientSecret}).Encode())
	require.Equal(t, 400, resp.StatusCode)
	resp, _ = getAuthorize(t, srv, authorizeQuery(app, map[string]string{"user_id": user.UserID, "password": user.Password}).Encode())
	require.Equal(t, 302, resp.StatusCode)
	for _, r := range srv.Requests() {
		assert.NotContains(t, r.RawQuery, user.Password)
		assert.NotContains(t, r.RawQuery, app.ClientSecret)
		assert.Contains(t, r.RawQuery, "password=REDACTED")
		assert.Contains(t, r.RawQuery, "user_id="+user.UserID)
	}
}

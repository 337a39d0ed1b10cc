package vattest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
)

const (
	oob     = "urn:ietf:wg:oauth:2.0:oob"
	oobAuto = "urn:ietf:wg:oauth:2.0:oob:auto"
)

const pageTemplates = `
{{define "signin"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in – HMRC VAT simulator</title></head>
<body>
<h1>Sign in</h1>
<p>{{.AppName}} wants to use HMRC's VAT API for you ({{.Scope}}).</p>
{{if .Error}}<p role="alert" id="error">{{.Error}}</p>{{end}}
<form method="post" action="/oauth/authorize">
{{range $k, $v := .Hidden}}<input type="hidden" name="{{$k}}" value="{{$v}}">
{{end}}<p><label for="user_id">User ID</label> <input id="user_id" name="user_id" autocomplete="username"></p>
<p><label for="password">Password</label> <input id="password" name="password" type="password" autocomplete="current-password"></p>
<p><button name="action" value="grant">Sign in and grant authority</button>
<button name="action" value="deny">Do not grant authority</button></p>
</form>
</body></html>
{{end}}
{{define "code"}}<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Success code={{.Code}}{{if .State}}&amp;state={{.State}}{{end}}</title></head>
<body><h1>Authority granted</h1><p>Copy this code into your software:</p><p id="code">{{.Code}}</p></body></html>
{{end}}`

// oauthError writes an RFC 6749 error body.
func oauthError(w http.ResponseWriter, status int, code, desc string) {
	b, _ := json.Marshal(struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}{code, desc})
	writeJSON(w, status, b)
}

type authzRequest struct {
	app         *Application
	redirectURI string
	scope       string
	scopes      int
	state       string
	challenge   string
}

// matchRedirect reports whether requested matches a registered redirect URI.
func matchRedirect(registered []string, requested string) bool {
	for _, reg := range registered {
		if reg == requested {
			return true
		}
		ru, err1 := url.Parse(reg)
		qu, err2 := url.Parse(requested)
		if err1 != nil || err2 != nil || ru.Scheme != "http" || ru.Host != "localhost" || qu.Scheme != "http" || qu.Hostname() != "localhost" {
			continue
		}
		rp, qp := ru.EscapedPath(), qu.EscapedPath()
		if rp == "" {
			rp = "/"
		}
		if qp == "" {
			qp = "/"
		}
		if rp == qp && ru.RawQuery == qu.RawQuery && qu.Fragment == "" {
			return true
		}
	}
	return false
}

var pkceChars = func() (ok [256]bool) {
	for _, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~" {
		ok[c] = true
	}
	return
}()

func pkceString(s string) bool {
	if len(s) < 43 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !pkceChars[s[i]] {
			return false
		}
	}
	return true
}

// parseScopes splits a space-separated scope parameter.
func parseScopes(s string) (int, string, bool) {
	bits, scope, err := parseScopeList(strings.Fields(s))
	return bits, scope, err == nil && bits != 0
}

// checkAuthorize validates the query of GET /oauth/authorize as HMRC
// documents it (notes §3.2); on failure it returns the status, the OAuth
// error code and a description.
func (s *Server) checkAuthorize(p url.Values) (authzRequest, int, string, string) {
	var a authzRequest
	bad := func(code, desc string) (authzRequest, int, string, string) {
		return a, http.StatusBadRequest, code, desc
	}
	s.mu.Lock()
	app, ok := s.apps[p.Get("client_id")]
	s.mu.Unlock()
	switch {
	case p.Get("client_id") == "":
		return bad("invalid_request", "client_id is missing")
	case !ok:
		return bad("invalid_request", "client_id is invalid")
	case p.Get("redirect_uri") == "":
		return bad("invalid_request", "redirect_uri is missing")
	case !matchRedirect(app.RedirectURIs, p.Get("redirect_uri")):
		return bad("invalid_request", "redirect_uri is invalid")
	case p.Get("response_type") == "":
		return bad("invalid_request", "response_type is missing")
	case p.Get("response_type") != "code":
		return bad("unsupported_response_type", "response_type must be code")
	case p.Get("scope") == "":
		return bad("invalid_request", "scope is missing")
	}
	bits, scope, ok := parseScopes(p.Get("scope"))
	if !ok {
		return bad("invalid_scope", "scope is invalid")
	}
	if _, sent := p["client_secret"]; sent {
		return bad("invalid_request", "client_secret must not be sent to the authorization endpoint")
	}
	challenge, method := p.Get("code_challenge"), p.Get("code_challenge_method")
	switch {
	case (challenge == "") != (method == ""):
		return bad("invalid_request", "code_challenge and code_challenge_method must be sent together")
	case method != "" && method != "S256":
		return bad("invalid_request", "code_challenge_method must be S256")
	case challenge != "" && (len(challenge) != 43 || !pkceString(challenge)):
		return bad("invalid_request", "code_challenge is invalid")
	}
	return authzRequest{app: app, redirectURI: p.Get("redirect_uri"), scope: scope, scopes: bits, state: p.Get("state"), challenge: challenge}, 0, "", ""
}

// authorize is the www host's sign-in page. GET shows a sign-in form; the
// form's POST signs in and grants (or denies) authority. As a simulator
// extension, GET accepts the form's fields too (user_id and password, or
// action=deny), so an HTTP client that follows redirects completes the
// journey without a browser.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	var p url.Values
	switch r.Method {
	case http.MethodGet:
		p = r.URL.Query()
	case http.MethodPost:
		if err := r.ParseForm(); err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
			return
		}
		p = r.PostForm
	default:
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "method not allowed")
		return
	}
	a, status, code, desc := s.checkAuthorize(p)
	if status != 0 {
		oauthError(w, status, code, desc)
		return
	}
	userID, password := p.Get("user_id"), p.Get("password")
	switch {
	case p.Get("action") == "deny":
		s.redirect(w, r, a, url.Values{
			"error":             {"access_denied"},
			"error_description": {"user denied the authorization"},
			"error_code":        {"USER_DENIED_AUTHORIZATION"},
		})
	case userID == "" && password == "" && r.Method == http.MethodGet:
		s.signInPage(w, http.StatusOK, a, p, "")
	default:
		s.mu.Lock()
		u, ok := s.users[userID]
		ok = ok && subtle.ConstantTimeCompare([]byte(u.Password), []byte(password)) == 1
		var c string
		if ok {
			c = s.rnd.secret(16)
			s.codes[c] = &authCode{clientID: a.app.ClientID, userID: u.UserID, redirectURI: a.redirectURI,
				scope: a.scope, scopes: a.scopes, challenge: a.challenge, expiry: s.clock.now().Add(codeLifetime)}
		}
		s.mu.Unlock()
		if !ok {
			s.signInPage(w, http.StatusUnauthorized, a, p, "Enter a valid user ID and password.")
			return
		}
		s.redirect(w, r, a, url.Values{"code": {c}})
	}
}

func (s *Server) signInPage(w http.ResponseWriter, status int, a authzRequest, p url.Values, msg string) {
	hidden := map[string]string{}
	for _, k := range []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"} {
		if v := p.Get(k); v != "" {
			hidden[k] = v
		}
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = s.pages.ExecuteTemplate(w, "signin", map[string]any{"AppName": "Application " + a.app.ClientID, "Scope": a.scope, "Error": msg, "Hidden": hidden})
}

// redirect sends the browser back to the application with params (and
// state), or shows the code for the out-of-band redirect URIs.
func (s *Server) redirect(w http.ResponseWriter, r *http.Request, a authzRequest, params url.Values) {
	if a.state != "" {
		params.Set("state", a.state)
	}
	if a.redirectURI == oob || a.redirectURI == oobAuto {
		if params.Get("code") == "" {
			oauthError(w, http.StatusBadRequest, params.Get("error"), params.Get("error_description"))
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = s.pages.ExecuteTemplate(w, "code", map[string]string{"Code": params.Get("code"), "State": a.state})
		return
	}
	u, _ := url.Parse(a.redirectURI) // checked when registered
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	http.Redirect(w, r, u.String(), http.StatusFound)
}

type tokenWire struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int    `json:"expires_in"`
	RefreshToken string `json:"refresh_token,omitempty"`
	Scope        string `json:"scope,omitempty"`
}

// oauthErr is an OAuth error answer.
type oauthErr struct {
	status     int
	code, desc string
}

func badRequest(code, desc string) *oauthErr { return &oauthErr{http.StatusBadRequest, code, desc} }

// tokenEndpoint is POST /oauth/token for the authorization_code,
// refresh_token and client_credentials grants, with the client's
// credentials in the form body (notes §3.2–3.3).
func (s *Server) tokenEndpoint(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		oauthError(w, http.StatusMethodNotAllowed, "invalid_request", "method not allowed")
		return
	}
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "the form could not be read")
		return
	}
	f := r.PostForm
	grantType, clientID, secret := f.Get("grant_type"), f.Get("client_id"), f.Get("client_secret")
	var out tokenWire
	e := func() *oauthErr {
		switch {
		case grantType == "":
			return badRequest("invalid_request", "grant_type is missing")
		case clientID == "":
			return badRequest("invalid_request", "client_id is missing")
		case secret == "":
			return badRequest("invalid_request", "client_secret is missing")
		}
		s.mu.Lock()
		defer s.mu.Unlock()
		app, ok := s.apps[clientID]
		if !ok || subtle.ConstantTimeCompare([]byte(app.ClientSecret), []byte(secret)) != 1 {
			return &oauthErr{http.StatusUnauthorized, "invalid_client", "invalid client id or secret"}
		}
		var e *oauthErr
		switch grantType {
		case "authorization_code":
			out, e = s.codeGrantLocked(app, f)
		case "refresh_token":
			out, e = s.refreshGrantLocked(app, f)
		case "client_credentials":
			out, e = s.clientGrantLocked(app, f)
		default:
			e = badRequest("invalid_request", "grant_type is not supported")
		}
		return e
	}()
	if e != nil {
		oauthError(w, e.status, e.code, e.desc)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	writeValue(w, http.StatusOK, out)
}

func tokenOut(t Token, withScope bool) tokenWire {
	out := tokenWire{AccessToken: t.AccessToken, TokenType: "bearer", ExpiresIn: int(accessTokenLifetime.Seconds()), RefreshToken: t.RefreshToken}
	if withScope {
		out.Scope = t.Scope
	}
	return out
}

func (s *Server) codeGrantLocked(app *Application, f url.Values) (tokenWire, *oauthErr) {
	redirectURI, code := f.Get("redirect_uri"), f.Get("code")
	switch {
	case redirectURI == "":
		return tokenWire{}, badRequest("invalid_request", "redirect_uri is missing")
	case code == "":
		return tokenWire{}, badRequest("invalid_request", "code is missing")
	}
	ac, ok := s.codes[code]
	now := s.clock.now()
	if !ok || ac.clientID != app.ClientID || !now.Before(ac.expiry) {
		return tokenWire{}, badRequest("invalid_request", "code is invalid")
	}
	delete(s.codes, code) // single use, whatever happens next
	if ac.redirectURI != redirectURI {
		return tokenWire{}, badRequest("invalid_request", "redirect_uri is invalid")
	}
	if ac.challenge != "" {
		v := f.Get("code_verifier")
		switch {
		case v == "":
			return tokenWire{}, badRequest("invalid_request", "code_verifier is missing")
		case !pkceString(v):
			return tokenWire{}, badRequest("invalid_request", "code_verifier must be 43 to 128 characters of A-Z, a-z, 0-9, '-', '.', '_' or '~'")
		}
		sum := sha256.Sum256([]byte(v))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != ac.challenge {
			return tokenWire{}, badRequest("invalid_grant", "code_verifier is invalid")
		}
	}
	g := &grant{clientID: app.ClientID, userID: ac.userID, scope: ac.scope, scopes: ac.scopes, authorisedAt: now}
	return tokenOut(s.issueUserTokenLocked(g), true), nil
}

func (s *Server) refreshGrantLocked(app *Application, f url.Values) (tokenWire, *oauthErr) {
	rt := f.Get("refresh_token")
	if rt == "" {
		return tokenWire{}, badRequest("invalid_request", "refresh_token is missing")
	}
	g, ok := s.refreshes[rt]
	if !ok || g.clientID != app.ClientID {
		return tokenWire{}, badRequest("invalid_grant", "refresh_token is invalid")
	}
	if !s.clock.now().Before(g.authorisedAt.AddDate(0, grantMonths, 0)) {
		delete(s.refreshes, rt)
		delete(s.tokens, g.access)
		return tokenWire{}, badRequest("invalid_grant", "the authority has expired: the user must grant it again")
	}
	return tokenOut(s.issueUserTokenLocked(g), false), nil
}

func (s *Server) clientGrantLocked(app *Application, f url.Values) (tokenWire, *oauthErr) {
	bits, scope := 0, ""
	if raw := f.Get("scope"); raw != "" {
		var ok bool
		if bits, scope, ok = parseScopes(raw); !ok {
			return tokenWire{}, badRequest("invalid_scope", "scope is invalid")
		}
	}
	return tokenOut(s.issueAppTokenLocked(app.ClientID, scope, bits), scope != ""), nil
}

package vat

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

// HMRC OAuth 2.0 scopes of the VAT (MTD) API. Every VAT endpoint needs one of
// them on a user-restricted token; a token granted both works everywhere.
const (
	// ScopeReadVAT allows the VAT (MTD) read endpoints: obligations, view
	// return, liabilities, payments, penalties, financial details and
	// customer information. The Check a UK VAT number API asks for it on an
	// application-restricted token.
	ScopeReadVAT = "read:vat"
	// ScopeWriteVAT allows submitting VAT returns.
	ScopeWriteVAT = "write:vat"
)

// Redirect URIs HMRC accepts for installed applications that run no web
// server: HMRC shows the authorization code in the title of an HTML page.
const (
	// RedirectOOB makes HMRC show the code and ask the user to paste it into
	// the application.
	RedirectOOB = "urn:ietf:wg:oauth:2.0:oob"
	// RedirectOOBAuto makes HMRC show the code in the page title and ask the
	// user to close the window.
	RedirectOOBAuto = "urn:ietf:wg:oauth:2.0:oob:auto"
)

// DefaultRefreshMargin is how long before its expiry a token source replaces
// an access token, unless told otherwise with WithRefreshMargin. It absorbs
// clock skew between this machine and HMRC and the time a request takes.
const DefaultRefreshMargin = 5 * time.Minute

// maxRefreshMargin bounds WithRefreshMargin well below HMRC's 4-hour access
// token lifetime, so that a new token is never already due for renewal.
const maxRefreshMargin = time.Hour

// ErrReauthorizationRequired reports that HMRC will no longer refresh the
// user's access: the 18-month authority has run out, the user revoked it, or
// its single-use refresh token was already spent. It also reports that the
// token store holds no usable token. The user must sign in to HMRC again
// (SignIn, or an AuthRequest in a web application). Test with errors.Is.
var ErrReauthorizationRequired = errors.New("vat: reauthorization required: the user must sign in to HMRC and grant access again")

// ErrTokenNotSaved reports that HMRC issued a new token but the TokenStore
// failed to save it. HMRC has already invalidated the previous refresh token,
// so the new one exists only in the token source's memory; the source keeps
// it there and retries the save on its next call. If the process stops before
// a save succeeds, the user must sign in again. The error also wraps the
// store's own error.
var ErrTokenNotSaved = errors.New("vat: HMRC issued a new token but it could not be saved")

// ErrStateMismatch reports that the state parameter of an authorization
// redirect does not match the one the sign-in began with: the redirect does
// not belong to this sign-in (a stale browser tab, or forgery) and its code
// must not be used.
var ErrStateMismatch = errors.New("vat: the sign-in redirect's state does not match this sign-in; start the sign-in again")

// ErrUserDeniedAuthorization reports that the user chose not to grant the
// application access on HMRC's sign-in pages (error_code
// USER_DENIED_AUTHORIZATION). An *AuthorizationError with that code matches it
// with errors.Is.
var ErrUserDeniedAuthorization = errors.New("vat: the user did not grant access to HMRC")

// OAuthEndpoint returns HMRC's OAuth 2.0 endpoints in e, with client
// credentials sent in the form body as HMRC requires
// (oauth2.AuthStyleInParams). The authorize endpoint is on the www host, the
// token endpoint on the API host. It is the zero Endpoint for an invalid e.
func (e Environment) OAuthEndpoint() oauth2.Endpoint {
	if !e.Valid() {
		return oauth2.Endpoint{}
	}
	return oauth2.Endpoint{
		AuthURL:   e.AuthorizeURL(),
		TokenURL:  e.TokenURL(),
		AuthStyle: oauth2.AuthStyleInParams,
	}
}

// OAuthApp describes an application registered on HMRC's Developer Hub, as
// NewOAuthConfig needs it.
type OAuthApp struct {
	// ClientID and ClientSecret are the application's credentials for the
	// chosen environment; sandbox credentials do not work in production.
	ClientID     string
	ClientSecret string
	// RedirectURL is where HMRC sends the user's browser after sign-in. It
	// must match one of the redirect URIs registered for the application
	// (see ValidateRedirectURL for HMRC's rules). It may be empty for
	// application-restricted use only, or when SignIn picks a loopback
	// address.
	RedirectURL string
	// Scopes to request. Empty means ScopeReadVAT and ScopeWriteVAT.
	Scopes []string
}

// NewOAuthConfig returns the *oauth2.Config for app in env: HMRC's endpoints,
// client credentials sent in the form body (oauth2.AuthStyleInParams), and
// scopes that oauth2 joins with a space. It refuses, before any network call,
// a missing or padded client ID or secret, a redirect URL HMRC would refuse,
// and scopes that would be mangled on the wire. The secret never appears in
// an error.
func NewOAuthConfig(env Environment, app OAuthApp) (*oauth2.Config, error) {
	if !env.Valid() {
		return nil, fmt.Errorf("vat: NewOAuthConfig: invalid environment %v: use vat.Sandbox or vat.Production", env)
	}
	if err := checkCredential("ClientID", app.ClientID); err != nil {
		return nil, fmt.Errorf("vat: NewOAuthConfig: %w", err)
	}
	if err := checkCredential("ClientSecret", app.ClientSecret); err != nil {
		return nil, fmt.Errorf("vat: NewOAuthConfig: %w", err)
	}
	if app.RedirectURL != "" {
		if err := ValidateRedirectURL(app.RedirectURL); err != nil {
			return nil, fmt.Errorf("vat: NewOAuthConfig: RedirectURL: %w", err)
		}
	}
	scopes := slices.Clone(app.Scopes)
	if len(scopes) == 0 {
		scopes = []string{ScopeReadVAT, ScopeWriteVAT}
	}
	if err := checkScopes(scopes); err != nil {
		return nil, fmt.Errorf("vat: NewOAuthConfig: Scopes: %w", err)
	}
	return &oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		Endpoint:     env.OAuthEndpoint(),
		RedirectURL:  app.RedirectURL,
		Scopes:       scopes,
	}, nil
}

// checkCredential refuses an empty client ID or secret, or one with white
// space or control characters (a copy-and-paste slip HMRC answers with 401
// invalid_client). The value itself is never put in the error.
func checkCredential(field, v string) error {
	if v == "" {
		return fmt.Errorf("%s is empty: copy it from the application's page on HMRC's Developer Hub", field)
	}
	if !utf8.ValidString(v) || strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return fmt.Errorf("%s contains white space or control characters: check how it was copied", field)
	}
	return nil
}

// checkScopes refuses scopes oauth2 cannot send intact. A scope containing
// "+" is refused because HMRC rejects scopes joined with an encoded plus
// (%2B) as invalid_scope: list each scope separately instead.
func checkScopes(scopes []string) error {
	for _, s := range scopes {
		switch {
		case s == "":
			return errors.New("empty scope")
		case strings.Contains(s, "+"):
			return fmt.Errorf("scope %q contains \"+\": list each scope as its own element (for example vat.ScopeReadVAT, vat.ScopeWriteVAT); they are joined with a space", s)
		}
		for _, r := range s {
			// RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
			if r < 0x21 || r > 0x7e || r == '"' || r == '\\' {
				return fmt.Errorf("scope %q contains %q, which a scope cannot contain: list each scope as its own element", s, r)
			}
		}
	}
	return nil
}

// ValidateRedirectURL reports whether HMRC would accept s as a redirect URI,
// following the Developer Hub's rules: an absolute https URL with a DNS name
// (not an IP address) as host; or http://localhost:PORT, optionally with a
// path, for installed applications; or RedirectOOB or RedirectOOBAuto. A
// query component is allowed; a fragment is not. HMRC also requires s to
// match a redirect URI registered for the application, which only HMRC can
// check.
func ValidateRedirectURL(s string) error {
	switch s {
	case "":
		return errors.New("vat: redirect URL is empty")
	case RedirectOOB, RedirectOOBAuto:
		return nil
	}
	const rules = "HMRC accepts https://host[:port]/path, http://localhost:PORT[/path], " +
		RedirectOOB + " and " + RedirectOOBAuto
	if strings.Contains(s, "#") {
		return fmt.Errorf("vat: redirect URL %q has a fragment (#…), which HMRC refuses", s)
	}
	u, err := url.Parse(s)
	if err != nil {
		return fmt.Errorf("vat: redirect URL %q is not a valid URL; %s", s, rules)
	}
	if !u.IsAbs() || u.Opaque != "" || u.Host == "" {
		return fmt.Errorf("vat: redirect URL %q is not an absolute URL with a host; %s", s, rules)
	}
	host := u.Hostname()
	if isIPLiteral(host) {
		return fmt.Errorf("vat: redirect URL %q uses an IP address as host, which HMRC refuses: use a DNS name (for a loopback listener, http://localhost:PORT)", s)
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("vat: redirect URL %q has an invalid port: it must be 1 to 65535", s)
		}
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return nil
	case "http":
		if !strings.EqualFold(host, "localhost") {
			return fmt.Errorf("vat: redirect URL %q uses http, which HMRC allows only for http://localhost:PORT: use https", s)
		}
		if u.Port() == "" {
			return fmt.Errorf("vat: redirect URL %q needs an explicit port: http://localhost:PORT", s)
		}
		return nil
	}
	return fmt.Errorf("vat: redirect URL %q has scheme %q; %s", s, u.Scheme, rules)
}

// isIPLiteral reports whether host is an IP address, including the numeric
// IPv4 spellings browsers accept (such as 2130706433 or 127.1).
func isIPLiteral(host string) bool {
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	if host == "" {
		return false
	}
	// Browsers parse hosts made only of digits, dots and hex as IPv4.
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	for _, label := range strings.Split(h, ".") {
		if label == "" {
			return false
		}
		if strings.HasPrefix(label, "0x") {
			if _, err := strconv.ParseUint(label[2:], 16, 32); err != nil && label != "0x" {
				return false
			}
			continue
		}
		if _, err := strconv.ParseUint(label, 10, 32); err != nil {
			return false
		}
	}
	return true
}

// AuthRequest holds the secrets of one authorization-code sign-in: the state
// that ties HMRC's redirect to this sign-in, and the PKCE (S256) code
// verifier. A web application keeps it (for example in the user's session)
// between sending the browser to AuthCodeURL and handling the redirect with
// Exchange; it must not be reused for another sign-in.
type AuthRequest struct {
	State    string
	Verifier string
}

// NewAuthRequest returns an AuthRequest with a fresh random state (256 bits
// from crypto/rand) and a fresh PKCE verifier (oauth2.GenerateVerifier).
func NewAuthRequest() *AuthRequest {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand.Read)
	return &AuthRequest{
		State:    base64.RawURLEncoding.EncodeToString(b),
		Verifier: oauth2.GenerateVerifier(),
	}
}

// AuthCodeURL returns the HMRC sign-in URL to send the user's browser to: the
// authorize endpoint of cfg with response_type=code, the client ID, the
// redirect URL, the scopes joined by a space, the state and the S256 code
// challenge. It never carries the client secret.
func (r *AuthRequest) AuthCodeURL(cfg *oauth2.Config) string {
	return cfg.AuthCodeURL(r.State, oauth2.S256ChallengeOption(r.Verifier))
}

// CheckState compares the state HMRC sent back with r.State in constant time
// and returns ErrStateMismatch unless they are equal and not empty.
func (r *AuthRequest) CheckState(got string) error {
	if r.State == "" || subtle.ConstantTimeCompare([]byte(got), []byte(r.State)) != 1 {
		return ErrStateMismatch
	}
	return nil
}

// Exchange handles HMRC's redirect back to the application: callback is the
// redirect's query (r.URL.Query() in an HTTP handler). It checks the state,
// returns an *AuthorizationError if HMRC reports an error (errors.Is it with
// ErrUserDeniedAuthorization when the user declined), and exchanges the code
// with the PKCE verifier at cfg's token endpoint, through ctx (use
// context.WithValue(ctx, oauth2.HTTPClient, hc) for a custom *http.Client).
// A token endpoint failure is a *TokenError: HMRC answers 400 invalid_request
// "code is invalid" to a code that was already used or is older than 10
// minutes. The returned token's Expiry is set; save it in a TokenStore.
func (r *AuthRequest) Exchange(ctx context.Context, cfg *oauth2.Config, callback url.Values) (*oauth2.Token, error) {
	if cfg == nil {
		return nil, errors.New("vat: AuthRequest.Exchange: nil *oauth2.Config")
	}
	if err := r.CheckState(callback.Get("state")); err != nil {
		return nil, err
	}
	if e := callback.Get("error"); e != "" {
		return nil, &AuthorizationError{
			Err:         clean(e, 64),
			ErrorCode:   clean(callback.Get("error_code"), 64),
			Description: clean(callback.Get("error_description"), 200),
		}
	}
	code := callback.Get("code")
	if code == "" {
		return nil, errors.New("vat: the sign-in redirect carries neither a code nor an error")
	}
	start := time.Now()
	tok, err := cfg.Exchange(ctx, code, oauth2.VerifierOption(r.Verifier))
	if err != nil {
		return nil, tokenRequestError("authorization_code", "exchanging the authorization code", err, code, r.Verifier, cfg.ClientSecret)
	}
	return normaliseToken(tok, start), nil
}

// AuthorizationError is an error HMRC reported by redirecting the browser
// back with error parameters instead of a code.
type AuthorizationError struct {
	// Err is the OAuth 2.0 error parameter; HMRC always sends
	// "access_denied".
	Err string
	// ErrorCode is HMRC's error_code parameter, for example
	// "USER_DENIED_AUTHORIZATION"; HMRC says the list may change.
	ErrorCode string
	// Description is the error_description parameter, for people.
	Description string
}

// Error returns one line naming the error, its code and description.
func (e *AuthorizationError) Error() string {
	s := "vat: HMRC sign-in did not grant access: " + e.Err
	if e.ErrorCode != "" {
		s += " (" + e.ErrorCode + ")"
	}
	if e.Description != "" {
		s += ": " + strconv.Quote(e.Description)
	}
	return s
}

// Is reports whether target is ErrUserDeniedAuthorization and the user
// declined.
func (e *AuthorizationError) Is(target error) bool {
	return target == ErrUserDeniedAuthorization && e.ErrorCode == "USER_DENIED_AUTHORIZATION"
}

// TokenError is a failure answered by HMRC's token endpoint (POST
// /oauth/token). It carries the OAuth error code and description and the
// HTTP status, never the response body, a token or the client secret.
// A refresh refused with invalid_grant matches ErrReauthorizationRequired
// with errors.Is.
type TokenError struct {
	// Grant is the grant type of the request: "authorization_code",
	// "refresh_token" or "client_credentials".
	Grant string
	// StatusCode is the HTTP status of the answer, for example 400.
	StatusCode int
	// Code is the OAuth 2.0 error code, for example "invalid_grant" or
	// "invalid_client"; empty if the answer was not an OAuth error body.
	Code string
	// Description is the error_description, shortened, with any value sent
	// in the request removed.
	Description string
}

// Error returns one line: the grant, the status, the code and description,
// and what to do when the user must sign in again.
func (e *TokenError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "vat: HMRC token endpoint refused the %s request", e.Grant)
	if e.StatusCode != 0 {
		fmt.Fprintf(&b, ": HTTP %d", e.StatusCode)
	}
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Description != "" {
		b.WriteString(": " + strconv.Quote(e.Description))
	}
	if e.reauthorize() {
		b.WriteString(" (the user must sign in to HMRC again)")
	}
	return b.String()
}

// Is reports whether target is ErrReauthorizationRequired and e is a refresh
// refused with invalid_grant.
func (e *TokenError) Is(target error) bool {
	return target == ErrReauthorizationRequired && e.reauthorize()
}

func (e *TokenError) reauthorize() bool {
	return e.Grant == "refresh_token" && e.Code == "invalid_grant"
}

// redactedError carries an error whose message had request values removed,
// while errors.Is and errors.As still see the original.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// signInError is returned when the store holds no usable token: it matches
// ErrReauthorizationRequired and its cause.
type signInError struct {
	msg   string
	cause error
}

func (e *signInError) Error() string { return e.msg }
func (e *signInError) Unwrap() []error {
	if e.cause == nil {
		return []error{ErrReauthorizationRequired}
	}
	return []error{ErrReauthorizationRequired, e.cause}
}

// tokenRequestError maps a failure of an oauth2 token request to a
// *TokenError, or wraps a transport failure; sensitive are the values sent in
// the request, removed from any text kept.
func tokenRequestError(grant, doing string, err error, sensitive ...string) error {
	var re *oauth2.RetrieveError
	if errors.As(err, &re) {
		te := &TokenError{
			Grant:       grant,
			Code:        redact(clean(re.ErrorCode, 64), sensitive),
			Description: redact(clean(re.ErrorDescription, 200), sensitive),
		}
		if re.Response != nil {
			te.StatusCode = re.Response.StatusCode
		}
		return te
	}
	return &redactedError{msg: "vat: " + doing + ": " + redact(err.Error(), sensitive), err: err}
}

// redact removes every non-empty value of sensitive from s.
func redact(s string, sensitive []string) string {
	for _, v := range sensitive {
		if v != "" {
			s = strings.ReplaceAll(s, v, "[redacted]")
		}
	}
	return s
}

// clean keeps at most n runes of s and drops control characters, so that
// text from the network cannot forge log lines.
func clean(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return -1
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}

// normaliseToken returns a copy of t whose Expiry counts from start, when the
// token endpoint said how long the token lasts, and without ExpiresIn, which
// is relative to a moment that does not survive being stored.
func normaliseToken(t *oauth2.Token, start time.Time) *oauth2.Token {
	c := *t
	if secs := expiresIn(t); secs > 0 {
		c.Expiry = start.Add(time.Duration(secs) * time.Second)
	}
	c.ExpiresIn = 0
	return &c
}

// expiresIn returns the token's expires_in in seconds, from the field or, for
// tokens oauth2 builds without it, from the raw response.
func expiresIn(t *oauth2.Token) int64 {
	if t.ExpiresIn > 0 {
		return t.ExpiresIn
	}
	switch v := t.Extra("expires_in").(type) {
	case float64: // JSON numbers decoded by oauth2
		if v > 0 && v < 1<<31 {
			return int64(v)
		}
	case int64:
		return v
	case string:
		n, _ := strconv.ParseInt(v, 10, 64)
		return n
	}
	return 0
}

// sameAccessToken compares two access tokens in constant time.
func sameAccessToken(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func copyToken(t *oauth2.Token) *oauth2.Token {
	c := *t
	return &c
}

// TokenRefresh describes a new token a token source obtained: for a
// UserTokenSource, a refreshed token now saved in its TokenStore. It carries
// no token values, so it can be logged as it is.
type TokenRefresh struct {
	// Expiry is when the new access token expires.
	Expiry time.Time
	// Rejected is true when the new token replaces one HMRC rejected
	// (RefreshToken), false when it replaces one about to expire.
	Rejected bool
	// Retried is true when the token had been issued earlier but its first
	// save failed, and this is the save that succeeded.
	Retried bool
}

// TokenOption configures NewUserTokenSource and NewApplicationTokenSource.
type TokenOption func(*tokenOptions) error

type tokenOptions struct {
	hc     *http.Client
	margin time.Duration
	now    func() time.Time
	hook   func(context.Context, TokenRefresh)
}

// WithTokenHTTPClient sets the *http.Client used for requests to HMRC's token
// endpoint; the default is http.DefaultClient. The client is used as it is,
// never modified.
func WithTokenHTTPClient(hc *http.Client) TokenOption {
	return func(o *tokenOptions) error {
		if hc == nil {
			return errors.New("vat: WithTokenHTTPClient: nil *http.Client")
		}
		o.hc = hc
		return nil
	}
}

// WithRefreshMargin sets how long before its expiry an access token is
// replaced (DefaultRefreshMargin unless set): enough to absorb clock skew with
// HMRC. It must be between 0 and 1 hour. A token that lasts less than twice
// the margin is replaced at half its lifetime instead.
func WithRefreshMargin(d time.Duration) TokenOption {
	return func(o *tokenOptions) error {
		if d < 0 || d > maxRefreshMargin {
			return fmt.Errorf("vat: WithRefreshMargin: %v is outside 0 to %v", d, maxRefreshMargin)
		}
		o.margin = d
		return nil
	}
}

// WithTokenClock sets the clock that decides when a token has expired and
// from which new tokens' expiry is counted; tests use it to move time on. It
// is called from several goroutines at once.
func WithTokenClock(now func() time.Time) TokenOption {
	return func(o *tokenOptions) error {
		if now == nil {
			return errors.New("vat: WithTokenClock: nil clock")
		}
		o.now = now
		return nil
	}
}

// WithRefreshHook sets a func called after each new token is obtained (and,
// for a UserTokenSource, saved), for example to log that a rotation happened.
// It runs on the goroutine that obtained the token, after the source's lock
// is released and before that caller gets the token; it receives that
// caller's context and must not block for long.
func WithRefreshHook(fn func(ctx context.Context, r TokenRefresh)) TokenOption {
	return func(o *tokenOptions) error {
		if fn == nil {
			return errors.New("vat: WithRefreshHook: nil func")
		}
		o.hook = fn
		return nil
	}
}

func newTokenOptions(opts []TokenOption) (tokenOptions, error) {
	o := tokenOptions{margin: DefaultRefreshMargin, now: time.Now}
	for _, opt := range opts {
		if opt == nil {
			return o, errors.New("vat: nil TokenOption")
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

// httpContext returns ctx carrying the configured HTTP client for oauth2.
func (o *tokenOptions) httpContext(ctx context.Context) context.Context {
	if o.hc == nil {
		return ctx
	}
	return context.WithValue(ctx, oauth2.HTTPClient, o.hc)
}

// fresh reports whether t can still be handed out at o's clock: its expiry
// is further away than the margin, capped at half the token's lifetime when
// that is known.
func (o *tokenOptions) fresh(t *oauth2.Token, lifetime time.Duration) bool {
	if t == nil || t.AccessToken == "" {
		return false
	}
	if t.Expiry.IsZero() {
		return true
	}
	m := o.margin
	if lifetime > 0 && m > lifetime/2 {
		m = lifetime / 2
	}
	return o.now().Before(t.Expiry.Add(-m))
}

// checkConfig refuses an oauth2.Config a token source cannot use, and
// returns a copy that sends client credentials in the form body.
func checkConfig(fn string, cfg *oauth2.Config) (*oauth2.Config, error) {
	if cfg == nil {
		return nil, fmt.Errorf("vat: %s: nil *oauth2.Config: build one with vat.NewOAuthConfig", fn)
	}
	if err := checkCredential("ClientID", cfg.ClientID); err != nil {
		return nil, fmt.Errorf("vat: %s: %w", fn, err)
	}
	if err := checkCredential("ClientSecret", cfg.ClientSecret); err != nil {
		return nil, fmt.Errorf("vat: %s: %w", fn, err)
	}
	if cfg.Endpoint.TokenURL == "" {
		return nil, fmt.Errorf("vat: %s: Endpoint.TokenURL is empty: build the config with vat.NewOAuthConfig", fn)
	}
	return &oauth2.Config{
		ClientID:     cfg.ClientID,
		ClientSecret: cfg.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:       cfg.Endpoint.AuthURL,
			DeviceAuthURL: cfg.Endpoint.DeviceAuthURL,
			TokenURL:      cfg.Endpoint.TokenURL,
			AuthStyle:     oauth2.AuthStyleInParams,
		},
		RedirectURL: cfg.RedirectURL,
		Scopes:      slices.Clone(cfg.Scopes),
	}, nil
}

// UserTokenSource supplies user-restricted access tokens for one user,
// persisted in a TokenStore and refreshed with HMRC's single-use refresh
// tokens. Give it to the Client with WithTokenSource; it implements
// oauth2.TokenSource, ContextTokenSource and RefreshingTokenSource and is
// safe for concurrent use.
//
// It loads the token from the store on first use. It refreshes the access
// token DefaultRefreshMargin (see WithRefreshMargin) before it expires, with
// the context of the call that needs the token: no context is kept between
// calls. Refreshes are serialised: however many goroutines find the token
// expired, one refreshes and the others wait (each for as long as its own
// context allows) and then share the result. If the store implements
// TokenStoreLocker, its lock is held from reading the store to saving the new
// token, so processes sharing the store never spend the same refresh token.
// Before refreshing, the store is read again: if another process has
// refreshed already, its token is used.
//
// A caller whose context ends stops waiting at once, but a refresh request
// already sent runs to completion (for up to a minute, with the context's
// values) and its token is saved: HMRC invalidates the old refresh token as
// soon as it answers, so abandoning the answer would lose the user's grant.
//
// A refreshed token is saved before it is returned. If the save fails, the
// caller gets an error matching ErrTokenNotSaved and the store's error, not
// the token: HMRC has already invalidated the old refresh token, so the new
// one is kept in memory and saved on the next call. A refresh HMRC refuses
// with invalid_grant (after 18 months, or if the user revoked access) gives a
// *TokenError matching ErrReauthorizationRequired, and that refresh token is
// not sent again.
//
// When HMRC invalidates the token in memory early (another process sharing
// the store refreshed it, or clocks disagree), the Client's request gets 401
// INVALID_CREDENTIALS and the Client calls RefreshToken, which picks up the
// other process's token from the store or refreshes.
type UserTokenSource struct {
	cfg    *oauth2.Config
	store  TokenStore
	locker TokenStoreLocker
	o      tokenOptions

	// sem is held by the one goroutine loading, refreshing or saving.
	sem chan struct{}

	mu       sync.Mutex    // guards the fields below
	tok      *oauth2.Token // current token; nil until loaded
	lifetime time.Duration // lifetime of tok if this source obtained it
	unsaved  bool          // tok was refreshed but not yet saved
	refused  string        // refresh token HMRC refused with invalid_grant
	refusal  error         // the error HMRC's refusal gave
}

// NewUserTokenSource returns a UserTokenSource for the user whose token store
// is store, refreshing through cfg's token endpoint (build cfg with
// NewOAuthConfig; client credentials are always sent in the form body). It
// reads nothing until the first token is asked for.
func NewUserTokenSource(cfg *oauth2.Config, store TokenStore, opts ...TokenOption) (*UserTokenSource, error) {
	c, err := checkConfig("NewUserTokenSource", cfg)
	if err != nil {
		return nil, err
	}
	if store == nil {
		return nil, errors.New("vat: NewUserTokenSource: nil TokenStore")
	}
	o, err := newTokenOptions(opts)
	if err != nil {
		return nil, err
	}
	s := &UserTokenSource{cfg: c, store: store, o: o, sem: make(chan struct{}, 1)}
	s.locker, _ = store.(TokenStoreLocker)
	return s, nil
}

// Token returns a valid access token, like TokenContext with
// context.Background(). Prefer TokenContext, so that waiting for a refresh
// ends with the request it serves.
func (s *UserTokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns a valid access token, loading it from the store on
// first use and refreshing it, with ctx, when it is about to expire. The
// returned token is a copy the caller may keep.
func (s *UserTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, errors.New("vat: UserTokenSource.TokenContext: nil context")
	}
	if s.sem == nil {
		return nil, errNotConstructed("UserTokenSource", "NewUserTokenSource")
	}
	if t := s.cached(""); t != nil {
		return t, nil
	}
	return s.slow(ctx, "")
}

// RefreshToken is called when HMRC rejected rejected, the access token a
// request carried (401 INVALID_CREDENTIALS). If the source's current token is
// no longer rejected (another goroutine or process has refreshed since), it
// returns that token without a refresh; otherwise it refreshes, as
// TokenContext does. Access tokens are compared in constant time.
func (s *UserTokenSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, errors.New("vat: UserTokenSource.RefreshToken: nil context")
	}
	if rejected == nil || rejected.AccessToken == "" {
		return nil, errors.New("vat: UserTokenSource.RefreshToken: no rejected access token given")
	}
	if s.sem == nil {
		return nil, errNotConstructed("UserTokenSource", "NewUserTokenSource")
	}
	if t := s.cached(rejected.AccessToken); t != nil {
		return t, nil
	}
	return s.slow(ctx, rejected.AccessToken)
}

// cached returns a copy of the token in memory if it is saved, fresh and not
// rejected.
func (s *UserTokenSource) cached(rejected string) *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.unsaved || !s.usableLocked(s.tok, rejected) {
		return nil
	}
	return copyToken(s.tok)
}

func (s *UserTokenSource) usableLocked(t *oauth2.Token, rejected string) bool {
	lifetime := time.Duration(0)
	if t == s.tok {
		lifetime = s.lifetime
	}
	return s.o.fresh(t, lifetime) && (rejected == "" || !sameAccessToken(t.AccessToken, rejected))
}

func (s *UserTokenSource) usable(t *oauth2.Token, rejected string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usableLocked(t, rejected)
}

// refreshTimeout bounds a refresh request and the save that follows it,
// which run to completion even if the caller that started them gives up.
const refreshTimeout = time.Minute

// refreshPlan is a refresh decided on with the source's lock held.
type refreshPlan struct {
	refreshToken string // the stored refresh token to spend
	accessToken  string // the access token it replaces, removed from errors
	rejected     string // the access token HMRC rejected, if any
	unlock       func() // releases the store's lock, if taken
}

type tokenResult struct {
	tok *oauth2.Token
	err error
}

// slow takes the source's lock, waiting no longer than ctx allows, and
// obtains a token. A refresh, once decided on, runs on its own goroutine
// with ctx's values but not its cancellation, and saves its result even if
// the caller stops waiting: HMRC invalidates the old refresh token as soon
// as it answers, so abandoning the answer would lose the user's grant.
func (s *UserTokenSource) slow(ctx context.Context, rejected string) (*oauth2.Token, error) {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("vat: waiting for another goroutine's token refresh: %w", ctx.Err())
	}
	tok, ev, plan, err := s.prepare(ctx, rejected)
	if plan == nil {
		<-s.sem
		s.notify(ctx, ev)
		return tok, err
	}
	done := make(chan tokenResult, 1)
	go func() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), refreshTimeout)
		defer cancel()
		tok, refreshed, err := s.refresh(rctx, plan)
		plan.unlock()
		<-s.sem
		s.notify(rctx, ev)
		s.notify(rctx, refreshed)
		done <- tokenResult{tok, err}
	}()
	select {
	case r := <-done:
		return r.tok, r.err
	case <-ctx.Done():
		return nil, fmt.Errorf("vat: stopped waiting for the token refresh, which goes on and saves its result: %w", ctx.Err())
	}
}

func (s *UserTokenSource) notify(ctx context.Context, ev *TokenRefresh) {
	if ev != nil && s.o.hook != nil {
		s.o.hook(ctx, *ev)
	}
}

// prepare runs with s.sem held. It returns a token, or an error, or a plan
// for a refresh (with the store's lock held, if the store has one).
func (s *UserTokenSource) prepare(ctx context.Context, rejected string) (*oauth2.Token, *TokenRefresh, *refreshPlan, error) {
	s.mu.Lock()
	cur, unsaved := s.tok, s.unsaved
	s.mu.Unlock()

	var saved *TokenRefresh
	if unsaved {
		// cur came from a refresh whose save failed: its refresh token is the
		// only valid one, so save it before anything else.
		if err := s.store.Save(ctx, cur); err != nil {
			return nil, nil, nil, notSaved(err)
		}
		s.mu.Lock()
		s.unsaved = false
		s.mu.Unlock()
		saved = &TokenRefresh{Expiry: cur.Expiry, Retried: true}
	}
	if s.usable(cur, rejected) {
		// Another goroutine obtained it while this one waited.
		return copyToken(cur), saved, nil, nil
	}

	unlock := func() {}
	if s.locker != nil {
		u, err := s.locker.Lock(ctx)
		if err != nil {
			return nil, saved, nil, fmt.Errorf("vat: locking the token store: %w", err)
		}
		unlock = u
	}
	stored, err := s.load(ctx)
	if err != nil {
		unlock()
		return nil, saved, nil, err
	}
	if s.usable(stored, rejected) {
		// First load, or another process refreshed already.
		unlock()
		return copyToken(stored), saved, nil, nil
	}
	if err := s.refreshable(stored); err != nil {
		unlock()
		return nil, saved, nil, err
	}
	return nil, saved, &refreshPlan{
		refreshToken: stored.RefreshToken,
		accessToken:  stored.AccessToken,
		rejected:     rejected,
		unlock:       unlock,
	}, nil
}

// load reads the store and makes its token the current one.
func (s *UserTokenSource) load(ctx context.Context) (*oauth2.Token, error) {
	stored, err := s.store.Load(ctx)
	if errors.Is(err, ErrNoToken) {
		s.mu.Lock()
		s.tok, s.lifetime = nil, 0
		s.mu.Unlock()
		return nil, &signInError{msg: "vat: the token store holds no token for this user: the user must sign in to HMRC", cause: err}
	}
	if err != nil {
		return nil, fmt.Errorf("vat: loading the user's token: %w", err)
	}
	s.mu.Lock()
	if s.tok == nil || !sameAccessToken(s.tok.AccessToken, stored.AccessToken) {
		s.lifetime = 0
	}
	s.tok = stored
	s.mu.Unlock()
	return stored, nil
}

// refreshable reports why stored cannot be refreshed, if it cannot.
func (s *UserTokenSource) refreshable(stored *oauth2.Token) error {
	if stored.RefreshToken == "" {
		return &signInError{msg: "vat: the stored token has expired and has no refresh token: the user must sign in to HMRC"}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.refused != "" && sameAccessToken(s.refused, stored.RefreshToken) {
		// HMRC refused this refresh token already; do not send it again.
		return s.refusal
	}
	return nil
}

// refresh spends p's refresh token and saves the new token; it runs with
// s.sem and the store's lock held, on a context without cancellation.
func (s *UserTokenSource) refresh(ctx context.Context, p *refreshPlan) (*oauth2.Token, *TokenRefresh, error) {
	rt, at := p.refreshToken, p.accessToken
	for attempt := 0; ; attempt++ {
		start := s.o.now()
		tok, err := s.cfg.TokenSource(s.o.httpContext(ctx), &oauth2.Token{RefreshToken: rt}).Token()
		if err != nil {
			err = tokenRequestError("refresh_token", "refreshing the access token", err, rt, at, s.cfg.ClientSecret)
			if !errors.Is(err, ErrReauthorizationRequired) {
				return nil, nil, err
			}
			s.mu.Lock()
			s.refused, s.refusal = rt, err
			s.mu.Unlock()
			if attempt > 0 {
				return nil, nil, err
			}
			// A writer that does not take the store's lock may have rotated
			// the token meanwhile: read the store again.
			stored, lerr := s.load(ctx)
			if lerr != nil {
				return nil, nil, err
			}
			if s.usable(stored, p.rejected) {
				return copyToken(stored), nil, nil
			}
			if s.refreshable(stored) != nil {
				return nil, nil, err
			}
			rt, at = stored.RefreshToken, stored.AccessToken
			continue
		}
		fresh := normaliseToken(tok, start)

		// The old refresh token is spent: until saved, the new token exists
		// only here, so keep it in memory before trying to save it.
		s.mu.Lock()
		s.tok, s.unsaved = fresh, true
		s.lifetime = fresh.Expiry.Sub(start)
		s.mu.Unlock()
		if err := s.store.Save(ctx, fresh); err != nil {
			return nil, nil, notSaved(err)
		}
		s.mu.Lock()
		s.unsaved = false
		s.mu.Unlock()
		return copyToken(fresh), &TokenRefresh{Expiry: fresh.Expiry, Rejected: p.rejected != ""}, nil
	}
}

func errNotConstructed(typ, fn string) error {
	return fmt.Errorf("vat: %s used without being created by vat.%s", typ, fn)
}

func notSaved(err error) error {
	return fmt.Errorf("%w (it is kept in memory and saving is retried on the next call; if this process stops first, the user must sign in again): %w", ErrTokenNotSaved, err)
}

// ApplicationTokenSource supplies application-restricted access tokens
// (OAuth 2.0 client_credentials grant), for the Create Test User API, the
// Test Fraud Prevention Headers API and the Check a UK VAT number API. It
// keeps a token until shortly before it expires (see WithRefreshMargin) and
// fetches a new one, with the caller's context, one goroutine at a time. It
// is safe for concurrent use and implements oauth2.TokenSource,
// ContextTokenSource and RefreshingTokenSource.
//
// HMRC refuses application-restricted tokens on the VAT (MTD) endpoints
// (401 INCORRECT_ACCESS_TOKEN_TYPE), so the Client refuses to send one there
// and says so before any request.
type ApplicationTokenSource struct {
	cc     *clientcredentials.Config
	o      tokenOptions
	sem    chan struct{}
	mu     sync.Mutex
	tok    *oauth2.Token
	expiry time.Duration // lifetime of tok
}

// NewApplicationTokenSource returns an ApplicationTokenSource for the
// application whose credentials and token endpoint are in cfg (build it with
// NewOAuthConfig; its Scopes and RedirectURL are not used). scopes are the
// scopes to request: none for Create Test User and Test Fraud Prevention
// Headers, ScopeReadVAT for Check a UK VAT number.
func NewApplicationTokenSource(cfg *oauth2.Config, scopes []string, opts ...TokenOption) (*ApplicationTokenSource, error) {
	c, err := checkConfig("NewApplicationTokenSource", cfg)
	if err != nil {
		return nil, err
	}
	if err := checkScopes(scopes); err != nil {
		return nil, fmt.Errorf("vat: NewApplicationTokenSource: scopes: %w", err)
	}
	o, err := newTokenOptions(opts)
	if err != nil {
		return nil, err
	}
	return &ApplicationTokenSource{
		cc: &clientcredentials.Config{
			ClientID:     c.ClientID,
			ClientSecret: c.ClientSecret,
			TokenURL:     c.Endpoint.TokenURL,
			Scopes:       slices.Clone(scopes),
			AuthStyle:    oauth2.AuthStyleInParams,
		},
		o:   o,
		sem: make(chan struct{}, 1),
	}, nil
}

// applicationRestricted marks the tokens as application-restricted, so the
// Client refuses them on user-restricted endpoints.
func (s *ApplicationTokenSource) applicationRestricted() {}

// Token returns a valid token, like TokenContext with context.Background().
func (s *ApplicationTokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns the cached token, or fetches a new one with ctx when
// there is none or it is about to expire.
func (s *ApplicationTokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, errors.New("vat: ApplicationTokenSource.TokenContext: nil context")
	}
	if s.sem == nil {
		return nil, errNotConstructed("ApplicationTokenSource", "NewApplicationTokenSource")
	}
	return s.get(ctx, "")
}

// RefreshToken fetches a new token if rejected is still the current one;
// otherwise it returns the current token.
func (s *ApplicationTokenSource) RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, errors.New("vat: ApplicationTokenSource.RefreshToken: nil context")
	}
	if rejected == nil || rejected.AccessToken == "" {
		return nil, errors.New("vat: ApplicationTokenSource.RefreshToken: no rejected access token given")
	}
	if s.sem == nil {
		return nil, errNotConstructed("ApplicationTokenSource", "NewApplicationTokenSource")
	}
	return s.get(ctx, rejected.AccessToken)
}

func (s *ApplicationTokenSource) cached(rejected string) *oauth2.Token {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.o.fresh(s.tok, s.expiry) || (rejected != "" && sameAccessToken(s.tok.AccessToken, rejected)) {
		return nil
	}
	return copyToken(s.tok)
}

func (s *ApplicationTokenSource) get(ctx context.Context, rejected string) (*oauth2.Token, error) {
	if t := s.cached(rejected); t != nil {
		return t, nil
	}
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("vat: waiting for another goroutine's token request: %w", ctx.Err())
	}
	if t := s.cached(rejected); t != nil {
		<-s.sem
		return t, nil
	}
	start := s.o.now()
	tok, err := s.cc.Token(s.o.httpContext(ctx))
	if err != nil {
		<-s.sem
		return nil, tokenRequestError("client_credentials", "requesting an application token", err, s.cc.ClientSecret)
	}
	fresh := normaliseToken(tok, start)
	s.mu.Lock()
	s.tok, s.expiry = fresh, fresh.Expiry.Sub(start)
	s.mu.Unlock()
	<-s.sem
	if s.o.hook != nil {
		s.o.hook(ctx, TokenRefresh{Expiry: fresh.Expiry, Rejected: rejected != ""})
	}
	return copyToken(fresh), nil
}

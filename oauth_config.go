package vat

import (
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
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
	// ClientID is the application's client ID for the chosen environment;
	// sandbox credentials do not work in production.
	ClientID string
	// ClientSecret is the application's client secret for the chosen
	// environment. OAuthApp formats and logs without it.
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

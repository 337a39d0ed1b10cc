package vat

import (
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"

	"golang.org/x/oauth2"
)

// Every type in this package that holds a token, a client secret, a
// password, a PKCE verifier or an OAuth state formats and logs without it:
// String and GoString leave it out, Format sends every fmt verb to them (so
// that no verb, even an invalid one, prints the fields), and LogValue gives
// slog the same safe fields.

// redactedText stands in for a secret in formatted output.
const redactedText = "[redacted]"

// shown is what formatted output says about a secret s: that it is empty,
// or that it was left out.
func shown(s string) string {
	if s == "" {
		return `""`
	}
	return redactedText
}

// formatRedacted implements fmt.Formatter for a type holding a secret: %#v
// prints goString, and every other verb formats str as a string.
func formatRedacted(f fmt.State, verb rune, str, goString string) {
	if verb == 'v' && f.Flag('#') {
		_, _ = io.WriteString(f, goString)
		return
	}
	_, _ = fmt.Fprintf(f, fmt.FormatString(f, verb), str)
}

// String describes the application's registration without its client
// secret.
func (a OAuthApp) String() string {
	return fmt.Sprintf("vat.OAuthApp{ClientID: %q, ClientSecret: %s, RedirectURL: %q, Scopes: %s}",
		a.ClientID, shown(a.ClientSecret), a.RedirectURL, quoteList(a.Scopes))
}

// GoString is String, so that %#v does not print the client secret either.
func (a OAuthApp) GoString() string { return a.String() }

// Format prints String for every verb (GoString for %#v).
func (a OAuthApp) Format(f fmt.State, verb rune) { formatRedacted(f, verb, a.String(), a.GoString()) }

// LogValue implements slog.LogValuer: the client ID, redirect URL and
// scopes, without the client secret.
func (a OAuthApp) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("client_id", a.ClientID),
		slog.String("client_secret", shown(a.ClientSecret)),
		slog.String("redirect_url", a.RedirectURL),
		slog.Any("scopes", a.Scopes),
	)
}

// String describes the sign-in request without its state or PKCE verifier.
func (r AuthRequest) String() string {
	return "vat.AuthRequest{State: " + shown(r.State) + ", Verifier: " + shown(r.Verifier) + "}"
}

// GoString is String, so that %#v does not print the state or verifier
// either.
func (r AuthRequest) GoString() string { return r.String() }

// Format prints String for every verb (GoString for %#v).
func (r AuthRequest) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, r.String(), r.GoString())
}

// LogValue implements slog.LogValuer, without the state or verifier.
func (r AuthRequest) LogValue() slog.Value {
	return slog.GroupValue(slog.String("state", shown(r.State)), slog.String("verifier", shown(r.Verifier)))
}

// String is Error.
func (e *TokenError) String() string { return e.Error() }

// GoString prints the fields, none of which holds a secret.
func (e *TokenError) GoString() string {
	return fmt.Sprintf("&vat.TokenError{Grant: %q, StatusCode: %d, Code: %q, Description: %q}",
		e.Grant, e.StatusCode, e.Code, e.Description)
}

// Format prints Error for every verb (GoString for %#v).
func (e *TokenError) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, e.Error(), e.GoString())
}

// LogValue implements slog.LogValuer: the grant, status, code and
// description.
func (e *TokenError) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("grant", e.Grant),
		slog.Int("status", e.StatusCode),
		slog.String("code", e.Code),
		slog.String("description", e.Description),
	)
}

// String describes the source by its client ID, token endpoint and store
// type, without tokens or the client secret.
func (s *UserTokenSource) String() string {
	if s.cfg == nil {
		return "vat.UserTokenSource{}"
	}
	return fmt.Sprintf("vat.UserTokenSource{ClientID: %q, TokenURL: %q, Store: %T}", s.cfg.ClientID, s.cfg.Endpoint.TokenURL, s.store)
}

// GoString is String, so that %#v does not print tokens either.
func (s *UserTokenSource) GoString() string { return s.String() }

// Format prints String for every verb (GoString for %#v).
func (s *UserTokenSource) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// LogValue implements slog.LogValuer: the client ID, token endpoint and
// store type.
func (s *UserTokenSource) LogValue() slog.Value {
	if s.cfg == nil {
		return slog.GroupValue()
	}
	return slog.GroupValue(
		slog.String("client_id", s.cfg.ClientID),
		slog.String("token_url", s.cfg.Endpoint.TokenURL),
		slog.String("store", fmt.Sprintf("%T", s.store)),
	)
}

// String describes the source by its client ID, token endpoint and scopes,
// without its token or the client secret.
func (s *ApplicationTokenSource) String() string {
	if s.cc == nil {
		return "vat.ApplicationTokenSource{}"
	}
	return fmt.Sprintf("vat.ApplicationTokenSource{ClientID: %q, TokenURL: %q, Scopes: %s}", s.cc.ClientID, s.cc.TokenURL, quoteList(s.cc.Scopes))
}

// GoString is String, so that %#v does not print the token either.
func (s *ApplicationTokenSource) GoString() string { return s.String() }

// Format prints String for every verb (GoString for %#v).
func (s *ApplicationTokenSource) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// LogValue implements slog.LogValuer: the client ID, token endpoint and
// scopes.
func (s *ApplicationTokenSource) LogValue() slog.Value {
	if s.cc == nil {
		return slog.GroupValue()
	}
	return slog.GroupValue(
		slog.String("client_id", s.cc.ClientID),
		slog.String("token_url", s.cc.TokenURL),
		slog.Any("scopes", s.cc.Scopes),
	)
}

// String names the token file.
func (s *FileStore) String() string { return "vat.FileStore{Path: " + strconv.Quote(s.path) + "}" }

// GoString is String.
func (s *FileStore) GoString() string { return s.String() }

// Format prints String for every verb (GoString for %#v).
func (s *FileStore) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, s.String(), s.GoString())
}

// LogValue implements slog.LogValuer: the token file's path.
func (s *FileStore) LogValue() slog.Value {
	return slog.GroupValue(slog.String("path", s.path))
}

// String says whether the store holds a token, without the token.
func (m *MemoryStore) String() string {
	m.mu.Lock()
	held := m.tok != nil
	m.mu.Unlock()
	if held {
		return "vat.MemoryStore{Token: " + redactedText + "}"
	}
	return "vat.MemoryStore{Token: nil}"
}

// GoString is String, so that %#v does not print the token either.
func (m *MemoryStore) GoString() string { return m.String() }

// Format prints String for every verb (GoString for %#v).
func (m *MemoryStore) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, m.String(), m.GoString())
}

// LogValue implements slog.LogValuer: whether the store holds a token.
func (m *MemoryStore) LogValue() slog.Value {
	m.mu.Lock()
	held := m.tok != nil
	m.mu.Unlock()
	return slog.GroupValue(slog.Bool("holds_token", held))
}

// GoString describes u without its password, as String does.
func (u TestUser) GoString() string {
	return fmt.Sprintf("vat.TestUser{UserID: %q, Password: %s, VRN: %q}", u.UserID, shown(u.Password), u.VRN)
}

// Format prints String for every verb (GoString for %#v), so that no verb
// prints the password.
func (u TestUser) Format(f fmt.State, verb rune) { formatRedacted(f, verb, u.String(), u.GoString()) }

// LogValue implements slog.LogValuer: the user ID and the identifiers that
// matter for VAT, without the password.
func (u TestUser) LogValue() slog.Value {
	attrs := []slog.Attr{slog.String("user_id", u.UserID), slog.String("password", shown(u.Password))}
	if u.VRN != "" {
		attrs = append(attrs, slog.String("vrn", string(u.VRN)))
	}
	if u.AgentServicesAccountNumber != "" {
		attrs = append(attrs, slog.String("arn", u.AgentServicesAccountNumber))
	}
	return slog.GroupValue(attrs...)
}

// String describes the client by its environment and base URL, without its
// token sources, fraud prevention headers or anything they hold.
func (c *Client) String() string {
	return fmt.Sprintf("vat.Client{Environment: %v, BaseURL: %q}", c.cfg.env, c.cfg.base)
}

// GoString is String, so that %#v does not print tokens either.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb (GoString for %#v).
func (c *Client) Format(f fmt.State, verb rune) { formatRedacted(f, verb, c.String(), c.GoString()) }

// LogValue implements slog.LogValuer: the environment and base URL.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("environment", c.cfg.env.String()), slog.String("base_url", c.cfg.base))
}

// String and Format keep the unexported holders of tokens and secrets out of
// formatted output too.

func (p *refreshPlan) String() string { return "vat.refreshPlan{" + redactedText + "}" }

func (p *refreshPlan) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, p.String(), p.String())
}

func (r tokenResult) String() string {
	return fmt.Sprintf("vat.tokenResult{Token: %s, Err: %v}", heldToken(r.tok), r.err)
}

func (r tokenResult) Format(f fmt.State, verb rune) { formatRedacted(f, verb, r.String(), r.String()) }

func (r signInResult) String() string {
	return fmt.Sprintf("vat.signInResult{Token: %s, Err: %v}", heldToken(r.tok), r.err)
}

func (r signInResult) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, r.String(), r.String())
}

func (cb *callback) String() string { return "vat.callback{Path: " + strconv.Quote(cb.path) + "}" }

func (cb *callback) Format(f fmt.State, verb rune) {
	formatRedacted(f, verb, cb.String(), cb.String())
}

func heldToken(t *oauth2.Token) string {
	if t == nil {
		return "nil"
	}
	return redactedText
}

// quoteList prints a list of strings as ["a" "b"].
func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, s := range list {
		q[i] = strconv.Quote(s)
	}
	return "[" + strings.Join(q, " ") + "]"
}

package vat

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/oauth2"
)

// Errors of signing in and of keeping a user's tokens; test with errors.Is.
var (
	// ErrReauthorizationRequired reports that HMRC will no longer refresh the
	// user's access: the 18-month authority has run out, the user revoked it, or
	// its single-use refresh token was already spent. It also reports that the
	// token store holds no usable token. The user must sign in to HMRC again
	// (SignIn, or an AuthRequest in a web application). Test with errors.Is.
	ErrReauthorizationRequired = errors.New("vat: reauthorization required: the user must sign in to HMRC and grant access again")

	// ErrTokenNotSaved reports that HMRC issued a new token but the TokenStore
	// failed to save it. HMRC has already invalidated the previous refresh token,
	// so the new one exists only in the token source's memory; the source keeps
	// it there and retries the save on its next call. If the process stops before
	// a save succeeds, the user must sign in again. The error also wraps the
	// store's own error.
	ErrTokenNotSaved = errors.New("vat: HMRC issued a new token but it could not be saved")

	// ErrStateMismatch reports that the state parameter of an authorization
	// redirect does not match the one the sign-in began with: the redirect does
	// not belong to this sign-in (a stale browser tab, or forgery) and its code
	// must not be used.
	ErrStateMismatch = errors.New("vat: the sign-in redirect's state does not match this sign-in; start the sign-in again")

	// ErrUserDeniedAuthorization reports that the user chose not to grant the
	// application access on HMRC's sign-in pages (error_code
	// USER_DENIED_AUTHORIZATION). An *AuthorizationError with that code matches it
	// with errors.Is.
	ErrUserDeniedAuthorization = errors.New("vat: the user did not grant access to HMRC")
)

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

func errNotConstructed(typ, fn string) error {
	return fmt.Errorf("vat: %s used without being created by vat.%s", typ, fn)
}

func notSaved(err error) error {
	return fmt.Errorf("%w (it is kept in memory and saving is retried on the next call; if this process stops first, the user must sign in again): %w", ErrTokenNotSaved, err)
}

package vat

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/oauth2"
)

// ContextTokenSource is a token source that takes a context for each call,
// so that a refresh made on behalf of a request is cancelled with it. The
// Client prefers TokenContext over oauth2.TokenSource's Token when the source
// it was given implements both.
type ContextTokenSource interface {
	TokenContext(ctx context.Context) (*oauth2.Token, error)
}

// RefreshingTokenSource is a token source that can be told its current access
// token was rejected. When HMRC answers 401 INVALID_CREDENTIALS, the Client
// calls RefreshToken with the token it sent and replays the request once with
// the token it gets back. Implementations refresh only if rejected is still
// their current token, so concurrent callers cause a single refresh.
type RefreshingTokenSource interface {
	ContextTokenSource
	RefreshToken(ctx context.Context, rejected *oauth2.Token) (*oauth2.Token, error)
}

// applicationRestricted marks token sources that issue application-restricted
// (client_credentials) tokens. HMRC refuses them on VAT endpoints with 401
// INCORRECT_ACCESS_TOKEN_TYPE, so the Client refuses them locally first.
type applicationRestricted interface {
	applicationRestricted()
}

// defaultRefreshMargin is how long before its expiry a token source replaces
// an access token, unless told otherwise with WithRefreshMargin. It absorbs
// clock skew between this machine and HMRC and the time a request takes.
const defaultRefreshMargin = 5 * time.Minute

// maxRefreshMargin bounds WithRefreshMargin well below HMRC's 4-hour access
// token lifetime, so that a new token is never already due for renewal.
const maxRefreshMargin = time.Hour

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
// replaced (5 minutes unless set): enough to absorb clock skew with
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
	o := tokenOptions{margin: defaultRefreshMargin, now: time.Now}
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

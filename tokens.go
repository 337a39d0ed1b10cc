package vat

import (
	"context"

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

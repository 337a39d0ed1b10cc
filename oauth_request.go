package vat

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// AuthRequest holds the secrets of one authorization-code sign-in: the state
// that ties HMRC's redirect to this sign-in, and the PKCE (S256) code
// verifier. A web application keeps it (for example in the user's session)
// between sending the browser to AuthCodeURL and handling the redirect with
// Exchange; it must not be reused for another sign-in.
//
// It formats and logs without its values (String, GoString, Format,
// LogValue); json.Marshal, for a session store, still includes them.
type AuthRequest struct {
	// State is the random value sent with the sign-in URL that HMRC's
	// redirect must carry back; CheckState compares them.
	State string
	// Verifier is the PKCE code verifier: the sign-in URL carries its S256
	// challenge, and Exchange sends the verifier itself with the code.
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

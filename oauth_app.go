package vat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
)

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

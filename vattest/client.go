package vattest

import (
	"testing"

	"github.com/go-mtd/vat"
	"golang.org/x/oauth2"
)

// OAuthConfig returns the *oauth2.Config of the server's default
// application: its client ID and secret, the server's /oauth/authorize and
// /oauth/token, client credentials in the form body, scopes read:vat and
// write:vat, and the redirect URL http://localhost/callback.
func (s *Server) OAuthConfig() *oauth2.Config {
	app := s.DefaultApplication()
	return &oauth2.Config{
		ClientID:     app.ClientID,
		ClientSecret: app.ClientSecret,
		Endpoint: oauth2.Endpoint{
			AuthURL:   s.URL + "/oauth/authorize",
			TokenURL:  s.URL + "/oauth/token",
			AuthStyle: oauth2.AuthStyleInParams,
		},
		RedirectURL: "http://localhost/callback",
		Scopes:      []string{vat.ScopeReadVAT, vat.ScopeWriteVAT},
	}
}

// RateLimit returns the requests per second the server allows each
// application; 0 means no limit.
func (s *Server) RateLimit() int { return s.cfg.rate }

// TestClient is a *vat.Client wired to a Server, signed in as a test
// business. Call the API through the embedded Client.
type TestClient struct {
	// Client is signed in as User; call the API through it.
	*vat.Client
	// Server is the server the client talks to.
	Server *Server
	// User is the signed-in test business's user; User.VRN is its VRN.
	User TestUser
	// Token is the token the client started with. The client refreshes it
	// through the server's /oauth/token when it expires on the server's clock.
	Token Token
	// Limiter is the rate limiter NewClient installed: vat.NoRateLimit. An
	// option passed to NewClient (vat.WithRateLimiter) replaces it in Client.
	Limiter vat.Limiter
}

// NewClient creates a test business (quarterly obligations, one fulfilled
// and one open ended period) and returns a *vat.Client signed in as its user:
// base URL, the server's HTTP client, a token source that refreshes through
// the server's OAuth endpoint on the server's clock, the server's clock for
// the client's date checks, and no client-side rate limit
// (vat.NoRateLimit). opts are applied after these, so they may override any
// of them; pass vat.WithRateLimiter to have a limiter. The server keeps the
// rate limit it was started with: [NewTestClient] starts one without. It
// fails tb on error.
func (s *Server) NewClient(tb testing.TB, opts ...vat.Option) *TestClient {
	tb.Helper()
	return s.newClient(tb, Organisation{}, opts)
}

// NewClientFor is [Server.NewClient] for a business of your choosing.
func (s *Server) NewClientFor(tb testing.TB, org Organisation, opts ...vat.Option) *TestClient {
	tb.Helper()
	return s.newClient(tb, org, opts)
}

func (s *Server) newClient(tb testing.TB, org Organisation, opts []vat.Option) *TestClient {
	tb.Helper()
	user, tok := s.TestOrganisation(tb, org)
	ts, err := vat.NewUserTokenSource(s.OAuthConfig(), vat.NewMemoryStore(tok.OAuth2()),
		vat.WithTokenHTTPClient(s.Client()), vat.WithTokenClock(s.Now))
	if err != nil {
		tb.Fatal(err)
	}
	all := append([]vat.Option{
		vat.WithBaseURL(s.URL), vat.WithHTTPClient(s.Client()), vat.WithTokenSource(ts),
		vat.WithClock(s.Now), vat.WithRateLimiter(vat.NoRateLimit),
	}, opts...)
	c, err := vat.NewClient(all...)
	if err != nil {
		tb.Fatal(err)
	}
	return &TestClient{Client: c, Server: s, User: user, Token: tok, Limiter: vat.NoRateLimit}
}

// NewTestClient starts a Server without a rate limit (unless opts give
// WithRateLimit), closes it when the test ends, and returns a [TestClient]
// for a new test business on it, as [Server.NewClient] makes. This is the
// fast path for tests of code that uses package vat: no request waits for a
// limiter on either side.
func NewTestClient(tb testing.TB, opts ...Option) *TestClient {
	tb.Helper()
	srv := NewTestServer(tb, append([]Option{WithRateLimit(0)}, opts...)...)
	return srv.NewClient(tb)
}

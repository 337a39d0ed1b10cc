package vat

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-mtd/vat/internal/wait"
)

// UserTokenSource supplies user-restricted access tokens for one user,
// persisted in a TokenStore and refreshed with HMRC's single-use refresh
// tokens. Give it to the Client with WithTokenSource; it implements
// oauth2.TokenSource, ContextTokenSource and RefreshingTokenSource and is
// safe for concurrent use.
//
// It loads the token from the store on first use. It refreshes the access
// token five minutes (see WithRefreshMargin) before it expires, with
// the context of the call that needs the token: no context is kept between
// calls. Refreshes are serialised: however many goroutines find the token
// expired, one refreshes and the others wait (each for as long as its own
// context allows) and then share the result. If the store implements
// TokenStoreLocker, its lock is held from reading the store to saving the new
// token, so processes sharing the store never spend the same refresh token.
// Before refreshing, the store is read again: if another process has
// refreshed already, its token is used.
// With a store that has no lock, two processes may send the same refresh
// token: HMRC refuses the second with invalid_grant, and that source then
// reads the store again for up to about 1.5 seconds, waiting for the
// other's save, and uses the token it finds before concluding that the user
// must sign in again.
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

	mu       sync.Mutex        // guards the fields below
	tok      *oauth2.Token     // current token; nil until loaded
	lifetime time.Duration     // lifetime of tok if this source obtained it
	unsaved  bool              // tok was refreshed but not yet saved
	refused  [sha256.Size]byte // SHA-256 of the refresh token HMRC refused with invalid_grant
	refusal  error             // the error HMRC's refusal gave; nil if none
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
	if s.refusal != nil && s.refused == sha256.Sum256([]byte(stored.RefreshToken)) {
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
			s.refused, s.refusal = sha256.Sum256([]byte(rt)), err
			s.mu.Unlock()
			if attempt > 0 {
				return nil, nil, err
			}
			// Another holder of the grant may have spent this refresh token
			// already: a writer that does not take the store's lock, or,
			// with a store that has no lock, another source whose save is
			// on its way. Read the store again before giving up the grant.
			stored, ok := s.awaitRotation(ctx, rt)
			if !ok {
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

// After HMRC refuses a refresh token with invalid_grant, a source whose
// store has no lock reads the store up to rotationReads times, waiting
// rotationFirstWait before the second reading and twice as long before each
// next one (1.55 seconds in all), for another source that spent the token to
// save its successor.
const (
	rotationReads     = 6
	rotationFirstWait = 50 * time.Millisecond
)

// awaitRotation reads the store until it holds a refresh token other than
// spent and returns that token; false if it still holds spent, or cannot be
// read. A store with a lock is read once: its lock, held meanwhile, keeps
// other sources from saving.
func (s *UserTokenSource) awaitRotation(ctx context.Context, spent string) (*oauth2.Token, bool) {
	reads := 1
	if s.locker == nil {
		reads = rotationReads
	}
	pause := rotationFirstWait
	for i := range reads {
		if i > 0 {
			if wait.Sleep(ctx, pause) != nil {
				return nil, false
			}
			pause *= 2
		}
		stored, err := s.load(ctx)
		if err != nil {
			return nil, false
		}
		if !sameAccessToken(stored.RefreshToken, spent) {
			return stored, true
		}
	}
	return nil, false
}

package vat_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestClientRefreshesOnceWhenHMRCRefusesAnExpiredToken joins the pipeline
// and the persistent token source: HMRC expires access tokens earlier than
// the client believes (clock skew), answers 401 INVALID_CREDENTIALS, and the
// client refreshes once and replays, even with 100 calls in flight.
func TestClientRefreshesOnceWhenHMRCRefusesAnExpiredToken(t *testing.T) {
	clock := newAuthClock()
	f := newFakeOAuth(t, clock)
	f.earlyExpiry = 10 * time.Minute // HMRC's clock runs ahead of ours

	var mu sync.Mutex
	apiCalls, refused := 0, 0
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		at, ok := f.ats[strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")]
		valid := ok && !at.revoked && clock.Now().Before(at.expiry)
		f.mu.Unlock()
		mu.Lock()
		apiCalls++
		if !valid {
			refused++
		}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !valid {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
			return
		}
		fmt.Fprint(w, `{"obligations":[]}`)
	}))
	t.Cleanup(api.Close)

	store := vat.NewMemoryStore(f.grant())
	ts, err := vat.NewUserTokenSource(f.config(t, "http://localhost:9876/callback"), store,
		vat.WithTokenClock(clock.Now), vat.WithRefreshMargin(5*time.Minute), vat.WithTokenHTTPClient(f.srv.Client()))
	require.NoError(t, err)
	var logs bytes.Buffer
	var logMu sync.Mutex
	c, err := vat.NewClient(vat.WithBaseURL(api.URL), vat.WithTokenSource(ts), vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithLogger(slog.New(slog.NewTextHandler(lockedBuffer{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	require.NoError(t, err)
	ctx := context.Background()
	q := vat.ObligationsQuery{Status: vat.ObligationOpen}

	_, err = c.Obligations(ctx, "123456789", q)
	require.NoError(t, err)
	assert.Zero(t, f.count().Refresh)

	// 3h55m later: our margin (5 min) says the token is still good; HMRC,
	// expiring it 10 minutes early, refuses it.
	clock.Advance(3*time.Hour + 55*time.Minute)
	var wg sync.WaitGroup
	errs := make([]error, 100)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = c.Obligations(ctx, "123456789", q)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
		f.noLeakErr(t, err)
	}
	assert.Equal(t, 1, f.count().Refresh, "100 refused calls, one refresh")
	assert.Zero(t, f.count().ReusedRefresh)
	mu.Lock()
	assert.Equal(t, 101+refused, apiCalls, "each refused call was replayed once")
	mu.Unlock()
	saved, err := store.Load(ctx)
	require.NoError(t, err)
	assert.True(t, f.accepts(t, saved), "the rotated token was saved before use")

	// After 18 months the grant ends: the caller is told to sign in again.
	f.endGrants()
	clock.Advance(5 * time.Hour)
	_, err = c.Obligations(ctx, "123456789", q)
	assert.ErrorIs(t, err, vat.ErrReauthorizationRequired)
	f.noLeakErr(t, err)
	logMu.Lock()
	f.noLeak(t, logs.String())
	logMu.Unlock()
}

type lockedBuffer struct {
	b  *bytes.Buffer
	mu *sync.Mutex
}

func (l lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

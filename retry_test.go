package vat

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/go-mtd/vat/internal/wait"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// recordWaits makes c record its retry waits instead of sleeping.
func recordWaits(c *Client) *[]time.Duration {
	var mu sync.Mutex
	waits := &[]time.Duration{}
	c.cfg.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		defer mu.Unlock()
		*waits = append(*waits, d)
		return ctx.Err()
	}
	return waits
}

var openQuery = ObligationsQuery{Status: ObligationOpen}

func TestReadsAreRetriedOnTransientStatuses(t *testing.T) {
	t.Parallel()
	for _, status := range []int{429, 500, 502, 503, 504} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			var n atomic.Int32
			mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
				if n.Add(1) < 3 {
					writeJSON(w, status, `{"code":"SERVER_ERROR","message":"Service unavailable"}`)
					return
				}
				writeJSON(w, 200, `{"obligations":[]}`)
			})
			var meta ResponseMeta
			_, err := c.Obligations(context.Background(), "123456789", openQuery, WithResponseMeta(&meta))
			require.NoError(t, err)
			assert.Equal(t, int32(3), n.Load())
			assert.Equal(t, 3, meta.Attempts)
		})
	}
}

func TestGivingUpReturnsTheLastAPIError(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	waits := recordWaits(c)
	var n atomic.Int32
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 4 {
			writeJSON(w, 503, `{"code":"SCHEDULED_MAINTENANCE","message":"The service is undergoing scheduled maintenance"}`)
			return
		}
		writeJSON(w, 503, `{"code":"SERVER_ERROR","message":"Service unavailable"}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", openQuery)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "SCHEDULED_MAINTENANCE", apiErr.Code, "the typed error of the last attempt")
	assert.Equal(t, 4, apiErr.Attempts)
	assert.Contains(t, err.Error(), "(after 4 attempts)")
	assert.ErrorIs(t, err, ErrScheduledMaintenance)
	assert.Len(t, *waits, 3)
}

func TestPermanentErrorsAreNotRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 406, 501} {
		c, mux := setup(t)
		var n atomic.Int32
		mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			writeJSON(w, status, `{"code":"X","message":"no"}`)
		})
		_, err := c.Obligations(context.Background(), "123456789", openQuery)
		require.Error(t, err)
		assert.Equal(t, int32(1), n.Load(), "status %d", status)
	}
}

func TestSubmissionIsRetriedOnlyWhenHMRCCertainlyDidNotReceiveIt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		sends  int32
	}{{429, 2}, {500, 1}, {502, 1}, {503, 1}, {504, 1}} {
		c, mux := setup(t, WithRetry(RetryPolicy{MaxAttempts: 2}))
		var n atomic.Int32
		mux.HandleFunc("POST /organisations/vat/123456789/returns", func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			writeJSON(w, tc.status, `{"code":"X","message":"no"}`)
		})
		mux.HandleFunc("GET /organisations/vat/123456789/returns/A001", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
		})
		mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
		})
		_, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
		require.Error(t, err)
		assert.Equal(t, tc.sends, n.Load(), "status %d", tc.status)
	}
}

func TestRetryAfterIsHonouredButCapped(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	c, mux := setup(t, WithClock(func() time.Time { return now }),
		WithRetry(RetryPolicy{MaxAttempts: 4, InitialBackoff: time.Second, MaxBackoff: time.Second, MaxRetryAfter: 10 * time.Second}))
	waits := recordWaits(c)
	var n atomic.Int32
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "2")
		case 2:
			w.Header().Set("Retry-After", now.Add(5*time.Second).Format(http.TimeFormat))
		case 3:
			w.Header().Set("Retry-After", "3600")
		default:
			writeJSON(w, 200, `{"obligations":[]}`)
			return
		}
		writeJSON(w, 429, `{"code":"MESSAGE_THROTTLED_OUT","message":"The request for the API is throttled as you have exceeded your quota."}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", openQuery)
	require.NoError(t, err)
	assert.Equal(t, []time.Duration{2 * time.Second, 5 * time.Second, 10 * time.Second}, *waits)
}

func TestBackoffGrowsWithJitter(t *testing.T) {
	t.Parallel()
	p := RetryPolicy{MaxAttempts: 10, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 800 * time.Millisecond, MaxRetryAfter: time.Second}
	for i := 0; i < 200; i++ {
		for n, full := range map[int]time.Duration{1: 100, 2: 200, 3: 400, 4: 800, 5: 800, 9: 800} {
			full *= time.Millisecond
			d := p.backoff(n, 0)
			assert.GreaterOrEqual(t, d, full/2, "retry %d", n)
			assert.LessOrEqual(t, d, full, "retry %d", n)
		}
	}
	assert.Zero(t, RetryPolicy{}.backoff(1, 0))
	assert.Equal(t, time.Second, p.backoff(1, time.Hour), "Retry-After is capped")
}

func TestWaitsEndWithTheContext(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Hour, MaxBackoff: time.Hour}))
	c.cfg.sleep = wait.Sleep // the real timer
	var n atomic.Int32
	ctx, cancel := context.WithCancel(context.Background())
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
	})
	_, err := c.Obligations(ctx, "123456789", openQuery)
	assert.ErrorIs(t, err, ErrServiceUnavailable, "the last HMRC answer stays visible when the wait is cut short")
	assert.ErrorIs(t, err, context.Canceled, "and so does the cancellation that cut it short")
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 503, apiErr.StatusCode)
	assert.Equal(t, int32(1), n.Load())

	// A wait that would outlast the deadline is not started at all.
	c2, mux2 := setup(t, WithRetry(RetryPolicy{MaxAttempts: 5, InitialBackoff: time.Hour, MaxBackoff: time.Hour}))
	waits := recordWaits(c2)
	mux2.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
	})
	dctx, dcancel := context.WithTimeout(context.Background(), time.Minute)
	defer dcancel()
	_, err = c2.Obligations(dctx, "123456789", openQuery)
	assert.ErrorIs(t, err, ErrServiceUnavailable)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the call gave up because of its deadline, and says so")
	assert.ErrorContains(t, err, "deadline")
	require.ErrorAs(t, err, &apiErr)
	assert.Empty(t, *waits)
}

func TestDeadlineDuringRetriesIsVisible(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
			n.Add(1)
			return &http.Response{StatusCode: 503, Header: http.Header{"Content-Type": {"application/json"}},
				Body: io.NopCloser(strings.NewReader(`{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)), Request: r}, nil
		})
		c, err := NewClient(WithHTTPClient(&http.Client{Transport: rt}), WithRateLimiter(NoRateLimit),
			WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})),
			WithRetry(RetryPolicy{MaxAttempts: 10, InitialBackoff: 20 * time.Second, MaxBackoff: 40 * time.Second}))
		require.NoError(t, err)
		start := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), 25*time.Second)
		defer cancel()
		_, err = c.Obligations(ctx, "123456789", openQuery)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorIs(t, err, ErrServiceUnavailable)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr)
		// The first wait is 10 to 20 s, so the second attempt comes before
		// the deadline; the second wait, 20 to 40 s, would end after it, so
		// it is not begun.
		assert.Equal(t, int32(2), n.Load())
		assert.Equal(t, int(n.Load()), apiErr.Attempts)
		assert.Less(t, time.Since(start), 25*time.Second, "gave up before the deadline rather than wait in vain")
	})
}

func TestRetriesOffWithOneAttempt(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithRetry(RetryPolicy{MaxAttempts: 1}))
	var n atomic.Int32
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
	})
	_, err := c.Obligations(context.Background(), "123456789", openQuery)
	assert.ErrorIs(t, err, ErrServiceUnavailable)
	assert.Equal(t, int32(1), n.Load())

	for _, p := range []RetryPolicy{{MaxAttempts: 0}, {MaxAttempts: 2, InitialBackoff: -1}, {MaxAttempts: 2, InitialBackoff: 2, MaxBackoff: 1}} {
		_, err := NewClient(WithRetry(p))
		assert.Error(t, err)
	}
}

func TestConnectionFailuresAreRetriedForReads(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		switch n.Add(1) {
		case 1: // drop the connection without answering
			conn, _, err := w.(http.Hijacker).Hijack()
			require.NoError(t, err)
			conn.Close()
		case 2: // promise more than is sent
			w.Header().Set("Content-Length", "500")
			w.WriteHeader(200)
			w.Write([]byte(`{"obligations":[`))
		default:
			writeJSON(w, 200, `{"obligations":[]}`)
		}
	})
	var meta ResponseMeta
	_, err := c.Obligations(context.Background(), "123456789", openQuery, WithResponseMeta(&meta))
	require.NoError(t, err)
	assert.Equal(t, 3, meta.Attempts)
}

func TestUnopenedConnectionsAreRetriedEvenForSubmissions(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close()) // nothing listens there now
	c, err := NewClient(WithBaseURL("http://"+addr), WithRateLimiter(NoRateLimit),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})))
	require.NoError(t, err)
	waits := recordWaits(c)
	_, err = c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	require.Error(t, err)
	assert.True(t, notSent(err), "a refused connection proves nothing was sent: %v", err)
	assert.Len(t, *waits, 3, "retried up to MaxAttempts")
}

type countingLimiter struct {
	n   atomic.Int32
	err error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.n.Add(1)
	return l.err
}

func TestRateLimiterIsSharedAndWaitedOn(t *testing.T) {
	t.Parallel()
	lim := &countingLimiter{}
	c1, mux1 := setup(t, WithRateLimiter(lim))
	c2, mux2 := setup(t, WithRateLimiter(lim))
	for _, mux := range []*http.ServeMux{mux1, mux2} {
		mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, 200, `{"obligations":[]}`)
		})
	}
	for i := 0; i < 3; i++ {
		_, err := c1.Obligations(context.Background(), "123456789", openQuery)
		require.NoError(t, err)
		_, err = c2.Obligations(context.Background(), "123456789", openQuery)
		require.NoError(t, err)
	}
	assert.Equal(t, int32(6), lim.n.Load(), "one limiter paces both clients")

	blocked := &countingLimiter{err: context.DeadlineExceeded}
	c3, mux3 := setup(t, WithRateLimiter(blocked))
	var sent atomic.Int32
	mux3.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { sent.Add(1) })
	_, err := c3.Obligations(context.Background(), "123456789", openQuery)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "rate limiter")
	assert.Zero(t, sent.Load())
	assert.Equal(t, int32(1), blocked.n.Load(), "a limiter refusal is not retried")

	_, err = NewClient(WithRateLimiter(nil))
	assert.ErrorContains(t, err, "NoRateLimit")
}

func TestLocalFailuresAreNotRetried(t *testing.T) {
	t.Parallel()
	c, _ := setup(t, WithTokenSource(failingSource{}))
	waits := recordWaits(c)
	_, err := c.Obligations(context.Background(), "123456789", openQuery)
	require.Error(t, err)
	assert.Empty(t, *waits)
	assert.False(t, errors.Is(err, ErrServiceUnavailable))
}

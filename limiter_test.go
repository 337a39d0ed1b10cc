package vat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"golang.org/x/time/rate"
)

// Every test of the limiter's timing runs in a synctest bubble: time there
// only moves when every goroutine is blocked, so the times below are exact
// and the tests take no real time.

// slotOf is the spacing of an ApplicationLimiter at the full rate.
func slotOf(perSecond int) time.Duration {
	return (time.Second + limiterMargin) / time.Duration(perSecond)
}

func newTestLimiter(t *testing.T, perSecond int) *ApplicationLimiter {
	t.Helper()
	l, err := NewLimiter(perSecond)
	require.NoError(t, err)
	return l
}

// take waits on l and reports the request sent after delay, as a Client
// would; it returns when the request was let go.
func take(t *testing.T, l *ApplicationLimiter, ctx context.Context, delay time.Duration) time.Time {
	t.Helper()
	require.NoError(t, l.Wait(ctx))
	granted := time.Now()
	if delay > 0 {
		time.Sleep(delay)
	}
	l.Sent(ctx, time.Now())
	return granted
}

func TestDefaultLimiterIsHMRCsRate(t *testing.T) {
	t.Parallel()
	c, err := NewClient(anyTokens)
	require.NoError(t, err)
	lim, ok := c.cfg.limiter.(*ApplicationLimiter)
	require.True(t, ok, "%T", c.cfg.limiter)
	assert.Equal(t, HMRCRateLimit, lim.rate)
	assert.Equal(t, time.Second+limiterMargin, lim.window)
	assert.Equal(t, DefaultRetryPolicy(), c.cfg.retry)
	assert.Equal(t, 340*time.Millisecond, slotOf(HMRCRateLimit))

	_, err = NewLimiter(0)
	assert.ErrorContains(t, err, "at least 1 request per second")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, NewApplicationLimiter().Wait(ctx), context.Canceled)
	assert.ErrorIs(t, NoRateLimit.Wait(ctx), context.Canceled)
	assert.NoError(t, NoRateLimit.Wait(context.Background()))
}

func TestLimiterSpacesRequestsExactly(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewApplicationLimiter()
		start := time.Now()
		var got []time.Duration
		for range 7 {
			got = append(got, take(t, l, context.Background(), 0).Sub(start))
		}
		want := []time.Duration{0, 340 * time.Millisecond, 680 * time.Millisecond, 1020 * time.Millisecond,
			1360 * time.Millisecond, 1700 * time.Millisecond, 2040 * time.Millisecond}
		assert.Equal(t, want, got, "one slot every (1 s + 20 ms) / 3")

		// Without any report of sends (a caller that only waits), it keeps
		// the same schedule; so does the zero value.
		l = &ApplicationLimiter{}
		start = time.Now()
		got = got[:0]
		for range 4 {
			require.NoError(t, l.Wait(context.Background()))
			got = append(got, time.Since(start))
		}
		assert.Equal(t, want[:4], got)
	})
}

func TestLimiterLateSendPushesTheScheduleBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewApplicationLimiter()
		ctx := context.Background()
		start := time.Now()
		// The first request reaches the wire 200 ms after its slot, as it
		// can on a busy machine or over a new connection.
		take(t, l, ctx, 200*time.Millisecond)
		second := take(t, l, ctx, 0).Sub(start)
		third := take(t, l, ctx, 0).Sub(start)
		fourth := take(t, l, ctx, 0).Sub(start)
		// The next slot is at least half a slot after the actual send:
		// 200 ms + 170 ms, not 340 ms.
		assert.Equal(t, 370*time.Millisecond, second)
		assert.Equal(t, second+340*time.Millisecond, third)
		// The fourth request is a full window after the first one's actual
		// send, not after its slot: the window is never compressed.
		assert.Equal(t, 200*time.Millisecond+time.Second+limiterMargin, fourth)

		// A send less than half a slot late does not delay the next slot,
		// so that the usual delays do not slow a busy limiter down; it
		// still pushes back the request a window later.
		l = NewApplicationLimiter()
		start = time.Now()
		take(t, l, ctx, 80*time.Millisecond)
		assert.Equal(t, 340*time.Millisecond, take(t, l, ctx, 0).Sub(start))
		assert.Equal(t, 680*time.Millisecond, take(t, l, ctx, 0).Sub(start))
		assert.Equal(t, 80*time.Millisecond+time.Second+limiterMargin, take(t, l, ctx, 0).Sub(start))
	})
}

// sendTimes runs workers that each make requests through lim until n have
// been sent, each reaching the wire after a delay taken in turn from
// delays, and returns the send times in order.
func sendTimes(lim Limiter, workers, n int, delays []time.Duration) []time.Time {
	obs, _ := lim.(LimiterObserver)
	var mu sync.Mutex
	var sent []time.Time
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			ctx := context.Background()
			for {
				i := next.Add(1) - 1
				if i >= int64(n) {
					return
				}
				if lim.Wait(ctx) != nil {
					return
				}
				time.Sleep(delays[int(i)%len(delays)])
				at := time.Now()
				if obs != nil {
					obs.Sent(ctx, at)
				}
				mu.Lock()
				sent = append(sent, at)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	slices.SortFunc(sent, time.Time.Compare)
	return sent
}

// crowdedWindow returns the index of a send that has perSecond sends
// before it within one second (HMRC would refuse it), or -1.
func crowdedWindow(sent []time.Time, perSecond int) int {
	for k := perSecond; k < len(sent); k++ {
		if sent[k].Sub(sent[k-perSecond]) < time.Second {
			return k
		}
	}
	return -1
}

func TestLimiterNeverPutsMoreThanTheRateInAWindow(t *testing.T) {
	t.Parallel()
	// Delays between the slot and the wire such as a loaded two-core
	// machine shows: mostly none, now and then up to 80 ms.
	delays := []time.Duration{0, 0, 5 * time.Millisecond, 0, 80 * time.Millisecond, 0, 0, 30 * time.Millisecond,
		0, 60 * time.Millisecond, 0, 0, 0, 15 * time.Millisecond, 45 * time.Millisecond}
	for _, perSecond := range []int{1, 3, 10, 200} {
		t.Run(fmt.Sprintf("%d per second", perSecond), func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				sent := sendTimes(newTestLimiter(t, perSecond), 16, 20*perSecond+10, delays)
				k := crowdedWindow(sent, perSecond)
				assert.Equal(t, -1, k, "request %d has %d others within the second before it", k, perSecond)
			})
		})
	}
	t.Run("a token bucket with headroom does not", func(t *testing.T) {
		// The limiter this one replaced: 3 per second less 40 ms of
		// headroom, burst 1, blind to when requests leave.
		t.Parallel()
		synctest.Test(t, func(t *testing.T) {
			old := rate.NewLimiter(rate.Every((time.Second+40*time.Millisecond)/3), 1)
			sent := sendTimes(old, 16, 70, delays)
			assert.NotEqual(t, -1, crowdedWindow(sent, 3))
		})
	})
}

func TestLimiterSlowsDownOnThrottlingAndRecovers(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newTestLimiter(t, 10) // a slot every 102 ms
		ctx := context.Background()
		slot := slotOf(10)
		gap := func() time.Duration { // between two consecutive requests
			a := take(t, l, ctx, 0)
			return take(t, l, ctx, 0).Sub(a)
		}
		require.Equal(t, slot, gap())

		// HMRC answers 429 with Retry-After: 2: nothing goes for two
		// seconds, then at half the rate.
		thrown := time.Now()
		l.Throttled(ctx, 2*time.Second)
		l.Throttled(ctx, 0) // more 429s of the same window do not halve it again
		first := take(t, l, ctx, 0)
		assert.Equal(t, 2*time.Second, first.Sub(thrown))
		assert.Equal(t, 2*slot, take(t, l, ctx, 0).Sub(first), "half the rate after a 429")

		// The rate comes back by a tenth a second: back in full within
		// five seconds.
		time.Sleep(2 * time.Second)
		g := gap()
		assert.Less(t, g, 2*slot, "recovering")
		assert.Greater(t, g, slot, "recovering gradually")
		time.Sleep(3 * time.Second)
		assert.Equal(t, slot, gap(), "recovered")

		// Without Retry-After, the rate is halved at once; another 429 a
		// window later halves it again.
		l.Throttled(ctx, 0)
		g = gap()
		assert.LessOrEqual(t, g, 2*slot, "halved")
		assert.Greater(t, g, 19*slot/10, "halved, less what was recovered since")
		time.Sleep(time.Second + limiterMargin)
		l.Throttled(ctx, 0)
		g = gap()
		assert.Greater(t, g, 3*slot, "halved twice (less what was recovered meanwhile)")

		// Never below one request a window, and Retry-After is capped.
		for range 10 {
			time.Sleep(2 * time.Second)
			l.Throttled(ctx, time.Hour)
		}
		thrown = time.Now()
		first = take(t, l, ctx, 0)
		assert.Equal(t, maxThrottlePause, first.Sub(thrown))
		assert.LessOrEqual(t, take(t, l, ctx, 0).Sub(first), time.Second+limiterMargin)
	})
}

func TestLimiterServesInteractiveCallsFirst(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := newTestLimiter(t, 10)
		slot := slotOf(10)
		bulkCtx := context.WithValue(context.Background(), bulkKey{}, true)
		require.True(t, IsBulk(bulkCtx))
		require.False(t, IsBulk(context.Background()))

		stop := make(chan struct{})
		var bulkDone atomic.Int64
		var wg sync.WaitGroup
		for range 8 { // bulk work saturating the limit
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					take(t, l, bulkCtx, 0)
					bulkDone.Add(1)
				}
			})
		}
		time.Sleep(3 * time.Second)
		// An interactive call now and then waits one slot at most.
		for i := range 20 {
			time.Sleep(time.Duration(250+37*i) * time.Millisecond)
			asked := time.Now()
			take(t, l, context.Background(), 0)
			assert.LessOrEqual(t, time.Since(asked), slot, "interactive call %d", i)
		}

		// Interactive calls that keep coming (4 callers saturating the
		// limit too) do not starve bulk work: it gets one slot in four.
		var interactiveDone atomic.Int64
		bulkBefore := bulkDone.Load()
		deadline := time.Now().Add(10 * time.Second)
		var iwg sync.WaitGroup
		for range 4 {
			iwg.Go(func() {
				for time.Now().Before(deadline) {
					take(t, l, context.Background(), 0)
					interactiveDone.Add(1)
				}
			})
		}
		iwg.Wait()
		bulk := bulkDone.Load() - bulkBefore
		total := bulk + interactiveDone.Load()
		assert.InDelta(t, total/bulkEvery, bulk, 2, "bulk calls among %d", total)
		assert.InDelta(t, 98, total, 6, "the rate is used in full: 10 s at 10 per 1.02 s")
		close(stop)
		wg.Wait()
	})
}

func TestLimiterWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := NewApplicationLimiter()
		take(t, l, context.Background(), 0)

		// A slot after the deadline is refused at once.
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		err := l.Wait(ctx)
		assert.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, "after the context's deadline")
		assert.Zero(t, time.Since(start), "refused without waiting")

		// A cancellation while waiting ends the wait.
		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		err = l.Wait(ctx)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Equal(t, 100*time.Millisecond, time.Since(start))

		// Neither took a slot.
		assert.Equal(t, 340*time.Millisecond, take(t, l, context.Background(), 0).Sub(start))
	})
}

// memoryTransport answers every request with status and body from memory,
// for Clients inside a synctest bubble.
type memoryTransport struct {
	status int
	header http.Header
	sent   atomic.Int32
}

func (m *memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	m.sent.Add(1)
	if req.Body != nil {
		req.Body.Close()
	}
	body := `{"obligations":[]}`
	h := http.Header{"Content-Type": {"application/json"}}
	for k, v := range m.header {
		h[k] = v
	}
	return &http.Response{StatusCode: m.status, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1, Header: h,
		Body: io.NopCloser(bytes.NewReader([]byte(body))), ContentLength: int64(len(body)), Request: req}, nil
}

func memoryClient(t *testing.T, tr http.RoundTripper, opts ...Option) *Client {
	t.Helper()
	c, err := NewClient(append([]Option{WithBaseURL("http://127.0.0.1:9"), WithHTTPClient(&http.Client{Transport: tr}),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"}))}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestClientLimiterWaitEndsWithTheContext(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		tr := &memoryTransport{status: 200}
		c := memoryClient(t, tr, WithRateLimiter(NewApplicationLimiter()))
		_, err := c.Obligations(context.Background(), "123456789", openQuery)
		require.NoError(t, err)

		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		_, err = c.Obligations(ctx, "123456789", openQuery)
		assert.ErrorIs(t, err, context.DeadlineExceeded, "%v", err)
		assert.ErrorContains(t, err, "waiting for the rate limiter")

		ctx, cancel = context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)
		_, err = c.Obligations(ctx, "123456789", openQuery)
		assert.ErrorIs(t, err, context.Canceled, "%v", err)
		assert.EqualValues(t, 1, tr.sent.Load(), "neither was sent")
	})
}

// observingLimiter records what a Client tells its limiter.
type observingLimiter struct {
	mu        sync.Mutex
	waits     []bool // IsBulk of each wait
	sent      []time.Time
	throttled []time.Duration
}

func (o *observingLimiter) Wait(ctx context.Context) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.waits = append(o.waits, IsBulk(ctx))
	return nil
}

func (o *observingLimiter) Sent(ctx context.Context, at time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, at)
}

func (o *observingLimiter) Throttled(ctx context.Context, retryAfter time.Duration) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.throttled = append(o.throttled, retryAfter)
}

func TestClientReportsSendsAndThrottlingToItsLimiter(t *testing.T) {
	t.Parallel()
	obs := &observingLimiter{}
	c, mux := setup(t, WithRateLimiter(obs), WithRetry(RetryPolicy{MaxAttempts: 2}))
	var calls atomic.Int32
	release := make(chan struct{})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		switch calls.Add(1) {
		case 1:
			w.Header().Set("Retry-After", "2")
			writeJSON(w, 429, `{"code":"MESSAGE_THROTTLED_OUT","message":"The application has reached its rate limit"}`)
			return
		case 4:
			<-release // no answer until the test has seen the send reported
		}
		writeJSON(w, 200, `{"obligations":[]}`)
	})
	before := time.Now()
	_, err := c.Obligations(context.Background(), "123456789", openQuery)
	require.NoError(t, err)
	_, err = c.Obligations(context.Background(), "123456789", openQuery, WithBulk())
	require.NoError(t, err)

	obs.mu.Lock()
	defer obs.mu.Unlock()
	assert.Equal(t, []bool{false, false, true}, obs.waits, "a wait per attempt; IsBulk for bulk calls only")
	require.Len(t, obs.sent, 3, "one Sent per wait")
	after := time.Now()
	for _, at := range obs.sent {
		assert.False(t, at.Before(before) || at.After(after))
	}
	assert.Equal(t, []time.Duration{2 * time.Second}, obs.throttled)

	// The send is reported when the request's headers were written, not
	// when the answer came.
	obs.sent = nil
	obs.mu.Unlock()
	done := make(chan error)
	go func() {
		_, err := c.Obligations(context.Background(), "123456789", openQuery)
		done <- err
	}()
	require.Eventually(t, func() bool {
		obs.mu.Lock()
		defer obs.mu.Unlock()
		return len(obs.sent) == 1
	}, time.Minute, time.Millisecond, "the send is reported while the server holds its answer back")
	close(release)
	require.NoError(t, <-done)
	obs.mu.Lock()
	assert.Len(t, obs.sent, 1)

	// A request that never reaches the wire is reported too, so that the
	// limiter does not count it as pending.
	obs.sent = nil
	obs.mu.Unlock()
	refused, err := NewClient(WithBaseURL("http://127.0.0.1:1"), WithRateLimiter(obs), WithRetry(RetryPolicy{MaxAttempts: 1}),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})))
	require.NoError(t, err)
	_, err = refused.Obligations(context.Background(), "123456789", openQuery)
	require.Error(t, err)
	obs.mu.Lock()
	assert.Len(t, obs.sent, 1)
}

func TestWithBulkThroughTheClientsLimiter(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		lim := newTestLimiter(t, 10)
		c := memoryClient(t, &memoryTransport{status: 200}, WithRateLimiter(lim))
		ctx := context.Background()
		// Bulk work keeps the limiter busy; an interactive call made
		// meanwhile goes next.
		var order []string
		var mu sync.Mutex
		var wg sync.WaitGroup
		for i := range 5 {
			wg.Go(func() {
				_, err := c.Obligations(ctx, "123456789", openQuery, WithBulk())
				assert.NoError(t, err)
				mu.Lock()
				order = append(order, "bulk")
				mu.Unlock()
			})
			if i == 0 {
				synctest.Wait() // the first bulk call has taken the first slot
			}
		}
		synctest.Wait()
		_, err := c.Obligations(ctx, "123456789", openQuery)
		require.NoError(t, err)
		mu.Lock()
		order = append(order, "interactive")
		mu.Unlock()
		wg.Wait()
		assert.Equal(t, []string{"bulk", "interactive", "bulk", "bulk", "bulk", "bulk"}, order)
	})
}

func TestLimiterObserverIsOptional(t *testing.T) {
	t.Parallel()
	// A Limiter without the observer methods works as before.
	lim := &countingLimiter{}
	c, mux := setup(t, WithRateLimiter(lim))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, 200, `{"obligations":[]}`) })
	_, err := c.Obligations(context.Background(), "123456789", openQuery, WithBulk())
	require.NoError(t, err)
	assert.EqualValues(t, 1, lim.n.Load())
	var _ LimiterObserver = (*ApplicationLimiter)(nil)
}

// sentCounter is a limiter that observes: it counts the sends reported.
type sentCounter struct{ sent atomic.Int32 }

func (*sentCounter) Wait(ctx context.Context) error           { return ctx.Err() }
func (s *sentCounter) Sent(context.Context, time.Time)        { s.sent.Add(1) }
func (*sentCounter) Throttled(context.Context, time.Duration) {}

// TestOneTraceServesTheLimiterAndTheWriteWatch checks that a submission
// sent through a limiter that observes sends keeps both watchers: the
// limiter hears of the send, and a failure to write the request is still
// known (so the submission counts as never having reached HMRC whole).
func TestOneTraceServesTheLimiterAndTheWriteWatch(t *testing.T) {
	t.Parallel()
	writeFailed := errors.New("connection reset while writing")
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		tr := httptrace.ContextClientTrace(r.Context())
		require.NotNil(t, tr)
		require.NotNil(t, tr.WroteHeaders, "the limiter's hook")
		require.NotNil(t, tr.WroteRequest, "the write watch's hook")
		tr.WroteHeaders()
		tr.WroteRequest(httptrace.WroteRequestInfo{Err: writeFailed})
		return nil, writeFailed
	})
	lim := &sentCounter{}
	c, err := NewClient(anyTokens, WithBaseURL("http://127.0.0.1:1"), WithHTTPClient(&http.Client{Transport: rt}),
		WithRateLimiter(lim), WithRetry(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	o := c.attempt(context.Background(), &request{op: "SubmitReturn", method: http.MethodPost, path: []string{"x"}},
		"http://127.0.0.1:1/x", "/x", []byte(`{}`), &callConfig{}, 1)
	var te *TransportError
	require.ErrorAs(t, o.err, &te)
	assert.True(t, te.unwritten, "the write failure is known")
	assert.Equal(t, int32(1), lim.sent.Load(), "the limiter heard of the send once")
}

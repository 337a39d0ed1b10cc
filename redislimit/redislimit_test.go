package redislimit_test

import (
	"context"
	"github.com/go-mtd/vat/internal/testservers"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/redislimit"
	"github.com/go-mtd/vat/vattest"
)

// grants records the slots limiters reserve.
type grants struct {
	mu    sync.Mutex
	slots []time.Time
	bulk  []bool
}

func (g *grants) hook(slot time.Time, bulk bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.slots = append(g.slots, slot)
	g.bulk = append(g.bulk, bulk)
}

func (g *grants) sorted() []time.Time {
	g.mu.Lock()
	defer g.mu.Unlock()
	s := slices.Clone(g.slots)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	return s
}

// maxInWindow returns the most slots in any half-open window of length w.
func maxInWindow(slots []time.Time, w time.Duration) int {
	best, j := 0, 0
	for i := range slots {
		for slots[i].Sub(slots[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

func TestNewChecksArguments(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1"})
	defer c.Close()
	for name, f := range map[string]func() error{
		"nil client": func() error { _, err := redislimit.New(nil, "k", 3); return err },
		"empty key":  func() error { _, err := redislimit.New(c, "", 3); return err },
		"zero rate":  func() error { _, err := redislimit.New(c, "k", 0); return err },
		"fraction":   func() error { _, err := redislimit.New(c, "k", 3, redislimit.WithLocalFallback(1.5)); return err },
		"headroom":   func() error { _, err := redislimit.New(c, "k", 3, redislimit.WithHeadroom(-1)); return err },
		"bulk delay": func() error { _, err := redislimit.New(c, "k", 3, redislimit.WithBulkMaxDelay(0)); return err },
	} {
		assert.Error(t, f(), name)
	}
}

// TestSlotsAreSpacedAcrossLimiters has three limiters, each with its own
// connection as separate processes would have, share one key: the slots they
// reserve are never closer than the interval and no one-second window of the
// server's clock holds more than the rate, however the goroutines are
// scheduled.
func TestSlotsAreSpacedAcrossLimiters(t *testing.T) {
	_, key := newClient(t)
	const perSecond = 20
	var g grants
	var lims []*redislimit.Limiter
	for range 3 {
		c, _ := newClient(t)
		l, err := redislimit.New(c, key, perSecond, redislimit.WithHeadroom(0), redislimit.WithGrantHook(g.hook))
		require.NoError(t, err)
		lims = append(lims, l)
	}
	var wg sync.WaitGroup
	for i := range 9 {
		wg.Go(func() {
			for range 5 {
				assert.NoError(t, lims[i%3].Wait(context.Background()))
			}
		})
	}
	wg.Wait()
	slots := g.sorted()
	// A waiter woken late lets its slot go and takes another.
	require.GreaterOrEqual(t, len(slots), 45)
	for i := 1; i < len(slots); i++ {
		require.GreaterOrEqual(t, slots[i].Sub(slots[i-1]), lims[0].Interval(), "slots %d and %d", i-1, i)
	}
	assert.LessOrEqual(t, maxInWindow(slots, time.Second), perSecond)
}

func TestDeadlineTooSoonReservesNothing(t *testing.T) {
	c, key := newClient(t)
	var g grants
	l, err := redislimit.New(c, key, 1, redislimit.WithGrantHook(g.hook))
	require.NoError(t, err)
	require.NoError(t, l.Wait(context.Background()))
	before := len(g.sorted())
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err = l.Wait(ctx)
	require.ErrorContains(t, err, "after the context's deadline")
	assert.ErrorIs(t, err, context.DeadlineExceeded, "the refusal matches the deadline it foresaw")
	assert.Len(t, g.sorted(), before, "the refused call reserved no slot")
}

// TestInteractiveGoesBeforeBulk queues interactive calls, then starts a bulk
// call and one more interactive call: the later interactive call gets the
// earlier slot.
func TestInteractiveGoesBeforeBulk(t *testing.T) {
	c, key := newClient(t)
	var g grants
	// A large headroom: no waiter here wakes late enough to let its slot go.
	l, err := redislimit.New(c, key, 20, redislimit.WithGrantHook(g.hook), redislimit.WithBulkMaxDelay(time.Minute),
		redislimit.WithHeadroom(900*time.Millisecond))
	require.NoError(t, err)
	var wg sync.WaitGroup
	for range 20 { // two seconds of queue
		wg.Go(func() { assert.NoError(t, l.Wait(context.Background())) })
	}
	require.Eventually(t, func() bool { return len(g.sorted()) >= 20 }, time.Minute, time.Millisecond)

	var bulkSlot, lastSlot time.Time
	done := make(chan struct{})
	bctx := bulkCtx(t)
	go func() {
		defer close(done)
		assert.NoError(t, l.Wait(bctx))
	}()
	// Let the bulk call ask first: while the queue lasts it reserves
	// nothing, so the interactive call below still goes before it.
	time.Sleep(200 * time.Millisecond)
	require.NoError(t, l.Wait(context.Background()))
	<-done
	wg.Wait()
	g.mu.Lock()
	for i, s := range g.slots {
		if g.bulk[i] {
			bulkSlot = s
		} else if s.After(lastSlot) {
			lastSlot = s
		}
	}
	g.mu.Unlock()
	assert.True(t, bulkSlot.After(lastSlot), "bulk slot %v should follow the last interactive slot %v", bulkSlot, lastSlot)
}

// bulkCtx returns a context that the Client would pass to Wait for a call
// made with vat.WithBulk: it records it from a Client call against vattest.
func bulkCtx(t *testing.T) context.Context {
	t.Helper()
	var got context.Context
	rec := limiterFunc(func(ctx context.Context) error {
		if vat.IsBulk(ctx) {
			got = context.WithoutCancel(ctx)
		}
		return nil
	})
	srv := vattest.NewTestServer(t)
	u, tok := srv.TestOrganisation(t, vattest.Organisation{})
	cl, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithTokenSource(oauth2.StaticTokenSource(tok.OAuth2())), vat.WithRateLimiter(rec))
	require.NoError(t, err)
	_, err = cl.Obligations(context.Background(), vat.VRN(u.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithBulk())
	require.NoError(t, err)
	require.NotNil(t, got, "the Client marks a WithBulk call's context")
	return got
}

type limiterFunc func(context.Context) error

func (f limiterFunc) Wait(ctx context.Context) error { return f(ctx) }

// TestBulkIsNotStarved keeps interactive calls queued without a break; a
// bulk call still gets a slot once it has waited its bulk delay.
func TestBulkIsNotStarved(t *testing.T) {
	c, key := newClient(t)
	l, err := redislimit.New(c, key, 20, redislimit.WithBulkMaxDelay(300*time.Millisecond))
	require.NoError(t, err)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 20 { // a second of queue, refilled as it drains
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				assert.NoError(t, l.Wait(context.Background()))
			}
		})
	}
	ctx, cancel := context.WithTimeout(bulkCtx(t), 20*time.Second)
	defer cancel()
	err = l.Wait(ctx)
	close(stop)
	wg.Wait()
	require.NoError(t, err, "bulk work starved")
}

// TestThrottledSlowsEveryProcess: a 429 seen by one limiter pushes back the
// next slot of another sharing the key.
func TestThrottledSlowsEveryProcess(t *testing.T) {
	c1, key := newClient(t)
	c2, _ := newClient(t)
	var g grants
	a, err := redislimit.New(c1, key, 100)
	require.NoError(t, err)
	b, err := redislimit.New(c2, key, 100, redislimit.WithGrantHook(g.hook))
	require.NoError(t, err)
	t0, err := c1.Time(context.Background()).Result()
	require.NoError(t, err)
	a.Throttled(context.Background(), 1500*time.Millisecond)
	require.NoError(t, b.Wait(context.Background()))
	slots := g.sorted()
	require.NotEmpty(t, slots)
	assert.GreaterOrEqual(t, slots[0].Sub(t0), 1500*time.Millisecond)
}

func deadAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	l.Close()
	return addr
}

func TestUnreachableRedisFailsSafe(t *testing.T) {
	c := redis.NewClient(&redis.Options{Addr: deadAddr(t), MaxRetries: -1})
	defer c.Close()
	l, err := redislimit.New(c, "k", 3)
	require.NoError(t, err)
	err = l.Wait(context.Background())
	require.ErrorIs(t, err, redislimit.ErrUnavailable)
	assert.Contains(t, err.Error(), "not sent")

	fb, err := redislimit.New(c, "k", 3, redislimit.WithLocalFallback(0.5))
	require.NoError(t, err)
	require.NoError(t, fb.Wait(context.Background()), "the local fallback paces instead")
}

func TestRedisRestartRecovers(t *testing.T) {
	testservers.Require(t, rsErr)
	c := redis.NewClient(&redis.Options{Addr: rs.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	l, err := redislimit.New(c, "restart", 50)
	require.NoError(t, err)
	require.NoError(t, l.Wait(context.Background()))
	rs.StopServer()
	err = l.Wait(context.Background())
	require.ErrorIs(t, err, redislimit.ErrUnavailable)
	require.NoError(t, rs.Start())
	require.Eventually(t, func() bool { return l.Wait(context.Background()) == nil }, 30*time.Second, 50*time.Millisecond)
}

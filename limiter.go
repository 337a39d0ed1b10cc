package vat

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Limiter paces the requests of a Client: the Client waits on it before
// every request it sends (retries included). *ApplicationLimiter implements
// it, and so does *rate.Limiter (golang.org/x/time/rate); a limiter shared
// between processes can too. A Limiter that also implements
// LimiterObserver hears when each request really left and when HMRC
// answered 429.
type Limiter interface {
	// Wait blocks until a request may be sent, or returns an error when ctx
	// is done first. IsBulk(ctx) reports whether the call is bulk work,
	// which may wait behind interactive calls.
	Wait(ctx context.Context) error
}

// LimiterObserver is implemented by limiters that adapt to what the Client saw.
type LimiterObserver interface {
	// Sent reports that the headers of a request the limiter let go reached
	// the wire at `at` (or, when the request failed before that, that it
	// was not sent later than at). The Client calls it exactly once after
	// each Wait that returned nil.
	Sent(ctx context.Context, at time.Time)
	// Throttled reports that HMRC answered 429, asking to wait retryAfter
	// (0 when it did not say).
	Throttled(ctx context.Context, retryAfter time.Duration)
}

// HMRCRateLimit is HMRC's documented rate limit: 3 requests per second per
// application.
const HMRCRateLimit = 3

// WithRateLimiter sets the limiter the Client waits on before each request.
// Pass the same limiter to all the Clients of one application, or NoRateLimit
// to turn limiting off (for tests against a local server).
func WithRateLimiter(l Limiter) Option {
	return func(c *config) error {
		if l == nil {
			return errors.New("vat: WithRateLimiter: nil limiter (use NoRateLimit to turn limiting off)")
		}
		c.limiter = l
		return nil
	}
}

// NoRateLimit is a Limiter that never waits.
var NoRateLimit Limiter = noLimit{}

type noLimit struct{}

func (noLimit) Wait(ctx context.Context) error { return ctx.Err() }

// WithBulk marks a call as bulk work, such as a nightly sweep over every
// client of an agent: the Client's limiter lets interactive calls (a user
// waiting for an answer) go first, and bulk calls use the rest of the rate.
// The Client passes the limiter a context for which IsBulk reports true.
func WithBulk() CallOption {
	return func(cc *callConfig) error {
		cc.bulk = true
		return nil
	}
}

// bulkKey marks a bulk call's context.
type bulkKey struct{}

// IsBulk reports whether ctx is that of a call made WithBulk. Limiters call
// it in Wait to serve interactive calls first.
func IsBulk(ctx context.Context) bool {
	b, _ := ctx.Value(bulkKey{}).(bool)
	return b
}

// Tuning of ApplicationLimiter.
const (
	// limiterMargin lengthens the window the limiter counts in, so that a
	// difference in the delays between the Client's send and HMRC's count
	// of two requests a window apart cannot put one more request in HMRC's
	// window. It costs 2 % of the rate.
	limiterMargin = 20 * time.Millisecond
	// sentSlack is the share of a slot by which a request may reach the
	// wire after its slot without pushing the next slot back, so that the
	// usual delays of a busy machine do not slow the limiter down: the
	// window rule alone keeps the count right, and pushes the request a
	// window later back by any lateness.
	sentSlack = 0.5
	// bulkEvery: while interactive and bulk calls both wait, at least one
	// slot in bulkEvery goes to bulk work, so that it is never starved.
	bulkEvery = 4
	// recoveryPerSecond is how fast the rate comes back after a 429: this
	// share of the full rate per second.
	recoveryPerSecond = 0.1
	// maxThrottlePause caps how long a Retry-After pauses the limiter.
	maxThrottlePause = time.Minute
	// maxPending is how long a request let go is counted as about to be
	// sent when no Sent reports it; it is then counted as sent at that time.
	maxPending = 5 * time.Second
)

// ApplicationLimiter is the Client's Limiter for HMRC's per-application rate
// limit. HMRC counts the requests of an application in a sliding window of
// one second, as they arrive. ApplicationLimiter keeps three rules:
//
//   - Window: no window of one second (plus a margin of 20 ms) holds more
//     than the rate's worth of requests, counted by the time each request
//     was actually sent, as the Client reports it (LimiterObserver). A
//     request let go but not yet reported counts as being sent now. So a
//     request that leaves late (a busy scheduler, a new connection) pushes
//     the later ones back instead of being squeezed into one window with
//     them.
//   - Spacing: slots are spread evenly, one every window/rate after the
//     previous slot, and at least half that after the previous request's
//     actual send, so that a request sent very late also pushes the next
//     one back.
//   - Backing off: a 429 halves the rate (at most once a window) and
//     pauses the limiter for the Retry-After HMRC asked for, up to a
//     minute; the rate then comes back by a tenth of the full rate per
//     second.
//
// Interactive calls go first: when a slot comes, a waiting interactive call
// gets it before any bulk call (IsBulk), except that while both kinds wait,
// at least one slot in four goes to bulk work, so that it keeps
// progressing. Within a kind, calls are served in the order they came.
//
// Share one ApplicationLimiter between all the Clients of an application.
// It is safe for concurrent use. The zero value is a limiter at HMRC's rate,
// like NewApplicationLimiter's. Code other than a Client that waits on it
// should report sends with Sent too; until any Sent arrives, requests count
// as sent when they are let go.
type ApplicationLimiter struct {
	rate   int           // requests per window at the full rate
	window time.Duration // one second plus the margin

	mu          sync.Mutex
	interactive []*limitWaiter // waiting, oldest first
	bulk        []*limitWaiter
	bulkSkipped int         // slots given to interactive calls in a row while bulk work waited
	observed    bool        // a Sent has arrived: the Client reports sends
	pending     []time.Time // when the requests not yet reported sent were let go, in order
	sent        []time.Time // reported send times within the last window, in order
	lastSlot    time.Time   // the slot the latest request was let go in
	lastSent    time.Time   // the latest reported send
	pausedUntil time.Time   // no slot before this (Retry-After)
	decreasedAt time.Time   // the latest decrease of the rate
	share       int         // thousandths of the full rate allowed after the latest decrease
	recoverFrom time.Time   // when the rate starts coming back
}

// limitWaiter is one call waiting for a slot.
type limitWaiter struct {
	bulk bool
	wake chan struct{} // a token when the waiter may have become the next to serve
}

// NewApplicationLimiter returns an ApplicationLimiter for HMRC's rate of 3
// requests per second: a slot every 340 ms. Give the same limiter to every
// Client of one application (WithRateLimiter) so that together they stay
// within HMRC's limit. A new Client has a limiter of its own like it.
func NewApplicationLimiter() *ApplicationLimiter {
	l, _ := NewLimiter(HMRCRateLimit)
	return l
}

// NewLimiter returns an ApplicationLimiter for a rate of perSecond requests
// per second, for an application whose limit HMRC has raised, or for a
// simulator with another limit. perSecond must be at least 1.
func NewLimiter(perSecond int) (*ApplicationLimiter, error) {
	if perSecond < 1 {
		return nil, fmt.Errorf("vat: NewLimiter: the rate must be at least 1 request per second, got %d", perSecond)
	}
	return &ApplicationLimiter{rate: perSecond, window: time.Second + limiterMargin, share: 1000}, nil
}

// Wait blocks until the limiter lets a request go, and returns nil; the
// caller then sends the request. It returns ctx's error when ctx is done
// first, and an error matching context.DeadlineExceeded at once when the
// request's slot would come after ctx's deadline.
func (l *ApplicationLimiter) Wait(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	w := &limitWaiter{bulk: IsBulk(ctx), wake: make(chan struct{}, 1)}
	l.mu.Lock()
	l.init()
	if w.bulk {
		l.bulk = append(l.bulk, w)
	} else {
		l.interactive = append(l.interactive, w)
	}
	l.poke()
	for {
		var timer <-chan time.Time
		var stop func() bool
		if l.next() == w {
			now := time.Now()
			at, every := l.slot(now)
			if !at.After(now) {
				// Let go a little late (a timer fires late on a busy
				// machine), the request keeps its slot, so that the
				// lateness does not add up from slot to slot. A slot more
				// than half a slot past (the limiter was idle) is not
				// kept, so that no burst follows.
				if now.Sub(at) > every/2 {
					at = now
				}
				l.grant(w, now, at)
				l.mu.Unlock()
				return nil
			}
			if deadline, ok := ctx.Deadline(); ok && deadline.Before(at) {
				l.remove(w)
				l.mu.Unlock()
				return fmt.Errorf("vat: the rate limiter's next slot, in %v, is after the context's deadline: %w",
					at.Sub(now).Round(time.Millisecond), context.DeadlineExceeded)
			}
			t := time.NewTimer(at.Sub(now))
			timer, stop = t.C, t.Stop
		}
		l.mu.Unlock()
		select {
		case <-ctx.Done():
			if stop != nil {
				stop()
			}
			l.mu.Lock()
			l.remove(w)
			l.mu.Unlock()
			return ctx.Err()
		case <-timer:
		case <-w.wake:
			if stop != nil {
				stop()
			}
		}
		l.mu.Lock()
	}
}

// Sent records that a request let go reached the wire at `at`.
func (l *ApplicationLimiter) Sent(_ context.Context, at time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	l.observed = true
	if len(l.pending) > 0 {
		l.pending = l.pending[1:]
	}
	i, _ := slices.BinarySearchFunc(l.sent, at, time.Time.Compare)
	l.sent = slices.Insert(l.sent, i, at)
	if at.After(l.lastSent) {
		l.lastSent = at
	}
	l.poke()
}

// Throttled slows the limiter down after a 429: the rate is halved (once a
// window at most, and never below one request a window), and no request
// goes before retryAfter (capped at a minute) has passed.
func (l *ApplicationLimiter) Throttled(_ context.Context, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.init()
	now := time.Now()
	until := now.Add(min(max(retryAfter, 0), maxThrottlePause))
	if until.After(l.pausedUntil) {
		l.pausedUntil = until
	}
	f := l.factorAt(now)
	if l.decreasedAt.IsZero() || now.Sub(l.decreasedAt) >= l.window {
		f = max(f/2, 1/float64(l.rate))
		l.decreasedAt = now
	}
	l.share, l.recoverFrom = int(f*1000), later(now, l.pausedUntil)
	l.poke()
}

// init makes the zero value a limiter at HMRC's rate.
func (l *ApplicationLimiter) init() {
	if l.rate == 0 {
		l.rate, l.window, l.share = HMRCRateLimit, time.Second+limiterMargin, 1000
	}
}

// factorAt is the share of the full rate allowed at now.
func (l *ApplicationLimiter) factorAt(now time.Time) float64 {
	if l.share >= 1000 {
		return 1
	}
	f := float64(l.share) / 1000
	if d := now.Sub(l.recoverFrom); d > 0 {
		f += d.Seconds() * recoveryPerSecond
	}
	return min(f, 1)
}

// slot returns the earliest time the next request may go, as things
// stand at now (before now when it is overdue), and the spacing of slots.
func (l *ApplicationLimiter) slot(now time.Time) (at time.Time, every time.Duration) {
	var times []time.Time // sends that count in the window
	var unreported int    // requests let go that count as being sent now
	if l.observed {
		// Requests let go long ago and never reported count as sent then.
		for len(l.pending) > 0 && now.Sub(l.pending[0]) >= maxPending {
			t := l.pending[0].Add(maxPending)
			l.pending = l.pending[1:]
			i, _ := slices.BinarySearchFunc(l.sent, t, time.Time.Compare)
			l.sent = slices.Insert(l.sent, i, t)
		}
		l.sent = dropBefore(l.sent, now.Add(-l.window))
		times, unreported = l.sent, len(l.pending)
	} else {
		// No caller reports sends: requests count as sent when let go.
		l.pending = dropBefore(l.pending, now.Add(-l.window))
		times, unreported = l.pending, 0
	}

	// The rate allowed now, and the spacing since the latest slot at the
	// rate allowed then.
	n := l.rate
	every = l.window / time.Duration(l.rate)
	if f := l.factorAt(now); f < 1 {
		n = max(1, int(float64(l.rate)*f))
	}
	if f := l.factorAt(l.lastSlot); f < 1 {
		every = time.Duration(float64(l.window) / (float64(l.rate) * f))
	}
	if !l.lastSlot.IsZero() {
		at = l.lastSlot.Add(every)
	}
	if !l.lastSent.IsZero() {
		at = later(at, l.lastSent.Add(every-time.Duration(sentSlack*float64(every))))
	}
	at = later(at, l.pausedUntil)
	// The window rule: with the requests not yet reported, at most keep of
	// the reported ones may still be in the window when this one goes.
	keep := n - 1 - unreported
	if keep < 0 {
		// Wait for a report (which pokes the waiter), or for the oldest
		// unreported request to count as sent.
		return later(at, l.pending[0].Add(maxPending)), every
	}
	if len(times) > keep {
		at = later(at, times[len(times)-1-keep].Add(l.window))
	}
	return at, every
}

// dropBefore drops the times of ts (in order) that are not after t.
func dropBefore(ts []time.Time, t time.Time) []time.Time {
	i := 0
	for i < len(ts) && !ts[i].After(t) {
		i++
	}
	return ts[i:]
}

// grant lets w go at now, in the given slot.
func (l *ApplicationLimiter) grant(w *limitWaiter, now, slot time.Time) {
	l.remove(w)
	switch {
	case w.bulk:
		l.bulkSkipped = 0
	case len(l.bulk) > 0:
		l.bulkSkipped++
	}
	l.lastSlot = slot
	l.pending = append(l.pending, now)
	l.poke()
}

// next returns the waiter to serve next: the oldest interactive call,
// unless bulk work has waited through bulkEvery-1 slots; nil when none
// waits.
func (l *ApplicationLimiter) next() *limitWaiter {
	if len(l.interactive) > 0 && (len(l.bulk) == 0 || l.bulkSkipped < bulkEvery-1) {
		return l.interactive[0]
	}
	if len(l.bulk) > 0 {
		return l.bulk[0]
	}
	if len(l.interactive) > 0 {
		return l.interactive[0]
	}
	return nil
}

// remove takes w out of its queue and wakes the waiter now next.
func (l *ApplicationLimiter) remove(w *limitWaiter) {
	q := &l.interactive
	if w.bulk {
		q = &l.bulk
	}
	if i := slices.Index(*q, w); i >= 0 {
		*q = slices.Delete(*q, i, i+1)
	}
	l.poke()
}

// poke wakes the waiter to serve next, so that it looks at the limiter's
// state again.
func (l *ApplicationLimiter) poke() {
	if w := l.next(); w != nil {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

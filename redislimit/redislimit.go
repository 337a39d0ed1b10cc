// Package redislimit shares HMRC's rate limit among every process of one
// application through Redis.
//
// HMRC counts requests per application (3 a second unless HMRC raised the
// limit), so the instances of a web application behind a load balancer, or
// the workers of a practice on several machines, share one budget. A
// Limiter implements vat.Limiter: give one to each Client (vat.WithRateLimiter)
// with the same Redis key in every process.
//
// # Algorithm
//
// The schedule is a GCRA (generic cell rate algorithm) without bursts, kept
// in one Redis key and advanced by a Lua script that Redis runs atomically:
// the key holds the earliest time the next request may leave, on the Redis
// server's clock (TIME), never a local one. Each request reserves the next
// free slot, one interval after the previous one, and waits until it comes.
// The interval is (1 s + headroom) / rate, so slots are never closer than
// that and no one-second window on the server's clock holds more than the
// rate.
//
// # Priorities
//
// Calls made with vat.WithBulk (vat.IsBulk true in the context passed to
// Wait) are bulk work: they take a slot only when the schedule is empty,
// that is when no interactive call has reserved one still to come, and
// otherwise wait for the schedule to drain and ask again. Interactive calls
// always reserve the next slot, so they go before bulk work. So that bulk
// work cannot starve under a constant stream of interactive calls, a bulk
// call that has waited longer than the bulk delay (WithBulkMaxDelay, 5 s by
// default) reserves its slot like an interactive one.
//
// # When Redis is unreachable
//
// Wait returns an error matching ErrUnavailable and the request is not
// sent: the limiter fails safe. WithLocalFallback instead paces the process
// on its own, at a stated fraction of the rate; give each process 1/N of it
// when N processes share the budget. After Redis restarts empty, the first
// slot it grants may follow the last one granted before by less than an
// interval; run Redis with persistence (appendonly) where that matters.
//
// On a 429 from HMRC, Throttled (vat.LimiterObserver) pushes the shared
// schedule back, so every process slows down, not only the one throttled.
package redislimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"golang.org/x/time/rate"

	"github.com/go-mtd/vat"
	ctxwait "github.com/go-mtd/vat/internal/wait"
)

// ErrUnavailable reports that Redis could not be asked for a slot; the
// request was not sent.
var ErrUnavailable = errors.New("redislimit: Redis is unavailable")

// An Option configures New.
type Option func(*config) error

type config struct {
	headroom  time.Duration
	fraction  float64
	bulkDelay time.Duration
	pause     time.Duration
	onGrant   func(slot time.Time, bulk bool)
}

// WithHeadroom adds d to every second of the schedule (default 40 ms), so
// that a request that leaves a little after its slot (a busy machine, a new
// connection) does not put one request too many in a second of HMRC's
// count. 0 spaces slots exactly one second / rate apart.
func WithHeadroom(d time.Duration) Option {
	return func(c *config) error {
		if d < 0 || d >= time.Second {
			return fmt.Errorf("redislimit: WithHeadroom: %v is not in [0, 1s)", d)
		}
		c.headroom = d
		return nil
	}
}

// WithLocalFallback makes Wait pace the process on its own, at fraction of
// the rate (0 < fraction ≤ 1), while Redis is unreachable, instead of
// returning ErrUnavailable. With N processes sharing the budget, 1/N keeps
// them within HMRC's limit together.
func WithLocalFallback(fraction float64) Option {
	return func(c *config) error {
		if !(fraction > 0 && fraction <= 1) {
			return fmt.Errorf("redislimit: WithLocalFallback: fraction %v is not in (0, 1]", fraction)
		}
		c.fraction = fraction
		return nil
	}
}

// WithBulkMaxDelay sets how long a bulk call yields to interactive ones
// before it queues like them (default 5 s).
func WithBulkMaxDelay(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("redislimit: WithBulkMaxDelay: %v is not positive", d)
		}
		c.bulkDelay = d
		return nil
	}
}

// WithThrottlePause sets the shortest pause of the whole schedule after a
// 429 (default 1 s, HMRC's window); a longer Retry-After wins.
func WithThrottlePause(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("redislimit: WithThrottlePause: %v is not positive", d)
		}
		c.pause = d
		return nil
	}
}

// WithGrantHook sets a func called with each slot this Limiter reserves
// (on the Redis server's clock) and whether the call was bulk work, before
// Wait waits for it: for metrics, and for tests that check the schedule.
func WithGrantHook(fn func(slot time.Time, bulk bool)) Option {
	return func(c *config) error {
		if fn == nil {
			return errors.New("redislimit: WithGrantHook: nil func")
		}
		c.onGrant = fn
		return nil
	}
}

// Limiter paces requests shared by every process using the same Redis key.
// It is safe for concurrent use.
type Limiter struct {
	client    redis.UniversalClient
	key       string
	interval  time.Duration
	bulkDelay time.Duration
	pause     time.Duration
	fallback  *rate.Limiter
	onGrant   func(time.Time, bool)
	lateness  time.Duration // the latest a waiter may wake after its slot
}

// maxMissed bounds how many slots one Wait lets go because it woke late.
const maxMissed = 3

var (
	_ vat.Limiter         = (*Limiter)(nil)
	_ vat.LimiterObserver = (*Limiter)(nil)
)

// New returns a Limiter allowing perSecond requests a second among all the
// processes that use key on the Redis server behind client. It does not
// contact Redis.
func New(client redis.UniversalClient, key string, perSecond float64, opts ...Option) (*Limiter, error) {
	switch {
	case client == nil:
		return nil, errors.New("redislimit: New: nil Redis client")
	case key == "":
		return nil, errors.New("redislimit: New: empty key")
	case !(perSecond > 0) || math.IsInf(perSecond, 0) || perSecond > 1e6:
		return nil, fmt.Errorf("redislimit: New: perSecond %v is not in (0, 1e6]", perSecond)
	}
	cfg := config{headroom: 40 * time.Millisecond, bulkDelay: 5 * time.Second, pause: time.Second}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("redislimit: New: nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	l := &Limiter{
		client:    client,
		key:       key,
		interval:  time.Duration(float64(time.Second+cfg.headroom) / perSecond),
		bulkDelay: cfg.bulkDelay,
		pause:     cfg.pause,
		onGrant:   cfg.onGrant,
		lateness:  max(cfg.headroom, 5*time.Millisecond),
	}
	if l.interval < time.Microsecond {
		l.interval = time.Microsecond
	}
	if cfg.fraction > 0 {
		l.fallback = rate.NewLimiter(rate.Every(time.Duration(float64(l.interval)/cfg.fraction)), 1)
	}
	return l, nil
}

// Interval returns the spacing between two slots.
func (l *Limiter) Interval() time.Duration { return l.interval }

// script reserves slots. KEYS[1] holds the theoretical arrival time (TAT):
// the earliest time, in microseconds on the server's clock, the next slot
// may start. ARGV: interval (µs), mode ("i" interactive, "b" bulk, "t"
// throttled), and for "i" and "b" the longest wait the caller accepts (µs,
// -1 for any), for "t" the pause (µs).
// It answers {reserved (0 or 1), wait (µs), slot or now (µs)}.
var script = redis.NewScript(`
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local function store(v)
  local ttl = math.floor((v - now) / 1000) + 1000
  redis.call('SET', KEYS[1], string.format('%.0f', v), 'PX', ttl)
end
local mode = ARGV[2]
if mode == 't' then
  local v = now + tonumber(ARGV[3])
  if v > tat then store(v) end
  return {0, 0, now}
end
local slot = tat
if slot < now then slot = now end
local wait = slot - now
if mode == 'b' and wait > 0 then return {0, wait, now} end
local maxwait = tonumber(ARGV[3])
if maxwait >= 0 and wait > maxwait then return {0, wait, now} end
store(slot + tonumber(ARGV[1]))
return {1, wait, slot}
`)

// Wait blocks until the next shared slot, or returns an error when ctx is
// done first, when the next slot comes after ctx's deadline (nothing is
// reserved then), or when Redis is unreachable (ErrUnavailable, unless
// WithLocalFallback). Bulk calls (vat.IsBulk) yield to interactive ones.
func (l *Limiter) Wait(ctx context.Context) error {
	bulk := vat.IsBulk(ctx)
	start := time.Now()
	missed := 0
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		mode := "i"
		aged := time.Since(start) >= l.bulkDelay
		if bulk && !aged {
			mode = "b"
		}
		maxWait := int64(-1)
		if dl, ok := ctx.Deadline(); ok {
			maxWait = max(time.Until(dl).Microseconds(), 0)
		}
		res, err := script.Run(ctx, l.client, []string{l.key}, l.interval.Microseconds(), mode, maxWait).Int64Slice()
		if err == nil && len(res) != 3 {
			err = fmt.Errorf("unexpected answer %v", res)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if l.fallback != nil {
				return l.fallback.Wait(ctx)
			}
			return fmt.Errorf("%w (key %s): %w; the request was not sent", ErrUnavailable, l.key, err)
		}
		wait := time.Duration(res[1]) * time.Microsecond
		if res[0] == 1 {
			if l.onGrant != nil {
				l.onGrant(time.UnixMicro(res[2]), bulk)
			}
			due := time.Now().Add(wait)
			if err := ctxwait.Sleep(ctx, wait); err != nil {
				return err
			}
			// Woken later than the headroom allows (a busy machine): the
			// request would land among later slots' requests, so let the
			// slot go and take the next free one, a few times at most.
			if time.Since(due) > l.lateness && missed < maxMissed {
				missed++
				continue
			}
			return nil
		}
		if maxWait >= 0 && res[1] > maxWait {
			return fmt.Errorf("redislimit: the next free slot is %v away, after the context's deadline: %w", wait, context.DeadlineExceeded)
		}
		// Bulk work: wait for the schedule to drain, but no longer than
		// until the call has waited its bulk delay.
		if left := l.bulkDelay - time.Since(start); wait > left {
			wait = max(left, 0)
		}
		if err := ctxwait.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// Sent is part of vat.LimiterObserver; the slot was counted when it was
// reserved, so it does nothing.
func (l *Limiter) Sent(context.Context, time.Time) {}

// Throttled pushes the shared schedule back by retryAfter, or by the
// throttle pause (WithThrottlePause) if that is longer, so that every
// process sharing the key slows down. Redis errors are ignored: the next
// Wait reports them.
func (l *Limiter) Throttled(ctx context.Context, retryAfter time.Duration) {
	d := max(retryAfter, l.pause)
	_ = script.Run(ctx, l.client, []string{l.key}, l.interval.Microseconds(), "t", strconv.FormatInt(d.Microseconds(), 10)).Err()
}

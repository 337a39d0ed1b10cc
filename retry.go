package vat

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"time"
)

// RetryPolicy says how the Client retries requests that failed in a way
// that is safe and worth retrying: for reads (GET), HTTP 429, 500, 502, 503
// and 504 and connection failures; for a return submission, only 429 and a
// connection that could not be opened, because those prove HMRC never saw
// it. Waits grow exponentially with jitter, honour Retry-After up to
// MaxRetryAfter, and end early when the context is done. When retries run
// out, the error is the last attempt's, carrying the attempt count: an
// *APIError, or a *TransportError when no response arrived. When the context
// ends during a wait, or its deadline would pass before the next attempt
// (the wait is then not begun), it is an error that matches
// both the last attempt's error and the context's.
type RetryPolicy struct {
	// MaxAttempts is the most times a request is sent, the first included.
	// 1 turns retries off.
	MaxAttempts int
	// InitialBackoff is the wait before the first retry; each later wait
	// doubles, up to MaxBackoff, and is jittered by up to half its length.
	InitialBackoff time.Duration
	// MaxBackoff caps the exponential wait.
	MaxBackoff time.Duration
	// MaxRetryAfter caps the wait a Retry-After header can ask for.
	MaxRetryAfter time.Duration
	// SettleDelay is how long SubmitReturn waits before reading back a
	// second time when the first read found no return but the submission
	// may still be in flight (a timeout, a 502 or 504, an answer cut short,
	// a connection lost after the return was sent): HMRC may file it
	// moments later. ErrSubmissionNotReceived is concluded only if the
	// second read finds no return either. Zero means 5 s.
	SettleDelay time.Duration
	// SettleTimeout bounds the whole of reading back an uncertain
	// submission, SettleDelay included. Reading back keeps the caller's
	// context values but not its cancellation or deadline, so that a return
	// HMRC filed is found even when the call timed out: SubmitReturn can
	// outlast its context by up to SettleTimeout. Zero means 30 s (or
	// SettleDelay plus 5 s, if longer).
	SettleTimeout time.Duration
}

// DefaultRetryPolicy is the policy of a new Client: 4 attempts, waiting
// about 0.5 s, 1 s and 2 s, at most 30 s for a Retry-After, and uncertain
// submissions read back a second time after 5 s, within 30 s.
func DefaultRetryPolicy() RetryPolicy {
	return RetryPolicy{MaxAttempts: 4, InitialBackoff: 500 * time.Millisecond, MaxBackoff: 8 * time.Second, MaxRetryAfter: 30 * time.Second,
		SettleDelay: defaultSettleDelay, SettleTimeout: defaultSettleTimeout}
}

// WithRetry sets the retry policy. WithRetry(RetryPolicy{MaxAttempts: 1})
// turns retries off.
func WithRetry(p RetryPolicy) Option {
	return func(c *config) error {
		switch {
		case p.MaxAttempts < 1:
			return fmt.Errorf("vat: WithRetry: MaxAttempts must be at least 1, got %d", p.MaxAttempts)
		case p.InitialBackoff < 0 || p.MaxBackoff < 0 || p.MaxRetryAfter < 0 || p.SettleDelay < 0 || p.SettleTimeout < 0:
			return errors.New("vat: WithRetry: durations must not be negative")
		case p.MaxBackoff < p.InitialBackoff:
			return errors.New("vat: WithRetry: MaxBackoff is shorter than InitialBackoff")
		case p.SettleTimeout != 0 && p.SettleTimeout <= settlePolicyOf(p).Delay:
			return fmt.Errorf("vat: WithRetry: SettleTimeout %v leaves no time to read after the SettleDelay of %v", p.SettleTimeout, settlePolicyOf(p).Delay)
		}
		c.retry = p
		c.settle = settlePolicyOf(p)
		return nil
	}
}

// retryableStatus reports the statuses worth retrying for a read.
func retryableStatus(status int) bool {
	switch status {
	case http.StatusTooManyRequests, http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// shouldRetry decides whether the outcome of one attempt is worth another.
// Reads are retried on retryable statuses and on transport failures;
// anything else only when HMRC certainly did not receive it: a 429 from
// the gateway, or a connection that could not be opened.
func shouldRetry(r *request, resp *response, err error) bool {
	idempotent := r.method == http.MethodGet
	switch {
	case err != nil && resp == nil:
		return idempotent || notSent(err)
	case resp.status == http.StatusTooManyRequests:
		return true
	case err != nil: // a body that could not be read whole
		return idempotent && !errors.Is(err, ErrResponseTooLarge)
	}
	return idempotent && retryableStatus(resp.status)
}

// notSent reports errors that prove the request never left: the
// connection could not be opened.
func notSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}

// backoff returns the wait before retry number n (1 for the first retry):
// the Retry-After the server asked for, capped, or an exponential wait with
// jitter.
func (p RetryPolicy) backoff(n int, retryAfter time.Duration) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, p.MaxRetryAfter)
	}
	d := p.InitialBackoff
	for i := 1; i < n && d < p.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, p.MaxBackoff)
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// wait pauses d before a retry, and returns why it could not: the
// context's error when it is done or ends during the wait, or, without
// waiting, an error matching context.DeadlineExceeded when the deadline
// would pass before the wait ends (the call gives up at once rather than
// wait in vain).
func (c *Client) wait(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < d {
		return fmt.Errorf("the next attempt, due in %v, would begin after the context's deadline: %w", d.Round(time.Millisecond), context.DeadlineExceeded)
	}
	return c.cfg.sleep(ctx, d)
}

package vat

import (
	"context"
	"time"
)

// WithBulk marks a call as bulk work: a shared limiter may let interactive
// calls go first. The Client passes a context for which IsBulk is true to
// its Limiter's Wait.
func WithBulk() CallOption {
	return func(cc *callConfig) error {
		cc.bulk = true
		return nil
	}
}

type bulkKey struct{}

// IsBulk reports whether ctx is the context the Client passes to
// Limiter.Wait for a call made with WithBulk.
func IsBulk(ctx context.Context) bool {
	b, _ := ctx.Value(bulkKey{}).(bool)
	return b
}

// LimiterObserver is implemented by Limiters that want to know when a
// request leaves and when HMRC throttles one.
type LimiterObserver interface {
	// Sent is called when a request is sent, at the time it left.
	Sent(ctx context.Context, at time.Time)
	// Throttled is called when HMRC answers 429; retryAfter is its
	// Retry-After, or zero.
	Throttled(ctx context.Context, retryAfter time.Duration)
}

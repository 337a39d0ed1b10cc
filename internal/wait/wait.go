// Package wait pauses in a way a context can cut short.
package wait

import (
	"context"
	"time"
)

// Sleep waits for d, or less if ctx is done first, when it returns the
// context's error. A d of zero or less returns at once.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

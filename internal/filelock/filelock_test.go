package filelock

import (
	"context"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// lockers runs each test against the platform lock and the O_EXCL lock.
var lockers = []struct {
	name string
	lock func(ctx context.Context, path string) (func(), error)
}{
	{"platform", Lock},
	{"exclusive", func(ctx context.Context, path string) (func(), error) {
		return LockExclusive(ctx, path, time.Minute)
	}},
}

func TestLockExcludesAndWaitsForContext(t *testing.T) {
	t.Parallel()
	for _, l := range lockers {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.lock")
			unlock, err := l.lock(context.Background(), path)
			require.NoError(t, err)

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			_, err = l.lock(ctx, path)
			assert.ErrorIs(t, err, context.DeadlineExceeded, "a second holder must wait, and give up with its context")

			unlock()
			unlock() // harmless twice
			unlock2, err := l.lock(context.Background(), path)
			require.NoError(t, err, "the lock is free again after unlock")
			unlock2()
		})
	}
}

func TestLockSerialisesHolders(t *testing.T) {
	t.Parallel()
	for _, l := range lockers {
		t.Run(l.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "x.lock")
			var inside, maxInside, total atomic.Int32
			var wg sync.WaitGroup
			for range 8 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					unlock, err := l.lock(context.Background(), path)
					if !assert.NoError(t, err) {
						return
					}
					n := inside.Add(1)
					for {
						m := maxInside.Load()
						if n <= m || maxInside.CompareAndSwap(m, n) {
							break
						}
					}
					time.Sleep(time.Millisecond)
					total.Add(1)
					inside.Add(-1)
					unlock()
				}()
			}
			wg.Wait()
			assert.Equal(t, int32(8), total.Load())
			assert.Equal(t, int32(1), maxInside.Load(), "never more than one holder at a time")
		})
	}
}

func TestLockFileMode(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	unlock, err := Lock(context.Background(), path)
	require.NoError(t, err)
	defer unlock()
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Zero(t, fi.Mode().Perm()&0o077, "lock file must not be group/other accessible")
}

func TestLockExclusiveBreaksStaleLock(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	// A lock file left behind by a holder that crashed long ago.
	require.NoError(t, os.WriteFile(path, []byte("12345 dead\n"), 0o600))
	old := time.Now().Add(-time.Hour)
	require.NoError(t, os.Chtimes(path, old, old))

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	unlock, err := LockExclusive(ctx, path, time.Minute)
	require.NoError(t, err, "a stale lock must be broken")
	unlock()
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "unlock removes the holder's lock file")
}

func TestLockExclusiveKeepsLiveLockFresh(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "x.lock")
	const stale = 150 * time.Millisecond
	unlock, err := LockExclusive(context.Background(), path, stale)
	require.NoError(t, err)
	defer unlock()

	// Waiting for several stale periods must not break a lock whose
	// holder is alive: its heartbeat keeps the file fresh.
	ctx, cancel := context.WithTimeout(context.Background(), 4*stale)
	defer cancel()
	_, err = LockExclusive(ctx, path, stale)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
}

func TestLockErrors(t *testing.T) {
	t.Parallel()
	_, err := Lock(context.Background(), "")
	assert.Error(t, err)
	_, err = LockExclusive(context.Background(), "", time.Second)
	assert.Error(t, err)
	_, err = LockExclusive(context.Background(), filepath.Join(t.TempDir(), "x"), 0)
	assert.Error(t, err)
	_, err = Lock(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "x.lock"))
	assert.Error(t, err)
	_, err = LockExclusive(context.Background(), filepath.Join(t.TempDir(), "missing-dir", "x.lock"), time.Second)
	assert.Error(t, err)
}

// Package filelock provides an exclusive lock shared by the processes of one
// machine, held on a lock file beside the data it protects.
//
// On Linux, macOS and the BSDs the lock is flock(2) on the lock file: the
// kernel releases it when its holder exits or crashes, so a lock can never be
// left stale, and two opens of the file in one process exclude each other
// just as two processes do. Elsewhere (Windows, Solaris, AIX, Plan 9, wasm)
// the standard library offers no file lock, so the lock is the existence of
// the lock file, created with O_EXCL; its holder touches it while it holds it,
// and a lock file left untouched for longer than a stale period (its holder
// crashed) is removed by the next process that wants the lock.
package filelock

import (
	"context"
	"errors"
	"time"
)

// Lock takes the exclusive lock on the lock file at path, creating the file
// (mode 0600) if needed, and waits until it is free or ctx is done. It returns
// a func that releases the lock; calling it more than once is harmless. The
// lock file is never deleted on unlock where flock is used, because deleting
// it would let two waiters lock two different files.
func Lock(ctx context.Context, path string) (unlock func(), err error) {
	if path == "" {
		return nil, errors.New("filelock: empty path")
	}
	return platformLock(ctx, path)
}

// backoff returns the next polling interval: doubling from 1ms up to 50ms.
func backoff(d time.Duration) time.Duration {
	const first, max = time.Millisecond, 50 * time.Millisecond
	switch {
	case d <= 0:
		return first
	case 2*d > max:
		return max
	}
	return 2 * d
}

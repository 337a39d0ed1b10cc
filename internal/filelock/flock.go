//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package filelock

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"

	"github.com/go-mtd/vat/internal/wait"
)

// platformLock uses flock(2). Locks taken through different open file
// descriptions exclude each other, in one process or several, and the
// kernel drops them when the holder's descriptors close (also on a crash).
func platformLock(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("filelock: %w", err)
	}
	var d = backoff(0)
	for {
		err := flockNonBlocking(f)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EAGAIN) {
			f.Close()
			return nil, fmt.Errorf("filelock: flock %s: %w", path, err)
		}
		if err := wait.Sleep(ctx, d); err != nil {
			f.Close()
			return nil, err
		}
		d = backoff(d)
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			// Closing the descriptor releases the lock.
			f.Close()
		})
	}, nil
}

func flockNonBlocking(f *os.File) error {
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if !errors.Is(err, syscall.EINTR) {
			return err
		}
	}
}

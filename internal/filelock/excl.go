package filelock

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/go-mtd/vat/internal/wait"
)

// DefaultStaleAfter is how long an O_EXCL lock file may go untouched before
// another process treats its holder as dead. A holder touches its lock file
// every third of this period.
const DefaultStaleAfter = 30 * time.Second

// LockExclusive takes the lock by creating path with O_EXCL. It is what Lock
// uses on systems without flock, and is compiled everywhere so that it can be
// tested everywhere. While the lock is held a goroutine refreshes the lock
// file's modification time every staleAfter/3; unlock stops that goroutine,
// waits for it, and removes the lock file if it is still this holder's.
//
// A lock file whose modification time is older than staleAfter is removed by
// the next caller. Two callers breaking the same stale lock at the same moment
// could, in a narrow window, both proceed; that needs a crashed holder and two
// simultaneous waiters, and is the price of having no kernel lock.
func LockExclusive(ctx context.Context, path string, staleAfter time.Duration) (func(), error) {
	if path == "" {
		return nil, errors.New("filelock: empty path")
	}
	if staleAfter <= 0 {
		return nil, errors.New("filelock: staleAfter must be positive")
	}
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	content := []byte(strconv.Itoa(os.Getpid()) + " " + hex.EncodeToString(nonce) + "\n")
	var d = backoff(0)
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err == nil {
			_, werr := f.Write(content)
			cerr := f.Close()
			if werr != nil || cerr != nil {
				os.Remove(path)
				return nil, fmt.Errorf("filelock: writing %s: %w", path, errors.Join(werr, cerr))
			}
			return holdExclusive(path, content, staleAfter), nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("filelock: %w", err)
		}
		breakStale(path, staleAfter)
		if err := wait.Sleep(ctx, d); err != nil {
			return nil, err
		}
		d = backoff(d)
	}
}

// breakStale removes the lock file at path if it has not been touched for
// longer than staleAfter, re-reading it first so that a lock taken afresh
// since the check is left alone.
func breakStale(path string, staleAfter time.Duration) {
	fi, err := os.Stat(path)
	if err != nil || time.Since(fi.ModTime()) <= staleAfter {
		return
	}
	before, err := os.ReadFile(path)
	if err != nil {
		return
	}
	fi2, err := os.Stat(path)
	if err != nil || !fi2.ModTime().Equal(fi.ModTime()) {
		return
	}
	if now, err := os.ReadFile(path); err == nil && bytes.Equal(now, before) {
		os.Remove(path)
	}
}

func holdExclusive(path string, content []byte, staleAfter time.Duration) func() {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(staleAfter / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				now := time.Now()
				_ = os.Chtimes(path, now, now)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			<-done
			if b, err := os.ReadFile(path); err == nil && bytes.Equal(b, content) {
				os.Remove(path)
			}
		})
	}
}

//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package filelock

import "context"

func platformLock(ctx context.Context, path string) (func(), error) {
	return LockExclusive(ctx, path, DefaultStaleAfter)
}

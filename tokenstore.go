package vat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"

	"github.com/go-mtd/vat/internal/filelock"
)

// TokenStore keeps one user's OAuth 2.0 token between runs. HMRC's refresh
// tokens are single use, so a store must keep the newest token it was given:
// an older one is useless. Implementations must be safe for concurrent use.
type TokenStore interface {
	// Load returns the stored token, or an error matching ErrNoToken if
	// there is none.
	Load(ctx context.Context) (*oauth2.Token, error)
	// Save replaces the stored token with tok. It must not return before tok
	// is durable, and must leave the previous token intact if it fails.
	Save(ctx context.Context, tok *oauth2.Token) error
}

// TokenStoreLocker is implemented by TokenStores that can serialise a whole
// load-refresh-save cycle among all the processes (or token sources) sharing
// the store. UserTokenSource holds the lock while it reads the store, asks
// HMRC for a new token and saves it, so that no two holders ever spend the
// same refresh token.
type TokenStoreLocker interface {
	// Lock waits, no longer than ctx allows, until the lock is free, takes it
	// and returns a func that releases it. Load and Save do not take the
	// lock themselves.
	Lock(ctx context.Context) (unlock func(), err error)
}

// Errors of token stores; test with errors.Is.
var (
	// ErrNoToken is returned by TokenStore.Load when no token is stored: the user
	// has not signed in yet.
	ErrNoToken = errors.New("vat: no token stored")

	// ErrTokenFileCorrupt reports a token file that does not hold a token. The
	// FileStore never overwrites it on its own: delete the file and sign in
	// again.
	ErrTokenFileCorrupt = errors.New("vat: token file is corrupt")

	// ErrTokenFileInsecure reports a token file that users other than its owner
	// can read or write. The FileStore refuses to use it until its mode is 0600.
	ErrTokenFileInsecure = errors.New("vat: token file is readable or writable by other users")
)

// maxTokenFile bounds what a FileStore reads: a token file is a few hundred
// bytes.
const maxTokenFile = 64 << 10

// FileStore is a TokenStore that keeps one token in a JSON file (the
// encoding of oauth2.Token), mode 0600, for one user in one environment (see
// TokenFilePath).
//
// Save writes a temporary file in the same directory, flushes it to disk and
// renames it over the token file, so readers see the old token or the new
// one, never a mixture, and a crash leaves one of them. A temporary file a
// crash left behind is removed by a later save once it is 15 minutes old. Load refuses a file
// that other users can read or write (on systems with Unix permissions) and a
// file that does not hold a token, with errors naming the file and the fix.
//
// FileStore implements TokenStoreLocker with a lock file beside the token
// file (path + ".lock"), so processes on one machine sharing the token file
// take turns to refresh. The lock is flock(2) on Linux, macOS and the BSDs,
// which the kernel releases if the holder crashes, so it can never be left
// stale; elsewhere it is a lock file created exclusively, kept fresh by its
// holder and broken after 30 seconds without a sign of life. Neither is
// reliable on network file systems: keep token files on a local disk.
type FileStore struct {
	path string
}

// NewFileStore returns a FileStore keeping its token at path. The directory
// is created (mode 0700) on the first Save if it does not exist.
func NewFileStore(path string) (*FileStore, error) {
	if path == "" {
		return nil, errors.New("vat: NewFileStore: empty path")
	}
	return &FileStore{path: filepath.Clean(path)}, nil
}

// TokenFilePath returns where a FileStore under dir keeps the token of the
// user identified by userKey in env: dir/<env>-<userKey>.json, for example
// dir/sandbox-acme-ltd.json. userKey is the application's own name for the
// user (an account number, a VRN); it may hold ASCII letters, digits, '.',
// '_', '-', '@' and '+', must not start with '.', and is at most 128 bytes.
func TokenFilePath(dir, userKey string, env Environment) (string, error) {
	if dir == "" {
		return "", errors.New("vat: TokenFilePath: empty directory")
	}
	if !env.Valid() {
		return "", fmt.Errorf("vat: TokenFilePath: invalid environment %v: use vat.Sandbox or vat.Production", env)
	}
	if userKey == "" || len(userKey) > 128 || userKey[0] == '.' {
		return "", fmt.Errorf("vat: TokenFilePath: user key %q must be 1 to 128 characters and not start with '.'", userKey)
	}
	for _, r := range userKey {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-@+", r)
		if !ok {
			return "", fmt.Errorf("vat: TokenFilePath: user key %q contains %q: use ASCII letters, digits and . _ - @ +", userKey, r)
		}
	}
	return filepath.Join(dir, env.String()+"-"+userKey+".json"), nil
}

// Path returns the token file's path.
func (s *FileStore) Path() string { return s.path }

// Load reads the token file. It returns an error matching ErrNoToken if the
// file does not exist, ErrTokenFileInsecure if other users can read or write
// it, and ErrTokenFileCorrupt if it does not hold a token.
func (s *FileStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	f, err := os.Open(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNoToken, s.path)
	}
	if err != nil {
		return nil, fmt.Errorf("vat: reading token file: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("vat: reading token file: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrTokenFileCorrupt, s.path)
	}
	if runtime.GOOS != "windows" && runtime.GOOS != "plan9" && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; make it private with: chmod 600 %s",
			ErrTokenFileInsecure, s.path, fi.Mode().Perm(), s.path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxTokenFile+1))
	if err != nil {
		return nil, fmt.Errorf("vat: reading token file: %w", err)
	}
	tok, problem := decodeToken(data)
	if problem != "" {
		return nil, fmt.Errorf("%w: %s %s; it was left as it is: delete it and sign in to HMRC again", ErrTokenFileCorrupt, s.path, problem)
	}
	return tok, nil
}

// decodeToken parses a token file; the problem it reports never quotes the
// file's content.
func decodeToken(data []byte) (*oauth2.Token, string) {
	if len(data) > maxTokenFile {
		return nil, "is too large to be a token file"
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, "is empty"
	}
	var tok oauth2.Token
	if err := json.Unmarshal(data, &tok); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Sprintf("is not valid JSON (at byte %d)", se.Offset)
		}
		return nil, "does not hold a token in JSON"
	}
	if tok.AccessToken == "" && tok.RefreshToken == "" {
		return nil, "holds neither an access token nor a refresh token"
	}
	return &tok, ""
}

// Save writes tok to the token file atomically: a temporary file (mode
// 0600) in the same directory is written, flushed to disk and renamed over
// the token file, and the directory is flushed. It creates the directory
// (mode 0700) if needed. ExpiresIn is not stored; Expiry is.
func (s *FileStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSavable(tok); err != nil {
		return err
	}
	c := *tok
	c.ExpiresIn = 0
	data, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("vat: encoding token: %w", err)
	}
	dir := filepath.Dir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	tmp, err := os.CreateTemp(dir, s.tempPrefix()+"*")
	if err != nil {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	if _, err := tmp.Write(append(data, '\n')); err != nil {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	if err := os.Rename(tmpName, s.path); err != nil {
		return fmt.Errorf("vat: saving token: %w", err)
	}
	ok = true
	syncDir(dir)
	s.removeStaleTemps(dir, time.Now())
	return nil
}

// staleTempAge is how old a temporary file of a FileStore must be before a
// save removes it: a save takes milliseconds, so a file this old was left by
// a process that crashed while saving.
const staleTempAge = 15 * time.Minute

// tempPrefix starts the names of the store's temporary files; os.CreateTemp
// appends a decimal number.
func (s *FileStore) tempPrefix() string { return "." + filepath.Base(s.path) + ".tmp-" }

// removeStaleTemps removes the store's temporary files older than
// staleTempAge: a crash during a save leaves one behind, holding a token.
// Newer ones may belong to a save in progress in another process and are
// left alone, as are files not named as Save names them. Failures are
// ignored: the next save tries again.
func (s *FileStore) removeStaleTemps(dir string, now time.Time) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	prefix := s.tempPrefix()
	for _, e := range entries {
		suffix, ok := strings.CutPrefix(e.Name(), prefix)
		if !ok || suffix == "" || strings.Trim(suffix, "0123456789") != "" || !e.Type().IsRegular() {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleTempAge {
			continue
		}
		_ = os.Remove(filepath.Join(dir, e.Name()))
	}
}

// syncDir flushes a directory entry change (the rename) to disk where the
// system allows it; Windows does not open directories, and there the rename
// is already durable enough.
func syncDir(dir string) {
	if runtime.GOOS == "windows" {
		return
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
}

// Lock takes the lock shared by every FileStore (in any process on this
// machine) using the same path, waiting no longer than ctx allows.
func (s *FileStore) Lock(ctx context.Context) (unlock func(), err error) {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return nil, fmt.Errorf("vat: locking token file: %w", err)
	}
	unlock, err = filelock.Lock(ctx, s.path+".lock")
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("vat: waiting for the token file lock %s.lock: %w", s.path, err)
		}
		return nil, fmt.Errorf("vat: locking token file: %w", err)
	}
	return unlock, nil
}

func checkSavable(tok *oauth2.Token) error {
	if tok == nil {
		return errors.New("vat: cannot save a nil token")
	}
	if tok.AccessToken == "" && tok.RefreshToken == "" {
		return errors.New("vat: cannot save a token with neither an access token nor a refresh token")
	}
	return nil
}

// MemoryStore is a TokenStore kept in memory, for tests and for programs that
// hold a token only while they run. It is safe for concurrent use and
// implements TokenStoreLocker, so token sources sharing one MemoryStore take
// turns to refresh. The zero value is an empty store.
type MemoryStore struct {
	mu      sync.Mutex
	tok     *oauth2.Token
	saveErr error
	saves   int
	lock    chan struct{}
}

// NewMemoryStore returns a MemoryStore holding a copy of tok, or empty if tok
// is nil.
func NewMemoryStore(tok *oauth2.Token) *MemoryStore {
	m := &MemoryStore{}
	if tok != nil {
		m.tok = copyToken(tok)
	}
	return m
}

// Load returns a copy of the stored token, or ErrNoToken.
func (m *MemoryStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.tok == nil {
		return nil, ErrNoToken
	}
	return copyToken(m.tok), nil
}

// Save stores a copy of tok, or returns the error set with FailSaves and
// keeps the previous token.
func (m *MemoryStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkSavable(tok); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	c := *tok
	c.ExpiresIn = 0
	m.tok = &c
	m.saves++
	return nil
}

// FailSaves makes every later Save return err without storing anything,
// simulating a full disk or a database outage; FailSaves(nil) restores normal
// saving.
func (m *MemoryStore) FailSaves(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saveErr = err
}

// Saves returns how many times Save has stored a token.
func (m *MemoryStore) Saves() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.saves
}

// Lock takes the store's lock, waiting no longer than ctx allows.
func (m *MemoryStore) Lock(ctx context.Context) (unlock func(), err error) {
	m.mu.Lock()
	if m.lock == nil {
		m.lock = make(chan struct{}, 1)
	}
	ch := m.lock
	m.mu.Unlock()
	select {
	case ch <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("vat: waiting for the token store lock: %w", ctx.Err())
	}
	var once sync.Once
	return func() { once.Do(func() { <-ch }) }, nil
}

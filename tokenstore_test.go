package vat_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
)

func TestTokenFilePath(t *testing.T) {
	t.Parallel()
	tests := []struct {
		dir, key string
		env      vat.Environment
		want     string // "" means an error
	}{
		{"/var/lib/app", "acme-ltd", vat.Sandbox, "/var/lib/app/sandbox-acme-ltd.json"},
		{"/var/lib/app", "123456789", vat.Production, "/var/lib/app/production-123456789.json"},
		{"tokens", "jo.bloggs+vat@example.com", vat.Sandbox, "tokens/sandbox-jo.bloggs+vat@example.com.json"},
		{"/d", "a_b", vat.Sandbox, "/d/sandbox-a_b.json"},
		{"", "acme", vat.Sandbox, ""},
		{"/d", "", vat.Sandbox, ""},
		{"/d", "acme", 0, ""},
		{"/d", "../etc/passwd", vat.Sandbox, ""},
		{"/d", "a/b", vat.Sandbox, ""},
		{"/d", `a\b`, vat.Sandbox, ""},
		{"/d", ".hidden", vat.Sandbox, ""},
		{"/d", "with space", vat.Sandbox, ""},
		{"/d", "é", vat.Sandbox, ""},
		{"/d", string(make([]byte, 129)), vat.Sandbox, ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			t.Parallel()
			got, err := vat.TokenFilePath(tt.dir, tt.key, tt.env)
			noSecret(t, err)
			if tt.want == "" {
				assert.Error(t, err)
				assert.Empty(t, got)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, filepath.FromSlash(tt.want), got)
		})
	}
}

func fileStoreToken() *oauth2.Token {
	return &oauth2.Token{
		AccessToken: "at-file-" + leakMarker, TokenType: "bearer", RefreshToken: "rt-file-" + leakMarker,
		Expiry: time.Date(2025, 4, 1, 13, 0, 0, 0, time.UTC), ExpiresIn: 14400,
	}
}

func newFileStore(t *testing.T) *vat.FileStore {
	t.Helper()
	path, err := vat.TokenFilePath(filepath.Join(t.TempDir(), "tokens"), "acme", vat.Sandbox)
	require.NoError(t, err)
	s, err := vat.NewFileStore(path)
	require.NoError(t, err)
	return s
}

func TestFileStoreRoundTrip(t *testing.T) {
	t.Parallel()
	s := newFileStore(t)
	ctx := context.Background()
	_, err := s.Load(ctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrNoToken, "no file yet")

	require.NoError(t, s.Save(ctx, fileStoreToken()))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	want := fileStoreToken()
	assert.Equal(t, want.AccessToken, got.AccessToken)
	assert.Equal(t, want.RefreshToken, got.RefreshToken)
	assert.Equal(t, want.TokenType, got.TokenType)
	assert.True(t, want.Expiry.Equal(got.Expiry))
	assert.Zero(t, got.ExpiresIn, "expires_in is relative and is not stored")

	raw, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	var fields map[string]any
	require.NoError(t, json.Unmarshal(raw, &fields), "the file is JSON")
	assert.NotContains(t, fields, "expires_in")

	// Saving again replaces the token.
	next := fileStoreToken()
	next.AccessToken, next.RefreshToken = "at-2", "rt-2"
	require.NoError(t, s.Save(ctx, next))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "rt-2", got.RefreshToken)
}

func TestFileStoreModesAndNoTempFiles(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	s := newFileStore(t)
	ctx := context.Background()
	for range 3 {
		require.NoError(t, s.Save(ctx, fileStoreToken()))
	}
	fi, err := os.Stat(s.Path())
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	di, err := os.Stat(filepath.Dir(s.Path()))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o700), di.Mode().Perm(), "the directory it created is private")

	entries, err := os.ReadDir(filepath.Dir(s.Path()))
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	assert.Equal(t, []string{filepath.Base(s.Path())}, names, "no temporary file is left behind")
}

func TestFileStoreRefusesInsecureFile(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("Unix permissions")
	}
	tests := []struct {
		mode os.FileMode
		ok   bool
	}{
		{0o600, true},
		{0o400, true},
		{0o640, false},
		{0o604, false},
		{0o644, false},
		{0o660, false},
		{0o602, false},
	}
	for _, tt := range tests {
		t.Run(tt.mode.String(), func(t *testing.T) {
			t.Parallel()
			s := newFileStore(t)
			require.NoError(t, s.Save(context.Background(), fileStoreToken()))
			require.NoError(t, os.Chmod(s.Path(), tt.mode))
			tok, err := s.Load(context.Background())
			noSecret(t, err)
			if tt.ok {
				require.NoError(t, err)
				assert.NotNil(t, tok)
				return
			}
			assert.Nil(t, tok)
			require.ErrorIs(t, err, vat.ErrTokenFileInsecure)
			assert.Contains(t, err.Error(), "chmod 600 "+s.Path(), "the error says how to fix it")
			assert.NotContains(t, err.Error(), leakMarker)
			fi, err := os.Stat(s.Path())
			require.NoError(t, err)
			assert.Equal(t, tt.mode, fi.Mode().Perm(), "the file is left alone")
		})
	}
}

func TestFileStoreRefusesCorruptFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, want string
	}{
		{"garbage", "access_token=at-" + leakMarker, "not valid JSON"},
		{"truncated", `{"access_token":"at-` + leakMarker, "not valid JSON"},
		{"empty", "", "is empty"},
		{"blank", " \n", "is empty"},
		{"no token", `{"token_type":"bearer"}`, "neither an access token nor a refresh token"},
		{"wrong types", `{"access_token":123,"refresh_token":"rt-` + leakMarker + `"}`, "does not hold a token"},
		{"bad expiry", `{"access_token":"a","expiry":"soon-` + leakMarker + `"}`, "does not hold a token"},
		{"array", `["at-` + leakMarker + `"]`, "does not hold a token"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newFileStore(t)
			require.NoError(t, os.MkdirAll(filepath.Dir(s.Path()), 0o700))
			require.NoError(t, os.WriteFile(s.Path(), []byte(tt.content), 0o600))
			tok, err := s.Load(context.Background())
			noSecret(t, err)
			assert.Nil(t, tok)
			require.ErrorIs(t, err, vat.ErrTokenFileCorrupt)
			assert.Contains(t, err.Error(), tt.want)
			assert.Contains(t, err.Error(), s.Path())
			assert.Contains(t, err.Error(), "delete it and sign in")
			assert.NotContains(t, err.Error(), leakMarker, "the file's content is not quoted")
			after, err := os.ReadFile(s.Path())
			require.NoError(t, err)
			assert.Equal(t, tt.content, string(after), "never overwritten")
		})
	}
}

// TestFileStoreCorruptFileStopsTokenSource: a token source never replaces a
// corrupt token file on its own.
func TestFileStoreCorruptFileStopsTokenSource(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	s := newFileStore(t)
	require.NoError(t, os.MkdirAll(filepath.Dir(s.Path()), 0o700))
	require.NoError(t, os.WriteFile(s.Path(), []byte("{"), 0o600))
	ts := newUserSource(t, f, s)
	_, err := ts.TokenContext(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrTokenFileCorrupt)
	after, err := os.ReadFile(s.Path())
	require.NoError(t, err)
	assert.Equal(t, "{", string(after))
	assert.Zero(t, f.count().Refresh)
}

func TestFileStoreRefusesDirectory(t *testing.T) {
	t.Parallel()
	s := newFileStore(t)
	require.NoError(t, os.MkdirAll(s.Path(), 0o700))
	_, err := s.Load(context.Background())
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrTokenFileCorrupt)
	err = s.Save(context.Background(), fileStoreToken())
	noSecret(t, err)
	assert.Error(t, err, "cannot rename over a directory")
	entries, err := os.ReadDir(filepath.Dir(s.Path()))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "the failed save removed its temporary file")
}

func TestFileStoreRefusesBadInput(t *testing.T) {
	t.Parallel()
	_, err := vat.NewFileStore("")
	noSecret(t, err)
	assert.Error(t, err)
	s := newFileStore(t)
	assert.Error(t, s.Save(context.Background(), nil))
	assert.Error(t, s.Save(context.Background(), &oauth2.Token{TokenType: "bearer"}))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	assert.ErrorIs(t, s.Save(ctx, fileStoreToken()), context.Canceled)
	_, err = s.Load(ctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

// TestFileStoreAtomicWrites: readers running alongside writers only ever
// see a whole token.
func TestFileStoreAtomicWrites(t *testing.T) {
	t.Parallel()
	s := newFileStore(t)
	ctx := context.Background()
	require.NoError(t, s.Save(ctx, fileStoreToken()))
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var readErr error
	var mu sync.Mutex
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				tok, err := s.Load(ctx)
				noSecret(t, err)
				if err == nil && tok.RefreshToken == "" {
					err = errors.New("partial token")
				}
				if err != nil {
					mu.Lock()
					readErr = err
					mu.Unlock()
					return
				}
			}
		}()
	}
	for i := range 50 {
		tok := fileStoreToken()
		tok.RefreshToken = tok.RefreshToken + string(rune('a'+i%26))
		require.NoError(t, s.Save(ctx, tok))
	}
	close(stop)
	wg.Wait()
	assert.NoError(t, readErr)
}

func TestFileStoreLockContention(t *testing.T) {
	t.Parallel()
	s := newFileStore(t)
	other, err := vat.NewFileStore(s.Path()) // as another process would open it
	require.NoError(t, err)

	unlock, err := s.Lock(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = other.Lock(ctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Contains(t, err.Error(), "waiting for the token file lock")

	got := make(chan error, 1)
	go func() {
		u, err := other.Lock(context.Background())
		noSecret(t, err)
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case <-got:
		t.Fatal("the second holder did not wait")
	case <-time.After(20 * time.Millisecond):
	}
	unlock()
	assert.NoError(t, <-got, "the waiter gets the lock once it is released")
}

// TestFileStoreSharedByTwoSources simulates two processes sharing one token
// file: each has its own FileStore and token source, and both keep asking
// for tokens while time passes. No refresh token is ever spent twice (the
// fake would count it and refuse it), and every token handed out works or
// is replaced by RefreshToken after a 401.
func TestFileStoreSharedByTwoSources(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	f.refreshDelay = 2 * time.Millisecond
	first := newFileStore(t)
	require.NoError(t, first.Save(context.Background(), f.grant()))
	second, err := vat.NewFileStore(first.Path())
	require.NoError(t, err)
	sources := []*vat.UserTokenSource{newUserSource(t, f, first), newUserSource(t, f, second)}

	var wg sync.WaitGroup
	errs := make(chan error, 1000)
	for round := range 20 {
		if round%2 == 1 {
			f.clock.Advance(4 * time.Hour) // the shared token expires
		}
		for _, ts := range sources {
			for range 5 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					tok, err := ts.TokenContext(context.Background())
					noSecret(t, err)
					if err == nil && !f.accepts(t, tok) {
						// The other "process" rotated it: as the Client would.
						_, err = ts.RefreshToken(context.Background(), tok)
						noSecret(t, err)
					}
					if err != nil {
						errs <- err
					}
				}()
			}
		}
		wg.Wait()
	}
	close(errs)
	for err := range errs {
		t.Errorf("token source error: %v", err)
	}
	c := f.count()
	assert.Zero(t, c.ReusedRefresh, "no refresh token spent twice")
	assert.Equal(t, c.Refresh, c.RefreshOK, "every refresh succeeded")
	assert.Equal(t, 10, c.RefreshOK, "one refresh per expiry, across both sources")
	t.Logf("%d refreshes, %d reused refresh tokens", c.RefreshOK, c.ReusedRefresh)

	// The file holds the newest token, which works.
	tok, err := first.Load(context.Background())
	require.NoError(t, err)
	assert.True(t, f.accepts(t, tok))
}

func TestMemoryStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	var zero vat.MemoryStore
	_, err := zero.Load(ctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, vat.ErrNoToken, "the zero value is an empty store")

	in := fileStoreToken()
	m := vat.NewMemoryStore(in)
	in.AccessToken = "changed"
	got, err := m.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "at-file-"+leakMarker, got.AccessToken, "the store keeps a copy")
	got.AccessToken = "changed"
	again, err := m.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "at-file-"+leakMarker, again.AccessToken, "Load returns a copy")

	boom := errors.New("database down")
	m.FailSaves(boom)
	next := fileStoreToken()
	next.AccessToken = "at-next"
	assert.ErrorIs(t, m.Save(ctx, next), boom)
	got, err = m.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "at-file-"+leakMarker, got.AccessToken, "a failed save keeps the previous token")
	assert.Zero(t, m.Saves())
	m.FailSaves(nil)
	require.NoError(t, m.Save(ctx, next))
	assert.Equal(t, 1, m.Saves())
	got, err = m.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "at-next", got.AccessToken)
	assert.Zero(t, got.ExpiresIn)

	assert.Error(t, m.Save(ctx, nil))
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	assert.ErrorIs(t, m.Save(cctx, next), context.Canceled)
	_, err = m.Load(cctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestMemoryStoreLock(t *testing.T) {
	t.Parallel()
	var m vat.MemoryStore
	unlock, err := m.Lock(context.Background())
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err = m.Lock(ctx)
	noSecret(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	unlock()
	unlock() // harmless twice
	unlock, err = m.Lock(context.Background())
	require.NoError(t, err)
	unlock()
}

// Both stores serialise refresh cycles.
var (
	_ vat.TokenStoreLocker = (*vat.FileStore)(nil)
	_ vat.TokenStoreLocker = (*vat.MemoryStore)(nil)
)

// FuzzFileStoreLoad feeds arbitrary file contents to Load: it never panics,
// returns either a token or ErrTokenFileCorrupt, and never quotes the file.
func FuzzFileStoreLoad(f *testing.F) {
	good, err := json.Marshal(fileStoreToken())
	require.NoError(f, err)
	for _, s := range []string{string(good), "", "{", "{}", `{"access_token":1}`, `{"expiry":"x"}`, "null", `"LEAKMARK"`} {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, content []byte) {
		path := filepath.Join(dir, "fuzz.json")
		require.NoError(t, os.WriteFile(path, content, 0o600))
		s, err := vat.NewFileStore(path)
		require.NoError(t, err)
		tok, err := s.Load(context.Background())
		if err != nil {
			assert.ErrorIs(t, err, vat.ErrTokenFileCorrupt)
			assert.NotContains(t, err.Error(), leakMarker)
			return
		}
		assert.True(t, tok.AccessToken != "" || tok.RefreshToken != "")
	})
}

// TestFileStoreRemovesStaleTempFiles: temporary files a crash left behind
// during a save (each may hold a token) are removed by the next save, while
// a recent one (another process's save in flight) and files of other
// stores are left alone.
func TestFileStoreRemovesStaleTempFiles(t *testing.T) {
	t.Parallel()
	s := newFileStore(t)
	ctx := context.Background()
	dir, base := filepath.Dir(s.Path()), filepath.Base(s.Path())
	require.NoError(t, os.MkdirAll(dir, 0o700))
	data, err := json.Marshal(fileStoreToken())
	require.NoError(t, err)
	now := time.Now()
	plant := func(name string, age time.Duration) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, data, 0o600))
		require.NoError(t, os.Chtimes(p, now.Add(-age), now.Add(-age)))
		return name
	}
	stale := []string{
		plant("."+base+".tmp-1234567890", 2*time.Hour),
		plant("."+base+".tmp-42", 24*time.Hour),
	}
	kept := []string{
		plant("."+base+".tmp-77", 0),                             // a save in flight
		plant(".sandbox-other.json.tmp-1234567890", 2*time.Hour), // another store's
		plant("."+base+".tmp-notmine", 2*time.Hour),              // not a name Save makes
	}

	require.NoError(t, s.Save(ctx, fileStoreToken()))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	for _, n := range stale {
		assert.NotContains(t, names, n, "a stale temporary file holding a token is removed")
	}
	assert.Subset(t, names, append(kept, base))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, fileStoreToken().RefreshToken, got.RefreshToken)
}

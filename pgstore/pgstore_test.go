package pgstore_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/pgstore"
)

func key(id string, b byte) pgstore.Key {
	return pgstore.Key{ID: id, Secret: bytes.Repeat([]byte{b}, 32)}
}

var tok = &oauth2.Token{AccessToken: "access-SECRET-1", RefreshToken: "refresh-SECRET-1", TokenType: "bearer",
	Expiry: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}

func TestNewRefusesWithoutKeyUnlessPlaintextAllowed(t *testing.T) {
	ctx := context.Background()
	// No pool is needed to refuse: the options are checked first.
	_, err := pgstore.New(ctx, nil)
	require.Error(t, err)
	pool, table := newPool(t)
	_, err = pgstore.New(ctx, pool, pgstore.WithTable(table))
	require.ErrorContains(t, err, "no encryption key")
	_, err = pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.AllowPlaintext())
	require.NoError(t, err)
	for name, opt := range map[string]pgstore.Option{
		"short key":    pgstore.WithKeys(pgstore.Key{ID: "k", Secret: []byte("short")}),
		"bad id":       pgstore.WithKeys(pgstore.Key{ID: "a b", Secret: make([]byte, 32)}),
		"dup id":       pgstore.WithKeys(key("k", 1), key("k", 2)),
		"no keys":      pgstore.WithKeys(),
		"bad table":    pgstore.WithTable("x; DROP TABLE y"),
		"lock timeout": pgstore.WithLockTimeout(0),
	} {
		_, err := pgstore.New(ctx, pool, opt)
		assert.Error(t, err, name)
	}
}

func rawRow(t *testing.T, pool *pgxpool.Pool, table, user string) (string, []byte) {
	t.Helper()
	var id string
	var data []byte
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT key_id, token FROM "+table+" WHERE user_key = $1", user).Scan(&id, &data))
	return id, data
}

func TestSaveLoadEncryptsAtRest(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k1", 1)))
	require.NoError(t, err)
	u := s.User("tenant-a/customer-1")

	_, err = u.Load(ctx)
	require.ErrorIs(t, err, vat.ErrNoToken)

	require.NoError(t, u.Save(ctx, tok))
	got, err := u.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.AccessToken, got.AccessToken)
	assert.Equal(t, tok.RefreshToken, got.RefreshToken)
	assert.True(t, tok.Expiry.Equal(got.Expiry))

	id, data := rawRow(t, pool, table, "tenant-a/customer-1")
	assert.Equal(t, "k1", id)
	assert.NotContains(t, string(data), "SECRET")
	assert.NotContains(t, string(data), "refresh")

	// Saving again replaces the token.
	tok2 := *tok
	tok2.RefreshToken = "refresh-SECRET-2"
	require.NoError(t, u.Save(ctx, &tok2))
	got, err = u.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, "refresh-SECRET-2", got.RefreshToken)
}

func TestKeyRotationReadsOldKeysAndRewritesWithCurrent(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	old, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("2025", 1)))
	require.NoError(t, err)
	require.NoError(t, old.User("u1").Save(ctx, tok))
	require.NoError(t, old.User("u2").Save(ctx, tok))

	rotated, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("2026", 2), key("2025", 1)))
	require.NoError(t, err)
	got, err := rotated.User("u1").Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, tok.RefreshToken, got.RefreshToken)
	require.NoError(t, rotated.User("u1").Save(ctx, got))
	id, _ := rawRow(t, pool, table, "u1")
	assert.Equal(t, "2026", id, "a saved row is re-encrypted with the current key")
	usage, err := rotated.KeyUsage(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"2026": 1, "2025": 1}, usage)

	// A store without the new key cannot read the rewritten row, and says
	// which key it lacks without quoting anything secret.
	_, err = old.User("u1").Load(ctx)
	require.ErrorIs(t, err, pgstore.ErrUndecryptable)
	assert.Contains(t, err.Error(), `"2026"`)
	assert.NotContains(t, err.Error(), "SECRET")

	// A key ID reused for other bytes is caught by authentication.
	wrong, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("2026", 9)))
	require.NoError(t, err)
	_, err = wrong.User("u1").Load(ctx)
	require.ErrorIs(t, err, pgstore.ErrUndecryptable)
}

func TestCiphertextIsBoundToItsUser(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	require.NoError(t, s.User("victim").Save(ctx, tok))
	require.NoError(t, s.User("attacker").Save(ctx, &oauth2.Token{AccessToken: "x"}))
	_, err = pool.Exec(ctx, "UPDATE "+table+" SET token = (SELECT token FROM "+table+" WHERE user_key = 'victim') WHERE user_key = 'attacker'")
	require.NoError(t, err)
	_, err = s.User("attacker").Load(ctx)
	require.ErrorIs(t, err, pgstore.ErrUndecryptable, "a row copied to another user must not decrypt")
}

func TestPlaintextRowsAreEncryptedOnNextSave(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	plain, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.AllowPlaintext())
	require.NoError(t, err)
	require.NoError(t, plain.User("u").Save(ctx, tok))
	id, data := rawRow(t, pool, table, "u")
	assert.Equal(t, "", id)
	assert.Contains(t, string(data), tok.RefreshToken)

	enc, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	got, err := enc.User("u").Load(ctx)
	require.NoError(t, err)
	require.NoError(t, enc.User("u").Save(ctx, got))
	id, data = rawRow(t, pool, table, "u")
	assert.Equal(t, "k", id)
	assert.NotContains(t, string(data), tok.RefreshToken)
}

func TestDelete(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	require.NoError(t, s.User("a").Save(ctx, tok))
	require.NoError(t, s.User("b").Save(ctx, tok))
	require.NoError(t, s.Delete(ctx, "a"))
	_, err = s.User("a").Load(ctx)
	require.ErrorIs(t, err, vat.ErrNoToken)
	require.NoError(t, s.User("b").Delete(ctx))
	_, err = s.User("b").Load(ctx)
	require.ErrorIs(t, err, vat.ErrNoToken)
	require.NoError(t, s.Delete(ctx, "never-stored"))
	require.Error(t, s.Delete(ctx, ""))
}

func TestMigrationIsVersioned(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	// Instances starting together migrate once between them.
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.AllowPlaintext())
		})
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	var v int
	require.NoError(t, pool.QueryRow(ctx, "SELECT version FROM "+table+"_schema").Scan(&v))
	assert.Equal(t, 2, pgstore.SchemaVersion(), "version 2 added the planner table")
	assert.Equal(t, pgstore.SchemaVersion(), v)
	var tables int
	require.NoError(t, pool.QueryRow(ctx, "SELECT count(to_regclass(n)) FROM unnest($1::text[]) AS n", []string{table, table + "_schema", table + "_planner"}).Scan(&tables))
	assert.Equal(t, 3, tables, "the tokens, schema and planner tables exist")

	_, err := pool.Exec(ctx, "UPDATE "+table+"_schema SET version = 99")
	require.NoError(t, err)
	_, err = pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.AllowPlaintext())
	require.ErrorContains(t, err, "schema version 99")
}

func TestLockIsSharedAcrossStoresAndTimesOut(t *testing.T) {
	ctx := context.Background()
	poolA, table := newPool(t)
	poolB, _ := newPool(t) // another instance: its own pool and Store
	a, err := pgstore.New(ctx, poolA, pgstore.WithTable(table), pgstore.AllowPlaintext())
	require.NoError(t, err)
	b, err := pgstore.New(ctx, poolB, pgstore.WithTable(table), pgstore.AllowPlaintext(), pgstore.WithLockTimeout(300*time.Millisecond))
	require.NoError(t, err)

	unlock, err := a.User("u").Lock(ctx)
	require.NoError(t, err)
	_, err = b.User("u").Lock(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the lock is held by the other store")
	assert.Contains(t, err.Error(), `lock of user "u"`)

	other, err := b.User("someone-else").Lock(ctx)
	require.NoError(t, err, "another user's lock is free")
	other()

	unlock()
	unlock() // twice is harmless
	again, err := b.User("u").Lock(ctx)
	require.NoError(t, err)
	again()
}

func TestLockIsReleasedWhenTheHolderSessionEnds(t *testing.T) {
	ctx := context.Background()
	poolA, table := newPool(t)
	poolB, _ := newPool(t)
	a, err := pgstore.New(ctx, poolA, pgstore.WithTable(table), pgstore.AllowPlaintext())
	require.NoError(t, err)
	b, err := pgstore.New(ctx, poolB, pgstore.WithTable(table), pgstore.AllowPlaintext(), pgstore.WithLockTimeout(time.Minute))
	require.NoError(t, err)
	unlock, err := a.User("u").Lock(ctx)
	require.NoError(t, err)
	defer unlock()

	got := make(chan error, 1)
	go func() {
		u, err := b.User("u").Lock(ctx)
		if err == nil {
			u()
		}
		got <- err
	}()
	// End the holder's session as PostgreSQL does when its process dies.
	var n int
	require.NoError(t, poolB.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid <> pg_backend_pid()`).Scan(&n))
	require.Equal(t, 1, n)
	select {
	case err := <-got:
		require.NoError(t, err)
	case <-time.After(time.Minute):
		t.Fatal("the lock was not released when its session ended")
	}
}

func TestNothingSecretInFormatsOrErrors(t *testing.T) {
	ctx := context.Background()
	secret := []byte("0123456789abcdef0123456789ABCDEF")
	k := pgstore.Key{ID: "k1", Secret: secret}
	pool, table := newPool(t)
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(k))
	require.NoError(t, err)
	u := s.User("u")
	js, err := json.Marshal(k)
	require.NoError(t, err)
	for _, out := range []string{
		fmt.Sprint(k), fmt.Sprintf("%+v", k), fmt.Sprintf("%#v", k), fmt.Sprintf("%x", k), fmt.Sprintf("%v", []pgstore.Key{k}),
		fmt.Sprint(s), fmt.Sprintf("%+v", s), fmt.Sprintf("%#v", s), fmt.Sprintf("%+v", *s),
		fmt.Sprint(u), fmt.Sprintf("%+v", u), fmt.Sprintf("%#v", u), string(js),
	} {
		assert.NotContains(t, out, string(secret))
		assert.NotContains(t, out, fmt.Sprintf("%x", secret))
		assert.NotContains(t, out, "48 49 50") // the bytes printed as numbers
		assert.NotContains(t, out, "[48 49")
	}
	require.NoError(t, u.Save(ctx, tok))
	_, err = pool.Exec(ctx, "UPDATE "+table+" SET token = substr(token, 1, 20)")
	require.NoError(t, err)
	_, err = u.Load(ctx)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "SECRET")
}

// TestRootPackageImportsNoDriver keeps pgx and go-redis out of package vat:
// only pgstore and redislimit may bring them in.
func TestRootPackageImportsNoDriver(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/go-mtd/vat").CombinedOutput()
	require.NoError(t, err, string(out))
	deps := strings.Fields(string(out))
	require.Contains(t, deps, "golang.org/x/oauth2")
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/jackc/") || strings.HasPrefix(d, "github.com/redis/") {
			t.Errorf("package vat depends on %s", d)
		}
	}
	out, err = exec.Command("go", "list", "-deps", "github.com/go-mtd/vat/pgstore").CombinedOutput()
	require.NoError(t, err, string(out))
	assert.Contains(t, strings.Fields(string(out)), "github.com/jackc/pgx/v5", "the check would see a driver")
}

// TestLockDoesNotStarveThePool holds every connection of a small pool's
// worth of locks and still loads and saves: the lock's connection is not
// taken from the pool that Load and Save use.
func TestLockDoesNotStarveThePool(t *testing.T) {
	ctx := context.Background()
	testPool, table := newPool(t)
	cfg := testPool.Config()
	cfg.MaxConns = 1
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer pool.Close()
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.AllowPlaintext(), pgstore.WithLockTimeout(5*time.Second))
	require.NoError(t, err)
	u := s.User("u")
	unlock, err := u.Lock(ctx)
	require.NoError(t, err)
	defer unlock()
	other, err := s.User("v").Lock(ctx)
	require.NoError(t, err)
	defer other()
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, u.Save(lctx, tok))
	_, err = u.Load(lctx)
	require.NoError(t, err)
}

// Package pgstore keeps the OAuth 2.0 tokens of many HMRC users, and the
// records of agentsync planners, in PostgreSQL, for applications that run
// several instances (on one machine or many) over one database.
//
// A Store owns one table (vat_tokens by default, with <name>_schema and
// <name>_planner beside it), created or migrated by New. Store.User returns
// the vat.TokenStore of one user, which also implements
// vat.TokenStoreLocker: vat.UserTokenSource holds its lock from reading the
// token to saving the refreshed one, so that only one instance ever spends
// a user's single-use refresh token. The lock is a PostgreSQL session
// advisory lock held on a connection of its own: if the process holding it
// dies, PostgreSQL ends the session and the lock is free again.
//
// Store.Planner returns the agentsync.Store of one agentsync.Planner,
// scoped by an owner (the agent firm's ID in a multi-tenant application), so
// that a planner restarted on any instance resumes its schedule instead of
// fetching every client again. Its records are kept in the table
// <name>_planner, one row per owner and VRN, encrypted as tokens are. Two
// planners on one owner would fetch everything twice: PlannerStore.Lead
// elects the one instance that runs an owner's planner, holding a session
// advisory lock as a user's lock does, and another instance waiting in Lead
// takes over when the leader releases the lock or its session ends.
//
// Tokens and planner records are encrypted at rest with AES-256-GCM under
// keys the application supplies (WithKeys), bound to their user (a token)
// or to their owner and VRN (a record), so that a row copied to another
// fails to decrypt. Each row names the ID of the key it was written with,
// so keys can be rotated: give the new key first and the old ones after;
// rows are read with whichever key wrote them and written again with the
// first key when they are next saved (every refresh saves a token, every
// fetch a record). A Store refuses to start without a key unless told to
// keep plain text (AllowPlaintext).
//
// Errors never contain tokens, records or keys, and the types holding keys
// print them as [REDACTED].
package pgstore

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"regexp"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
)

// Key is an AES-256 key for encrypting tokens and planner records at rest,
// with the ID stored beside each row it encrypts. It prints as its ID only.
type Key struct {
	// ID names the key in each row it encrypts: 1 to 64 ASCII letters,
	// digits, '.', '_' or '-'. Never reuse an ID for different key bytes.
	ID string
	// Secret is the key: 32 random bytes. Keep it out of the database.
	Secret []byte
}

// String returns the key's ID, never its secret.
func (k Key) String() string { return "pgstore.Key{ID: " + k.ID + ", Secret: [REDACTED]}" }

// GoString is like String, for %#v.
func (k Key) GoString() string { return k.String() }

// Format prints the key as String does, whatever the verb.
func (k Key) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(k.String())) }

// MarshalJSON writes the key's ID only.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct{ ID, Secret string }{k.ID, "[REDACTED]"})
}

// An Option configures New.
type Option func(*config) error

type config struct {
	table       string
	keys        []Key
	plaintext   bool
	lockTimeout time.Duration
}

var identPattern = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,47}$`)
var keyIDPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// WithTable sets the name of the table (default vat_tokens): lower-case
// letters, digits and '_', at most 48 characters. Its migration record is
// kept in the table <name>_schema, and planner records (Store.Planner) in
// <name>_planner.
func WithTable(name string) Option {
	return func(c *config) error {
		if !identPattern.MatchString(name) {
			return fmt.Errorf("pgstore: WithTable: %q is not a plain lower-case SQL name of at most 48 characters", name)
		}
		c.table = name
		return nil
	}
}

// WithKeys sets the keys that encrypt tokens and planner records: the first
// writes, all of them read. Add a new key at the front to rotate; drop an
// old one only once no row names it any more (Store.KeyUsage tells).
func WithKeys(keys ...Key) Option {
	return func(c *config) error {
		if len(keys) == 0 {
			return errors.New("pgstore: WithKeys: no key")
		}
		seen := map[string]bool{}
		for i, k := range keys {
			if !keyIDPattern.MatchString(k.ID) {
				return fmt.Errorf("pgstore: WithKeys: key %d: ID %q must be 1 to 64 ASCII letters, digits, '.', '_' or '-'", i, k.ID)
			}
			if len(k.Secret) != 32 {
				return fmt.Errorf("pgstore: WithKeys: key %q: secret is %d bytes, want 32 (AES-256)", k.ID, len(k.Secret))
			}
			if seen[k.ID] {
				return fmt.Errorf("pgstore: WithKeys: key ID %q given twice", k.ID)
			}
			seen[k.ID] = true
		}
		c.keys = make([]Key, len(keys))
		for i, k := range keys {
			c.keys[i] = Key{ID: k.ID, Secret: append([]byte(nil), k.Secret...)}
		}
		return nil
	}
}

// AllowPlaintext lets a Store without keys keep tokens and planner records
// as plain JSON (with the key ID ""). Use it only where the database itself
// is encrypted and access to it is as closely held as the keys would be.
func AllowPlaintext() Option {
	return func(c *config) error {
		c.plaintext = true
		return nil
	}
}

// WithLockTimeout sets how long Lock waits for a user's lock before giving
// up (default 30 seconds; the caller's context can cut it shorter).
func WithLockTimeout(d time.Duration) Option {
	return func(c *config) error {
		if d <= 0 {
			return fmt.Errorf("pgstore: WithLockTimeout: %v is not positive", d)
		}
		c.lockTimeout = d
		return nil
	}
}

// Store keeps the tokens of many users in one PostgreSQL table. It is safe
// for concurrent use. It prints without its keys.
type Store struct {
	pool        *pgxpool.Pool
	table       string
	lockClass   int64
	write       *sealer // nil: plain text
	read        map[string]*sealer
	lockTimeout time.Duration
}

type sealer struct {
	id   string
	aead cipher.AEAD
}

// Format prints the Store's table, never its keys.
func (s *Store) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "pgstore.Store{table: %s, keys: [REDACTED]}", s.table)
}

// migrations are the schema's versions in order: migrations[v-1] takes a
// table from version v-1 to v. Never change one that was released; add the
// next.
var migrations = []string{
	// 1: one row per user.
	`CREATE TABLE {t} (
		user_key   text PRIMARY KEY,
		key_id     text NOT NULL,
		token      bytea NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now()
	)`,
	// 2: planner records (Store.Planner), one row per owner and VRN.
	`CREATE TABLE {t}_planner (
		owner      text,
		vrn        text,
		key_id     text NOT NULL,
		record     bytea NOT NULL,
		updated_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (owner, vrn)
	)`,
}

// New returns a Store on pool, creating its table or migrating it to the
// newest version. It refuses a database migrated by a newer version of this
// package, and a configuration without keys unless AllowPlaintext is given.
// Concurrent calls from several instances are safe: the migration runs under
// a transaction-scoped advisory lock.
func New(ctx context.Context, pool *pgxpool.Pool, opts ...Option) (*Store, error) {
	return newStore(ctx, pool, len(migrations), opts)
}

// newStore is New, migrating the table to schema version target.
func newStore(ctx context.Context, pool *pgxpool.Pool, target int, opts []Option) (*Store, error) {
	if pool == nil {
		return nil, errors.New("pgstore: New: nil pool")
	}
	cfg := config{table: "vat_tokens", lockTimeout: 30 * time.Second}
	for _, o := range opts {
		if o == nil {
			return nil, errors.New("pgstore: New: nil Option")
		}
		if err := o(&cfg); err != nil {
			return nil, err
		}
	}
	if len(cfg.keys) == 0 && !cfg.plaintext {
		return nil, errors.New("pgstore: New: no encryption key: pass pgstore.WithKeys, or pgstore.AllowPlaintext to store tokens unencrypted")
	}
	if len(cfg.keys) > 0 && cfg.plaintext {
		return nil, errors.New("pgstore: New: WithKeys and AllowPlaintext together: choose one")
	}
	s := &Store{pool: pool, table: cfg.table, lockTimeout: cfg.lockTimeout, read: map[string]*sealer{}}
	h := fnv.New64a()
	h.Write([]byte("github.com/go-mtd/vat/pgstore:" + cfg.table))
	s.lockClass = int64(h.Sum64())
	for i, k := range cfg.keys {
		block, err := aes.NewCipher(k.Secret)
		if err != nil {
			return nil, fmt.Errorf("pgstore: key %q: %w", k.ID, err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("pgstore: key %q: %w", k.ID, err)
		}
		sl := &sealer{id: k.ID, aead: aead}
		s.read[k.ID] = sl
		if i == 0 {
			s.write = sl
		}
	}
	if err := s.migrate(ctx, target); err != nil {
		return nil, err
	}
	return s, nil
}

// seal encrypts plain with the write key, bound to the associated data
// ad(keyID); without a write key (AllowPlaintext) it returns plain with the
// key ID "".
func (s *Store) seal(plain []byte, ad func(keyID string) []byte) (keyID string, data []byte, err error) {
	sl := s.write
	if sl == nil {
		return "", plain, nil
	}
	nonce := make([]byte, sl.aead.NonceSize(), sl.aead.NonceSize()+len(plain)+sl.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", nil, fmt.Errorf("pgstore: %w", err)
	}
	return sl.id, sl.aead.Seal(nonce, nonce, plain, ad(sl.id)), nil
}

// open returns the plain text of data, written with the key keyID ("":
// plain text) and bound to ad(keyID). what names the value in errors (as
// in: the token of user "u") and must not quote it.
func (s *Store) open(keyID string, data []byte, ad func(keyID string) []byte, what string) ([]byte, error) {
	if keyID == "" {
		return data, nil // plain text: read it, and encrypt it on the next save
	}
	sl := s.read[keyID]
	if sl == nil {
		return nil, fmt.Errorf("%w: %s was encrypted with key ID %q, which this Store was not given", ErrUndecryptable, what, keyID)
	}
	ns := sl.aead.NonceSize()
	if len(data) < ns+sl.aead.Overhead() {
		return nil, fmt.Errorf("%w: %s is truncated", ErrUndecryptable, what)
	}
	plain, err := sl.aead.Open(nil, data[:ns], data[ns:], ad(keyID))
	if err != nil {
		return nil, fmt.Errorf("%w: %s fails authentication under key ID %q", ErrUndecryptable, what, keyID)
	}
	return plain, nil
}

func (s *Store) sql(q string) string {
	out := make([]byte, 0, len(q)+len(s.table))
	for i := 0; i < len(q); i++ {
		if q[i] == '{' && i+2 < len(q) && q[i+1] == 't' && q[i+2] == '}' {
			out = append(out, s.table...)
			i += 2
			continue
		}
		out = append(out, q[i])
	}
	return string(out)
}

// migrate brings the table to version target (or leaves a newer one that
// this package knows as it is). New migrates to the newest version; tests
// migrate to older ones.
func (s *Store) migrate(ctx context.Context, target int) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, s.lockClass); err != nil {
		return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
	}
	if _, err := tx.Exec(ctx, s.sql(`CREATE TABLE IF NOT EXISTS {t}_schema (version integer NOT NULL)`)); err != nil {
		return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
	}
	var version int
	err = tx.QueryRow(ctx, s.sql(`SELECT version FROM {t}_schema`)).Scan(&version)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		if _, err := tx.Exec(ctx, s.sql(`INSERT INTO {t}_schema (version) VALUES (0)`)); err != nil {
			return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
		}
	case err != nil:
		return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
	}
	if version > len(migrations) {
		return fmt.Errorf("pgstore: table %s is at schema version %d, newer than this package knows (%d): upgrade github.com/go-mtd/vat", s.table, version, len(migrations))
	}
	for v := version; v < target; v++ {
		if _, err := tx.Exec(ctx, s.sql(migrations[v])); err != nil {
			return fmt.Errorf("pgstore: migrating table %s to version %d: %w", s.table, v+1, err)
		}
	}
	if _, err := tx.Exec(ctx, s.sql(`UPDATE {t}_schema SET version = $1`), max(version, target)); err != nil {
		return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("pgstore: migrating table %s: %w", s.table, err)
	}
	return nil
}

// SchemaVersion returns the schema version New migrates a table to.
func SchemaVersion() int { return len(migrations) }

func checkUserKey(key string) error { return checkName("user key", key) }

// checkName checks a user key or planner owner (field names it in the
// error): 1 to 256 bytes of UTF-8 without NUL.
func checkName(field, name string) error {
	if name == "" || len(name) > 256 || !utf8.ValidString(name) {
		return fmt.Errorf("pgstore: %s must be 1 to 256 bytes of UTF-8, got %d bytes", field, len(name))
	}
	for _, r := range name {
		if r == 0 {
			return fmt.Errorf("pgstore: %s contains a NUL byte", field)
		}
	}
	return nil
}

// User returns the token store of the user the application knows as key
// (an account number, a tenant and customer ID): 1 to 256 bytes of UTF-8.
// An invalid key gives a store whose every method returns the error.
func (s *Store) User(key string) *UserStore {
	return &UserStore{s: s, key: key, err: checkUserKey(key)}
}

// Delete removes the token of the user key, as when the customer
// disconnects the application from HMRC. Deleting a user with no token is
// not an error. Take the user's lock first (UserStore.Lock) if a refresh
// may be under way elsewhere.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := checkUserKey(key); err != nil {
		return err
	}
	if _, err := s.pool.Exec(ctx, s.sql(`DELETE FROM {t} WHERE user_key = $1`), key); err != nil {
		return fmt.Errorf("pgstore: deleting the token of user %q: %w", key, err)
	}
	return nil
}

// KeyUsage returns how many rows each key ID encrypts ("" counts plain-text
// rows), so that an old key can be dropped once no row names it. It counts
// the rows of tokens and of planner records (of every owner) together.
func (s *Store) KeyUsage(ctx context.Context) (map[string]int, error) {
	rows, err := s.pool.Query(ctx, s.sql(`SELECT key_id, count(*) FROM (
		SELECT key_id FROM {t} UNION ALL SELECT key_id FROM {t}_planner) AS r GROUP BY key_id`))
	if err != nil {
		return nil, fmt.Errorf("pgstore: counting rows per key: %w", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("pgstore: counting rows per key: %w", err)
		}
		out[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: counting rows per key: %w", err)
	}
	return out, nil
}

// UserStore is the vat.TokenStore of one user in a Store; it implements
// vat.TokenStoreLocker too. It is safe for concurrent use.
type UserStore struct {
	s   *Store
	key string
	err error
}

var (
	_ vat.TokenStore       = (*UserStore)(nil)
	_ vat.TokenStoreLocker = (*UserStore)(nil)
)

// Format prints the user's key and table, never a key or token.
func (u *UserStore) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "pgstore.UserStore{table: %s, user: %q}", u.s.table, u.key)
}

// ErrUndecryptable reports a stored token or planner record that the Store's
// keys cannot decrypt: written with a key the Store was not given, altered,
// or copied from another user's row (or another owner's or VRN's).
var ErrUndecryptable = errors.New("pgstore: stored data cannot be decrypted")

// Load returns the user's token, or an error matching vat.ErrNoToken when
// none is stored.
func (u *UserStore) Load(ctx context.Context) (*oauth2.Token, error) {
	if u.err != nil {
		return nil, u.err
	}
	var keyID string
	var data []byte
	err := u.s.pool.QueryRow(ctx, u.s.sql(`SELECT key_id, token FROM {t} WHERE user_key = $1`), u.key).Scan(&keyID, &data)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("%w for user %q", vat.ErrNoToken, u.key)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: loading the token of user %q: %w", u.key, err)
	}
	plain, err := u.s.open(keyID, data, u.aad, fmt.Sprintf("the token of user %q", u.key))
	if err != nil {
		return nil, err
	}
	var tok oauth2.Token
	if err := json.Unmarshal(plain, &tok); err != nil || (tok.AccessToken == "" && tok.RefreshToken == "") {
		return nil, fmt.Errorf("pgstore: the stored token of user %q is not a token", u.key)
	}
	return &tok, nil
}

func (u *UserStore) aad(keyID string) []byte {
	return []byte(u.s.table + "\x00" + u.key + "\x00" + keyID)
}

// Save stores tok as the user's token (encrypted with the first key), in
// one committed statement: the previous token stays if it fails.
func (u *UserStore) Save(ctx context.Context, tok *oauth2.Token) error {
	if u.err != nil {
		return u.err
	}
	if tok == nil || (tok.AccessToken == "" && tok.RefreshToken == "") {
		return errors.New("pgstore: cannot save a token with neither an access token nor a refresh token")
	}
	c := *tok
	c.ExpiresIn = 0
	plain, err := json.Marshal(&c)
	if err != nil {
		return fmt.Errorf("pgstore: encoding the token of user %q: %w", u.key, err)
	}
	keyID, data, err := u.s.seal(plain, u.aad)
	if err != nil {
		return err
	}
	_, err = u.s.pool.Exec(ctx, u.s.sql(`INSERT INTO {t} (user_key, key_id, token, updated_at) VALUES ($1, $2, $3, now())
		ON CONFLICT (user_key) DO UPDATE SET key_id = EXCLUDED.key_id, token = EXCLUDED.token, updated_at = now()`), u.key, keyID, data)
	if err != nil {
		return fmt.Errorf("pgstore: saving the token of user %q: %w", u.key, err)
	}
	return nil
}

// Delete removes the user's token (see Store.Delete).
func (u *UserStore) Delete(ctx context.Context) error {
	if u.err != nil {
		return u.err
	}
	return u.s.Delete(ctx, u.key)
}

// Lock takes the user's lock, shared by every Store on the same table in
// any process on any machine, waiting no longer than the lock timeout
// (WithLockTimeout) or ctx. The lock is a session advisory lock held on a
// connection of its own, opened with the pool's configuration but outside
// the pool, so that holding locks never starves Load and Save of
// connections. If the process dies, PostgreSQL releases the lock when that
// connection closes. The returned func releases the lock and closes the
// connection; it is safe to call more than once.
func (u *UserStore) Lock(ctx context.Context) (unlock func(), err error) {
	if u.err != nil {
		return nil, u.err
	}
	wctx, cancel := context.WithTimeout(ctx, u.s.lockTimeout)
	defer cancel()
	id := u.lockID()
	conn, err := u.s.lockConn(wctx, id, "pgstore user lock")
	if err != nil {
		return nil, u.lockErr(ctx, wctx, err)
	}
	var once sync.Once
	return func() { once.Do(func() { unlockConn(conn, id) }) }, nil
}

// lockConn opens a connection with the pool's configuration but outside
// the pool, named app in pg_stat_activity (its application_name), and
// takes the session advisory lock id on it, waiting as long as ctx allows:
// the connection's lock_timeout and statement_timeout are turned off,
// whatever the pool's configuration sets.
func (s *Store) lockConn(ctx context.Context, id int64, app string) (*pgx.Conn, error) {
	cfg := s.pool.Config().ConnConfig.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = app
	cfg.RuntimeParams["lock_timeout"] = "0"
	cfg.RuntimeParams["statement_timeout"] = "0"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, id); err != nil {
		// Closing the session releases the lock, should it have been
		// granted as the wait was cancelled.
		closeConn(conn)
		return nil, err
	}
	return conn, nil
}

// unlockConn releases the lock id taken by lockConn and closes conn.
func unlockConn(conn *pgx.Conn, id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Unlock at once for the next waiter; closing the session would
	// release the lock too, a little later.
	_, _ = conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, id)
	_ = conn.Close(ctx)
}

// closeConn closes conn, which releases its session's locks, waiting no
// more than a few seconds for a broken connection.
func closeConn(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_ = conn.Close(ctx)
}

func (u *UserStore) lockErr(ctx, wctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("pgstore: waiting for the lock of user %q: %w", u.key, ctx.Err())
	}
	if wctx.Err() != nil {
		return fmt.Errorf("pgstore: waiting for the lock of user %q: not free after %v: %w", u.key, u.s.lockTimeout, context.DeadlineExceeded)
	}
	return fmt.Errorf("pgstore: locking user %q: %w", u.key, err)
}

// lockID is the advisory lock key of the user: a 64-bit hash of the table
// and user key. Two users sharing a hash would only take turns.
func (u *UserStore) lockID() int64 { return u.s.lockID(u.key) }

// lockID hashes the table and parts into an advisory lock key: the table
// and the parts, each after a NUL. A user's key is its one part, which
// cannot contain NUL, so a key of several parts is never a user's.
func (s *Store) lockID(parts ...string) int64 {
	h := fnv.New64a()
	h.Write([]byte(s.table))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write([]byte(p))
	}
	return int64(h.Sum64())
}

package crossproc_test

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mtd/vat/internal/testservers"
	"github.com/go-mtd/vat/pgstore"
	"github.com/go-mtd/vat/vattest"
)

var (
	pg    *testservers.Postgres
	pgErr error
	rs    *testservers.Redis
	rsErr error
)

func TestMain(m *testing.M) {
	if os.Getenv(envWorker) != "" {
		os.Exit(workerMain())
	}
	srv := testservers.StartSet("crossproc", true, true)
	pg, pgErr = srv.Postgres, srv.PostgresErr
	rs, rsErr = srv.Redis, srv.RedisErr
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// worker is a worker process seen from the test.
type worker struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *json.Decoder
}

func (w *worker) send(t *testing.T, line string) {
	t.Helper()
	_, err := fmt.Fprintln(w.in, line)
	require.NoError(t, err)
}

func (w *worker) receive(t *testing.T) report {
	t.Helper()
	var r report
	require.NoError(t, w.out.Decode(&r), "worker %d's report", w.cmd.Process.Pid)
	return r
}

// phase is the outcome of one command sent to every live worker.
type phase struct {
	ok, signIn int
	errors     []string
	slots      []int64
}

func runPhase(t *testing.T, ws []*worker, calls int) phase {
	t.Helper()
	for _, w := range ws {
		w.send(t, fmt.Sprintf("run %d", calls))
	}
	var p phase
	for _, w := range ws {
		r := w.receive(t)
		p.ok += r.OK
		p.signIn += r.SignIn
		p.errors = append(p.errors, r.Errors...)
		p.slots = append(p.slots, r.Slots...)
	}
	return p
}

// maxInWindow returns the most times in any half-open window of w.
func maxInWindow(times []time.Time, w time.Duration) int {
	s := slices.Clone(times)
	slices.SortFunc(s, func(a, b time.Time) int { return a.Compare(b) })
	best, j := 0, 0
	for i := range s {
		for s[i].Sub(s[j]) >= w {
			j++
		}
		best = max(best, i-j+1)
	}
	return best
}

// TestProcessesShareStoreAndLimiter runs worker processes, each with many
// goroutines, calling the simulator for the same users through one
// PostgreSQL token store and one Redis limiter. Each time the server's clock
// passes the access tokens' expiry, every user's token is refreshed exactly
// once among all processes, no refresh token is spent twice (no
// invalid_grant) and no user is asked to sign in again. The limiter's slots,
// on Redis's clock, never put more than the shared rate in one second. A
// worker killed while holding a user's lock does not stop the others; with
// PostgreSQL or Redis stopped, calls fail with errors naming the cause, and
// when the server is back they recover with no token lost.
func TestProcessesShareStoreAndLimiter(t *testing.T) {
	testservers.Require(t, pgErr)
	testservers.Require(t, rsErr)
	const (
		procs      = 3
		goroutines = 8
		users      = 4
		perSecond  = 20
		calls      = 2 // per goroutine per phase
	)
	ctx := context.Background()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(perSecond))

	// Sign the users in and store their tokens, encrypted.
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	pool, err := pgxpool.New(ctx, pg.URL)
	require.NoError(t, err)
	defer pool.Close()
	store, err := pgstore.New(ctx, pool, pgstore.WithKeys(pgstore.Key{ID: "k1", Secret: secret}))
	require.NoError(t, err)
	var userEnv []string
	for i := range users {
		u, tok := srv.TestOrganisation(t, vattest.Organisation{})
		key := fmt.Sprintf("tenant-%d/customer-%d", i%2, i)
		require.NoError(t, store.User(key).Save(ctx, tok.OAuth2()))
		userEnv = append(userEnv, key+"="+u.VRN)
	}
	app := srv.DefaultApplication()

	exe, err := os.Executable()
	require.NoError(t, err)
	var ws []*worker
	for i := range procs {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(),
			envWorker+"="+fmt.Sprint(i+1), envPG+"="+pg.URL, envRedis+"="+rs.Addr, envSim+"="+srv.URL,
			envClient+"="+app.ClientID+" "+app.ClientSecret, envKey+"="+hex.EncodeToString(secret),
			envUsers+"="+strings.Join(userEnv, " "), envRate+"="+fmt.Sprint(perSecond), envGoroutine+"="+fmt.Sprint(goroutines))
		cmd.Stderr = os.Stderr
		in, err := cmd.StdinPipe()
		require.NoError(t, err)
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		w := &worker{cmd: cmd, in: in, out: json.NewDecoder(bufio.NewReader(out))}
		ws = append(ws, w)
		t.Cleanup(func() { w.in.Close(); _ = w.cmd.Process.Kill(); _ = w.cmd.Wait() })
	}
	t.Logf("%d processes × %d goroutines, %d users, shared rate %d/s", procs, goroutines, users, perSecond)

	var allSlots []int64
	tokenCalls := func() (ok, invalidGrant int) {
		for _, r := range srv.Requests() {
			if r.Path == "/oauth/token" {
				switch r.Status {
				case 200:
					ok++
				case 400:
					invalidGrant++
				}
			}
		}
		return ok, invalidGrant
	}
	expiries := 0
	expire := func() {
		srv.Advance(4*time.Hour + time.Minute)
		expiries++
	}
	clean := func(name string, p phase) {
		t.Helper()
		allSlots = append(allSlots, p.slots...)
		assert.Empty(t, p.errors, "%s: errors", name)
		assert.Zero(t, p.signIn, "%s: users asked to sign in again", name)
		assert.Equal(t, len(ws)*goroutines*calls, p.ok, "%s: successful calls", name)
	}

	// 1. Tokens as signed in; 2. after each expiry, exactly one refresh per
	// user among all processes.
	clean("fresh tokens", runPhase(t, ws, calls))
	for range 2 {
		expire()
		clean("after expiry", runPhase(t, ws, calls))
		refreshed, invalid := tokenCalls()
		require.Equal(t, users*expiries, refreshed, "refreshes after %d expiries of %d users", expiries, users)
		require.Zero(t, invalid, "invalid_grant answers")
	}

	// 3. A worker dies holding a user's lock: the others go on within the
	// lock timeout, since PostgreSQL ends the dead session and its lock.
	victim := ws[len(ws)-1]
	victim.send(t, "hold tenant-0/customer-0")
	require.True(t, victim.receive(t).Holding)
	require.NoError(t, victim.cmd.Process.Kill())
	_ = victim.cmd.Wait()
	ws = ws[:len(ws)-1]
	expire()
	clean("after a lock holder died", runPhase(t, ws, calls))
	refreshed, invalid := tokenCalls()
	require.Equal(t, users*expiries, refreshed)
	require.Zero(t, invalid)

	// 4. PostgreSQL stops: calls needing the store fail, saying so.
	require.NoError(t, pg.StopServer())
	expire()
	p := runPhase(t, ws, 1)
	allSlots = append(allSlots, p.slots...)
	require.NotEmpty(t, p.errors)
	for _, e := range p.errors {
		assert.Contains(t, e, "pgstore:", "error without its cause")
	}
	assert.Zero(t, p.signIn)
	// Back up: the tokens stored before are still good.
	require.NoError(t, pg.Start())
	clean("after PostgreSQL restarted", runPhase(t, ws, calls))
	refreshed, invalid = tokenCalls()
	require.Equal(t, users*expiries, refreshed, "one refresh per user for the expiry during the outage")
	require.Zero(t, invalid)

	// 5. Redis stops: no call is sent unpaced.
	before := len(srv.Requests())
	rs.StopServer()
	p = runPhase(t, ws, 1)
	require.Len(t, p.errors, len(ws)*goroutines)
	for _, e := range p.errors {
		assert.Contains(t, e, "redislimit: Redis is unavailable")
	}
	assert.Equal(t, before, len(srv.Requests()), "requests sent while the limiter was down")
	require.NoError(t, rs.Start())
	expire()
	clean("after Redis restarted", runPhase(t, ws, calls))
	refreshed, invalid = tokenCalls()
	require.Equal(t, users*expiries, refreshed)
	require.Zero(t, invalid)

	// The shared schedule: never more than the rate in one second of
	// Redis's clock, whatever the load on this machine.
	slots := make([]time.Time, len(allSlots))
	for i, s := range allSlots {
		slots[i] = time.UnixMicro(s)
	}
	maxSlots := maxInWindow(slots, time.Second)
	assert.LessOrEqual(t, maxSlots, perSecond, "limiter slots in one second")

	// What the simulator saw, on its clock (reported, not asserted: a
	// request can leave its slot late on a busy machine).
	var seen []time.Time
	throttled := 0
	for _, r := range srv.Requests() {
		if !strings.HasPrefix(r.Path, "/oauth/") {
			seen = append(seen, r.Time)
			if r.Status == 429 {
				throttled++
			}
		}
	}
	t.Logf("API requests %d, refreshes %d over %d expiries, invalid_grant %d, limiter slots %d (max %d in any second), server saw max %d in any second, 429s %d",
		len(seen), refreshed, expiries, invalid, len(slots), maxSlots, maxInWindow(seen, time.Second), throttled)

	var pgVersion string
	require.NoError(t, pool.QueryRow(ctx, "SHOW server_version").Scan(&pgVersion))
	rc := redis.NewClient(&redis.Options{Addr: rs.Addr})
	defer rc.Close()
	info, err := rc.Info(ctx, "server").Result()
	require.NoError(t, err)
	for _, l := range strings.Split(info, "\n") {
		if strings.HasPrefix(l, "redis_version:") {
			t.Logf("servers: PostgreSQL server_version %s, Redis %s", pgVersion, strings.TrimSpace(l))
		}
	}
}

package pgstore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
	"github.com/go-mtd/vat/pgstore"
	"github.com/go-mtd/vat/vattest"
)

// patience bounds every wait for an event, generously for a busy machine.
const patience = time.Minute

// bounded returns a context that ends after patience, so that a Lead that
// should not wait fails the test instead of hanging it.
func bounded(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	t.Cleanup(cancel)
	return ctx
}

// waitFor polls cond until it holds, failing the test after patience.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(patience)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting after %v: %s", patience, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// storeOn returns a Store on pool and table encrypting with the key k1, as
// another instance of the application would open it.
func storeOn(t *testing.T, pool *pgxpool.Pool, table string) *pgstore.Store {
	t.Helper()
	s, err := pgstore.New(context.Background(), pool, pgstore.WithTable(table), pgstore.WithKeys(key("k1", 1)))
	require.NoError(t, err)
	return s
}

// plannerLockPIDs returns the backends of "pgstore planner lock"
// connections holding (granted) or waiting for (!granted) the advisory
// lock key, as pg_locks shows it: the high and low 32 bits of the key in
// classid and objid.
func plannerLockPIDs(t *testing.T, pool *pgxpool.Pool, key int64, granted bool) []int32 {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT l.pid FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND ((l.classid::bigint << 32) | l.objid::bigint) = $1
		AND l.granted = $2 AND a.application_name = 'pgstore planner lock'`, key, granted)
	require.NoError(t, err)
	var pids []int32
	for rows.Next() {
		var pid int32
		require.NoError(t, rows.Scan(&pid))
		pids = append(pids, pid)
	}
	require.NoError(t, rows.Err())
	return pids
}

type leadResult struct {
	lead    context.Context
	release func()
	err     error
}

// leadAsync calls p.Lead(ctx) in a goroutine and delivers its result.
func leadAsync(ctx context.Context, p *pgstore.PlannerStore) <-chan leadResult {
	got := make(chan leadResult, 1)
	go func() {
		lead, release, err := p.Lead(ctx)
		got <- leadResult{lead, release, err}
	}()
	return got
}

func receive[T any](t *testing.T, what string, c <-chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(patience):
		t.Fatalf("still waiting after %v: %s", patience, what)
		panic("unreachable")
	}
}

// TestLeadIsExclusiveAndHandedOver: of two instances (their own pools and
// Stores on one table) the second cannot lead the owner's planner while the
// first does, gives up when its context ends with an error naming the
// owner, and, waiting as a standby, leads once the first releases.
func TestLeadIsExclusiveAndHandedOver(t *testing.T) {
	ctx := bounded(t)
	poolA, table := newPool(t)
	poolB, _ := newPool(t)
	a, b := storeOn(t, poolA, table).Planner("firm-1"), storeOn(t, poolB, table).Planner("firm-1")
	require.Equal(t, a.LockID(), b.LockID())

	leadA, releaseA, err := a.Lead(ctx)
	require.NoError(t, err)
	defer releaseA()
	require.Len(t, plannerLockPIDs(t, poolA, a.LockID(), true), 1, "A holds the lock, on a connection named for it")

	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	lead, release, err := b.Lead(short)
	cancel()
	require.ErrorIs(t, err, context.DeadlineExceeded, "A holds the lock")
	assert.True(t, strings.HasPrefix(err.Error(), "pgstore: "), err.Error())
	assert.Contains(t, err.Error(), `"firm-1"`)
	assert.Nil(t, lead)
	assert.Nil(t, release)
	assert.NoError(t, leadA.Err(), "A still leads")

	// B's cancelled wait is gone; B waits again, as a standby.
	waitFor(t, "the cancelled wait to end", func() bool { return len(plannerLockPIDs(t, poolA, a.LockID(), false)) == 0 })
	got := leadAsync(ctx, b)
	waitFor(t, "B to wait for the lock", func() bool { return len(plannerLockPIDs(t, poolA, a.LockID(), false)) == 1 })
	select {
	case r := <-got:
		t.Fatalf("B's Lead returned while A leads: %v", r.err)
	default:
	}

	releaseA()
	require.Error(t, leadA.Err(), "A's lead ends with its release")
	assert.Contains(t, context.Cause(leadA).Error(), "released")
	r := receive(t, "B to lead", got)
	require.NoError(t, r.err)
	defer r.release()
	assert.NoError(t, r.lead.Err())
	assert.Len(t, plannerLockPIDs(t, poolA, a.LockID(), true), 1)
	r.release()
	assert.Error(t, r.lead.Err())
}

// TestLeadWaitsWhateverThePoolsTimeouts: a pool whose connections set a
// short lock_timeout and statement_timeout does not cut Lead's wait (nor a
// user's Lock) short: it ends with the caller's context.
func TestLeadWaitsWhateverThePoolsTimeouts(t *testing.T) {
	ctx := bounded(t)
	poolA, table := newPool(t)
	cfg := poolA.Config()
	cfg.ConnConfig.RuntimeParams["lock_timeout"] = "20ms"
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = "20ms"
	poolB, err := pgxpool.NewWithConfig(ctx, cfg)
	require.NoError(t, err)
	defer poolB.Close()
	var timeout string
	require.NoError(t, poolB.QueryRow(ctx, `SHOW lock_timeout`).Scan(&timeout))
	require.Equal(t, "20ms", timeout, "the pool's connections have the short timeouts")
	a := storeOn(t, poolA, table)
	b, err := pgstore.New(ctx, poolB, pgstore.WithTable(table), pgstore.WithKeys(key("k1", 1)), pgstore.WithLockTimeout(time.Minute))
	require.NoError(t, err)

	_, release, err := a.Planner("firm-1").Lead(ctx)
	require.NoError(t, err)
	defer release()
	unlock, err := a.User("u").Lock(ctx)
	require.NoError(t, err)
	defer unlock()

	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	_, _, err = b.Planner("firm-1").Lead(short)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the wait ends with the context, not a server timeout")
	_, err = b.User("u").Lock(short)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the wait ends with the context, not a server timeout")
}

// TestLeadOfOtherOwnersAndUsersIsIndependent: the planners of two owners,
// the same owner on another table and the user lock of a user named as the
// owner are all held at once.
func TestLeadOfOtherOwnersAndUsersIsIndependent(t *testing.T) {
	ctx := bounded(t)
	pool, table := newPool(t)
	_, _, other := newKeyedStore(t) // another table
	s := storeOn(t, pool, table)
	for _, p := range []*pgstore.PlannerStore{s.Planner("firm-1"), s.Planner("firm-2"), other.Planner("firm-1")} {
		lead, release, err := p.Lead(ctx)
		require.NoError(t, err, "%v", p)
		defer release()
		assert.NoError(t, lead.Err())
	}
	unlock, err := s.User("firm-1").Lock(ctx)
	require.NoError(t, err, "a user's lock is not a planner's")
	defer unlock()
	var users int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgstore user lock'`).Scan(&users))
	assert.Equal(t, 1, users, "the user's lock is on a connection named for it")
	assert.NotEqual(t, s.Planner("firm-1").LockID(), other.Planner("firm-1").LockID())
}

// TestLeadEndsWhenTheLockIsLost: when the session holding the lock is
// terminated, the lead context ends with ErrLeadLost as its cause, and
// another instance leads.
func TestLeadEndsWhenTheLockIsLost(t *testing.T) {
	pgstore.SetLeadCheckEvery(t, 50*time.Millisecond)
	ctx := bounded(t)
	poolA, table := newPool(t)
	admin, _ := newPool(t)
	a := storeOn(t, poolA, table).Planner("firm-1")
	leadA, releaseA, err := a.Lead(ctx)
	require.NoError(t, err)
	defer releaseA()

	// End A's session, as a database restart or an operator would; no other
	// instance is connected yet.
	var n int
	require.NoError(t, admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM unnest($1::int[]) AS pid`,
		plannerLockPIDs(t, admin, a.LockID(), true)).Scan(&n))
	require.Equal(t, 1, n)
	receive(t, "A's lead to end", leadA.Done())
	cause := context.Cause(leadA)
	require.ErrorIs(t, cause, pgstore.ErrLeadLost)
	assert.Contains(t, cause.Error(), "lost")
	assert.Contains(t, cause.Error(), `"firm-1"`)

	poolB, _ := newPool(t)
	leadB, releaseB, err := storeOn(t, poolB, table).Planner("firm-1").Lead(ctx)
	require.NoError(t, err, "the lost lock is free for another instance")
	defer releaseB()
	assert.NoError(t, leadB.Err())
	releaseA() // after the loss, harmless
	releaseA()
	assert.NoError(t, leadB.Err(), "A's release does not touch B's lock")
	require.ErrorIs(t, context.Cause(leadA), pgstore.ErrLeadLost, "the first cause stays")
}

// instance is an application instance running the owner's planner in a
// leadership loop as Lead's documentation shows, with a new Planner for each
// term; instead of Planner.Run, which waits with real timers, it runs the
// functions the test sends it, as long as it leads.
type instance struct {
	do   chan func(lead context.Context, p *agentsync.Planner)
	done chan struct{}
	stop context.CancelFunc
}

func startInstance(t *testing.T, records *pgstore.PlannerStore, newPlanner func() (*agentsync.Planner, error)) *instance {
	ctx, cancel := context.WithCancel(context.Background())
	in := &instance{do: make(chan func(context.Context, *agentsync.Planner)), done: make(chan struct{}), stop: cancel}
	go func() {
		defer close(in.done)
		for ctx.Err() == nil {
			lead, release, err := records.Lead(ctx)
			if err != nil {
				select { // a little wait before trying again
				case <-ctx.Done():
				case <-time.After(50 * time.Millisecond):
				}
				continue
			}
			planner, err := newPlanner()
			for err == nil && lead.Err() == nil {
				select {
				case f := <-in.do:
					f(lead, planner)
				case <-lead.Done():
				}
			}
			release()
		}
	}()
	t.Cleanup(func() {
		in.stop()
		select {
		case <-in.done:
		case <-time.After(patience):
			t.Errorf("an instance did not stop within %v", patience)
		}
	})
	return in
}

// call runs f in the instance once it leads.
func (in *instance) call(t *testing.T, f func(lead context.Context, p *agentsync.Planner)) {
	t.Helper()
	ran := make(chan struct{})
	select {
	case in.do <- func(lead context.Context, p *agentsync.Planner) { defer close(ran); f(lead, p) }:
	case <-time.After(patience):
		t.Fatalf("the instance did not lead within %v", patience)
	}
	<-ran
}

// leading reports whether the instance leads and is idle; an instance that
// waits in Lead never is.
func (in *instance) leading() bool {
	select {
	case in.do <- func(context.Context, *agentsync.Planner) {}:
		return true
	default:
		return false
	}
}

// TestLeadRunsOnePlannerAcrossInstances: two instances run the owner's
// planner in leadership loops against the vattest simulator; only the
// leader fetches, and when it stops, the other's new planner resumes the
// stored schedule (no first fetch) and goes on fetching.
func TestLeadRunsOnePlannerAcrossInstances(t *testing.T) {
	poolA, table := newPool(t)
	poolB, _ := newPool(t)
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	srv.SetNow(utc("2025-05-20T10:00:00Z"))
	tc := srv.NewClientFor(t, vattest.Organisation{Plan: &vattest.Plan{Period: vattest.Quarterly, Fulfilled: 2, Open: 1}})
	vrn := vat.VRN(tc.User.VRN)
	obligationCalls := func() int {
		n := 0
		for _, r := range srv.Requests() {
			if strings.Contains(r.Path, "/obligations") {
				n++
			}
		}
		return n
	}
	newInstance := func(pool *pgxpool.Pool) *instance {
		records := storeOn(t, pool, table).Planner("firm-1")
		return startInstance(t, records, func() (*agentsync.Planner, error) {
			return agentsync.New(tc.Client, records, agentsync.WithClock(srv.Now))
		})
	}
	total := func(m map[string]int) int {
		n := 0
		for _, v := range m {
			n += v
		}
		return n
	}

	a := newInstance(poolA)
	var next time.Time
	var err error
	var fetches map[string]int
	a.call(t, func(lead context.Context, p *agentsync.Planner) {
		if err = p.Add(lead, vrn); err == nil {
			next, err = p.RunDue(lead)
		}
		fetches = p.Fetches()
	})
	require.NoError(t, err)
	require.Equal(t, map[string]int{agentsync.ReasonFirst: 1}, fetches)
	require.False(t, next.IsZero())

	b := newInstance(poolB)
	lockID := storeOn(t, poolA, table).Planner("firm-1").LockID()
	waitFor(t, "B to wait for the lock", func() bool { return len(plannerLockPIDs(t, poolA, lockID, false)) == 1 })
	assert.False(t, b.leading(), "B waits while A leads")

	// The schedule's next fetch, by the leader only.
	srv.SetNow(next)
	var records []agentsync.Record
	a.call(t, func(lead context.Context, p *agentsync.Planner) {
		next, err = p.RunDue(lead)
		fetches = p.Fetches()
		if err == nil {
			records, err = p.Records(lead)
		}
	})
	require.NoError(t, err)
	require.Equal(t, 2, total(fetches))
	assert.Equal(t, 1, fetches[agentsync.ReasonFirst])
	assert.Equal(t, total(fetches), obligationCalls(), "every fetch was A's")
	require.Len(t, records, 1)
	require.False(t, next.IsZero())
	require.True(t, next.After(srv.Now()))
	assert.False(t, b.leading(), "B still waits")

	// A stops (a deploy, a scale-down); B takes over with a new planner.
	a.stop()
	receive(t, "A to stop", a.done)
	var resumed []agentsync.Record
	var bNext time.Time
	b.call(t, func(lead context.Context, p *agentsync.Planner) {
		if resumed, err = p.Records(lead); err == nil {
			bNext, err = p.RunDue(lead)
		}
		fetches = p.Fetches()
	})
	require.NoError(t, err)
	assert.Equal(t, records, resumed, "B's planner has the records A's saved")
	assert.NotEqual(t, agentsync.ReasonFirst, resumed[0].NextReason)
	assert.Empty(t, fetches, "nothing is due at once after the handover: no first fetch")
	assert.Equal(t, next, bNext, "B resumes A's schedule")
	assert.Equal(t, 2, obligationCalls())

	srv.SetNow(bNext)
	b.call(t, func(lead context.Context, p *agentsync.Planner) {
		_, err = p.RunDue(lead)
		fetches = p.Fetches()
	})
	require.NoError(t, err)
	assert.Equal(t, 1, total(fetches), "B fetches on the schedule")
	assert.Zero(t, fetches[agentsync.ReasonFirst])
	assert.Equal(t, 3, obligationCalls())
}

// TestLeadReleaseIsIdempotentAndLeaksNothing: release may be called more
// than once; the lock outlives the end of Lead's context until release;
// and no goroutine is left once released.
func TestLeadReleaseIsIdempotentAndLeaksNothing(t *testing.T) {
	pgstore.SetLeadCheckEvery(t, 10*time.Millisecond) // the checks run while the tests hold the lock
	poolA, table := newPool(t)
	poolB, _ := newPool(t)
	a, b := storeOn(t, poolA, table).Planner("firm-1"), storeOn(t, poolB, table).Planner("firm-1")
	ignore := goleak.IgnoreCurrent()

	ctx := bounded(t)
	lead, release, err := a.Lead(ctx)
	require.NoError(t, err)
	release()
	release()
	require.Error(t, lead.Err())
	assert.Contains(t, context.Cause(lead).Error(), "released")

	// Ending the parent context ends the lead, but the lock is held until
	// release, so that the planner has stopped before another leads.
	parent, cancel := context.WithCancel(ctx)
	lead, release, err = a.Lead(parent)
	require.NoError(t, err)
	cancel()
	receive(t, "the lead to end with its parent", lead.Done())
	assert.ErrorIs(t, context.Cause(lead), context.Canceled)
	short, cancelShort := context.WithTimeout(ctx, 200*time.Millisecond)
	_, _, err = b.Lead(short)
	cancelShort()
	require.ErrorIs(t, err, context.DeadlineExceeded, "the lock is held until release")
	done := make(chan struct{})
	for range 3 { // concurrent calls
		go func() { release(); done <- struct{}{} }()
	}
	for range 3 {
		receive(t, "release to return", done)
	}
	_, releaseB, err := b.Lead(ctx)
	require.NoError(t, err)
	releaseB()

	deadline := time.Now().Add(patience)
	for err := goleak.Find(ignore); err != nil; err = goleak.Find(ignore) {
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after release: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestLeadRefusesAnInvalidOwnerAtOnce: an invalid owner's Lead returns the
// owner's error before trying anything, even with a context already ended.
func TestLeadRefusesAnInvalidOwnerAtOnce(t *testing.T) {
	_, _, s := newKeyedStore(t)
	ended, cancel := context.WithCancel(context.Background())
	cancel()
	for _, bad := range []string{"", "a\x00b", strings.Repeat("x", 257), "\xff\xfe"} {
		lead, release, err := s.Planner(bad).Lead(ended)
		require.Error(t, err, "owner %q", bad)
		assert.True(t, strings.HasPrefix(err.Error(), "pgstore: planner owner "), err.Error())
		assert.False(t, errors.Is(err, context.Canceled), "the owner is checked first")
		assert.Nil(t, lead)
		assert.Nil(t, release)
	}
	_, _, err := s.Planner("firm-1").Lead(ended)
	require.ErrorIs(t, err, context.Canceled, "a valid owner reaches the wait")
	assert.Contains(t, err.Error(), `"firm-1"`)
}

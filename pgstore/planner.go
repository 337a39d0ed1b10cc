package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
)

// Planner returns the agentsync.Store of the planner the application knows
// as owner (the agent firm's ID in a multi-tenant application): 1 to 256
// bytes of UTF-8 without NUL, as a user key. An invalid owner gives a store
// whose every method returns the error.
//
//	p, err := agentsync.New(client, store.Planner("firm-42"))
func (s *Store) Planner(owner string) *PlannerStore {
	return &PlannerStore{s: s, owner: owner, err: checkName("planner owner", owner)}
}

// PlannerStore is the agentsync.Store of one owner's planner in a Store:
// one row per client (VRN) in the table <name>_planner, holding the JSON of
// its agentsync.Record encrypted as tokens are (see the package
// documentation) and bound to the owner and the VRN. It is safe for
// concurrent use. Two planners on the same owner do not cooperate (each
// would fetch every client): run the owner's agentsync.Planner in the one
// instance that holds its lock (Lead). It prints without keys or records.
type PlannerStore struct {
	s     *Store
	owner string
	err   error
}

var _ agentsync.Store = (*PlannerStore)(nil)

// Format prints the owner and table, never a key or record.
func (p *PlannerStore) Format(f fmt.State, _ rune) {
	_, _ = fmt.Fprintf(f, "pgstore.PlannerStore{table: %s_planner, owner: %q}", p.s.table, p.owner)
}

// aad binds a record's ciphertext to the table, owner, VRN and key ID. Its
// first part, which cannot be a table name, keeps a token's ciphertext from
// passing for a record's.
func (p *PlannerStore) aad(vrn vat.VRN) func(keyID string) []byte {
	return func(keyID string) []byte {
		return []byte("pgstore planner record\x00" + p.s.table + "\x00" + p.owner + "\x00" + string(vrn) + "\x00" + keyID)
	}
}

func (p *PlannerStore) what(vrn vat.VRN) string {
	return fmt.Sprintf("the planner record of VRN %s of owner %q", vrn, p.owner)
}

// checkVRN refuses a VRN that is not nine digits, naming the field.
func checkVRN(method, field string, vrn vat.VRN) error {
	if !vrn.Valid() {
		return fmt.Errorf("pgstore: PlannerStore.%s: %s %.20q is not nine digits", method, field, string(vrn))
	}
	return nil
}

// Load returns every record of the owner, by VRN; none is an empty list.
// A record the Store's keys cannot decrypt fails the whole Load with an
// error matching ErrUndecryptable that names its VRN.
func (p *PlannerStore) Load(ctx context.Context) ([]agentsync.Record, error) {
	if p.err != nil {
		return nil, p.err
	}
	rows, err := p.s.pool.Query(ctx, p.s.sql(`SELECT vrn, key_id, record FROM {t}_planner WHERE owner = $1 ORDER BY vrn COLLATE "C"`), p.owner)
	if err != nil {
		return nil, fmt.Errorf("pgstore: loading the planner records of owner %q: %w", p.owner, err)
	}
	defer rows.Close()
	out := []agentsync.Record{}
	for rows.Next() {
		var vrn, keyID string
		var data []byte
		if err := rows.Scan(&vrn, &keyID, &data); err != nil {
			return nil, fmt.Errorf("pgstore: loading the planner records of owner %q: %w", p.owner, err)
		}
		r, err := p.decode(vat.VRN(vrn), keyID, data)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("pgstore: loading the planner records of owner %q: %w", p.owner, err)
	}
	return out, nil
}

func (p *PlannerStore) decode(vrn vat.VRN, keyID string, data []byte) (agentsync.Record, error) {
	plain, err := p.s.open(keyID, data, p.aad(vrn), p.what(vrn))
	if err != nil {
		return agentsync.Record{}, err
	}
	var r agentsync.Record
	// The decoding error is left out: it may quote the record.
	if err := json.Unmarshal(plain, &r); err != nil {
		return agentsync.Record{}, fmt.Errorf("pgstore: %s is not a record", p.what(vrn))
	}
	if r.VRN != vrn {
		return agentsync.Record{}, fmt.Errorf("pgstore: %s is the record of another VRN", p.what(vrn))
	}
	return r, nil
}

// Put saves r as the record of r.VRN, replacing the one stored, encrypted
// with the first key, in one committed statement.
func (p *PlannerStore) Put(ctx context.Context, r agentsync.Record) error {
	if p.err != nil {
		return p.err
	}
	if err := checkVRN("Put", "record VRN", r.VRN); err != nil {
		return err
	}
	plain, err := json.Marshal(r)
	if err != nil {
		return errors.New("pgstore: encoding " + p.what(r.VRN) + ": not JSON") // the error may quote the record
	}
	keyID, data, err := p.s.seal(plain, p.aad(r.VRN))
	if err != nil {
		return err
	}
	_, err = p.s.pool.Exec(ctx, p.s.sql(`INSERT INTO {t}_planner (owner, vrn, key_id, record, updated_at) VALUES ($1, $2, $3, $4, now())
		ON CONFLICT (owner, vrn) DO UPDATE SET key_id = EXCLUDED.key_id, record = EXCLUDED.record, updated_at = now()`),
		p.owner, string(r.VRN), keyID, data)
	if err != nil {
		return fmt.Errorf("pgstore: saving %s: %w", p.what(r.VRN), err)
	}
	return nil
}

// Delete removes the record of vrn; deleting a missing one is not an error.
func (p *PlannerStore) Delete(ctx context.Context, vrn vat.VRN) error {
	if p.err != nil {
		return p.err
	}
	if err := checkVRN("Delete", "vrn", vrn); err != nil {
		return err
	}
	if _, err := p.s.pool.Exec(ctx, p.s.sql(`DELETE FROM {t}_planner WHERE owner = $1 AND vrn = $2`), p.owner, string(vrn)); err != nil {
		return fmt.Errorf("pgstore: deleting %s: %w", p.what(vrn), err)
	}
	return nil
}

// leadCheckEvery is how often a leader checks the connection holding its
// lock, and leadCheckTimeout how long the check may take.
var leadCheckEvery = 2 * time.Second

const leadCheckTimeout = 2 * time.Second

// plannerLockApp is the application_name of the connections holding or
// waiting for a planner's lock, as pg_stat_activity shows them.
const plannerLockApp = "pgstore planner lock"

// ErrLeadLost is the cause (context.Cause) of a lead context that ended
// because the connection holding the planner's lock failed: the database
// restarted, the connection was cut or its session terminated.
var ErrLeadLost = errors.New("pgstore: the lock of the planner was lost")

// Lead waits until this process holds the lock of the owner's planner
// (shared by every Store on the same table, in any process on any machine)
// and returns a context that ends when the lock is lost or released, for
// running the planner: of several instances calling Lead for one owner,
// one leads and runs the planner while the others wait in Lead, one of
// which takes over when the leader releases the lock or its session ends.
//
//	for ctx.Err() == nil {
//		lead, release, err := records.Lead(ctx)
//		if err != nil {
//			// log err, wait a little
//			continue
//		}
//		// A new Planner for each term: it caches the records, which
//		// another instance may have changed since.
//		planner, err := agentsync.New(client, records, opts...)
//		if err == nil {
//			err = planner.Run(lead) // returns when leadership ends
//		}
//		release()
//	}
//
// Lead waits as long as ctx allows (the lock timeout does not apply: a
// standby instance waits to take over), and returns ctx's error if ctx ends
// first. An invalid owner returns its error at once.
//
// The lock is a PostgreSQL session advisory lock, distinct from the users'
// locks, held on a connection of its own, opened with the pool's
// configuration but outside the pool, with the application_name "pgstore
// planner lock": one connection per owner for each instance leading or
// waiting. PostgreSQL releases it when the session ends: at once when the
// leader's process dies, and, when its machine or network fails, once the
// server's TCP keepalive (tcp_keepalives_idle and the like) or
// tcp_user_timeout gives up on the connection.
//
// While it is held, Lead checks the connection every 2 seconds with a
// query that must answer within 2 seconds. When a check fails, the lead
// context ends with the cause ErrLeadLost and the connection is closed. The
// lead context also ends with ctx, but the lock is kept until release, so
// that the planner stops before another instance starts.
//
// When the session ends under the leader (the database restarted, the
// session was terminated), another instance may take the lock before the
// leader's next check notices: two planners then overlap for at most about
// two check intervals (4 seconds). The planner tolerates that: the worst is
// a fetch made twice, the record saved last winning.
//
// The planner lives in the leading instance only: the application's calls
// that change it (Add, Remove, Submitted, Expect) must be made there, so an
// instance that files a return for a client must pass the news to the
// leader (through a queue or a table the leader reads) rather than write the
// client's record itself, which the leader would overwrite.
//
// release ends the lead context, releases the lock, closes the connection
// and waits for the checks to stop. Call it when the planner has returned,
// even after the lead context ended; it is safe to call more than once.
func (p *PlannerStore) Lead(ctx context.Context) (lead context.Context, release func(), err error) {
	if p.err != nil {
		return nil, nil, p.err
	}
	id := p.lockID()
	conn, err := p.s.lockConn(ctx, id, plannerLockApp)
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, fmt.Errorf("pgstore: waiting for the lock of the planner of owner %q: %w", p.owner, ctx.Err())
		}
		return nil, nil, fmt.Errorf("pgstore: locking the planner of owner %q: %w", p.owner, err)
	}
	every := leadCheckEvery
	lead, cancel := context.WithCancelCause(ctx)
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				unlockConn(conn, id)
				return
			case <-tick.C:
				cctx, ccancel := context.WithTimeout(context.Background(), leadCheckTimeout)
				_, err := conn.Exec(cctx, `SELECT 1`)
				ccancel()
				if err != nil {
					cancel(fmt.Errorf("%w (owner %q): %w", ErrLeadLost, p.owner, err))
					closeConn(conn)
					return
				}
			}
		}
	}()
	released := fmt.Errorf("pgstore: the lock of the planner of owner %q was released", p.owner)
	var once sync.Once
	return lead, func() {
		once.Do(func() {
			cancel(released)
			close(stop)
		})
		<-done
	}, nil
}

// lockID is the advisory lock key of the owner's planner: a hash of the
// table, "planner" and the owner, never a user's (see Store.lockID).
func (p *PlannerStore) lockID() int64 { return p.s.lockID("planner", p.owner) }

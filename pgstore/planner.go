package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

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
// concurrent use, but it does not make two planners on the same owner
// cooperate: run one agentsync.Planner per owner at a time. It prints
// without keys or records.
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

package pgstore

import (
	"context"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NewAtVersion is New migrating the table only to schema version v, as an
// older release of this package left it.
func NewAtVersion(ctx context.Context, pool *pgxpool.Pool, v int, opts ...Option) (*Store, error) {
	return newStore(ctx, pool, v, opts)
}

// SetLeadCheckEvery makes leaders check their lock's connection every d
// until the end of the test. Leads started before keep their interval.
func SetLeadCheckEvery(t testing.TB, d time.Duration) {
	old := leadCheckEvery
	leadCheckEvery = d
	t.Cleanup(func() { leadCheckEvery = old })
}

// LockID returns the advisory lock key of the owner's planner.
func (p *PlannerStore) LockID() int64 { return p.lockID() }

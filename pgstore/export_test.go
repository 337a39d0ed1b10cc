package pgstore

import (
	"context"

	"github.com/jackc/pgx/v5/pgxpool"
)

// NewAtVersion is New migrating the table only to schema version v, as an
// older release of this package left it.
func NewAtVersion(ctx context.Context, pool *pgxpool.Pool, v int, opts ...Option) (*Store, error) {
	return newStore(ctx, pool, v, opts)
}

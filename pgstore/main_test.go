package pgstore_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/go-mtd/vat/internal/testservers"
)

var (
	pg    *testservers.Postgres
	pgErr error
)

func TestMain(m *testing.M) {
	srv := testservers.StartSet("pgstore", true, false)
	pg, pgErr = srv.Postgres, srv.PostgresErr
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

var tables atomic.Int64

// newPool returns a pool on the test server, closed at the end of the test,
// and a table name no other test uses.
func newPool(t *testing.T) (*pgxpool.Pool, string) {
	t.Helper()
	testservers.Require(t, pgErr)
	pool, err := pgxpool.New(context.Background(), pg.URL)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool, fmt.Sprintf("tokens_%s_%d", strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(t.Name()))[:min(20, len(t.Name()))], tables.Add(1))
}

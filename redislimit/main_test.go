package redislimit_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/go-mtd/vat/internal/testservers"
)

var (
	rs    *testservers.Redis
	rsErr error
)

func TestMain(m *testing.M) {
	srv := testservers.StartSet("redislimit", false, true)
	rs, rsErr = srv.Redis, srv.RedisErr
	if rsErr == nil {
		// What the running server says of itself, for the CI log.
		c := redis.NewClient(&redis.Options{Addr: rs.Addr})
		info, err := c.Info(context.Background(), "server").Result()
		c.Close()
		v := "unknown"
		for _, line := range strings.Split(info, "\n") {
			if s, ok := strings.CutPrefix(strings.TrimSpace(line), "redis_version:"); ok {
				v = s
			}
		}
		fmt.Fprintf(os.Stderr, "redislimit: the server answers INFO redis_version:%s (err %v)\n", v, err)
	}
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

var keys atomic.Int64

// newClient returns a client of the test server, closed at the end of the
// test, and a key no other test uses.
func newClient(t *testing.T) (*redis.Client, string) {
	t.Helper()
	testservers.Require(t, rsErr)
	c := redis.NewClient(&redis.Options{Addr: rs.Addr})
	t.Cleanup(func() { c.Close() })
	return c, fmt.Sprintf("test:%s:%d", t.Name(), keys.Add(1))
}

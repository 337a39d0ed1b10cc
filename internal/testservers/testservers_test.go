package testservers

import (
	"net"
	"testing"
)

// TestServersStartAndRestart starts both servers, checks that they answer on
// loopback, restarts them on the same port and stops them.
func TestServersStartAndRestart(t *testing.T) {
	r, err := StartRedis()
	Require(t, err)
	defer r.Stop()
	t.Logf("started redis-server %s on %s", r.Version, r.Addr)
	pg, err := StartPostgres()
	Require(t, err)
	defer pg.Stop()
	t.Logf("started PostgreSQL %s on %s", pg.Version, pg.Addr)

	for _, addr := range []string{r.Addr, pg.Addr} {
		host, _, _ := net.SplitHostPort(addr)
		if !net.ParseIP(host).IsLoopback() {
			t.Errorf("%s is not on loopback", addr)
		}
	}
	if err := r.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := pg.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := pg.StopServer(); err != nil {
		t.Fatal(err)
	}
	if c, err := net.Dial("tcp", pg.Addr); err == nil {
		c.Close()
		t.Errorf("PostgreSQL still answers on %s after StopServer", pg.Addr)
	}
	if err := pg.Start(); err != nil {
		t.Fatal(err)
	}
}

func TestRequireSkipsOnlyOutsideCI(t *testing.T) {
	t.Setenv("CI", "")
	ran := t.Run("skip", func(t *testing.T) {
		Require(t, &NotInstalledError{Program: "redis-server", Package: "redis-server"})
		t.Error("Require returned on a missing program")
	})
	if !ran {
		t.Error("subtest failed instead of skipping outside CI")
	}
}

package testservers

import (
	"net"
	"os"
	"os/exec"
	"strings"
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

// TestRequireFailsInCI runs TestRequireHelper in a child process with
// CI=true: a missing server program must fail the test there, not skip it.
func TestRequireFailsInCI(t *testing.T) {
	if os.Getenv("TESTSERVERS_HELPER") != "" {
		t.Skip("helper mode")
	}
	for _, ci := range []string{"true", ""} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestRequireHelper$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTSERVERS_HELPER=1", "CI="+ci)
		out, err := cmd.CombinedOutput()
		if ci == "true" {
			if err == nil || !strings.Contains(string(out), "--- FAIL: TestRequireHelper") {
				t.Errorf("with CI=true the test did not fail: %v\n%s", err, out)
			}
		} else if err != nil || !strings.Contains(string(out), "--- SKIP: TestRequireHelper") ||
			!strings.Contains(string(out), "apt-get install redis-server") {
			t.Errorf("without CI the test did not skip naming the package: %v\n%s", err, out)
		}
	}
}

func TestRequireHelper(t *testing.T) {
	if os.Getenv("TESTSERVERS_HELPER") == "" {
		t.Skip("run by TestRequireFailsInCI")
	}
	Require(t, &NotInstalledError{Program: "redis-server", Package: "redis-server"})
}

// TestStartSetStartsOnlyWhatIsAsked checks that a Set asked for nothing
// starts nothing and stops cleanly.
func TestStartSetStartsOnlyWhatIsAsked(t *testing.T) {
	s := StartSet("testservers", false, false)
	if s.Postgres != nil || s.Redis != nil || s.PostgresErr != nil || s.RedisErr != nil {
		t.Fatalf("started %+v", s)
	}
	s.Stop()
}

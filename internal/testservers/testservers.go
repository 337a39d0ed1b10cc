// Package testservers starts real PostgreSQL and Redis servers for tests:
// on free loopback ports, in temporary directories, stopped (and their
// directories removed) by Stop. PostgreSQL refuses to run as root, so when
// the tests run as root its programs run as the postgres user through
// runuser.
//
// Packages start the servers in TestMain and hand the error to every test
// that needs them through Require, which skips the test naming the Debian
// package to install, or fails it when the environment variable CI is
// "true".
package testservers

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// NotInstalledError reports a server program that is not on this machine.
type NotInstalledError struct {
	Program string // the program looked for, such as redis-server
	Package string // the Debian package that installs it
}

func (e *NotInstalledError) Error() string {
	return fmt.Sprintf("%s is not installed: apt-get install %s", e.Program, e.Package)
}

// Require fails or skips tb when err, from starting a server, is not nil: a
// missing program skips the test with the package to install, unless the
// environment variable CI is "true", where every failure fails the test.
func Require(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	var ni *NotInstalledError
	if errors.As(err, &ni) && os.Getenv("CI") != "true" {
		tb.Skipf("skipped: %v", err)
	}
	tb.Fatalf("test server: %v", err)
}

// freePort returns a loopback port no one listens on right now.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// waitTCP waits until addr accepts connections and check (if not nil)
// passes on one, or until the deadline.
func waitTCP(addr string, timeout time.Duration, check func(net.Conn) error, exited <-chan struct{}) error {
	deadline := time.Now().Add(timeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("the server exited while starting")
		default:
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			if check == nil {
				c.Close()
				return nil
			}
			_ = c.SetDeadline(time.Now().Add(2 * time.Second))
			err = check(c)
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("no answer on %s after %s: %v", addr, timeout, last)
}

// ---- Redis -------------------------------------------------------------------

// Redis is a redis-server started by StartRedis.
type Redis struct {
	// Addr is the server's host:port on loopback.
	Addr string
	// Version is the server's version, such as "7.0.15".
	Version string

	bin  string
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// StartRedis starts redis-server on a free loopback port, with no
// persistence, in a temporary directory.
func StartRedis() (*Redis, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, &NotInstalledError{Program: "redis-server", Package: "redis-server"}
	}
	out, err := exec.Command(bin, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("redis-server --version: %w", err)
	}
	r := &Redis{bin: bin, Version: parseRedisVersion(string(out))}
	if r.dir, err = os.MkdirTemp("", "testservers-redis-"); err != nil {
		return nil, err
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(r.dir)
		return nil, err
	}
	r.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := r.start(); err != nil {
		os.RemoveAll(r.dir)
		return nil, err
	}
	return r, nil
}

func parseRedisVersion(s string) string {
	for _, f := range strings.Fields(s) {
		if v, ok := strings.CutPrefix(f, "v="); ok {
			return v
		}
	}
	return strings.TrimSpace(s)
}

func (r *Redis) start() error {
	_, port, _ := net.SplitHostPort(r.Addr)
	cmd := exec.Command(r.bin, "--port", port, "--bind", "127.0.0.1", "--dir", r.dir,
		"--save", "", "--appendonly", "no", "--protected-mode", "yes", "--logfile", filepath.Join(r.dir, "redis.log"))
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("starting redis-server: %w", err)
	}
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	ping := func(c net.Conn) error {
		if _, err := c.Write([]byte("PING\r\n")); err != nil {
			return err
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if err != nil {
			return err
		}
		if !strings.HasPrefix(line, "+PONG") {
			return fmt.Errorf("PING answered %q", strings.TrimSpace(line))
		}
		return nil
	}
	if err := waitTCP(r.Addr, 20*time.Second, ping, done); err != nil {
		_ = cmd.Process.Kill()
		<-done
		return fmt.Errorf("redis-server on %s: %w (log: %s)", r.Addr, err, tail(filepath.Join(r.dir, "redis.log")))
	}
	r.cmd, r.done = cmd, done
	return nil
}

// Restart stops the server and starts it again on the same port, empty.
func (r *Redis) Restart() error {
	r.stop()
	return r.start()
}

// StopServer stops the server but keeps its port and directory, so that
// Start can bring it back.
func (r *Redis) StopServer() { r.stop() }

// Start starts a server stopped by StopServer.
func (r *Redis) Start() error { return r.start() }

func (r *Redis) stop() {
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
	r.cmd = nil
}

// Stop stops the server and removes its directory.
func (r *Redis) Stop() {
	r.stop()
	os.RemoveAll(r.dir)
}

// ---- PostgreSQL ----------------------------------------------------------------

// Postgres is a PostgreSQL server started by StartPostgres, with trust
// authentication for the user postgres on loopback.
type Postgres struct {
	// URL is a connection string for the database postgres as the user
	// postgres, such as postgres://postgres@127.0.0.1:5433/postgres.
	URL string
	// Addr is the server's host:port on loopback.
	Addr string
	// Version is the version of the server programs, such as "15.18".
	Version string

	bin    string
	dir    string
	port   int
	asUser []string // prefix running a program as the postgres user, when root
}

// pgPackage is the Debian package of the PostgreSQL server.
const pgPackage = "postgresql-15"

// postgresBin finds the directory of PostgreSQL's server programs: the
// environment variable PGBIN, else /usr/lib/postgresql/15/bin, else the
// newest /usr/lib/postgresql/*/bin.
func postgresBin() (string, error) {
	if d := os.Getenv("PGBIN"); d != "" {
		return d, nil
	}
	cands := []string{"/usr/lib/postgresql/15/bin"}
	more, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Sort(sort.Reverse(sort.StringSlice(more)))
	cands = append(cands, more...)
	for _, d := range cands {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
				return d, nil
			}
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", &NotInstalledError{Program: "initdb and postgres (PostgreSQL 15)", Package: pgPackage}
}

// StartPostgres initialises a cluster in a temporary directory and starts
// PostgreSQL on a free loopback port.
func StartPostgres() (*Postgres, error) {
	bin, err := postgresBin()
	if err != nil {
		return nil, err
	}
	out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("postgres --version: %w", err)
	}
	p := &Postgres{bin: bin, Version: parsePGVersion(string(out))}
	if p.dir, err = os.MkdirTemp(pgTempBase(), "testservers-pg-"); err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			os.RemoveAll(p.dir)
		}
	}()
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("running as root, PostgreSQL needs the user postgres (created by apt-get install %s): %w", pgPackage, err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(p.dir, uid, gid); err != nil {
			return nil, err
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			return nil, &NotInstalledError{Program: "runuser", Package: "util-linux"}
		}
		p.asUser = []string{runuser, "-u", "postgres", "--"}
	}
	if err := os.Chmod(p.dir, 0o700); err != nil {
		return nil, err
	}
	if out, err := p.run("initdb", "-D", p.data(), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions"); err != nil {
		return nil, fmt.Errorf("initdb: %w: %s", err, lastLines(out, 5))
	}
	if p.port, err = freePort(); err != nil {
		return nil, err
	}
	p.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port))
	p.URL = fmt.Sprintf("postgres://postgres@%s/postgres?sslmode=disable", p.Addr)
	if err := p.Start(); err != nil {
		return nil, err
	}
	ok = true
	return p, nil
}

// pgTempBase returns where to make PostgreSQL's directory: the usual
// temporary directory, unless running as root and the postgres user could
// not reach it (a TMPDIR under /root), then /tmp.
func pgTempBase() string {
	dir := os.TempDir()
	if os.Geteuid() != 0 {
		return dir
	}
	for d := dir; ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&0o001 == 0 {
			return "/tmp"
		}
		if d == filepath.Dir(d) {
			return dir
		}
	}
}

func parsePGVersion(s string) string {
	// "postgres (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)"
	f := strings.Fields(s)
	if len(f) >= 3 {
		return f[2]
	}
	return strings.TrimSpace(s)
}

func (p *Postgres) data() string { return filepath.Join(p.dir, "data") }

func (p *Postgres) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string(nil), p.asUser...), filepath.Join(p.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// Start starts the server (again) on its port.
func (p *Postgres) Start() error {
	opts := fmt.Sprintf("-p %d -c listen_addresses=127.0.0.1 -k %s -c fsync=off -c max_connections=200", p.port, p.dir)
	out, err := p.run("pg_ctl", "start", "-w", "-t", "60", "-D", p.data(), "-l", filepath.Join(p.dir, "log"), "-o", opts)
	if err != nil {
		return fmt.Errorf("starting PostgreSQL on %s: %w: %s (log: %s)", p.Addr, err, lastLines(out, 3), tail(filepath.Join(p.dir, "log")))
	}
	return nil
}

// StopServer stops the server (fast shutdown: open sessions are ended)
// and keeps its data, so that Start brings it back.
func (p *Postgres) StopServer() error {
	out, err := p.run("pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", p.data())
	if err != nil {
		return fmt.Errorf("stopping PostgreSQL: %w: %s", err, lastLines(out, 3))
	}
	return nil
}

// Restart stops the server and starts it again with the same data.
func (p *Postgres) Restart() error {
	if err := p.StopServer(); err != nil {
		return err
	}
	return p.Start()
}

// Stop stops the server and removes its directory.
func (p *Postgres) Stop() {
	_ = p.StopServer()
	os.RemoveAll(p.dir)
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func tail(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "none"
	}
	return lastLines(b, 5)
}

// Set is the servers a test binary starts in its TestMain, with the error
// of each that could not start (for Require).
type Set struct {
	// Postgres is the PostgreSQL server, nil when not asked for or not started.
	Postgres *Postgres
	// PostgresErr is why Postgres did not start.
	PostgresErr error
	// Redis is the redis-server, nil when not asked for or not started.
	Redis *Redis
	// RedisErr is why Redis did not start.
	RedisErr error
}

// StartSet starts PostgreSQL and redis-server as asked, and says on standard
// error which started, naming pkg, so that a CI log shows the real servers
// ran.
func StartSet(pkg string, postgres, redis bool) *Set {
	s := &Set{}
	if postgres {
		if s.Postgres, s.PostgresErr = StartPostgres(); s.PostgresErr == nil {
			fmt.Fprintf(os.Stderr, "%s: started PostgreSQL %s on %s\n", pkg, s.Postgres.Version, s.Postgres.Addr)
		}
	}
	if redis {
		if s.Redis, s.RedisErr = StartRedis(); s.RedisErr == nil {
			fmt.Fprintf(os.Stderr, "%s: started redis-server %s on %s\n", pkg, s.Redis.Version, s.Redis.Addr)
		}
	}
	return s
}

// Stop stops the servers that started.
func (s *Set) Stop() {
	if s.Postgres != nil {
		s.Postgres.Stop()
	}
	if s.Redis != nil {
		s.Redis.Stop()
	}
}

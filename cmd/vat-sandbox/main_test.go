package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if os.Getenv("VAT_SANDBOX_TEST_MAIN") == "1" {
		main() // the test binary as vat-sandbox, for exit statuses
		return
	}
	goleak.VerifyTestMain(m)
}

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func noEnv(string) string { return "" }

// sandbox is one run of the command in the test's process.
type sandbox struct {
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func start(t *testing.T, args []string, getenv func(string) string) *sandbox {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &sandbox{out: &syncBuffer{}, cancel: cancel, done: make(chan error, 1)}
	go func() { s.done <- run(ctx, args, getenv, s.out, io.Discard) }()
	t.Cleanup(func() {
		cancel()
		<-s.done
	})
	return s
}

func (s *sandbox) stop(t *testing.T) {
	t.Helper()
	s.cancel()
	require.NoError(t, <-s.done)
	s.done <- nil // for the cleanup
}

// line waits for the JSON line and decodes it.
func (s *sandbox) line(t *testing.T) ready {
	t.Helper()
	var r ready
	require.Eventually(t, func() bool {
		first, _, ok := strings.Cut(s.out.String(), "\n")
		return ok && json.Unmarshal([]byte(first), &r) == nil
	}, time.Minute, 5*time.Millisecond, "no JSON line: %q", s.out.String())
	return r
}

func call(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(t, err)
	req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	resp, err := c.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestJSONLineGivesADialableURLAndAReadyBusiness(t *testing.T) {
	s := start(t, []string{"-json", "-addr", "0.0.0.0:0", "-today", "2025-05-20"}, noEnv)
	r := s.line(t)
	assert.Regexp(t, `^http://127\.0\.0\.1:\d+$`, r.URL)
	assert.Regexp(t, `^\d{9}$`, r.VRN)
	assert.NotEmpty(t, r.ClientID)
	assert.NotEmpty(t, r.ClientSecret)
	assert.Equal(t, "http://localhost/callback", r.RedirectURI)
	assert.NotEmpty(t, r.UserID)
	assert.NotEmpty(t, r.Password)
	assert.Equal(t, "read:vat write:vat", r.Scope)
	assert.Equal(t, "2025-05-20", r.Today)
	assert.Equal(t, 1, strings.Count(s.out.String(), "\n"), "one line")

	status, body := call(t, "GET", r.URL+"/organisations/vat/"+r.VRN+"/obligations?status=O", r.AccessToken, "")
	assert.Equal(t, 200, status)
	assert.Contains(t, body, `"periodKey":"25A1"`)
	// No rate limit by default: more than HMRC's three a second all pass.
	for range 10 {
		status, _ := call(t, "GET", r.URL+"/organisations/vat/"+r.VRN+"/obligations?status=O", r.AccessToken, "")
		require.Equal(t, 200, status)
	}
	status, body = call(t, "GET", r.URL+"/_sandbox/health", "", "")
	assert.Equal(t, 200, status)
	assert.Contains(t, body, `"status":"ok"`)
}

func TestSeedGivesTheSameCredentialsOnEveryStart(t *testing.T) {
	args := []string{"-json", "-addr", "127.0.0.1:0", "-seed", "42", "-today", "2025-05-20"}
	a := start(t, args, noEnv).line(t)
	b := start(t, args, noEnv).line(t)
	for _, r := range []*ready{&a, &b} {
		r.URL, r.ExpiresAt = "", ""
	}
	assert.Equal(t, a, b)
	d := start(t, []string{"-json", "-addr", "127.0.0.1:0", "-seed", "43", "-today", "2025-05-20"}, noEnv).line(t)
	assert.NotEqual(t, a.VRN, d.VRN)
	assert.NotEqual(t, a.ClientID, d.ClientID)
	e := start(t, []string{"-json", "-today", "2025-05-20"}, func(k string) string {
		return map[string]string{"VAT_SANDBOX_SEED": "42", "VAT_SANDBOX_ADDR": "127.0.0.1:0"}[k]
	}).line(t)
	assert.Equal(t, a.VRN, e.VRN, "VAT_SANDBOX_SEED is -seed's default")
	assert.Equal(t, a.Password, e.Password)
}

func TestStateIsSavedOnStopAndLoadedOnStart(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "state.json")
	args := []string{"-json", "-addr", "127.0.0.1:0", "-today", "2025-05-20", "-state", file}
	s := start(t, args, noEnv)
	r := s.line(t)
	ret := `{"periodKey":"18AA","vatDueSales":10,"vatDueAcquisitions":0,"totalVatDue":10,"vatReclaimedCurrPeriod":0,"netVatDue":10,"totalValueSalesExVAT":0,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}`
	status, body := call(t, "POST", r.URL+"/organisations/vat/"+r.VRN+"/returns", r.AccessToken, ret)
	require.Equal(t, 201, status, body)
	s.stop(t)

	fi, err := os.Stat(file)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "no temporary file left")

	r2 := start(t, args, noEnv).line(t)
	assert.Equal(t, r.ClientID, r2.ClientID)
	assert.Equal(t, r.ClientSecret, r2.ClientSecret)
	assert.Equal(t, r.VRN, r2.VRN)
	assert.Equal(t, r.Password, r2.Password)
	status, body = call(t, "GET", r2.URL+"/organisations/vat/"+r.VRN+"/returns/18AA", r.AccessToken, "")
	assert.Equal(t, 200, status, "the old token and the return survive a restart")
	assert.Contains(t, body, `"netVatDue":10`)
}

func TestBadStateFileIsAnError(t *testing.T) {
	file := filepath.Join(t.TempDir(), "state.json")
	require.NoError(t, os.WriteFile(file, []byte("{nope"), 0o600))
	err := run(context.Background(), []string{"-addr", "127.0.0.1:0", "-state", file}, noEnv, io.Discard, io.Discard)
	assert.ErrorContains(t, err, "-state")
}

func TestRunServesProseUntilCancelled(t *testing.T) {
	s := start(t, []string{"-addr", "127.0.0.1:0", "-today", "2025-05-20", "-client-id", "my-app", "-client-secret", "s3cret", "-redirect-uri", "http://localhost:9000/cb"}, noEnv)
	require.Eventually(t, func() bool { return strings.Contains(s.out.String(), "Ctrl-C") }, time.Minute, 5*time.Millisecond)
	out := s.out.String()
	assert.Contains(t, out, "today (simulated, UTC):      2025-05-20")
	assert.Contains(t, out, "client_id:      my-app")
	assert.Contains(t, out, "redirect URIs:  http://localhost:9000/cb")
	s.stop(t)
	assert.Contains(t, s.out.String(), "stopping")
}

func TestHealthcheck(t *testing.T) {
	r := start(t, []string{"-json", "-addr", "127.0.0.1:0"}, noEnv).line(t)
	addr := strings.TrimPrefix(r.URL, "http://")
	assert.NoError(t, run(context.Background(), []string{"-healthcheck", "-addr", addr}, noEnv, io.Discard, io.Discard))

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closed := l.Addr().String()
	l.Close()
	assert.Error(t, run(context.Background(), []string{"-healthcheck", "-addr", closed}, noEnv, io.Discard, io.Discard))
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"-today", "20-05-2025", "-addr", "127.0.0.1:0"},
		{"-client-id", "x"},
		{"-redirect-uri", "http://localhost/cb"},
		{"-rate", "-1", "-addr", "127.0.0.1:0"},
		{"-seed", "x", "-addr", "127.0.0.1:0"},
		{"-addr", "nowhere"},
		{"extra"},
		{"-nope"},
	} {
		err := run(context.Background(), args, noEnv, io.Discard, io.Discard)
		assert.True(t, errors.As(err, new(usageError)), "%v: %v", args, err)
	}
}

func TestHelpPrintsUsageWithEnvironmentAndExitsZero(t *testing.T) {
	var out bytes.Buffer
	err := run(context.Background(), []string{"-h"}, noEnv, &out, io.Discard)
	assert.ErrorIs(t, err, flag.ErrHelp)
	for _, env := range []string{"VAT_SANDBOX_ADDR", "VAT_SANDBOX_SEED", "VAT_SANDBOX_STATE", "VAT_SANDBOX_CONTROL_TOKEN", "-json", "-healthcheck"} {
		assert.Contains(t, out.String(), env)
	}

	for _, tc := range []struct {
		args []string
		code int
	}{{[]string{"-h"}, 0}, {[]string{"--help"}, 0}, {[]string{"-nope"}, 2}} {
		cmd := exec.Command(os.Args[0], tc.args...)
		cmd.Env = append(os.Environ(), "VAT_SANDBOX_TEST_MAIN=1")
		var stdout bytes.Buffer
		cmd.Stdout = &stdout
		err := cmd.Run()
		code := 0
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
		assert.Equal(t, tc.code, code, "%v", tc.args)
		if tc.code == 0 {
			assert.Contains(t, stdout.String(), "Usage:")
		}
	}
}

func TestRateAndFraudHeaderFlags(t *testing.T) {
	r := start(t, []string{"-json", "-addr", "127.0.0.1:0", "-rate", "3", "-enforce-fraud-headers"}, noEnv).line(t)
	obl := r.URL + "/organisations/vat/" + r.VRN + "/obligations?status=O"
	// With the clock stopped the one-second window never empties: the
	// fourth call in it is refused, however long the calls take.
	status, _ := call(t, "POST", r.URL+"/_sandbox/clock", "", `{"now":"2025-05-20T12:00:00Z"}`)
	require.Equal(t, 200, status)
	var codes []int
	for i := range 4 {
		s, body := call(t, "GET", obl, r.AccessToken, "")
		codes = append(codes, s)
		if i == 0 {
			assert.Contains(t, body, "INVALID_HEADERS", "no fraud prevention headers")
		}
	}
	assert.Equal(t, []int{400, 400, 400, 429}, codes)
}

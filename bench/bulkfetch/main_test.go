package main

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// raisedLimit is the application limit of the bulk tests: HMRC's 3 requests
// per second would make 1,000 clients take six minutes.
const raisedLimit = 200

// checkResults fails t unless every client was fetched once and its open
// obligations are the simulator's.
func checkResults(t testing.TB, p *practice, rep *report) {
	t.Helper()
	require.Len(t, rep.Results, len(p.vrns))
	for i, res := range rep.Results {
		require.NoError(t, res.Err, "client %d", i)
		require.Equal(t, p.vrns[i], res.VRN)
		var open []string
		for _, o := range p.srv.Obligations(string(res.VRN)) {
			if o.Received == "" {
				open = append(open, o.PeriodKey)
			}
		}
		var got []string
		for _, o := range res.Open {
			got = append(got, string(o.PeriodKey))
		}
		require.Equal(t, open, got, "client %s", res.VRN)
	}
	answered := map[string]int{} // successful requests per client
	for _, req := range p.srv.Requests() {
		if req.Status != http.StatusTooManyRequests {
			answered[req.Path]++
		}
	}
	for _, vrn := range p.vrns {
		path := "/organisations/vat/" + string(vrn) + "/obligations"
		assert.Equal(t, 1, answered[path], "requests answered for %s", vrn)
	}
}

// TestBulkFetch fetches the open obligations of 300 clients at a limit of
// 200 requests per second through one Client, one limiter and 16 workers,
// against a simulator enforcing the same limit. It checks what the agent
// gets: every client fetched, each exactly once as far as the simulator's
// answers go, the results right, and nothing left running. How fast, and
// how many 429s it met on the way, depend on the machine: they are
// measured by BenchmarkBulkFetch.
func TestBulkFetch(t *testing.T) {
	defer goleak.VerifyNone(t)
	cfg := defaultConfig()
	cfg.clients, cfg.rate = 300, raisedLimit
	p, err := newPractice(cfg)
	require.NoError(t, err)
	defer p.close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	rep, err := p.fetchOpenObligations(ctx)
	require.NoError(t, err)
	checkResults(t, p, rep)
	assert.Zero(t, rep.Failed)
	assert.GreaterOrEqual(t, rep.Requests, int64(cfg.clients), "at least one request per client")
	t.Logf("%d requests, %d answered 429, steady rate %.1f/s", rep.Requests, rep.Throttled, rep.SteadyRate)
}

// BenchmarkBulkFetch fetches the open obligations of 1,000 clients at a
// limit of 200 requests per second, as TestBulkFetch does, and reports
// what the limiter achieved: req/s in the steady state, the fraction of the
// limit that is, 429s met, the tightest window of 201 requests as the
// simulator received them (at least a second when its window never held
// more than the limit), connections opened, bytes allocated per client and
// the live heap per client besides the results. Run it with
//
//	go test -run '^$' -bench BulkFetch -benchtime 1x -count 5 ./bench/bulkfetch
//
// and again with the machine loaded (bench/bulk.sh does both).
func BenchmarkBulkFetch(b *testing.B) {
	cfg := defaultConfig()
	cfg.clients, cfg.rate = 1000, raisedLimit
	var rate, throttled, tightest, conns, alloc, besides float64
	for range b.N {
		b.StopTimer()
		p, err := newPractice(cfg)
		if err != nil {
			b.Fatal(err)
		}
		before := liveHeap()
		b.StartTimer()
		rep, err := p.fetchOpenObligations(context.Background())
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		checkResults(b, p, rep)
		rep.Results = nil
		after := liveHeap()
		rate += rep.SteadyRate
		throttled += float64(rep.Throttled)
		tightest += rep.TightestReceived.Seconds() * 1000
		conns += float64(rep.Conns)
		alloc += rep.AllocatedPerClient
		besides += float64(int64(after)-int64(before)) / float64(cfg.clients)
		p.close()
		b.StartTimer()
	}
	n := float64(b.N)
	b.ReportMetric(rate/n, "req/s")
	b.ReportMetric(rate/n/raisedLimit, "of-limit")
	b.ReportMetric(throttled/n, "429s")
	b.ReportMetric(tightest/n, "tightest-ms")
	b.ReportMetric(conns/n, "conns")
	b.ReportMetric(alloc/n, "B/client")
	b.ReportMetric(besides/n, "live-B/client")
}

// liveHeap returns the live heap after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // and what the first one's finalizers and pools let go
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func TestRunFetchesAndReports(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-n", "20", "-rate", "100", "-workers", "4"}, &out))
	for _, want := range []string{`with 4 workers`, `clients +20 \(\d+ open obligations, 0 failed\)`,
		`requests +\d+, of which 429: \d+`, `\d % of the limit of 100`, `connections +\d+ opened for 4 workers`} {
		assert.Regexp(t, want, out.String())
	}
}

func TestPrintReport(t *testing.T) {
	t.Parallel()
	rep := &report{
		Results:            []clientObligations{{Open: make([]vat.Obligation, 2)}, {Err: errors.New("x")}},
		Failed:             1,
		Requests:           1003,
		Throttled:          3,
		Conns:              2,
		Elapsed:            5123456789 * time.Nanosecond,
		SteadyRate:         192.34,
		TightestSent:       1038412345 * time.Nanosecond,
		TightestReceived:   1037487654 * time.Nanosecond,
		AllocatedPerClient: 12.5 * 1024,
		PeakGoroutines:     26,
	}
	var out bytes.Buffer
	printReport(&out, config{rate: 200, workers: 16}, rep, runtime.MemStats{HeapInuse: 3 << 20})
	assert.Equal(t, `clients            2 (2 open obligations, 1 failed)
requests           1003, of which 429: 3
elapsed            5.123s
achieved rate      192.3 requests/second in the steady state: 96.2 % of the limit of 200
tightest window    201 requests sent in 1.0384s, received in 1.0375s (the limit allows 200 a second)
connections        2 opened for 16 workers
goroutines         26 at most
memory             12.5 KiB allocated per client; 3.0 MiB heap in use after (simulator included)
`, out.String())
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "at least one client"},
		{[]string{"-rate", "0"}, "at least 1 request per second"},
		{[]string{"-workers", "0"}, "at least one worker"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-nope"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

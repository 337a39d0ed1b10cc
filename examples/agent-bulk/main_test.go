package main

import (
	"bytes"
	"context"
	"errors"
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

// measurement is one bulk fetch of n clients at the raised limit.
type measurement struct {
	n   int
	cfg config
	rep *report
	// Live heap after a full collection: before the fetch, after it with
	// the results kept, and after it with the results dropped.
	before, withResults, withoutResults uint64
	goroutinesBefore                    int
}

func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // and what the first one's finalizers and pools let go
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func bulkFetch(t *testing.T, n int) measurement {
	t.Helper()
	cfg := defaultConfig()
	cfg.clients, cfg.rate = n, raisedLimit
	p, err := newPractice(cfg)
	require.NoError(t, err)
	defer p.close()
	r := measurement{n: n, cfg: cfg, goroutinesBefore: runtime.NumGoroutine()}
	r.before = liveHeap()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r.rep, err = p.fetchOpenObligations(ctx)
	require.NoError(t, err)
	r.withResults = liveHeap()

	require.Len(t, r.rep.Results, n)
	for i, res := range r.rep.Results {
		require.NoError(t, res.Err, "client %d", i)
		require.Equal(t, p.vrns[i], res.VRN)
		want := p.srv.Obligations(string(res.VRN))
		var open []string
		for _, o := range want {
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
	throttled := 0
	for _, req := range p.srv.Requests() {
		if req.Status == 429 {
			throttled++
		}
	}
	assert.Zero(t, throttled, "429 answers in the simulator's log")
	r.rep.Results = nil
	r.withoutResults = liveHeap()
	t.Logf("n=%d: %d requests, %d answered 429, steady rate %.1f/s, tightest window %v sent, %v received; "+
		"%d connections, %d goroutines at most (%d before); %.0f B allocated per client; "+
		"live heap per client: %.0f B results, %.0f B besides",
		n, r.rep.Requests, r.rep.Throttled, r.rep.SteadyRate, r.rep.TightestSent, r.rep.TightestReceived,
		r.rep.Conns, r.rep.PeakGoroutines, r.goroutinesBefore, r.rep.AllocatedPerClient,
		float64(int64(r.withResults)-int64(r.withoutResults))/float64(n), r.besides())
	return r
}

// besides is the live heap the fetch left per client apart from its
// results: the simulator's record of the request, and whatever the Client
// kept.
func (r measurement) besides() float64 {
	return float64(int64(r.withoutResults)-int64(r.before)) / float64(r.n)
}

// TestBulkFetch fetches the open obligations of 200 and then 1,000 clients
// at a limit of 200 requests per second, each through one Client, one
// limiter and 16 workers, against a simulator enforcing the same limit.
func TestBulkFetch(t *testing.T) {
	defer goleak.VerifyNone(t)
	small := bulkFetch(t, 200)
	large := bulkFetch(t, 1000)

	t.Run("keeps to the limit at 95 % of it or more", func(t *testing.T) {
		for _, r := range []measurement{small, large} {
			assert.Zero(t, r.rep.Throttled, "n=%d: 429 answers", r.n)
			assert.EqualValues(t, r.n, r.rep.Requests, "n=%d: one request per client", r.n)
		}
		assert.GreaterOrEqual(t, large.rep.TightestReceived, time.Second, "%d requests received within a second", raisedLimit+1)
		assert.GreaterOrEqual(t, large.rep.SteadyRate, 0.95*raisedLimit, "requests per second, n=1000")
		assert.LessOrEqual(t, large.rep.SteadyRate, float64(raisedLimit), "requests per second, n=1000")
	})

	t.Run("uses memory for the results only", func(t *testing.T) {
		// Per client, the live heap besides the results is the simulator's
		// log of the request; it must not grow with the number of clients,
		// and leaves no room for anything the Client would keep per call.
		assert.LessOrEqual(t, large.besides(), 1.1*small.besides()+64, "live bytes per client besides the results")
		assert.Less(t, large.besides(), 1024.0, "live bytes per client besides the results")
		// Working memory per client does not grow either.
		assert.LessOrEqual(t, large.rep.AllocatedPerClient, 1.1*small.rep.AllocatedPerClient, "bytes allocated per client")
		// Concurrency is the pool's, not the number of clients.
		for _, r := range []measurement{small, large} {
			assert.LessOrEqual(t, r.rep.PeakGoroutines-r.goroutinesBefore, 4*r.cfg.workers+8, "n=%d: extra goroutines", r.n)
			assert.LessOrEqual(t, r.rep.Conns, int64(r.cfg.workers), "n=%d: connections", r.n)
		}
	})
}

func TestRunFetchesAndReports(t *testing.T) {
	defer goleak.VerifyNone(t)
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-n", "20", "-rate", "100", "-workers", "4"}, &out))
	for _, want := range []string{`with 4 workers`, `clients +20 \(\d+ open obligations, 0 failed\)`,
		`requests +20, of which 429: 0`, `\d % of the limit of 100`, `connections +\d+ opened for 4 workers`} {
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
		{[]string{"-headroom", "1s"}, "headroom"},
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

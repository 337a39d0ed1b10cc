package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/vattest"
	"golang.org/x/oauth2"
)

// config describes one bulk fetch.
type config struct {
	clients int // the agent's client VRNs
	rate    int // the application's limit, requests per second, at HMRC and at the simulator
	workers int // calls in flight at most
}

// defaultConfig is the example's configuration when no flag changes it.
func defaultConfig() config {
	return config{clients: 1000, rate: vat.HMRCRateLimit, workers: 16}
}

func (c config) check() error {
	switch {
	case c.clients < 1:
		return fmt.Errorf("need at least one client, got %d", c.clients)
	case c.rate < 1:
		return fmt.Errorf("the rate limit must be at least 1 request per second, got %d", c.rate)
	case c.workers < 1:
		return fmt.Errorf("need at least one worker, got %d", c.workers)
	}
	return nil
}

// limiter returns the application limiter every request of the agent waits
// on: the SDK's, at the simulator's rate. It counts HMRC's sliding window
// of one second by the times the Client reports each request actually
// left, so a request let go late (its worker woken late by the scheduler,
// a garbage collection, a connection being dialled) pushes the later ones
// back instead of being counted in one second with them.
func (c config) limiter() vat.Limiter {
	l, err := vat.NewLimiter(c.rate)
	if err != nil {
		panic(err) // check refuses a rate under 1
	}
	return l
}

// practice is an agent's practice: an in-process simulator of HMRC holding
// the clients' VAT records, the agent, authorised by every client, and one
// vat.Client for the agent, shared by all the work.
type practice struct {
	cfg    config
	srv    *vattest.Server
	vrns   []vat.VRN
	client *vat.Client
	wire   *wire
	tr     *http.Transport
}

// newPractice starts the simulator with the application limit cfg.rate,
// creates cfg.clients organisations and the agent they authorise, and
// builds the agent's Client.
func newPractice(cfg config) (*practice, error) {
	if err := cfg.check(); err != nil {
		return nil, err
	}
	srv, err := vattest.New(vattest.WithRateLimit(cfg.rate))
	if err != nil {
		return nil, err
	}
	p := &practice{cfg: cfg, srv: srv}
	agent := srv.CreateAgent()
	p.vrns = make([]vat.VRN, cfg.clients)
	for i := range p.vrns {
		org, err := srv.CreateOrganisation(vattest.Organisation{})
		if err == nil {
			err = srv.AuthoriseAgent(agent.UserID, org.VRN)
		}
		if err != nil {
			srv.Close()
			return nil, err
		}
		p.vrns[i] = vat.VRN(org.VRN)
	}
	tok, err := srv.IssueToken(agent.UserID, "read:vat")
	if err != nil {
		srv.Close()
		return nil, err
	}
	// One connection per worker, kept: net/http keeps only 2 idle
	// connections per host by default, and would open and close one for
	// most requests of a larger pool.
	p.tr = &http.Transport{MaxIdleConns: cfg.workers, MaxIdleConnsPerHost: cfg.workers, IdleConnTimeout: 90 * time.Second}
	p.wire = &wire{next: p.tr, lo: int64(cfg.clients / 20), hi: int64(cfg.clients - 1 - cfg.clients/20),
		recent: make([]time.Time, cfg.rate+1)}
	d := &net.Dialer{Timeout: 10 * time.Second}
	p.tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		p.wire.dials.Add(1)
		return d.DialContext(ctx, network, addr)
	}
	p.client, err = vat.NewClient(
		vat.WithBaseURL(srv.URL),
		vat.WithHTTPClient(&http.Client{Transport: p.wire, Timeout: time.Minute}),
		vat.WithTokenSource(oauth2.StaticTokenSource(tok.OAuth2())),
		vat.WithRateLimiter(cfg.limiter()),
		vat.WithUserAgent("AgentBulkExample/1.0"),
	)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return p, nil
}

// close stops the simulator and closes the Client's connections.
func (p *practice) close() {
	p.tr.CloseIdleConnections()
	p.srv.Close()
}

// clientObligations is what the agent learnt about one client.
type clientObligations struct {
	VRN  vat.VRN
	Open []vat.Obligation
	Err  error
}

// report describes one bulk fetch.
type report struct {
	Results []clientObligations

	Failed    int           // clients whose fetch failed
	Requests  int64         // HTTP requests sent, retries included
	Throttled int64         // 429 responses among them
	Conns     int64         // connections opened
	Elapsed   time.Duration // from the first request sent to the last answer
	// SteadyRate is the rate of requests over the steady state: from the
	// request that starts the second twentieth of the clients to the one
	// that ends the nineteenth.
	SteadyRate float64
	// TightestSent and TightestReceived are the shortest times in which
	// rate+1 consecutive requests were sent and were received by the server:
	// one second or more at the server means its window never held more
	// than the limit. Their difference is how much the requests' journey
	// from the limiter to the server's clock varied.
	TightestSent, TightestReceived time.Duration

	AllocatedPerClient float64 // bytes allocated during the fetch, per client
	PeakGoroutines     int     // goroutines alive at most during the fetch
}

// fetchOpenObligations fetches the open obligations of every client with
// cfg.workers workers sharing the agent's Client and its limiter.
func (p *practice) fetchOpenObligations(ctx context.Context) (*report, error) {
	rep := &report{Results: make([]clientObligations, len(p.vrns))}
	p.wire.reset()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	watch := watchGoroutines()

	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(p.cfg.workers, len(p.vrns)) {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= len(p.vrns) || ctx.Err() != nil {
					return
				}
				vrn := p.vrns[i]
				open, err := p.client.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
				if errors.Is(err, vat.ErrNotFound) { // HMRC's answer for "none open"
					err = nil
				}
				rep.Results[i] = clientObligations{VRN: vrn, Open: open, Err: err}
			}
		})
	}
	wg.Wait()
	end := time.Now()

	rep.PeakGoroutines = watch()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	rep.AllocatedPerClient = float64(after.TotalAlloc-before.TotalAlloc) / float64(len(p.vrns))
	for _, r := range rep.Results {
		if r.Err != nil {
			rep.Failed++
		}
	}
	w := p.wire
	w.mu.Lock()
	rep.Requests, rep.TightestSent = w.sent, w.tightest
	if !w.first.IsZero() {
		rep.Elapsed = end.Sub(w.first)
	}
	if !w.tLo.IsZero() && w.tHi.After(w.tLo) {
		rep.SteadyRate = float64(w.hi-w.lo) / w.tHi.Sub(w.tLo).Seconds()
	}
	w.mu.Unlock()
	rep.Throttled, rep.Conns = w.throttled.Load(), w.dials.Load()
	rep.TightestReceived = tightestWindow(p.srv.Requests(), p.cfg.rate)
	if err := ctx.Err(); err != nil {
		return rep, err
	}
	return rep, nil
}

// tightestWindow returns the shortest time in which the server received
// limit+1 consecutive requests, or 0 when it received no more than limit.
func tightestWindow(reqs []vattest.Request, limit int) time.Duration {
	times := make([]time.Time, 0, len(reqs))
	for _, r := range reqs {
		if r.Status != http.StatusTooManyRequests {
			times = append(times, r.Time)
		}
	}
	slices.SortFunc(times, time.Time.Compare)
	var tightest time.Duration
	for k := limit; k < len(times); k++ {
		if d := times[k].Sub(times[k-limit]); tightest == 0 || d < tightest {
			tightest = d
		}
	}
	return tightest
}

// watchGoroutines samples the number of goroutines until the returned
// function is called, which returns the most seen.
func watchGoroutines() func() int {
	var peak atomic.Int64
	peak.Store(int64(runtime.NumGoroutine()))
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if n := int64(runtime.NumGoroutine()); n > peak.Load() {
					peak.Store(n)
				}
			}
		}
	}()
	return func() int {
		close(done)
		<-stopped
		return int(peak.Load())
	}
}

// wire is the agent's transport: it counts requests, 429 answers and
// connections, notes when the steady state starts and ends, and keeps the
// times of the latest rate+1 requests to find the tightest window.
type wire struct {
	next   http.RoundTripper
	lo, hi int64 // request numbers that start and end the steady state

	throttled, dials atomic.Int64

	mu              sync.Mutex
	sent            int64
	first, tLo, tHi time.Time
	recent          []time.Time // ring of the latest len(recent) send times
	tightest        time.Duration
}

func (w *wire) reset() {
	w.throttled.Store(0)
	w.dials.Store(0)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sent, w.tightest = 0, 0
	w.first, w.tLo, w.tHi = time.Time{}, time.Time{}, time.Time{}
	clear(w.recent)
}

// RoundTrip sends req and counts it. The Client calls it as soon as the
// limiter lets the request go.
func (w *wire) RoundTrip(req *http.Request) (*http.Response, error) {
	w.note(time.Now)
	resp, err := w.next.RoundTrip(req)
	if err == nil && resp.StatusCode == http.StatusTooManyRequests {
		w.throttled.Add(1)
	}
	return resp, err
}

// note records a request sent at now(), read under the lock so that the
// times are in the order of the requests.
func (w *wire) note(now func() time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	t := now()
	n := w.sent
	w.sent++
	if n == 0 {
		w.first = t
	}
	switch n {
	case w.lo:
		w.tLo = t
	case w.hi:
		w.tHi = t
	}
	k := int64(len(w.recent))
	if n >= k-1 { // the request k-1 before this one is in the ring
		if d := t.Sub(w.recent[(n-(k-1))%k]); w.tightest == 0 || d < w.tightest {
			w.tightest = d
		}
	}
	w.recent[n%k] = t
}

package agentsync_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
)

// fakeHMRC answers GET …/obligations from a table the test controls, in
// process (no network), and records when each call came.
type fakeHMRC struct {
	mu    sync.Mutex
	now   func() time.Time
	obs   map[string][]vat.Obligation
	fail  map[string]int // VRN → status to answer
	calls []call
	// extra answers liabilities, payments and penalties (any VRN) by the
	// last path segment ("500 " before a body makes it a 500 answer);
	// extraCalls records those calls.
	extra      map[string]string
	extraCalls []string
}

type call struct {
	vrn string
	at  time.Time
}

func newFake(now func() time.Time) *fakeHMRC {
	return &fakeHMRC{now: now, obs: map[string][]vat.Obligation{}, fail: map[string]int{}, extra: map[string]string{}}
}

func (f *fakeHMRC) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	f.serve(rec, r)
	return rec.Result(), nil
}

func (f *fakeHMRC) serve(w http.ResponseWriter, r *http.Request) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	if len(parts) != 4 {
		http.NotFound(w, r)
		return
	}
	vrn := parts[2]
	f.mu.Lock()
	defer f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if parts[3] != "obligations" {
		f.extraCalls = append(f.extraCalls, parts[3])
		body, ok := f.extra[parts[3]]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if rest, ok := strings.CutPrefix(body, "500 "); ok {
			w.WriteHeader(http.StatusInternalServerError)
			body = rest
		}
		_, _ = w.Write([]byte(body))
		return
	}
	f.calls = append(f.calls, call{vrn, f.now()})
	switch f.fail[vrn] {
	case 0:
	case http.StatusForbidden:
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised."}`))
		return
	default:
		w.WriteHeader(f.fail[vrn])
		_, _ = w.Write([]byte(`{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`))
		return
	}
	_ = json.NewEncoder(w).Encode(map[string]any{"obligations": f.obs[vrn]})
}

func (f *fakeHMRC) set(vrn string, obs ...vat.Obligation) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.obs[vrn] = obs
}

func (f *fakeHMRC) setFail(vrn string, status int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[vrn] = status
}

func (f *fakeHMRC) callTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []time.Time
	for _, c := range f.calls {
		out = append(out, c.at)
	}
	return out
}

// fakeClock is a clock the test moves.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// events collects a planner's events.
type events struct {
	mu  sync.Mutex
	all []agentsync.Event
}

func (e *events) add(ev agentsync.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.all = append(e.all, ev)
}

func (e *events) take() []agentsync.Event {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := e.all
	e.all = nil
	return out
}

func kinds(evs []agentsync.Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, e.Kind.String()+" "+string(e.Obligation.PeriodKey))
	}
	return out
}

func newClient(t *testing.T, f *fakeHMRC, now func() time.Time) *vat.Client {
	t.Helper()
	c, err := vat.NewClient(vat.WithBaseURL("http://127.0.0.1:9/"), vat.WithHTTPClient(&http.Client{Transport: f}),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})),
		vat.WithRateLimiter(vat.NoRateLimit), vat.WithClock(now), vat.WithRetry(vat.RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	return c
}

func date(s string) vat.Date {
	d, err := vat.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02 15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

func quarter(key, start, end string) vat.Obligation {
	e := date(end)
	return vat.Obligation{PeriodKey: vat.PeriodKey(key), Start: date(start), End: e, Due: e.AddDays(1).AddMonths(1).AddDays(6), Status: vat.ObligationOpen}
}

func fulfilled(o vat.Obligation, received string) vat.Obligation {
	o.Status, o.Received = vat.ObligationFulfilled, date(received)
	return o
}

func (f *fakeHMRC) setExtra(endpoint, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.extra[endpoint] = body
}

func (f *fakeHMRC) takeExtraCalls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := f.extraCalls
	f.extraCalls = nil
	return out
}

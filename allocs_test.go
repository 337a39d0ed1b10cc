package vat_test

import (
	"net/http"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
)

// extraAllocs pins, for every endpoint, the allocations of one SDK call
// above those of the hand-written baseline of bench_test.go making the same
// request to the same loopback server (whose own allocations, counted in
// both, cancel out). Fraud headers off, and on from fraud.Static
// (HMRC's example set for DESKTOP_APP_DIRECT). The race detector makes
// the runtime allocate a little differently, so a -race build (as in CI)
// is allowed a wider slack around the same figures: still far narrower
// than any regression worth catching.
//
// A change in these numbers is a change in what every call costs: lower
// them when an allocation is saved, and raise them only for work the call
// must do.
var extraAllocs = map[string][2]int{ // call → {fraud off, fraud on}
	"Obligations": {10, 9},
	// +3 for the write watch (a trace whose WroteRequest tells whether a
	// failed submission could have reached HMRC whole).
	"SubmitReturn":        {16, 15},
	"ViewReturn":          {10, 9},
	"Liabilities":         {10, 9},
	"Payments":            {10, 9},
	"Penalties":           {9, 8},
	"FinancialDetails":    {9, 8},
	"CustomerInformation": {9, 8},
}

// allocSlack is how far a measured difference may stray from its pin. The
// loopback exchange now and then allocates a buffer more or less on one
// side. Under the race detector sync.Pool drops items at random, so pooled
// buffers are allocated again now and then, on either side.
func allocSlack() int {
	if raceEnabled {
		return 4
	}
	return 1
}

func TestAllocationsPerCall(t *testing.T) {
	if testing.Short() {
		t.Skip("measures allocations over loopback")
	}
	srv := benchServer(t)
	fh, encoded := benchFraudHeaders(t)
	for _, ec := range endpointCalls() {
		want, ok := extraAllocs[ec.name]
		if !ok {
			t.Errorf("%s: no pinned allocation count", ec.name)
			continue
		}
		for i, fraud := range []struct {
			name    string
			opts    []vat.Option
			encoded http.Header
		}{
			{"fraud=off", nil, nil},
			{"fraud=on", []vat.Option{vat.WithFraudHeaders(fraud.Static(*fh))}, encoded},
		} {
			t.Run(ec.name+"/"+fraud.name, func(t *testing.T) {
				c := benchClient(t, srv, fraud.opts...)
				hc := srv.Client()
				sdk := measureAllocs(t, func() error { return ec.sdk(c) })
				base := measureAllocs(t, func() error { return ec.base(hc, fraud.encoded, srv.URL) })
				extra := int(sdk - base)
				t.Logf("%s %s: sdk %.0f, baseline %.0f, extra %d allocations per call", ec.name, fraud.name, sdk, base, extra)
				if slack := allocSlack(); extra < want[i]-slack || extra > want[i]+slack {
					t.Errorf("%s %s: %d allocations per call above the baseline, pinned at %d (race detector: %v)",
						ec.name, fraud.name, extra, want[i], raceEnabled)
				}
			})
		}
	}
}

// measureAllocs returns the average allocations of call, after warming the
// connection up: the least of three averages, since a garbage collection
// (which empties sync.Pools) or, under the race detector, a pooled item
// dropped can only add allocations.
func measureAllocs(t *testing.T, call func() error) float64 {
	t.Helper()
	for range 3 {
		if err := call(); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	least := -1.0
	for range 3 {
		n := testing.AllocsPerRun(50, func() {
			if e := call(); e != nil {
				err = e
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		if least < 0 || n < least {
			least = n
		}
	}
	return least
}

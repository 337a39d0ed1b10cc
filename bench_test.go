package vat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"golang.org/x/oauth2"
)

// Each SDK call is paired with a hand-written net/http + encoding/json
// baseline that sends the same request to the same loopback server, reads
// the same HMRC fixture and decodes it into the same types, so the
// difference is the SDK's own work: validation, URL and header building,
// error classification. The rate limiter is off (NoRateLimit).
//
// Every pair runs three times. fraud=off sends no fraud prevention headers.
// fraud=on sends HMRC's full example set for DESKTOP_APP_DIRECT: the SDK
// takes it from fraud.Static, which encodes it once, and the baseline
// copies the same encoded values into each request. fraud=per-call sends the
// same set from a source that returns a new fraud.Headers for every request,
// as a fraud.DeviceCollector does, so the SDK checks and encodes it on every call
// (the collecting itself is not measured).
//
// Run them all with bench/run.sh, which prints one table with benchstat.

// benchServer serves HMRC's example bodies for every endpoint.
func benchServer(b testing.TB) *httptest.Server {
	b.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile(filepath.Join("testdata", "hmrc", name))
		if err != nil {
			b.Fatal(err)
		}
		return data
	}
	bodies := map[string][]byte{
		"GET /organisations/vat/123456789/obligations":             read("raml/ObligationsQuarterly.json"),
		"GET /organisations/vat/123456789/returns/{key}":           read("oas/ViewVATReturn/response-200-example-1.json"),
		"GET /organisations/vat/123456789/liabilities":             read("raml/Liabilities.json"),
		"GET /organisations/vat/123456789/penalties":               read("oas/RetrieveVATpenalties/response-200-example-2.json"),
		"POST /organisations/vat/123456789/returns":                read("oas/SubmitVATreturnforperiod/response-201-example.json"),
		"GET /organisations/vat/123456789/payments":                read("raml/Payments.json"),
		"GET /organisations/vat/123456789/information":             read("oas/RetrieveVATCustomerInformation/response-200-example-1.json"),
		"GET /organisations/vat/123456789/financial-details/{ref}": read("oas/Retrievefinancialdetails/response-200-example-1.json"),
	}
	mux := http.NewServeMux()
	for pattern, body := range bodies {
		status := http.StatusOK
		if pattern[0] == 'P' {
			status = http.StatusCreated
		}
		mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
			if r.Body != nil {
				io.Copy(io.Discard, r.Body)
			}
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("X-CorrelationId", "c75f40a6-a3df-4429-a697-471eeec46435")
			if status == http.StatusCreated {
				h.Set("Receipt-ID", "2dd537bc-4244-4ebf-bac9-96321be13cdc")
				h.Set("Receipt-Timestamp", "2018-02-14T09:32:15Z")
			}
			w.WriteHeader(status)
			w.Write(body)
		})
	}
	srv := httptest.NewServer(mux)
	b.Cleanup(srv.Close)
	return srv
}

func benchClient(b testing.TB, srv *httptest.Server, opts ...vat.Option) *vat.Client {
	b.Helper()
	opts = append([]vat.Option{vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "benchmark-token"}))}, opts...)
	c, err := vat.NewClient(opts...)
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// benchFraudHeaders returns HMRC's example header set for
// DESKTOP_APP_DIRECT (fraud prevention specification 3.3), all fourteen
// headers, as the model the SDK encodes and as the encoded header the
// baseline sends. It fails b unless the SDK's encoding of the model is
// exactly the example, so that both send the same bytes.
func benchFraudHeaders(b testing.TB) (*fraud.Headers, http.Header) {
	b.Helper()
	data, err := os.ReadFile(filepath.Join("fraud", "testdata", "spec-3.3-connection-methods.json"))
	if err != nil {
		b.Fatal(err)
	}
	var spec struct {
		ExampleHeaderSets map[string]map[string]string `json:"exampleHeaderSets"`
	}
	if err := json.Unmarshal(data, &spec); err != nil {
		b.Fatal(err)
	}
	set := spec.ExampleHeaderSets[string(fraud.DesktopAppDirect)]
	if len(set) != 14 {
		b.Fatalf("the example set for DESKTOP_APP_DIRECT has %d headers, want 14", len(set))
	}
	encoded := http.Header{}
	for k, v := range set {
		encoded.Set(k, v)
	}
	fh, err := fraud.Parse(encoded)
	if err != nil {
		b.Fatal(err)
	}
	got, err := fh.Header()
	if err != nil {
		b.Fatal(err)
	}
	if !reflect.DeepEqual(got, encoded) {
		b.Fatalf("the SDK encodes the example set differently:\n got %v\nwant %v", got, encoded)
	}
	return fh, encoded
}

// baseline is what a careful hand-written call does: build the request,
// set HMRC's headers and the fraud prevention headers fraud (encoded once,
// keys already canonical, so they are copied without allocating), read the
// whole body, decode it.
func baseline(hc *http.Client, fraud http.Header, method, url string, body []byte, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
	req.Header.Set("Authorization", "Bearer benchmark-token")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range fraud {
		req.Header[k] = v
	}
	resp, err := hc.Do(req)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return err
	}
	if resp.StatusCode >= 400 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return json.Unmarshal(data, out)
}

// benchPair runs sdk and base against one server, without and with fraud
// prevention headers, as BenchmarkX/fraud={off,on,per-call}/impl={sdk,baseline}.
func benchPair(b *testing.B, sdk func(*vat.Client) error, base func(hc *http.Client, fraud http.Header, url string) error) {
	srv := benchServer(b)
	fh, encoded := benchFraudHeaders(b)
	for _, mode := range []struct {
		name    string
		opts    []vat.Option
		encoded http.Header
	}{
		{"fraud=off", nil, nil},
		{"fraud=on", []vat.Option{vat.WithFraudHeaders(fraud.Static(*fh))}, encoded},
		{"fraud=per-call", []vat.Option{vat.WithFraudHeaders(fraud.SourceFunc(
			func(context.Context) (*fraud.Headers, error) { return fh.Clone(), nil }))}, encoded},
	} {
		b.Run(mode.name, func(b *testing.B) {
			b.Run("impl=sdk", func(b *testing.B) {
				c := benchClient(b, srv, mode.opts...)
				b.ReportAllocs()
				for b.Loop() {
					if err := sdk(c); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("impl=baseline", func(b *testing.B) {
				hc := srv.Client()
				b.ReportAllocs()
				for b.Loop() {
					if err := base(hc, mode.encoded, srv.URL); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

var (
	benchFrom, _ = vat.ParseDate("2017-01-01")
	benchTo, _   = vat.ParseDate("2017-12-31")
	benchReturn  = vat.Return{PeriodKey: "A001", VATDueSales: 10550, VATDueAcquisitions: -10045, TotalVATDue: 505, VATReclaimedCurrPeriod: 10515,
		NetVATDue: 10010, TotalValueSalesExVAT: 300, TotalValuePurchasesExVAT: 300, TotalValueGoodsSuppliedExVAT: 3000,
		TotalAcquisitionsExVAT: 3000, Finalised: true}
)

// endpointCall is one endpoint called through the SDK and through the
// hand-written baseline, against benchServer.
type endpointCall struct {
	name string
	sdk  func(*vat.Client) error
	base func(hc *http.Client, fraud http.Header, url string) error
}

// endpointCalls lists every endpoint, each with its SDK call and baseline.
func endpointCalls() []endpointCall {
	ctx := context.Background()
	return []endpointCall{
		{"Obligations", func(c *vat.Client) error {
			_, err := c.Obligations(ctx, "123456789", vat.ObligationsQuery{From: benchFrom, To: benchTo, Status: vat.ObligationFulfilled})
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out struct {
				Obligations []vat.Obligation `json:"obligations"`
			}
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/obligations?from=2017-01-01&status=F&to=2017-12-31", nil, &out)
		}},
		{"SubmitReturn", func(c *vat.Client) error {
			_, err := c.SubmitReturn(ctx, "123456789", benchReturn)
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			body, err := json.Marshal(benchReturn)
			if err != nil {
				return err
			}
			var out struct {
				ProcessingDate   string `json:"processingDate"`
				FormBundleNumber string `json:"formBundleNumber"`
				PaymentIndicator string `json:"paymentIndicator"`
				ChargeRefNumber  string `json:"chargeRefNumber"`
			}
			return baseline(hc, fraud, "POST", url+"/organisations/vat/123456789/returns", body, &out)
		}},
		{"ViewReturn", func(c *vat.Client) error {
			_, err := c.ViewReturn(ctx, "123456789", "#001")
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out vat.Return
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/returns/%23001", nil, &out)
		}},
		{"Liabilities", func(c *vat.Client) error {
			_, err := c.Liabilities(ctx, "123456789", vat.DateRange{From: benchFrom, To: benchTo})
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out struct {
				Liabilities []vat.Liability `json:"liabilities"`
			}
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/liabilities?from=2017-01-01&to=2017-12-31", nil, &out)
		}},
		{"Payments", func(c *vat.Client) error {
			_, err := c.Payments(ctx, "123456789", vat.DateRange{From: benchFrom, To: benchTo})
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out struct {
				Payments []vat.Payment `json:"payments"`
			}
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/payments?from=2017-01-01&to=2017-12-31", nil, &out)
		}},
		{"Penalties", func(c *vat.Client) error {
			_, err := c.Penalties(ctx, "123456789")
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out vat.Penalties
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/penalties", nil, &out)
		}},
		{"FinancialDetails", func(c *vat.Client) error {
			_, err := c.FinancialDetails(ctx, "123456789", "XD002610109856")
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out vat.FinancialDetails
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/financial-details/XD002610109856", nil, &out)
		}},
		{"CustomerInformation", func(c *vat.Client) error {
			_, err := c.CustomerInformation(ctx, "123456789")
			return err
		}, func(hc *http.Client, fraud http.Header, url string) error {
			var out vat.CustomerInformation
			return baseline(hc, fraud, "GET", url+"/organisations/vat/123456789/information", nil, &out)
		}},
	}
}

// benchCall runs the pair of the endpoint called name.
func benchCall(b *testing.B, name string) {
	for _, ec := range endpointCalls() {
		if ec.name == name {
			benchPair(b, ec.sdk, ec.base)
			return
		}
	}
	b.Fatalf("no endpoint call %s", name)
}

func BenchmarkObligations(b *testing.B)         { benchCall(b, "Obligations") }
func BenchmarkSubmitReturn(b *testing.B)        { benchCall(b, "SubmitReturn") }
func BenchmarkViewReturn(b *testing.B)          { benchCall(b, "ViewReturn") }
func BenchmarkLiabilities(b *testing.B)         { benchCall(b, "Liabilities") }
func BenchmarkPayments(b *testing.B)            { benchCall(b, "Payments") }
func BenchmarkPenalties(b *testing.B)           { benchCall(b, "Penalties") }
func BenchmarkFinancialDetails(b *testing.B)    { benchCall(b, "FinancialDetails") }
func BenchmarkCustomerInformation(b *testing.B) { benchCall(b, "CustomerInformation") }

func BenchmarkMoneyJSON(b *testing.B) {
	b.ReportAllocs()
	m := vat.Money(-10045)
	for b.Loop() {
		data, err := json.Marshal(m)
		if err != nil {
			b.Fatal(err)
		}
		if err := json.Unmarshal(data, &m); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkReturnJSON(b *testing.B) {
	b.ReportAllocs()
	r := vat.Return{PeriodKey: "A001", VATDueSales: 10550, VATDueAcquisitions: -10045, TotalVATDue: 505, VATReclaimedCurrPeriod: 10515,
		NetVATDue: 10010, TotalValueSalesExVAT: 300, TotalValuePurchasesExVAT: 300, TotalValueGoodsSuppliedExVAT: 3000,
		TotalAcquisitionsExVAT: 3000, Finalised: true}
	for b.Loop() {
		data, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		var back vat.Return
		if err := json.Unmarshal(data, &back); err != nil {
			b.Fatal(err)
		}
	}
}

// memoryTransport answers every request with body, from memory.
type memoryTransport struct{ body []byte }

func (m memoryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Body != nil {
		req.Body.Close()
	}
	return &http.Response{StatusCode: http.StatusOK, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(m.body)),
		ContentLength: int64(len(m.body)), Request: req}, nil
}

// BenchmarkObligationsInMemory is BenchmarkObligations with a transport
// that answers from memory instead of a loopback server: no network, no
// server, so what differs between the SDK and the baseline is the SDK's own
// work alone, without the scheduling noise of a round trip.
func BenchmarkObligationsInMemory(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "hmrc", "raml", "ObligationsQuarterly.json"))
	if err != nil {
		b.Fatal(err)
	}
	hc := &http.Client{Transport: memoryTransport{body}}
	fh, encoded := benchFraudHeaders(b)
	ctx := context.Background()
	for _, mode := range []struct {
		name    string
		opts    []vat.Option
		encoded http.Header
	}{
		{"fraud=off", nil, nil},
		{"fraud=on", []vat.Option{vat.WithFraudHeaders(fraud.Static(*fh))}, encoded},
	} {
		b.Run(mode.name, func(b *testing.B) {
			b.Run("impl=sdk", func(b *testing.B) {
				c, err := vat.NewClient(append([]vat.Option{vat.WithBaseURL("http://127.0.0.1:9"), vat.WithHTTPClient(hc),
					vat.WithRateLimiter(vat.NoRateLimit),
					vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "benchmark-token"}))}, mode.opts...)...)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportAllocs()
				for b.Loop() {
					if _, err := c.Obligations(ctx, "123456789", vat.ObligationsQuery{From: benchFrom, To: benchTo, Status: vat.ObligationFulfilled}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("impl=baseline", func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var out struct {
						Obligations []vat.Obligation `json:"obligations"`
					}
					if err := baseline(hc, mode.encoded, "GET", "http://127.0.0.1:9/organisations/vat/123456789/obligations?from=2017-01-01&status=F&to=2017-12-31", nil, &out); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkLimiterInteractiveWait measures how long an interactive call
// waits on an ApplicationLimiter at 3, 20 and 200 requests per second while
// eight workers keep it saturated with bulk work (vat.WithBulk), each
// request reported sent as soon as it is let go; interactive calls arrive
// 0 to 6 slots apart. It reports the interactive wait's median and 99th
// percentile in milliseconds and in slots (1/rate), and the bulk requests
// let go per second meanwhile.
func BenchmarkLimiterInteractiveWait(b *testing.B) {
	// HMRC's rate, where a slot (340 ms) dwarfs scheduling delays, and
	// raised rates, where a slot is only a few milliseconds.
	for _, perSecond := range []int{3, 20, 200} {
		b.Run(fmt.Sprintf("rate=%d", perSecond), func(b *testing.B) { benchmarkInteractiveWait(b, perSecond) })
	}
}

func benchmarkInteractiveWait(b *testing.B, perSecond int) {
	lim, err := vat.NewLimiter(perSecond)
	if err != nil {
		b.Fatal(err)
	}
	slot := (time.Second + 20*time.Millisecond) / time.Duration(perSecond)
	// The Client marks bulk calls' contexts; a Client with an observing
	// limiter is the simplest way to get such a context here.
	bulkCtx, cancel := context.WithCancel(bulkContext(b))
	var bulkDone atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for lim.Wait(bulkCtx) == nil {
				lim.Sent(bulkCtx, time.Now())
				bulkDone.Add(1)
			}
		})
	}
	time.Sleep(time.Second) // the bulk work fills the limiter's window
	var waits []time.Duration
	bulkBefore, start := bulkDone.Load(), time.Now()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		// A user's calls arrive 0 to 6 slots apart (a quarter of the rate
		// on average), anywhere between slots.
		time.Sleep(time.Duration(i%7)*slot + slot/5)
		asked := time.Now()
		if err := lim.Wait(context.Background()); err != nil {
			b.Fatal(err)
		}
		waits = append(waits, time.Since(asked))
		lim.Sent(context.Background(), time.Now())
	}
	b.StopTimer()
	bulkRate := float64(bulkDone.Load()-bulkBefore) / time.Since(start).Seconds()
	cancel()
	wg.Wait()
	slices.Sort(waits)
	p50, p99 := waits[len(waits)/2], waits[(len(waits)*99)/100]
	b.ReportMetric(float64(p50)/float64(time.Millisecond), "p50-ms")
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
	b.ReportMetric(float64(p99)/float64(slot), "p99-slots")
	b.ReportMetric(bulkRate, "bulk-req/s")
}

// bulkContext returns a context for which vat.IsBulk reports true, as the
// Client passes its limiter for a call made WithBulk.
func bulkContext(b *testing.B) context.Context {
	b.Helper()
	rec := &bulkRecorder{}
	c, err := vat.NewClient(vat.WithBaseURL("http://127.0.0.1:9"), vat.WithHTTPClient(&http.Client{Transport: memoryTransport{[]byte(`{"obligations":[]}`)}}),
		vat.WithRateLimiter(rec), vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "benchmark-token"})))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := c.Obligations(context.Background(), "123456789", vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithBulk()); err != nil {
		b.Fatal(err)
	}
	if rec.ctx == nil || !vat.IsBulk(rec.ctx) {
		b.Fatal("the Client did not pass its limiter a bulk context")
	}
	return context.WithoutCancel(rec.ctx)
}

// bulkRecorder keeps the context of the latest wait.
type bulkRecorder struct{ ctx context.Context }

func (r *bulkRecorder) Wait(ctx context.Context) error { r.ctx = ctx; return nil }

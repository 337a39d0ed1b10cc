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
	"testing"

	"github.com/go-mtd/vat"
	"golang.org/x/oauth2"
)

// Each SDK call is paired with a hand-written net/http + encoding/json
// baseline that sends the same request to the same loopback server, reads
// the same HMRC fixture and decodes it into the same types, so the
// difference is the SDK's own work: validation, URL and header building,
// error classification. The rate limiter is off (NoRateLimit).
//
// Run them all with bench/run.sh, which prints one table with benchstat.

// benchServer serves HMRC's example bodies for every endpoint.
func benchServer(b *testing.B) *httptest.Server {
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

func benchClient(b *testing.B, srv *httptest.Server) *vat.Client {
	b.Helper()
	c, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "benchmark-token"})))
	if err != nil {
		b.Fatal(err)
	}
	return c
}

// baseline is what a careful hand-written call does: build the request,
// set HMRC's headers, read the whole body, decode it.
func baseline(hc *http.Client, method, url string, body []byte, out any) error {
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

func benchPair(b *testing.B, sdk func(*vat.Client) error, base func(hc *http.Client, url string) error) {
	srv := benchServer(b)
	b.Run("impl=sdk", func(b *testing.B) {
		c := benchClient(b, srv)
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
			if err := base(hc, srv.URL); err != nil {
				b.Fatal(err)
			}
		}
	})
}

var (
	benchFrom, _ = vat.ParseDate("2017-01-01")
	benchTo, _   = vat.ParseDate("2017-12-31")
)

func BenchmarkObligations(b *testing.B) {
	ctx := context.Background()
	benchPair(b, func(c *vat.Client) error {
		_, err := c.Obligations(ctx, "123456789", vat.ObligationsQuery{From: benchFrom, To: benchTo, Status: vat.ObligationFulfilled})
		return err
	}, func(hc *http.Client, url string) error {
		var out struct {
			Obligations []vat.Obligation `json:"obligations"`
		}
		return baseline(hc, "GET", url+"/organisations/vat/123456789/obligations?from=2017-01-01&status=F&to=2017-12-31", nil, &out)
	})
}

func BenchmarkSubmitReturn(b *testing.B) {
	ctx := context.Background()
	r := vat.Return{PeriodKey: "A001", VATDueSales: 10550, VATDueAcquisitions: -10045, TotalVATDue: 505, VATReclaimedCurrPeriod: 10515,
		NetVATDue: 10010, TotalValueSalesExVAT: 300, TotalValuePurchasesExVAT: 300, TotalValueGoodsSuppliedExVAT: 3000,
		TotalAcquisitionsExVAT: 3000, Finalised: true}
	benchPair(b, func(c *vat.Client) error {
		_, err := c.SubmitReturn(ctx, "123456789", r)
		return err
	}, func(hc *http.Client, url string) error {
		body, err := json.Marshal(r)
		if err != nil {
			return err
		}
		var out struct {
			ProcessingDate   string `json:"processingDate"`
			FormBundleNumber string `json:"formBundleNumber"`
			PaymentIndicator string `json:"paymentIndicator"`
			ChargeRefNumber  string `json:"chargeRefNumber"`
		}
		return baseline(hc, "POST", url+"/organisations/vat/123456789/returns", body, &out)
	})
}

func BenchmarkViewReturn(b *testing.B) {
	ctx := context.Background()
	benchPair(b, func(c *vat.Client) error {
		_, err := c.ViewReturn(ctx, "123456789", "#001")
		return err
	}, func(hc *http.Client, url string) error {
		var out vat.Return
		return baseline(hc, "GET", url+"/organisations/vat/123456789/returns/%23001", nil, &out)
	})
}

func BenchmarkLiabilities(b *testing.B) {
	ctx := context.Background()
	benchPair(b, func(c *vat.Client) error {
		_, err := c.Liabilities(ctx, "123456789", vat.DateRange{From: benchFrom, To: benchTo})
		return err
	}, func(hc *http.Client, url string) error {
		var out struct {
			Liabilities []vat.Liability `json:"liabilities"`
		}
		return baseline(hc, "GET", url+"/organisations/vat/123456789/liabilities?from=2017-01-01&to=2017-12-31", nil, &out)
	})
}

func BenchmarkPenalties(b *testing.B) {
	ctx := context.Background()
	benchPair(b, func(c *vat.Client) error {
		_, err := c.Penalties(ctx, "123456789")
		return err
	}, func(hc *http.Client, url string) error {
		var out vat.Penalties
		return baseline(hc, "GET", url+"/organisations/vat/123456789/penalties", nil, &out)
	})
}

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

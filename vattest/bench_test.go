package vattest

import (
	"io"
	"net/http"
	"testing"
)

func benchRequest(b *testing.B, srv *Server, tok Token, vrn string) *http.Request {
	req, err := http.NewRequest("GET", srv.URL+"/organisations/vat/"+vrn+"/obligations?from=2024-07-01&to=2025-06-30", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	return req
}

func benchGet(b *testing.B, c *http.Client, req *http.Request) {
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		b.Fatalf("status %d", resp.StatusCode)
	}
}

// BenchmarkObligations measures one obligations GET at a time through a
// real loopback connection (client and server in this process).
func BenchmarkObligations(b *testing.B) {
	srv := NewServer(WithRateLimit(0))
	defer srv.Close()
	srv.SetNow(testNow)
	user, err := srv.CreateOrganisation(Organisation{RegistrationDate: "2020-01-01"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := srv.IssueToken(user.VRN)
	if err != nil {
		b.Fatal(err)
	}
	req := benchRequest(b, srv, tok, user.VRN)
	c := srv.Client()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		benchGet(b, c, req)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkObligationsParallel measures throughput with several
// connections at once.
func BenchmarkObligationsParallel(b *testing.B) {
	srv := NewServer(WithRateLimit(0))
	defer srv.Close()
	srv.SetNow(testNow)
	user, err := srv.CreateOrganisation(Organisation{RegistrationDate: "2020-01-01"})
	if err != nil {
		b.Fatal(err)
	}
	tok, err := srv.IssueToken(user.VRN)
	if err != nil {
		b.Fatal(err)
	}
	tr := srv.Client().Transport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr}
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		req := benchRequest(b, srv, tok, user.VRN)
		for pb.Next() {
			benchGet(b, c, req)
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

package vat_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// chunkedObligations returns an obligations body of about 12 KB and a
// handler that sends it chunked: no Content-Length, written in four parts
// with a flush after each.
func chunkedObligations(t testing.TB) ([]byte, int, http.HandlerFunc) {
	t.Helper()
	const n = 110
	var body bytes.Buffer
	body.WriteString(`{"obligations":[`)
	for i := range n {
		if i > 0 {
			body.WriteByte(',')
		}
		fmt.Fprintf(&body, `{"start":"2017-01-01","end":"2017-03-31","due":"2017-05-07","status":"F","periodKey":"%04d","received":"2017-05-06"}`, i)
	}
	body.WriteString(`]}`)
	data := body.Bytes()
	require.InDelta(t, 12<<10, len(data), 1<<10, "about 12 KB")
	return data, n, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-CorrelationId", "c75f40a6-a3df-4429-a697-471eeec46435")
		part := len(data)/4 + 1
		for rest := data; len(rest) > 0; {
			k := min(part, len(rest))
			if _, err := w.Write(rest[:k]); err != nil {
				return
			}
			w.(http.Flusher).Flush()
			rest = rest[k:]
		}
	}
}

// eofBody records whether a response body was read to its end before it
// was closed: what lets net/http put the connection back for reuse.
type eofBody struct {
	io.ReadCloser
	eof    bool
	closed *atomic.Int64 // bodies closed
	early  *atomic.Int64 // bodies closed before their end was read
}

func (b *eofBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err == io.EOF {
		b.eof = true
	}
	return n, err
}

func (b *eofBody) Close() error {
	b.closed.Add(1)
	if !b.eof {
		b.early.Add(1)
	}
	return b.ReadCloser.Close()
}

// bodyWatch is a transport that wraps each response body in an eofBody.
type bodyWatch struct {
	next          http.RoundTripper
	closed, early atomic.Int64
}

func (w *bodyWatch) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := w.next.RoundTrip(r)
	if err == nil {
		resp.Body = &eofBody{ReadCloser: resp.Body, closed: &w.closed, early: &w.early}
	}
	return resp, err
}

// chunkedServer starts a server of chunkedObligations that counts the
// connections it accepts, after checking that its responses really are
// chunked and as long as intended.
func chunkedServer(t testing.TB) (*httptest.Server, *atomic.Int64, int) {
	data, n, handler := chunkedObligations(t)
	var newConns atomic.Int64
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			newConns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	probe := &http.Client{Transport: &http.Transport{}}
	resp, err := probe.Get(srv.URL + "/organisations/vat/123456789/obligations")
	require.NoError(t, err)
	got, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	resp.Body.Close()
	probe.CloseIdleConnections()
	require.Equal(t, []string{"chunked"}, resp.TransferEncoding)
	require.EqualValues(t, -1, resp.ContentLength)
	require.Equal(t, data, got)
	newConns.Store(0)
	return srv, &newConns, n
}

// TestChunkedResponsesAreReadToTheEnd makes 2,000 calls whose responses are
// chunked and about 12 KB long, and checks that the Client reads every body
// to its end before closing it, which is what lets the transport reuse the
// connection. (A client that stops at the end of the JSON value and closes
// the body before the last chunk arrives loses the connection on a
// fraction of such calls.) How many connections were opened depends on the
// scheduler as well, so it is measured by BenchmarkChunkedConnections, not
// asserted here.
func TestChunkedResponsesAreReadToTheEnd(t *testing.T) {
	t.Parallel()
	const calls = 2000
	srv, _, n := chunkedServer(t)
	hc := srv.Client()
	watch := &bodyWatch{next: hc.Transport}
	hc.Transport = watch
	c, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(hc),
		vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "connection-reuse"})))
	require.NoError(t, err)
	ctx := context.Background()
	for i := range calls {
		var meta vat.ResponseMeta
		obs, err := c.Obligations(ctx, "123456789", vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithResponseMeta(&meta))
		require.NoError(t, err, "call %d", i)
		require.Len(t, obs, n, "call %d", i)
		require.Empty(t, meta.Header.Get("Content-Length"), "call %d", i)
	}
	assert.EqualValues(t, calls, watch.closed.Load(), "every body closed")
	assert.EqualValues(t, 0, watch.early.Load(), "bodies closed before their end")
}

// BenchmarkChunkedConnections reports the connections the server accepted
// per 2,000 chunked calls (1 on a quiet machine: every body is read to its
// end, so the connection is reused).
func BenchmarkChunkedConnections(b *testing.B) {
	srv, conns, _ := chunkedServer(b)
	c, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "connection-reuse"})))
	require.NoError(b, err)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		conns.Store(0)
		for range 2000 {
			if _, err := c.Obligations(ctx, "123456789", vat.ObligationsQuery{Status: vat.ObligationOpen}); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(conns.Load()), "conns/2000calls")
	}
}

package vat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
	"golang.org/x/oauth2"
)

// connCounter is a dialer that counts the client's open connections, so a
// test can show none is leaked.
type connCounter struct {
	open, opened atomic.Int64
}

type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (cc *countedConn) Close() error {
	cc.once.Do(func() { cc.c.open.Add(-1) })
	return cc.Conn.Close()
}

func (c *connCounter) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	c.open.Add(1)
	c.opened.Add(1)
	return &countedConn{Conn: conn, c: c}, nil
}

// fault is one row of the fault-injection matrix.
type fault struct {
	name   string
	fault  vattest.Fault // Method and Path are filled in per endpoint
	cancel bool          // the caller's context is already cancelled
	slow   bool          // the caller's deadline passes during the request
}

// endpointCase is one column: a call and how a fault is aimed at it.
type endpointCase struct {
	name   string
	method string
	path   func(vrn string) string
	call   func(ctx context.Context, c *vat.Client, vrn vat.VRN, key vat.PeriodKey, meta *vat.ResponseMeta) (*vat.Receipt, error)
}

var faultEndpoints = []endpointCase{
	{"Obligations", "GET", func(v string) string { return "/organisations/vat/" + v + "/obligations" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			_, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithResponseMeta(m))
			return nil, err
		}},
	{"SubmitReturn", "POST", func(v string) string { return "/organisations/vat/" + v + "/returns" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, key vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			return c.SubmitReturn(ctx, vrn, faultReturn(key), vat.WithResponseMeta(m))
		}},
	{"SubmitReturn, resend allowed", "POST", func(v string) string { return "/organisations/vat/" + v + "/returns" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, key vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			return c.SubmitReturn(ctx, vrn, faultReturn(key), vat.WithResponseMeta(m), vat.WithResubmitIfNotReceived())
		}},
	{"ViewReturn", "GET", func(v string) string { return "/organisations/vat/" + v + "/returns/*" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			r, err := c.ViewReturn(ctx, vrn, filedKey(ctx), vat.WithResponseMeta(m))
			if err == nil && *r != faultReturn(filedKey(ctx)) {
				return nil, errors.New("ViewReturn gave a return other than the one filed")
			}
			return nil, err
		}},
	{"Liabilities", "GET", func(v string) string { return "/organisations/vat/" + v + "/liabilities" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			_, err := c.Liabilities(ctx, vrn, lastYear(), vat.WithResponseMeta(m))
			return nil, err
		}},
	{"Payments", "GET", func(v string) string { return "/organisations/vat/" + v + "/payments" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			_, err := c.Payments(ctx, vrn, lastYear(), vat.WithResponseMeta(m))
			return nil, err
		}},
	{"Penalties", "GET", func(v string) string { return "/organisations/vat/" + v + "/penalties" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			_, err := c.Penalties(ctx, vrn, vat.WithResponseMeta(m))
			return nil, err
		}},
	{"FinancialDetails", "GET", func(v string) string { return "/organisations/vat/" + v + "/financial-details/*" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			_, err := c.FinancialDetails(ctx, vrn, chargeRef(ctx), vat.WithResponseMeta(m))
			return nil, err
		}},
	{"CustomerInformation", "GET", func(v string) string { return "/organisations/vat/" + v + "/information" },
		func(ctx context.Context, c *vat.Client, vrn vat.VRN, _ vat.PeriodKey, m *vat.ResponseMeta) (*vat.Receipt, error) {
			_, err := c.CustomerInformation(ctx, vrn, vat.WithResponseMeta(m))
			return nil, err
		}},
}

func faultReturn(key vat.PeriodKey) vat.Return {
	r := vat.Return{PeriodKey: key, VATDueSales: 250_000, VATReclaimedCurrPeriod: 80_000, TotalValueSalesExVAT: 12_500, Finalised: true}
	r.ComputeTotals()
	return r
}

type (
	filedKeyCtx  struct{}
	chargeRefCtx struct{}
)

// chargeRef is the charge reference of the return filed before the fault.
func chargeRef(ctx context.Context) string { return ctx.Value(chargeRefCtx{}).(string) }

// filedKey is the period of the return filed before the fault, for reads.
func filedKey(ctx context.Context) vat.PeriodKey { return ctx.Value(filedKeyCtx{}).(vat.PeriodKey) }

func lastYear() vat.DateRange {
	today := vat.DateOf(time.Now().UTC())
	return vat.DateRange{From: today.AddYears(-1).AddDays(1), To: today}
}

var faultRows = []fault{
	{name: "429 burst", fault: vattest.Fault{Times: 2, Status: 429}},
	{name: "429 burst, Retry-After", fault: vattest.Fault{Times: 2, Status: 429, RetryAfter: "1"}},
	{name: "503 maintenance", fault: vattest.Fault{Times: 2, Status: 503,
		Body: []byte(`{"code":"SCHEDULED_MAINTENANCE","message":"The service is undergoing scheduled maintenance"}`)}},
	{name: "500", fault: vattest.Fault{Times: 1, Status: 500}},
	{name: "500 after processing", fault: vattest.Fault{Times: 1, Status: 500, Action: vattest.FaultProcessThenRespond}},
	{name: "reset before body", fault: vattest.Fault{Times: 1, Action: vattest.FaultDropBeforeBody}},
	{name: "reset after processing", fault: vattest.Fault{Times: 1, Action: vattest.FaultDropAfterProcessing}},
	{name: "slow past deadline", fault: vattest.Fault{Times: 1, Delay: 2 * time.Second}, slow: true},
	{name: "truncated body", fault: vattest.Fault{Times: 1, Status: 200, Body: []byte(`{"a":`), ContentLength: 4000}},
	{name: "302 maintenance", fault: vattest.Fault{Times: 1, Status: 302, Location: "https://maintenance.invalid/vat", ContentType: "text/html",
		Body: []byte("<html><head><title>Service unavailable</title></head><body>Down for maintenance</body></html>")}},
	{name: "HTML error page", fault: vattest.Fault{Times: 1, Status: 502, ContentType: "text/html",
		Body: []byte("<html><head><title>502 Bad Gateway</title></head><body>Bad Gateway</body></html>")}},
	{name: "10 MB body", fault: vattest.Fault{Times: 1, Status: 200, Body: bytes.Repeat([]byte(" "), 10<<20)}},
	{name: "malformed JSON", fault: vattest.Fault{Times: 1, Status: 200, Body: []byte(`{"obligations":[{"start":}]}`)}},
	{name: "cancelled context", cancel: true},
}

// TestFaultMatrix injects every fault into every endpoint through vattest
// and checks the SDK's answer: no panic; a correct result or a typed error;
// no goroutine or connection left behind; no submission lost or sent twice.
// Run with -v to print the matrix (faults × endpoints → outcome).
func TestFaultMatrix(t *testing.T) {
	defer goleak.VerifyNone(t)
	srv := vattest.NewServer(vattest.WithRateLimit(0))
	defer srv.Close()
	conns := &connCounter{}
	transport := &http.Transport{DialContext: conns.dial, MaxIdleConnsPerHost: 4}
	defer transport.CloseIdleConnections()
	policy := vat.RetryPolicy{MaxAttempts: 4, InitialBackoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond, MaxRetryAfter: 50 * time.Millisecond,
		SettleDelay: 5 * time.Millisecond, SettleTimeout: 5 * time.Second}

	outcomes := map[string]map[string]string{}
	var posted, clientAccepted, hmrcAccepted int
	for _, f := range faultRows {
		outcomes[f.name] = map[string]string{}
		for _, e := range faultEndpoints {
			user, err := srv.CreateOrganisation(vattest.Organisation{Plan: &vattest.Plan{Fulfilled: 1, Open: 2}})
			require.NoError(t, err)
			tok, err := srv.IssueToken(user.VRN)
			require.NoError(t, err)
			var ended []vat.PeriodKey
			for _, o := range srv.Obligations(user.VRN) {
				end, _ := vat.ParseDate(o.End)
				if o.Received == "" && end.Before(vat.DateOf(time.Now().UTC())) {
					ended = append(ended, vat.PeriodKey(o.PeriodKey))
				}
			}
			require.Len(t, ended, 2)
			c, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(&http.Client{Transport: transport, Timeout: 10 * time.Second}),
				vat.WithTokenSource(oauth2.StaticTokenSource(tok.OAuth2())), vat.WithRateLimiter(vat.NoRateLimit), vat.WithRetry(policy))
			require.NoError(t, err)
			// Data for the reads: a return filed, its liability partly paid.
			filed, err := c.SubmitReturn(context.Background(), vat.VRN(user.VRN), faultReturn(ended[0]))
			require.NoError(t, err)
			require.NoError(t, srv.RecordPayment(user.VRN, string(ended[0]), 50_000, vat.DateOf(time.Now().UTC()).String()))
			key := ended[1]
			base := srv.Submissions(user.VRN)

			if !f.cancel {
				inj := f.fault
				inj.Method, inj.Path = e.method, e.path(user.VRN)
				if e.method == "POST" && inj.Status == 200 {
					// A damaged success answer to a submission is HMRC's 201
					// for a return it has filed.
					inj.Status, inj.Action = 201, vattest.FaultProcessThenRespond
				}
				require.NoError(t, srv.InjectFault(inj))
			}
			parent := context.WithValue(context.WithValue(context.Background(), filedKeyCtx{}, ended[0]), chargeRefCtx{}, filed.ChargeRefNumber)
			ctx, cancel := context.WithTimeout(parent, 10*time.Second)
			if f.slow {
				ctx, cancel = context.WithTimeout(parent, 150*time.Millisecond)
			}
			if f.cancel {
				cancel()
			}
			before := len(srv.Requests())
			var meta vat.ResponseMeta
			rc, err := e.call(ctx, c, vat.VRN(user.VRN), key, &meta)
			cancel()
			srv.ClearFaults()

			out := classify(rc, err, meta)
			outcomes[f.name][e.name] = out
			cell := f.name + " × " + e.name
			assert.NotEqual(t, "untyped error", out, "%s: %v", cell, err)
			if f.cancel {
				assert.ErrorIs(t, err, context.Canceled, cell)
				assert.Equal(t, before, len(srv.Requests()), "%s: nothing sent", cell)
			}
			if f.slow && e.name != "SubmitReturn" {
				assert.ErrorIs(t, err, context.DeadlineExceeded, cell)
			}
			if e.method == "POST" {
				counts := srv.Submissions(user.VRN)
				counts.Accepted -= base.Accepted
				counts.Received -= base.Received
				assert.LessOrEqual(t, counts.Accepted, 1, "%s: never filed twice", cell)
				switch {
				case counts.Received == 0:
					assert.Error(t, err, "%s: nothing was sent", cell)
				case rc != nil:
					assert.Equal(t, 1, counts.Accepted, "%s: a receipt means HMRC holds the return", cell)
				case errors.Is(err, vat.ErrSubmissionNotReceived):
					assert.Equal(t, 0, counts.Accepted, "%s: 'not received' is true", cell)
				default:
					assert.ErrorIs(t, err, vat.ErrSubmissionOutcomeUnknown, "%s: every other failure says the outcome is unknown", cell)
				}
				if rc != nil {
					clientAccepted++
				}
				hmrcAccepted += counts.Accepted
				posted += counts.Received
				outcomes[f.name][e.name] = fmt.Sprintf("%s [posted %d, filed %d]", out, counts.Received, counts.Accepted)
			}
			transport.CloseIdleConnections()
			// A bounded wait for the event, generous so that a busy machine
			// cannot turn a slow close into a reported leak.
			assert.Eventually(t, func() bool { return conns.open.Load() == 0 }, 30*time.Second, 5*time.Millisecond, "%s: connection leaked", cell)
		}
	}
	assert.Equal(t, hmrcAccepted, clientAccepted, "every return HMRC accepted was reported accepted, and no other")

	var b strings.Builder
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', 0)
	header := []string{"fault"}
	for _, e := range faultEndpoints {
		header = append(header, e.name)
	}
	fmt.Fprintln(w, strings.Join(header, "\t"))
	for _, f := range faultRows {
		row := []string{f.name}
		for _, e := range faultEndpoints {
			row = append(row, outcomes[f.name][e.name])
		}
		fmt.Fprintln(w, strings.Join(row, "\t"))
	}
	w.Flush()
	t.Logf("fault matrix: %d connections opened in all; %d submissions posted, %d returns filed by HMRC, %d reported filed by the SDK\n%s",
		conns.opened.Load(), posted, hmrcAccepted, clientAccepted, b.String())
}

// classify names the outcome of one call for the matrix, and flags errors
// that are not one of the package's typed errors.
func classify(rc *vat.Receipt, err error, meta vat.ResponseMeta) string {
	var (
		apiErr *vat.APIError
		decErr *vat.DecodeError
		unc    *vat.UncertainSubmissionError
	)
	switch {
	case rc != nil && rc.Recovered:
		return "filed (recovered)"
	case rc != nil && errors.Is(err, vat.ErrReceiptIncomplete):
		return "filed (receipt partial)"
	case rc != nil:
		return fmt.Sprintf("filed (%d tries)", meta.Attempts)
	case err == nil:
		return fmt.Sprintf("ok (%d tries)", meta.Attempts)
	case errors.As(err, &unc) && unc.NotReceived:
		return "not received"
	case errors.As(err, &unc):
		return "unknown, told"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.Is(err, context.DeadlineExceeded):
		return "deadline"
	case errors.As(err, &decErr) && errors.Is(err, vat.ErrResponseTooLarge):
		return "too large"
	case errors.As(err, &decErr):
		return "decode error"
	case errors.As(err, &apiErr) && errors.Is(err, vat.ErrNotFound):
		return fmt.Sprintf("none (%d tries)", apiErr.Attempts)
	case errors.As(err, &apiErr):
		return strings.TrimSpace(fmt.Sprintf("%d %s", apiErr.StatusCode, strings.Join(apiErr.Codes(), ",")))
	}
	return "untyped error"
}

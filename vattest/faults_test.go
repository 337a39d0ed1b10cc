package vattest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestFaultRespond(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	obligations := f.vat("/obligations?status=O")
	cases := []struct {
		name       string
		fault      Fault
		status     int
		body       string
		ctype      string
		retryAfter string
	}{
		{"503 with HMRC's body", Fault{Status: 503}, 503, wantServiceUnavail, "application/json", ""},
		{"500 with HMRC's body", Fault{Status: 500}, 500, wantInternal, "application/json", ""},
		{"429 with Retry-After", Fault{Status: 429, RetryAfter: "2"}, 429, wantThrottled, "application/json", "2"},
		{"gateway HTML page", Fault{Status: 502, Body: []byte("<html><body>Bad Gateway</body></html>"), ContentType: "text/html"}, 502, "<html><body>Bad Gateway</body></html>", "text/html", ""},
		{"malformed JSON", Fault{Status: 400, Body: []byte(`{"code":`)}, 400, `{"code":`, "application/json", ""},
	}
	for _, tc := range cases {
		require.NoError(t, f.srv.InjectFault(tc.fault))
		r := f.do(t, "GET", obligations, nil, "")
		assert.Equal(t, tc.status, r.status, tc.name)
		assert.Equal(t, tc.body, r.body, tc.name)
		assert.Equal(t, tc.ctype, r.header.Get("Content-Type"), tc.name)
		assert.Equal(t, tc.retryAfter, r.header.Get("Retry-After"), tc.name)
		assert.Empty(t, r.header.Get("X-CorrelationId"), "faults come before the VAT service")
	}
	assert.Equal(t, 200, f.do(t, "GET", obligations, nil, "").status, "each fault was used once")

	require.NoError(t, f.srv.InjectFault(Fault{Status: 302, Location: "https://maintenance.invalid/vat", ContentType: "text/html", Body: []byte("<html>Down</html>")}))
	req, err := http.NewRequest("GET", f.srv.URL+obligations, nil)
	require.NoError(t, err)
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	noFollow := &http.Client{Transport: f.srv.Client().Transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 302, resp.StatusCode, "a redirect fault")
	assert.Equal(t, "https://maintenance.invalid/vat", resp.Header.Get("Location"))
	assert.Error(t, f.srv.InjectFault(Fault{Status: 302, Location: "/x\r\nSet-Cookie: a=b"}))
}

func TestFaultMatchingAndTimes(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.srv.InjectFault(Fault{Method: "POST", Path: "/organisations/vat/*", Times: 2, Status: 503}))
	require.NoError(t, f.srv.InjectFault(Fault{Path: f.vat("/penalties"), Times: -1, Status: 500}))
	obligations := f.vat("/obligations?status=O")
	assert.Equal(t, 200, f.do(t, "GET", obligations, nil, "").status, "method does not match")
	assert.Equal(t, 503, f.do(t, "POST", f.vat("/returns"), nil, "{}").status)
	assert.Equal(t, 503, f.do(t, "POST", f.vat("/returns"), nil, "{}").status)
	assert.Equal(t, 400, f.do(t, "POST", f.vat("/returns"), nil, "{}").status, "used up after two")
	for range 3 {
		assert.Equal(t, 500, f.do(t, "GET", f.vat("/penalties"), nil, "").status)
	}
	f.srv.ClearFaults()
	assert.Equal(t, 200, f.do(t, "GET", f.vat("/penalties"), nil, "").status)
	assert.Equal(t, SubmissionCounts{Received: 3}, f.srv.Submissions(f.user.VRN))

	for name, bad := range map[string]Fault{
		"unknown action":          {Action: 99},
		"Times below -1":          {Times: -2},
		"negative delay":          {Delay: -1},
		"status 42":               {Status: 42},
		"respond without status":  {Action: FaultRespond},
		"process without status":  {Action: FaultProcessThenRespond},
		"negative content length": {Status: 200, ContentLength: -1},
		"CR in content type":      {Status: 200, ContentType: "text/html\r\nX: y"},
		"LF in Retry-After":       {Status: 429, RetryAfter: "1\n"},
	} {
		assert.Error(t, f.srv.InjectFault(bad), name)
	}
}

// TestFaultDropAfterProcessing is the uncertain submission: the return is
// stored but the client gets no answer. A retry is a duplicate; reading
// obligations shows the period fulfilled.
func TestFaultDropAfterProcessing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.srv.InjectFault(Fault{Method: "POST", Path: f.vat("/returns"), Action: FaultDropAfterProcessing}))
	body := validReturn(t, map[string]string{"periodKey": `"25A1"`})
	req, err := http.NewRequest("POST", f.srv.URL+f.vat("/returns"), strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	_, err = f.srv.Client().Do(req)
	require.Error(t, err, "no response")
	assert.Equal(t, SubmissionCounts{Received: 1, Accepted: 1}, f.srv.Submissions(f.user.VRN))

	r := f.do(t, "POST", f.vat("/returns"), nil, body)
	assert.Equal(t, 403, r.status)
	assert.Equal(t, wantDuplicate, r.body)
	r = f.do(t, "GET", f.vat("/obligations?from=2025-01-01&to=2025-03-31"), nil, "")
	assert.Contains(t, r.body, `"status":"F","periodKey":"25A1","received":"2025-06-15"`)
	r = f.do(t, "GET", f.vat("/returns/25A1"), nil, "")
	assert.Equal(t, 200, r.status)
	// the record of the dropped request is written once its handler returns
	dropped := func() (n int) {
		for _, rq := range f.srv.Requests() {
			if rq.Method == "POST" && rq.Status == 0 && rq.ClientID == f.srv.DefaultApplication().ClientID {
				n++
			}
		}
		return n
	}
	assert.Eventually(t, func() bool { return dropped() == 1 }, time.Minute, time.Millisecond)
}

func TestFaultProcessThenRespond(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.srv.InjectFault(Fault{Method: "POST", Action: FaultProcessThenRespond, Status: 504}))
	body := validReturn(t, map[string]string{"periodKey": `"25A1"`})
	r := f.do(t, "POST", f.vat("/returns"), nil, body)
	assert.Equal(t, 504, r.status)
	assert.Equal(t, `{"code":"GATEWAY_TIMEOUT","message":"Gateway timeout"}`, r.body)
	assert.Empty(t, r.header.Get("Receipt-ID"), "the real answer's headers are gone")
	assert.Equal(t, SubmissionCounts{Received: 1, Accepted: 1}, f.srv.Submissions(f.user.VRN))
	assert.Equal(t, 403, f.do(t, "POST", f.vat("/returns"), nil, body).status)
}

func TestFaultDropBeforeBody(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.srv.InjectFault(Fault{Method: "POST", Action: FaultDropBeforeBody}))
	body := validReturn(t, map[string]string{"periodKey": `"25A1"`})
	req, _ := http.NewRequest("POST", f.srv.URL+f.vat("/returns"), strings.NewReader(body))
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	_, err := f.srv.Client().Do(req)
	require.Error(t, err)
	assert.Equal(t, SubmissionCounts{Received: 1, Accepted: 0}, f.srv.Submissions(f.user.VRN))
	assert.Equal(t, 201, f.do(t, "POST", f.vat("/returns"), nil, body).status, "nothing was stored: a retry files it")
}

func TestFaultTruncatedAndLargeBodies(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.srv.InjectFault(Fault{Status: 200, Body: []byte(`{"obligations":[`), ContentLength: 1000}))
	req, _ := http.NewRequest("GET", f.srv.URL+f.vat("/obligations?status=O"), nil)
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	resp, err := f.srv.Client().Do(req)
	require.NoError(t, err)
	assert.Equal(t, int64(1000), resp.ContentLength)
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF)
	assert.Equal(t, `{"obligations":[`, string(b))

	big := bytes.Repeat([]byte("x"), 10<<20)
	require.NoError(t, f.srv.InjectFault(Fault{Status: 500, Body: big, ContentType: "text/plain"}))
	r := f.do(t, "GET", f.vat("/obligations?status=O"), nil, "")
	assert.Equal(t, 500, r.status)
	assert.Len(t, r.body, 10<<20)
}

func TestFaultDelay(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	require.NoError(t, f.srv.InjectFault(Fault{Delay: time.Hour}))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", f.srv.URL+f.vat("/obligations?status=O"), nil)
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	_, err := f.srv.Client().Do(req)
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "the client gave up: %v", err)

	// a delay with no status lets the request through afterwards
	require.NoError(t, f.srv.InjectFault(Fault{Delay: time.Millisecond}))
	assert.Equal(t, 200, f.do(t, "GET", f.vat("/obligations?status=O"), nil, "").status)
}

// TestCloseCutsDelaysShort shows Close does not wait out an injected delay
// and leaves no goroutine behind (goleak checks the whole package).
func TestCloseCutsDelaysShort(t *testing.T) {
	t.Parallel()
	srv := NewServer()
	user, tok := srv.TestOrganisation(t, Organisation{})
	require.NoError(t, srv.InjectFault(Fault{Delay: time.Hour, Status: 503}))
	done := make(chan int, 1)
	go func() {
		req, _ := http.NewRequest("GET", srv.URL+"/organisations/vat/"+user.VRN+"/obligations?status=O", nil)
		req.Header.Set("Accept", acceptV1)
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			done <- 0
			return
		}
		resp.Body.Close()
		done <- resp.StatusCode
	}()
	require.Eventually(t, func() bool {
		srv.mu.Lock()
		defer srv.mu.Unlock()
		return len(srv.faults) == 0 // the request took the fault
	}, time.Minute, time.Millisecond)
	srv.Close()
	assert.Equal(t, 503, <-done, "the request in progress finished")
	srv.Close() // twice is fine
	_, err := http.Get(srv.URL)
	assert.Error(t, err, "no longer listening")
}

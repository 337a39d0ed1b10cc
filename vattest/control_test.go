package vattest

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ctl sends a control request and decodes a JSON answer into out (if not nil).
func (f *fixture) ctl(t *testing.T, method, path, body string, out any) response {
	t.Helper()
	r := f.do(t, method, ControlPrefix+path, map[string]string{"Accept": "", "Authorization": ""}, body)
	if out != nil && r.body != "" {
		require.NoError(t, json.Unmarshal([]byte(r.body), out), r.body)
	}
	return r
}

func TestControlHealthAndClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	var h map[string]string
	r := f.ctl(t, "GET", "health", "", &h)
	require.Equal(t, 200, r.status)
	assert.Equal(t, "ok", h["status"])
	assert.Equal(t, testNow.Format(time.RFC3339Nano), h["now"])

	var c clockJSON
	require.Equal(t, 200, f.ctl(t, "POST", "clock", `{"days":30}`, &c).status)
	assert.Equal(t, testNow.AddDate(0, 0, 30).Format(time.RFC3339Nano), c.Now)
	assert.True(t, c.Frozen)
	require.Equal(t, 200, f.ctl(t, "POST", "clock", `{"advance":"-24h"}`, &c).status)
	assert.Equal(t, testNow.AddDate(0, 0, 29), f.srv.Now())
	require.Equal(t, 200, f.ctl(t, "POST", "clock", `{"today":"2030-01-02"}`, &c).status)
	assert.Equal(t, "2030-01-02", c.Today)
	require.Equal(t, 200, f.ctl(t, "POST", "clock", `{"now":"2031-05-06T07:08:09Z"}`, &c).status)
	assert.Equal(t, time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC), f.srv.Now())

	for _, bad := range []string{`{}`, `{"days":1,"advance":"1h"}`, `{"advance":"soon"}`, `{"today":"2-1-2030"}`, `{"nope":1}`, `[`} {
		var e map[string]string
		r := f.ctl(t, "POST", "clock", bad, &e)
		assert.Equal(t, 400, r.status, bad)
		assert.Equal(t, "INVALID_REQUEST", e["code"], bad)
	}
	assert.Equal(t, 405, f.ctl(t, "DELETE", "clock", "", nil).status)
	assert.Equal(t, 404, f.ctl(t, "GET", "nothing", "", nil).status)
}

func TestControlCreateBusinessFilingPatterns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, tc := range []struct {
		body string
		keys []string
	}{
		// testNow is in 2025-Q2 (see main_test.go).
		{`{"registrationDate":"2020-01-01"}`, []string{"24A4", "25A1", "25A2"}},
		{`{"filing":"quarterly","fulfilled":2,"open":1,"registrationDate":"2020-01-01"}`, []string{"24A3", "24A4", "25A1", "25A2"}},
		{`{"filing":"monthly","open":2,"fulfilled":0,"registrationDate":"2020-01-01"}`, []string{"25MD", "25ME", "25MF"}},
		{`{"filing":"annual","open":1,"fulfilled":0,"registrationDate":"2020-01-01"}`, []string{"24Y1", "25Y1"}},
		{`{"obligations":[{"periodKey":"#001","start":"2024-01-01","end":"2024-03-31"}]}`, []string{"#001"}},
	} {
		var b Business
		r := f.ctl(t, "POST", "businesses", tc.body, &b)
		require.Equal(t, 201, r.status, r.body)
		var keys []string
		for _, o := range b.Obligations {
			keys = append(keys, o.PeriodKey)
		}
		assert.Equal(t, tc.keys, keys, tc.body)
		assert.Regexp(t, `^\d{9}$`, b.VRN)
		assert.Equal(t, "read:vat write:vat", b.Scope)
		// The token works on the VAT API.
		got := f.do(t, "GET", "/organisations/vat/"+b.VRN+"/obligations?from=2020-01-01&to=2020-12-31", map[string]string{"Authorization": "Bearer " + b.AccessToken}, "")
		assert.Contains(t, []int{200, 404}, got.status, got.body)
	}
	var e map[string]string
	assert.Equal(t, 400, f.ctl(t, "POST", "businesses", `{"filing":"weekly"}`, &e).status)
	assert.Contains(t, e["message"], "filing")
	assert.Equal(t, 400, f.ctl(t, "POST", "businesses", `{"vrn":"12"}`, &e).status)
	assert.Contains(t, e["message"], "VRN")
}

func TestControlFaultsPaymentsRequestsStateReset(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	obs := f.srv.Obligations(f.user.VRN)
	var open string
	for _, o := range obs {
		if o.Received == "" && o.End < testToday().String() {
			open = o.PeriodKey
		}
	}
	require.NotEmpty(t, open)

	// A fault for the next two obligations calls.
	var fl struct {
		Faults []struct {
			FaultRequest
			Left int `json:"left"`
		} `json:"faults"`
	}
	r := f.ctl(t, "POST", "faults", `{"method":"GET","path":"/organisations/vat/*","times":2,"status":503}`, &fl)
	require.Equal(t, 201, r.status, r.body)
	require.Len(t, fl.Faults, 1)
	assert.Equal(t, 2, fl.Faults[0].Left)
	assert.Equal(t, 503, fl.Faults[0].Status)
	// Control calls meet no fault.
	assert.Equal(t, 200, f.ctl(t, "GET", "health", "", nil).status)
	assert.Equal(t, 503, f.do(t, "GET", f.vat("/obligations?status=O"), nil, "").status)
	assert.Equal(t, 503, f.do(t, "GET", f.vat("/obligations?status=O"), nil, "").status)
	assert.Equal(t, 200, f.do(t, "GET", f.vat("/obligations?status=O"), nil, "").status)
	assert.Equal(t, 400, f.ctl(t, "POST", "faults", `{"action":"explode"}`, nil).status)
	assert.Equal(t, 400, f.ctl(t, "POST", "faults", `{"delay":"soon"}`, nil).status)
	require.Equal(t, 201, f.ctl(t, "POST", "faults", `{"action":"drop-before-body","path":"/nowhere"}`, nil).status)
	assert.Equal(t, 204, f.ctl(t, "DELETE", "faults", "", nil).status)
	require.Equal(t, 200, f.ctl(t, "GET", "faults", "", &fl).status)
	assert.Empty(t, fl.Faults)

	// A return, then a payment against it.
	sub := f.do(t, "POST", f.vat("/returns"), map[string]string{"Gov-Client-Public-IP": "198.51.100.7"}, validReturn(t, map[string]string{"periodKey": `"` + open + `"`,
		"vatDueSales": "1000.00", "vatDueAcquisitions": "0", "totalVatDue": "1000.00", "vatReclaimedCurrPeriod": "0", "netVatDue": "1000.00"}))
	require.Equal(t, 201, sub.status, sub.body)
	var paid map[string]any
	r = f.ctl(t, "POST", "payments", `{"vrn":"`+f.user.VRN+`","periodKey":"`+open+`","amount":"100.50"}`, &paid)
	require.Equal(t, 201, r.status, r.body)
	assert.Equal(t, testToday().String(), paid["received"])
	pays := f.do(t, "GET", f.vat("/payments?from=2024-06-01&to=2025-05-31"), nil, "")
	assert.Contains(t, pays.body, `"amount":100.5`)
	assert.Equal(t, 400, f.ctl(t, "POST", "payments", `{"vrn":"`+f.user.VRN+`","periodKey":"`+open+`","amount":"1.005"}`, nil).status)
	assert.Equal(t, 400, f.ctl(t, "POST", "payments", `{"vrn":"`+f.user.VRN+`","periodKey":"ZZZZ","amount":1}`, nil).status)

	// The request log: no control calls, no secrets.
	r = f.ctl(t, "GET", "requests", "", nil)
	require.Equal(t, 200, r.status)
	assert.NotContains(t, r.body, "_sandbox")
	assert.NotContains(t, r.body, f.tok.AccessToken)
	assert.NotContains(t, r.body, "198.51.100.7")
	assert.Contains(t, r.body, `"Gov-Client-Public-Ip":"REDACTED"`)
	assert.Contains(t, r.body, `"status":503`)

	// State: dump, reset, load.
	st := f.ctl(t, "GET", "state", "", nil)
	require.Equal(t, 200, st.status)
	assert.Equal(t, 204, f.ctl(t, "POST", "reset", "", nil).status)
	assert.Nil(t, f.srv.Obligations(f.user.VRN))
	assert.Empty(t, f.srv.Requests())
	assert.Equal(t, 401, f.do(t, "GET", f.vat("/obligations?status=O"), nil, "").status, "tokens are gone")
	assert.Equal(t, 204, f.ctl(t, "PUT", "state", st.body, nil).status)
	v := f.do(t, "GET", f.vat("/returns/"+escKey(open)), nil, "")
	assert.Equal(t, 200, v.status, "the token and the return are back")
	assert.Equal(t, 400, f.ctl(t, "PUT", "state", `{"version":99}`, nil).status)
	assert.Equal(t, 204, f.ctl(t, "DELETE", "requests", "", nil).status)
	assert.Empty(t, f.srv.Requests())
}

func escKey(key string) string { return strings.ReplaceAll(key, "#", "%23") }

func TestControlNeedsLoopbackOrToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		opts   []Option
		remote string
		auth   string
		want   int
	}{
		{nil, "127.0.0.1:5000", "", 200},
		{nil, "[::1]:5000", "", 200},
		{nil, "192.0.2.1:5000", "", 403},
		{[]Option{WithControlToken("s3cret")}, "192.0.2.1:5000", "", 403},
		{[]Option{WithControlToken("s3cret")}, "192.0.2.1:5000", "Bearer wrong", 403},
		{[]Option{WithControlToken("s3cret")}, "192.0.2.1:5000", "Bearer s3cret", 200},
	} {
		srv := NewTestServer(t, tc.opts...)
		req := httptest.NewRequest("GET", "/_sandbox/health", nil)
		req.RemoteAddr = tc.remote
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		rec := httptest.NewRecorder()
		srv.ServeHTTP(rec, req)
		assert.Equal(t, tc.want, rec.Code, "%s %s", tc.remote, tc.auth)
	}
	_, err := New(WithControlToken("a b"))
	assert.Error(t, err)
}

func TestSeedGivesTheSameBusinessAndCredentials(t *testing.T) {
	t.Parallel()
	start := func(seed uint64) (Application, Business) {
		srv := NewTestServer(t, WithSeed(seed), WithClock(func() time.Time { return testNow }))
		b, err := srv.CreateBusiness(BusinessRequest{})
		require.NoError(t, err)
		return srv.DefaultApplication(), b
	}
	a1, b1 := start(7)
	a2, b2 := start(7)
	a3, b3 := start(8)
	assert.Equal(t, a1, a2)
	assert.Equal(t, b1, b2)
	assert.NotEqual(t, a1.ClientID, a3.ClientID)
	assert.NotEqual(t, b1.VRN, b3.VRN)
	assert.NotEqual(t, b1.AccessToken, b3.AccessToken)
}

func TestStateRoundTripKeepsCredentialsAndReturns(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	b, err := f.srv.CreateBusiness(BusinessRequest{})
	require.NoError(t, err)
	require.Equal(t, 201, f.do(t, "POST", f.vat("/returns"), nil, validReturn(t, map[string]string{"periodKey": `"18AA"`})).status)
	st, err := f.srv.State()
	require.NoError(t, err)

	other := NewTestServer(t, WithRateLimit(0))
	require.NoError(t, other.LoadState(st))
	assert.Equal(t, f.srv.DefaultApplication(), other.DefaultApplication())
	assert.Equal(t, f.srv.Now(), other.Now())
	assert.Equal(t, f.srv.Obligations(b.VRN), other.Obligations(b.VRN))
	assert.Equal(t, f.srv.Submissions(f.user.VRN), other.Submissions(f.user.VRN))
	st2, err := other.State()
	require.NoError(t, err)
	assert.JSONEq(t, string(st), string(st2))

	req, _ := http.NewRequest("GET", other.URL+"/organisations/vat/"+f.user.VRN+"/returns/18AA", nil)
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Authorization", "Bearer "+f.tok.AccessToken)
	resp, err := other.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, 200, resp.StatusCode)
	assert.Error(t, other.LoadState([]byte(`{"version":1,"defaultClientId":"x"}`)))
}

func TestURLIsDialableForWildcardAddresses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ addr, want string }{
		{"0.0.0.0:0", "http://127.0.0.1:"},
		{":0", "http://127.0.0.1:"},
		{"[::]:0", "http://[::1]:"},
		{"127.0.0.1:0", "http://127.0.0.1:"},
	} {
		srv, err := New(WithAddr(tc.addr))
		if err != nil && tc.addr == "[::]:0" {
			t.Logf("no IPv6 here: %v", err)
			continue
		}
		require.NoError(t, err)
		assert.True(t, strings.HasPrefix(srv.URL, tc.want), "%s: %s", tc.addr, srv.URL)
		srv.Close()
	}
}

func TestLoadStateKeepsConfiguredApplications(t *testing.T) {
	t.Parallel()
	st, err := NewTestServer(t).State()
	require.NoError(t, err)
	srv := NewTestServer(t, WithApplication("my-app", "s3cret", "http://localhost/cb"))
	require.NoError(t, srv.LoadState(st))
	tok := srv.IssueApplicationToken() // the loaded default application
	assert.NotEmpty(t, tok.AccessToken)
	srv.mu.Lock()
	_, ok := srv.apps["my-app"]
	srv.mu.Unlock()
	assert.True(t, ok, "WithApplication's application survives LoadState")
}

func TestControlRequestsNameTheBadField(t *testing.T) {
	t.Parallel()
	f, err := FaultRequest{Delay: "1500ms", Action: "drop-after-processing", Times: -1}.Fault()
	require.NoError(t, err)
	assert.Equal(t, Fault{Delay: 1500 * time.Millisecond, Action: FaultDropAfterProcessing, Times: -1}, f)
	_, err = FaultRequest{Delay: "soon"}.Fault()
	assert.ErrorContains(t, err, "delay")
	_, err = FaultRequest{Action: "explode"}.Fault()
	assert.ErrorContains(t, err, "action")
	_, err = BusinessRequest{Filing: "weekly"}.Organisation()
	assert.ErrorContains(t, err, "filing")
	org, err := BusinessRequest{Filing: "annual"}.Organisation()
	require.NoError(t, err)
	assert.Equal(t, &Plan{Period: Annually, Fulfilled: 1, Open: 1}, org.Plan)
	f2 := newFixture(t)
	var e map[string]string
	assert.Equal(t, 400, f2.ctl(t, "POST", "payments", `{"vrn":"1","periodKey":"25A1","amount":"ten"}`, &e).status)
	assert.Contains(t, e["message"], "amount")
}

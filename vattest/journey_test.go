package vattest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// noRedirects is the server's client, stopping at redirects so a test can
// read the Location that a browser would follow.
func noRedirects(srv *Server) *http.Client {
	c := *srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func postForm(t *testing.T, srv *Server, path string, form url.Values) (int, map[string]any) {
	t.Helper()
	resp, err := srv.Client().PostForm(srv.URL+path, form)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return resp.StatusCode, out
}

func pkcePair() (verifier, challenge string) {
	verifier = strings.Repeat("v3rifier-", 6) // 54 characters
	sum := sha256.Sum256([]byte(verifier))
	return verifier, base64.RawURLEncoding.EncodeToString(sum[:])
}

// signIn runs the authorization-code flow through the no-browser shortcut
// and returns the access and refresh tokens.
func signIn(t *testing.T, srv *Server, user TestUser, scope string) (access, refresh string) {
	t.Helper()
	app := srv.DefaultApplication()
	verifier, challenge := pkcePair()
	redirect := "http://localhost:49152/callback"
	q := url.Values{
		"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {redirect}, "scope": {scope},
		"state": {"xyz"}, "code_challenge": {challenge}, "code_challenge_method": {"S256"},
		"user_id": {user.UserID}, "password": {user.Password},
	}
	resp, err := noRedirects(srv).Get(srv.URL + "/oauth/authorize?" + q.Encode())
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusFound, resp.StatusCode)
	loc, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	require.Equal(t, "localhost:49152", loc.Host)
	require.Equal(t, "xyz", loc.Query().Get("state"))
	code := loc.Query().Get("code")
	require.NotEmpty(t, code)
	status, tok := postForm(t, srv, "/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		"redirect_uri": {redirect}, "code": {code}, "code_verifier": {verifier},
	})
	require.Equal(t, 200, status, tok)
	assert.Equal(t, "bearer", tok["token_type"])
	assert.Equal(t, float64(14400), tok["expires_in"])
	return tok["access_token"].(string), tok["refresh_token"].(string)
}

// TestJourney goes from a new test user to a filed, viewed, paid return,
// all over HTTP: create test user → sign in → obligations → submit → view →
// obligation fulfilled → liability → financial details → payment →
// duplicate → period not ended.
func TestJourney(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(0)) // the clock stands still
	srv.SetNow(time.Date(2025, 5, 20, 9, 0, 0, 0, time.UTC))
	app := srv.DefaultApplication()

	status, ct := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"client_credentials"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}})
	require.Equal(t, 200, status)
	appToken := ct["access_token"].(string)
	_, hasRefresh := ct["refresh_token"]
	assert.False(t, hasRefresh, "client_credentials gives no refresh token")

	req, _ := http.NewRequest("POST", srv.URL+"/create-test-user/organisations", strings.NewReader(`{"serviceNames":["mtd-vat"]}`))
	req.Header.Set("Accept", acceptV1)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+appToken)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	var created struct {
		UserID, Password, VRN, VATRegistrationDate string
	}
	require.Equal(t, 201, resp.StatusCode)
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&created))
	resp.Body.Close()
	require.Regexp(t, `^\d{9}$`, created.VRN)

	access, refresh := signIn(t, srv, TestUser{UserID: created.UserID, Password: created.Password}, "read:vat write:vat")
	f := &fixture{srv: srv, user: TestUser{VRN: created.VRN}, tok: Token{AccessToken: access}}

	r := f.do(t, "GET", f.vat("/obligations?status=O"), nil, "")
	require.Equal(t, 200, r.status, r.body)
	assert.Equal(t, `{"obligations":[{"start":"2025-01-01","end":"2025-03-31","due":"2025-05-07","status":"O","periodKey":"25A1"},{"start":"2025-04-01","end":"2025-06-30","due":"2025-08-07","status":"O","periodKey":"25A2"}]}`, r.body)

	ret := `{"periodKey":"25A1","vatDueSales":1000.10,"vatDueAcquisitions":0,"totalVatDue":1000.1,"vatReclaimedCurrPeriod":200.00,"netVatDue":800.1,"totalValueSalesExVAT":5000.00,"totalValuePurchasesExVAT":1000,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}`
	r = f.do(t, "POST", f.vat("/returns"), nil, ret)
	require.Equal(t, 201, r.status, r.body)
	var receipt struct{ ProcessingDate, FormBundleNumber, ChargeRefNumber, PaymentIndicator string }
	require.NoError(t, json.Unmarshal([]byte(r.body), &receipt))
	assert.Equal(t, "2025-05-20T09:00:00.000Z", receipt.ProcessingDate)
	assert.Regexp(t, `^\d{12}$`, receipt.FormBundleNumber)
	assert.Regexp(t, `^X[A-Z]\d{12}$`, receipt.ChargeRefNumber)
	assert.Empty(t, receipt.PaymentIndicator, "no direct debit")

	r = f.do(t, "GET", f.vat("/returns/25A1"), nil, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, `{"periodKey":"25A1","vatDueSales":1000.1,"vatDueAcquisitions":0,"totalVatDue":1000.1,"vatReclaimedCurrPeriod":200,"netVatDue":800.1,"totalValueSalesExVAT":5000,"totalValuePurchasesExVAT":1000,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0}`, r.body)

	r = f.do(t, "GET", f.vat("/obligations?from=2025-01-01&to=2025-03-31&status=F"), nil, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, `{"obligations":[{"start":"2025-01-01","end":"2025-03-31","due":"2025-05-07","status":"F","periodKey":"25A1","received":"2025-05-20"}]}`, r.body)

	liab := f.vat("/liabilities?from=2025-01-01&to=2025-05-20")
	r = f.do(t, "GET", liab, nil, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, `{"liabilities":[{"taxPeriod":{"from":"2025-01-01","to":"2025-03-31"},"type":"VAT Return Debit Charge","originalAmount":800.1,"outstandingAmount":800.1,"due":"2025-05-07"}]}`, r.body)
	r = f.do(t, "GET", f.vat("/liabilities?from=2025-04-01&to=2025-05-20"), nil, "")
	assert.Equal(t, 404, r.status, "the liability's period ends before from")

	r = f.do(t, "GET", f.vat("/financial-details/"+receipt.ChargeRefNumber), nil, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, `{"totalisations":{"totalOverdue":800.1,"totalNotYetDue":0,"totalBalance":800.1,"totalCleared":0},"documentDetails":[{"postingDate":"2025-05-20","issueDate":"2025-05-20","documentTotalAmount":800.1,"documentClearedAmount":0,"documentOutstandingAmount":800.1,"lineItemDetails":[{"chargeDescription":"VAT Return","periodFromDate":"2025-01-01","periodToDate":"2025-03-31","netDueDate":"2025-05-07","amount":800.1}]}]}`, r.body)

	r = f.do(t, "GET", f.vat("/payments?from=2025-01-01&to=2025-05-20"), nil, "")
	assert.Equal(t, 404, r.status, "nothing paid yet")
	require.NoError(t, srv.RecordPayment(created.VRN, "25A1", 50010, "2025-05-21"))
	srv.Advance(24 * time.Hour)
	r = f.do(t, "GET", f.vat("/payments?from=2025-01-01&to=2025-05-21"), nil, "")
	require.Equal(t, 401, r.status, "the access token expired after four hours")
	status, rt := postForm(t, srv, "/oauth/token", url.Values{"grant_type": {"refresh_token"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret}, "refresh_token": {refresh}})
	require.Equal(t, 200, status, rt)
	f.tok.AccessToken = rt["access_token"].(string)
	r = f.do(t, "GET", f.vat("/payments?from=2025-01-01&to=2025-05-21"), nil, "")
	require.Equal(t, 200, r.status)
	assert.Equal(t, `{"payments":[{"amount":500.1,"received":"2025-05-21"}]}`, r.body)
	r = f.do(t, "GET", f.vat("/liabilities?from=2025-01-01&to=2025-05-21"), nil, "")
	assert.Contains(t, r.body, `"outstandingAmount":300,`)

	r = f.do(t, "POST", f.vat("/returns"), nil, ret)
	assert.Equal(t, 403, r.status)
	assert.Equal(t, wantDuplicate, r.body)

	ret2 := strings.Replace(ret, `"25A1"`, `"25A2"`, 1)
	r = f.do(t, "POST", f.vat("/returns"), nil, ret2)
	assert.Equal(t, 403, r.status)
	assert.Equal(t, wantNotEnded, r.body)
	srv.SetNow(time.Date(2025, 6, 30, 23, 59, 59, 0, time.UTC))
	f.tok, err = srv.IssueToken(created.VRN) // weeks later: a fresh sign-in
	require.NoError(t, err)
	r = f.do(t, "POST", f.vat("/returns"), nil, ret2)
	assert.Equal(t, 403, r.status, "the period's last day has not ended")
	srv.Advance(time.Second)
	r = f.do(t, "POST", f.vat("/returns"), nil, ret2)
	assert.Equal(t, 201, r.status, "the day after the period ends")

	assert.Equal(t, SubmissionCounts{Received: 5, Accepted: 2}, srv.Submissions(created.VRN))
}

func TestPaymentIndicators(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(0))
	srv.SetNow(testNow)
	for _, tc := range []struct {
		name string
		org  Organisation
		body string
		want string
	}{
		{"direct debit and VAT to pay", Organisation{DirectDebit: true}, `"vatDueSales":10,"vatDueAcquisitions":0,"totalVatDue":10,"vatReclaimedCurrPeriod":0,"netVatDue":10`, `"paymentIndicator":"DD"`},
		{"bank account and a repayment", Organisation{RepaymentBankAccount: true}, `"vatDueSales":0,"vatDueAcquisitions":0,"totalVatDue":0,"vatReclaimedCurrPeriod":10,"netVatDue":10`, `"paymentIndicator":"BANK"`},
		{"nil return", Organisation{DirectDebit: true, RepaymentBankAccount: true}, `"vatDueSales":0,"vatDueAcquisitions":0,"totalVatDue":0,"vatReclaimedCurrPeriod":0,"netVatDue":0`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, tok := srv.TestOrganisation(t, tc.org)
			f := &fixture{srv, user, tok}
			r := f.do(t, "POST", f.vat("/returns"), nil, `{"periodKey":"25A1",`+tc.body+`,"totalValueSalesExVAT":0,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}`)
			require.Equal(t, 201, r.status, r.body)
			if tc.want == "" {
				assert.NotContains(t, r.body, "paymentIndicator")
				assert.NotContains(t, r.body, "chargeRefNumber")
				return
			}
			assert.Contains(t, r.body, tc.want)
		})
	}
}

// TestNumericStrings follows Play's BigDecimal reader, which also reads
// numbers sent as JSON strings.
func TestNumericStrings(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(t, "POST", f.vat("/returns"), nil, `{"periodKey":"25A1","vatDueSales":"10.00","vatDueAcquisitions":0,"totalVatDue":10,"vatReclaimedCurrPeriod":"1e1","netVatDue":0,"totalValueSalesExVAT":"100.00","totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}`)
	require.Equal(t, 201, r.status, r.body)
	r = f.do(t, "GET", f.vat("/returns/25A1"), nil, "")
	assert.Contains(t, r.body, `"vatDueSales":10,`)
	assert.Contains(t, r.body, `"totalValueSalesExVAT":100,`)
}

func TestAgentActsForClients(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	agent := f.srv.CreateAgent()
	assert.Regexp(t, `^NARN\d{7}$`, agent.AgentServicesAccountNumber)
	tok, err := f.srv.IssueToken(agent.UserID)
	require.NoError(t, err)
	g := &fixture{f.srv, f.user, tok}
	r := g.do(t, "GET", g.vat("/obligations?status=O"), nil, "")
	assert.Equal(t, 403, r.status)
	assert.Equal(t, wantNotAuthorised, r.body)
	require.NoError(t, f.srv.AuthoriseAgent(agent.UserID, f.user.VRN))
	r = g.do(t, "GET", g.vat("/obligations?status=O"), nil, "")
	assert.Equal(t, 200, r.status)
	assert.Error(t, f.srv.AuthoriseAgent(f.user.UserID, f.user.VRN), "not an agent")
	assert.Error(t, f.srv.AuthoriseAgent(agent.UserID, "999999999"))
}

func TestSeedingErrors(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	for name, org := range map[string]Organisation{
		"VRN of eight digits":    {VRN: "12345678"},
		"bad registration date":  {RegistrationDate: "2020-02-30"},
		"bad period key":         {Obligations: []Obligation{{PeriodKey: "25a1", Start: "2025-01-01", End: "2025-03-31"}}},
		"end before start":       {Obligations: []Obligation{{PeriodKey: "25A1", Start: "2025-01-01", End: "2024-03-31"}}},
		"duplicate period key":   {Obligations: []Obligation{{PeriodKey: "25A1", Start: "2025-01-01", End: "2025-03-31"}, {PeriodKey: "25A1", Start: "2025-04-01", End: "2025-06-30"}}},
		"negative plan":          {Plan: &Plan{Open: -1}},
		"bad plan period":        {Plan: &Plan{Period: 7}},
		"bad flat rate category": {FlatRateScheme: &FlatRateScheme{Category: "056", StartDate: "2020-01-01"}},
	} {
		_, err := srv.CreateOrganisation(org)
		assert.Error(t, err, name)
	}
	u, err := srv.CreateOrganisation(Organisation{VRN: "980780684"})
	require.NoError(t, err)
	_, err = srv.CreateOrganisation(Organisation{VRN: u.VRN})
	assert.Error(t, err, "VRN taken")
	_, err = srv.IssueToken("nobody")
	assert.Error(t, err)
	_, err = srv.IssueToken(u.VRN, "write:everything")
	assert.Error(t, err)
	assert.Error(t, srv.RecordPayment(u.VRN, "25A1", 100, "2025-01-01"), "no liability")
	assert.Error(t, srv.RecordPayment(u.VRN, "25A1", 0, "2025-01-01"))
	assert.Error(t, srv.RecordPayment(u.VRN, "25A1", 10, "20250101"))
}

func TestPlans(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	srv.SetNow(time.Date(2024, 3, 10, 0, 0, 0, 0, time.UTC))
	u, err := srv.CreateOrganisation(Organisation{RegistrationDate: "2023-11-15", Plan: &Plan{Period: Monthly, Fulfilled: 2, Open: 3}})
	require.NoError(t, err)
	obs := srv.Obligations(u.VRN)
	// Five months before March 2024 go back to October 2023, which ends
	// before the registration date and is left out.
	require.Len(t, obs, 5)
	assert.Equal(t, Obligation{PeriodKey: "23MK", Start: "2023-11-01", End: "2023-11-30", Due: "2024-01-07", Received: "2024-01-06"}, obs[0])
	assert.Equal(t, Obligation{PeriodKey: "23ML", Start: "2023-12-01", End: "2023-12-31", Due: "2024-02-07"}, obs[1])
	assert.Equal(t, Obligation{PeriodKey: "24MB", Start: "2024-02-01", End: "2024-02-29", Due: "2024-04-07"}, obs[3])
	assert.Equal(t, Obligation{PeriodKey: "24MC", Start: "2024-03-01", End: "2024-03-31", Due: "2024-05-07"}, obs[4])

	u, err = srv.CreateOrganisation(Organisation{Plan: &Plan{Fulfilled: 1}})
	require.NoError(t, err)
	obs = srv.Obligations(u.VRN)
	require.Len(t, obs, 2)
	assert.Equal(t, Obligation{PeriodKey: "23A4", Start: "2023-10-01", End: "2023-12-31", Due: "2024-02-07", Received: "2024-02-06"}, obs[0])
	assert.Nil(t, srv.Obligations("000000000"))
}

func TestWithOrganisation(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithOrganisation(Organisation{VRN: "980780684", Obligations: []Obligation{{PeriodKey: "#001", Start: "2017-04-01", End: "2017-06-30", Received: "2017-07-15"}}}))
	tok, err := srv.IssueToken("980780684", "read:vat")
	require.NoError(t, err)
	f := &fixture{srv, TestUser{VRN: "980780684"}, tok}
	r := f.do(t, "GET", f.vat("/obligations?from=2017-01-01&to=2017-12-31"), nil, "")
	assert.Equal(t, `{"obligations":[{"start":"2017-04-01","end":"2017-06-30","due":"2017-08-07","status":"F","periodKey":"#001","received":"2017-07-15"}]}`, r.body)

	for name, opts := range map[string][]Option{
		"no VRN":           {WithOrganisation(Organisation{})},
		"same VRN twice":   {WithOrganisation(Organisation{VRN: "980780684"}), WithOrganisation(Organisation{VRN: "980780684"})},
		"invalid":          {WithOrganisation(Organisation{VRN: "1"})},
		"nil clock":        {WithClock(nil)},
		"negative rate":    {WithRateLimit(-1)},
		"bad address":      {WithAddr("nowhere")},
		"nil validator":    {WithFraudHeaderValidator(nil)},
		"app without id":   {WithApplication("", "s")},
		"app twice":        {WithApplication("a", "s"), WithApplication("a", "t")},
		"http redirect":    {WithApplication("a", "s", "http://example.com/cb")},
		"IP redirect":      {WithApplication("a", "s", "https://192.0.2.1/cb")},
		"fragment":         {WithApplication("a", "s", "https://example.com/cb#x")},
		"six redirects":    {WithApplication("a", "s", "https://a.example", "https://b.example", "https://c.example", "https://d.example", "https://e.example", "https://f.example")},
		"secret with tabs": {WithApplication("a", "s\t")},
	} {
		_, err := New(opts...)
		assert.Error(t, err, name)
	}
	assert.Panics(t, func() { NewServer(WithRateLimit(-1)) })
}

func TestRequestLogRedactsFraudHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.do(t, "GET", f.vat("/obligations?status=O"), map[string]string{"Gov-Client-Device-ID": "beec798b-b366-47fa-b1f8-92cede14a1ce", "Gov-Test-Scenario": "NOT_FOUND", "User-Agent": "test/1"}, "")
	reqs := f.srv.Requests()
	require.NotEmpty(t, reqs)
	last := reqs[len(reqs)-1]
	assert.Equal(t, "GET", last.Method)
	assert.Equal(t, "/organisations/vat/"+f.user.VRN+"/obligations", last.Path)
	assert.Equal(t, "status=O", last.RawQuery)
	assert.Equal(t, 404, last.Status)
	assert.Equal(t, f.srv.DefaultApplication().ClientID, last.ClientID)
	assert.Equal(t, "NOT_FOUND", last.Header.Get("Gov-Test-Scenario"))
	assert.Empty(t, last.Header.Get("Authorization"))
	assert.Equal(t, "beec798b-b366-47fa-b1f8-92cede14a1ce", last.FraudHeaders.Get("Gov-Client-Device-ID"))
	for _, printed := range []string{sprint("%v", last), sprint("%+v", last), sprint("%#v", last), last.FraudHeaders.String()} {
		assert.NotContains(t, printed, "beec798b")
		assert.NotContains(t, printed, f.tok.AccessToken)
	}
	assert.Equal(t, 1, last.FraudHeaders.Len())
}

func TestDateHeaderFollowsTheClock(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(t, "GET", f.vat("/obligations?status=O"), nil, "")
	assert.Equal(t, "Sun, 15 Jun 2025 10:30:00 GMT", r.header.Get("Date"))
}

func TestSmallAccessors(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	srv.SetNow(testNow)
	assert.Equal(t, testNow, srv.Now())
	srv.Advance(time.Minute)
	assert.Equal(t, testNow.Add(time.Minute), srv.Now())
	u, tok := srv.TestOrganisation(t, Organisation{Obligations: []Obligation{{PeriodKey: "0000", Start: "2025-01-15", End: "2025-04-14"}}})
	ot := tok.OAuth2()
	assert.Equal(t, tok.AccessToken, ot.AccessToken)
	assert.Equal(t, tok.RefreshToken, ot.RefreshToken)
	assert.Equal(t, tok.Expiry, ot.Expiry)
	assert.Equal(t, testNow.Add(time.Minute+4*time.Hour), tok.Expiry)
	assert.Equal(t, "read:vat write:vat", tok.Scope)
	// a period ending mid-month is due one month and seven days later
	assert.Equal(t, "2025-05-21", srv.Obligations(u.VRN)[0].Due)
	fh := FraudHeaders{"Gov-Client-Screens": {"a", "b"}}
	assert.Equal(t, []string{"a", "b"}, fh.Values("gov-client-screens"))
	assert.Equal(t, "[1 fraud prevention header]", fh.String())
}

package vattest

import (
	"encoding/json"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Expected bodies, written out from notes/vat-api.md §7 (the implementation
// column), not taken from the package.
const (
	wantVRNInvalid        = `{"code":"VRN_INVALID","message":"The provided VRN is invalid"}`
	wantNotAuthorised     = `{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised."}`
	wantInternal          = `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`
	wantServiceUnavail    = `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`
	wantInsolvent         = `{"code":"RULE_INSOLVENT_TRADER","message":"The remote endpoint has indicated that the Trader is insolvent"}`
	wantBadScenario       = `{"code":"RULE_INCORRECT_GOV_TEST_SCENARIO","message":"The Gov-Test-Scenario was not found"}`
	wantLegacyNotFound    = `{"code":"NOT_FOUND","message":"The remote endpoint has indicated that no data can be found"}`
	wantInfoNotFound      = `{"code":"NOT_FOUND","message":"The requested resource could not be found"}`
	wantFinancialNotFound = `{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"The supplied income source could not be found"}`
	wantChargeRefInvalid  = `{"code":"CHARGE_REFERENCE_INVALID","message":"The provided chargeReference is invalid"}`
	wantInvalidRequest    = `{"code":"INVALID_REQUEST","message":"Invalid request"}`
	wantPeriodKeyDes      = `{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`
	wantPeriodKeyPath     = `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}]}`
	wantNotEnded          = `{"code":"TAX_PERIOD_NOT_ENDED","message":"The remote endpoint has indicated that the submission is for a tax period that has not ended"}`
	wantDuplicate         = `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPLICATE_SUBMISSION","message":"The VAT return was already submitted for the given period."}]}`
	wantNotFinalised      = `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"NOT_FINALISED","message":"The return cannot be accepted without a declaration it is finalised.","path":"/finalised"}]}`
	wantDateTooLargeView  = `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DATE_RANGE_TOO_LARGE","message":"The date of the requested return cannot be further than four years from the current date."}]}`
	wantInvalidJSON       = `{"statusCode":400,"message":"Invalid Json"}`

	wantMissingCreds   = `{"code":"MISSING_CREDENTIALS","message":"Authentication information is not provided"}`
	wantInvalidCreds   = `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`
	wantWrongTokenType = `{"code":"INCORRECT_ACCESS_TOKEN_TYPE","message":"The access token type used is not supported when invoking the API"}`
	wantInvalidScope   = `{"code":"INVALID_SCOPE","message":"Can not access the required resource. Ensure this token has all the required scopes."}`
	wantNoResource     = `{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"A resource with the name in the request can not be found in the API"}`
	wantAcceptInvalid  = `{"code":"ACCEPT_HEADER_INVALID","message":"The accept header is missing or invalid"}`
	wantThrottled      = `{"code":"MESSAGE_THROTTLED_OUT","message":"The request for the API is throttled as you have exceeded your quota."}`
	wantMethodNotAllow = `{"code":"METHOD_NOT_ALLOWED","message":"The request method is not supported"}`

	msgMoney1to4 = "amount should be a monetary value (to 2 decimal places), between -9,999,999,999,999.99 and 9,999,999,999,999.99"
	msgMoney5    = "amount should be a monetary value (to 2 decimal places), between 0 and 99,999,999,999.99"
	msgMoney6to9 = "The value must be between -9999999999999 and 9999999999999"
)

func legacyBody(code string) string { return `{"statusCode":400,"message":"` + code + `"}` }

func invalidRequest(items ...string) string {
	return `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[` + strings.Join(items, ",") + `]}`
}

func item(code, msg, path string) string {
	return `{"code":"` + code + `","message":"` + msg + `","path":"/` + path + `"}`
}

// validReturn is HMRC's example (RAML examples/SubmitVatReturn.json) with the fields replaced.
func validReturn(t *testing.T, replace map[string]string, drop ...string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/raml-SubmitVatReturn.json")
	require.NoError(t, err)
	s := string(raw)
	for k, v := range replace {
		re := regexp.MustCompile(`"` + k + `": [^,\n]+`)
		require.True(t, re.MatchString(s), k)
		s = re.ReplaceAllLiteralString(s, `"`+k+`": `+v)
	}
	for _, k := range drop {
		re := regexp.MustCompile(`\s*"` + k + `": [^,\n]+,?`)
		s = re.ReplaceAllString(s, "")
	}
	return s
}

type wireCase struct {
	name     string
	method   string
	path     string // "{vrn}" is the fixture's VRN
	hdr      map[string]string
	body     string
	status   int
	want     string // exact body
	noCorrel bool   // X-CorrelationId must be absent (errors before authorisation completes)
}

var uuidPattern = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// runWire sends each case and checks status, exact body, Content-Type and
// X-CorrelationId: present on the VAT service's answers (service) unless the
// case says it comes before authorisation completes, absent on the
// platform's.
func runWire(t *testing.T, f *fixture, service bool, cases []wireCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			method := tc.method
			if method == "" {
				method = http.MethodGet
			}
			r := f.do(t, method, strings.ReplaceAll(tc.path, "{vrn}", f.user.VRN), tc.hdr, tc.body)
			assert.Equal(t, tc.status, r.status)
			assert.Equal(t, tc.want, r.body)
			if tc.want != "" {
				assert.Equal(t, "application/json", r.header.Get("Content-Type"))
			}
			if service && !tc.noCorrel {
				assert.Regexp(t, uuidPattern, r.header.Get("X-CorrelationId"))
				assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
			} else {
				assert.Empty(t, r.header.Get("X-CorrelationId"))
				assert.Empty(t, r.header.Get("X-Content-Type-Options"))
			}
		})
	}
}

func scenario(s string) map[string]string { return map[string]string{"Gov-Test-Scenario": s} }

// TestPlatformErrors covers notes §7.1 and §8's errors before the VAT service.
func TestPlatformErrors(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	other, err := f.srv.CreateOrganisation(Organisation{})
	require.NoError(t, err)
	readOnly, err := f.srv.IssueToken(f.user.VRN, "read:vat")
	require.NoError(t, err)
	appTok := f.srv.IssueApplicationToken()
	runWire(t, f, false, []wireCase{
		{name: "no Authorization", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Authorization": ""}, status: 401, want: wantMissingCreds, noCorrel: true},
		{name: "unknown token", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Authorization": "Bearer nope"}, status: 401, want: wantInvalidCreds, noCorrel: true},
		{name: "not a bearer token", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Authorization": "Basic " + f.tok.AccessToken}, status: 401, want: wantInvalidCreds},
		{name: "application token on the VAT API", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Authorization": "Bearer " + appTok.AccessToken}, status: 401, want: wantWrongTokenType},
		{name: "read:vat token on POST returns", method: "POST", path: "/organisations/vat/{vrn}/returns", hdr: map[string]string{"Authorization": "Bearer " + readOnly.AccessToken}, body: validReturn(t, nil), status: 403, want: wantInvalidScope},
		{name: "missing Accept", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Accept": ""}, status: 406, want: wantAcceptInvalid},
		{name: "Accept application/json", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Accept": "application/json"}, status: 406, want: wantAcceptInvalid},
		{name: "Accept version 2.0", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: map[string]string{"Accept": "application/vnd.hmrc.2.0+json"}, status: 406, want: wantAcceptInvalid},
		{name: "unknown resource", path: "/organisations/vat/{vrn}/nothing", status: 404, want: wantNoResource},
		{name: "old path without /organisations", path: "/vat/{vrn}/obligations", status: 404, want: wantNoResource},
		{name: "PUT to returns", method: "PUT", path: "/organisations/vat/{vrn}/returns", body: validReturn(t, nil), status: 404, want: wantNoResource},
		{name: "POST to returns/{periodKey}", method: "POST", path: "/organisations/vat/{vrn}/returns/25A1", body: validReturn(t, nil), status: 404, want: wantNoResource},
		{name: "unencoded # leaves GET returns/", path: "/organisations/vat/{vrn}/returns/", status: 404, want: wantNoResource},
		{name: "TRACE", method: "TRACE", path: "/organisations/vat/{vrn}/obligations", status: 405, want: wantMethodNotAllow},
		{name: "invalid VRN before authorisation", path: "/organisations/vat/12345678/obligations?status=O", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN with letters", path: "/organisations/vat/12345678X/penalties", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid: view return", path: "/organisations/vat/1234567890/returns/25A1", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid: liabilities", path: "/organisations/vat/GB123456789/liabilities", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid: payments", path: "/organisations/vat/12345678/payments", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid: financial details", path: "/organisations/vat/12345678/financial-details/XP123456789012", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid: information", path: "/organisations/vat/12345678/information", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid: submit", method: "POST", path: "/organisations/vat/12345678/returns", body: "{}", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN invalid before a scenario", path: "/organisations/vat/12345678/penalties", hdr: scenario("NO_PENALTIES"), status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "VRN of another organisation", path: "/organisations/vat/" + other.VRN + "/obligations?status=O", status: 403, want: wantNotAuthorised, noCorrel: true},
	})
}

func TestExpiredTokenIsInvalidCredentials(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	path := f.vat("/obligations?status=O")
	f.srv.Advance(4*3600e9 - 1) // one nanosecond before expiry
	assert.Equal(t, 200, f.do(t, "GET", path, nil, "").status)
	f.srv.Advance(1)
	r := f.do(t, "GET", path, nil, "")
	assert.Equal(t, 401, r.status)
	assert.Equal(t, wantInvalidCreds, r.body)
}

func TestObligationsValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	p := "/organisations/vat/{vrn}/obligations"
	runWire(t, f, true, []wireCase{
		{name: "no parameters", path: p, status: 400, want: legacyBody("INVALID_DATE_FROM")},
		{name: "status=F without dates", path: p + "?status=F", status: 400, want: legacyBody("MISSING_DATE_RANGE")},
		{name: "status=X without dates", path: p + "?status=X", status: 400, want: legacyBody("INVALID_STATUS")},
		{name: "status=o is case-sensitive", path: p + "?status=o", status: 400, want: legacyBody("INVALID_STATUS")},
		{name: "only from", path: p + "?from=2025-01-01", status: 400, want: legacyBody("INVALID_DATE_TO")},
		{name: "only to", path: p + "?to=2025-01-01", status: 400, want: legacyBody("INVALID_DATE_FROM")},
		{name: "only from with status=O", path: p + "?from=2025-01-01&status=O", status: 400, want: legacyBody("INVALID_DATE_TO")},
		{name: "bad from", path: p + "?from=2025-1-01&to=2025-03-31", status: 400, want: legacyBody("INVALID_DATE_FROM")},
		{name: "empty from", path: p + "?from=&to=2025-03-31", status: 400, want: legacyBody("INVALID_DATE_FROM")},
		{name: "30 February", path: p + "?from=2025-02-30&to=2025-03-31", status: 400, want: legacyBody("INVALID_DATE_FROM")},
		{name: "bad to and bad from: from first", path: p + "?from=x&to=y", status: 400, want: legacyBody("INVALID_DATE_FROM")},
		{name: "bad to", path: p + "?from=2025-01-01&to=2025-13-01", status: 400, want: legacyBody("INVALID_DATE_TO")},
		{name: "bad status with dates", path: p + "?from=2025-01-01&to=2025-03-31&status=A", status: 400, want: legacyBody("INVALID_STATUS")},
		{name: "empty status counts as present", path: p + "?from=2025-01-01&to=2025-03-31&status=", status: 400, want: legacyBody("INVALID_STATUS")},
		{name: "bad to beats bad status", path: p + "?from=2025-01-01&to=x&status=A", status: 400, want: legacyBody("INVALID_DATE_TO")},
		{name: "same day", path: p + "?from=2025-01-01&to=2025-01-01", status: 400, want: legacyBody("INVALID_DATE_RANGE")},
		{name: "from after to", path: p + "?from=2025-02-01&to=2025-01-01", status: 400, want: legacyBody("INVALID_DATE_RANGE")},
		{name: "one year and a day", path: p + "?from=2024-01-01&to=2025-01-02", status: 400, want: legacyBody("INVALID_DATE_RANGE")},
		{name: "exactly one year is allowed", path: p + "?from=2024-06-30&to=2025-06-30&status=O", status: 200, want: `{"obligations":[{"start":"2025-01-01","end":"2025-03-31","due":"2025-05-07","status":"O","periodKey":"25A1"},{"start":"2025-04-01","end":"2025-06-30","due":"2025-08-07","status":"O","periodKey":"25A2"}]}`},
		{name: "29 February plus one year is 28 February", path: p + "?from=2024-02-29&to=2025-03-01", status: 400, want: legacyBody("INVALID_DATE_RANGE")},
		{name: "29 February to 28 February next year", path: p + "?from=2024-02-29&to=2025-02-28&status=F", status: 200, want: `{"obligations":[{"start":"2024-10-01","end":"2024-12-31","due":"2025-02-07","status":"F","periodKey":"24A4","received":"2025-02-06"}]}`},
		{name: "future dates are fine for obligations", path: p + "?from=2025-06-01&to=2026-05-31", status: 200, want: `{"obligations":[{"start":"2025-04-01","end":"2025-06-30","due":"2025-08-07","status":"O","periodKey":"25A2"}]}`},
		{name: "status=O alone", path: p + "?status=O", status: 200, want: `{"obligations":[{"start":"2025-01-01","end":"2025-03-31","due":"2025-05-07","status":"O","periodKey":"25A1"},{"start":"2025-04-01","end":"2025-06-30","due":"2025-08-07","status":"O","periodKey":"25A2"}]}`},
		{name: "nothing in range", path: p + "?from=2023-01-01&to=2023-12-31", status: 404, want: wantLegacyNotFound},
		{name: "VRN checked before the query", path: "/organisations/vat/1/obligations", status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "trailing slash tolerated", path: "/organisations/vat/{vrn}/obligations/?status=O&from=2025-01-01&to=2025-03-31", status: 200, want: `{"obligations":[{"start":"2025-01-01","end":"2025-03-31","due":"2025-05-07","status":"O","periodKey":"25A1"}]}`},
	})
}

func TestObligationsScenarios(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	quarterly, err := os.ReadFile("testdata/oas-obligations-quarterly.json")
	require.NoError(t, err)
	monthly, err := os.ReadFile("testdata/oas-obligations-monthly.json")
	require.NoError(t, err)
	path := f.vat("/obligations?status=O")

	t.Run("QUARTERLY_ONE_MET is HMRC's example", func(t *testing.T) {
		r := f.do(t, "GET", path, scenario("QUARTERLY_ONE_MET"), "")
		assert.Equal(t, 200, r.status)
		assert.JSONEq(t, string(quarterly), r.body)
	})
	t.Run("MONTHLY_ONE_MET is HMRC's example", func(t *testing.T) {
		r := f.do(t, "GET", path, scenario("MONTHLY_ONE_MET"), "")
		assert.Equal(t, 200, r.status)
		assert.JSONEq(t, string(monthly), r.body)
	})

	type shape struct {
		n, fulfilled int
		firstStart   string
		lastEnd      string
	}
	shapes := map[string]shape{
		"QUARTERLY_NONE_MET":         {1, 0, "2017-01-01", "2017-03-31"},
		"QUARTERLY_ONE_MET":          {2, 1, "2017-01-01", "2017-06-30"},
		"QUARTERLY_TWO_MET":          {3, 2, "2017-01-01", "2017-09-30"},
		"QUARTERLY_THREE_MET":        {4, 3, "2017-01-01", "2017-12-31"},
		"QUARTERLY_FOUR_MET":         {4, 4, "2017-01-01", "2017-12-31"},
		"MONTHLY_NONE_MET":           {1, 0, "2017-01-01", "2017-01-31"},
		"MONTHLY_ONE_MET":            {2, 1, "2017-01-01", "2017-02-28"},
		"MONTHLY_TWO_MET":            {3, 2, "2017-01-01", "2017-03-31"},
		"MONTHLY_THREE_MET":          {4, 3, "2017-01-01", "2017-04-30"},
		"MONTHLY_OBS_01_OPEN":        {1, 0, "2018-01-01", "2018-01-31"},
		"MONTHLY_OBS_03_OPEN":        {3, 2, "2018-01-01", "2018-03-31"},
		"MONTHLY_OBS_12_OPEN":        {12, 11, "2018-01-01", "2018-12-31"},
		"MONTHLY_OBS_12_FULFILLED":   {12, 12, "2018-01-01", "2018-12-31"},
		"QUARTERLY_OBS_01_OPEN":      {1, 0, "2018-01-01", "2018-03-31"},
		"QUARTERLY_OBS_02_OPEN":      {2, 1, "2018-01-01", "2018-06-30"},
		"QUARTERLY_OBS_04_OPEN":      {4, 3, "2018-01-01", "2018-12-31"},
		"QUARTERLY_OBS_04_FULFILLED": {4, 4, "2018-01-01", "2018-12-31"},
		"MULTIPLE_OPEN_MONTHLY":      {3, 1, "2018-01-01", "2018-03-31"},
		"MULTIPLE_OPEN_QUARTERLY":    {3, 1, "2018-01-01", "2018-09-30"},
		"OBS_SPANS_MULTIPLE_YEARS":   {1, 0, "2018-11-01", "2019-01-31"},
	}
	for i := 2; i <= 11; i++ {
		name := "MONTHLY_OBS_" + twoDigitString(i) + "_OPEN"
		shapes[name] = shape{i, i - 1, "2018-01-01", ""}
	}
	shapes["QUARTERLY_OBS_03_OPEN"] = shape{3, 2, "2018-01-01", "2018-09-30"}
	for name, want := range shapes {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// canned: the query's status (F here) and dates are ignored
			r := f.do(t, "GET", f.vat("/obligations?from=2030-01-01&to=2030-06-01&status=F"), scenario(name), "")
			require.Equal(t, 200, r.status, r.body)
			var got struct {
				Obligations []struct{ Start, End, Due, Status, PeriodKey, Received string }
			}
			require.NoError(t, json.Unmarshal([]byte(r.body), &got))
			require.Len(t, got.Obligations, want.n)
			fulfilled := 0
			for i, ob := range got.Obligations {
				assert.Regexp(t, `^[#0-9A-Z]{4}$`, ob.PeriodKey)
				if ob.Status == "F" {
					fulfilled++
					assert.NotEmpty(t, ob.Received)
					assert.Less(t, i, want.fulfilled, "fulfilled periods come first")
				} else {
					assert.Equal(t, "O", ob.Status)
					assert.Empty(t, ob.Received)
				}
			}
			assert.Equal(t, want.fulfilled, fulfilled)
			assert.Equal(t, want.firstStart, got.Obligations[0].Start)
			if want.lastEnd != "" {
				assert.Equal(t, want.lastEnd, got.Obligations[want.n-1].End)
			}
		})
	}
	runWire(t, f, true, []wireCase{
		{name: "INSOLVENT_TRADER", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("INSOLVENT_TRADER"), status: 403, want: wantInsolvent},
		{name: "NOT_FOUND", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("NOT_FOUND"), status: 404, want: wantLegacyNotFound},
		{name: "unknown", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("QUARTERLY_FIVE_MET"), status: 400, want: wantBadScenario},
		{name: "MONTHLY_OBS_13_OPEN", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("MONTHLY_OBS_13_OPEN"), status: 400, want: wantBadScenario},
		{name: "QUARTERLY_OBS_05_OPEN", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("QUARTERLY_OBS_05_OPEN"), status: 400, want: wantBadScenario},
		{name: "MONTHLY_OBS_11_FULFILLED", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("MONTHLY_OBS_11_FULFILLED"), status: 400, want: wantBadScenario},
		{name: "a submit scenario", path: "/organisations/vat/{vrn}/obligations?status=O", hdr: scenario("DUPLICATE_SUBMISSION"), status: 400, want: wantBadScenario},
		{name: "validation before the scenario", path: "/organisations/vat/{vrn}/obligations", hdr: scenario("INSOLVENT_TRADER"), status: 400, want: legacyBody("INVALID_DATE_FROM")},
	})
}

func twoDigitString(i int) string { return string([]byte{byte('0' + i/10), byte('0' + i%10)}) }

func TestSubmitValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithObligationBoundReturns()) // live-like: an unknown key is PERIOD_KEY_INVALID
	p := "/organisations/vat/{vrn}/returns"
	ok := func(r map[string]string, drop ...string) string { return validReturn(t, r, drop...) }
	runWire(t, f, true, []wireCase{
		{name: "invalid JSON", method: "POST", path: p, body: `{"periodKey":`, status: 400, want: wantInvalidJSON, noCorrel: true},
		{name: "invalid JSON beats an invalid VRN", method: "POST", path: "/organisations/vat/1/returns", body: `nope`, status: 400, want: wantInvalidJSON, noCorrel: true},
		{name: "leading zero is not JSON", method: "POST", path: p, body: ok(map[string]string{"periodKey": "0418"}), status: 400, want: wantInvalidJSON, noCorrel: true},
		{name: "empty body", method: "POST", path: p, hdr: map[string]string{"Content-Type": "application/json"}, status: 400, want: wantInvalidJSON, noCorrel: true},
		{name: "number over 310 characters", method: "POST", path: p, body: ok(map[string]string{"vatDueSales": "1" + strings.Repeat("0", 310)}), status: 400, want: wantInvalidJSON, noCorrel: true},
		{name: "invalid VRN after the body", method: "POST", path: "/organisations/vat/1/returns", body: ok(nil), status: 400, want: wantVRNInvalid, noCorrel: true},
		{name: "text/json is JSON too", method: "POST", path: p, hdr: map[string]string{"Content-Type": "text/json; charset=utf-8"}, body: `{}`, status: 400, want: invalidRequest(
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "periodKey"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueSales"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueAcquisitions"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatReclaimedCurrPeriod"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "netVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueSalesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValuePurchasesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueGoodsSuppliedExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalAcquisitionsExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "finalised"))},
		{name: "an array has no fields", method: "POST", path: p, body: `[]`, status: 400, want: invalidRequest(
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "periodKey"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueSales"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueAcquisitions"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatReclaimedCurrPeriod"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "netVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueSalesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValuePurchasesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueGoodsSuppliedExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalAcquisitionsExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "finalised"))},
		{name: "body over 100 KiB", method: "POST", path: p, body: `{"x":"` + strings.Repeat("a", 100<<10) + `"}`, status: 413, want: `{"statusCode":413,"message":"Request Entity Too Large"}`, noCorrel: true},
		{name: "unknown fields are ignored", method: "POST", path: p, body: strings.Replace(ok(nil), `"finalised": true`, `"finalised": false, "extra": 1`, 1), status: 403, want: wantNotFinalised},
		{name: "boxes 6-9 accept 100.00 and 1E+2", method: "POST", path: p, body: ok(map[string]string{"totalValueSalesExVAT": "100.00", "totalAcquisitionsExVAT": "1E+2", "periodKey": `"ZZZZ"`}), status: 400, want: wantPeriodKeyDes},
		{name: "box 5 of zero with scale 2", method: "POST", path: p, body: ok(map[string]string{"netVatDue": "0.00", "vatReclaimedCurrPeriod": "5.05", "periodKey": `"ZZZZ"`}), status: 400, want: wantPeriodKeyDes},
		{name: "box 1 0.000 has scale 3", method: "POST", path: p, body: ok(map[string]string{"vatDueSales": "0.000"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney1to4, "vatDueSales"))},
		{name: "box 2 -9999999999999.99 is in range", method: "POST", path: p, body: ok(map[string]string{"vatDueAcquisitions": "-9999999999999.99", "vatDueSales": "9999999999999.99", "totalVatDue": "0", "vatReclaimedCurrPeriod": "0", "netVatDue": "0", "periodKey": `"ZZZZ"`}), status: 400, want: wantPeriodKeyDes},
		{name: "not JSON content type", method: "POST", path: p, hdr: map[string]string{"Content-Type": "text/plain"}, body: ok(nil), status: 415, want: `{"code":"INVALID_BODY_TYPE","message":"Expecting text/json or application/json body"}`, noCorrel: true},
		{name: "every field missing", method: "POST", path: p, body: `{}`, status: 400, want: invalidRequest(
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "periodKey"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueSales"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueAcquisitions"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatReclaimedCurrPeriod"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "netVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueSalesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValuePurchasesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueGoodsSuppliedExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalAcquisitionsExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "finalised"))},
		{name: "one field missing", method: "POST", path: p, body: ok(nil, "totalVatDue"), status: 400, want: invalidRequest(item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalVatDue"))},
		{name: "box 1 with three decimals", method: "POST", path: p, body: ok(map[string]string{"vatDueSales": "1.005"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney1to4, "vatDueSales"))},
		{name: "box 1 with 1.100 (scale 3)", method: "POST", path: p, body: ok(map[string]string{"vatDueSales": "1.100"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney1to4, "vatDueSales"))},
		{name: "box 4 out of range", method: "POST", path: p, body: ok(map[string]string{"vatReclaimedCurrPeriod": "10000000000000"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney1to4, "vatReclaimedCurrPeriod"))},
		{name: "box 5 negative", method: "POST", path: p, body: ok(map[string]string{"netVatDue": "-100.10"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney5, "netVatDue"))},
		{name: "box 5 over 99,999,999,999.99", method: "POST", path: p, body: ok(map[string]string{"netVatDue": "100000000000"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney5, "netVatDue"))},
		{name: "box 6 with pence", method: "POST", path: p, body: ok(map[string]string{"totalValueSalesExVAT": "100.5"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney6to9, "totalValueSalesExVAT"))},
		{name: "box 9 out of range", method: "POST", path: p, body: ok(map[string]string{"totalAcquisitionsExVAT": "-10000000000000"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney6to9, "totalAcquisitionsExVAT"))},
		{name: "scale and range failing together give one error", method: "POST", path: p, body: ok(map[string]string{"vatDueSales": "99999999999999.999"}), status: 400, want: invalidRequest(item("INVALID_MONETARY_AMOUNT", msgMoney1to4, "vatDueSales"))},
		{name: "numeric periodKey", method: "POST", path: p, body: ok(map[string]string{"periodKey": "1904"}), status: 400, want: invalidRequest(item("INVALID_STRING_VALUE", "please provide a string field", "periodKey"))},
		{name: "periodKey of three characters", method: "POST", path: p, body: ok(map[string]string{"periodKey": `"A01"`}), status: 400, want: invalidRequest(item("PERIOD_KEY_INVALID", "period key should be a 4 character string", "periodKey"))},
		{name: "lower-case periodKey", method: "POST", path: p, body: ok(map[string]string{"periodKey": `"a001"`}), status: 400, want: invalidRequest(item("PERIOD_KEY_INVALID", "period key should be a 4 character string", "periodKey"))},
		{name: "box as text", method: "POST", path: p, body: ok(map[string]string{"vatDueAcquisitions": `"lots"`}), status: 400, want: invalidRequest(item("INVALID_NUMERIC_VALUE", "please provide a numeric field", "vatDueAcquisitions"))},
		{name: "box as true", method: "POST", path: p, body: ok(map[string]string{"totalValuePurchasesExVAT": `true`}), status: 400, want: invalidRequest(item("INVALID_NUMERIC_VALUE", "please provide a numeric field", "totalValuePurchasesExVAT"))},
		{name: "box as null", method: "POST", path: p, body: ok(map[string]string{"netVatDue": `null`}), status: 400, want: invalidRequest(item("INVALID_NUMERIC_VALUE", "please provide a numeric field", "netVatDue"))},
		{name: "finalised as a string", method: "POST", path: p, body: ok(map[string]string{"finalised": `"true"`}), status: 400, want: invalidRequest(item("UNMAPPED_PLAY_ERROR", "error.expected.jsboolean", "finalised"))},
		{name: "several level-3 errors in vat-api's order", method: "POST", path: p, body: ok(map[string]string{"periodKey": "1", "vatDueSales": "1.001", "totalValueSalesExVAT": "2.5", "finalised": "1"}, "netVatDue"), status: 400, want: invalidRequest(
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "netVatDue"),
			item("INVALID_MONETARY_AMOUNT", msgMoney1to4, "vatDueSales"),
			item("INVALID_MONETARY_AMOUNT", msgMoney6to9, "totalValueSalesExVAT"),
			item("INVALID_STRING_VALUE", "please provide a string field", "periodKey"),
			item("UNMAPPED_PLAY_ERROR", "error.expected.jsboolean", "finalised"))},
		{name: "VAT_TOTAL_VALUE", method: "POST", path: p, body: ok(map[string]string{"vatDueSales": "105.51"}), status: 400, want: invalidRequest(item("VAT_TOTAL_VALUE", "totalVatDue should be equal to vatDueSales + vatDueAcquisitions", "totalVatDue"))},
		{name: "VAT_NET_VALUE", method: "POST", path: p, body: ok(map[string]string{"netVatDue": "100.11"}), status: 400, want: invalidRequest(item("VAT_NET_VALUE", "netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod", "netVatDue"))},
		{name: "VAT_NET_VALUE and VAT_TOTAL_VALUE together", method: "POST", path: p, body: ok(map[string]string{"totalVatDue": "5.06"}), status: 400, want: invalidRequest(
			item("VAT_NET_VALUE", "netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod", "netVatDue"),
			item("VAT_TOTAL_VALUE", "totalVatDue should be equal to vatDueSales + vatDueAcquisitions", "totalVatDue"))},
		{name: "level 4 waits for level 3", method: "POST", path: p, body: ok(map[string]string{"totalVatDue": "5.06", "finalised": `"x"`}), status: 400, want: invalidRequest(item("UNMAPPED_PLAY_ERROR", "error.expected.jsboolean", "finalised"))},
		{name: "NOT_FINALISED", method: "POST", path: p, body: ok(map[string]string{"finalised": "false"}), status: 403, want: wantNotFinalised},
		{name: "NOT_FINALISED waits for level 4", method: "POST", path: p, body: ok(map[string]string{"finalised": "false", "vatDueSales": "1"}), status: 400, want: invalidRequest(
			item("VAT_TOTAL_VALUE", "totalVatDue should be equal to vatDueSales + vatDueAcquisitions", "totalVatDue"))},
		{name: "unknown period key (downstream INVALID_PERIODKEY)", method: "POST", path: p, body: ok(map[string]string{"periodKey": `"ZZZZ"`}), status: 400, want: wantPeriodKeyDes},
		{name: "current period has not ended", method: "POST", path: p, body: ok(map[string]string{"periodKey": `"25A2"`}), status: 403, want: wantNotEnded},
		{name: "fulfilled period is a duplicate", method: "POST", path: p, body: ok(map[string]string{"periodKey": `"24A4"`}), status: 403, want: wantDuplicate},
		{name: "scenario INVALID_VRN", method: "POST", path: p, hdr: scenario("INVALID_VRN"), body: ok(nil), status: 400, want: wantVRNInvalid},
		{name: "scenario INVALID_PERIODKEY", method: "POST", path: p, hdr: scenario("INVALID_PERIODKEY"), body: ok(nil), status: 400, want: wantPeriodKeyDes},
		{name: "scenario INVALID_PAYLOAD", method: "POST", path: p, hdr: scenario("INVALID_PAYLOAD"), body: ok(nil), status: 400, want: wantInvalidRequest},
		{name: "scenario DUPLICATE_SUBMISSION", method: "POST", path: p, hdr: scenario("DUPLICATE_SUBMISSION"), body: ok(nil), status: 403, want: wantDuplicate},
		{name: "scenario TAX_PERIOD_NOT_ENDED", method: "POST", path: p, hdr: scenario("TAX_PERIOD_NOT_ENDED"), body: ok(nil), status: 403, want: wantNotEnded},
		{name: "scenario INSOLVENT_TRADER", method: "POST", path: p, hdr: scenario("INSOLVENT_TRADER"), body: ok(nil), status: 403, want: wantInsolvent},
		{name: "unknown scenario", method: "POST", path: p, hdr: scenario("INVALID_ARN"), body: ok(nil), status: 400, want: wantBadScenario},
		{name: "validation before the scenario", method: "POST", path: p, hdr: scenario("DUPLICATE_SUBMISSION"), body: `{}`, status: 400, want: invalidRequest(
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "periodKey"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueSales"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatDueAcquisitions"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "vatReclaimedCurrPeriod"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "netVatDue"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueSalesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValuePurchasesExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalValueGoodsSuppliedExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "totalAcquisitionsExVAT"),
			item("MANDATORY_FIELD_MISSING", "a mandatory field is missing", "finalised"))},
	})
	// No scenario or error above stored anything.
	assert.Equal(t, 0, f.srv.Submissions(f.user.VRN).Accepted)
}

// TestSubmitHeaders checks the response headers of POST …/returns (notes §6).
func TestSubmitHeaders(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	uuid := regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

	bad := f.do(t, "POST", f.vat("/returns"), nil, validReturn(t, map[string]string{"finalised": "false"}))
	require.Equal(t, 403, bad.status)
	assert.Regexp(t, uuid, bad.header.Get("X-CorrelationId"))
	assert.Regexp(t, uuid, bad.header.Get("Receipt-ID"))
	assert.Equal(t, "2025-06-15T10:30:00Z", bad.header.Get("Receipt-Timestamp"))
	assert.Empty(t, bad.header.Get("Receipt-Signature"), "only on 201")
	assert.Equal(t, "nosniff", bad.header.Get("X-Content-Type-Options"))

	r := f.do(t, "POST", f.vat("/returns"), nil, validReturn(t, map[string]string{"periodKey": `"25A1"`}))
	require.Equal(t, 201, r.status, r.body)
	assert.Regexp(t, uuid, r.header.Get("X-CorrelationId"))
	assert.Regexp(t, uuid, r.header.Get("Receipt-ID"))
	assert.NotEqual(t, r.header.Get("X-CorrelationId"), r.header.Get("Receipt-ID"))
	assert.Equal(t, "2025-06-15T10:30:00Z", r.header.Get("Receipt-Timestamp"))
	assert.Equal(t, "This has been deprecated - DO NOT USE", r.header.Get("Receipt-Signature"))
	assert.Equal(t, "nosniff", r.header.Get("X-Content-Type-Options"))
	assert.Regexp(t, `^\{"processingDate":"2025-06-15T10:30:00\.000Z","formBundleNumber":"[0-9]{12}"\}$`, r.body,
		"a repayment return: no paymentIndicator without bank details, no chargeRefNumber")
	// header names are sent with HMRC's spelling
	raw := f.rawHeaderNames(t, "POST", f.vat("/returns"), validReturn(t, map[string]string{"periodKey": `"24A4"`}))
	assert.Contains(t, raw, "X-CorrelationId")
	assert.Contains(t, raw, "Receipt-ID")
}

func TestViewReturn(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	r := f.do(t, "POST", f.vat("/returns"), nil, validReturn(t, map[string]string{"periodKey": `"25A1"`}))
	require.Equal(t, 201, r.status, r.body)
	decimals, err := os.ReadFile("testdata/raml-GetVatReturnDecimals.json")
	require.NoError(t, err)

	t.Run("stored return comes back with BigDecimal output", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", f.vat("/returns/25A1"), nil, "")
		require.Equal(t, 200, r.status)
		want := strings.Replace(string(decimals), `"A001"`, `"25A1"`, 1)
		assert.JSONEq(t, want, r.body)
		assert.Contains(t, r.body, `"netVatDue":100.1,`, "100.10 comes back as 100.1")
		assert.NotContains(t, r.body, "finalised")
		assert.NotEmpty(t, r.header.Get("X-CorrelationId"))
	})
	t.Run("no return: 404 with an empty body and no Content-Type", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", f.vat("/returns/24A4"), nil, "")
		assert.Equal(t, 404, r.status)
		assert.Equal(t, "", r.body)
		assert.Empty(t, r.header.Get("Content-Type"))
		assert.NotEmpty(t, r.header.Get("X-CorrelationId"))
	})
	runWire(t, f, true, []wireCase{
		{name: "lower-case key", path: "/organisations/vat/{vrn}/returns/a001", status: 400, want: wantPeriodKeyPath},
		{name: "five characters", path: "/organisations/vat/{vrn}/returns/25A11", status: 400, want: wantPeriodKeyPath},
		{name: "encoded # key not submitted", path: "/organisations/vat/{vrn}/returns/%23001", status: 404, want: ""},
		{name: "DATE_RANGE_TOO_LARGE", path: "/organisations/vat/{vrn}/returns/25A1", hdr: scenario("DATE_RANGE_TOO_LARGE"), status: 403, want: wantDateTooLargeView},
		{name: "INSOLVENT_TRADER", path: "/organisations/vat/{vrn}/returns/25A1", hdr: scenario("INSOLVENT_TRADER"), status: 403, want: wantInsolvent},
		{name: "unknown scenario", path: "/organisations/vat/{vrn}/returns/25A1", hdr: scenario("NOT_FOUND"), status: 400, want: wantBadScenario},
		{name: "key checked before the scenario", path: "/organisations/vat/{vrn}/returns/a", hdr: scenario("INSOLVENT_TRADER"), status: 400, want: wantPeriodKeyPath},
	})
}

func TestHashPeriodKey(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(0))
	srv.SetNow(testNow)
	user, tok := srv.TestOrganisation(t, Organisation{Obligations: []Obligation{{PeriodKey: "#001", Start: "2025-01-01", End: "2025-03-31"}}})
	f := &fixture{srv, user, tok}
	hash, err := os.ReadFile("testdata/raml-SubmitVatReturnHash.json")
	require.NoError(t, err)
	r := f.do(t, "POST", f.vat("/returns"), nil, string(hash))
	require.Equal(t, 201, r.status, r.body)
	assert.Contains(t, r.body, `"chargeRefNumber":"X`, "100.00 payable raises a charge")
	r = f.do(t, "GET", f.vat("/returns/%23001"), nil, "")
	require.Equal(t, 200, r.status)
	want, err := os.ReadFile("testdata/raml-GetVatReturnHash.json")
	require.NoError(t, err)
	assert.JSONEq(t, string(want), r.body)
	assert.Contains(t, r.body, `"vatDueSales":100,`, "100.00 comes back as 100")
}

func TestLiabilitiesAndPaymentsValidation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	for _, res := range []string{"liabilities", "payments"} {
		p := "/organisations/vat/{vrn}/" + res
		runWire(t, f, true, []wireCase{
			{name: res + "/no parameters", path: p, status: 400, want: legacyBody("DATE_FROM_INVALID")},
			{name: res + "/missing from", path: p + "?to=2025-01-01", status: 400, want: legacyBody("DATE_FROM_INVALID")},
			{name: res + "/bad from", path: p + "?from=2025-1-1&to=2025-01-01", status: 400, want: legacyBody("DATE_FROM_INVALID")},
			{name: res + "/from 2016-04-05 unsupported", path: p + "?from=2016-04-05&to=2016-12-01", status: 400, want: legacyBody("DATE_FROM_INVALID")},
			{name: res + "/from 2016-04-06 supported", path: p + "?from=2016-04-06&to=2016-12-01", status: 404, want: wantLegacyNotFound},
			{name: res + "/missing to", path: p + "?from=2025-01-01", status: 400, want: legacyBody("DATE_TO_INVALID")},
			{name: res + "/bad to", path: p + "?from=2025-01-01&to=2025-02-29", status: 400, want: legacyBody("DATE_TO_INVALID")},
			{name: res + "/future to", path: p + "?from=2025-01-01&to=2025-06-16", status: 400, want: legacyBody("DATE_TO_INVALID")},
			{name: res + "/to today is allowed", path: p + "?from=2025-01-01&to=2025-06-15", status: 404, want: wantLegacyNotFound},
			{name: res + "/same day", path: p + "?from=2025-01-01&to=2025-01-01", status: 400, want: legacyBody("DATE_RANGE_INVALID")},
			{name: res + "/from after to", path: p + "?from=2025-02-01&to=2025-01-01", status: 400, want: legacyBody("DATE_RANGE_INVALID")},
			{name: res + "/exactly one year is too long", path: p + "?from=2024-01-01&to=2025-01-01", status: 400, want: legacyBody("DATE_RANGE_INVALID")},
			{name: res + "/one year less a day", path: p + "?from=2024-01-01&to=2024-12-31", status: 404, want: wantLegacyNotFound},
			{name: res + "/29 February: plusYears(1) is 28 February", path: p + "?from=2024-02-29&to=2025-02-28", status: 400, want: legacyBody("DATE_RANGE_INVALID")},
			{name: res + "/29 February to 27 February", path: p + "?from=2024-02-29&to=2025-02-27", status: 404, want: wantLegacyNotFound},
			{name: res + "/INSOLVENT_TRADER", path: p + "?from=2025-01-01&to=2025-02-01", hdr: scenario("INSOLVENT_TRADER"), status: 403, want: wantInsolvent},
			{name: res + "/unknown scenario", path: p + "?from=2025-01-01&to=2025-02-01", hdr: scenario("MULTIPLE"), status: 400, want: wantBadScenario},
		})
	}
}

func TestLiabilitiesAndPaymentsScenarios(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	cases := []struct{ res, scenario, from, to string }{
		{"liabilities", "SINGLE_LIABILITY", "2017-01-02", "2017-02-02"},
		{"liabilities", "MULTIPLE_LIABILITIES", "2017-04-05", "2017-12-21"},
		{"liabilities", "SINGLE_LIABILITY_2018_19", "2018-01-02", "2018-02-02"},
		{"liabilities", "MULTIPLE_LIABILITIES_2018_19", "2018-04-05", "2018-12-21"},
		{"payments", "SINGLE_PAYMENT", "2017-01-02", "2017-02-02"},
		{"payments", "MULTIPLE_PAYMENTS", "2017-02-27", "2017-12-21"},
		{"payments", "SINGLE_PAYMENT_2018_19", "2018-01-02", "2018-02-02"},
		{"payments", "MULTIPLE_PAYMENTS_2018_19", "2018-02-27", "2018-12-21"},
	}
	for _, tc := range cases {
		t.Run(tc.scenario, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, "GET", f.vat("/"+tc.res+"?from="+tc.from+"&to="+tc.to), scenario(tc.scenario), "")
			require.Equal(t, 200, r.status, r.body)
			var got map[string][]map[string]any
			require.NoError(t, json.Unmarshal([]byte(r.body), &got))
			items := got[tc.res]
			require.NotEmpty(t, items)
			if strings.HasPrefix(tc.scenario, "SINGLE") {
				assert.Len(t, items, 1)
			} else {
				assert.Greater(t, len(items), 1)
			}
			for _, it := range items {
				if tp, ok := it["taxPeriod"].(map[string]any); ok {
					assert.LessOrEqual(t, tp["to"], tc.to, "the 'to' date falls within the range")
					assert.GreaterOrEqual(t, tp["to"], tc.from)
				}
			}
			// other dates: no data, like HMRC's sandbox
			r = f.do(t, "GET", f.vat("/"+tc.res+"?from=2018-06-01&to=2018-07-01"), scenario(tc.scenario), "")
			assert.Equal(t, 404, r.status)
			assert.Equal(t, wantLegacyNotFound, r.body)
		})
	}
	t.Run("a payments scenario on liabilities", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", f.vat("/liabilities?from=2017-01-02&to=2017-02-02"), scenario("SINGLE_PAYMENT"), "")
		assert.Equal(t, 400, r.status)
		assert.Equal(t, wantBadScenario, r.body)
	})
	t.Run("no header and no data", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", f.vat("/liabilities?from=2017-01-02&to=2017-02-02"), nil, "")
		assert.Equal(t, 404, r.status)
		assert.Equal(t, wantLegacyNotFound, r.body)
	})
}

func TestPenaltiesScenarios(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	oasAllFields := `{"totalisations":{"lateSubmissionPenaltyTotalValue":400,"penalisedPrincipalTotal":10000,"latePaymentPenaltyPostedTotal":425.21,"latePaymentPenaltyEstimateTotal":30.68},"lateSubmissionPenalty":{"summary":{"activePenaltyPoints":4,"inactivePenaltyPoints":1,"periodOfComplianceAchievement":"2025-05-31","regimeThreshold":4,"penaltyChargeAmount":400},"details":[{"penaltyNumber":"00004","penaltyOrder":"4","penaltyCategory":"point","penaltyStatus":"inactive","frequencyAdjustmentPointIndicator":"X","penaltyCreationDate":"2023-11-08","penaltyExpiryDate":"2025-12-01","expiryReason":"appeal","communicationsDate":"2023-11-11","lateSubmissions":[{"lateSubmissionID":"1054600","taxReturnStatus":"Fulfilled","taxPeriodStartDate":"2023-07-01","taxPeriodEndDate":"2023-09-30","taxPeriodDueDate":"2023-11-07","returnReceiptDate":"2023-11-13"}],"appealInformation":[{"appealStatus":"appeal-upheld","appealLevel":"statutory-review"}]},{"penaltyNumber":"00005","penaltyOrder":"5","penaltyCategory":"threshold","penaltyStatus":"active","penaltyCreationDate":"2024-02-08","penaltyExpiryDate":"2026-03-01","communicationsDate":"2024-02-11","lateSubmissions":[{"lateSubmissionID":"1054700","taxReturnStatus":"Fulfilled","taxPeriodStartDate":"2023-10-01","taxPeriodEndDate":"2023-12-31","taxPeriodDueDate":"2024-02-07","returnReceiptDate":"2024-02-15"}],"chargeReference":"XS198765432109","chargeAmount":200,"chargeOutstandingAmount":200,"chargeDueDate":"2024-02-28"},{"penaltyNumber":"00006","penaltyOrder":"6","penaltyCategory":"charge","penaltyStatus":"active","penaltyCreationDate":"2024-05-08","penaltyExpiryDate":"2026-06-01","communicationsDate":"2024-05-11","lateSubmissions":[{"lateSubmissionID":"1054800","taxReturnStatus":"Fulfilled","taxPeriodStartDate":"2024-01-01","taxPeriodEndDate":"2024-03-31","taxPeriodDueDate":"2024-05-07","returnReceiptDate":"2024-11-12"}],"chargeReference":"XS212345678901","chargeAmount":200,"chargeOutstandingAmount":200,"chargeDueDate":"2024-02-28"}]},"latePaymentPenalty":{"details":[{"principalChargeReference":"XV123451234512","penaltyCategory":"LPP1","penaltyStatus":"posted","penaltyAmountAccruing":0,"penaltyAmountPosted":400,"penaltyAmountPaid":0,"penaltyAmountOutstanding":400,"latePaymentPenalty1LowerRateCalculationAmount":10000,"latePaymentPenalty1LowerRatePercentage":2,"latePaymentPenalty1HigherRateCalculationAmount":10000,"latePaymentPenalty1HigherRatePercentage":2,"penaltyChargeCreationDate":"2024-06-06","communicationsDate":"2024-06-09","penaltyChargeReference":"XP123456789012","penaltyChargeDueDate":"2024-07-06","principalChargeDocNumber":"10023852","principalChargeBillingFrom":"2024-01-01","principalChargeBillingTo":"2024-03-31","principalChargeDueDate":"2024-05-07","principalChargeLatestClearing":"2024-07-31","timeToPay":[{"timeToPayStartDate":"2024-07-06","timeToPayEndDate":"2024-07-11"}],"appealInformation":[{"appealStatus":"appeal-rejected","appealLevel":"statutory-review"}]},{"principalChargeReference":"XV123451234512","penaltyCategory":"LPP2","penaltyStatus":"accruing","penaltyAmountAccruing":30.68,"penaltyAmountPosted":25.21,"penaltyAmountPaid":0,"penaltyAmountOutstanding":25.21,"latePaymentPenalty2Days":"23","latePaymentPenalty2Percentage":4,"penaltyChargeCreationDate":"2024-07-01","communicationsDate":"2024-07-04","penaltyChargeReference":"XP298765432109","penaltyChargeDueDate":"2024-08-07","principalChargeDocNumber":"10023852","principalChargeBillingFrom":"2024-01-01","principalChargeBillingTo":"2024-03-31","principalChargeDueDate":"2024-05-07","principalChargeLatestClearing":"2024-07-31"}]}}`
	p := "/organisations/vat/{vrn}/penalties"
	runWire(t, f, true, []wireCase{
		{name: "no header is DEFAULT", path: p, status: 200, want: oasAllFields},
		{name: "DEFAULT is HMRC's all-fields example", path: p, hdr: scenario("DEFAULT"), status: 200, want: oasAllFields},
		{name: "NO_PENALTIES", path: p, hdr: scenario("NO_PENALTIES"), status: 200, want: `{}`},
		{name: "unknown", path: p, hdr: scenario("INSOLVENT_TRADER"), status: 400, want: wantBadScenario},
	})
	type penalties struct {
		LateSubmissionPenalty *struct {
			Summary struct{ ActivePenaltyPoints, InactivePenaltyPoints, RegimeThreshold int }
			Details []struct {
				PenaltyCategory, PenaltyStatus, ChargeReference string
			}
		}
		LatePaymentPenalty *struct {
			Details []struct{ PenaltyCategory, PenaltyStatus string }
		}
	}
	checks := map[string]func(t *testing.T, p penalties){
		"LATE_SUBMISSION": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LateSubmissionPenalty)
			assert.Len(t, p.LateSubmissionPenalty.Details, 1)
			assert.Nil(t, p.LatePaymentPenalty)
		},
		"LATE_PAYMENT": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LatePaymentPenalty)
			assert.Len(t, p.LatePaymentPenalty.Details, 1)
			assert.Nil(t, p.LateSubmissionPenalty)
		},
		"MULTIPLE_PENALTIES": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LateSubmissionPenalty)
			require.NotNil(t, p.LatePaymentPenalty)
			assert.Len(t, p.LateSubmissionPenalty.Details, 1)
			assert.Len(t, p.LatePaymentPenalty.Details, 1)
		},
		"MULTIPLE_LATE_PAYMENT_PENALTIES": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LatePaymentPenalty)
			assert.Greater(t, len(p.LatePaymentPenalty.Details), 1)
			assert.Nil(t, p.LateSubmissionPenalty)
		},
		"MULTIPLE_LATE_SUBMISSION_PENALTIES": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LateSubmissionPenalty)
			assert.Greater(t, len(p.LateSubmissionPenalty.Details), 1)
			assert.Less(t, p.LateSubmissionPenalty.Summary.ActivePenaltyPoints, p.LateSubmissionPenalty.Summary.RegimeThreshold)
		},
		"MULTIPLE_INACTIVE_LATE_SUBMISSION_PENALTIES": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LateSubmissionPenalty)
			assert.Greater(t, len(p.LateSubmissionPenalty.Details), 1)
			for _, d := range p.LateSubmissionPenalty.Details {
				assert.Equal(t, "inactive", d.PenaltyStatus)
			}
			assert.Equal(t, 0, p.LateSubmissionPenalty.Summary.ActivePenaltyPoints)
		},
		"THRESHOLD_LATE_SUBMISSION_PENALTIES": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LateSubmissionPenalty)
			s := p.LateSubmissionPenalty.Summary
			assert.Equal(t, s.RegimeThreshold, s.ActivePenaltyPoints)
			charges := 0
			for _, d := range p.LateSubmissionPenalty.Details {
				if d.ChargeReference != "" {
					charges++
				}
			}
			assert.Equal(t, 1, charges, "the first charge")
		},
		"CHARGE_LATE_SUBMISSION_PENALTIES": func(t *testing.T, p penalties) {
			require.NotNil(t, p.LateSubmissionPenalty)
			charges := 0
			for _, d := range p.LateSubmissionPenalty.Details {
				if d.ChargeReference != "" {
					charges++
				}
			}
			assert.Equal(t, 2, charges, "a second charge")
		},
	}
	for name, check := range checks {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			r := f.do(t, "GET", f.vat("/penalties"), scenario(name), "")
			require.Equal(t, 200, r.status)
			var p penalties
			require.NoError(t, json.Unmarshal([]byte(r.body), &p))
			check(t, p)
		})
	}
}

func TestFinancialDetailsAndInformation(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	oasFinancial := `{"totalisations":{"totalOverdue":123.45,"totalNotYetDue":12.34,"totalBalance":109.99,"totalCredit":13.46,"totalCleared":12.35,"additionalReceivableTotalisations":{"totalAccountPostedInterest":13.12,"totalAccountAccruingInterest":12.1}},"documentDetails":[{"postingDate":"2024-05-07","issueDate":"2024-05-07","documentTotalAmount":123.45,"documentClearedAmount":111.11,"documentOutstandingAmount":12.34,"documentInterestTotals":{"interestPostedAmount":13.12,"interestAccruingAmount":12.1},"lineItemDetails":[{"chargeDescription":"VAT Return","periodFromDate":"2024-01-01","periodToDate":"2024-03-31","netDueDate":"2024-05-07","amount":123.45,"lineItemInterestDetails":{"interestStartDate":"2024-05-08","currentInterestRate":2,"interestPostedAmount":13.12,"interestAccruingAmount":12.1}}]}]}`
	fd := "/organisations/vat/{vrn}/financial-details/"
	info := "/organisations/vat/{vrn}/information"
	runWire(t, f, true, []wireCase{
		{name: "DEFAULT", path: fd + "XP123456789012", hdr: scenario("DEFAULT"), status: 200, want: oasFinancial},
		{name: "DEFAULT for any valid reference", path: fd + "XA000000000000", hdr: scenario("DEFAULT"), status: 200, want: oasFinancial},
		{name: "no header: a reference from the DEFAULT penalties", path: fd + "XS198765432109", status: 200, want: oasFinancial},
		{name: "no header: an unknown reference", path: fd + "XA000000000000", status: 404, want: wantFinancialNotFound},
		{name: "reference of 13 characters", path: fd + "XP12345678901", status: 400, want: wantChargeRefInvalid},
		{name: "reference without the X", path: fd + "AP123456789012", status: 400, want: wantChargeRefInvalid},
		{name: "reference with a digit second", path: fd + "X1123456789012", status: 400, want: wantChargeRefInvalid},
		{name: "reference checked before the scenario", path: fd + "nope", hdr: scenario("DEFAULT"), status: 400, want: wantChargeRefInvalid},
		{name: "financial details: unknown scenario", path: fd + "XP123456789012", hdr: scenario("NOT_FOUND"), status: 400, want: wantBadScenario},
		{name: "information DEFAULT", path: info, hdr: scenario("DEFAULT"), status: 200, want: `{"customerDetails":{"effectiveRegistrationDate":"2001-01-01"},"flatRateScheme":{"frsCategory":"001","startDate":"2001-01-01"}}`},
		{name: "information CUSTOMER_INFO_NOT_FOUND", path: info, hdr: scenario("CUSTOMER_INFO_NOT_FOUND"), status: 404, want: wantInfoNotFound},
		{name: "information NO_EFFECTREGISTRATIONDATE", path: info, hdr: scenario("NO_EFFECTREGISTRATIONDATE"), status: 200, want: `{"flatRateScheme":{"frsCategory":"001","startDate":"2001-01-01"}}`},
		{name: "information NO_FLATRATESCHEME", path: info, hdr: scenario("NO_FLATRATESCHEME"), status: 200, want: `{"customerDetails":{"effectiveRegistrationDate":"2001-01-01"}}`},
		{name: "information NO_EFFECTREGISTRATIONDATE_NO_FRS: 500 without API headers", path: info, hdr: scenario("NO_EFFECTREGISTRATIONDATE_NO_FRS"), status: 500, want: wantInternal, noCorrel: true},
		{name: "information unknown scenario", path: info, hdr: scenario("NO_FRS"), status: 400, want: wantBadScenario},
		{name: "information without header is the organisation's", path: info, status: 200, want: `{"customerDetails":{"effectiveRegistrationDate":"2020-01-01"}}`},
	})
}

func TestInsolventOrganisation(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t, WithRateLimit(0))
	srv.SetNow(testNow)
	user, tok := srv.TestOrganisation(t, Organisation{Insolvent: true})
	f := &fixture{srv, user, tok}
	runWire(t, f, true, []wireCase{
		{name: "obligations", path: "/organisations/vat/{vrn}/obligations?status=O", status: 403, want: wantInsolvent},
		{name: "submit", method: "POST", path: "/organisations/vat/{vrn}/returns", body: validReturn(t, nil), status: 403, want: wantInsolvent},
		{name: "view", path: "/organisations/vat/{vrn}/returns/A001", status: 403, want: wantInsolvent},
		{name: "liabilities", path: "/organisations/vat/{vrn}/liabilities?from=2025-01-01&to=2025-02-01", status: 403, want: wantInsolvent},
		{name: "payments", path: "/organisations/vat/{vrn}/payments?from=2025-01-01&to=2025-02-01", status: 403, want: wantInsolvent},
		{name: "penalties: not mapped by vat-api", path: "/organisations/vat/{vrn}/penalties", status: 500, want: wantInternal},
		{name: "information: not mapped by vat-api", path: "/organisations/vat/{vrn}/information", status: 500, want: wantInternal},
	})
}

// rawHeaderNames returns the header names exactly as sent on the wire.
func (f *fixture) rawHeaderNames(t *testing.T, method, path, body string) string {
	t.Helper()
	conn, err := netDial(f.srv.URL)
	require.NoError(t, err)
	defer conn.Close()
	req := method + " " + path + " HTTP/1.1\r\nHost: x\r\nAccept: " + acceptV1 + "\r\nAuthorization: Bearer " + f.tok.AccessToken +
		"\r\nContent-Type: application/json\r\nContent-Length: " + itoa(len(body)) + "\r\nConnection: close\r\n\r\n" + body
	_, err = conn.Write([]byte(req))
	require.NoError(t, err)
	buf := make([]byte, 4096)
	n, _ := readAtLeast(conn, buf)
	head, _, _ := strings.Cut(string(buf[:n]), "\r\n\r\n")
	return head
}

package vattest

import (
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// deviceIDValidator accepts headers with a Gov-Client-Device-ID and answers
// in the shape of HMRC's Test Fraud Prevention Headers API.
func deviceIDValidator(h http.Header) (bool, []byte) {
	if h.Get("Gov-Client-Device-ID") != "" {
		return true, []byte(`{"specVersion":"3.3","code":"VALID_HEADERS","message":"All headers appear to be valid."}`)
	}
	return false, []byte(`{"specVersion":"3.3","code":"INVALID_HEADERS","message":"At least 1 header is invalid","errors":[{"code":"MISSING_HEADER","message":"Header required","headers":["gov-client-device-id"]}]}`)
}

func TestFraudHeaderAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithFraudHeaderValidator(deviceIDValidator), WithApplication("second-app", "secret"))
	app := f.srv.IssueApplicationToken()
	auth := map[string]string{"Authorization": "Bearer " + app.AccessToken}

	r := f.do(t, "GET", "/test/fraud-prevention-headers/validate", map[string]string{"Authorization": auth["Authorization"], "Gov-Client-Device-ID": "d1"}, "")
	assert.Equal(t, 200, r.status)
	assert.Equal(t, `{"specVersion":"3.3","code":"VALID_HEADERS","message":"All headers appear to be valid."}`, r.body)
	r = f.do(t, "GET", "/test/fraud-prevention-headers/validate", auth, "")
	assert.Equal(t, 200, r.status)
	assert.Contains(t, r.body, `"MISSING_HEADER"`)

	// VAT calls are not rejected, but their headers are kept for feedback.
	dm := "Gov-Client-Connection-Method"
	assert.Equal(t, 200, f.do(t, "GET", f.vat("/obligations?status=O"), map[string]string{dm: "DESKTOP_APP_DIRECT"}, "").status)
	f.srv.Advance(1)
	assert.Equal(t, 200, f.do(t, "GET", f.vat("/obligations?status=F&from=2024-10-01&to=2024-12-31"), map[string]string{dm: "DESKTOP_APP_DIRECT", "Gov-Client-Device-ID": "d2"}, "").status)
	f.srv.Advance(1)
	assert.Equal(t, 200, f.do(t, "GET", f.vat("/penalties"), map[string]string{dm: "WEB_APP_VIA_SERVER"}, "").status)

	r = f.do(t, "GET", "/test/fraud-prevention-headers/vat-mtd/validation-feedback", auth, "")
	require.Equal(t, 200, r.status, r.body)
	var fb struct {
		SpecVersion string
		Requests    []map[string]any
	}
	require.NoError(t, json.Unmarshal([]byte(r.body), &fb))
	assert.Equal(t, "3.3", fb.SpecVersion)
	require.Len(t, fb.Requests, 2, "the latest request to each endpoint")
	assert.Equal(t, "/organisations/vat/"+f.user.VRN+"/obligations", fb.Requests[0]["path"])
	assert.Equal(t, "GET", fb.Requests[0]["method"])
	assert.Equal(t, "VALID_HEADERS", fb.Requests[0]["code"], "the later obligations request had a device ID")
	assert.Equal(t, "2025-06-15T10:30:00.000Z", fb.Requests[0]["requestTimestamp"])
	assert.Equal(t, "INVALID_HEADERS", fb.Requests[1]["code"])
	// HMRC's documented shape (notes: fraud headers §6.2): a verdict per
	// header, with the value sent, and no value for a missing header.
	assert.Equal(t, `{"specVersion":"3.3","requests":[`+
		`{"path":"/organisations/vat/`+f.user.VRN+`/obligations","method":"GET","requestTimestamp":"2025-06-15T10:30:00.000Z","code":"VALID_HEADERS","headers":[`+
		`{"header":"gov-client-connection-method","value":"DESKTOP_APP_DIRECT","code":"VALID_HEADER","errors":[],"warnings":[]},`+
		`{"header":"gov-client-device-id","value":"d2","code":"VALID_HEADER","errors":[],"warnings":[]}],"crossValidation":[]},`+
		`{"path":"/organisations/vat/`+f.user.VRN+`/penalties","method":"GET","requestTimestamp":"2025-06-15T10:30:00.000Z","code":"INVALID_HEADERS","headers":[`+
		`{"header":"gov-client-connection-method","value":"WEB_APP_VIA_SERVER","code":"VALID_HEADER","errors":[],"warnings":[]},`+
		`{"header":"gov-client-device-id","code":"MISSING_HEADER","errors":["Header required"],"warnings":[]}],"crossValidation":[]}]}`, r.body)

	r = f.do(t, "GET", "/test/fraud-prevention-headers/vat-mtd/validation-feedback?connectionMethod=WEB_APP_VIA_SERVER", auth, "")
	require.NoError(t, json.Unmarshal([]byte(r.body), &fb))
	require.Len(t, fb.Requests, 1)
	assert.Equal(t, "/organisations/vat/"+f.user.VRN+"/penalties", fb.Requests[0]["path"])

	r = f.do(t, "GET", "/test/fraud-prevention-headers/self-assessment-mtd/validation-feedback", auth, "")
	assert.Equal(t, `{"requests":[]}`, r.body, "no requests to that API")
	r = f.do(t, "GET", "/test/fraud-prevention-headers/no-such-api/validation-feedback", auth, "")
	assert.Equal(t, 404, r.status)
	r = f.do(t, "GET", "/test/fraud-prevention-headers/validate", map[string]string{"Authorization": ""}, "")
	assert.Equal(t, 401, r.status)

	// another application's feedback is its own
	status, tok := postForm(t, f.srv, "/oauth/token", map[string][]string{"grant_type": {"client_credentials"}, "client_id": {"second-app"}, "client_secret": {"secret"}})
	require.Equal(t, 200, status)
	r = f.do(t, "GET", "/test/fraud-prevention-headers/vat-mtd/validation-feedback", map[string]string{"Authorization": "Bearer " + tok["access_token"].(string)}, "")
	assert.Equal(t, `{"requests":[]}`, r.body)
}

// TestFraudHeaderAPIDefaultValidator: without WithFraudHeaderValidator the
// Test Fraud Prevention Headers API answers with package fraud's
// validator, as HMRC's API does.
func TestFraudHeaderAPIDefaultValidator(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.IssueApplicationToken()
	auth := map[string]string{"Authorization": "Bearer " + app.AccessToken}
	r := f.do(t, "GET", "/test/fraud-prevention-headers/validate", auth, "")
	assert.Equal(t, 200, r.status)
	assert.Equal(t, `{"specVersion":"3.3","code":"INVALID_HEADERS","message":"No fraud prevention headers submitted. These are required by law. Check the specification."}`, r.body)

	// HMRC's documented example set for DESKTOP_APP_DIRECT (fraud prevention
	// specification 3.3, assembled from its per-header examples).
	valid := map[string]string{
		"Authorization":                  auth["Authorization"],
		"Gov-Client-Connection-Method":   "DESKTOP_APP_DIRECT",
		"Gov-Client-Device-ID":           "beec798b-b366-47fa-b1f8-92cede14a1ce",
		"Gov-Client-Local-IPs":           "fc00%3A%3A,10.1.2.3",
		"Gov-Client-Local-IPs-Timestamp": "2020-09-21T14:30:05.123Z",
		"Gov-Client-MAC-Addresses":       "ea%3A43%3A1a%3A5d%3A21%3A45,10%3A12%3Acc%3Afa%3Aaa%3A32",
		"Gov-Client-Multi-Factor":        "type=AUTH_CODE&timestamp=2021-11-21T13%3A23Z&unique-reference=fc4b5fd6816f75a7c81fc8eaa9499d6a299bd803397166e8c4cf9280b801d62c,type=TOTP&timestamp=2021-11-21T13%3A20Z&unique-reference=0283da60063abfb3a87f1aed845d17fe2d9ba8c780b478dc4ae048f5ee97a6d5",
		"Gov-Client-Screens":             "width=1920&height=1080&scaling-factor=1&colour-depth=16,width=3000&height=2000&scaling-factor=1.25&colour-depth=16",
		"Gov-Client-Timezone":            "UTC+00:00",
		"Gov-Client-User-Agent":          "os-family=Windows&os-version=Server%202012&device-manufacturer=Dell%20Inc.&device-model=OptiPlex%20980",
		"Gov-Client-User-IDs":            "os=domain%5Calice&my-application=alice123",
		"Gov-Client-Window-Size":         "width=1256&height=803",
		"Gov-Vendor-License-IDs":         "my-licensed-software=8D7963490527D33716835EE7C195516D5E562E03B224E9B359836466EE40CDE1",
		"Gov-Vendor-Product-Name":        "Product%20Name",
		"Gov-Vendor-Version":             "my-application=1.6.0",
	}
	r = f.do(t, "GET", "/test/fraud-prevention-headers/validate", valid, "")
	assert.Equal(t, 200, r.status)
	assert.Equal(t, `{"specVersion":"3.3","code":"VALID_HEADERS","message":"All headers required for your connection method have been supplied and all appear to be valid. Validation is based on a single request. We have access to all requests and can draw additional conclusions."}`, r.body)

	valid["Gov-Client-Timezone"] = "Europe/London"
	r = f.do(t, "GET", "/test/fraud-prevention-headers/validate", valid, "")
	assert.Contains(t, r.body, `"code":"INVALID_HEADERS"`)
	assert.Contains(t, r.body, `"message":"Value must be a recognised timezone in UTC format, submitted as UTC±<hh>:<mm>","headers":["gov-client-timezone"]`)
}

func TestFraudHeaderEnforcement(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithFraudHeaderValidator(deviceIDValidator), WithFraudHeaderEnforcement())
	r := f.do(t, "GET", f.vat("/obligations?status=O"), nil, "")
	assert.Equal(t, 400, r.status)
	assert.Contains(t, r.body, `"INVALID_HEADERS"`)
	r = f.do(t, "GET", f.vat("/obligations?status=O"), map[string]string{"Gov-Client-Device-ID": "d"}, "")
	assert.Equal(t, 200, r.status)
	// other APIs are not checked
	assert.Equal(t, 200, f.do(t, "GET", "/create-test-user/services", nil, "").status)
}

func TestFeedbackWithAValidatorThatIsNotJSON(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithFraudHeaderValidator(func(http.Header) (bool, []byte) { return true, []byte("ok") }))
	f.do(t, "GET", f.vat("/penalties"), nil, "")
	r := f.do(t, "GET", "/test/fraud-prevention-headers/vat-mtd/validation-feedback", nil, "")
	assert.Regexp(t, `^\{"requests":\[\{"path":"/organisations/vat/\d{9}/penalties","method":"GET","requestTimestamp":"2025-06-15T10:30:00.000Z","code":"VALID_HEADERS","headers":\[\],"crossValidation":\[\]\}\]\}$`, r.body)
}

// TestFeedbackSplitsFindingsByHeader: findings about one header go to it,
// findings about several go to crossValidation, warnings make a header
// potentially invalid, and a request without Gov-* headers is NO_HEADERS.
func TestFeedbackSplitsFindingsByHeader(t *testing.T) {
	t.Parallel()
	rec := fraudRecord{path: "/p", method: "GET", headers: http.Header{
		"Gov-Client-Public-Ip": {"10.0.0.1"}, "Gov-Vendor-Public-Ip": {"203.0.113.6"}, "Gov-Client-Multi-Factor": {""}}}
	body := []byte(`{"specVersion":"3.3","code":"INVALID_HEADERS","message":"At least 1 header is invalid",
		"errors":[{"code":"INVALID_HEADER","message":"Value is not a public IP address","headers":["gov-client-public-ip"]},
		{"code":"INVALID_HEADERS","message":"At least 1 pair of IPs in Gov-Vendor-Forwarded must include Gov-Client-Public-IP in the 'for' field and Gov-Vendor-Public-IP in the 'by' field. Check all 3 headers are consistent.","headers":["gov-vendor-forwarded","gov-vendor-public-ip","gov-client-public-ip"]}],
		"warnings":[{"code":"EMPTY_HEADER","message":"Value is empty.","headers":["gov-client-multi-factor"]},
		{"code":"MISSING_HEADER","message":"Header required","headers":["gov-vendor-license-ids"]}]}`)
	item, spec := feedbackFor(rec, false, body)
	assert.Equal(t, "3.3", spec)
	assert.Equal(t, "INVALID_HEADERS", item.Code)
	got := map[string]headerFeedbackWire{}
	for _, h := range item.Headers {
		got[h.Header] = h
	}
	assert.Equal(t, "INVALID_HEADER", got["gov-client-public-ip"].Code)
	assert.Equal(t, []string{"Value is not a public IP address"}, got["gov-client-public-ip"].Errors)
	assert.Equal(t, "POTENTIALLY_INVALID_HEADER", got["gov-client-multi-factor"].Code)
	assert.Equal(t, "MISSING_HEADER", got["gov-vendor-license-ids"].Code)
	assert.Nil(t, got["gov-vendor-license-ids"].Value, "no value for a missing header")
	assert.Equal(t, "VALID_HEADER", got["gov-vendor-public-ip"].Code)
	require.Len(t, item.CrossValidation, 1)
	assert.Equal(t, []string{"gov-vendor-forwarded", "gov-vendor-public-ip", "gov-client-public-ip"}, item.CrossValidation[0].Headers)
	assert.Equal(t, "INVALID_HEADERS", item.CrossValidation[0].Code)

	none, _ := feedbackFor(fraudRecord{path: "/p", method: "GET", headers: http.Header{}}, false,
		[]byte(`{"specVersion":"3.3","code":"INVALID_HEADERS","message":"No fraud prevention headers submitted. These are required by law. Check the specification."}`))
	assert.Equal(t, "NO_HEADERS", none.Code)
}

// TestFeedbackAlwaysHasHeadersAndCrossValidation: HMRC's OpenAPI makes
// headers and crossValidation required, and its answers list the
// Gov-Vendor-Forwarded cross-check with VALID_HEADERS when it passes.
func TestFeedbackAlwaysHasHeadersAndCrossValidation(t *testing.T) {
	t.Parallel()
	valid := []byte(`{"specVersion":"3.3","code":"VALID_HEADERS","message":"ok"}`)
	via := fraudRecord{path: "/p", method: "GET", headers: http.Header{
		"Gov-Client-Connection-Method": {"DESKTOP_APP_VIA_SERVER"},
		"Gov-Client-Public-Ip":         {"198.51.100.0"}, "Gov-Vendor-Public-Ip": {"203.0.113.6"},
		"Gov-Vendor-Forwarded": {"by=203.0.113.6&for=198.51.100.0"}}}
	item, _ := feedbackFor(via, true, valid)
	b, err := json.Marshal(item.CrossValidation)
	require.NoError(t, err)
	assert.JSONEq(t, `[{"headers":["gov-vendor-forwarded","gov-vendor-public-ip","gov-client-public-ip"],"code":"VALID_HEADERS","errors":[]}]`, string(b))

	direct := fraudRecord{path: "/p", method: "GET", headers: http.Header{"Gov-Client-Connection-Method": {"DESKTOP_APP_DIRECT"}}}
	for name, got := range map[string]requestFeedbackWire{
		"direct":     first(feedbackFor(direct, true, valid)),
		"no headers": first(feedbackFor(fraudRecord{path: "/p", method: "GET", headers: http.Header{}}, false, valid)),
		"not JSON":   first(feedbackFor(direct, true, []byte("ok"))),
	} {
		b, err := json.Marshal(got)
		require.NoError(t, err)
		assert.Contains(t, string(b), `"headers":[`, name)
		assert.Contains(t, string(b), `"crossValidation":[]`, name)
	}
}

func first[A, B any](a A, _ B) A { return a }

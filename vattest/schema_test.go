package vattest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specFile is HMRC's published OpenAPI file of the VAT (MTD) API; see
// testdata/README.md for its source.
const specFile = "testdata/hmrc-vat-api-1.0.yaml"

func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromFile(specFile)
	require.NoError(t, err)
	return doc
}

// schemaCase is one request whose answer is checked against the OpenAPI.
type schemaCase struct {
	name     string
	op       string // "GET /organisations/vat/{vrn}/obligations"
	path     string // the request path, with query
	body     string
	scenario string
	token    string // "" means the business's token
	accept   string // "" means the v1 Accept header
	ctype    string // "" means application/json when there is a body
}

// answerKey classifies an answer for the exception table: the top-level
// "code", "statusCode:<message>" for the legacy bodies, or "" for an empty
// body.
func answerKey(body []byte) string {
	var m map[string]any
	if len(bytes.TrimSpace(body)) == 0 || json.Unmarshal(body, &m) != nil {
		return ""
	}
	if c, ok := m["code"].(string); ok {
		return c
	}
	if msg, ok := m["message"].(string); ok {
		if _, legacy := m["statusCode"]; legacy {
			return "statusCode:" + msg
		}
	}
	return ""
}

// TestResponsesMatchHMRCOpenAPI sends every VAT endpoint its happy path,
// every Gov-Test-Scenario the OpenAPI documents for it, and its error
// answers, and validates each response (status, content type and body) with
// openapi3filter.ValidateResponse. An answer the OpenAPI does not describe
// must be in schemaExceptions, where the live service is known to differ;
// every exception must still be needed.
func TestResponsesMatchHMRCOpenAPI(t *testing.T) {
	doc := loadSpec(t)
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	srv.SetNow(time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{RegistrationDate: "2020-01-01",
		Plan: &vattest.Plan{Period: vattest.Quarterly, Fulfilled: 1, Open: 2}})
	readOnly, err := srv.IssueToken(user.VRN, "read:vat")
	require.NoError(t, err)
	other, _ := srv.TestOrganisation(t, vattest.Organisation{})
	appTok := srv.IssueApplicationToken()
	insolventUser, insolventTok := srv.TestOrganisation(t, vattest.Organisation{Insolvent: true})

	vrn := "/organisations/vat/" + user.VRN
	ret := func(key string, finalised bool, net string) string {
		return fmt.Sprintf(`{"periodKey":%q,"vatDueSales":%s,"vatDueAcquisitions":0,"totalVatDue":%s,"vatReclaimedCurrPeriod":0,"netVatDue":%s,"totalValueSalesExVAT":100,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":%t}`,
			key, net, net, net, finalised)
	}
	const (
		opObl  = opObligations
		opSub  = opSubmit
		opLiab = opLiabilities
		opPay  = opPayments
		opPen  = opPenalties
		opFin  = opFinancial
		opInfo = opInformation
	)
	type result struct {
		status int
		body   []byte
	}
	results := map[string]result{}
	used := map[schemaExceptionKey]bool{}
	check := func(c schemaCase) result {
		t.Helper()
		method, tmpl, _ := strings.Cut(c.op, " ")
		req, err := http.NewRequest(method, srv.URL+c.path, strings.NewReader(c.body))
		require.NoError(t, err)
		req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
		if c.accept != "" {
			req.Header.Set("Accept", c.accept)
		}
		token := tok.AccessToken
		if c.token != "" {
			token = c.token
		}
		if token != "-" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if c.body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if c.scenario != "" {
			req.Header.Set("Gov-Test-Scenario", c.scenario)
		}
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)

		item := doc.Paths.Find(tmpl)
		require.NotNil(t, item, "%s: not in the OpenAPI", tmpl)
		op := item.GetOperation(method)
		require.NotNil(t, op, "%s: not in the OpenAPI", c.op)
		route := &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: method, Operation: op}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
			Status:                 resp.StatusCode,
			Header:                 resp.Header,
			Body:                   io.NopCloser(bytes.NewReader(body)),
			Options:                &openapi3filter.Options{IncludeResponseStatus: true},
		}
		verr := openapi3filter.ValidateResponse(context.Background(), in)
		key := schemaExceptionKey{c.op, resp.StatusCode, answerKey(body)}
		ex, isException := schemaExceptions[key]
		if isException {
			used[key] = true
			assert.Error(t, verr, "%s: %d %s is listed as an exception (%s) but matches the OpenAPI", c.name, key.status, key.code, ex.why)
		} else {
			assert.NoError(t, verr, "%s: %s %d %s: %.300s", c.name, c.op, resp.StatusCode, key.code, body)
		}
		r := result{resp.StatusCode, body}
		results[c.name] = r
		return r
	}

	// Set-up through the API itself, checked too.
	sub := check(schemaCase{name: "submit 24A4", op: opSub, path: vrn + "/returns", body: ret("24A4", true, "1000.00")})
	require.Equal(t, 201, sub.status, "%s", sub.body)
	var receipt struct{ ChargeRefNumber string }
	require.NoError(t, json.Unmarshal(sub.body, &receipt))
	require.NoError(t, srv.RecordPayment(user.VRN, "24A4", 25000, "2025-06-01"))

	cases := []schemaCase{
		// Happy paths.
		{name: "open obligations", op: opObl, path: vrn + "/obligations?status=O"},
		{name: "obligations by date", op: opObl, path: vrn + "/obligations?from=2024-07-01&to=2025-06-30"},
		{name: "fulfilled obligations", op: opObl, path: vrn + "/obligations?from=2024-07-01&to=2025-06-30&status=F"},
		{name: "sandbox key", op: opSub, path: vrn + "/returns", body: ret("18AA", true, "10.00")},
		{name: "view", op: opView, path: vrn + "/returns/24A4"},
		{name: "liabilities", op: opLiab, path: vrn + "/liabilities?from=2024-10-01&to=2025-03-31"},
		{name: "payments", op: opPay, path: vrn + "/payments?from=2024-10-01&to=2025-03-31"},
		{name: "penalties", op: opPen, path: vrn + "/penalties"},
		{name: "financial details", op: opFin, path: vrn + "/financial-details/" + receipt.ChargeRefNumber},
		{name: "information", op: opInfo, path: vrn + "/information"},

		// The VAT service's own errors.
		{name: "obligations: no match", op: opObl, path: vrn + "/obligations?from=2020-01-01&to=2020-12-31"},
		{name: "obligations: bad from", op: opObl, path: vrn + "/obligations?from=2020-13-01&to=2020-12-31"},
		{name: "obligations: bad to", op: opObl, path: vrn + "/obligations?from=2020-01-01&to=nope"},
		{name: "obligations: range too long", op: opObl, path: vrn + "/obligations?from=2020-01-01&to=2022-01-01"},
		{name: "obligations: bad status", op: opObl, path: vrn + "/obligations?status=X"},
		{name: "obligations: F without dates", op: opObl, path: vrn + "/obligations?status=F"},
		{name: "obligations: bad VRN", op: opObl, path: "/organisations/vat/12345/obligations?status=O"},
		{name: "obligations: not authorised", op: opObl, path: "/organisations/vat/" + other.VRN + "/obligations?status=O"},
		{name: "obligations: insolvent", op: opObl, path: "/organisations/vat/" + insolventUser.VRN + "/obligations?status=O", token: insolventTok.AccessToken},
		{name: "submit: bad body", op: opSub, path: vrn + "/returns", body: `{"periodKey":"24A4"}`},
		{name: "submit: bad totals", op: opSub, path: vrn + "/returns", body: strings.Replace(ret("25A1", true, "10.00"), `"totalVatDue":10.00`, `"totalVatDue":11.00`, 1)},
		{name: "submit: bad period key", op: opSub, path: vrn + "/returns", body: ret("a1", true, "10.00")},
		{name: "submit: not finalised", op: opSub, path: vrn + "/returns", body: ret("25A1", false, "10.00")},
		{name: "submit: duplicate", op: opSub, path: vrn + "/returns", body: ret("24A4", true, "1000.00")},
		{name: "submit: period not ended", op: opSub, path: vrn + "/returns", body: ret("25A2", true, "10.00")},
		{name: "submit: bad VRN", op: opSub, path: "/organisations/vat/12345/returns", body: ret("25A1", true, "10.00")},
		{name: "submit: not authorised", op: opSub, path: "/organisations/vat/" + other.VRN + "/returns", body: ret("25A1", true, "10.00")},
		{name: "submit: invalid JSON", op: opSub, path: vrn + "/returns", body: `{"periodKey":`},
		{name: "submit: not JSON", op: opSub, path: vrn + "/returns", body: ret("25A1", true, "10.00"), ctype: "text/plain"},
		{name: "submit: over 100 KiB", op: opSub, path: vrn + "/returns", body: `{"x":"` + strings.Repeat("a", 100<<10) + `"}`},
		{name: "view: not found", op: opView, path: vrn + "/returns/25A1"},
		{name: "view: bad period key", op: opView, path: vrn + "/returns/a1"},
		{name: "view: bad VRN", op: opView, path: "/organisations/vat/12345/returns/24A4"},
		{name: "liabilities: none", op: opLiab, path: vrn + "/liabilities?from=2021-01-01&to=2021-03-31"},
		{name: "liabilities: bad from", op: opLiab, path: vrn + "/liabilities?from=x&to=2021-03-31"},
		{name: "liabilities: bad to", op: opLiab, path: vrn + "/liabilities?from=2021-01-01&to=x"},
		{name: "liabilities: range too long", op: opLiab, path: vrn + "/liabilities?from=2021-01-01&to=2022-06-30"},
		{name: "liabilities: bad VRN", op: opLiab, path: "/organisations/vat/12345/liabilities?from=2021-01-01&to=2021-03-31"},
		{name: "payments: none", op: opPay, path: vrn + "/payments?from=2021-01-01&to=2021-03-31"},
		{name: "payments: bad from", op: opPay, path: vrn + "/payments?from=x&to=2021-03-31"},
		{name: "payments: bad to", op: opPay, path: vrn + "/payments?from=2021-01-01&to=x"},
		{name: "payments: range too long", op: opPay, path: vrn + "/payments?from=2021-01-01&to=2022-06-30"},
		{name: "penalties: bad VRN", op: opPen, path: "/organisations/vat/12345/penalties"},
		{name: "financial details: bad reference", op: opFin, path: vrn + "/financial-details/nope"},
		{name: "financial details: unknown reference", op: opFin, path: vrn + "/financial-details/XA000000000000"},
		{name: "information: bad VRN", op: opInfo, path: "/organisations/vat/12345/information"},
		{name: "information: not authorised", op: opInfo, path: "/organisations/vat/" + other.VRN + "/information"},
		{name: "unknown scenario", op: opObl, path: vrn + "/obligations?status=O", scenario: "NO_SUCH_SCENARIO"},

		// The API platform's answers, in front of every endpoint.
		{name: "platform: no token", op: opObl, path: vrn + "/obligations?status=O", token: "-"},
		{name: "platform: bad token", op: opObl, path: vrn + "/obligations?status=O", token: "nope"},
		{name: "platform: application token", op: opObl, path: vrn + "/obligations?status=O", token: appTok.AccessToken},
		{name: "platform: scope", op: opSub, path: vrn + "/returns", body: ret("25A1", true, "10.00"), token: readOnly.AccessToken},
		{name: "platform: Accept", op: opObl, path: vrn + "/obligations?status=O", accept: "application/json"},
	}

	// Every Gov-Test-Scenario the OpenAPI documents, per endpoint.
	paths := map[string]string{
		opObl: vrn + "/obligations?status=O", opView: vrn + "/returns/24A4", opPen: vrn + "/penalties",
		opFin: vrn + "/financial-details/" + receipt.ChargeRefNumber, opInfo: vrn + "/information",
	}
	dated := map[string]map[string]struct{ From, To string }{}
	for op, file := range map[string]string{opLiab: "data/liabilities.json", opPay: "data/payments.json"} {
		raw, err := os.ReadFile(file)
		require.NoError(t, err)
		m := map[string]struct{ From, To string }{}
		require.NoError(t, json.Unmarshal(raw, &m))
		dated[op] = m
	}
	for _, op := range []string{opObl, opSub, opView, opLiab, opPay, opPen, opFin, opInfo} {
		method, tmpl, _ := strings.Cut(op, " ")
		scenarios := documentedScenarios(doc.Paths.Find(tmpl).GetOperation(method).Description)
		require.NotEmpty(t, scenarios, op)
		for _, sc := range scenarios {
			c := schemaCase{name: op + " " + sc, op: op, path: paths[op], scenario: sc}
			switch op {
			case opSub:
				c.path, c.body = vrn+"/returns", ret("25A1", true, "10.00")
			case opLiab, opPay:
				d, ok := dated[op][sc]
				if !ok {
					d.From, d.To = "2024-10-01", "2025-03-31"
				}
				c.path = vrn + "/" + strings.TrimPrefix(tmpl, "/organisations/vat/{vrn}/") + "?from=" + d.From + "&to=" + d.To
			}
			cases = append(cases, c)
		}
	}
	for _, c := range cases {
		check(c)
	}
	// The rate limit, on a server whose stopped clock keeps the window full.
	srv = vattest.NewTestServer(t, vattest.WithRateLimit(1))
	srv.SetNow(time.Date(2025, 6, 15, 10, 30, 0, 0, time.UTC))
	user2, tok2 := srv.TestOrganisation(t, vattest.Organisation{})
	tok = tok2
	rl := []schemaCase{
		{name: "platform: first call", op: opObl, path: "/organisations/vat/" + user2.VRN + "/obligations?status=O"},
		{name: "platform: throttled", op: opObl, path: "/organisations/vat/" + user2.VRN + "/obligations?status=O"},
	}
	for _, c := range rl {
		check(c)
	}
	require.Equal(t, 429, results["platform: throttled"].status)
	cases = append(cases, rl...)

	// Each endpoint was answered with 2xx at least once, and the answers
	// cover error statuses too.
	statuses := map[string]map[int]bool{}
	for _, c := range cases {
		if statuses[c.op] == nil {
			statuses[c.op] = map[int]bool{}
		}
		statuses[c.op][results[c.name].status] = true
	}
	for op, st := range statuses {
		ok := st[200] || st[201]
		assert.True(t, ok, "%s never answered 2xx: %v", op, st)
		assert.Greater(t, len(st), 1, "%s: no error answer", op)
	}
	var stale []string
	for k := range schemaExceptions {
		if !used[k] {
			stale = append(stale, fmt.Sprintf("%s %d %s", k.op, k.status, k.code))
		}
	}
	sort.Strings(stale)
	assert.Empty(t, stale, "exceptions no answer needed")
}

var scenarioCell = regexp.MustCompile(`<td><p>([A-Z][A-Z0-9_#]+)</p>`)

// documentedScenarios reads the Gov-Test-Scenario values from an
// operation's test data table; MONTHLY_OBS_##_OPEN stands for 01 to 12.
func documentedScenarios(desc string) []string {
	var out []string
	for _, m := range scenarioCell.FindAllStringSubmatch(desc, -1) {
		out = append(out, strings.ReplaceAll(m[1], "##", "02"))
	}
	return out
}

// The check above is only as good as the validator: it must refuse a body
// that breaks the schema, and a status the operation does not document.
func TestSchemaCheckRefusesWhatTheOpenAPIForbids(t *testing.T) {
	doc := loadSpec(t)
	tmpl := "/organisations/vat/{vrn}/obligations"
	item := doc.Paths.Find(tmpl)
	route := &routers.Route{Spec: doc, Path: tmpl, PathItem: item, Method: "GET", Operation: item.Get}
	req, _ := http.NewRequest("GET", "http://127.0.0.1/organisations/vat/123456789/obligations", nil)
	validate := func(status int, body string) error {
		h := http.Header{"Content-Type": {"application/json"}}
		return openapi3filter.ValidateResponse(context.Background(), &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, Route: route},
			Status:                 status, Header: h, Body: io.NopCloser(strings.NewReader(body)),
			Options: &openapi3filter.Options{IncludeResponseStatus: true},
		})
	}
	good := `{"obligations":[{"periodKey":"18A1","start":"2017-01-01","end":"2017-03-31","due":"2017-05-07","status":"O"}]}`
	require.NoError(t, validate(200, good))
	assert.Error(t, validate(200, strings.Replace(good, `"periodKey":"18A1"`, `"periodKey":18`, 1)), "periodKey must be a string")
	assert.Error(t, validate(200, `{}`), "obligations is required")
	assert.Error(t, validate(418, `{"code":"TEAPOT"}`), "an undocumented status")
}

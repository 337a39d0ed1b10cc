package vat

import (
	"context"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite golden files")

// exampleReturn is HMRC's OpenAPI request example-1 (A001).
func exampleReturn() Return {
	return Return{
		PeriodKey:                    "A001",
		VATDueSales:                  10550,
		VATDueAcquisitions:           -10045,
		TotalVATDue:                  505,
		VATReclaimedCurrPeriod:       10515,
		NetVATDue:                    10010,
		TotalValueSalesExVAT:         300,
		TotalValuePurchasesExVAT:     300,
		TotalValueGoodsSuppliedExVAT: 3000,
		TotalAcquisitionsExVAT:       3000,
		Finalised:                    true,
	}
}

// TestReturnFixturesDecode decodes every documented return example and
// checks every box.
func TestReturnFixturesDecode(t *testing.T) {
	t.Parallel()
	a001 := exampleReturn()
	hash := Return{PeriodKey: "#001", VATDueSales: 10000, VATDueAcquisitions: 10000, TotalVATDue: 20000,
		VATReclaimedCurrPeriod: 10000, NetVATDue: 10000, TotalValueSalesExVAT: 500, TotalValuePurchasesExVAT: 500,
		TotalValueGoodsSuppliedExVAT: 500, TotalAcquisitionsExVAT: 500, Finalised: true}
	noFinal := func(r Return) Return { r.Finalised = false; return r }
	for file, want := range map[string]Return{
		"hmrc/oas/SubmitVATreturnforperiod/request-example-1.json": a001,
		"hmrc/oas/SubmitVATreturnforperiod/request-example-2.json": hash,
		"hmrc/raml/SubmitVatReturn.json":                           a001,
		"hmrc/raml/SubmitVatReturnHash.json":                       hash,
		"hmrc/oas/ViewVATReturn/response-200-example-1.json":       noFinal(a001),
		"hmrc/oas/ViewVATReturn/response-200-example-2.json":       noFinal(hash),
		"hmrc/raml/GetVatReturnDecimals.json":                      noFinal(a001),
		"hmrc/raml/GetVatReturnHash.json":                          noFinal(hash),
	} {
		var got Return
		require.NoError(t, json.Unmarshal(readFixture(t, file), &got), file)
		assert.Equal(t, want, got, file)
		if want.Finalised {
			assert.NoError(t, got.Validate(), "HMRC's example %s is a valid return", file)
		}
	}
}

func TestComputeTotals(t *testing.T) {
	t.Parallel()
	r := Return{VATDueSales: 10550, VATDueAcquisitions: -10045, VATReclaimedCurrPeriod: 10515}
	r.ComputeTotals()
	assert.Equal(t, Money(505), r.TotalVATDue)
	assert.Equal(t, Money(10010), r.NetVATDue, "box 5 is |box 3 - box 4|, never negative")
	r = Return{VATDueSales: 100000, VATDueAcquisitions: 1, VATReclaimedCurrPeriod: 30000}
	r.ComputeTotals()
	assert.Equal(t, Money(100001), r.TotalVATDue)
	assert.Equal(t, Money(70001), r.NetVATDue)
	// Float arithmetic would make 0.1 + 0.2 = 0.30000000000000004 and fail VAT_TOTAL_VALUE.
	r = Return{PeriodKey: "18A1", VATDueSales: 10, VATDueAcquisitions: 20, Finalised: true}
	r.ComputeTotals()
	assert.Equal(t, "0.30", r.TotalVATDue.String())
	assert.NoError(t, r.Validate())
}

// TestReturnValidateLevels checks HMRC's validation levels (VAT (MTD) API
// §9.2): all field problems together; cross-field checks only when fields
// pass; finalised only when both pass.
func TestReturnValidateLevels(t *testing.T) {
	t.Parallel()
	valid := exampleReturn()
	with := func(f func(*Return)) Return { r := valid; f(&r); return r }
	tests := []struct {
		name  string
		r     Return
		codes []string
		paths []string
	}{
		{"HMRC's example", valid, nil, nil},
		{"all zero", Return{PeriodKey: "0000", Finalised: true}, nil, nil},
		{"box 1 at maximum", with(func(r *Return) {
			r.VATDueSales, r.VATDueAcquisitions, r.VATReclaimedCurrPeriod = MaxMoney, MinMoney, 0
			r.ComputeTotals()
		}), nil, nil},
		{"box 1 over maximum", with(func(r *Return) { r.VATDueSales = MaxMoney + 1 }),
			[]string{"INVALID_MONETARY_AMOUNT"}, []string{"/vatDueSales"}},
		{"box 2 under minimum", with(func(r *Return) { r.VATDueAcquisitions = MinMoney - 1 }),
			[]string{"INVALID_MONETARY_AMOUNT"}, []string{"/vatDueAcquisitions"}},
		{"box 3 and 4 out of range", with(func(r *Return) { r.TotalVATDue, r.VATReclaimedCurrPeriod = MaxMoney+1, MinMoney-1 }),
			[]string{"INVALID_MONETARY_AMOUNT", "INVALID_MONETARY_AMOUNT"}, []string{"/totalVatDue", "/vatReclaimedCurrPeriod"}},
		{"box 5 negative", with(func(r *Return) { r.NetVATDue = -1 }),
			[]string{"INVALID_MONETARY_AMOUNT"}, []string{"/netVatDue"}},
		{"box 5 at maximum is a field pass but a net value failure", with(func(r *Return) { r.NetVATDue = MaxNetVATDue }),
			[]string{"VAT_NET_VALUE"}, []string{"/netVatDue"}},
		{"box 5 over maximum", with(func(r *Return) { r.NetVATDue = MaxNetVATDue + 1 }),
			[]string{"INVALID_MONETARY_AMOUNT"}, []string{"/netVatDue"}},
		{"boxes 6-9 at the limits", with(func(r *Return) {
			r.TotalValueSalesExVAT, r.TotalValuePurchasesExVAT, r.TotalValueGoodsSuppliedExVAT, r.TotalAcquisitionsExVAT = MaxPounds, MinPounds, -1, 0
		}), nil, nil},
		{"boxes 6-9 beyond the limits", with(func(r *Return) {
			r.TotalValueSalesExVAT, r.TotalValuePurchasesExVAT, r.TotalValueGoodsSuppliedExVAT, r.TotalAcquisitionsExVAT = MaxPounds+1, MinPounds-1, MaxPounds+1, MinPounds-1
		}), []string{"INVALID_MONETARY_AMOUNT", "INVALID_MONETARY_AMOUNT", "INVALID_MONETARY_AMOUNT", "INVALID_MONETARY_AMOUNT"},
			[]string{"/totalValueSalesExVAT", "/totalValuePurchasesExVAT", "/totalValueGoodsSuppliedExVAT", "/totalAcquisitionsExVAT"}},
		{"bad period key", with(func(r *Return) { r.PeriodKey = "18a1" }),
			[]string{"PERIOD_KEY_INVALID"}, []string{"/periodKey"}},
		{"empty period key", with(func(r *Return) { r.PeriodKey = "" }),
			[]string{"PERIOD_KEY_INVALID"}, []string{"/periodKey"}},
		{"field problems hide cross-field and finalised problems", with(func(r *Return) {
			r.PeriodKey, r.TotalVATDue, r.Finalised = "#1", 1, false
		}), []string{"PERIOD_KEY_INVALID"}, []string{"/periodKey"}},
		{"box 3 wrong by a penny", with(func(r *Return) { r.TotalVATDue++; r.NetVATDue-- }),
			[]string{"VAT_TOTAL_VALUE"}, []string{"/totalVatDue"}},
		{"box 5 wrong by a penny", with(func(r *Return) { r.NetVATDue++ }),
			[]string{"VAT_NET_VALUE"}, []string{"/netVatDue"}},
		{"box 5 signed instead of absolute", with(func(r *Return) { r.NetVATDue = r.TotalVATDue - r.VATReclaimedCurrPeriod }),
			[]string{"INVALID_MONETARY_AMOUNT"}, []string{"/netVatDue"}},
		{"both totals wrong, net first as HMRC does", with(func(r *Return) { r.TotalVATDue = 0; r.NetVATDue = 0 }),
			[]string{"VAT_NET_VALUE", "VAT_TOTAL_VALUE"}, []string{"/netVatDue", "/totalVatDue"}},
		{"cross-field problems hide finalised", with(func(r *Return) { r.NetVATDue = 0; r.Finalised = false }),
			[]string{"VAT_NET_VALUE"}, []string{"/netVatDue"}},
		{"not finalised", with(func(r *Return) { r.Finalised = false }),
			[]string{"NOT_FINALISED"}, []string{"/finalised"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.r.Validate()
			if tc.codes == nil {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			var codes, paths []string
			for _, p := range ve.Problems {
				codes = append(codes, p.Code)
				paths = append(paths, p.Path)
			}
			assert.Equal(t, tc.codes, codes)
			assert.Equal(t, tc.paths, paths)
			assert.Equal(t, "SubmitReturn", ve.Op)
		})
	}
}

// TestSubmitReturnGoldenBody compares the body sent with golden files, byte
// for byte: boxes 1-5 always with two decimals (105.50, not 105.5), boxes 6-9
// as integers, the period key always a JSON string.
func TestSubmitReturnGoldenBody(t *testing.T) {
	t.Parallel()
	numeric := exampleReturn()
	numeric.PeriodKey = "0418"
	for name, r := range map[string]Return{
		"submit-a001.json":    exampleReturn(),
		"submit-numeric.json": numeric,
		"submit-hash.json": {PeriodKey: "#001", VATDueSales: 10000, VATDueAcquisitions: 10000, TotalVATDue: 20000,
			VATReclaimedCurrPeriod: 10000, NetVATDue: 10000, TotalValueSalesExVAT: 500, TotalValuePurchasesExVAT: 500,
			TotalValueGoodsSuppliedExVAT: 500, TotalAcquisitionsExVAT: 500, Finalised: true},
	} {
		c, mux := setup(t)
		var body []byte
		var ctype string
		mux.HandleFunc("POST /organisations/vat/123456789/returns", func(w http.ResponseWriter, r *http.Request) {
			body, _ = io.ReadAll(r.Body)
			ctype = r.Header.Get("Content-Type")
			writeJSON(w, 201, `{"processingDate":"2018-03-01T11:43:43.195Z","formBundleNumber":"256660290587"}`)
		})
		_, err := c.SubmitReturn(context.Background(), "123456789", r)
		require.NoError(t, err)
		assert.Equal(t, "application/json", ctype)
		golden := filepath.Join("testdata", "golden", name)
		if *update {
			require.NoError(t, os.WriteFile(golden, append(body, '\n'), 0o644))
		}
		want, err := os.ReadFile(golden)
		require.NoError(t, err)
		assert.Equal(t, string(want), string(body)+"\n", name)
		assert.Contains(t, string(body), `"periodKey":"`+string(r.PeriodKey)+`"`, "the period key is a JSON string")
		assert.Contains(t, string(body), `"finalised":true`)
	}
	// The golden files themselves: the exact text HMRC's validator reads.
	a001 := string(readFixture(t, "golden/submit-a001.json"))
	for _, frag := range []string{`"vatDueSales":105.50,`, `"vatDueAcquisitions":-100.45,`, `"netVatDue":100.10,`, `"totalValueSalesExVAT":300,`, `"totalAcquisitionsExVAT":3000,`} {
		assert.Contains(t, a001, frag)
	}
}

func TestSubmitReturnReceipt(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	body := readFixture(t, "hmrc/oas/SubmitVATreturnforperiod/response-201-example.json")
	mux.HandleFunc("POST /organisations/vat/123456789/returns", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Receipt-ID", "2dd537bc-4244-4ebf-bac9-96321be13cdc")
		w.Header().Set("Receipt-Timestamp", "2018-02-14T09:32:15Z")
		w.Header().Set("Receipt-Signature", "This has been deprecated - DO NOT USE")
		w.Header().Set("X-CorrelationId", "c75f40a6-a3df-4429-a697-471eeec46435")
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(201)
		w.Write(body)
	})
	rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	require.NoError(t, err)
	assert.Equal(t, time.Date(2018, 1, 16, 8, 20, 27, 895_000_000, time.UTC), rc.ProcessingDate.UTC())
	assert.Equal(t, "256660290587", rc.FormBundleNumber)
	assert.Equal(t, PaymentBank, rc.PaymentIndicator)
	assert.Equal(t, "aCxFaNx0FZsCvyWF", rc.ChargeRefNumber)
	assert.Equal(t, "2dd537bc-4244-4ebf-bac9-96321be13cdc", rc.ReceiptID)
	assert.Equal(t, time.Date(2018, 2, 14, 9, 32, 15, 0, time.UTC), rc.ReceiptTimestamp)
	assert.Equal(t, "c75f40a6-a3df-4429-a697-471eeec46435", rc.CorrelationID)
}

func TestProcessingDateFormats(t *testing.T) {
	t.Parallel()
	want := time.Date(2018, 3, 1, 11, 43, 43, 195_000_000, time.UTC)
	for _, s := range []string{"2018-03-01T11:43:43.195Z", "2018-03-01T11:43:43.195+0000", "2018-03-01T11:43:43.195+00:00", "2018-03-01T12:43:43.195+0100"} {
		got, err := parseProcessingDate(s)
		require.NoError(t, err, s)
		assert.True(t, want.Equal(got), s)
	}
	_, err := parseProcessingDate("01/03/2018")
	assert.Error(t, err)
}

// TestAcceptedReturnIsNeverReportedAsAPlainFailure: whatever goes wrong after
// HMRC's 201, the caller gets every receipt field that could be read.
func TestAcceptedReturnIsNeverReportedAsAPlainFailure(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		header        map[string]string
		body          string
		contentLength int // >0 sends a Content-Length longer than the body
		wantBundle    string
		wantReceiptID string
		wantTimestamp bool
		wantErrText   string
	}{
		{"body is not JSON", map[string]string{"Receipt-ID": "rid-1", "Receipt-Timestamp": "2018-02-14T09:32:15Z"}, `<html>ok</html>`,
			0, "", "rid-1", true, "body"},
		{"processingDate unreadable", map[string]string{"Receipt-ID": "rid-2"}, `{"processingDate":"yesterday","formBundleNumber":"256660290587"}`,
			0, "256660290587", "rid-2", false, "processingDate"},
		{"Receipt-Timestamp unreadable", map[string]string{"Receipt-ID": "rid-3", "Receipt-Timestamp": "14/02/2018"}, `{"processingDate":"2018-03-01T11:43:43.195Z","formBundleNumber":"256660290587"}`,
			0, "256660290587", "rid-3", false, "Receipt-Timestamp"},
		{"body cut short", map[string]string{"Receipt-ID": "rid-4", "Receipt-Timestamp": "2018-02-14T09:32:15Z"}, `{"processingDate":"2018-03-01T11:43:43.195Z","formBundleNumber":"2566`,
			500, "", "rid-4", true, "unexpected EOF"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			mux.HandleFunc("POST /organisations/vat/123456789/returns", func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				if tc.contentLength > 0 {
					w.Header().Set("Content-Length", strconv.Itoa(tc.contentLength))
				}
				w.WriteHeader(201)
				io.WriteString(w, tc.body)
			})
			rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
			require.NotNil(t, rc, "an accepted return always yields its receipt")
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrReceiptIncomplete)
			assert.Contains(t, err.Error(), tc.wantErrText)
			assert.Equal(t, tc.wantBundle, rc.FormBundleNumber)
			assert.Equal(t, tc.wantReceiptID, rc.ReceiptID)
			assert.Equal(t, tc.wantTimestamp, !rc.ReceiptTimestamp.IsZero())
		})
	}
}

// TestSubmitReturnErrors sends each of HMRC's submission error answers (the
// bodies the service really sends, VAT (MTD) API §9.2) through the client.
func TestSubmitReturnErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		status int
		body   string
		is     error
		paths  []string
	}{
		{400, `{"code":"VRN_INVALID","message":"The provided VRN is invalid"}`, ErrVRNInvalid, nil},
		{400, `{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`, ErrPeriodKeyInvalid, nil},
		{400, `{"code":"INVALID_REQUEST","message":"Invalid request"}`, ErrInvalidRequest, nil},
		{400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_MONETARY_AMOUNT","message":"amount should be a monetary value (to 2 decimal places), between 0 and 99,999,999,999.99","path":"/netVatDue"}]}`, ErrInvalidMonetaryAmount, []string{"/netVatDue"}},
		{400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"VAT_NET_VALUE","message":"netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod","path":"/netVatDue"},{"code":"VAT_TOTAL_VALUE","message":"totalVatDue should be equal to vatDueSales + vatDueAcquisitions","path":"/totalVatDue"}]}`, ErrVATTotalValue, []string{"/netVatDue", "/totalVatDue"}},
		{400, `{"statusCode":400,"message":"Invalid Json"}`, ErrorCode(""), nil},
		{403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"NOT_FINALISED","message":"The return cannot be accepted without a declaration it is finalised.","path":"/finalised"}]}`, ErrNotFinalised, []string{"/finalised"}},
		{403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPLICATE_SUBMISSION","message":"The VAT return was already submitted for the given period."}]}`, ErrDuplicateSubmission, []string{""}},
		{403, `{"code":"TAX_PERIOD_NOT_ENDED","message":"The remote endpoint has indicated that the submission is for a tax period that has not ended"}`, ErrTaxPeriodNotEnded, nil},
		{403, `{"code":"RULE_INSOLVENT_TRADER","message":"The remote endpoint has indicated that the Trader is insolvent"}`, ErrInsolventTrader, nil},
		{403, `{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised."}`, ErrNotAuthorised, nil},
		{403, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`, ErrInternalServerError, nil},
		{500, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`, ErrInternalServerError, nil},
		{503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`, ErrServiceUnavailable, nil},
		{400, `{"code":"RULE_INCORRECT_GOV_TEST_SCENARIO","message":"The Gov-Test-Scenario was not found"}`, ErrIncorrectGovTestScenario, nil},
	}
	for _, tc := range tests {
		c, mux := setup(t)
		mux.HandleFunc("POST /organisations/vat/123456789/returns", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Receipt-ID", "5e7d4b38-b4f4-4b3c-84cb-b0b2de34f3c2")
			writeJSON(w, tc.status, tc.body)
		})
		rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
		assert.Nil(t, rc, tc.body)
		var apiErr *APIError
		require.ErrorAs(t, err, &apiErr, tc.body)
		assert.Equal(t, tc.status, apiErr.StatusCode)
		if tc.is != ErrorCode("") {
			assert.ErrorIs(t, err, tc.is, tc.body)
		}
		var paths []string
		for _, fe := range apiErr.Errors {
			paths = append(paths, fe.Path)
		}
		assert.Equal(t, tc.paths, paths)
		assert.Equal(t, "c75f40a6-a3df-4429-a697-471eeec46435", apiErr.CorrelationID)
	}
}

func TestInvalidReturnSendsNothing(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	r := exampleReturn()
	r.VATDueSales++
	rc, err := c.SubmitReturn(context.Background(), "123456789", r)
	assert.Nil(t, rc)
	assert.ErrorIs(t, err, ErrVATTotalValue)
	_, err = c.SubmitReturn(context.Background(), "1234", exampleReturn())
	assert.ErrorIs(t, err, ErrVRNInvalid)
	_, err = c.SubmitReturn(context.Background(), "123456789", exampleReturn(), WithTestScenario(ObligationsNotFound))
	assert.ErrorContains(t, err, "NOT_FOUND is a scenario of Obligations, not of SubmitReturn")
	_, err = c.ViewReturn(context.Background(), "123456789", "#1")
	assert.ErrorIs(t, err, ErrPeriodKeyInvalid)
	assert.Zero(t, n.Load())
}

func TestViewReturn(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	fixture := readFixture(t, "hmrc/raml/GetVatReturnHash.json")
	var rawPath string
	mux.HandleFunc("GET /organisations/vat/123456789/returns/{key}", func(w http.ResponseWriter, r *http.Request) {
		rawPath = r.URL.EscapedPath()
		switch r.PathValue("key") {
		case "#001":
			w.Header().Set("Content-Type", "application/json")
			w.Write(fixture)
		case "18A1":
			w.WriteHeader(404) // what HMRC sends when no return was filed: no body, no Content-Type
		case "18A2":
			writeJSON(w, 403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DATE_RANGE_TOO_LARGE","message":"The date of the requested return cannot be further than four years from the current date."}]}`)
		case "18A3":
			writeJSON(w, 404, `{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`)
		default:
			writeJSON(w, 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}]}`)
		}
	})
	r, err := c.ViewReturn(context.Background(), "123456789", "#001")
	require.NoError(t, err)
	assert.Equal(t, "/organisations/vat/123456789/returns/%23001", rawPath, "# is escaped, not cut off as a fragment")
	assert.Equal(t, PeriodKey("#001"), r.PeriodKey)
	assert.Equal(t, Money(20000), r.TotalVATDue)
	assert.Equal(t, Pounds(500), r.TotalAcquisitionsExVAT)
	assert.True(t, r.Finalised)

	_, err = c.ViewReturn(context.Background(), "123456789", "18A1")
	assert.ErrorIs(t, err, ErrNotFound)
	assert.ErrorContains(t, err, "404 (empty body)")
	_, err = c.ViewReturn(context.Background(), "123456789", "18A2")
	assert.ErrorIs(t, err, ErrDateRangeTooLarge)
	_, err = c.ViewReturn(context.Background(), "123456789", "18A3")
	assert.ErrorIs(t, err, ErrPeriodKeyInvalid)
	assert.NotErrorIs(t, err, ErrNotFound, "a 404 with a code is that code, not NOT_FOUND")
	_, err = c.ViewReturn(context.Background(), "123456789", "ZZZZ")
	assert.ErrorIs(t, err, ErrPeriodKeyInvalid)
}

func TestReceiptEncodesForStorage(t *testing.T) {
	t.Parallel()
	rc := Receipt{ProcessingDate: time.Date(2018, 3, 1, 11, 43, 43, 195_000_000, time.UTC), FormBundleNumber: "256660290587",
		PaymentIndicator: PaymentBank, ChargeRefNumber: "aCxFaNx0FZsCvyWF", ReceiptID: "2dd537bc-4244-4ebf-bac9-96321be13cdc",
		ReceiptTimestamp: time.Date(2018, 2, 14, 9, 32, 15, 0, time.UTC), CorrelationID: "c75f40a6-a3df-4429-a697-471eeec46435"}
	b, err := json.Marshal(rc)
	require.NoError(t, err)
	assert.Equal(t, `{"processingDate":"2018-03-01T11:43:43.195Z","formBundleNumber":"256660290587","paymentIndicator":"BANK","chargeRefNumber":"aCxFaNx0FZsCvyWF","receiptId":"2dd537bc-4244-4ebf-bac9-96321be13cdc","receiptTimestamp":"2018-02-14T09:32:15Z","correlationId":"c75f40a6-a3df-4429-a697-471eeec46435"}`, string(b))
	var back Receipt
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, rc, back)
	r := exampleReturn()
	b, err = json.Marshal(Receipt{Recovered: true, Filed: &r})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"recovered":true,"filed":{"periodKey":"A001"`)
}

package vat

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// The exact bodies HMRC's VAT (MTD) service sends (notes: VAT (MTD) API §7.3
// and §12, taken from hmrc/vat-api's error definitions and functional tests).
var hmrcErrorBodies = []struct {
	name    string
	status  int
	body    string
	code    string   // top-level Code
	codes   []string // Codes()
	is      []error  // sentinels errors.Is must match
	isNot   []error  // sentinels it must not match
	paths   []string // nested paths
	message string   // Message
}{
	{"VRN_INVALID", 400, `{"code":"VRN_INVALID","message":"The provided VRN is invalid"}`,
		"VRN_INVALID", []string{"VRN_INVALID"}, []error{ErrVRNInvalid}, []error{ErrInvalidRequest}, nil, "The provided VRN is invalid"},
	{"not authorised (auth layer)", 403, `{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised."}`,
		"CLIENT_OR_AGENT_NOT_AUTHORISED", []string{"CLIENT_OR_AGENT_NOT_AUTHORISED"}, []error{ErrNotAuthorised}, nil, nil, "The client and/or agent is not authorised."},
	{"not authorised (penalties)", 403, `{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised"}`,
		"CLIENT_OR_AGENT_NOT_AUTHORISED", []string{"CLIENT_OR_AGENT_NOT_AUTHORISED"}, []error{ErrNotAuthorised}, nil, nil, "The client and/or agent is not authorised"},
	{"INTERNAL_SERVER_ERROR", 500, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`,
		"INTERNAL_SERVER_ERROR", []string{"INTERNAL_SERVER_ERROR"}, []error{ErrInternalServerError}, nil, nil, "An internal server error occurred"},
	{"INTERNAL_SERVER_ERROR as 403 (identity data)", 403, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`,
		"INTERNAL_SERVER_ERROR", []string{"INTERNAL_SERVER_ERROR"}, []error{ErrInternalServerError}, []error{ErrNotAuthorised}, nil, "An internal server error occurred"},
	{"SERVICE_UNAVAILABLE", 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`,
		"SERVICE_UNAVAILABLE", []string{"SERVICE_UNAVAILABLE"}, []error{ErrServiceUnavailable}, nil, nil, "Internal server error"},
	{"RULE_INSOLVENT_TRADER", 403, `{"code":"RULE_INSOLVENT_TRADER","message":"The remote endpoint has indicated that the Trader is insolvent"}`,
		"RULE_INSOLVENT_TRADER", []string{"RULE_INSOLVENT_TRADER"}, []error{ErrInsolventTrader}, nil, nil, "The remote endpoint has indicated that the Trader is insolvent"},
	{"RULE_INCORRECT_GOV_TEST_SCENARIO", 400, `{"code":"RULE_INCORRECT_GOV_TEST_SCENARIO","message":"The Gov-Test-Scenario was not found"}`,
		"RULE_INCORRECT_GOV_TEST_SCENARIO", []string{"RULE_INCORRECT_GOV_TEST_SCENARIO"}, []error{ErrIncorrectGovTestScenario}, nil, nil, "The Gov-Test-Scenario was not found"},
	{"NOT_FOUND (legacy)", 404, `{"code":"NOT_FOUND","message":"The remote endpoint has indicated that no data can be found"}`,
		"NOT_FOUND", []string{"NOT_FOUND"}, []error{ErrNotFound}, nil, nil, "The remote endpoint has indicated that no data can be found"},
	{"NOT_FOUND (customer info)", 404, `{"code":"NOT_FOUND","message":"The requested resource could not be found"}`,
		"NOT_FOUND", []string{"NOT_FOUND"}, []error{ErrNotFound}, nil, nil, "The requested resource could not be found"},
	{"MATCHING_RESOURCE_NOT_FOUND (financial)", 404, `{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"The supplied income source could not be found"}`,
		"MATCHING_RESOURCE_NOT_FOUND", []string{"MATCHING_RESOURCE_NOT_FOUND"}, []error{ErrMatchingResourceNotFound}, []error{ErrNotFound}, nil, "The supplied income source could not be found"},
	{"CHARGE_REFERENCE_INVALID", 400, `{"code":"CHARGE_REFERENCE_INVALID","message":"The provided chargeReference is invalid"}`,
		"CHARGE_REFERENCE_INVALID", []string{"CHARGE_REFERENCE_INVALID"}, []error{ErrChargeReferenceInvalid}, nil, nil, "The provided chargeReference is invalid"},
	{"INVALID_JSON", 500, `{"code":"INVALID_JSON","message":"Invalid JSON received"}`,
		"INVALID_JSON", []string{"INVALID_JSON"}, []error{ErrInvalidJSON}, []error{ErrInternalServerError}, nil, "Invalid JSON received"},
	{"INVALID_REQUEST (bare)", 400, `{"code":"INVALID_REQUEST","message":"Invalid request"}`,
		"INVALID_REQUEST", []string{"INVALID_REQUEST"}, []error{ErrInvalidRequest}, nil, nil, "Invalid request"},
	{"INVALID_REQUEST as 403 (view, INVALID_INPUTDATA)", 403, `{"code":"INVALID_REQUEST","message":"Invalid request"}`,
		"INVALID_REQUEST", []string{"INVALID_REQUEST"}, []error{ErrInvalidRequest}, nil, nil, "Invalid request"},
	{"INVALID_DATE_FROM (legacy)", 400, `{"statusCode":400,"message":"INVALID_DATE_FROM"}`,
		"INVALID_DATE_FROM", []string{"INVALID_DATE_FROM"}, []error{ErrInvalidDateFrom}, []error{ErrDateFromInvalid}, nil, "INVALID_DATE_FROM"},
	{"INVALID_DATE_TO (legacy)", 400, `{"statusCode":400,"message":"INVALID_DATE_TO"}`,
		"INVALID_DATE_TO", []string{"INVALID_DATE_TO"}, []error{ErrInvalidDateTo}, nil, nil, "INVALID_DATE_TO"},
	{"INVALID_STATUS (legacy)", 400, `{"statusCode":400,"message":"INVALID_STATUS"}`,
		"INVALID_STATUS", []string{"INVALID_STATUS"}, []error{ErrInvalidStatus}, nil, nil, "INVALID_STATUS"},
	{"INVALID_DATE_RANGE (legacy)", 400, `{"statusCode":400,"message":"INVALID_DATE_RANGE"}`,
		"INVALID_DATE_RANGE", []string{"INVALID_DATE_RANGE"}, []error{ErrInvalidDateRange}, nil, nil, "INVALID_DATE_RANGE"},
	{"MISSING_DATE_RANGE (legacy)", 400, `{"statusCode":400,"message":"MISSING_DATE_RANGE"}`,
		"MISSING_DATE_RANGE", []string{"MISSING_DATE_RANGE"}, []error{ErrMissingDateRange}, nil, nil, "MISSING_DATE_RANGE"},
	{"DATE_FROM_INVALID (legacy)", 400, `{"statusCode":400,"message":"DATE_FROM_INVALID"}`,
		"DATE_FROM_INVALID", []string{"DATE_FROM_INVALID"}, []error{ErrDateFromInvalid}, []error{ErrInvalidDateFrom}, nil, "DATE_FROM_INVALID"},
	{"DATE_TO_INVALID (legacy)", 400, `{"statusCode":400,"message":"DATE_TO_INVALID"}`,
		"DATE_TO_INVALID", []string{"DATE_TO_INVALID"}, []error{ErrDateToInvalid}, nil, nil, "DATE_TO_INVALID"},
	{"DATE_RANGE_INVALID (legacy)", 400, `{"statusCode":400,"message":"DATE_RANGE_INVALID"}`,
		"DATE_RANGE_INVALID", []string{"DATE_RANGE_INVALID"}, []error{ErrDateRangeInvalid}, nil, nil, "DATE_RANGE_INVALID"},
	{"DATE_FROM_INVALID (downstream)", 400, `{"code":"DATE_FROM_INVALID","message":"The provided from date is invalid"}`,
		"DATE_FROM_INVALID", []string{"DATE_FROM_INVALID"}, []error{ErrDateFromInvalid}, nil, nil, "The provided from date is invalid"},
	{"DATE_TO_INVALID (downstream)", 400, `{"code":"DATE_TO_INVALID","message":"The provided to date is invalid"}`,
		"DATE_TO_INVALID", []string{"DATE_TO_INVALID"}, []error{ErrDateToInvalid}, nil, nil, "The provided to date is invalid"},
	{"INVALID_STATUS (downstream)", 400, `{"code":"INVALID_STATUS","message":"The provided data is failed validation, invalid status"}`,
		"INVALID_STATUS", []string{"INVALID_STATUS"}, []error{ErrInvalidStatus}, nil, nil, "The provided data is failed validation, invalid status"},
	{"DATE_RANGE_TOO_LARGE (obligations)", 400, `{"code":"DATE_RANGE_TOO_LARGE","message":"The date of the requested return cannot be further than four years from the current date."}`,
		"DATE_RANGE_TOO_LARGE", []string{"DATE_RANGE_TOO_LARGE"}, []error{ErrDateRangeTooLarge}, nil, nil, "The date of the requested return cannot be further than four years from the current date."},
	{"DATE_RANGE_TOO_LARGE (view return, wrapped)", 403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DATE_RANGE_TOO_LARGE","message":"The date of the requested return cannot be further than four years from the current date."}]}`,
		"BUSINESS_ERROR", []string{"DATE_RANGE_TOO_LARGE"}, []error{ErrDateRangeTooLarge, ErrBusinessError}, nil, []string{""}, "Business validation error"},
	{"INVALID_DATA", 400, `{"code":"INVALID_DATA","message":"The provided data is failed validation, contains invalid data"}`,
		"INVALID_DATA", []string{"INVALID_DATA"}, []error{ErrInvalidData}, nil, nil, "The provided data is failed validation, contains invalid data"},
	{"TAX_PERIOD_NOT_ENDED", 403, `{"code":"TAX_PERIOD_NOT_ENDED","message":"The remote endpoint has indicated that the submission is for a tax period that has not ended"}`,
		"TAX_PERIOD_NOT_ENDED", []string{"TAX_PERIOD_NOT_ENDED"}, []error{ErrTaxPeriodNotEnded}, nil, nil, "The remote endpoint has indicated that the submission is for a tax period that has not ended"},
	{"DUPLICATE_SUBMISSION (wrapped)", 403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPLICATE_SUBMISSION","message":"The VAT return was already submitted for the given period."}]}`,
		"BUSINESS_ERROR", []string{"DUPLICATE_SUBMISSION"}, []error{ErrDuplicateSubmission}, []error{ErrNotFinalised}, []string{""}, "Business validation error"},
	{"NOT_FINALISED (wrapped)", 403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"NOT_FINALISED","message":"The return cannot be accepted without a declaration it is finalised.","path":"/finalised"}]}`,
		"BUSINESS_ERROR", []string{"NOT_FINALISED"}, []error{ErrNotFinalised}, []error{ErrDuplicateSubmission}, []string{"/finalised"}, "Business validation error"},
	{"PERIOD_KEY_INVALID (submit body)", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"PERIOD_KEY_INVALID","message":"period key should be a 4 character string","path":"/periodKey"}]}`,
		"INVALID_REQUEST", []string{"PERIOD_KEY_INVALID"}, []error{ErrPeriodKeyInvalid, ErrInvalidRequest}, nil, []string{"/periodKey"}, "Invalid request"},
	{"PERIOD_KEY_INVALID (view path)", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}]}`,
		"INVALID_REQUEST", []string{"PERIOD_KEY_INVALID"}, []error{ErrPeriodKeyInvalid}, nil, []string{""}, "Invalid request"},
	{"PERIOD_KEY_INVALID (downstream)", 400, `{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`,
		"PERIOD_KEY_INVALID", []string{"PERIOD_KEY_INVALID"}, []error{ErrPeriodKeyInvalid}, nil, nil, "Invalid period key"},
	{"PERIOD_KEY_INVALID as 404 (downstream INVALID_IDENTIFIER)", 404, `{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`,
		"PERIOD_KEY_INVALID", []string{"PERIOD_KEY_INVALID"}, []error{ErrPeriodKeyInvalid}, []error{ErrNotFound}, nil, "Invalid period key"},
	{"VAT_TOTAL_VALUE", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"VAT_TOTAL_VALUE","message":"totalVatDue should be equal to vatDueSales + vatDueAcquisitions","path":"/totalVatDue"}]}`,
		"INVALID_REQUEST", []string{"VAT_TOTAL_VALUE"}, []error{ErrVATTotalValue}, []error{ErrVATNetValue}, []string{"/totalVatDue"}, "Invalid request"},
	{"VAT_NET_VALUE and VAT_TOTAL_VALUE together", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"VAT_NET_VALUE","message":"netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod","path":"/netVatDue"},{"code":"VAT_TOTAL_VALUE","message":"totalVatDue should be equal to vatDueSales + vatDueAcquisitions","path":"/totalVatDue"}]}`,
		"INVALID_REQUEST", []string{"VAT_NET_VALUE", "VAT_TOTAL_VALUE"}, []error{ErrVATNetValue, ErrVATTotalValue}, nil, []string{"/netVatDue", "/totalVatDue"}, "Invalid request"},
	{"MANDATORY_FIELD_MISSING", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"MANDATORY_FIELD_MISSING","message":"a mandatory field is missing","path":"/vatDueSales"}]}`,
		"INVALID_REQUEST", []string{"MANDATORY_FIELD_MISSING"}, []error{ErrMandatoryFieldMissing}, nil, []string{"/vatDueSales"}, "Invalid request"},
	{"INVALID_NUMERIC_VALUE", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_NUMERIC_VALUE","message":"please provide a numeric field","path":"/vatDueSales"}]}`,
		"INVALID_REQUEST", []string{"INVALID_NUMERIC_VALUE"}, []error{ErrInvalidNumericValue}, nil, []string{"/vatDueSales"}, "Invalid request"},
	{"INVALID_STRING_VALUE", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_STRING_VALUE","message":"please provide a string field","path":"/periodKey"}]}`,
		"INVALID_REQUEST", []string{"INVALID_STRING_VALUE"}, []error{ErrInvalidStringValue}, nil, []string{"/periodKey"}, "Invalid request"},
	{"UNMAPPED_PLAY_ERROR", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"UNMAPPED_PLAY_ERROR","message":"error.expected.jsboolean","path":"/finalised"}]}`,
		"INVALID_REQUEST", []string{"UNMAPPED_PLAY_ERROR"}, []error{ErrUnmappedPlayError}, nil, []string{"/finalised"}, "Invalid request"},
	{"INVALID_MONETARY_AMOUNT boxes 1-4", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_MONETARY_AMOUNT","message":"amount should be a monetary value (to 2 decimal places), between -9,999,999,999,999.99 and 9,999,999,999,999.99","path":"/vatDueSales"}]}`,
		"INVALID_REQUEST", []string{"INVALID_MONETARY_AMOUNT"}, []error{ErrInvalidMonetaryAmount}, nil, []string{"/vatDueSales"}, "Invalid request"},
	{"INVALID_MONETARY_AMOUNT box 5", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_MONETARY_AMOUNT","message":"amount should be a monetary value (to 2 decimal places), between 0 and 99,999,999,999.99","path":"/netVatDue"}]}`,
		"INVALID_REQUEST", []string{"INVALID_MONETARY_AMOUNT"}, []error{ErrInvalidMonetaryAmount}, nil, []string{"/netVatDue"}, "Invalid request"},
	{"INVALID_MONETARY_AMOUNT boxes 6-9", 400, `{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"INVALID_MONETARY_AMOUNT","message":"The value must be between -9999999999999 and 9999999999999","path":"/totalValueSalesExVAT"}]}`,
		"INVALID_REQUEST", []string{"INVALID_MONETARY_AMOUNT"}, []error{ErrInvalidMonetaryAmount}, nil, []string{"/totalValueSalesExVAT"}, "Invalid request"},
	{"invalid JSON body (legacy, not a code)", 400, `{"statusCode":400,"message":"Invalid Json"}`,
		"", nil, nil, []error{ErrInvalidJSON, ErrInvalidRequest}, nil, "Invalid Json"},
	{"pass-through HIP code (penalties)", 500, `{"code":"005","message":"Invalid Tax Regime"}`,
		"005", []string{"005"}, []error{ErrorCode("005")}, []error{ErrInternalServerError}, nil, "Invalid Tax Regime"},
	{"DOWNSTREAM_ERROR", 500, `{"code":"DOWNSTREAM_ERROR","message":"Connection refused"}`,
		"DOWNSTREAM_ERROR", []string{"DOWNSTREAM_ERROR"}, []error{ErrDownstreamError}, nil, nil, "Connection refused"},
	// Platform errors (§7.1).
	{"MESSAGE_THROTTLED_OUT", 429, `{"code":"MESSAGE_THROTTLED_OUT","message":"The request for the API is throttled as you have exceeded your quota."}`,
		"MESSAGE_THROTTLED_OUT", []string{"MESSAGE_THROTTLED_OUT"}, []error{ErrThrottled}, nil, nil, "The request for the API is throttled as you have exceeded your quota."},
	{"MATCHING_RESOURCE_NOT_FOUND (platform)", 404, `{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"A resource with the name in the request can not be found in the API"}`,
		"MATCHING_RESOURCE_NOT_FOUND", []string{"MATCHING_RESOURCE_NOT_FOUND"}, []error{ErrMatchingResourceNotFound}, []error{ErrNotFound}, nil, "A resource with the name in the request can not be found in the API"},
	{"ACCEPT_HEADER_INVALID", 406, `{"code":"ACCEPT_HEADER_INVALID","message":"The accept header is missing or invalid"}`,
		"ACCEPT_HEADER_INVALID", []string{"ACCEPT_HEADER_INVALID"}, []error{ErrAcceptHeaderInvalid}, nil, nil, "The accept header is missing or invalid"},
	{"RESOURCE_FORBIDDEN", 403, `{"code":"RESOURCE_FORBIDDEN","message":"The application is not subscribed to the API which it is attempting to invoke"}`,
		"RESOURCE_FORBIDDEN", []string{"RESOURCE_FORBIDDEN"}, []error{ErrResourceForbidden}, nil, nil, "The application is not subscribed to the API which it is attempting to invoke"},
	{"INVALID_CREDENTIALS", 401, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`,
		"INVALID_CREDENTIALS", []string{"INVALID_CREDENTIALS"}, []error{ErrInvalidCredentials}, []error{ErrMissingCredentials}, nil, "Invalid Authentication information provided"},
	{"SERVER_ERROR 503", 503, `{"code":"SERVER_ERROR","message":"Service unavailable"}`,
		"SERVER_ERROR", []string{"SERVER_ERROR"}, []error{ErrServerError}, []error{ErrServiceUnavailable}, nil, "Service unavailable"},
	// Shape 4: View VAT Return's empty 404.
	{"empty body 404", 404, ``, "", nil, []error{ErrNotFound}, []error{ErrPeriodKeyInvalid, ErrInternalServerError}, nil, ""},
	// Shape 5: a gateway's page that is not JSON.
	{"HTML 503", 503, `<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>`,
		"", nil, []error{ErrServiceUnavailable}, []error{ErrNotFound, ErrServerError}, nil, "response of type text/html"},
	{"HTML 429 from a gateway", 429, `<html>Too many requests</html>`,
		"", nil, []error{ErrThrottled}, nil, nil, "response of type text/html"},
	{"truncated JSON 500", 500, `{"code":"INTERNAL_SERV`,
		"", nil, []error{ErrInternalServerError}, nil, nil, "response of type application/json"},
	{"OAuth error body", 400, `{"error":"invalid_grant","error_description":"refresh token is invalid"}`,
		"invalid_grant", []string{"invalid_grant"}, []error{ErrorCode("invalid_grant")}, nil, nil, "refresh token is invalid"},
}

func TestAPIErrorDecodesEveryHMRCShape(t *testing.T) {
	t.Parallel()
	for _, tc := range hmrcErrorBodies {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{"X-Correlationid": {"c75f40a6-a3df-4429-a697-471eeec46435"}}
			switch {
			case strings.HasPrefix(tc.body, "<"):
				h.Set("Content-Type", "text/html; charset=utf-8")
			case tc.body != "":
				h.Set("Content-Type", "application/json")
			}
			e := newAPIError("GET", "/organisations/vat/123456789/obligations", tc.status, h, []byte(tc.body), time.Now())
			assert.Equal(t, tc.status, e.StatusCode)
			assert.Equal(t, tc.code, e.Code)
			assert.Equal(t, tc.message, e.Message)
			assert.Equal(t, tc.codes, e.Codes())
			assert.Equal(t, "c75f40a6-a3df-4429-a697-471eeec46435", e.CorrelationID)
			var paths []string
			for _, fe := range e.Errors {
				paths = append(paths, fe.Path)
			}
			assert.Equal(t, tc.paths, paths)
			var err error = e
			for _, s := range tc.is {
				assert.ErrorIs(t, err, s)
			}
			for _, s := range tc.isNot {
				assert.NotErrorIs(t, err, s)
			}
			var got *APIError
			require.ErrorAs(t, err, &got)
			// One short line, no body dump.
			msg := err.Error()
			assert.NotContains(t, msg, "\n")
			assert.NotContains(t, msg, "<html")
			assert.LessOrEqual(t, len(msg), 400)
			assert.Contains(t, msg, "GET /organisations/vat/123456789/obligations")
			if strings.HasPrefix(tc.message, "response of type") {
				assert.Equal(t, []byte(tc.body), e.RawBody, "a body that is not HMRC's JSON is kept for diagnosis")
			} else {
				assert.Nil(t, e.RawBody)
			}
		})
	}
}

func TestAPIErrorMessages(t *testing.T) {
	t.Parallel()
	e := newAPIError("POST", "/organisations/vat/123456789/returns", 403, http.Header{},
		[]byte(`{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPLICATE_SUBMISSION","message":"The VAT return was already submitted for the given period."}]}`), time.Now())
	assert.Equal(t, "vat: POST /organisations/vat/123456789/returns: 403 DUPLICATE_SUBMISSION: The VAT return was already submitted for the given period.", e.Error())

	e = newAPIError("GET", "/organisations/vat/123456789/returns/%23001", 404, http.Header{}, nil, time.Now())
	assert.Equal(t, "vat: GET /organisations/vat/123456789/returns/%23001: 404 (empty body)", e.Error())

	e = newAPIError("GET", "/organisations/vat/123456789/obligations", 400, http.Header{}, []byte(`{"statusCode":400,"message":"INVALID_DATE_RANGE"}`), time.Now())
	assert.Equal(t, "vat: GET /organisations/vat/123456789/obligations: 400 INVALID_DATE_RANGE", e.Error())

	var both string
	for _, tc := range hmrcErrorBodies {
		if tc.name == "VAT_NET_VALUE and VAT_TOTAL_VALUE together" {
			both = tc.body
		}
	}
	e = newAPIError("POST", "/p", 400, http.Header{}, []byte(both), time.Now())
	e.Attempts = 3
	assert.Equal(t, "vat: POST /p: 400 VAT_NET_VALUE, VAT_TOTAL_VALUE: netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod (and 1 more) (after 3 attempts)", e.Error())

	e = newAPIError("GET", "/p", 502, http.Header{"Content-Type": {"text/html"}}, []byte("<html>bad gateway</html>"), time.Now())
	assert.Equal(t, "vat: GET /p: 502 (body is not HMRC's JSON): response of type text/html", e.Error())
	assert.Equal(t, []byte("<html>bad gateway</html>"), e.RawBody)

	e = newAPIError("GET", "/p", 400, http.Header{}, []byte(`{"code":"X\nY","message":"line one\r\nline two"}`), time.Now())
	assert.Equal(t, "vat: GET /p: 400 X Y: line one  line two", e.Error())

	big := strings.Repeat("x", 10000)
	e = newAPIError("GET", "/p", 500, http.Header{}, []byte(big), time.Now())
	assert.Len(t, e.RawBody, maxRawBody)
}

func TestAPIErrorIsIgnoresOtherTargets(t *testing.T) {
	t.Parallel()
	e := &APIError{StatusCode: 404}
	assert.False(t, e.Is(errors.New("NOT_FOUND")))
	assert.False(t, e.Is(ErrorCode("")))
	assert.True(t, e.Is(ErrNotFound))
	assert.Equal(t, "vat: DUPLICATE_SUBMISSION", ErrDuplicateSubmission.Error())
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	assert.Equal(t, 120*time.Second, parseRetryAfter("120", now))
	assert.Equal(t, 30*time.Second, parseRetryAfter(now.Add(30*time.Second).Format(http.TimeFormat), now))
	assert.Zero(t, parseRetryAfter("", now))
	assert.Zero(t, parseRetryAfter("-5", now))
	assert.Zero(t, parseRetryAfter("soon", now))
	assert.Zero(t, parseRetryAfter(now.Add(-time.Minute).Format(http.TimeFormat), now))
}

func TestValidationError(t *testing.T) {
	t.Parallel()
	err := validate("SubmitReturn", func(p *problems) {
		p.add("/vatDueSales", "INVALID_MONETARY_AMOUNT", "more than 2 decimal places")
		p.add("/totalVatDue", "VAT_TOTAL_VALUE", "box 3 must be box 1 + box 2")
	})
	require.Error(t, err)
	assert.Equal(t, "vat: SubmitReturn: request not sent: /vatDueSales: INVALID_MONETARY_AMOUNT: more than 2 decimal places (and 1 more)", err.Error())
	assert.ErrorIs(t, err, ErrVATTotalValue)
	assert.ErrorIs(t, err, ErrInvalidMonetaryAmount)
	assert.NotErrorIs(t, err, ErrVATNetValue)
	assert.NoError(t, validate("X", func(*problems) {}))
	assert.Equal(t, "vat: request not sent: invalid input", (&ValidationError{}).Error())
}

func FuzzAPIError(f *testing.F) {
	for _, tc := range hmrcErrorBodies {
		f.Add(tc.status, tc.body, "")
	}
	f.Add(400, `{"errors":null,"code":""}`, "application/json")
	f.Add(503, "\x00\xff", "text/html; charset")
	f.Add(0, `{"statusCode":"x"}`, "")
	f.Fuzz(func(t *testing.T, status int, body, ctype string) {
		h := http.Header{"Content-Type": {ctype}, "Retry-After": {body}}
		e := newAPIError("GET", "/p", status, h, []byte(body), time.Now())
		if e.StatusCode != status {
			t.Fatalf("status %d became %d", status, e.StatusCode)
		}
		if msg := e.Error(); strings.ContainsAny(msg, "\r\n") {
			t.Fatalf("multi-line error %q", msg)
		}
		if len(e.RawBody) > maxRawBody {
			t.Fatalf("raw body of %d bytes kept", len(e.RawBody))
		}
		_ = e.Codes()
		_ = errors.Is(e, ErrNotFound)
	})
}

package vattest

import (
	"encoding/json"
	"net/http"
	"strconv"
)

// Error bodies exactly as HMRC's platform and VAT service write them
// (notes: vat-api.md §7).
var (
	// API platform (gateway)
	bodyMethodNotAllowed         = []byte(`{"code":"METHOD_NOT_ALLOWED","message":"The request method is not supported"}`)
	bodyAcceptInvalid            = []byte(`{"code":"ACCEPT_HEADER_INVALID","message":"The accept header is missing or invalid"}`)
	bodyMatchingResourceNotFound = []byte(`{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"A resource with the name in the request can not be found in the API"}`)
	bodyMissingCredentials       = []byte(`{"code":"MISSING_CREDENTIALS","message":"Authentication information is not provided"}`)
	bodyInvalidCredentials       = []byte(`{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
	bodyIncorrectTokenType       = []byte(`{"code":"INCORRECT_ACCESS_TOKEN_TYPE","message":"The access token type used is not supported when invoking the API"}`)
	bodyInvalidScope             = []byte(`{"code":"INVALID_SCOPE","message":"Can not access the required resource. Ensure this token has all the required scopes."}`)
	bodyThrottled                = []byte(`{"code":"MESSAGE_THROTTLED_OUT","message":"The request for the API is throttled as you have exceeded your quota."}`)

	// VAT service
	bodyVRNInvalid            = []byte(`{"code":"VRN_INVALID","message":"The provided VRN is invalid"}`)
	bodyNotAuthorised         = []byte(`{"code":"CLIENT_OR_AGENT_NOT_AUTHORISED","message":"The client and/or agent is not authorised."}`)
	bodyInternalError         = []byte(`{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`)
	bodyServiceUnavailable    = []byte(`{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
	bodyInsolventTrader       = []byte(`{"code":"RULE_INSOLVENT_TRADER","message":"The remote endpoint has indicated that the Trader is insolvent"}`)
	bodyIncorrectScenario     = []byte(`{"code":"RULE_INCORRECT_GOV_TEST_SCENARIO","message":"The Gov-Test-Scenario was not found"}`)
	bodyLegacyNotFound        = []byte(`{"code":"NOT_FOUND","message":"The remote endpoint has indicated that no data can be found"}`)
	bodyCustomerInfoNotFound  = []byte(`{"code":"NOT_FOUND","message":"The requested resource could not be found"}`)
	bodyFinancialNotFound     = []byte(`{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"The supplied income source could not be found"}`)
	bodyChargeRefInvalid      = []byte(`{"code":"CHARGE_REFERENCE_INVALID","message":"The provided chargeReference is invalid"}`)
	bodyInvalidRequest        = []byte(`{"code":"INVALID_REQUEST","message":"Invalid request"}`)
	bodyPeriodKeyInvalidDes   = []byte(`{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`)
	bodyPeriodKeyInvalidPath  = []byte(`{"code":"INVALID_REQUEST","message":"Invalid request","errors":[{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}]}`)
	bodyTaxPeriodNotEnded     = []byte(`{"code":"TAX_PERIOD_NOT_ENDED","message":"The remote endpoint has indicated that the submission is for a tax period that has not ended"}`)
	bodyDuplicateSubmission   = []byte(`{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPLICATE_SUBMISSION","message":"The VAT return was already submitted for the given period."}]}`)
	bodyNotFinalised          = []byte(`{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"NOT_FINALISED","message":"The return cannot be accepted without a declaration it is finalised.","path":"/finalised"}]}`)
	bodyDateRangeTooLargeView = []byte(`{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DATE_RANGE_TOO_LARGE","message":"The date of the requested return cannot be further than four years from the current date."}]}`)
	bodyInvalidJSON           = []byte(`{"statusCode":400,"message":"Invalid Json"}`)
	bodyUnsupportedMediaType  = []byte(`{"code":"INVALID_BODY_TYPE","message":"Expecting text/json or application/json body"}`)
	bodyEntityTooLarge        = []byte(`{"statusCode":413,"message":"Request Entity Too Large"}`)
)

// legacy returns the {"statusCode":400,"message":"CODE"} body of query
// validation errors.
func legacy(code string) []byte {
	return []byte(`{"statusCode":400,"message":"` + code + `"}`)
}

// fieldError is one item of a wrapped error body.
type fieldError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// wrapped is {"code":"INVALID_REQUEST","message":"Invalid request","errors":[…]}.
func wrapped(errs []fieldError) []byte {
	b, _ := json.Marshal(struct {
		Code    string       `json:"code"`
		Message string       `json:"message"`
		Errors  []fieldError `json:"errors"`
	}{"INVALID_REQUEST", "Invalid request", errs})
	return b
}

// canned is a fixed answer to a Gov-Test-Scenario.
type canned struct {
	status int
	body   []byte
}

// answerScenario answers c's Gov-Test-Scenario from answers, or with 400
// RULE_INCORRECT_GOV_TEST_SCENARIO for a scenario not among them. It reports
// whether it answered: false when c has no scenario.
func answerScenario(c *call, answers map[string]canned) bool {
	if c.scenario == "" {
		return false
	}
	a, ok := answers[c.scenario]
	if !ok {
		a = canned{http.StatusBadRequest, bodyIncorrectScenario}
	}
	writeJSON(c.w, a.status, a.body)
	return true
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{"application/json"}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// bodyForStatus is what HMRC sends for status, for faults without a body.
func bodyForStatus(status int) []byte {
	switch status {
	case http.StatusBadRequest:
		return bodyInvalidRequest
	case http.StatusUnauthorized:
		return bodyInvalidCredentials
	case http.StatusForbidden:
		return bodyNotAuthorised
	case http.StatusNotFound:
		return bodyMatchingResourceNotFound
	case http.StatusMethodNotAllowed:
		return bodyMethodNotAllowed
	case http.StatusNotAcceptable:
		return bodyAcceptInvalid
	case http.StatusTooManyRequests:
		return bodyThrottled
	case http.StatusInternalServerError:
		return bodyInternalError
	case http.StatusNotImplemented:
		return []byte(`{"code":"NOT_IMPLEMENTED","message":"API has not been implemented"}`)
	case http.StatusServiceUnavailable:
		return bodyServiceUnavailable
	case http.StatusGatewayTimeout:
		return []byte(`{"code":"GATEWAY_TIMEOUT","message":"Gateway timeout"}`)
	}
	return []byte(`{"code":"` + strconv.Itoa(status) + `","message":"` + http.StatusText(status) + `"}`)
}

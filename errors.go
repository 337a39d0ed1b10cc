package vat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrorCode is one of HMRC's machine-readable error codes, such as
// "DUPLICATE_SUBMISSION". It is an error so that it can be matched with
// errors.Is: errors.Is(err, vat.ErrDuplicateSubmission) is true when err is an
// *APIError whose top-level code or any of whose nested errors[] codes is
// DUPLICATE_SUBMISSION, or a *ValidationError with a problem of that code.
// Codes HMRC adds later can be matched the same way: errors.Is(err,
// vat.ErrorCode("NEW_CODE")).
type ErrorCode string

// Error returns "vat: " followed by the code.
func (c ErrorCode) Error() string { return "vat: " + string(c) }

// Platform errors, common to all HMRC APIs (HMRC reference guide, "Errors").
var (
	// ErrMissingCredentials (401 MISSING_CREDENTIALS): no OAuth token was sent.
	ErrMissingCredentials error = ErrorCode("MISSING_CREDENTIALS")
	// ErrInvalidCredentials (401 INVALID_CREDENTIALS): the access token is
	// invalid or has expired. A Client whose token source can refresh does so
	// once and replays the request before returning this.
	ErrInvalidCredentials error = ErrorCode("INVALID_CREDENTIALS")
	// ErrUnauthorized (401 UNAUTHORIZED): another problem with the token.
	ErrUnauthorized error = ErrorCode("UNAUTHORIZED")
	// ErrIncorrectAccessTokenType (401 INCORRECT_ACCESS_TOKEN_TYPE): an
	// application-restricted (client_credentials) token was sent to a
	// user-restricted endpoint, such as any VAT endpoint.
	ErrIncorrectAccessTokenType error = ErrorCode("INCORRECT_ACCESS_TOKEN_TYPE")
	// ErrHTTPSRequired (403 HTTPS_REQUIRED): the request was sent over HTTP.
	ErrHTTPSRequired error = ErrorCode("HTTPS_REQUIRED")
	// ErrResourceForbidden (403 RESOURCE_FORBIDDEN): the application is not
	// subscribed to the API on HMRC's Developer Hub.
	ErrResourceForbidden error = ErrorCode("RESOURCE_FORBIDDEN")
	// ErrInvalidScope (403 INVALID_SCOPE): the token lacks the scope the
	// endpoint needs (read:vat, or write:vat to submit a return).
	ErrInvalidScope error = ErrorCode("INVALID_SCOPE")
	// ErrForbidden (403 FORBIDDEN): the token is not authorised for the tax
	// identifier in the request.
	ErrForbidden error = ErrorCode("FORBIDDEN")
	// ErrMatchingResourceNotFound (404 MATCHING_RESOURCE_NOT_FOUND): no
	// endpoint matches the path (or, for financial details, no matching
	// charge was found).
	ErrMatchingResourceNotFound error = ErrorCode("MATCHING_RESOURCE_NOT_FOUND")
	// ErrMethodNotAllowed (405 METHOD_NOT_ALLOWED).
	ErrMethodNotAllowed error = ErrorCode("METHOD_NOT_ALLOWED")
	// ErrAcceptHeaderInvalid (406 ACCEPT_HEADER_INVALID): missing or invalid
	// Accept header.
	ErrAcceptHeaderInvalid error = ErrorCode("ACCEPT_HEADER_INVALID")
	// ErrThrottled (429 MESSAGE_THROTTLED_OUT): the application exceeded
	// HMRC's rate limit. Any 429 matches it, whatever its body.
	ErrThrottled error = ErrorCode("MESSAGE_THROTTLED_OUT")
	// ErrInternalServerError (500 INTERNAL_SERVER_ERROR). Any 500 without a
	// code matches it.
	ErrInternalServerError error = ErrorCode("INTERNAL_SERVER_ERROR")
	// ErrNotImplemented (501 NOT_IMPLEMENTED): the API is not deployed.
	ErrNotImplemented error = ErrorCode("NOT_IMPLEMENTED")
	// ErrServerError (503 SERVER_ERROR): the service is unavailable.
	ErrServerError error = ErrorCode("SERVER_ERROR")
	// ErrScheduledMaintenance (503 SCHEDULED_MAINTENANCE).
	ErrScheduledMaintenance error = ErrorCode("SCHEDULED_MAINTENANCE")
	// ErrGatewayTimeout (504 GATEWAY_TIMEOUT). Any 504 without a code
	// matches it.
	ErrGatewayTimeout error = ErrorCode("GATEWAY_TIMEOUT")
)

// Errors of the VAT (MTD) API itself (notes: VAT (MTD) API §7.3).
var (
	// ErrVRNInvalid (400 VRN_INVALID): the VRN is not nine digits, or HMRC's
	// records reject it.
	ErrVRNInvalid error = ErrorCode("VRN_INVALID")
	// ErrNotAuthorised (403 CLIENT_OR_AGENT_NOT_AUTHORISED): the client is not
	// signed up to Making Tax Digital for VAT, the agent is not subscribed to
	// Agent Services, the client has not authorised the agent, or the token
	// belongs to someone not enrolled for this VRN.
	ErrNotAuthorised error = ErrorCode("CLIENT_OR_AGENT_NOT_AUTHORISED")
	// ErrServiceUnavailable (503 SERVICE_UNAVAILABLE). Any 503 without a code
	// matches it.
	ErrServiceUnavailable error = ErrorCode("SERVICE_UNAVAILABLE")
	// ErrInsolventTrader (403 RULE_INSOLVENT_TRADER): the trader is insolvent.
	ErrInsolventTrader error = ErrorCode("RULE_INSOLVENT_TRADER")
	// ErrIncorrectGovTestScenario (400 RULE_INCORRECT_GOV_TEST_SCENARIO): the
	// sandbox does not know the Gov-Test-Scenario sent.
	ErrIncorrectGovTestScenario error = ErrorCode("RULE_INCORRECT_GOV_TEST_SCENARIO")
	// ErrNotFound (404 NOT_FOUND): no data for the request, including View
	// VAT Return's empty-bodied 404 for a period with no return. Any 404
	// without a code matches it.
	ErrNotFound error = ErrorCode("NOT_FOUND")
	// ErrChargeReferenceInvalid (400 CHARGE_REFERENCE_INVALID).
	ErrChargeReferenceInvalid error = ErrorCode("CHARGE_REFERENCE_INVALID")
	// ErrInvalidJSON (500 INVALID_JSON): HMRC's back end sent a body HMRC
	// could not read.
	ErrInvalidJSON error = ErrorCode("INVALID_JSON")
	// ErrDownstreamError (500 DOWNSTREAM_ERROR): HMRC's back end could not be
	// reached.
	ErrDownstreamError error = ErrorCode("DOWNSTREAM_ERROR")
	// ErrInvalidRequest (400 INVALID_REQUEST): the wrapper code of request
	// validation errors; the specific codes are in APIError.Errors.
	ErrInvalidRequest error = ErrorCode("INVALID_REQUEST")
	// ErrBusinessError (403 BUSINESS_ERROR): the wrapper code of business
	// rule errors; the specific codes are in APIError.Errors.
	ErrBusinessError error = ErrorCode("BUSINESS_ERROR")
	// ErrInvalidDateFrom (400 INVALID_DATE_FROM): obligations "from" is
	// missing or invalid.
	ErrInvalidDateFrom error = ErrorCode("INVALID_DATE_FROM")
	// ErrInvalidDateTo (400 INVALID_DATE_TO): obligations "to" is missing or
	// invalid.
	ErrInvalidDateTo error = ErrorCode("INVALID_DATE_TO")
	// ErrInvalidStatus (400 INVALID_STATUS): obligations status is not O or F.
	ErrInvalidStatus error = ErrorCode("INVALID_STATUS")
	// ErrInvalidDateRange (400 INVALID_DATE_RANGE): obligations "from" is not
	// before "to", or the range is longer than a year.
	ErrInvalidDateRange error = ErrorCode("INVALID_DATE_RANGE")
	// ErrMissingDateRange (400 MISSING_DATE_RANGE): fulfilled obligations were
	// requested without dates.
	ErrMissingDateRange error = ErrorCode("MISSING_DATE_RANGE")
	// ErrDateFromInvalid (400 DATE_FROM_INVALID): liabilities or payments
	// "from" is missing, invalid or before 2016-04-06.
	ErrDateFromInvalid error = ErrorCode("DATE_FROM_INVALID")
	// ErrDateToInvalid (400 DATE_TO_INVALID): liabilities or payments "to" is
	// missing, invalid or in the future.
	ErrDateToInvalid error = ErrorCode("DATE_TO_INVALID")
	// ErrDateRangeInvalid (400 DATE_RANGE_INVALID): liabilities or payments
	// "from" is not before "to", or the range is a year or longer.
	ErrDateRangeInvalid error = ErrorCode("DATE_RANGE_INVALID")
	// ErrDateRangeTooLarge (400 or 403 DATE_RANGE_TOO_LARGE): the period is
	// more than four years before the current date.
	ErrDateRangeTooLarge error = ErrorCode("DATE_RANGE_TOO_LARGE")
	// ErrInvalidData (400 INVALID_DATA).
	ErrInvalidData error = ErrorCode("INVALID_DATA")
	// ErrTaxPeriodNotEnded (403 TAX_PERIOD_NOT_ENDED): the period of the
	// return has not ended yet.
	ErrTaxPeriodNotEnded error = ErrorCode("TAX_PERIOD_NOT_ENDED")
	// ErrDuplicateSubmission (403 DUPLICATE_SUBMISSION): a return was already
	// accepted for the period.
	ErrDuplicateSubmission error = ErrorCode("DUPLICATE_SUBMISSION")
	// ErrNotFinalised (403 NOT_FINALISED): the return was not declared final.
	ErrNotFinalised error = ErrorCode("NOT_FINALISED")
	// ErrPeriodKeyInvalid (400 PERIOD_KEY_INVALID).
	ErrPeriodKeyInvalid error = ErrorCode("PERIOD_KEY_INVALID")
	// ErrVATTotalValue (400 VAT_TOTAL_VALUE): box 3 is not box 1 + box 2.
	ErrVATTotalValue error = ErrorCode("VAT_TOTAL_VALUE")
	// ErrVATNetValue (400 VAT_NET_VALUE): box 5 is not |box 3 - box 4|.
	ErrVATNetValue error = ErrorCode("VAT_NET_VALUE")
	// ErrMandatoryFieldMissing (400 MANDATORY_FIELD_MISSING).
	ErrMandatoryFieldMissing error = ErrorCode("MANDATORY_FIELD_MISSING")
	// ErrInvalidNumericValue (400 INVALID_NUMERIC_VALUE).
	ErrInvalidNumericValue error = ErrorCode("INVALID_NUMERIC_VALUE")
	// ErrInvalidStringValue (400 INVALID_STRING_VALUE): for example a period
	// key sent as a JSON number.
	ErrInvalidStringValue error = ErrorCode("INVALID_STRING_VALUE")
	// ErrUnmappedPlayError (400 UNMAPPED_PLAY_ERROR): for example a
	// non-boolean "finalised".
	ErrUnmappedPlayError error = ErrorCode("UNMAPPED_PLAY_ERROR")
	// ErrInvalidMonetaryAmount (400 INVALID_MONETARY_AMOUNT): a box is out of
	// range, has more than two decimal places, or (boxes 6-9) has pence.
	ErrInvalidMonetaryAmount error = ErrorCode("INVALID_MONETARY_AMOUNT")
)

// statusCodeOf gives the HTTP status that a code-less error body must have to
// match a sentinel: View VAT Return answers 404 with an empty body, and
// gateways answer 429, 500, 503 or 504 with pages that are not HMRC's JSON.
func statusCodeOf(c ErrorCode) int {
	switch c {
	case "NOT_FOUND":
		return http.StatusNotFound
	case "MESSAGE_THROTTLED_OUT":
		return http.StatusTooManyRequests
	case "INTERNAL_SERVER_ERROR":
		return http.StatusInternalServerError
	case "SERVICE_UNAVAILABLE":
		return http.StatusServiceUnavailable
	case "GATEWAY_TIMEOUT":
		return http.StatusGatewayTimeout
	}
	return 0
}

// FieldError is one problem with a request: an entry of the errors[] array
// of HMRC's error bodies, or a problem found before sending.
type FieldError struct {
	// Code is HMRC's code for the problem, for example
	// "INVALID_MONETARY_AMOUNT".
	Code string `json:"code"`
	// Message is HMRC's description, or this package's for local checks.
	Message string `json:"message"`
	// Path names the field: a JSON pointer into the request body such as
	// "/vatDueSales", or the name of a path or query parameter such as "vrn"
	// or "from". It is empty when HMRC gives none.
	Path string `json:"path,omitempty"`
}

// String formats f as "path: CODE: message".
func (f FieldError) String() string {
	var b strings.Builder
	if f.Path != "" {
		b.WriteString(f.Path)
		b.WriteString(": ")
	}
	b.WriteString(f.Code)
	if f.Message != "" {
		b.WriteString(": ")
		b.WriteString(f.Message)
	}
	return b.String()
}

// APIError is HMRC's answer to a request that failed with an HTTP status of
// 400 or more, or with a status the endpoint does not answer on success: a
// redirect that was not followed (3xx: see WithHTTPClient), or a 2xx other
// than the endpoint's documented one. It decodes every body shape HMRC's services send: a simple
// {code, message}; a wrapper (INVALID_REQUEST or BUSINESS_ERROR) whose real
// codes are in Errors; the legacy {"statusCode":400,"message":"CODE"} form,
// whose message is the code; an empty body; and bodies that are not JSON
// (a gateway's HTML page), kept in RawBody.
//
// Use errors.Is with the Err… sentinels (or an ErrorCode) to classify it, and
// errors.As to read its fields.
type APIError struct {
	// StatusCode is the HTTP status, for example 403.
	StatusCode int
	// Code is the top-level code HMRC sent, or the message of the legacy
	// {"statusCode","message"} form. It is empty when the body had none.
	Code string
	// Message is HMRC's human-readable message.
	Message string
	// Errors holds the nested errors of a wrapper body, in HMRC's order.
	Errors []FieldError
	// CorrelationID is the X-CorrelationId response header, HMRC's reference
	// for the request. Quote it when asking HMRC for help.
	CorrelationID string
	// Method and Path are the request's method and escaped URL path.
	Method, Path string
	// RawBody holds up to 2 KiB of a body that was not HMRC's JSON, for
	// diagnosis. It is nil for JSON and empty bodies.
	RawBody []byte
	// RetryAfter is the delay the Retry-After header asked for, if any.
	RetryAfter time.Duration
	// Attempts is the number of times the request was sent.
	Attempts int
}

// Codes returns the specific codes of e: the nested codes of a wrapper body,
// or the top-level code. It returns nil when the body carried no code.
func (e *APIError) Codes() []string {
	if len(e.Errors) > 0 {
		out := make([]string, 0, len(e.Errors))
		for _, fe := range e.Errors {
			out = append(out, fe.Code)
		}
		return out
	}
	if e.Code != "" {
		return []string{e.Code}
	}
	return nil
}

// Error returns one line: method, path, status, the specific codes and the
// first message. It never contains headers, tokens or request data.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("vat: ")
	if e.Method != "" {
		b.WriteString(e.Method)
		b.WriteByte(' ')
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	codes, msg := e.Codes(), e.Message
	if len(e.Errors) > 0 {
		msg = e.Errors[0].Message
	}
	switch {
	case len(codes) > 0:
		b.WriteByte(' ')
		b.WriteString(oneLine(strings.Join(codes, ", ")))
	case e.RawBody != nil:
		b.WriteString(" (body is not HMRC's JSON)")
	case msg == "":
		b.WriteString(" (empty body)")
	}
	if msg != "" && (len(codes) != 1 || msg != codes[0]) {
		b.WriteString(": ")
		b.WriteString(oneLine(truncate(msg, 200)))
		if len(e.Errors) > 1 {
			fmt.Fprintf(&b, " (and %d more)", len(e.Errors)-1)
		}
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	return b.String()
}

// Is reports whether target is an ErrorCode equal to e's top-level code or
// to any nested code. A body without a code matches the sentinel of its
// status (ErrNotFound for 404, ErrThrottled for 429, ErrInternalServerError
// for 500, ErrServiceUnavailable for 503, ErrGatewayTimeout for 504), and any
// 429 matches ErrThrottled.
func (e *APIError) Is(target error) bool {
	c, ok := target.(ErrorCode)
	if !ok || c == "" {
		return false
	}
	if string(c) == e.Code {
		return true
	}
	for _, fe := range e.Errors {
		if string(c) == fe.Code {
			return true
		}
	}
	s := statusCodeOf(c)
	return s != 0 && s == e.StatusCode && (e.Code == "" || s == http.StatusTooManyRequests)
}

// redact replaces secrets quoted by the server in e's text fields: HMRC's
// services do not echo requests, but a proxy or a gateway page might.
func (e *APIError) redact(secrets []string) {
	if len(secrets) == 0 {
		return
	}
	e.Code = redact(e.Code, secrets)
	e.Message = redact(e.Message, secrets)
	for i := range e.Errors {
		e.Errors[i].Code = redact(e.Errors[i].Code, secrets)
		e.Errors[i].Message = redact(e.Errors[i].Message, secrets)
		e.Errors[i].Path = redact(e.Errors[i].Path, secrets)
	}
	if e.RawBody != nil {
		e.RawBody = []byte(redact(string(e.RawBody), secrets))
	}
}

// errorBody is the union of HMRC's error body shapes.
type errorBody struct {
	Code       string       `json:"code"`
	Message    string       `json:"message"`
	StatusCode int          `json:"statusCode"`
	Errors     []FieldError `json:"errors"`
	// OAuth 2.0 (RFC 6749) error bodies.
	OAuthError       string `json:"error"`
	ErrorDescription string `json:"error_description"`
}

const maxRawBody = 2 << 10

// newAPIError decodes an error response. It never fails: whatever the body,
// the status and correlation ID are kept.
func newAPIError(method, path string, status int, h http.Header, body []byte, now time.Time) *APIError {
	e := &APIError{
		StatusCode:    status,
		CorrelationID: h.Get("X-CorrelationId"),
		Method:        method,
		Path:          path,
		RetryAfter:    parseRetryAfter(h.Get("Retry-After"), now),
	}
	defer func() {
		if loc := redirectTarget(h); status >= 300 && status < 400 && loc != "" {
			e.Message = "redirect to " + loc
		}
	}()
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return e
	}
	var eb errorBody
	if trimmed[0] == '{' && json.Unmarshal(trimmed, &eb) == nil {
		switch {
		case eb.Code != "":
			e.Code, e.Message, e.Errors = eb.Code, eb.Message, eb.Errors
			return e
		case eb.StatusCode != 0 && eb.Message != "":
			// Legacy shape: the message is the code when it looks like one.
			e.Message = eb.Message
			if isCode(eb.Message) {
				e.Code = eb.Message
			}
			return e
		case eb.OAuthError != "":
			e.Code, e.Message = eb.OAuthError, eb.ErrorDescription
			return e
		}
	}
	raw := trimmed
	if len(raw) > maxRawBody {
		raw = raw[:maxRawBody]
	}
	e.RawBody = append([]byte(nil), raw...)
	if mt, _, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil && mt != "" {
		e.Message = "response of type " + mt
	}
	return e
}

// redirectTarget returns the Location of a redirect without its query and
// fragment, which could carry anything.
func redirectTarget(h http.Header) string {
	loc := h.Get("Location")
	if loc == "" {
		return ""
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "(unreadable Location)"
	}
	u.RawQuery, u.Fragment, u.User = "", "", nil
	return truncate(u.String(), 200)
}

// oneLine replaces control characters so that text from a response cannot
// break an error message into several lines.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// isCode reports whether s looks like an HMRC code: upper-case letters,
// digits and underscores.
func isCode(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') && c != '_' {
			return false
		}
	}
	return s != ""
}

// parseRetryAfter reads a Retry-After header in either of its forms: a number
// of seconds or an HTTP date. It returns 0 when the header is absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs <= 0 || secs > 1<<31 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// ValidationError lists every problem found in a request before it was
// sent; nothing was sent. Each problem carries HMRC's code where HMRC has one
// (so errors.Is(err, vat.ErrVATTotalValue) works the same before and after
// sending) and the path of the field.
type ValidationError struct {
	// Op names the call that was refused, for example "SubmitReturn".
	Op string
	// Problems lists every problem found, in field order.
	Problems []FieldError
}

// Error returns one line naming the call, the first problem and how many
// others there are.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("vat: ")
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString("request not sent: ")
	if len(e.Problems) == 0 {
		b.WriteString("invalid input")
		return b.String()
	}
	b.WriteString(e.Problems[0].String())
	if n := len(e.Problems) - 1; n > 0 {
		fmt.Fprintf(&b, " (and %d more)", n)
	}
	return b.String()
}

// Is reports whether target is an ErrorCode of one of e's problems.
func (e *ValidationError) Is(target error) bool {
	c, ok := target.(ErrorCode)
	if !ok {
		return false
	}
	for _, p := range e.Problems {
		if p.Code == string(c) {
			return true
		}
	}
	return false
}

// problems collects FieldErrors while validating.
type problems []FieldError

func (p *problems) add(path, code, format string, args ...any) {
	*p = append(*p, FieldError{Code: code, Message: fmt.Sprintf(format, args...), Path: path})
}

// validate runs checks and returns a *ValidationError for op listing every
// problem they found, or nil.
func validate(op string, checks ...func(*problems)) error {
	var p problems
	for _, check := range checks {
		check(&p)
	}
	if len(p) == 0 {
		return nil
	}
	return &ValidationError{Op: op, Problems: p}
}

// DecodeError reports a response whose body could not be read whole (the
// connection was lost part way, or the body is over 1 MiB) or, for a
// successful status, could not be decoded. The request reached HMRC;
// StatusCode and CorrelationID say how it ended. An error status (400 or
// more) whose body was cut short is a DecodeError, not an *APIError: what
// arrived of the body is never read as if it were whole.
type DecodeError struct {
	// StatusCode is the HTTP status of the response, for example 200.
	StatusCode int
	// CorrelationID is the X-CorrelationId response header.
	CorrelationID string
	// Method and Path are the request's method and escaped URL path.
	Method, Path string
	// Err says what was wrong with the body.
	Err error
}

// Error returns one line naming the request, the status and the cause.
func (e *DecodeError) Error() string {
	s := fmt.Sprintf("vat: %s %s: %d response body: %v", e.Method, e.Path, e.StatusCode, e.Err)
	if e.CorrelationID != "" {
		s += " (correlation ID " + e.CorrelationID + ")"
	}
	return s
}

// Unwrap returns the cause.
func (e *DecodeError) Unwrap() error { return e.Err }

// TransportError reports a request that got no HTTP response: the
// connection could not be opened or was lost, or the request timed out or
// was cancelled. When retries were made, it is the failure of the last
// attempt. errors.Is sees through it to the cause (context.DeadlineExceeded,
// a *net.OpError, io.EOF, …).
type TransportError struct {
	// Method and Path are the request's method and escaped URL path.
	Method, Path string
	// Attempts is the number of times the request was sent.
	Attempts int
	// Err is the cause of the last attempt's failure.
	Err error
	// unwritten is true when writing the request to the connection failed,
	// so the server cannot have received it whole.
	unwritten bool
}

// Error returns one line: method, path, cause and the number of attempts.
func (e *TransportError) Error() string {
	s := "vat: " + e.Method + " " + e.Path + ": " + e.Err.Error()
	if e.Attempts > 1 {
		s += " (after " + strconv.Itoa(e.Attempts) + " attempts)"
	}
	return s
}

// Unwrap returns the cause.
func (e *TransportError) Unwrap() error { return e.Err }

// retryCanceledError reports a call that failed and was not tried again
// because its context ended: it was cancelled, or its deadline passed, or
// the deadline would have passed before the next attempt could begin (the
// Client does not begin a wait it cannot finish). Both stay visible:
// errors.As finds the last attempt's failure (an *APIError, a
// *TransportError, a *DecodeError), and errors.Is matches the context's
// error (context.Canceled or context.DeadlineExceeded).
type retryCanceledError struct {
	// Err is the failure of the last attempt.
	Err error
	// Cause is why no further attempt was made; it matches context.Canceled
	// or context.DeadlineExceeded.
	Cause error
}

// Error returns the last attempt's failure followed by why the Client
// stopped retrying.
func (e *retryCanceledError) Error() string {
	return e.Err.Error() + " (not retried: " + e.Cause.Error() + ")"
}

// Unwrap returns the last attempt's failure and the cause.
func (e *retryCanceledError) Unwrap() []error { return []error{e.Err, e.Cause} }

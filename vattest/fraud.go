package vattest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
	"strings"
	"time"
)

// fraudAPIs are the {api} values of validation-feedback (HMRC's OAS enum).
var fraudAPIs = map[string]bool{
	"business-details-mtd": true, "business-income-source-summary-mtd": true, "business-source-adjustable-summary-mtd": true,
	"cis-deductions-mtd": true, "individual-calculations-mtd": true, "individual-losses-mtd": true,
	"individuals-business-end-of-period-statement-mtd": true, "individuals-charges-mtd": true,
	"individuals-disclosures-mtd": true, "individuals-expenses-mtd": true, "individuals-income-received-mtd": true,
	"individuals-reliefs-mtd": true, "individuals-state-benefits-mtd": true, "obligations-mtd": true,
	"other-deductions-mtd": true, "property-business-mtd": true, "self-assessment-mtd": true,
	"self-assessment-accounts-mtd": true, "self-assessment-assist-mtd": true, "self-employment-business-mtd": true,
	"vat-mtd": true, "individuals-capital-gains-income-mtd": true, "individuals-dividends-income-mtd": true,
	"individuals-employments-income-mtd": true, "individuals-foreign-income-mtd": true,
	"individuals-insurance-policies-income-mtd": true, "individuals-other-income-mtd": true,
	"individuals-pensions-income-mtd": true, "individuals-savings-income-mtd": true,
	"self-assessment-individual-details-mtd": true,
}

// fraudRecord is the latest request of an application to one endpoint.
type fraudRecord struct {
	path, method string
	at           time.Time
	headers      http.Header
}

// noteFraudHeaders keeps the headers of a VAT request for validation-feedback.
func (s *Server) noteFraudHeaders(c *call) {
	if s.cfg.validator == nil {
		return
	}
	rec := fraudRecord{path: c.r.URL.EscapedPath(), method: c.r.Method, at: c.now, headers: govHeaders(c.r.Header)}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lastFraud[c.tok.clientID]
	if m == nil {
		m = map[string]fraudRecord{}
		s.lastFraud[c.tok.clientID] = m
	}
	m[c.route.key] = rec
}

// fraudAPI is HMRC's Test Fraud Prevention Headers API, answered by the
// configured validator.
func (s *Server) fraudAPI(c *call) {
	if c.route.ep == epFraudValidate {
		_, body := s.cfg.validator(govHeaders(c.r.Header))
		writeJSON(c.w, http.StatusOK, body)
		return
	}
	var recs []fraudRecord
	if c.param == "vat-mtd" {
		method, filter := query(c.r.URL.Query(), "connectionMethod")
		s.mu.Lock()
		for _, rec := range s.lastFraud[c.tok.clientID] {
			if !filter || rec.headers.Get("Gov-Client-Connection-Method") == method {
				recs = append(recs, rec)
			}
		}
		s.mu.Unlock()
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].at.Before(recs[j].at) })
	out := feedbackWire{Requests: make([]requestFeedbackWire, 0, len(recs))}
	for _, rec := range recs {
		valid, body := s.cfg.validator(rec.headers)
		item, spec := feedbackFor(rec, valid, body)
		if spec != "" {
			out.SpecVersion = spec
		}
		out.Requests = append(out.Requests, item)
	}
	b, err := marshalNoEscape(out)
	if err != nil {
		writeJSON(c.w, http.StatusInternalServerError, bodyInternalError)
		return
	}
	writeJSON(c.w, http.StatusOK, b)
}

// The answer of validation-feedback, in the shape HMRC documents: one item
// per request, with a verdict per header and the cross-header checks.
type (
	feedbackWire struct {
		SpecVersion string                `json:"specVersion,omitempty"`
		Requests    []requestFeedbackWire `json:"requests"`
	}
	requestFeedbackWire struct {
		Path             string               `json:"path"`
		Method           string               `json:"method"`
		RequestTimestamp string               `json:"requestTimestamp"`
		Code             string               `json:"code"`
		Headers          []headerFeedbackWire `json:"headers"`
		CrossValidation  []crossFeedbackWire  `json:"crossValidation"`
	}
	headerFeedbackWire struct {
		Header   string   `json:"header"`
		Value    *string  `json:"value,omitempty"`
		Code     string   `json:"code"`
		Errors   []string `json:"errors"`
		Warnings []string `json:"warnings"`
	}
	crossFeedbackWire struct {
		Headers []string `json:"headers"`
		Code    string   `json:"code"`
		Errors  []string `json:"errors"`
	}
	// validateWire is the /validate answer a validator gives.
	validateWire struct {
		SpecVersion string        `json:"specVersion"`
		Code        string        `json:"code"`
		Errors      []findingWire `json:"errors"`
		Warnings    []findingWire `json:"warnings"`
	}
	findingWire struct {
		Code    string   `json:"code"`
		Message string   `json:"message"`
		Headers []string `json:"headers"`
	}
)

// feedbackFor turns the validator's answer on one recorded request into a
// validation-feedback item: each finding about one header goes to that
// header, findings about several go to crossValidation. It also returns the
// answer's specVersion. Both lists are always present, as HMRC's OpenAPI
// requires; when the request carries all three headers of the
// Gov-Vendor-Forwarded cross-check and the validator found no fault with
// them, the check is listed as passed (VALID_HEADERS), as in HMRC's answers.
func feedbackFor(rec fraudRecord, valid bool, body []byte) (requestFeedbackWire, string) {
	item := requestFeedbackWire{Path: rec.path, Method: rec.method, RequestTimestamp: rec.at.UTC().Format("2006-01-02T15:04:05.000Z"),
		Headers: []headerFeedbackWire{}, CrossValidation: []crossFeedbackWire{}}
	var v validateWire
	if err := json.Unmarshal(body, &v); err != nil || v.Code == "" {
		item.Code = "INVALID_HEADERS"
		if valid {
			item.Code = "VALID_HEADERS"
		}
		return item, ""
	}
	item.Code = v.Code
	if len(rec.headers) == 0 {
		item.Code = "NO_HEADERS"
	}
	byName := map[string]*headerFeedbackWire{}
	header := func(name string) *headerFeedbackWire {
		if h := byName[name]; h != nil {
			return h
		}
		h := &headerFeedbackWire{Header: name, Code: "VALID_HEADER", Errors: []string{}, Warnings: []string{}}
		byName[name] = h
		return h
	}
	for k, vals := range rec.headers {
		h := header(strings.ToLower(k))
		val := strings.Join(vals, ",")
		h.Value = &val
		if strings.EqualFold(k, "Gov-Test-Scenario") {
			h.Code = "TEST_SCENARIO_HEADER"
		}
	}
	add := func(f findingWire, isErr bool) {
		if len(f.Headers) != 1 {
			if isErr {
				item.CrossValidation = append(item.CrossValidation, crossFeedbackWire{Headers: f.Headers, Code: "INVALID_HEADERS", Errors: []string{f.Message}})
			}
			return
		}
		h := header(f.Headers[0])
		switch {
		case isErr:
			h.Errors = append(h.Errors, f.Message)
		default:
			h.Warnings = append(h.Warnings, f.Message)
		}
		switch {
		case f.Code == "MISSING_HEADER" || f.Code == "UNEXPECTED_HEADER":
			h.Code = f.Code
		case isErr && h.Code != "MISSING_HEADER":
			h.Code = "INVALID_HEADER"
		case !isErr && h.Code == "VALID_HEADER":
			h.Code = "POTENTIALLY_INVALID_HEADER"
		}
	}
	for _, f := range v.Errors {
		add(f, true)
	}
	for _, f := range v.Warnings {
		add(f, false)
	}
	if len(item.CrossValidation) == 0 && rec.headers.Get("Gov-Vendor-Forwarded") != "" &&
		rec.headers.Get("Gov-Vendor-Public-IP") != "" && rec.headers.Get("Gov-Client-Public-IP") != "" {
		item.CrossValidation = append(item.CrossValidation, crossFeedbackWire{Headers: forwardedCheck, Code: "VALID_HEADERS", Errors: []string{}})
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		item.Headers = append(item.Headers, *byName[n])
	}
	return item, v.SpecVersion
}

// forwardedCheck names the headers of the Gov-Vendor-Forwarded cross-check,
// in HMRC's order.
var forwardedCheck = []string{"gov-vendor-forwarded", "gov-vendor-public-ip", "gov-client-public-ip"}

// marshalNoEscape encodes v as HMRC does, without escaping <, > and &.
func marshalNoEscape(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func appendJSON(b []byte, v any) ([]byte, error) {
	x, err := json.Marshal(v)
	return append(b, x...), err
}

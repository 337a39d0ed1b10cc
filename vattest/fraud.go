package vattest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"sort"
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
	var specVersion []byte
	items := make([]json.RawMessage, 0, len(recs))
	for _, rec := range recs {
		valid, body := s.cfg.validator(rec.headers)
		item := []byte(`{"path":`)
		item, _ = appendJSON(item, rec.path)
		item = append(item, `,"method":`...)
		item, _ = appendJSON(item, rec.method)
		item = append(item, `,"requestTimestamp":"`...)
		item = append(rec.at.AppendFormat(item, "2006-01-02T15:04:05.000Z"), '"')
		members, ok := objectMembers(body)
		if !ok {
			code := "INVALID_HEADERS"
			if valid {
				code = "VALID_HEADERS"
			}
			members = []member{{"code", json.RawMessage(`"` + code + `"`)}}
		}
		for _, m := range members {
			if m.name == "specVersion" {
				specVersion = m.value
				continue
			}
			item = append(item, ',')
			item, _ = appendJSON(item, m.name)
			item = append(append(item, ':'), m.value...)
		}
		items = append(items, append(item, '}'))
	}
	out := []byte("{")
	if specVersion != nil {
		out = append(append(append(out, `"specVersion":`...), specVersion...), ',')
	}
	out = append(out, `"requests":[`...)
	for i, it := range items {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, it...)
	}
	writeJSON(c.w, http.StatusOK, append(out, "]}"...))
}

type member struct {
	name  string
	value json.RawMessage
}

// objectMembers returns the members of a JSON object in their order.
func objectMembers(body []byte) ([]member, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var out []member
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, false
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, v); err != nil {
			return nil, false
		}
		out = append(out, member{t.(string), buf.Bytes()})
	}
	return out, true
}

func appendJSON(b []byte, v any) ([]byte, error) {
	x, err := json.Marshal(v)
	return append(b, x...), err
}

package vattest

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/go-mtd/vat/vattest/internal/civil"
	"github.com/go-mtd/vat/vattest/internal/decimal"
)

// amount is money in pence, written as HMRC's service writes a BigDecimal.
type amount int64

func (a amount) MarshalJSON() ([]byte, error) { return decimal.AppendPence(nil, int64(a)), nil }

// day is a date written as "YYYY-MM-DD".
type day civil.Date

func (d day) MarshalJSON() ([]byte, error) {
	b := append(make([]byte, 0, 12), '"')
	return append(civil.Date(d).Append(b), '"'), nil
}

func writeValue(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, bodyInternalError)
		return
	}
	writeJSON(w, status, b)
}

// vatAPI is HMRC's VAT service behind the gateway: the submit body is
// parsed first (as Play's JSON body parser does, before the controller), then
// the VRN (400 VRN_INVALID) and the enrolment (403
// CLIENT_OR_AGENT_NOT_AUTHORISED) are checked without API headers; every
// later answer carries X-CorrelationId and X-Content-Type-Options.
func (s *Server) vatAPI(c *call) {
	var body any
	if c.route.ep == epSubmitReturn {
		var ok bool
		if body, ok = readJSONBody(c.w, c.r); !ok {
			return
		}
	}
	if !vrnPattern.MatchString(c.vrn) {
		writeJSON(c.w, http.StatusBadRequest, bodyVRNInvalid)
		return
	}
	s.mu.Lock()
	u := s.users[c.tok.userID]
	allowed := u != nil && u.clients[c.vrn]
	s.mu.Unlock()
	if !allowed {
		writeJSON(c.w, http.StatusForbidden, bodyNotAuthorised)
		return
	}
	h := c.w.Header()
	h["X-CorrelationId"] = []string{s.rnd.uuid()}
	h["X-Content-Type-Options"] = []string{"nosniff"}
	switch c.route.ep {
	case epObligations:
		s.obligations(c)
	case epSubmitReturn:
		h["Receipt-ID"] = []string{s.rnd.uuid()}
		h["Receipt-Timestamp"] = []string{c.now.Format("2006-01-02T15:04:05Z")}
		s.submitReturn(c, body)
	case epViewReturn:
		s.viewReturn(c)
	case epLiabilities:
		s.liabilities(c)
	case epPayments:
		s.payments(c)
	case epPenalties:
		s.penalties(c)
	case epFinancialDetails:
		s.financialDetails(c)
	case epInformation:
		s.information(c)
	}
}

// query returns the first value of a query parameter and whether it is present.
func query(q url.Values, name string) (string, bool) {
	v, ok := q[name]
	if !ok || len(v) == 0 {
		return "", false
	}
	return v[0], true
}

// obligationsQuery validates the query in vat-api's order (notes §9.1) and
// returns the legacy error code, if any.
func obligationsQuery(r *http.Request) (from, to civil.Date, status string, hasDates bool, code string) {
	q := r.URL.Query()
	fromS, hasFrom := query(q, "from")
	toS, hasTo := query(q, "to")
	status, hasStatus := query(q, "status")
	switch {
	case !hasFrom && !hasTo && hasStatus:
		switch status {
		case "O":
			return from, to, status, false, ""
		case "F":
			return from, to, status, false, "MISSING_DATE_RANGE"
		}
		return from, to, status, false, "INVALID_STATUS"
	case !hasFrom && !hasTo, !hasFrom:
		return from, to, status, false, "INVALID_DATE_FROM"
	case !hasTo:
		return from, to, status, false, "INVALID_DATE_TO"
	}
	var ok bool
	if from, ok = civil.Parse(fromS); !ok {
		return from, to, status, true, "INVALID_DATE_FROM"
	}
	if to, ok = civil.Parse(toS); !ok {
		return from, to, status, true, "INVALID_DATE_TO"
	}
	if hasStatus && status != "O" && status != "F" {
		return from, to, status, true, "INVALID_STATUS"
	}
	if !from.Before(to) || from.AddYears(1).Before(to) {
		return from, to, status, true, "INVALID_DATE_RANGE"
	}
	return from, to, status, true, ""
}

// appendObligation writes one obligation as HMRC does: start, end, due,
// status, periodKey and, once fulfilled, received.
func appendObligation(b []byte, ob *obligation) []byte {
	b = append(b, `{"start":"`...)
	b = ob.start.Append(b)
	b = append(b, `","end":"`...)
	b = ob.end.Append(b)
	b = append(b, `","due":"`...)
	b = ob.due.Append(b)
	if ob.received.IsZero() {
		b = append(b, `","status":"O","periodKey":`...)
		b, _ = appendJSON(b, ob.key)
		return append(b, '}')
	}
	b = append(b, `","status":"F","periodKey":`...)
	b, _ = appendJSON(b, ob.key)
	b = append(b, `,"received":"`...)
	b = ob.received.Append(b)
	return append(b, `"}`...)
}

// writeObligations answers 200 with obs, or 404 when there are none.
func writeObligations(w http.ResponseWriter, obs []*obligation) {
	if len(obs) == 0 {
		writeJSON(w, http.StatusNotFound, bodyLegacyNotFound)
		return
	}
	b := make([]byte, 0, 32+128*len(obs))
	b = append(b, `{"obligations":[`...)
	for i, ob := range obs {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendObligation(b, ob)
	}
	writeJSON(w, http.StatusOK, append(b, "]}"...))
}

func (s *Server) obligations(c *call) {
	from, to, status, hasDates, code := obligationsQuery(c.r)
	if code != "" {
		writeJSON(c.w, http.StatusBadRequest, legacy(code))
		return
	}
	if c.scenario != "" {
		s.obligationsScenario(c)
		return
	}
	o := s.lockOrg(c)
	if o == nil {
		return
	}
	out := make([]*obligation, 0, len(o.obligations))
	for _, ob := range o.obligations {
		if status == "O" && !ob.received.IsZero() || status == "F" && ob.received.IsZero() {
			continue
		}
		if hasDates && (ob.start.After(to) || ob.end.Before(from)) {
			continue
		}
		cp := *ob
		out = append(out, &cp)
	}
	s.mu.Unlock()
	writeObligations(c.w, out)
}

// unmappedOrInsolvent answers for an organisation without state (an agent's
// client removed since) or an insolvent one.
// lockOrg locks the server and returns the organisation of c's VRN, or
// answers for it (unknown or insolvent), unlocks and returns nil.
func (s *Server) lockOrg(c *call) *organisation {
	s.mu.Lock()
	o := s.orgs[c.vrn]
	if o == nil || o.insolvent {
		s.mu.Unlock()
		s.unmappedOrInsolvent(c, o)
		return nil
	}
	return o
}

func (s *Server) unmappedOrInsolvent(c *call, o *organisation) {
	if o == nil {
		writeJSON(c.w, http.StatusNotFound, bodyLegacyNotFound)
		return
	}
	switch c.route.ep {
	case epPenalties, epFinancialDetails, epInformation:
		writeJSON(c.w, http.StatusInternalServerError, bodyInternalError)
	default:
		writeJSON(c.w, http.StatusForbidden, bodyInsolventTrader)
	}
}

func (s *Server) obligationsScenario(c *call) {
	switch c.scenario {
	case "INSOLVENT_TRADER":
		writeJSON(c.w, http.StatusForbidden, bodyInsolventTrader)
		return
	case "NOT_FOUND":
		writeJSON(c.w, http.StatusNotFound, bodyLegacyNotFound)
		return
	}
	obs := scenarioObligations(c.scenario)
	if obs == nil {
		writeJSON(c.w, http.StatusBadRequest, bodyIncorrectScenario)
		return
	}
	writeObligations(c.w, obs)
}

// scenarioObligations builds the canned obligations of a Gov-Test-Scenario
// (notes §9.1); nil for an unknown scenario. Like HMRC's sandbox, they ignore
// the query's dates and status. QUARTERLY_n_MET and MONTHLY_n_MET list n
// fulfilled periods of 2017 and the next one open, so that the ONE_MET
// scenarios are exactly HMRC's two OpenAPI examples; the 2018 scenarios
// list the year's periods up to the open one.
func scenarioObligations(name string) []*obligation {
	mk := func(year, firstMonth, months, n, fulfilled int, keys []string) []*obligation {
		out := make([]*obligation, n)
		for i := range out {
			start := civil.Date{Year: year, Month: 1, Day: 1}.AddMonths(firstMonth - 1 + i*months)
			end := start.AddMonths(months).AddDays(-1)
			ob := &obligation{key: keys[i], start: start, end: end, due: dueDate(end)}
			if i < fulfilled {
				ob.received = ob.due.AddDays(-1)
			}
			out[i] = ob
		}
		return out
	}
	q2017 := []string{"18A1", "18A2", "18A3", "18A4"}
	m2017 := []string{"18AD", "18AE", "18AF", "18AG"}
	q2018 := []string{"18C1", "18C2", "18C3", "18C4"}
	m2018 := []string{"18MA", "18MB", "18MC", "18MD", "18ME", "18MF", "18MG", "18MH", "18MI", "18MJ", "18MK", "18ML"}
	met := map[string]int{"NONE": 0, "ONE": 1, "TWO": 2, "THREE": 3, "FOUR": 4}
	if rest, ok := strings.CutPrefix(name, "QUARTERLY_"); ok {
		if n, ok := met[strings.TrimSuffix(rest, "_MET")]; ok && strings.HasSuffix(rest, "_MET") {
			return mk(2017, 1, 3, min(n+1, 4), n, q2017)
		}
	}
	if rest, ok := strings.CutPrefix(name, "MONTHLY_"); ok {
		if n, ok := met[strings.TrimSuffix(rest, "_MET")]; ok && n <= 3 && strings.HasSuffix(rest, "_MET") {
			return mk(2017, 1, 1, n+1, n, m2017)
		}
	}
	if rest, ok := strings.CutPrefix(name, "MONTHLY_OBS_"); ok && len(rest) > 3 {
		n := twoDigits(rest[:2])
		switch rest[2:] {
		case "_OPEN":
			if n >= 1 && n <= 12 {
				return mk(2018, 1, 1, n, n-1, m2018)
			}
		case "_FULFILLED":
			if n == 12 {
				return mk(2018, 1, 1, 12, 12, m2018)
			}
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(name, "QUARTERLY_OBS_"); ok && len(rest) > 3 {
		n := twoDigits(rest[:2])
		switch rest[2:] {
		case "_OPEN":
			if n >= 1 && n <= 4 {
				return mk(2018, 1, 3, n, n-1, q2018)
			}
		case "_FULFILLED":
			if n == 4 {
				return mk(2018, 1, 3, 4, 4, q2018)
			}
		}
		return nil
	}
	switch name {
	case "MULTIPLE_OPEN_MONTHLY":
		return mk(2018, 1, 1, 3, 1, m2018)
	case "MULTIPLE_OPEN_QUARTERLY":
		return mk(2018, 1, 3, 3, 1, q2018)
	case "OBS_SPANS_MULTIPLE_YEARS":
		return mk(2018, 11, 3, 1, 0, []string{"18B4"})
	}
	return nil
}

func twoDigits(s string) int {
	if len(s) != 2 || s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9' {
		return -1
	}
	return int(s[0]-'0')*10 + int(s[1]-'0')
}

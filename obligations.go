package vat

import "context"

// ObligationStatus is the status of a VAT obligation: open (no return yet)
// or fulfilled (a return was received).
type ObligationStatus string

const (
	// ObligationOpen ("O") is an obligation whose return is still to be filed.
	ObligationOpen ObligationStatus = "O"
	// ObligationFulfilled ("F") is an obligation whose return was received.
	ObligationFulfilled ObligationStatus = "F"
)

// ObligationsQuery selects obligations. From and To are needed unless Status
// is ObligationOpen; when given, From must be before To and the range at most
// one year (To ≤ From plus one year). Zero fields are left out of the query.
type ObligationsQuery struct {
	// From is the first date of the range.
	From Date `url:"from,omitempty"`
	// To is the last date of the range.
	To Date `url:"to,omitempty"`
	// Status, when set, returns only open or only fulfilled obligations.
	Status ObligationStatus `url:"status,omitempty"`
}

// Obligation is one VAT period for which a return is or was due.
type Obligation struct {
	// Start is the first day of the VAT period.
	Start Date `json:"start"`
	// End is the last day of the VAT period; a return can be filed only
	// after it (see Submittable).
	End Date `json:"end"`
	// Due is the date the return (and any payment) is due, usually one month
	// and seven days after End.
	Due Date `json:"due"`
	// Status is ObligationOpen or ObligationFulfilled.
	Status ObligationStatus `json:"status"`
	// PeriodKey identifies the period when submitting or viewing its return.
	PeriodKey PeriodKey `json:"periodKey"`
	// Received is the date the return was received; zero while open.
	Received Date `json:"received,omitzero"`
}

// Fulfilled reports whether the obligation's return was received.
func (o Obligation) Fulfilled() bool { return o.Status == ObligationFulfilled }

// Submittable reports whether a return can be filed for o on date today:
// it is open and its period has ended (HMRC refuses returns for periods that
// have not ended with TAX_PERIOD_NOT_ENDED). HMRC updates obligations some
// hours after a submission, so keep your own record of returns filed too.
func (o Obligation) Submittable(today Date) bool {
	return o.Status == ObligationOpen && o.End.Before(today)
}

// check applies HMRC's rules for the obligations query (VAT (MTD) API §9.1)
// in HMRC's order, so that the first problem reported is the one code HMRC
// would answer: the dates' presence and format, then the status, then the
// range (hmrc/vat-api ObligationParameterFormatValidation and
// DateRangeValidation). HMRC stops at its first problem; the others found
// are listed after it.
func (q ObligationsQuery) check(p *problems) {
	statusOK := q.Status == "" || q.Status == ObligationOpen || q.Status == ObligationFulfilled
	switch {
	case q.From.IsZero() && q.To.IsZero():
		switch {
		case q.Status == ObligationOpen:
		case q.Status == ObligationFulfilled:
			p.add("from", "MISSING_DATE_RANGE", "from and to are required for fulfilled obligations")
		case q.Status == "":
			p.add("from", "INVALID_DATE_FROM", "from and to are required unless status is O")
		}
	case q.To.IsZero():
		p.add("to", "INVALID_DATE_TO", "to is required when from is given")
		checkDate(p, "from", q.From, "INVALID_DATE_FROM")
	case q.From.IsZero():
		p.add("from", "INVALID_DATE_FROM", "from is required when to is given")
		checkDate(p, "to", q.To, "INVALID_DATE_TO")
	}
	bothOK := false
	if !q.From.IsZero() && !q.To.IsZero() {
		fromOK := checkDate(p, "from", q.From, "INVALID_DATE_FROM")
		toOK := checkDate(p, "to", q.To, "INVALID_DATE_TO")
		bothOK = fromOK && toOK
	}
	if !statusOK {
		p.add("status", "INVALID_STATUS", "status must be O (open) or F (fulfilled), not %q", truncate(string(q.Status), 20))
	}
	if bothOK && (!q.From.Before(q.To) || q.From.AddYears(1).Before(q.To)) {
		p.add("to", "INVALID_DATE_RANGE", "from must be before to, and to at most one year after from (%s to %s)", q.From, q.To)
	}
}

// checkDate reports a non-zero date HMRC's YYYY-MM-DD parser would refuse.
func checkDate(p *problems, path string, d Date, code string) bool {
	if d.IsZero() || d.valid() {
		return true
	}
	p.add(path, code, "%s is not a date with a four-digit year", path)
	return false
}

// Obligations retrieves the VAT obligations of vrn (GET
// /organisations/vat/{vrn}/obligations, scope read:vat): the periods for
// which returns are due or were received.
//
// The query is checked first as HMRC checks it; problems are returned as a
// *ValidationError and nothing is sent. HMRC answers 404 (ErrNotFound) when
// there are no obligations in the range, 403 ErrNotAuthorised when the token
// is not for this VRN, and 403 ErrInsolventTrader for an insolvent trader.
// See [Client.SubmitReturn] to file a return for an open obligation.
func (c *Client) Obligations(ctx context.Context, vrn VRN, q ObligationsQuery, opts ...CallOption) ([]Obligation, error) {
	if err := validate("Obligations", vrn.check, q.check); err != nil {
		return nil, err
	}
	var out obligationsResponse
	_, err := c.get(ctx, &request{op: "Obligations", path: vatPath(vrn, "obligations"), query: q}, &out, opts)
	return out.Obligations, err
}

// obligationsResponse is the 200 body of the obligations endpoint.
type obligationsResponse struct {
	Obligations []Obligation `json:"obligations"`
}

// vatPath returns the path segments of a VAT (MTD) endpoint for vrn.
func vatPath(vrn VRN, rest ...string) []string {
	p := make([]string, 0, 3+len(rest))
	return append(append(p, "organisations", "vat", string(vrn)), rest...)
}

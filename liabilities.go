package vat

import "context"

// Liability is an amount charged to a VAT account.
type Liability struct {
	// TaxPeriod is the VAT period the charge is for (From and To are its
	// first and last days); nil when the charge has no period.
	TaxPeriod *DateRange `json:"taxPeriod,omitempty"`
	// Type is HMRC's charge type, free text such as "VAT Return Debit
	// Charge".
	Type string `json:"type"`
	// OriginalAmount is the amount first charged, in pounds and pence.
	OriginalAmount Money `json:"originalAmount"`
	// OutstandingAmount is what remains to be paid, in pounds and pence; nil
	// when HMRC leaves it out.
	OutstandingAmount *Money `json:"outstandingAmount,omitempty"`
	// Due is the date payment of the charge is due; zero when HMRC gives
	// none.
	Due Date `json:"due,omitzero"`
}

// liabilitiesResponse is the 200 body of the liabilities endpoint.
type liabilitiesResponse struct {
	Liabilities []Liability `json:"liabilities"`
}

// earliestFinancialDate is the earliest "from" date HMRC accepts for
// liabilities and payments (its service's minimum, not the 2017-12-01 its
// OpenAPI file states).
var earliestFinancialDate = Date{2016, 4, 6}

// checkFinancialRange applies HMRC's rules for the liabilities and payments
// date range (VAT (MTD) API §9.4): from on or after 2016-04-06, to not after
// today, and from < to ≤ from + 1 year - 1 day.
func checkFinancialRange(r DateRange, today Date) func(*problems) {
	return func(p *problems) {
		fromOK, toOK := false, false
		switch {
		case r.From.IsZero():
			p.add("from", "DATE_FROM_INVALID", "from is required")
		case !r.From.valid():
			p.add("from", "DATE_FROM_INVALID", "from is not a date with a four-digit year")
		case r.From.Before(earliestFinancialDate):
			p.add("from", "DATE_FROM_INVALID", "from must be on or after %s, got %s", earliestFinancialDate, r.From)
		default:
			fromOK = true
		}
		switch {
		case r.To.IsZero():
			p.add("to", "DATE_TO_INVALID", "to is required")
		case !r.To.valid():
			p.add("to", "DATE_TO_INVALID", "to is not a date with a four-digit year")
		case r.To.After(today):
			p.add("to", "DATE_TO_INVALID", "to must not be in the future (today is %s), got %s", today, r.To)
		default:
			toOK = true
		}
		if fromOK && toOK && (!r.From.Before(r.To) || r.From.AddYears(1).AddDays(-1).Before(r.To)) {
			p.add("to", "DATE_RANGE_INVALID", "from must be before to, and the range shorter than a year (%s)", r)
		}
	}
}

// Liabilities retrieves the charges on the VAT account of vrn whose period
// ends within r (GET /organisations/vat/{vrn}/liabilities, scope read:vat).
//
// The range is checked first as HMRC checks it (From on or after 2016-04-06,
// To not in the future, From before To, and less than a year). HMRC answers
// 404 ErrNotFound when there are no liabilities in the range, which callers
// may treat as an empty list. See [Client.Payments] for payments received.
func (c *Client) Liabilities(ctx context.Context, vrn VRN, r DateRange, opts ...CallOption) ([]Liability, error) {
	if err := validate("Liabilities", vrn.check, checkFinancialRange(r, c.today())); err != nil {
		return nil, err
	}
	var out liabilitiesResponse
	_, err := c.get(ctx, &request{op: "Liabilities", path: vatPath(vrn, "liabilities"), query: r}, &out, opts)
	return out.Liabilities, err
}

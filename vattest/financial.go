package vattest

import (
	"net/http"
	"sort"

	"github.com/go-mtd/vat/vattest/internal/civil"
)

// minFinancialFrom is the earliest 'from' date the liabilities and payments
// endpoints accept (vat-api's minimumSupportedDate).
var minFinancialFrom = civil.Date{Year: 2016, Month: 4, Day: 6}

// financialQuery validates from and to as vat-api does for liabilities and
// payments (notes §9.4): from, then to, then the range; a legacy code on error.
func financialQuery(r *http.Request, today civil.Date) (from, to civil.Date, code string) {
	q := r.URL.Query()
	fromS, ok := query(q, "from")
	if !ok {
		return from, to, "DATE_FROM_INVALID"
	}
	if from, ok = civil.Parse(fromS); !ok || from.Before(minFinancialFrom) {
		return from, to, "DATE_FROM_INVALID"
	}
	toS, ok := query(q, "to")
	if !ok {
		return from, to, "DATE_TO_INVALID"
	}
	if to, ok = civil.Parse(toS); !ok || today.Before(to) {
		return from, to, "DATE_TO_INVALID"
	}
	if !from.Before(to) || from.AddYears(1).AddDays(-1).Before(to) {
		return from, to, "DATE_RANGE_INVALID"
	}
	return from, to, ""
}

type taxPeriodWire struct {
	From day `json:"from"`
	To   day `json:"to"`
}

type liabilityWire struct {
	TaxPeriod         *taxPeriodWire `json:"taxPeriod,omitempty"`
	Type              string         `json:"type"`
	OriginalAmount    amount         `json:"originalAmount"`
	OutstandingAmount amount         `json:"outstandingAmount"`
	Due               day            `json:"due"`
}

type paymentWire struct {
	Amount   amount `json:"amount"`
	Received day    `json:"received"`
}

func (s *Server) liabilities(c *call) { s.financialData(c, true) }

func (s *Server) payments(c *call) { s.financialData(c, false) }

// financialData answers liabilities (liab) or payments.
func (s *Server) financialData(c *call, liab bool) {
	from, to, code := financialQuery(c.r, civil.Of(c.now))
	if code != "" {
		writeJSON(c.w, http.StatusBadRequest, legacy(code))
		return
	}
	if c.scenario != "" {
		canned := s.data.payments
		if liab {
			canned = s.data.liabilities
		}
		switch sc, known := canned[c.scenario]; {
		case c.scenario == "INSOLVENT_TRADER":
			writeJSON(c.w, http.StatusForbidden, bodyInsolventTrader)
		case !known:
			writeJSON(c.w, http.StatusBadRequest, bodyIncorrectScenario)
		case sc.from != from || sc.to != to:
			writeJSON(c.w, http.StatusNotFound, bodyLegacyNotFound)
		default:
			writeJSON(c.w, http.StatusOK, sc.body)
		}
		return
	}
	within := func(d civil.Date) bool { return !d.Before(from) && !d.After(to) }
	o := s.lockOrg(c)
	if o == nil {
		return
	}
	var ls []liabilityWire
	var ps []paymentWire
	if liab {
		for _, ch := range o.charges {
			if within(ch.to) {
				ls = append(ls, liabilityWire{&taxPeriodWire{day(ch.from), day(ch.to)}, ch.typ, amount(ch.original), amount(ch.outstanding), day(ch.due)})
			}
		}
		sort.SliceStable(ls, func(i, j int) bool { return civil.Date(ls[i].TaxPeriod.From).Before(civil.Date(ls[j].TaxPeriod.From)) })
	} else {
		for _, p := range o.payments {
			if within(p.periodTo) {
				ps = append(ps, paymentWire{amount(p.amount), day(p.received)})
			}
		}
	}
	s.mu.Unlock()
	switch {
	case liab && len(ls) > 0:
		writeValue(c.w, http.StatusOK, struct {
			Liabilities []liabilityWire `json:"liabilities"`
		}{ls})
	case !liab && len(ps) > 0:
		writeValue(c.w, http.StatusOK, struct {
			Payments []paymentWire `json:"payments"`
		}{ps})
	default:
		writeJSON(c.w, http.StatusNotFound, bodyLegacyNotFound)
	}
}

type fdTotalsWire struct {
	TotalOverdue   amount `json:"totalOverdue"`
	TotalNotYetDue amount `json:"totalNotYetDue"`
	TotalBalance   amount `json:"totalBalance"`
	TotalCleared   amount `json:"totalCleared"`
}

type fdLineWire struct {
	ChargeDescription string `json:"chargeDescription"`
	PeriodFromDate    day    `json:"periodFromDate"`
	PeriodToDate      day    `json:"periodToDate"`
	NetDueDate        day    `json:"netDueDate"`
	Amount            amount `json:"amount"`
}

type fdDocWire struct {
	PostingDate               day          `json:"postingDate"`
	IssueDate                 day          `json:"issueDate"`
	DocumentTotalAmount       amount       `json:"documentTotalAmount"`
	DocumentClearedAmount     amount       `json:"documentClearedAmount"`
	DocumentOutstandingAmount amount       `json:"documentOutstandingAmount"`
	LineItemDetails           []fdLineWire `json:"lineItemDetails"`
}

type fdWire struct {
	Totalisations   fdTotalsWire `json:"totalisations"`
	DocumentDetails []fdDocWire  `json:"documentDetails"`
}

func (s *Server) financialDetails(c *call) {
	if !chargeRefPattern.MatchString(c.param) {
		writeJSON(c.w, http.StatusBadRequest, bodyChargeRefInvalid)
		return
	}
	if c.scenario != "" && answerScenario(c, map[string]canned{"DEFAULT": {http.StatusOK, s.data.financialDetails}}) {
		return
	}
	o := s.lockOrg(c)
	if o == nil {
		return
	}
	var ch *charge
	for _, x := range o.charges {
		if x.ref == c.param {
			cp := *x
			ch = &cp
		}
	}
	s.mu.Unlock()
	switch {
	case ch != nil:
		cleared := ch.original - ch.outstanding
		t := fdTotalsWire{TotalBalance: amount(ch.outstanding), TotalCleared: amount(cleared)}
		if civil.Of(c.now).After(ch.due) {
			t.TotalOverdue = amount(ch.outstanding)
		} else {
			t.TotalNotYetDue = amount(ch.outstanding)
		}
		writeValue(c.w, http.StatusOK, fdWire{t, []fdDocWire{{
			day(ch.posted), day(ch.posted), amount(ch.original), amount(cleared), amount(ch.outstanding),
			[]fdLineWire{{"VAT Return", day(ch.from), day(ch.to), day(ch.due), amount(ch.original)}},
		}}})
	case s.data.penaltyRefs[c.param]:
		writeJSON(c.w, http.StatusOK, s.data.financialDetails)
	default:
		writeJSON(c.w, http.StatusNotFound, bodyFinancialNotFound)
	}
}

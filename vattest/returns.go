package vattest

import (
	"encoding/json"
	"net/http"

	"github.com/go-mtd/vat/vattest/internal/decimal"
)

var boxFields = [9]string{
	"vatDueSales", "vatDueAcquisitions", "totalVatDue", "vatReclaimedCurrPeriod", "netVatDue",
	"totalValueSalesExVAT", "totalValuePurchasesExVAT", "totalValueGoodsSuppliedExVAT", "totalAcquisitionsExVAT",
}

const (
	msgMoney      = "amount should be a monetary value (to 2 decimal places), between -9,999,999,999,999.99 and 9,999,999,999,999.99"
	msgNetMoney   = "amount should be a monetary value (to 2 decimal places), between 0 and 99,999,999,999.99"
	msgWholeMoney = "The value must be between -9999999999999 and 9999999999999"

	maxMoney    = 999999999999999 // 9,999,999,999,999.99 in pence
	maxNetMoney = 9999999999999   // 99,999,999,999.99 in pence
	maxWhole    = 999999999999900 // 9,999,999,999,999 pounds in pence
)

// boxRule is the decimal rule of one box.
type boxRule struct {
	lo, hi int64
	msg    string
	whole  bool
}

func ruleFor(box int) boxRule {
	switch {
	case box < 4:
		return boxRule{-maxMoney, maxMoney, msgMoney, false}
	case box == 4:
		return boxRule{0, maxNetMoney, msgNetMoney, false}
	}
	return boxRule{-maxWhole, maxWhole, msgWholeMoney, true}
}

// asBigDecimal reads a value as Play's Reads[BigDecimal] does: a JSON number,
// or a string holding a number.
func asBigDecimal(v any) (decimal.Dec, bool) {
	var text string
	switch x := v.(type) {
	case json.Number:
		text = string(x)
	case string:
		text = x
	default:
		return decimal.Dec{}, false
	}
	d, err := decimal.Parse(text)
	return d, err == nil
}

// vatReturn is a return that passed validation levels 3 and 4.
type vatReturn struct {
	periodKey string
	boxes     [9]int64 // pence
	finalised bool
}

// validateReturn applies levels 3 and 4 of vat-api's submit validation
// (notes §9.2): all field errors together, in vat-api's order, duplicates
// removed; then the cross-field rules if the fields passed.
func validateReturn(body any) (vatReturn, []fieldError) {
	obj, _ := body.(map[string]any) // anything but an object has no fields
	var errs []fieldError
	add := func(code, msg, field string) {
		e := fieldError{code, msg, "/" + field}
		for _, x := range errs {
			if x == e {
				return
			}
		}
		errs = append(errs, e)
	}
	fields := append(append([]string{"periodKey"}, boxFields[:]...), "finalised")
	for _, f := range fields {
		if _, ok := obj[f]; !ok {
			add("MANDATORY_FIELD_MISSING", "a mandatory field is missing", f)
		}
	}
	var dec [9]decimal.Dec
	var readable [9]bool
	for i, f := range boxFields {
		v, present := obj[f]
		if !present {
			continue
		}
		dec[i], readable[i] = asBigDecimal(v)
		if !readable[i] {
			continue
		}
		rule := ruleFor(i)
		if rule.whole && !dec[i].IsWhole() || !rule.whole && dec[i].Scale() > 2 {
			add("INVALID_MONETARY_AMOUNT", rule.msg, f)
		}
	}
	key, keyIsString := obj["periodKey"].(string)
	if _, ok := obj["periodKey"]; ok && !keyIsString {
		add("INVALID_STRING_VALUE", "please provide a string field", "periodKey")
	}
	for i, f := range boxFields {
		if _, ok := obj[f]; ok && !readable[i] {
			add("INVALID_NUMERIC_VALUE", "please provide a numeric field", f)
		}
	}
	finalised, isBool := obj["finalised"].(bool)
	if _, ok := obj["finalised"]; ok && !isBool {
		add("UNMAPPED_PLAY_ERROR", "error.expected.jsboolean", "finalised")
	}
	if keyIsString && !periodKeyPattern.MatchString(key) {
		add("PERIOD_KEY_INVALID", "period key should be a 4 character string", "periodKey")
	}
	for i, f := range boxFields {
		if rule := ruleFor(i); readable[i] && !dec[i].InPenceRange(rule.lo, rule.hi) {
			add("INVALID_MONETARY_AMOUNT", rule.msg, f)
		}
	}
	if len(errs) > 0 {
		return vatReturn{}, errs
	}
	ret := vatReturn{periodKey: key, finalised: finalised}
	for i := range dec {
		ret.boxes[i], _ = dec[i].Pence() // exact: scale and range checked above
	}
	b := &ret.boxes
	if diff := b[2] - b[3]; b[4] != diff && b[4] != -diff {
		errs = append(errs, fieldError{"VAT_NET_VALUE", "netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod", "/netVatDue"})
	}
	if b[2] != b[0]+b[1] {
		errs = append(errs, fieldError{"VAT_TOTAL_VALUE", "totalVatDue should be equal to vatDueSales + vatDueAcquisitions", "/totalVatDue"})
	}
	return ret, errs
}

type submitWire struct {
	ProcessingDate   string `json:"processingDate"`
	PaymentIndicator string `json:"paymentIndicator,omitempty"`
	FormBundleNumber string `json:"formBundleNumber"`
	ChargeRefNumber  string `json:"chargeRefNumber,omitempty"`
}

func (s *Server) submitReturn(c *call, body any) {
	ret, errs := validateReturn(body)
	if len(errs) > 0 {
		writeJSON(c.w, http.StatusBadRequest, wrapped(errs))
		return
	}
	if !ret.finalised {
		writeJSON(c.w, http.StatusForbidden, bodyNotFinalised)
		return
	}
	if c.scenario != "" && answerScenario(c, map[string]canned{
		"INVALID_VRN":          {http.StatusBadRequest, bodyVRNInvalid},
		"INVALID_PERIODKEY":    {http.StatusBadRequest, bodyPeriodKeyInvalidDes},
		"INVALID_PAYLOAD":      {http.StatusBadRequest, bodyInvalidRequest},
		"DUPLICATE_SUBMISSION": {http.StatusForbidden, bodyDuplicateSubmission},
		"TAX_PERIOD_NOT_ENDED": {http.StatusForbidden, bodyTaxPeriodNotEnded},
		"INSOLVENT_TRADER":     {http.StatusForbidden, bodyInsolventTrader},
	}) {
		return
	}
	status, resp := s.fileReturn(c, ret)
	switch status {
	case http.StatusCreated:
		c.w.Header()["Receipt-Signature"] = []string{"This has been deprecated - DO NOT USE"}
		writeValue(c.w, status, resp)
	case http.StatusBadRequest:
		writeJSON(c.w, status, bodyPeriodKeyInvalidDes)
	case http.StatusConflict:
		writeJSON(c.w, http.StatusForbidden, bodyDuplicateSubmission)
	case http.StatusUnprocessableEntity:
		writeJSON(c.w, http.StatusForbidden, bodyTaxPeriodNotEnded)
	case http.StatusForbidden:
		writeJSON(c.w, http.StatusForbidden, bodyInsolventTrader)
	default:
		writeJSON(c.w, http.StatusNotFound, bodyLegacyNotFound)
	}
}

// fileReturn is the stateful downstream: it checks the period, stores the
// return, fulfils the obligation and raises the liability. The status
// names the outcome: 201 filed, 400 unknown period key, 409 duplicate,
// 422 period not ended, 403 insolvent, 404 no organisation.
func (s *Server) fileReturn(c *call, ret vatReturn) (int, submitWire) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o := s.orgs[c.vrn]
	switch {
	case o == nil:
		return http.StatusNotFound, submitWire{}
	case o.insolvent:
		return http.StatusForbidden, submitWire{}
	}
	ob := o.obligation(ret.periodKey)
	today := s.todayLocked()
	if ob == nil && !s.cfg.bound {
		// HMRC's sandbox: any well-formed period key, stored once.
		if o.returns[ret.periodKey] != nil {
			return http.StatusConflict, submitWire{}
		}
		o.returns[ret.periodKey] = &storedReturn{key: ret.periodKey, boxes: ret.boxes}
		s.countAcceptedLocked(c.vrn)
		return http.StatusCreated, submitWire{ProcessingDate: c.now.Format("2006-01-02T15:04:05.000Z"), FormBundleNumber: s.rnd.digits(12)}
	}
	switch {
	case ob == nil:
		return http.StatusBadRequest, submitWire{}
	case !ob.received.IsZero() || o.returns[ret.periodKey] != nil:
		return http.StatusConflict, submitWire{}
	case !ob.end.Before(today):
		return http.StatusUnprocessableEntity, submitWire{}
	}
	o.returns[ret.periodKey] = &storedReturn{key: ret.periodKey, boxes: ret.boxes}
	ob.received = today
	resp := submitWire{ProcessingDate: c.now.Format("2006-01-02T15:04:05.000Z"), FormBundleNumber: s.rnd.digits(12)}
	switch net := ret.boxes[2] - ret.boxes[3]; {
	case net > 0:
		ch := &charge{key: ob.key, ref: s.newChargeRefLocked(), typ: "VAT Return Debit Charge",
			from: ob.start, to: ob.end, due: ob.due, posted: today, original: net, outstanding: net}
		o.charges = append(o.charges, ch)
		resp.ChargeRefNumber = ch.ref
		if o.directDebit {
			resp.PaymentIndicator = "DD"
		}
	case net < 0 && o.bank:
		resp.PaymentIndicator = "BANK"
	}
	s.countAcceptedLocked(c.vrn)
	return http.StatusCreated, resp
}

func (s *Server) countAcceptedLocked(vrn string) {
	n := s.counts[vrn]
	n.Accepted++
	s.counts[vrn] = n
}

// newChargeRefLocked returns an unused charge reference in the form the
// financial details endpoint accepts (X, a letter, twelve digits).
func (s *Server) newChargeRefLocked() string {
	for {
		ref := "XV" + s.rnd.digits(12)
		if !s.chargeRefTakenLocked(ref) {
			return ref
		}
	}
}

func (s *Server) chargeRefTakenLocked(ref string) bool {
	for _, o := range s.orgs {
		for _, c := range o.charges {
			if c.ref == ref {
				return true
			}
		}
	}
	return false
}

type returnWire struct {
	PeriodKey                    string `json:"periodKey"`
	VATDueSales                  amount `json:"vatDueSales"`
	VATDueAcquisitions           amount `json:"vatDueAcquisitions"`
	TotalVATDue                  amount `json:"totalVatDue"`
	VATReclaimedCurrPeriod       amount `json:"vatReclaimedCurrPeriod"`
	NetVATDue                    amount `json:"netVatDue"`
	TotalValueSalesExVAT         amount `json:"totalValueSalesExVAT"`
	TotalValuePurchasesExVAT     amount `json:"totalValuePurchasesExVAT"`
	TotalValueGoodsSuppliedExVAT amount `json:"totalValueGoodsSuppliedExVAT"`
	TotalAcquisitionsExVAT       amount `json:"totalAcquisitionsExVAT"`
}

func (s *Server) viewReturn(c *call) {
	if !periodKeyPattern.MatchString(c.param) {
		writeJSON(c.w, http.StatusBadRequest, bodyPeriodKeyInvalidPath)
		return
	}
	if c.scenario != "" && answerScenario(c, map[string]canned{
		"DATE_RANGE_TOO_LARGE": {http.StatusForbidden, bodyDateRangeTooLargeView},
		"INSOLVENT_TRADER":     {http.StatusForbidden, bodyInsolventTrader},
	}) {
		return
	}
	o := s.lockOrg(c)
	if o == nil {
		return
	}
	r := o.returns[c.param]
	s.mu.Unlock()
	if r == nil {
		c.w.WriteHeader(http.StatusNotFound) // empty body, no Content-Type
		return
	}
	b := r.boxes
	writeValue(c.w, http.StatusOK, returnWire{r.key, amount(b[0]), amount(b[1]), amount(b[2]), amount(b[3]), amount(b[4]),
		amount(b[5]), amount(b[6]), amount(b[7]), amount(b[8])})
}

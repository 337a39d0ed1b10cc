package vat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Return is a nine-box VAT return. Boxes 1 to 5 are amounts in pence
// (Money); boxes 6 to 9 are whole pounds (Pounds), as HMRC requires. Use
// ComputeTotals to fill boxes 3 and 5, and Validate to check the return the
// way HMRC will.
type Return struct {
	// PeriodKey is the key of the obligation the return is for, exactly as
	// the obligations endpoint gave it. It is always sent as a JSON string.
	PeriodKey PeriodKey `json:"periodKey"`
	// VATDueSales (box 1) is the VAT due on sales and other outputs.
	VATDueSales Money `json:"vatDueSales"`
	// VATDueAcquisitions (box 2) is the VAT due on acquisitions of goods made
	// in Northern Ireland from EU Member States.
	VATDueAcquisitions Money `json:"vatDueAcquisitions"`
	// TotalVATDue (box 3) is box 1 plus box 2.
	TotalVATDue Money `json:"totalVatDue"`
	// VATReclaimedCurrPeriod (box 4) is the VAT reclaimed on purchases and
	// other inputs, including acquisitions in Northern Ireland from the EU.
	VATReclaimedCurrPeriod Money `json:"vatReclaimedCurrPeriod"`
	// NetVATDue (box 5) is the difference between boxes 3 and 4, never
	// negative: HMRC decides from boxes 3 and 4 whether it is to pay or to
	// reclaim.
	NetVATDue Money `json:"netVatDue"`
	// TotalValueSalesExVAT (box 6) is the total value of sales and all other
	// outputs excluding VAT, in whole pounds.
	TotalValueSalesExVAT Pounds `json:"totalValueSalesExVAT"`
	// TotalValuePurchasesExVAT (box 7) is the total value of purchases and
	// all other inputs excluding VAT, in whole pounds.
	TotalValuePurchasesExVAT Pounds `json:"totalValuePurchasesExVAT"`
	// TotalValueGoodsSuppliedExVAT (box 8) is the total value of dispatches
	// of goods from Northern Ireland to EU Member States excluding VAT.
	TotalValueGoodsSuppliedExVAT Pounds `json:"totalValueGoodsSuppliedExVAT"`
	// TotalAcquisitionsExVAT (box 9) is the total value of acquisitions of
	// goods made in Northern Ireland from EU Member States excluding VAT.
	TotalAcquisitionsExVAT Pounds `json:"totalAcquisitionsExVAT"`
	// Finalised declares that the user has seen HMRC's declaration text and
	// the return is final. HMRC refuses a return without it (NOT_FINALISED).
	Finalised bool `json:"finalised"`
}

// ComputeTotals sets box 3 to box 1 plus box 2, and box 5 to the absolute
// difference of boxes 3 and 4, exactly as HMRC checks them.
func (r *Return) ComputeTotals() {
	r.TotalVATDue = r.VATDueSales + r.VATDueAcquisitions
	r.NetVATDue = (r.TotalVATDue - r.VATReclaimedCurrPeriod).Abs()
}

// The messages HMRC's service gives for out-of-range boxes (VAT (MTD) API §7.3).
const (
	msgMoneyRange  = "amount should be a monetary value (to 2 decimal places), between -9,999,999,999,999.99 and 9,999,999,999,999.99"
	msgNetRange    = "amount should be a monetary value (to 2 decimal places), between 0 and 99,999,999,999.99"
	msgPoundsRange = "The value must be between -9999999999999 and 9999999999999"
	msgVATTotal    = "totalVatDue should be equal to vatDueSales + vatDueAcquisitions"
	msgVATNet      = "netVatDue should be the difference between the largest and the smallest values among totalVatDue and vatReclaimedCurrPeriod"
	msgNotFinal    = "The return cannot be accepted without a declaration it is finalised."
)

// Validate checks r as HMRC does, level by level, and returns a
// *ValidationError with HMRC's codes: first every field on its own (period
// key PERIOD_KEY_INVALID, ranges INVALID_MONETARY_AMOUNT), then, if those
// pass, box 3 = box 1 + box 2 (VAT_TOTAL_VALUE) and box 5 = |box 3 - box 4|
// (VAT_NET_VALUE), then, if those pass, that the return is finalised
// (NOT_FINALISED). Decimal places need no check: Money cannot hold a third
// and Pounds cannot hold pence.
func (r Return) Validate() error { return validate("SubmitReturn", r.check) }

func (r Return) check(p *problems) {
	n := len(*p)
	if !r.PeriodKey.Valid() {
		p.add("/periodKey", "PERIOD_KEY_INVALID", "period key should be a 4 character string of A-Z, 0-9 or #")
	}
	for _, b := range []struct {
		path string
		v    Money
	}{
		{"/vatDueSales", r.VATDueSales},
		{"/vatDueAcquisitions", r.VATDueAcquisitions},
		{"/totalVatDue", r.TotalVATDue},
		{"/vatReclaimedCurrPeriod", r.VATReclaimedCurrPeriod},
	} {
		if b.v < MinMoney || b.v > MaxMoney {
			p.add(b.path, "INVALID_MONETARY_AMOUNT", msgMoneyRange)
		}
	}
	if r.NetVATDue < 0 || r.NetVATDue > MaxNetVATDue {
		p.add("/netVatDue", "INVALID_MONETARY_AMOUNT", msgNetRange)
	}
	for _, b := range []struct {
		path string
		v    Pounds
	}{
		{"/totalValueSalesExVAT", r.TotalValueSalesExVAT},
		{"/totalValuePurchasesExVAT", r.TotalValuePurchasesExVAT},
		{"/totalValueGoodsSuppliedExVAT", r.TotalValueGoodsSuppliedExVAT},
		{"/totalAcquisitionsExVAT", r.TotalAcquisitionsExVAT},
	} {
		if b.v < MinPounds || b.v > MaxPounds {
			p.add(b.path, "INVALID_MONETARY_AMOUNT", msgPoundsRange)
		}
	}
	if len(*p) > n {
		return
	}
	if r.NetVATDue != (r.TotalVATDue - r.VATReclaimedCurrPeriod).Abs() {
		p.add("/netVatDue", "VAT_NET_VALUE", msgVATNet)
	}
	if r.TotalVATDue != r.VATDueSales+r.VATDueAcquisitions {
		p.add("/totalVatDue", "VAT_TOTAL_VALUE", msgVATTotal)
	}
	if len(*p) > n {
		return
	}
	if !r.Finalised {
		p.add("/finalised", "NOT_FINALISED", msgNotFinal)
	}
}

// PaymentIndicator says how HMRC holds payment details for a return's
// balance.
type PaymentIndicator string

const (
	// PaymentDirectDebit ("DD"): box 5 is owed to HMRC, which holds a Direct
	// Debit instruction.
	PaymentDirectDebit PaymentIndicator = "DD"
	// PaymentBank ("BANK"): box 5 is owed to the business, and HMRC holds its
	// bank details.
	PaymentBank PaymentIndicator = "BANK"
)

// Receipt is HMRC's acknowledgement of an accepted return: the fields of its
// 201 body and the receipt headers. Keep it (it encodes to JSON for
// storage): HMRC offers no way to retrieve a Receipt-ID later, and
// FormBundleNumber is the reference HMRC suggests showing to users.
type Receipt struct {
	// ProcessingDate is the time HMRC processed the return; zero when
	// Recovered or when HMRC's answer could not be read.
	ProcessingDate time.Time `json:"processingDate,omitzero"`
	// FormBundleNumber is HMRC's 12-digit reference for the return, to show
	// to the user; empty when Recovered.
	FormBundleNumber string `json:"formBundleNumber,omitempty"`
	// PaymentIndicator is PaymentDirectDebit ("DD") when box 5 is owed and
	// HMRC holds a Direct Debit, PaymentBank ("BANK") when box 5 is a
	// repayment and HMRC holds bank details, and empty otherwise.
	PaymentIndicator PaymentIndicator `json:"paymentIndicator,omitempty"`
	// ChargeRefNumber is the reference of the charge, present when box 5 is
	// owed to HMRC.
	ChargeRefNumber string `json:"chargeRefNumber,omitempty"`
	// ReceiptID is the Receipt-ID header, a UUID; empty when HMRC sent none
	// or when Recovered.
	ReceiptID string `json:"receiptId,omitempty"`
	// ReceiptTimestamp is the time in the Receipt-Timestamp header; zero
	// when HMRC sent none or when Recovered.
	ReceiptTimestamp time.Time `json:"receiptTimestamp,omitzero"`
	// CorrelationID is the X-CorrelationId header, HMRC's reference for the
	// exchange, worth quoting when asking HMRC about it; empty when HMRC sent
	// none or when Recovered.
	CorrelationID string `json:"correlationId,omitempty"`
	// Recovered is true when HMRC's acknowledgement was lost (or the return
	// had been filed before) and the return was found filed by reading it
	// back: the fields of HMRC's 201 answer are then unknown, and Filed holds
	// the return as HMRC has it.
	Recovered bool `json:"recovered,omitempty"`
	// Filed is the return HMRC holds when Recovered; nil otherwise.
	Filed *Return `json:"filed,omitempty"`
}

// submitResponse is the 201 body of a submission.
type submitResponse struct {
	ProcessingDate   string           `json:"processingDate"`
	FormBundleNumber string           `json:"formBundleNumber"`
	PaymentIndicator PaymentIndicator `json:"paymentIndicator"`
	ChargeRefNumber  string           `json:"chargeRefNumber"`
}

// SubmitReturn files a VAT return for vrn (POST
// /organisations/vat/{vrn}/returns, scope write:vat).
//
// The return is validated first (see Return.Validate); if it fails, nothing
// is sent. HMRC answers 403 ErrDuplicateSubmission when the period already
// has a return, 403 ErrTaxPeriodNotEnded when the period has not ended, 403
// ErrNotFinalised, 400 errors for values HMRC rejects, and 403
// ErrNotAuthorised when the token is not for this VRN.
//
// When HMRC accepts the return, SubmitReturn always returns its *Receipt,
// even if part of the answer cannot be read; the error is then
// ErrReceiptIncomplete. Check the receipt before the error.
//
// A return is never sent twice blindly, and never redirected. When the
// outcome is uncertain (the connection was lost after sending, the request
// timed out, HMRC answered 5xx, or the answer was a redirect, a 2xx other
// than 201, or cut short), SubmitReturn reads the period's return back,
// even after ctx is done (see RetryPolicy.SettleTimeout): if HMRC holds this return, it
// returns a receipt marked Recovered; otherwise an *UncertainSubmissionError
// saying what is known (ErrSubmissionNotReceived, ErrDuplicateSubmission
// when the period holds a different return, or ErrSubmissionOutcomeUnknown).
// WithResubmitIfNotReceived allows one resend when reading back proved HMRC
// did not receive it and the first request cannot still be in flight. A
// DUPLICATE_SUBMISSION whose filed return equals this one is reported as
// accepted (Recovered).
func (c *Client) SubmitReturn(ctx context.Context, vrn VRN, r Return, opts ...CallOption) (*Receipt, error) {
	if err := validate("SubmitReturn", vrn.check, r.check); err != nil {
		return nil, err
	}
	return c.submit(ctx, vrn, r, opts)
}

// newReceipt builds the receipt of an accepted return from whatever of the
// answer can be read; readErr is an error met while reading the body.
func newReceipt(resp *response, readErr error) (*Receipt, error) {
	rc := &Receipt{
		ReceiptID:     resp.header.Get("Receipt-ID"),
		CorrelationID: resp.header.Get("X-CorrelationId"),
	}
	var problems []error
	if readErr != nil {
		problems = append(problems, readErr)
	}
	if ts := resp.header.Get("Receipt-Timestamp"); ts != "" {
		t, err := time.Parse(time.RFC3339, ts)
		if err != nil {
			problems = append(problems, fmt.Errorf("Receipt-Timestamp %q is not a timestamp", truncate(ts, 40)))
		}
		rc.ReceiptTimestamp = t
	}
	var body submitResponse
	if err := json.Unmarshal(resp.body, &body); err != nil && readErr == nil {
		problems = append(problems, fmt.Errorf("body: %w", err))
	} else if err == nil {
		if body.FormBundleNumber == "" {
			problems = append(problems, errors.New("body: no formBundleNumber"))
		}
		if body.ProcessingDate == "" {
			problems = append(problems, errors.New("body: no processingDate"))
		}
	}
	rc.FormBundleNumber, rc.PaymentIndicator, rc.ChargeRefNumber = body.FormBundleNumber, body.PaymentIndicator, body.ChargeRefNumber
	if body.ProcessingDate != "" {
		t, err := parseProcessingDate(body.ProcessingDate)
		if err != nil {
			problems = append(problems, err)
		}
		rc.ProcessingDate = t
	}
	if len(problems) == 0 {
		return rc, nil
	}
	return rc, fmt.Errorf("%w: %w", ErrReceiptIncomplete, errors.Join(problems...))
}

// parseProcessingDate reads processingDate in either form HMRC emits:
// 2018-03-01T11:43:43.195Z (the service) or 2018-01-16T08:20:27.895+0000
// (the OpenAPI example), and RFC 3339 offsets too.
func parseProcessingDate(s string) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05.999999999Z0700", time.RFC3339Nano} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("processingDate %q is not a timestamp", truncate(s, 40))
}

// ViewReturn retrieves the return filed for a period (GET
// /organisations/vat/{vrn}/returns/{periodKey}, scope read:vat). The period
// key is escaped in the path ("#001" is sent as "%23001").
//
// HMRC answers 404 with an empty body when no return was filed for the
// period: errors.Is(err, ErrNotFound) is then true. Returns filed more than
// four years ago give 403 ErrDateRangeTooLarge. HMRC holds only finalised
// returns, so the Return's Finalised field is true.
func (c *Client) ViewReturn(ctx context.Context, vrn VRN, key PeriodKey, opts ...CallOption) (*Return, error) {
	if err := validate("ViewReturn", vrn.check, key.check); err != nil {
		return nil, err
	}
	var out Return
	if _, err := c.get(ctx, &request{op: "ViewReturn", path: vatPath(vrn, "returns", string(key))}, &out, opts); err != nil {
		return nil, err
	}
	out.Finalised = true
	return &out, nil
}

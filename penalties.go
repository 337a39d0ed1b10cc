package vat

import "context"

// Penalties is the penalty position of a VAT account over the last 24
// months. Every part is optional: an account without penalties comes back
// as {} (see None).
type Penalties struct {
	// Totalisations sums the penalties.
	Totalisations *PenaltyTotalisations `json:"totalisations,omitempty"`
	// LateSubmissionPenalty is the points-based late submission regime.
	LateSubmissionPenalty *LateSubmissionPenalty `json:"lateSubmissionPenalty,omitempty"`
	// LatePaymentPenalty lists late payment penalties.
	LatePaymentPenalty *LatePaymentPenalty `json:"latePaymentPenalty,omitempty"`
}

// None reports whether HMRC returned no penalty information at all.
func (p *Penalties) None() bool {
	return p.Totalisations == nil && p.LateSubmissionPenalty == nil && p.LatePaymentPenalty == nil
}

// PenaltyTotalisations sums an account's penalties. Fields HMRC leaves out
// are nil.
type PenaltyTotalisations struct {
	// LateSubmissionPenaltyTotalValue is the total of late submission penalties.
	LateSubmissionPenaltyTotalValue *Money `json:"lateSubmissionPenaltyTotalValue,omitempty"`
	// PenalisedPrincipalTotal is the total of the charges paid late.
	PenalisedPrincipalTotal *Money `json:"penalisedPrincipalTotal,omitempty"`
	// LatePaymentPenaltyPostedTotal is the total of posted late payment penalties.
	LatePaymentPenaltyPostedTotal *Money `json:"latePaymentPenaltyPostedTotal,omitempty"`
	// LatePaymentPenaltyEstimateTotal is the estimated total of accruing late
	// payment penalties.
	LatePaymentPenaltyEstimateTotal *Money `json:"latePaymentPenaltyEstimateTotal,omitempty"`
}

// LateSubmissionPenalty is the state of the late submission points regime.
type LateSubmissionPenalty struct {
	// Summary counts points and charges.
	Summary LateSubmissionSummary `json:"summary"`
	// Details lists each point or charge.
	Details []LateSubmissionPenaltyDetail `json:"details"`
}

// LateSubmissionSummary counts an account's late submission points.
type LateSubmissionSummary struct {
	// ActivePenaltyPoints is the number of points that count now.
	ActivePenaltyPoints int `json:"activePenaltyPoints"`
	// InactivePenaltyPoints is the number of expired or removed points.
	InactivePenaltyPoints int `json:"inactivePenaltyPoints"`
	// PeriodOfComplianceAchievement is the date by which, with returns on
	// time, the points expire (9999-12-31 when there are no active points).
	PeriodOfComplianceAchievement Date `json:"periodOfComplianceAchievement"`
	// RegimeThreshold is the number of points at which charges start.
	RegimeThreshold int `json:"regimeThreshold"`
	// PenaltyChargeAmount is the amount of each charge over the threshold.
	PenaltyChargeAmount Money `json:"penaltyChargeAmount"`
}

// PenaltyCategory classifies a late submission penalty.
type PenaltyCategory string

// The late submission penalty categories.
const (
	PenaltyCategoryPoint     PenaltyCategory = "point"     // a point below the threshold
	PenaltyCategoryThreshold PenaltyCategory = "threshold" // the point that reached the threshold, with its charge
	PenaltyCategoryCharge    PenaltyCategory = "charge"    // a charge after the threshold
)

// PenaltyStatus says whether a late submission penalty counts.
type PenaltyStatus string

// The late submission penalty statuses.
const (
	PenaltyActive   PenaltyStatus = "active"
	PenaltyInactive PenaltyStatus = "inactive"
)

// ExpiryReason says why a late submission penalty stopped counting.
type ExpiryReason string

// The documented expiry reasons.
const (
	ExpiryAppeal                    ExpiryReason = "appeal"
	ExpirySubmissionFrequencyChange ExpiryReason = "submission-frequency-change"
	ExpiryObligationsReversed       ExpiryReason = "obligations-reversed"
	ExpiryHMRCRemoved               ExpiryReason = "HMRC-removed"
	ExpiryNaturalExpiry             ExpiryReason = "natural-expiry"
	ExpiryPenaltyRemoved            ExpiryReason = "penalty-removed"
	ExpiryExpiryConditionsMet       ExpiryReason = "expiry-conditions-met"
	ExpiryHMRCReset                 ExpiryReason = "HMRC-reset"
)

// LateSubmissionPenaltyDetail is one late submission point or charge.
type LateSubmissionPenaltyDetail struct {
	// PenaltyNumber identifies the penalty.
	PenaltyNumber string `json:"penaltyNumber"`
	// PenaltyOrder is the point's position ("NA" when inactive).
	PenaltyOrder string `json:"penaltyOrder"`
	// PenaltyCategory is point, threshold or charge.
	PenaltyCategory PenaltyCategory `json:"penaltyCategory"`
	// PenaltyStatus is active or inactive.
	PenaltyStatus PenaltyStatus `json:"penaltyStatus"`
	// FrequencyAdjustmentPointIndicator is "X" when the point was adjusted
	// because the submission frequency changed.
	FrequencyAdjustmentPointIndicator string `json:"frequencyAdjustmentPointIndicator,omitempty"`
	// PenaltyCreationDate is when the penalty was created.
	PenaltyCreationDate Date `json:"penaltyCreationDate"`
	// PenaltyExpiryDate is when the penalty expires.
	PenaltyExpiryDate Date `json:"penaltyExpiryDate"`
	// ExpiryReason says why an inactive penalty expired.
	ExpiryReason ExpiryReason `json:"expiryReason,omitempty"`
	// CommunicationsDate is when HMRC told the customer.
	CommunicationsDate Date `json:"communicationsDate,omitzero"`
	// LateSubmissions lists the late returns behind the penalty.
	LateSubmissions []LateSubmission `json:"lateSubmissions,omitempty"`
	// AppealInformation lists appeals against the penalty.
	AppealInformation []AppealInformation `json:"appealInformation,omitempty"`
	// ChargeReference references the charge, for [Client.FinancialDetails].
	ChargeReference string `json:"chargeReference,omitempty"`
	// ChargeAmount is the amount charged.
	ChargeAmount *Money `json:"chargeAmount,omitempty"`
	// ChargeOutstandingAmount is what remains to be paid.
	ChargeOutstandingAmount *Money `json:"chargeOutstandingAmount,omitempty"`
	// ChargeDueDate is when the charge is due.
	ChargeDueDate Date `json:"chargeDueDate,omitzero"`
}

// TaxReturnStatus is the status of a return behind a late submission penalty.
type TaxReturnStatus string

// The return statuses.
const (
	TaxReturnOpen      TaxReturnStatus = "Open"
	TaxReturnFulfilled TaxReturnStatus = "Fulfilled"
	TaxReturnReversed  TaxReturnStatus = "Reversed"
)

// LateSubmission is a return that was filed late (or not yet filed).
type LateSubmission struct {
	// LateSubmissionID identifies the late submission.
	LateSubmissionID string `json:"lateSubmissionID"`
	// TaxReturnStatus is Open, Fulfilled or Reversed.
	TaxReturnStatus TaxReturnStatus `json:"taxReturnStatus"`
	// TaxPeriodStartDate is the first day of the VAT period whose return was
	// late; zero when HMRC leaves it out.
	TaxPeriodStartDate Date `json:"taxPeriodStartDate,omitzero"`
	// TaxPeriodEndDate is the last day of that VAT period; zero when HMRC
	// leaves it out.
	TaxPeriodEndDate Date `json:"taxPeriodEndDate,omitzero"`
	// TaxPeriodDueDate is the date the period's return was due; zero when
	// HMRC leaves it out.
	TaxPeriodDueDate Date `json:"taxPeriodDueDate,omitzero"`
	// ReturnReceiptDate is the date HMRC received the return; zero while the
	// return has not been filed.
	ReturnReceiptDate Date `json:"returnReceiptDate,omitzero"`
}

// AppealStatus is the state of an appeal against a penalty.
type AppealStatus string

// The appeal statuses.
const (
	AppealUnderAppeal      AppealStatus = "under-appeal"
	AppealUpheld           AppealStatus = "appeal-upheld"
	AppealRejected         AppealStatus = "appeal-rejected"
	AppealCannotBeAppealed AppealStatus = "cannot-be-appealed"
)

// AppealLevel is where an appeal is heard.
type AppealLevel string

// The appeal levels.
const (
	AppealStatutoryReview   AppealLevel = "statutory-review"
	AppealFirstTierTribunal AppealLevel = "appeal-first-tier-tribunal"
)

// AppealInformation describes an appeal against a penalty.
type AppealInformation struct {
	// AppealStatus is the state of the appeal.
	AppealStatus AppealStatus `json:"appealStatus"`
	// AppealLevel is where it is heard.
	AppealLevel AppealLevel `json:"appealLevel"`
}

// LatePaymentPenalty lists an account's late payment penalties.
type LatePaymentPenalty struct {
	// Details lists each penalty.
	Details []LatePaymentPenaltyDetail `json:"details,omitempty"`
}

// LatePaymentPenaltyCategory says which late payment penalty applies.
type LatePaymentPenaltyCategory string

// The late payment penalty categories.
const (
	LatePaymentPenalty1 LatePaymentPenaltyCategory = "LPP1" // the first penalty, at 15 and 30 days
	LatePaymentPenalty2 LatePaymentPenaltyCategory = "LPP2" // the second, daily penalty after 30 days
)

// LatePaymentPenaltyStatus says whether a late payment penalty is final.
type LatePaymentPenaltyStatus string

// The late payment penalty statuses.
const (
	LatePaymentAccruing LatePaymentPenaltyStatus = "accruing" // still growing, no charge reference yet
	LatePaymentPosted   LatePaymentPenaltyStatus = "posted"   // charged to the account
)

// LatePaymentPenaltyDetail is one late payment penalty: LPP1, charged on
// VAT still unpaid 15 days after its due date (a lower rate on what was
// unpaid on day 16, plus a higher rate on what was still unpaid on day 31),
// or LPP2, accruing daily on VAT unpaid beyond day 31. Amounts are in pounds
// (see [Money]); rates are percentages (see [Percent]). Optional fields HMRC
// leaves out are nil (pointers), empty (strings, slices) or the zero Date.
type LatePaymentPenaltyDetail struct {
	// PrincipalChargeReference references the charge that was paid late
	// (typically the charge of a VAT return); it is not a penalty charge
	// reference and is not accepted by [Client.FinancialDetails].
	PrincipalChargeReference string `json:"principalChargeReference"`
	// PenaltyCategory is LatePaymentPenalty1 ("LPP1") or LatePaymentPenalty2
	// ("LPP2").
	PenaltyCategory LatePaymentPenaltyCategory `json:"penaltyCategory"`
	// PenaltyStatus is LatePaymentAccruing while the penalty still grows and
	// is not yet on the account, or LatePaymentPosted once it is charged.
	PenaltyStatus LatePaymentPenaltyStatus `json:"penaltyStatus"`
	// PenaltyAmountAccruing is the amount accrued so far and not yet posted
	// to the account; 0 when nothing is accruing.
	PenaltyAmountAccruing Money `json:"penaltyAmountAccruing"`
	// PenaltyAmountPosted is the amount already charged to the account; 0
	// when nothing has been posted.
	PenaltyAmountPosted Money `json:"penaltyAmountPosted"`
	// PenaltyAmountPaid is the part of the posted penalty already paid; nil
	// when HMRC leaves it out.
	PenaltyAmountPaid *Money `json:"penaltyAmountPaid,omitempty"`
	// PenaltyAmountOutstanding is the part of the posted penalty still to be
	// paid; nil when HMRC leaves it out.
	PenaltyAmountOutstanding *Money `json:"penaltyAmountOutstanding,omitempty"`
	// LatePaymentPenalty1LowerRateCalculationAmount is the VAT that remained
	// unpaid 16 days after the due date, to which the LPP1 lower rate
	// applies; nil for LPP2 or when HMRC leaves it out.
	LatePaymentPenalty1LowerRateCalculationAmount *Money `json:"latePaymentPenalty1LowerRateCalculationAmount,omitempty"`
	// LatePaymentPenalty1LowerRatePercentage is the LPP1 lower rate, such as
	// 2.00%; nil for LPP2 or when HMRC leaves it out.
	LatePaymentPenalty1LowerRatePercentage *Percent `json:"latePaymentPenalty1LowerRatePercentage,omitempty"`
	// LatePaymentPenalty1HigherRateCalculationAmount is the VAT that remained
	// unpaid 31 days after the due date, to which the LPP1 higher rate
	// applies; nil for LPP2, when the VAT was paid by day 31, or when HMRC
	// leaves it out.
	LatePaymentPenalty1HigherRateCalculationAmount *Money `json:"latePaymentPenalty1HigherRateCalculationAmount,omitempty"`
	// LatePaymentPenalty1HigherRatePercentage is the LPP1 higher rate, such
	// as 2.00%; nil when no higher-rate part applies.
	LatePaymentPenalty1HigherRatePercentage *Percent `json:"latePaymentPenalty1HigherRatePercentage,omitempty"`
	// LatePaymentPenalty2Days is the number of days over which LPP2 has
	// accrued, counted from day 31 after the VAT was due. HMRC sends it as a
	// decimal string (for example "23"), kept as sent; empty for LPP1.
	LatePaymentPenalty2Days string `json:"latePaymentPenalty2Days,omitempty"`
	// LatePaymentPenalty2Percentage is the yearly rate, such as 4.00%,
	// applied to the unpaid VAT to calculate LPP2; nil for LPP1 or when HMRC
	// leaves it out.
	LatePaymentPenalty2Percentage *Percent `json:"latePaymentPenalty2Percentage,omitempty"`
	// PenaltyChargeCreationDate is the date the penalty charge was created;
	// zero when HMRC leaves it out.
	PenaltyChargeCreationDate Date `json:"penaltyChargeCreationDate,omitzero"`
	// CommunicationsDate is the date HMRC sent the customer a letter about
	// the penalty; zero when no letter has been sent.
	CommunicationsDate Date `json:"communicationsDate,omitzero"`
	// PenaltyChargeDueDate is the date by which the penalty must be paid;
	// zero when HMRC leaves it out.
	PenaltyChargeDueDate Date `json:"penaltyChargeDueDate,omitzero"`
	// PenaltyChargeReference references the penalty charge, such as
	// "XP123456789012", for [Client.FinancialDetails]. HMRC documents it as
	// absent (empty) while the penalty is accruing, and has no financial
	// details for a penalty until it is posted.
	PenaltyChargeReference string `json:"penaltyChargeReference,omitempty"`
	// PrincipalChargeDocNumber is the number of HMRC's document for the
	// charge that was paid late.
	PrincipalChargeDocNumber string `json:"principalChargeDocNumber"`
	// PrincipalChargeBillingFrom is the first day of the VAT period of the
	// charge that was paid late.
	PrincipalChargeBillingFrom Date `json:"principalChargeBillingFrom"`
	// PrincipalChargeBillingTo is the last day of the VAT period of the
	// charge that was paid late.
	PrincipalChargeBillingTo Date `json:"principalChargeBillingTo"`
	// PrincipalChargeDueDate is the date by which the charge should have
	// been paid; the penalty runs from it.
	PrincipalChargeDueDate Date `json:"principalChargeDueDate"`
	// PrincipalChargeLatestClearing is the date the charge was paid; zero
	// while it is unpaid or when HMRC leaves it out.
	PrincipalChargeLatestClearing Date `json:"principalChargeLatestClearing,omitzero"`
	// AppealInformation lists appeals against the penalty; empty when there
	// are none.
	AppealInformation []AppealInformation `json:"appealInformation,omitempty"`
	// TimeToPay lists the Time to Pay arrangements agreed for the charge;
	// empty when there are none.
	TimeToPay []TimeToPay `json:"timeToPay,omitempty"`
}

// TimeToPay is the period of a Time to Pay arrangement: an agreement with
// HMRC to pay a charge in instalments.
type TimeToPay struct {
	// TimeToPayStartDate is the first day of the agreed time to pay; zero
	// when HMRC leaves it out.
	TimeToPayStartDate Date `json:"timeToPayStartDate,omitzero"`
	// TimeToPayEndDate is the last day of the agreed time to pay; zero when
	// HMRC leaves it out.
	TimeToPayEndDate Date `json:"timeToPayEndDate,omitzero"`
}

// Penalties retrieves the late submission and late payment penalties of
// vrn over the last 24 months (GET /organisations/vat/{vrn}/penalties, scope
// read:vat). An account without penalties gives an empty Penalties (None
// reports true), not an error.
//
// HMRC answers 403 ErrNotAuthorised when the token is not for this VRN.
// Errors of HMRC's back end may come through as 500 with their own codes.
func (c *Client) Penalties(ctx context.Context, vrn VRN, opts ...CallOption) (*Penalties, error) {
	if err := validate("Penalties", vrn.check); err != nil {
		return nil, err
	}
	var out Penalties
	if _, err := c.get(ctx, &request{op: "Penalties", path: vatPath(vrn, "penalties")}, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// FinancialDetails is the financial position of one penalty charge. Every
// part is optional. Amounts are in pounds (see [Money]); HMRC's range for
// them is ±99,999,999,999.99.
type FinancialDetails struct {
	// Totalisations sums the account; nil when HMRC leaves it out.
	Totalisations *FinancialTotalisations `json:"totalisations,omitempty"`
	// DocumentDetails lists the documents of the charge: one charge
	// reference can have several, for example a charge and its reversal, or
	// periodic interest charges sharing the reference. Empty when HMRC
	// leaves it out.
	DocumentDetails []DocumentDetail `json:"documentDetails,omitempty"`
}

// FinancialTotalisations sums an account. Fields HMRC leaves out are nil.
type FinancialTotalisations struct {
	// TotalOverdue is the amount overdue (collectable now).
	TotalOverdue *Money `json:"totalOverdue,omitempty"`
	// TotalNotYetDue is the amount posted to the account but not yet due:
	// its due date is today or later.
	TotalNotYetDue *Money `json:"totalNotYetDue,omitempty"`
	// TotalBalance is the net amount: what is overdue minus any credit on
	// the account.
	TotalBalance *Money `json:"totalBalance,omitempty"`
	// TotalCredit is credit on the account not yet allocated to any charge.
	TotalCredit *Money `json:"totalCredit,omitempty"`
	// TotalCleared is the amount paid, reversed, removed or otherwise
	// cleared.
	TotalCleared *Money `json:"totalCleared,omitempty"`
	// AdditionalReceivableTotalisations sums the interest on the account.
	AdditionalReceivableTotalisations *AdditionalReceivableTotalisations `json:"additionalReceivableTotalisations,omitempty"`
}

// AdditionalReceivableTotalisations sums the interest on an account. Fields
// HMRC leaves out are nil.
type AdditionalReceivableTotalisations struct {
	// TotalAccountPostedInterest is the interest HMRC has posted.
	TotalAccountPostedInterest *Money `json:"totalAccountPostedInterest,omitempty"`
	// TotalAccountAccruingInterest is the unposted interest accrued so far.
	TotalAccountAccruingInterest *Money `json:"totalAccountAccruingInterest,omitempty"`
}

// DocumentDetail is one document of a charge. Fields HMRC leaves out are
// nil, empty or the zero Date.
type DocumentDetail struct {
	// PostingDate is the date the charge was posted to the account.
	PostingDate Date `json:"postingDate,omitzero"`
	// IssueDate is the date HMRC sent the customer correspondence about the
	// charge.
	IssueDate Date `json:"issueDate,omitzero"`
	// DocumentTotalAmount is the sum of the document's line items.
	DocumentTotalAmount *Money `json:"documentTotalAmount,omitempty"`
	// DocumentClearedAmount is the part paid, reversed, removed or otherwise
	// cleared.
	DocumentClearedAmount *Money `json:"documentClearedAmount,omitempty"`
	// DocumentOutstandingAmount is the balance still to be paid.
	DocumentOutstandingAmount *Money `json:"documentOutstandingAmount,omitempty"`
	// DocumentInterestTotals sums the interest on the charge.
	DocumentInterestTotals *DocumentInterestTotals `json:"documentInterestTotals,omitempty"`
	// LineItemDetails lists the lines making up the document, for example
	// one per correction in an amendment covering several periods.
	LineItemDetails []LineItemDetail `json:"lineItemDetails,omitempty"`
}

// DocumentInterestTotals sums the interest on a document's charge. Fields
// HMRC leaves out are nil.
type DocumentInterestTotals struct {
	// InterestPostedAmount is the interest on the charge that HMRC has
	// posted to the account.
	InterestPostedAmount *Money `json:"interestPostedAmount,omitempty"`
	// InterestAccruingAmount is the unposted interest accrued on the charge
	// so far.
	InterestAccruingAmount *Money `json:"interestAccruingAmount,omitempty"`
}

// LineItemDetail is one line of a document. Fields HMRC leaves out are nil,
// empty or the zero Date.
type LineItemDetail struct {
	// ChargeDescription describes the charge, for example "VAT Return".
	ChargeDescription string `json:"chargeDescription,omitempty"`
	// PeriodFromDate is the first day of the period the line relates to.
	PeriodFromDate Date `json:"periodFromDate,omitzero"`
	// PeriodToDate is the last day of the period the line relates to.
	PeriodToDate Date `json:"periodToDate,omitzero"`
	// NetDueDate is the date by which the line is due to be paid.
	NetDueDate Date `json:"netDueDate,omitzero"`
	// Amount is the line's amount.
	Amount *Money `json:"amount,omitempty"`
	// LineItemInterestDetails describes the interest on the line.
	LineItemInterestDetails *LineItemInterestDetails `json:"lineItemInterestDetails,omitempty"`
}

// LineItemInterestDetails is the interest on one line. Fields HMRC leaves
// out are nil or the zero Date.
type LineItemInterestDetails struct {
	// InterestStartDate is the date interest started to run.
	InterestStartDate Date `json:"interestStartDate,omitzero"`
	// CurrentInterestRate is the yearly interest rate that now applies to
	// the line.
	CurrentInterestRate *Percent `json:"currentInterestRate,omitempty"`
	// InterestPostedAmount is the interest on the line that HMRC has posted.
	InterestPostedAmount *Money `json:"interestPostedAmount,omitempty"`
	// InterestAccruingAmount is the unposted interest accrued on the line so
	// far.
	InterestAccruingAmount *Money `json:"interestAccruingAmount,omitempty"`
}

// FinancialDetails retrieves the financial details of a penalty charge (GET
// /organisations/vat/{vrn}/financial-details/{chargeReference}, scope
// read:vat). chargeReference is a late submission penalty's ChargeReference
// or a posted late payment penalty's PenaltyChargeReference, such as
// "XS198765432109".
//
// A malformed reference is a *ValidationError (CHARGE_REFERENCE_INVALID);
// HMRC answers 404 ErrMatchingResourceNotFound for an unknown one.
func (c *Client) FinancialDetails(ctx context.Context, vrn VRN, chargeReference string, opts ...CallOption) (*FinancialDetails, error) {
	if err := validate("FinancialDetails", vrn.check, checkChargeReference(chargeReference)); err != nil {
		return nil, err
	}
	var out FinancialDetails
	if _, err := c.get(ctx, &request{op: "FinancialDetails", path: vatPath(vrn, "financial-details", chargeReference)}, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

func checkChargeReference(ref string) func(*problems) {
	return func(p *problems) {
		// HMRC's rule: X, a letter and 12 digits (^X[a-zA-Z]\d{12}$).
		ok := len(ref) == 14 && ref[0] == 'X' && isASCIILetter(ref[1]) && allDigits(ref[2:])
		if !ok {
			p.add("chargeReference", "CHARGE_REFERENCE_INVALID", "charge reference must be X, a letter and 12 digits, got %q", truncate(ref, 20))
		}
	}
}

func isASCIILetter(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

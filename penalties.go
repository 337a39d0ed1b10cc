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
	// TaxPeriodStartDate, TaxPeriodEndDate and TaxPeriodDueDate describe the
	// period; ReturnReceiptDate is when the return arrived.
	TaxPeriodStartDate Date `json:"taxPeriodStartDate,omitzero"`
	TaxPeriodEndDate   Date `json:"taxPeriodEndDate,omitzero"`
	TaxPeriodDueDate   Date `json:"taxPeriodDueDate,omitzero"`
	ReturnReceiptDate  Date `json:"returnReceiptDate,omitzero"`
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

// LatePaymentPenaltyDetail is one late payment penalty.
type LatePaymentPenaltyDetail struct {
	// PrincipalChargeReference references the charge that was paid late.
	PrincipalChargeReference string `json:"principalChargeReference"`
	// PenaltyCategory is LPP1 or LPP2.
	PenaltyCategory LatePaymentPenaltyCategory `json:"penaltyCategory"`
	// PenaltyStatus is accruing or posted.
	PenaltyStatus LatePaymentPenaltyStatus `json:"penaltyStatus"`
	// PenaltyAmountAccruing is the amount still accruing.
	PenaltyAmountAccruing Money `json:"penaltyAmountAccruing"`
	// PenaltyAmountPosted is the amount charged.
	PenaltyAmountPosted Money `json:"penaltyAmountPosted"`
	// PenaltyAmountPaid and PenaltyAmountOutstanding split the posted amount.
	PenaltyAmountPaid        *Money `json:"penaltyAmountPaid,omitempty"`
	PenaltyAmountOutstanding *Money `json:"penaltyAmountOutstanding,omitempty"`
	// The LPP1 calculation: the amounts the lower and higher rates apply to,
	// and the rates.
	LatePaymentPenalty1LowerRateCalculationAmount  *Money   `json:"latePaymentPenalty1LowerRateCalculationAmount,omitempty"`
	LatePaymentPenalty1LowerRatePercentage         *Percent `json:"latePaymentPenalty1LowerRatePercentage,omitempty"`
	LatePaymentPenalty1HigherRateCalculationAmount *Money   `json:"latePaymentPenalty1HigherRateCalculationAmount,omitempty"`
	LatePaymentPenalty1HigherRatePercentage        *Percent `json:"latePaymentPenalty1HigherRatePercentage,omitempty"`
	// The LPP2 calculation: the number of days (a string, as HMRC sends it)
	// and the rate.
	LatePaymentPenalty2Days       string   `json:"latePaymentPenalty2Days,omitempty"`
	LatePaymentPenalty2Percentage *Percent `json:"latePaymentPenalty2Percentage,omitempty"`
	// PenaltyChargeCreationDate, CommunicationsDate and PenaltyChargeDueDate
	// date the penalty charge.
	PenaltyChargeCreationDate Date `json:"penaltyChargeCreationDate,omitzero"`
	CommunicationsDate        Date `json:"communicationsDate,omitzero"`
	PenaltyChargeDueDate      Date `json:"penaltyChargeDueDate,omitzero"`
	// PenaltyChargeReference references the penalty charge, for
	// [Client.FinancialDetails]; empty while the penalty is accruing.
	PenaltyChargeReference string `json:"penaltyChargeReference,omitempty"`
	// PrincipalChargeDocNumber and the billing and due dates describe the
	// charge that was paid late.
	PrincipalChargeDocNumber      string `json:"principalChargeDocNumber"`
	PrincipalChargeBillingFrom    Date   `json:"principalChargeBillingFrom"`
	PrincipalChargeBillingTo      Date   `json:"principalChargeBillingTo"`
	PrincipalChargeDueDate        Date   `json:"principalChargeDueDate"`
	PrincipalChargeLatestClearing Date   `json:"principalChargeLatestClearing,omitzero"`
	// AppealInformation lists appeals against the penalty.
	AppealInformation []AppealInformation `json:"appealInformation,omitempty"`
	// TimeToPay lists Time to Pay arrangements.
	TimeToPay []TimeToPay `json:"timeToPay,omitempty"`
}

// TimeToPay is a Time to Pay arrangement's period.
type TimeToPay struct {
	TimeToPayStartDate Date `json:"timeToPayStartDate,omitzero"`
	TimeToPayEndDate   Date `json:"timeToPayEndDate,omitzero"`
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

// FinancialDetails is the financial position of one penalty charge.
type FinancialDetails struct {
	// Totalisations sums the account.
	Totalisations *FinancialTotalisations `json:"totalisations,omitempty"`
	// DocumentDetails lists the charge's documents.
	DocumentDetails []DocumentDetail `json:"documentDetails,omitempty"`
}

// FinancialTotalisations sums an account. Fields HMRC leaves out are nil.
type FinancialTotalisations struct {
	TotalOverdue                      *Money                             `json:"totalOverdue,omitempty"`
	TotalNotYetDue                    *Money                             `json:"totalNotYetDue,omitempty"`
	TotalBalance                      *Money                             `json:"totalBalance,omitempty"`
	TotalCredit                       *Money                             `json:"totalCredit,omitempty"`
	TotalCleared                      *Money                             `json:"totalCleared,omitempty"`
	AdditionalReceivableTotalisations *AdditionalReceivableTotalisations `json:"additionalReceivableTotalisations,omitempty"`
}

// AdditionalReceivableTotalisations sums the interest on an account.
type AdditionalReceivableTotalisations struct {
	// TotalAccountPostedInterest is the interest HMRC has posted.
	TotalAccountPostedInterest *Money `json:"totalAccountPostedInterest,omitempty"`
	// TotalAccountAccruingInterest is the unposted interest accrued so far.
	TotalAccountAccruingInterest *Money `json:"totalAccountAccruingInterest,omitempty"`
}

// DocumentDetail is one document of a charge.
type DocumentDetail struct {
	PostingDate               Date                    `json:"postingDate,omitzero"`
	IssueDate                 Date                    `json:"issueDate,omitzero"`
	DocumentTotalAmount       *Money                  `json:"documentTotalAmount,omitempty"`
	DocumentClearedAmount     *Money                  `json:"documentClearedAmount,omitempty"`
	DocumentOutstandingAmount *Money                  `json:"documentOutstandingAmount,omitempty"`
	DocumentInterestTotals    *DocumentInterestTotals `json:"documentInterestTotals,omitempty"`
	LineItemDetails           []LineItemDetail        `json:"lineItemDetails,omitempty"`
}

// DocumentInterestTotals sums the interest on a document.
type DocumentInterestTotals struct {
	InterestPostedAmount   *Money `json:"interestPostedAmount,omitempty"`
	InterestAccruingAmount *Money `json:"interestAccruingAmount,omitempty"`
}

// LineItemDetail is one line of a document.
type LineItemDetail struct {
	// ChargeDescription describes the charge, for example "VAT Return".
	ChargeDescription       string                   `json:"chargeDescription,omitempty"`
	PeriodFromDate          Date                     `json:"periodFromDate,omitzero"`
	PeriodToDate            Date                     `json:"periodToDate,omitzero"`
	NetDueDate              Date                     `json:"netDueDate,omitzero"`
	Amount                  *Money                   `json:"amount,omitempty"`
	LineItemInterestDetails *LineItemInterestDetails `json:"lineItemInterestDetails,omitempty"`
}

// LineItemInterestDetails is the interest on one line.
type LineItemInterestDetails struct {
	InterestStartDate      Date     `json:"interestStartDate,omitzero"`
	CurrentInterestRate    *Percent `json:"currentInterestRate,omitempty"`
	InterestPostedAmount   *Money   `json:"interestPostedAmount,omitempty"`
	InterestAccruingAmount *Money   `json:"interestAccruingAmount,omitempty"`
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

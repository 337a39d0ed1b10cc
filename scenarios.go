package vat

// Gov-Test-Scenario values of HMRC's sandbox, per endpoint (VAT (MTD) API
// §9). Pass them with WithTestScenario; each type's constants belong to one
// endpoint, and using one with another endpoint is refused before sending.
// WithTestScenario also takes a plain string, for scenarios HMRC adds later.
// [Client.FinancialDetails] has none but DEFAULT, which is what sending no
// scenario gives.

// ObligationsScenario is a Gov-Test-Scenario value for [Client.Obligations].
// HMRC's sandbox data is canned: dates in the query are not applied.
type ObligationsScenario string

func (ObligationsScenario) scenarioFor() string { return "Obligations" }

// Obligations scenarios.
const (
	// ObligationsQuarterlyNoneMet: quarterly obligations, none fulfilled.
	ObligationsQuarterlyNoneMet ObligationsScenario = "QUARTERLY_NONE_MET"
	// ObligationsQuarterlyOneMet: quarterly obligations, one fulfilled (also the sandbox's answer without a scenario).
	ObligationsQuarterlyOneMet ObligationsScenario = "QUARTERLY_ONE_MET"
	// ObligationsQuarterlyTwoMet: quarterly obligations, two fulfilled.
	ObligationsQuarterlyTwoMet ObligationsScenario = "QUARTERLY_TWO_MET"
	// ObligationsQuarterlyThreeMet: quarterly obligations, three fulfilled.
	ObligationsQuarterlyThreeMet ObligationsScenario = "QUARTERLY_THREE_MET"
	// ObligationsQuarterlyFourMet: quarterly obligations, four fulfilled.
	ObligationsQuarterlyFourMet ObligationsScenario = "QUARTERLY_FOUR_MET"
	// ObligationsMonthlyNoneMet: monthly obligations, none fulfilled.
	ObligationsMonthlyNoneMet ObligationsScenario = "MONTHLY_NONE_MET"
	// ObligationsMonthlyOneMet: monthly obligations, one month fulfilled.
	ObligationsMonthlyOneMet ObligationsScenario = "MONTHLY_ONE_MET"
	// ObligationsMonthlyTwoMet: monthly obligations, two months fulfilled.
	ObligationsMonthlyTwoMet ObligationsScenario = "MONTHLY_TWO_MET"
	// ObligationsMonthlyThreeMet: monthly obligations, three months fulfilled.
	ObligationsMonthlyThreeMet ObligationsScenario = "MONTHLY_THREE_MET"
	// ObligationsMonthlyObs01Open: monthly obligations for 2018, month 1 open and the months before it fulfilled.
	ObligationsMonthlyObs01Open ObligationsScenario = "MONTHLY_OBS_01_OPEN"
	// ObligationsMonthlyObs02Open: monthly obligations for 2018, month 2 open and the months before it fulfilled.
	ObligationsMonthlyObs02Open ObligationsScenario = "MONTHLY_OBS_02_OPEN"
	// ObligationsMonthlyObs03Open: monthly obligations for 2018, month 3 open and the months before it fulfilled.
	ObligationsMonthlyObs03Open ObligationsScenario = "MONTHLY_OBS_03_OPEN"
	// ObligationsMonthlyObs04Open: monthly obligations for 2018, month 4 open and the months before it fulfilled.
	ObligationsMonthlyObs04Open ObligationsScenario = "MONTHLY_OBS_04_OPEN"
	// ObligationsMonthlyObs05Open: monthly obligations for 2018, month 5 open and the months before it fulfilled.
	ObligationsMonthlyObs05Open ObligationsScenario = "MONTHLY_OBS_05_OPEN"
	// ObligationsMonthlyObs06Open: monthly obligations for 2018, month 6 open and the months before it fulfilled.
	ObligationsMonthlyObs06Open ObligationsScenario = "MONTHLY_OBS_06_OPEN"
	// ObligationsMonthlyObs07Open: monthly obligations for 2018, month 7 open and the months before it fulfilled.
	ObligationsMonthlyObs07Open ObligationsScenario = "MONTHLY_OBS_07_OPEN"
	// ObligationsMonthlyObs08Open: monthly obligations for 2018, month 8 open and the months before it fulfilled.
	ObligationsMonthlyObs08Open ObligationsScenario = "MONTHLY_OBS_08_OPEN"
	// ObligationsMonthlyObs09Open: monthly obligations for 2018, month 9 open and the months before it fulfilled.
	ObligationsMonthlyObs09Open ObligationsScenario = "MONTHLY_OBS_09_OPEN"
	// ObligationsMonthlyObs10Open: monthly obligations for 2018, month 10 open and the months before it fulfilled.
	ObligationsMonthlyObs10Open ObligationsScenario = "MONTHLY_OBS_10_OPEN"
	// ObligationsMonthlyObs11Open: monthly obligations for 2018, month 11 open and the months before it fulfilled.
	ObligationsMonthlyObs11Open ObligationsScenario = "MONTHLY_OBS_11_OPEN"
	// ObligationsMonthlyObs12Open: monthly obligations for 2018, month 12 open and the months before it fulfilled.
	ObligationsMonthlyObs12Open ObligationsScenario = "MONTHLY_OBS_12_OPEN"
	// ObligationsMonthlyObs12Fulfilled: monthly obligations for 2018, all fulfilled.
	ObligationsMonthlyObs12Fulfilled ObligationsScenario = "MONTHLY_OBS_12_FULFILLED"
	// ObligationsQuarterlyObs01Open: quarterly obligations for 2018, quarter 1 open and the quarters before it fulfilled.
	ObligationsQuarterlyObs01Open ObligationsScenario = "QUARTERLY_OBS_01_OPEN"
	// ObligationsQuarterlyObs02Open: quarterly obligations for 2018, quarter 2 open and the quarters before it fulfilled.
	ObligationsQuarterlyObs02Open ObligationsScenario = "QUARTERLY_OBS_02_OPEN"
	// ObligationsQuarterlyObs03Open: quarterly obligations for 2018, quarter 3 open and the quarters before it fulfilled.
	ObligationsQuarterlyObs03Open ObligationsScenario = "QUARTERLY_OBS_03_OPEN"
	// ObligationsQuarterlyObs04Open: quarterly obligations for 2018, quarter 4 open and the quarters before it fulfilled.
	ObligationsQuarterlyObs04Open ObligationsScenario = "QUARTERLY_OBS_04_OPEN"
	// ObligationsQuarterlyObs04Fulfilled: quarterly obligations for 2018, all fulfilled.
	ObligationsQuarterlyObs04Fulfilled ObligationsScenario = "QUARTERLY_OBS_04_FULFILLED"
	// ObligationsMultipleOpenMonthly: monthly obligations for 2018, two open.
	ObligationsMultipleOpenMonthly ObligationsScenario = "MULTIPLE_OPEN_MONTHLY"
	// ObligationsMultipleOpenQuarterly: quarterly obligations for 2018, two open.
	ObligationsMultipleOpenQuarterly ObligationsScenario = "MULTIPLE_OPEN_QUARTERLY"
	// ObligationsObsSpansMultipleYears: one obligation spanning the calendar years 2018 and 2019.
	ObligationsObsSpansMultipleYears ObligationsScenario = "OBS_SPANS_MULTIPLE_YEARS"
	// ObligationsInsolventTrader: an insolvent trader: 403 RULE_INSOLVENT_TRADER.
	ObligationsInsolventTrader ObligationsScenario = "INSOLVENT_TRADER"
	// ObligationsNotFound: no obligations: 404 NOT_FOUND.
	ObligationsNotFound ObligationsScenario = "NOT_FOUND"
)

// SubmitReturnScenario is a Gov-Test-Scenario value for
// [Client.SubmitReturn]. Without a scenario the sandbox stores the return,
// and a second return for the same period gets DUPLICATE_SUBMISSION.
type SubmitReturnScenario string

func (SubmitReturnScenario) scenarioFor() string { return "SubmitReturn" }

// SubmitReturn scenarios.
const (
	// SubmitReturnInvalidVRN: HMRC's back end rejects the VRN: 400 VRN_INVALID.
	SubmitReturnInvalidVRN SubmitReturnScenario = "INVALID_VRN"
	// SubmitReturnInvalidPeriodKey: HMRC's back end rejects the period key: 400 PERIOD_KEY_INVALID.
	SubmitReturnInvalidPeriodKey SubmitReturnScenario = "INVALID_PERIODKEY"
	// SubmitReturnInvalidPayload: HMRC's back end rejects the body: 400 INVALID_REQUEST, with no detail.
	SubmitReturnInvalidPayload SubmitReturnScenario = "INVALID_PAYLOAD"
	// SubmitReturnDuplicateSubmission: a return was already filed for the period: 403 DUPLICATE_SUBMISSION.
	SubmitReturnDuplicateSubmission SubmitReturnScenario = "DUPLICATE_SUBMISSION"
	// SubmitReturnTaxPeriodNotEnded: the period has not ended: 403 TAX_PERIOD_NOT_ENDED.
	SubmitReturnTaxPeriodNotEnded SubmitReturnScenario = "TAX_PERIOD_NOT_ENDED"
	// SubmitReturnInsolventTrader: an insolvent trader: 403 RULE_INSOLVENT_TRADER.
	SubmitReturnInsolventTrader SubmitReturnScenario = "INSOLVENT_TRADER"
)

// ViewReturnScenario is a Gov-Test-Scenario value for [Client.ViewReturn].
// Without a scenario the sandbox returns what was submitted, or an empty 404.
type ViewReturnScenario string

func (ViewReturnScenario) scenarioFor() string { return "ViewReturn" }

// ViewReturn scenarios.
const (
	// ViewReturnDateRangeTooLarge: the return is more than four years old: 403 DATE_RANGE_TOO_LARGE.
	ViewReturnDateRangeTooLarge ViewReturnScenario = "DATE_RANGE_TOO_LARGE"
	// ViewReturnInsolventTrader: an insolvent trader: 403 RULE_INSOLVENT_TRADER.
	ViewReturnInsolventTrader ViewReturnScenario = "INSOLVENT_TRADER"
)

// LiabilitiesScenario is a Gov-Test-Scenario value for [Client.Liabilities].
// The sandbox returns data only with a scenario AND the dates it documents;
// otherwise 404 NOT_FOUND.
type LiabilitiesScenario string

func (LiabilitiesScenario) scenarioFor() string { return "Liabilities" }

// Liabilities scenarios.
const (
	// LiabilitiesSingleLiability: a single liability, with from 2017-01-02 and to 2017-02-02.
	LiabilitiesSingleLiability LiabilitiesScenario = "SINGLE_LIABILITY"
	// LiabilitiesMultipleLiabilities: several liabilities, with from 2017-04-05 and to 2017-12-21.
	LiabilitiesMultipleLiabilities LiabilitiesScenario = "MULTIPLE_LIABILITIES"
	// LiabilitiesSingleLiability201819: a single liability, with from 2018-01-02 and to 2018-02-02.
	LiabilitiesSingleLiability201819 LiabilitiesScenario = "SINGLE_LIABILITY_2018_19"
	// LiabilitiesMultipleLiabilities201819: several liabilities, with from 2018-04-05 and to 2018-12-21.
	LiabilitiesMultipleLiabilities201819 LiabilitiesScenario = "MULTIPLE_LIABILITIES_2018_19"
	// LiabilitiesInsolventTrader: an insolvent trader: 403 RULE_INSOLVENT_TRADER.
	LiabilitiesInsolventTrader LiabilitiesScenario = "INSOLVENT_TRADER"
)

// PaymentsScenario is a Gov-Test-Scenario value for [Client.Payments]. The
// sandbox returns data only with a scenario AND the dates it documents;
// otherwise 404 NOT_FOUND.
type PaymentsScenario string

func (PaymentsScenario) scenarioFor() string { return "Payments" }

// Payments scenarios.
const (
	// PaymentsSinglePayment: a single payment, with from 2017-01-02 and to 2017-02-02.
	PaymentsSinglePayment PaymentsScenario = "SINGLE_PAYMENT"
	// PaymentsMultiplePayments: several payments, with from 2017-02-27 and to 2017-12-21.
	PaymentsMultiplePayments PaymentsScenario = "MULTIPLE_PAYMENTS"
	// PaymentsSinglePayment201819: a single payment, with from 2018-01-02 and to 2018-02-02.
	PaymentsSinglePayment201819 PaymentsScenario = "SINGLE_PAYMENT_2018_19"
	// PaymentsMultiplePayments201819: several payments, with from 2018-02-27 and to 2018-12-21.
	PaymentsMultiplePayments201819 PaymentsScenario = "MULTIPLE_PAYMENTS_2018_19"
	// PaymentsInsolventTrader: an insolvent trader: 403 RULE_INSOLVENT_TRADER.
	PaymentsInsolventTrader PaymentsScenario = "INSOLVENT_TRADER"
)

// PenaltiesScenario is a Gov-Test-Scenario value for [Client.Penalties].
type PenaltiesScenario string

func (PenaltiesScenario) scenarioFor() string { return "Penalties" }

// Penalties scenarios.
const (
	// PenaltiesDefault: several penalties in the last two years (also the answer without a scenario).
	PenaltiesDefault PenaltiesScenario = "DEFAULT"
	// PenaltiesNoPenalties: no penalties: {}.
	PenaltiesNoPenalties PenaltiesScenario = "NO_PENALTIES"
	// PenaltiesLateSubmission: a single late submission penalty.
	PenaltiesLateSubmission PenaltiesScenario = "LATE_SUBMISSION"
	// PenaltiesLatePayment: a single late payment penalty.
	PenaltiesLatePayment PenaltiesScenario = "LATE_PAYMENT"
	// PenaltiesMultiplePenalties: one late submission and one late payment penalty.
	PenaltiesMultiplePenalties PenaltiesScenario = "MULTIPLE_PENALTIES"
	// PenaltiesMultipleLatePaymentPenalties: several late payment penalties.
	PenaltiesMultipleLatePaymentPenalties PenaltiesScenario = "MULTIPLE_LATE_PAYMENT_PENALTIES"
	// PenaltiesMultipleLateSubmissionPenalties: several late submission penalties.
	PenaltiesMultipleLateSubmissionPenalties PenaltiesScenario = "MULTIPLE_LATE_SUBMISSION_PENALTIES"
	// PenaltiesMultipleInactiveLateSubmissionPenalties: several inactive late submission penalties.
	PenaltiesMultipleInactiveLateSubmissionPenalties PenaltiesScenario = "MULTIPLE_INACTIVE_LATE_SUBMISSION_PENALTIES"
	// PenaltiesThresholdLateSubmissionPenalties: points meet the threshold and the first charge is made.
	PenaltiesThresholdLateSubmissionPenalties PenaltiesScenario = "THRESHOLD_LATE_SUBMISSION_PENALTIES"
	// PenaltiesChargeLateSubmissionPenalties: points exceed the threshold and a second charge is made.
	PenaltiesChargeLateSubmissionPenalties PenaltiesScenario = "CHARGE_LATE_SUBMISSION_PENALTIES"
)

// CustomerInformationScenario is a Gov-Test-Scenario value for
// [Client.CustomerInformation].
type CustomerInformationScenario string

func (CustomerInformationScenario) scenarioFor() string { return "CustomerInformation" }

// CustomerInformation scenarios.
const (
	// CustomerInformationDefault: the default scenario: a registration date and flat rate scheme details.
	CustomerInformationDefault CustomerInformationScenario = "DEFAULT"
	// CustomerInformationNotFound: no customer information: 404 NOT_FOUND.
	CustomerInformationNotFound CustomerInformationScenario = "CUSTOMER_INFO_NOT_FOUND"
	// CustomerInformationNoEffectiveRegistrationDate: no effective registration date.
	CustomerInformationNoEffectiveRegistrationDate CustomerInformationScenario = "NO_EFFECTREGISTRATIONDATE"
	// CustomerInformationNoFlatRateScheme: the customer is not in the Flat Rate Scheme.
	CustomerInformationNoFlatRateScheme CustomerInformationScenario = "NO_FLATRATESCHEME"
	// CustomerInformationNoEffectiveRegistrationDateNoFRS: neither a registration date nor the Flat Rate Scheme.
	CustomerInformationNoEffectiveRegistrationDateNoFRS CustomerInformationScenario = "NO_EFFECTREGISTRATIONDATE_NO_FRS"
)

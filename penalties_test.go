package vat

import (
	"bytes"
	"context"
	"encoding/json"
	"math/big"
	"net/http"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// normalise decodes JSON into plain values with every number replaced by its
// exact rational value, so that 12.10 and 12.1 compare equal.
func normalise(t testing.TB, b []byte) any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	require.NoError(t, d.Decode(&v))
	var walk func(any) any
	walk = func(v any) any {
		switch x := v.(type) {
		case json.Number:
			r, ok := new(big.Rat).SetString(x.String())
			require.True(t, ok, x)
			return r.RatString()
		case map[string]any:
			for k, e := range x {
				x[k] = walk(e)
			}
		case []any:
			for i, e := range x {
				x[i] = walk(e)
			}
		}
		return v
	}
	return walk(v)
}

// assertLossless decodes fixture into v and encodes v again: the result must
// hold exactly the same fields and values, so no field of HMRC's example is
// dropped or altered by the types.
func assertLossless(t *testing.T, fixture []byte, v any) {
	t.Helper()
	require.NoError(t, json.Unmarshal(fixture, v))
	back, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, normalise(t, fixture), normalise(t, back))
}

func TestPenaltiesAllFieldsExample(t *testing.T) {
	t.Parallel()
	pct := func(p Percent) *Percent { return &p }
	want := Penalties{
		Totalisations: &PenaltyTotalisations{
			LateSubmissionPenaltyTotalValue: money(40000),
			PenalisedPrincipalTotal:         money(1000000),
			LatePaymentPenaltyPostedTotal:   money(42521),
			LatePaymentPenaltyEstimateTotal: money(3068),
		},
		LateSubmissionPenalty: &LateSubmissionPenalty{
			Summary: LateSubmissionSummary{ActivePenaltyPoints: 4, InactivePenaltyPoints: 1,
				PeriodOfComplianceAchievement: date(t, "2025-05-31"), RegimeThreshold: 4, PenaltyChargeAmount: 40000},
			Details: []LateSubmissionPenaltyDetail{
				{PenaltyNumber: "00004", PenaltyOrder: "4", PenaltyCategory: PenaltyCategoryPoint, PenaltyStatus: PenaltyInactive,
					FrequencyAdjustmentPointIndicator: "X", PenaltyCreationDate: date(t, "2023-11-08"), PenaltyExpiryDate: date(t, "2025-12-01"),
					ExpiryReason: ExpiryAppeal, CommunicationsDate: date(t, "2023-11-11"),
					LateSubmissions: []LateSubmission{{LateSubmissionID: "1054600", TaxReturnStatus: TaxReturnFulfilled,
						TaxPeriodStartDate: date(t, "2023-07-01"), TaxPeriodEndDate: date(t, "2023-09-30"),
						TaxPeriodDueDate: date(t, "2023-11-07"), ReturnReceiptDate: date(t, "2023-11-13")}},
					AppealInformation: []AppealInformation{{AppealStatus: AppealUpheld, AppealLevel: AppealStatutoryReview}}},
				{PenaltyNumber: "00005", PenaltyOrder: "5", PenaltyCategory: PenaltyCategoryThreshold, PenaltyStatus: PenaltyActive,
					PenaltyCreationDate: date(t, "2024-02-08"), PenaltyExpiryDate: date(t, "2026-03-01"), CommunicationsDate: date(t, "2024-02-11"),
					LateSubmissions: []LateSubmission{{LateSubmissionID: "1054700", TaxReturnStatus: TaxReturnFulfilled,
						TaxPeriodStartDate: date(t, "2023-10-01"), TaxPeriodEndDate: date(t, "2023-12-31"),
						TaxPeriodDueDate: date(t, "2024-02-07"), ReturnReceiptDate: date(t, "2024-02-15")}},
					ChargeReference: "XS198765432109", ChargeAmount: money(20000), ChargeOutstandingAmount: money(20000), ChargeDueDate: date(t, "2024-02-28")},
				{PenaltyNumber: "00006", PenaltyOrder: "6", PenaltyCategory: PenaltyCategoryCharge, PenaltyStatus: PenaltyActive,
					PenaltyCreationDate: date(t, "2024-05-08"), PenaltyExpiryDate: date(t, "2026-06-01"), CommunicationsDate: date(t, "2024-05-11"),
					LateSubmissions: []LateSubmission{{LateSubmissionID: "1054800", TaxReturnStatus: TaxReturnFulfilled,
						TaxPeriodStartDate: date(t, "2024-01-01"), TaxPeriodEndDate: date(t, "2024-03-31"),
						TaxPeriodDueDate: date(t, "2024-05-07"), ReturnReceiptDate: date(t, "2024-11-12")}},
					ChargeReference: "XS212345678901", ChargeAmount: money(20000), ChargeOutstandingAmount: money(20000), ChargeDueDate: date(t, "2024-02-28")},
			},
		},
		LatePaymentPenalty: &LatePaymentPenalty{Details: []LatePaymentPenaltyDetail{
			{PrincipalChargeReference: "XV123451234512", PenaltyCategory: LatePaymentPenalty1, PenaltyStatus: LatePaymentPosted,
				PenaltyAmountAccruing: 0, PenaltyAmountPosted: 40000, PenaltyAmountPaid: money(0), PenaltyAmountOutstanding: money(40000),
				LatePaymentPenalty1LowerRateCalculationAmount: money(1000000), LatePaymentPenalty1LowerRatePercentage: pct(200),
				LatePaymentPenalty1HigherRateCalculationAmount: money(1000000), LatePaymentPenalty1HigherRatePercentage: pct(200),
				PenaltyChargeCreationDate: date(t, "2024-06-06"), CommunicationsDate: date(t, "2024-06-09"),
				PenaltyChargeReference: "XP123456789012", PenaltyChargeDueDate: date(t, "2024-07-06"),
				PrincipalChargeDocNumber: "10023852", PrincipalChargeBillingFrom: date(t, "2024-01-01"), PrincipalChargeBillingTo: date(t, "2024-03-31"),
				PrincipalChargeDueDate: date(t, "2024-05-07"), PrincipalChargeLatestClearing: date(t, "2024-07-31"),
				TimeToPay:         []TimeToPay{{TimeToPayStartDate: date(t, "2024-07-06"), TimeToPayEndDate: date(t, "2024-07-11")}},
				AppealInformation: []AppealInformation{{AppealStatus: AppealRejected, AppealLevel: AppealStatutoryReview}}},
			{PrincipalChargeReference: "XV123451234512", PenaltyCategory: LatePaymentPenalty2, PenaltyStatus: LatePaymentAccruing,
				PenaltyAmountAccruing: 3068, PenaltyAmountPosted: 2521, PenaltyAmountPaid: money(0), PenaltyAmountOutstanding: money(2521),
				LatePaymentPenalty2Days: "23", LatePaymentPenalty2Percentage: pct(400),
				PenaltyChargeCreationDate: date(t, "2024-07-01"), CommunicationsDate: date(t, "2024-07-04"),
				PenaltyChargeReference: "XP298765432109", PenaltyChargeDueDate: date(t, "2024-08-07"),
				PrincipalChargeDocNumber: "10023852", PrincipalChargeBillingFrom: date(t, "2024-01-01"), PrincipalChargeBillingTo: date(t, "2024-03-31"),
				PrincipalChargeDueDate: date(t, "2024-05-07"), PrincipalChargeLatestClearing: date(t, "2024-07-31")},
		}},
	}
	var got Penalties
	require.NoError(t, json.Unmarshal(readFixture(t, "hmrc/oas/RetrieveVATpenalties/response-200-example-2.json"), &got))
	assert.Equal(t, want, got)
	assert.False(t, got.None())
}

func TestPenaltyFixturesAreLossless(t *testing.T) {
	t.Parallel()
	for _, file := range []string{
		"hmrc/oas/RetrieveVATpenalties/response-200-example-1.json",
		"hmrc/oas/RetrieveVATpenalties/response-200-example-2.json",
		"hmrc/raml/penalties/Penalties.json",
		"hmrc/raml/penalties/PenaltiesNone.json",
	} {
		t.Run(file, func(t *testing.T) { assertLossless(t, readFixture(t, file), new(Penalties)) })
	}
	for _, file := range []string{
		"hmrc/oas/Retrievefinancialdetails/response-200-example-1.json",
		"hmrc/raml/penalties/FinancialDetails.json",
	} {
		t.Run(file, func(t *testing.T) { assertLossless(t, readFixture(t, file), new(FinancialDetails)) })
	}
	var none Penalties
	require.NoError(t, json.Unmarshal(readFixture(t, "hmrc/raml/penalties/PenaltiesNone.json"), &none))
	assert.True(t, none.None(), "{} means no penalties")
}

func TestUnknownEnumerationsStillDecode(t *testing.T) {
	t.Parallel()
	var p Penalties
	body := `{"lateSubmissionPenalty":{"summary":{"activePenaltyPoints":0,"inactivePenaltyPoints":0,"periodOfComplianceAchievement":"9999-12-31","regimeThreshold":4,"penaltyChargeAmount":200},
		"details":[{"penaltyNumber":"1","penaltyOrder":"NA","penaltyCategory":"something-new","penaltyStatus":"suspended","penaltyCreationDate":"2024-01-01","penaltyExpiryDate":"2026-01-01","expiryReason":"new-reason",
		"appealInformation":[{"appealStatus":"re-opened","appealLevel":"upper-tribunal"}],"lateSubmissions":[{"lateSubmissionID":"9","taxReturnStatus":"Pending"}]}]},
		"latePaymentPenalty":{"details":[{"principalChargeReference":"XV1","penaltyCategory":"LPP3","penaltyStatus":"waived","penaltyAmountAccruing":0,"penaltyAmountPosted":0,"principalChargeDocNumber":"1","principalChargeBillingFrom":"2024-01-01","principalChargeBillingTo":"2024-03-31","principalChargeDueDate":"2024-05-07"}]}}`
	require.NoError(t, json.Unmarshal([]byte(body), &p))
	d := p.LateSubmissionPenalty.Details[0]
	assert.Equal(t, PenaltyCategory("something-new"), d.PenaltyCategory)
	assert.Equal(t, PenaltyStatus("suspended"), d.PenaltyStatus)
	assert.Equal(t, ExpiryReason("new-reason"), d.ExpiryReason)
	assert.Equal(t, AppealStatus("re-opened"), d.AppealInformation[0].AppealStatus)
	assert.Equal(t, AppealLevel("upper-tribunal"), d.AppealInformation[0].AppealLevel)
	assert.Equal(t, TaxReturnStatus("Pending"), d.LateSubmissions[0].TaxReturnStatus)
	assert.Equal(t, LatePaymentPenaltyCategory("LPP3"), p.LatePaymentPenalty.Details[0].PenaltyCategory)
	assert.Equal(t, LatePaymentPenaltyStatus("waived"), p.LatePaymentPenalty.Details[0].PenaltyStatus)
	assert.Equal(t, "9999-12-31", p.LateSubmissionPenalty.Summary.PeriodOfComplianceAchievement.String())
}

func TestFinancialDetailsExample(t *testing.T) {
	t.Parallel()
	var fd FinancialDetails
	require.NoError(t, json.Unmarshal(readFixture(t, "hmrc/oas/Retrievefinancialdetails/response-200-example-1.json"), &fd))
	require.NotNil(t, fd.Totalisations)
	assert.Equal(t, money(12345), fd.Totalisations.TotalOverdue)
	assert.Equal(t, money(1234), fd.Totalisations.TotalNotYetDue)
	assert.Equal(t, money(10999), fd.Totalisations.TotalBalance)
	assert.Equal(t, money(1346), fd.Totalisations.TotalCredit)
	assert.Equal(t, money(1235), fd.Totalisations.TotalCleared)
	assert.Equal(t, money(1312), fd.Totalisations.AdditionalReceivableTotalisations.TotalAccountPostedInterest)
	assert.Equal(t, money(1210), fd.Totalisations.AdditionalReceivableTotalisations.TotalAccountAccruingInterest)
	require.Len(t, fd.DocumentDetails, 1)
	doc := fd.DocumentDetails[0]
	assert.Equal(t, date(t, "2024-05-07"), doc.PostingDate)
	assert.Equal(t, date(t, "2024-05-07"), doc.IssueDate)
	assert.Equal(t, money(12345), doc.DocumentTotalAmount)
	assert.Equal(t, money(11111), doc.DocumentClearedAmount)
	assert.Equal(t, money(1234), doc.DocumentOutstandingAmount)
	assert.Equal(t, money(1312), doc.DocumentInterestTotals.InterestPostedAmount)
	assert.Equal(t, money(1210), doc.DocumentInterestTotals.InterestAccruingAmount)
	require.Len(t, doc.LineItemDetails, 1)
	li := doc.LineItemDetails[0]
	assert.Equal(t, "VAT Return", li.ChargeDescription)
	assert.Equal(t, date(t, "2024-01-01"), li.PeriodFromDate)
	assert.Equal(t, date(t, "2024-03-31"), li.PeriodToDate)
	assert.Equal(t, date(t, "2024-05-07"), li.NetDueDate)
	assert.Equal(t, money(12345), li.Amount)
	assert.Equal(t, date(t, "2024-05-08"), li.LineItemInterestDetails.InterestStartDate)
	assert.Equal(t, "2.00", li.LineItemInterestDetails.CurrentInterestRate.String())
	assert.Equal(t, money(1312), li.LineItemInterestDetails.InterestPostedAmount)
	assert.Equal(t, money(1210), li.LineItemInterestDetails.InterestAccruingAmount)
}

func TestPenaltiesAndFinancialDetailsThroughTheClient(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var sent atomic.Int32
	pen := readFixture(t, "hmrc/oas/RetrieveVATpenalties/response-200-example-2.json")
	fin := readFixture(t, "hmrc/oas/Retrievefinancialdetails/response-200-example-1.json")
	mux.HandleFunc("GET /organisations/vat/{vrn}/penalties", func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		switch r.PathValue("vrn") {
		case "123456789":
			w.Write(pen)
		case "111111111":
			w.Write([]byte(`{}`))
		default:
			writeJSON(w, 500, `{"code":"005","message":"Invalid Tax Regime"}`)
		}
	})
	mux.HandleFunc("GET /organisations/vat/123456789/financial-details/{ref}", func(w http.ResponseWriter, r *http.Request) {
		sent.Add(1)
		if r.PathValue("ref") == "XS198765432109" {
			w.Write(fin)
			return
		}
		writeJSON(w, 404, `{"code":"MATCHING_RESOURCE_NOT_FOUND","message":"The supplied income source could not be found"}`)
	})
	p, err := c.Penalties(context.Background(), "123456789")
	require.NoError(t, err)
	ref := p.LateSubmissionPenalty.Details[1].ChargeReference
	fd, err := c.FinancialDetails(context.Background(), "123456789", ref)
	require.NoError(t, err)
	assert.Len(t, fd.DocumentDetails, 1)

	p, err = c.Penalties(context.Background(), "111111111")
	require.NoError(t, err)
	assert.True(t, p.None())
	_, err = c.Penalties(context.Background(), "222222222")
	assert.ErrorIs(t, err, ErrorCode("005"), "HMRC's pass-through codes stay matchable")
	_, err = c.FinancialDetails(context.Background(), "123456789", "XP123456789012")
	assert.ErrorIs(t, err, ErrMatchingResourceNotFound)

	n := sent.Load()
	for _, bad := range []string{"", "XS19876543210", "XS1987654321099", "YS198765432109", "X1198765432109", "XS19876543210A", "xS198765432109", "XS/98765432109"} {
		_, err := c.FinancialDetails(context.Background(), "123456789", bad)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve, bad)
		assert.Equal(t, "chargeReference", ve.Problems[0].Path)
		assert.ErrorIs(t, err, ErrChargeReferenceInvalid, bad)
	}
	_, err = c.FinancialDetails(context.Background(), "123456789", "Xs198765432109")
	assert.ErrorIs(t, err, ErrMatchingResourceNotFound, "a lower-case letter is allowed, so it was sent")
	_, err = c.Penalties(context.Background(), "1")
	assert.ErrorIs(t, err, ErrVRNInvalid)
	assert.Equal(t, n+1, sent.Load(), "only the well-formed reference was sent")
}

func TestCustomerInformation(t *testing.T) {
	t.Parallel()
	var ci CustomerInformation
	fixture := readFixture(t, "hmrc/oas/RetrieveVATCustomerInformation/response-200-example-1.json")
	assertLossless(t, fixture, &ci)
	assert.Equal(t, date(t, "2001-01-01"), ci.CustomerDetails.EffectiveRegistrationDate)
	assert.Equal(t, FRSAccountancyOrBookKeeping, ci.FlatRateScheme.FRSCategory)
	assert.Equal(t, "Accountancy or book-keeping", ci.FlatRateScheme.FRSCategory.Description())
	assert.Equal(t, date(t, "2001-01-01"), ci.FlatRateScheme.StartDate)
	assert.Equal(t, "Dealing in waste or scrap", FRSDealingInWasteOrScrap.Description())
	assert.Equal(t, "Data Migrated from VMF", FRSCategory("999").Description())
	assert.Empty(t, FRSCategory("056").Description())

	c, mux := setup(t)
	mux.HandleFunc("GET /organisations/vat/{vrn}/information", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("vrn") == "123456789" {
			w.Write([]byte(`{"flatRateScheme":{"frsCategory":"077"}}`))
			return
		}
		writeJSON(w, 404, `{"code":"NOT_FOUND","message":"The requested resource could not be found"}`)
	})
	got, err := c.CustomerInformation(context.Background(), "123456789")
	require.NoError(t, err)
	assert.Nil(t, got.CustomerDetails)
	assert.Equal(t, FRSCategory("077"), got.FlatRateScheme.FRSCategory, "unknown categories decode as their code")
	_, err = c.CustomerInformation(context.Background(), "987654321")
	assert.ErrorIs(t, err, ErrNotFound)
	_, err = c.CustomerInformation(context.Background(), "")
	assert.ErrorIs(t, err, ErrVRNInvalid)
}

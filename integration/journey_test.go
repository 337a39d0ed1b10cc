package integration_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// journey is what a VAT journey observed, for comparing a replay with its
// recording.
type journey struct {
	Open         []vat.Obligation
	Sent         vat.Return
	Receipt      *vat.Receipt
	Viewed       *vat.Return
	Liabilities  []vat.Liability
	Payments     []vat.Payment
	Late, None   *vat.Penalties
	SentAgain    *vat.Receipt
	DuplicateErr string
}

func date(t *testing.T, s string) vat.Date {
	t.Helper()
	d, err := vat.ParseDate(s)
	require.NoError(t, err)
	return d
}

// runJourney takes a business through the VAT journey on tg and checks what
// holds on every target: the open obligations include a period that has
// ended; its return is accepted and reads back as sent; liabilities and
// payments answer HMRC's documented scenarios for their documented dates (on
// HMRC's sandbox they answer nothing else); penalties answer two scenarios;
// the same return sent again is recognised as filed, and a different one is
// HMRC's DUPLICATE_SUBMISSION.
//
// HMRC's sandbox differs from vattest in ways the checks leave room for: its
// obligations are canned (2017–2018 periods, whatever the query, and they
// stay open after a return is filed), and a test user reused from an earlier
// run has filed this return already.
func runJourney(t *testing.T, tg *target) journey {
	ctx := t.Context()
	c, vrn, today := tg.client, tg.vrn, tg.today()
	var j journey

	open, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.NoError(t, err)
	j.Open = open
	i := slices.IndexFunc(open, func(o vat.Obligation) bool { return o.Submittable(today) })
	require.GreaterOrEqual(t, i, 0, "an open obligation whose period has ended, on %s, among %v", today, open)
	due := open[i]
	assert.True(t, due.Start.Before(due.End), "period %s runs from %s to %s", due.PeriodKey, due.Start, due.End)
	assert.True(t, due.End.Before(due.Due), "period %s is due after it ends", due.PeriodKey)

	r := vat.Return{PeriodKey: due.PeriodKey, VATDueSales: 1_055_00, VATDueAcquisitions: 12_50, VATReclaimedCurrPeriod: 401_20,
		TotalValueSalesExVAT: 5_275, TotalValuePurchasesExVAT: 2_006, Finalised: true}
	r.ComputeTotals()
	require.NoError(t, r.Validate())
	j.Sent = r
	rc, err := c.SubmitReturn(ctx, vrn, r)
	require.NoError(t, err, "a DUPLICATE_SUBMISSION for a new test user on HMRC's sandbox is a known sandbox fault (hmrc/vat-api#452): run again")
	j.Receipt = rc
	if rc.Recovered {
		require.False(t, tg.fresh, "HMRC holds a return for %s of an organisation created for this test", due.PeriodKey)
		t.Logf("the return for %s was filed by an earlier run with this test user; HMRC holds it unchanged", due.PeriodKey)
		assert.Equal(t, r, finalised(rc.Filed))
	} else {
		assert.Regexp(t, `^[0-9]{12}$`, rc.FormBundleNumber)
		assert.False(t, rc.ProcessingDate.IsZero(), "processingDate")
	}

	viewed, err := c.ViewReturn(ctx, vrn, due.PeriodKey)
	require.NoError(t, err)
	j.Viewed = viewed
	assert.Equal(t, r, finalised(viewed), "HMRC holds exactly what was sent")

	liabilities, err := c.Liabilities(ctx, vrn, vat.DateRange{From: date(t, "2017-01-02"), To: date(t, "2017-02-02")},
		vat.WithTestScenario(vat.LiabilitiesSingleLiability))
	require.NoError(t, err)
	j.Liabilities = liabilities
	if assert.Len(t, liabilities, 1) {
		l := liabilities[0]
		assert.NotEmpty(t, l.Type)
		assert.Positive(t, l.OriginalAmount)
		assert.False(t, l.Due.IsZero(), "due date")
	}

	payments, err := c.Payments(ctx, vrn, vat.DateRange{From: date(t, "2017-01-02"), To: date(t, "2017-02-02")},
		vat.WithTestScenario(vat.PaymentsSinglePayment))
	require.NoError(t, err)
	j.Payments = payments
	if assert.Len(t, payments, 1) {
		assert.Positive(t, payments[0].Amount)
	}

	j.Late, err = c.Penalties(ctx, vrn, vat.WithTestScenario(vat.PenaltiesLateSubmission))
	require.NoError(t, err)
	assert.False(t, j.Late.None(), "a late submission penalty")
	j.None, err = c.Penalties(ctx, vrn, vat.WithTestScenario(vat.PenaltiesNoPenalties))
	require.NoError(t, err)
	assert.True(t, j.None.None(), "no penalties")

	// The same return again: HMRC answers DUPLICATE_SUBMISSION, and the SDK
	// reads the filed return back and recognises it.
	again, err := c.SubmitReturn(ctx, vrn, r)
	require.NoError(t, err)
	j.SentAgain = again
	assert.True(t, again.Recovered, "recognised as filed")
	assert.Equal(t, r, finalised(again.Filed))

	other := r
	other.VATDueSales += 100
	other.ComputeTotals()
	_, err = c.SubmitReturn(ctx, vrn, other)
	assert.ErrorIs(t, err, vat.ErrDuplicateSubmission)
	if err != nil {
		j.DuplicateErr = err.Error()
	}
	return j
}

// finalised returns the return r points to, with Finalised set: HMRC does
// not keep the declaration, only the boxes.
func finalised(r *vat.Return) vat.Return {
	if r == nil {
		return vat.Return{}
	}
	c := *r
	c.Finalised = true
	return c
}

// TestJourney runs the VAT journey: obligations, the open ended period's
// return, viewing it, liabilities, payments, penalties, and a duplicate.
func TestJourney(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) { runJourney(t, tg) })
}

// checkFraudHeaders asks the target's Test Fraud Prevention Headers API for
// its verdict on the suite's headers, reports it, and checks that HMRC finds
// no errors (warnings are reported only) and that the SDK's own validator,
// which answers offline, finds none either.
func checkFraudHeaders(t *testing.T, tg *target) *fraud.Validation {
	ctx := t.Context()
	v, err := tg.client.CheckFraudHeaders(ctx)
	if errors.Is(err, vat.ErrInvalidCredentials) || errors.Is(err, vat.ErrIncorrectAccessTokenType) {
		// HMRC's validator has at times refused application tokens.
		t.Logf("the validator refused the application's token (%v): asking with the user's", err)
		v, err = tg.userClient.CheckFraudHeaders(ctx)
	}
	if errors.Is(err, vat.ErrResourceForbidden) {
		t.Skipf("the application is not subscribed to HMRC's Test Fraud Prevention Headers API: subscribe to it on the Developer Hub (%v)", err)
	}
	require.NoError(t, err)
	report(t, tg.name, v)
	assert.Contains(t, []fraud.Code{fraud.CodeValidHeaders, fraud.CodePotentiallyInvalidHeaders, fraud.CodeInvalidHeaders}, v.Code)
	assert.NotEmpty(t, v.SpecVersion)
	assert.Empty(t, v.Errors, "HMRC's verdict on the DeviceCollector's headers")

	fh, err := tg.fraud.FraudHeaders(ctx)
	require.NoError(t, err)
	h, err := fh.Header()
	require.NoError(t, err)
	offline := fraud.Validate(h).Automated()
	report(t, "the SDK's offline validator", offline)
	assert.Empty(t, offline.Errors)
	return v
}

// report logs a verdict, naming headers, never their values.
func report(t *testing.T, who string, v *fraud.Validation) {
	t.Logf("%s: fraud prevention headers %s (specification %s): %s", who, v.Code, v.SpecVersion, v.Message)
	for _, f := range v.Errors {
		t.Logf("  error %s on %s: %s", f.Code, strings.Join(f.Headers, ", "), f.Message)
	}
	for _, f := range v.Warnings {
		t.Logf("  warning %s on %s: %s", f.Code, strings.Join(f.Headers, ", "), f.Message)
	}
}

// TestFraudHeaders sends the headers of the SDK's DeviceCollector for
// DESKTOP_APP_DIRECT to HMRC's Test Fraud Prevention Headers API.
func TestFraudHeaders(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) { checkFraudHeaders(t, tg) })
}

// TestCreateTestUsers creates a test organisation with an application
// token, as HMRC's Create Test User API documents.
func TestCreateTestUsers(t *testing.T) {
	forEachTarget(t, func(t *testing.T, tg *target) {
		ctx := t.Context()
		services, err := tg.client.TestUserServices(ctx)
		require.NoError(t, err)
		i := slices.IndexFunc(services, func(s vat.TestService) bool { return s.Key == vat.ServiceMTDVAT })
		require.GreaterOrEqual(t, i, 0, "the mtd-vat service is offered")
		assert.Contains(t, services[i].AllowedUserTypes, "ORGANISATION")

		org, err := tg.client.CreateTestOrganisation(ctx, vat.TestUserRequest{})
		require.NoError(t, err)
		_, err = vat.ParseVRN(string(org.VRN))
		assert.NoError(t, err, "a VRN")
		assert.NotEmpty(t, org.UserID)
		assert.NotEmpty(t, org.Password)
		assert.True(t, org.VATRegistrationDate.Before(tg.today()), "registered before today")
		if assert.NotNil(t, org.OrganisationDetails) {
			assert.NotEmpty(t, org.OrganisationDetails.Name)
		}
		assert.NotContains(t, org.String(), org.Password)
	})
}

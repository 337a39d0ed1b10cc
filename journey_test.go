package vat_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// simClient returns a Client for srv with the given token, without client
// side rate limiting (the simulator's own limit is off in these tests).
func simClient(t *testing.T, srv *vattest.Server, tok *oauth2.Token, opts ...vat.Option) *vat.Client {
	t.Helper()
	base := []vat.Option{
		vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithTokenSource(oauth2.StaticTokenSource(tok)), vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithClock(srv.Now),
	}
	c, err := vat.NewClient(append(base, opts...)...)
	require.NoError(t, err)
	return c
}

// TestJourneyAgainstTheSimulator runs the whole VAT journey through the
// SDK against vattest, which was written from HMRC's documentation
// independently of the client: obligations, submission, view, fulfilled
// obligation, liability, payment, penalties, financial details, customer
// information, and HMRC's refusals of a duplicate and of a period that has
// not ended.
func TestJourneyAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{DirectDebit: true})
	c := simClient(t, srv, tok.OAuth2())
	ctx := context.Background()
	vrn := vat.VRN(user.VRN)
	today := vat.DateOf(srv.Now().UTC())

	open, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.NoError(t, err)
	require.Len(t, open, 2, "one ended period to file, and the current one")
	due, current := open[0], open[1]
	require.True(t, due.Submittable(today))
	require.False(t, current.Submittable(today))

	r := vat.Return{PeriodKey: due.PeriodKey, VATDueSales: 1_234_567, VATDueAcquisitions: 1_050, VATReclaimedCurrPeriod: 402_110,
		TotalValueSalesExVAT: 61_728, TotalValuePurchasesExVAT: 20_105, Finalised: true}
	r.ComputeTotals()
	rc, err := c.SubmitReturn(ctx, vrn, r)
	require.NoError(t, err)
	assert.Len(t, rc.FormBundleNumber, 12)
	assert.Len(t, rc.ReceiptID, 36)
	assert.Len(t, rc.CorrelationID, 36)
	assert.False(t, rc.ProcessingDate.IsZero())
	assert.False(t, rc.ReceiptTimestamp.IsZero())
	assert.Equal(t, vat.PaymentDirectDebit, rc.PaymentIndicator)
	assert.NotEmpty(t, rc.ChargeRefNumber)
	assert.False(t, rc.Recovered)

	filed, err := c.ViewReturn(ctx, vrn, due.PeriodKey)
	require.NoError(t, err)
	assert.Equal(t, r, *filed, "HMRC holds exactly what was sent")

	fulfilled, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{From: due.Start, To: due.End, Status: vat.ObligationFulfilled})
	require.NoError(t, err)
	require.Len(t, fulfilled, 1)
	assert.Equal(t, due.PeriodKey, fulfilled[0].PeriodKey)
	assert.Equal(t, today, fulfilled[0].Received)

	window := vat.DateRange{From: due.Start, To: today}
	liabilities, err := c.Liabilities(ctx, vrn, window)
	require.NoError(t, err)
	require.Len(t, liabilities, 1)
	assert.Equal(t, r.NetVATDue, liabilities[0].OriginalAmount)
	assert.Equal(t, vat.DateRange{From: due.Start, To: due.End}, *liabilities[0].TaxPeriod)

	_, err = c.Payments(ctx, vrn, window)
	assert.ErrorIs(t, err, vat.ErrNotFound, "nothing paid yet")
	require.NoError(t, srv.RecordPayment(user.VRN, string(due.PeriodKey), 100_000, today.String()))
	payments, err := c.Payments(ctx, vrn, window)
	require.NoError(t, err)
	require.Len(t, payments, 1)
	assert.Equal(t, vat.Money(100_000), payments[0].Amount)
	liabilities, err = c.Liabilities(ctx, vrn, window)
	require.NoError(t, err)
	assert.Equal(t, r.NetVATDue-100_000, *liabilities[0].OutstandingAmount)

	fd, err := c.FinancialDetails(ctx, vrn, rc.ChargeRefNumber)
	require.NoError(t, err)
	assert.NotEmpty(t, fd.DocumentDetails)

	p, err := c.Penalties(ctx, vrn)
	require.NoError(t, err)
	assert.False(t, p.None(), "HMRC's default penalties scenario")
	info, err := c.CustomerInformation(ctx, vrn)
	require.NoError(t, err)
	assert.Equal(t, user.VATRegistrationDate, info.CustomerDetails.EffectiveRegistrationDate.String())

	// The same return again is recognised as already filed; another is HMRC's duplicate.
	again, err := c.SubmitReturn(ctx, vrn, r)
	require.NoError(t, err)
	assert.True(t, again.Recovered)
	other := r
	other.VATDueSales++
	other.ComputeTotals()
	_, err = c.SubmitReturn(ctx, vrn, other)
	assert.ErrorIs(t, err, vat.ErrDuplicateSubmission)

	notEnded := r
	notEnded.PeriodKey = current.PeriodKey
	_, err = c.SubmitReturn(ctx, vrn, notEnded)
	assert.ErrorIs(t, err, vat.ErrTaxPeriodNotEnded)

	_, err = c.ViewReturn(ctx, vrn, current.PeriodKey)
	assert.ErrorIs(t, err, vat.ErrNotFound, "the empty-bodied 404")

	counts := srv.Submissions(user.VRN)
	assert.Equal(t, 1, counts.Accepted)
	assert.Equal(t, 4, counts.Received)
}

// TestScenariosAgainstTheSimulator sends a sample of typed Gov-Test-Scenario
// values and checks the SDK reads each answer as HMRC documents it.
func TestScenariosAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	c := simClient(t, srv, tok.OAuth2())
	ctx := context.Background()
	vrn := vat.VRN(user.VRN)
	d := func(s string) vat.Date { v, err := vat.ParseDate(s); require.NoError(t, err); return v }

	obs, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{From: d("2018-01-01"), To: d("2018-12-31")}, vat.WithTestScenario(vat.ObligationsQuarterlyOneMet))
	require.NoError(t, err)
	assert.Equal(t, []vat.PeriodKey{"18A1", "18A2"}, []vat.PeriodKey{obs[0].PeriodKey, obs[1].PeriodKey})
	_, err = c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithTestScenario(vat.ObligationsInsolventTrader))
	assert.ErrorIs(t, err, vat.ErrInsolventTrader)
	_, err = c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithTestScenario("NO_SUCH_SCENARIO"))
	assert.ErrorIs(t, err, vat.ErrIncorrectGovTestScenario)

	r := vat.Return{PeriodKey: "18A1", Finalised: true}
	_, err = c.SubmitReturn(ctx, vrn, r, vat.WithTestScenario(vat.SubmitReturnDuplicateSubmission))
	assert.ErrorIs(t, err, vat.ErrDuplicateSubmission)
	_, err = c.SubmitReturn(ctx, vrn, r, vat.WithTestScenario(vat.SubmitReturnInvalidVRN))
	assert.ErrorIs(t, err, vat.ErrVRNInvalid)
	_, err = c.ViewReturn(ctx, vrn, "18A1", vat.WithTestScenario(vat.ViewReturnDateRangeTooLarge))
	assert.ErrorIs(t, err, vat.ErrDateRangeTooLarge)

	ls, err := c.Liabilities(ctx, vrn, vat.DateRange{From: d("2017-04-05"), To: d("2017-12-21")}, vat.WithTestScenario(vat.LiabilitiesMultipleLiabilities))
	require.NoError(t, err)
	assert.Greater(t, len(ls), 1)
	ps, err := c.Payments(ctx, vrn, vat.DateRange{From: d("2017-01-02"), To: d("2017-02-02")}, vat.WithTestScenario(vat.PaymentsSinglePayment))
	require.NoError(t, err)
	assert.Len(t, ps, 1)

	for _, s := range []vat.PenaltiesScenario{vat.PenaltiesDefault, vat.PenaltiesLateSubmission, vat.PenaltiesLatePayment, vat.PenaltiesMultiplePenalties,
		vat.PenaltiesMultipleLatePaymentPenalties, vat.PenaltiesMultipleLateSubmissionPenalties, vat.PenaltiesMultipleInactiveLateSubmissionPenalties,
		vat.PenaltiesThresholdLateSubmissionPenalties, vat.PenaltiesChargeLateSubmissionPenalties} {
		p, err := c.Penalties(ctx, vrn, vat.WithTestScenario(s))
		require.NoError(t, err, s)
		assert.False(t, p.None(), s)
	}
	p, err := c.Penalties(ctx, vrn, vat.WithTestScenario(vat.PenaltiesNoPenalties))
	require.NoError(t, err)
	assert.True(t, p.None())

	info, err := c.CustomerInformation(ctx, vrn, vat.WithTestScenario(vat.CustomerInformationNoFlatRateScheme))
	require.NoError(t, err)
	assert.Nil(t, info.FlatRateScheme)
	_, err = c.CustomerInformation(ctx, vrn, vat.WithTestScenario(vat.CustomerInformationNotFound))
	assert.ErrorIs(t, err, vat.ErrNotFound)
}

// TestSignInAgainstTheSimulator runs HMRC's authorization-code flow with
// PKCE through SignIn: the simulator's sign-in page is completed by an HTTP
// client standing in for the browser, and the token then works with the API.
func TestSignInAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, err := srv.CreateOrganisation(vattest.Organisation{})
	require.NoError(t, err)
	app := srv.DefaultApplication()
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURL: ""})
	require.NoError(t, err)
	cfg.Endpoint.AuthURL, cfg.Endpoint.TokenURL = srv.URL+"/oauth/authorize", srv.URL+"/oauth/token"

	browser := func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		assert.Equal(t, "S256", q.Get("code_challenge_method"), "PKCE is used")
		assert.NotEmpty(t, q.Get("state"))
		q.Set("user_id", user.UserID)
		q.Set("password", user.Password)
		u.RawQuery = q.Encode()
		go func() {
			resp, err := srv.Client().Get(u.String()) // follows the redirect to the loopback listener
			if err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	tok, err := vat.SignIn(ctx, cfg, vat.WithSignInBrowser(browser), vat.WithSignInOutput(discard{}),
		vat.WithSignInHTTPClient(srv.Client()), vat.WithSignInPath("/callback"))
	require.NoError(t, err)
	require.NotEmpty(t, tok.RefreshToken)

	c := simClient(t, srv, tok)
	_, err = c.Obligations(ctx, vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.NoError(t, err)
	_ = http.StatusOK
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// TestCheckVATNumberAgainstTheSimulator checks VAT numbers through the SDK
// with an application token obtained by client credentials, as a program
// with no signed-in user would.
func TestCheckVATNumberAgainstTheSimulator(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, _ := srv.TestOrganisation(t, vattest.Organisation{})
	app := srv.DefaultApplication()
	oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	require.NoError(t, err)
	oc.Endpoint.TokenURL = srv.URL + "/oauth/token"
	ctx := context.Background()
	newClient := func(scopes ...string) *vat.Client {
		ts, err := vat.NewApplicationTokenSource(oc, scopes, vat.WithTokenHTTPClient(srv.Client()))
		require.NoError(t, err)
		c, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
			vat.WithApplicationTokenSource(ts), vat.WithRateLimiter(vat.NoRateLimit))
		require.NoError(t, err)
		return c
	}
	c := newClient(vat.ScopeReadVAT)

	reg, err := c.CheckVATNumber(ctx, vat.VRN(user.VRN))
	require.NoError(t, err)
	assert.Equal(t, user.VRN, reg.Target.VATNumber)
	assert.NotEmpty(t, reg.Target.Name)
	assert.Equal(t, "GB", reg.Target.Address.CountryCode)
	assert.Empty(t, reg.ConsultationNumber)

	reg, err = c.CheckVATNumberWithRequester(ctx, "553557881", vat.VRN(user.VRN))
	require.NoError(t, err)
	assert.Equal(t, "Credite Sberger Donal Inc.", reg.Target.Name)
	assert.Len(t, reg.ConsultationNumber, 9)
	assert.Equal(t, user.VRN, reg.Requester)

	_, err = c.CheckVATNumber(ctx, "123456789")
	assert.ErrorIs(t, err, vat.ErrNotFound)
	_, err = c.CheckVATNumberWithRequester(ctx, "553557881", "123456789")
	assert.ErrorIs(t, err, vat.ErrInvalidRequest)

	_, err = newClient().CheckVATNumber(ctx, "553557881")
	assert.ErrorIs(t, err, vat.ErrInvalidScope, "the API needs read:vat")
}

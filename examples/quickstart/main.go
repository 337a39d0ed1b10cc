// Command quickstart runs the whole journey HMRC asks to see before it
// approves software for VAT (Making Tax Digital): create a test business,
// sign in with OAuth 2.0 (authorization code with PKCE), read its
// obligations, submit the open period's return, view it, read the
// obligations again, then liabilities, payments and penalties, with fraud
// prevention headers on every call and checked by HMRC's validator.
//
// With no environment set it runs offline against vattest, the package's
// simulator of HMRC, started in-process:
//
//	go run ./examples/quickstart
//
// With HMRC_CLIENT_ID and HMRC_CLIENT_SECRET set (a sandbox application on
// HMRC's Developer Hub, subscribed to VAT (MTD), Create Test User and Test
// Fraud Prevention Headers, with http://localhost:8085/callback or
// HMRC_REDIRECT_URI registered as a redirect URI), it runs against HMRC's
// sandbox and opens a browser to sign in as the test user it created.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
)

// usage is printed by -h.
const usage = `Usage: go run ./examples/quickstart [-h]

Runs the whole VAT journey HMRC asks to see: create a test business, sign in
(OAuth 2.0 with PKCE), check the fraud prevention headers, read obligations,
submit a return, view it, then liabilities, payments and penalties.

With no environment set it runs offline against vattest, this module's
simulator of HMRC, started in-process.

Environment:
  HMRC_CLIENT_ID      a sandbox application's client ID on HMRC's Developer Hub
  HMRC_CLIENT_SECRET  its client secret; with both set, the journey runs
                      against HMRC's sandbox and opens a browser to sign in
  HMRC_REDIRECT_URI   the redirect URI registered for the application
                      (default http://localhost:8085/callback)
`

func main() {
	if code, done := parseArgs(os.Args[1:], os.Stdout, os.Stderr); done {
		os.Exit(code)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cfg := config{
		clientID:     os.Getenv("HMRC_CLIENT_ID"),
		clientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
		redirectURI:  os.Getenv("HMRC_REDIRECT_URI"),
		appName:      "go-mtd-vat-quickstart",
	}
	if err := run(ctx, os.Stdout, cfg); err != nil {
		log.Fatal(err)
	}
}

// parseArgs handles the command line: -h prints the usage and ends the
// program successfully; anything else is a usage error (exit status 2).
func parseArgs(args []string, stdout, stderr io.Writer) (code int, done bool) {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(fs.Output(), usage) }
	switch err := fs.Parse(args); {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return 0, true
	case err != nil:
		return 2, true
	case fs.NArg() > 0:
		fmt.Fprintf(stderr, "quickstart: unexpected argument %q\n%s", fs.Arg(0), usage)
		return 2, true
	}
	return 0, false
}

// config says where to run: HMRC's sandbox when client credentials are
// given, otherwise an in-process simulator.
type config struct {
	clientID, clientSecret, redirectURI string
	appName                             string // names the directory of the device ID
	deviceIDDir                         string // overrides it (tests)
}

// journey holds what the steps share.
type journey struct {
	out     io.Writer
	c       *vat.Client
	vrn     vat.VRN
	sim     *vattest.Server // nil against HMRC
	offline bool

	submitted vat.PeriodKey // the period of the return filed
}

func run(ctx context.Context, out io.Writer, cfg config) error {
	env, err := setUp(ctx, out, cfg)
	if err != nil {
		return err
	}
	defer env.close()
	j := env.journey
	steps := []struct {
		title string
		do    func(context.Context) error
	}{
		{"Fraud prevention headers (HMRC's Test API)", j.checkFraudHeaders},
		{"Open obligations", j.openObligations},
		{"Submit the return for the open period", j.submit},
		{"View the return", j.view},
		{"Obligations, now", j.obligationsAfter},
		{"Liabilities", j.liabilities},
		{"Payments", j.payments},
		{"Penalties", j.penalties},
	}
	for i, s := range steps {
		fmt.Fprintf(out, "\n%d. %s\n", i+3, s.title)
		if err := s.do(ctx); err != nil {
			return fmt.Errorf("%s: %w", s.title, err)
		}
	}
	fmt.Fprintln(out, "\nDone: every step of the journey worked.")
	return nil
}

// environment is the journey plus what must be shut down after it.
type environment struct {
	journey *journey
	close   func()
}

// setUp creates the test business, signs in and builds the Client.
func setUp(ctx context.Context, out io.Writer, cfg config) (*environment, error) {
	offline := cfg.clientID == "" || cfg.clientSecret == ""
	var (
		sim     *vattest.Server
		env     = vat.Sandbox
		oauth   *vat.OAuthApp
		baseURL string
		hc      = http.DefaultClient
		closeFn = func() {}
	)
	if offline {
		sim = vattest.NewServer()
		closeFn = sim.Close
		app := sim.DefaultApplication()
		oauth = &vat.OAuthApp{ClientID: app.ClientID, ClientSecret: app.ClientSecret}
		baseURL, hc = sim.URL, sim.Client()
		fmt.Fprintf(out, "Running offline against vattest, HMRC's simulator, at %s.\n", sim.URL)
		fmt.Fprintln(out, "(Set HMRC_CLIENT_ID and HMRC_CLIENT_SECRET to run against HMRC's sandbox.)")
	} else {
		redirect := cfg.redirectURI
		if redirect == "" {
			redirect = "http://localhost:8085/callback"
		}
		oauth = &vat.OAuthApp{ClientID: cfg.clientID, ClientSecret: cfg.clientSecret, RedirectURL: redirect}
		fmt.Fprintln(out, "Running against HMRC's sandbox, https://test-api.service.hmrc.gov.uk.")
	}
	oauthCfg, err := vat.NewOAuthConfig(env, *oauth)
	if err != nil {
		return nil, err
	}
	if offline {
		oauthCfg.Endpoint.AuthURL, oauthCfg.Endpoint.TokenURL = sim.URL+"/oauth/authorize", sim.URL+"/oauth/token"
	}

	appTokens, err := vat.NewApplicationTokenSource(oauthCfg, nil, vat.WithTokenHTTPClient(hc))
	if err != nil {
		return nil, err
	}
	device, err := fraud.NewDeviceCollector(fraud.DeviceCollectorConfig{
		ConnectionMethod: fraud.DesktopAppDirect,
		AppName:          cfg.appName,
		DeviceIDDir:      cfg.deviceIDDir,
		ProductName:      "go-mtd-vat quickstart",
		VendorVersion:    []fraud.KeyValue{{Key: "go-mtd-vat-quickstart", Value: vat.Version}},
		VendorLicenseIDs: []fraud.KeyValue{{Key: "go-mtd-vat-quickstart", Value: fraud.HashLicenseKey("quickstart-licence")}},
		UserIDs:          []fraud.KeyValue{{Key: "go-mtd-vat-quickstart", Value: "quickstart-user"}},
		Screens:          []fraud.Screen{{Width: 1920, Height: 1080, ScalingFactor: "1", ColourDepth: 24}},
		WindowSize:       fraud.WindowSize{Width: 1280, Height: 800},
		MultiFactor: []fraud.MultiFactor{{Type: fraud.MultiFactorTOTP, Timestamp: time.Now().Add(-time.Minute),
			UniqueReference: fraud.HashLicenseKey("quickstart-totp-secret-id")}},
	})
	if err != nil {
		return nil, err
	}
	opts := []vat.Option{
		vat.WithEnvironment(env),
		vat.WithApplicationTokenSource(appTokens),
		vat.WithFraudHeaders(device),
		vat.WithUserAgent("go-mtd-vat-quickstart/" + vat.Version),
	}
	if offline {
		opts = append(opts, vat.WithBaseURL(baseURL), vat.WithHTTPClient(hc))
	}
	setup, err := vat.NewClient(opts...)
	if err != nil {
		closeFn()
		return nil, err
	}

	fmt.Fprintln(out, "\n1. Create a test business (Create Test User API)")
	user, err := setup.CreateTestOrganisation(ctx, vat.TestUserRequest{})
	if err != nil {
		closeFn()
		return nil, err
	}
	table(out, []string{"user ID", "VRN", "VAT registered", "name"},
		[]string{user.UserID, string(user.VRN), user.VATRegistrationDate.String(), user.OrganisationDetails.Name})

	fmt.Fprintln(out, "\n2. Sign in to HMRC as that business (OAuth 2.0, authorization code with PKCE)")
	signInOpts := []vat.SignInOption{vat.WithSignInHTTPClient(hc)}
	if offline {
		// The simulator signs the test user in without a browser; an HTTP
		// client follows its redirect back to the loopback listener.
		signInOpts = append(signInOpts, vat.WithSignInOutput(io.Discard), vat.WithSignInPath("/callback"),
			vat.WithSignInBrowser(autoSignIn(hc, user)))
	} else {
		fmt.Fprintf(out, "Sign in with user ID %s and password %s.\n", user.UserID, user.Password)
	}
	tok, err := vat.SignIn(ctx, oauthCfg, signInOpts...)
	if err != nil {
		closeFn()
		return nil, err
	}
	store := vat.NewMemoryStore(tok)
	userTokens, err := vat.NewUserTokenSource(oauthCfg, store, vat.WithTokenHTTPClient(hc))
	if err != nil {
		closeFn()
		return nil, err
	}
	table(out, []string{"access token expires", "refresh token"}, []string{tok.Expiry.Local().Format(time.DateTime), "saved (single use; rotated on refresh)"})

	c, err := vat.NewClient(append(opts, vat.WithTokenSource(userTokens))...)
	if err != nil {
		closeFn()
		return nil, err
	}
	return &environment{journey: &journey{out: out, c: c, vrn: user.VRN, sim: sim, offline: offline}, close: closeFn}, nil
}

// autoSignIn stands in for the browser against the simulator: it completes
// the sign-in form with the test user's credentials.
func autoSignIn(hc *http.Client, user *vat.TestUser) func(string) error {
	return func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("user_id", user.UserID)
		q.Set("password", user.Password)
		u.RawQuery = q.Encode()
		go func() {
			if resp, err := hc.Get(u.String()); err == nil {
				resp.Body.Close()
			}
		}()
		return nil
	}
}

func (j *journey) checkFraudHeaders(ctx context.Context) error {
	v, err := j.c.CheckFraudHeaders(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(j.out, "%s: %s\n", v.Code, v.Message)
	rows := [][]string{}
	for _, f := range v.Errors {
		rows = append(rows, []string{"error", strings.Join(f.Headers, ", "), f.Message})
	}
	for _, f := range v.Warnings {
		rows = append(rows, []string{"warning", strings.Join(f.Headers, ", "), f.Message})
	}
	if len(rows) > 0 {
		table(j.out, []string{"", "headers", "message"}, rows...)
	}
	if len(v.Warnings) > 0 && len(v.Errors) == 0 {
		fmt.Fprintln(j.out, "(Warnings, not errors: they name values this machine could not supply, such as a device")
		fmt.Fprintln(j.out, "manufacturer and model, which containers and virtual machines do not expose. Calls still")
		fmt.Fprintln(j.out, "go through; HMRC looks at warnings when it reviews software for production.)")
	}
	return nil
}

func (j *journey) openObligations(ctx context.Context) error {
	obs, err := j.c.Obligations(ctx, j.vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	if err != nil {
		return err
	}
	obligationTable(j.out, obs)
	return nil
}

// today is the current date in UTC, on the simulator's clock when offline.
func (j *journey) today() vat.Date {
	if j.sim != nil {
		return vat.DateOf(j.sim.Now().UTC())
	}
	return vat.DateOf(time.Now().UTC())
}

// dueReturn is the open obligation whose period has ended.
func (j *journey) dueReturn(ctx context.Context) (vat.Obligation, error) {
	obs, err := j.c.Obligations(ctx, j.vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	if err != nil {
		return vat.Obligation{}, err
	}
	for _, o := range obs {
		if o.Submittable(j.today()) {
			return o, nil
		}
	}
	return vat.Obligation{}, errors.New("no open obligation has ended yet")
}

// the return of the journey, boxes 3 and 5 computed as HMRC checks them.
func (j *journey) theReturn(key vat.PeriodKey) vat.Return {
	r := vat.Return{
		PeriodKey:                key,
		VATDueSales:              1_234_567, // £12,345.67
		VATDueAcquisitions:       0,
		VATReclaimedCurrPeriod:   402_110, // £4,021.10
		TotalValueSalesExVAT:     61_728,
		TotalValuePurchasesExVAT: 20_105,
		Finalised:                true, // the user has read HMRC's declaration
	}
	r.ComputeTotals()
	return r
}

func (j *journey) submit(ctx context.Context) error {
	o, err := j.dueReturn(ctx)
	if err != nil {
		return err
	}
	rc, err := j.c.SubmitReturn(ctx, j.vrn, j.theReturn(o.PeriodKey))
	if rc == nil {
		return err
	}
	j.submitted = o.PeriodKey
	table(j.out, []string{"period", "form bundle", "processed", "receipt ID", "payment", "charge reference"},
		[]string{string(o.PeriodKey), rc.FormBundleNumber, rc.ProcessingDate.Format(time.DateTime), rc.ReceiptID, string(rc.PaymentIndicator), rc.ChargeRefNumber})
	return err
}

func (j *journey) view(ctx context.Context) error {
	r, err := j.c.ViewReturn(ctx, j.vrn, j.submitted)
	if err != nil {
		return err
	}
	table(j.out, []string{"box", "", "amount"},
		[]string{"1", "VAT due on sales", "£" + r.VATDueSales.String()},
		[]string{"2", "VAT due on acquisitions", "£" + r.VATDueAcquisitions.String()},
		[]string{"3", "total VAT due", "£" + r.TotalVATDue.String()},
		[]string{"4", "VAT reclaimed", "£" + r.VATReclaimedCurrPeriod.String()},
		[]string{"5", "net VAT due", "£" + r.NetVATDue.String()},
		[]string{"6", "sales ex VAT", "£" + r.TotalValueSalesExVAT.String()},
		[]string{"7", "purchases ex VAT", "£" + r.TotalValuePurchasesExVAT.String()},
		[]string{"8", "goods supplied ex VAT", "£" + r.TotalValueGoodsSuppliedExVAT.String()},
		[]string{"9", "acquisitions ex VAT", "£" + r.TotalAcquisitionsExVAT.String()})
	return nil
}

func (j *journey) obligationsAfter(ctx context.Context) error {
	if !j.offline {
		fmt.Fprintln(j.out, "(HMRC's sandbox returns canned obligations: they do not change after a submission.)")
	}
	today := j.today()
	obs, err := j.c.Obligations(ctx, j.vrn, vat.ObligationsQuery{From: today.AddYears(-1).AddDays(1), To: today})
	if err != nil && !errors.Is(err, vat.ErrNotFound) {
		return err
	}
	obligationTable(j.out, obs)
	return nil
}

// financialRange is the range and scenario for liabilities and payments:
// the last year offline; HMRC's documented scenario dates in its sandbox,
// which has data only for them.
func (j *journey) financialRange(liabilities bool) (vat.DateRange, []vat.CallOption) {
	if j.offline {
		today := j.today()
		return vat.DateRange{From: today.AddYears(-1).AddDays(1), To: today}, nil
	}
	if liabilities {
		return vat.DateRange{From: vat.NewDate(2017, 4, 5), To: vat.NewDate(2017, 12, 21)},
			[]vat.CallOption{vat.WithTestScenario(vat.LiabilitiesMultipleLiabilities)}
	}
	return vat.DateRange{From: vat.NewDate(2017, 2, 27), To: vat.NewDate(2017, 12, 21)},
		[]vat.CallOption{vat.WithTestScenario(vat.PaymentsMultiplePayments)}
}

func (j *journey) liabilities(ctx context.Context) error {
	r, opts := j.financialRange(true)
	ls, err := j.c.Liabilities(ctx, j.vrn, r, opts...)
	if errors.Is(err, vat.ErrNotFound) {
		fmt.Fprintln(j.out, "none")
		return nil
	}
	if err != nil {
		return err
	}
	rows := [][]string{}
	for _, l := range ls {
		period, outstanding := "", ""
		if l.TaxPeriod != nil {
			period = l.TaxPeriod.String()
		}
		if l.OutstandingAmount != nil {
			outstanding = "£" + l.OutstandingAmount.String()
		}
		rows = append(rows, []string{l.Type, period, "£" + l.OriginalAmount.String(), outstanding, l.Due.String()})
	}
	table(j.out, []string{"type", "period", "charged", "outstanding", "due"}, rows...)
	return nil
}

func (j *journey) payments(ctx context.Context) error {
	if j.sim != nil {
		// Offline, HMRC "receives" part of the payment.
		if err := j.sim.RecordPayment(string(j.vrn), string(j.submitted), 500_000, j.today().String()); err != nil {
			return err
		}
		fmt.Fprintln(j.out, "(The simulator records a payment of £5,000.00 against the return.)")
	}
	r, opts := j.financialRange(false)
	ps, err := j.c.Payments(ctx, j.vrn, r, opts...)
	if errors.Is(err, vat.ErrNotFound) {
		fmt.Fprintln(j.out, "none")
		return nil
	}
	if err != nil {
		return err
	}
	rows := [][]string{}
	for _, p := range ps {
		rows = append(rows, []string{"£" + p.Amount.String(), p.Received.String()})
	}
	table(j.out, []string{"amount", "received"}, rows...)
	return nil
}

func (j *journey) penalties(ctx context.Context) error {
	p, err := j.c.Penalties(ctx, j.vrn)
	if err != nil {
		return err
	}
	fmt.Fprintln(j.out, "(HMRC's sandbox answers penalties with its documented example, whatever the business's")
	fmt.Fprintln(j.out, "history, and the simulator does the same: a new business shows these points and penalties.)")
	if p.None() {
		fmt.Fprintln(j.out, "no penalties")
		return nil
	}
	rows := [][]string{}
	if ls := p.LateSubmissionPenalty; ls != nil {
		rows = append(rows, []string{"late submission points", fmt.Sprintf("%d active of %d", ls.Summary.ActivePenaltyPoints, ls.Summary.RegimeThreshold)})
	}
	if lp := p.LatePaymentPenalty; lp != nil {
		rows = append(rows, []string{"late payment penalties", fmt.Sprint(len(lp.Details))})
	}
	if t := p.Totalisations; t != nil && t.LateSubmissionPenaltyTotalValue != nil {
		rows = append(rows, []string{"late submission penalties total", "£" + t.LateSubmissionPenaltyTotalValue.String()})
	}
	table(j.out, []string{"penalties", ""}, rows...)
	return nil
}

func obligationTable(out io.Writer, obs []vat.Obligation) {
	rows := [][]string{}
	for _, o := range obs {
		status := "open"
		if o.Fulfilled() {
			status = "fulfilled " + o.Received.String()
		}
		rows = append(rows, []string{string(o.PeriodKey), o.Start.String(), o.End.String(), o.Due.String(), status})
	}
	if len(rows) == 0 {
		fmt.Fprintln(out, "none")
		return
	}
	table(out, []string{"period", "start", "end", "due", "status"}, rows...)
}

// table prints rows under a header, aligned.
func table(out io.Writer, header []string, rows ...[]string) {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "  "+strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(w, "  "+strings.Join(r, "\t"))
	}
	w.Flush()
}

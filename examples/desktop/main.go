// Command desktop is an example desktop (command-line) application that files
// a VAT return through HMRC's VAT (MTD) API with github.com/go-mtd/vat.
//
// It signs the user in to HMRC through the browser (vat.SignIn, on a loopback
// redirect URI), keeps the user's token in a vat.FileStore, one file per user
// (VRN) and environment, and refreshes it with a vat.UserTokenSource. Every
// request carries the fraud prevention headers of a desktop application
// connecting directly to HMRC (DESKTOP_APP_DIRECT), collected by a
// fraud.DeviceCollector. It lists the open obligations, reads the return of the
// first open period that has ended from a JSON file, shows it with HMRC's
// declaration, and with -submit files it and saves HMRC's receipt.
//
// By default it runs against a vattest simulator started in the same process:
// it creates a test organisation there and signs in as its user without a
// browser (with -browser, it opens the simulator's sign-in page instead). With
// HMRC_CLIENT_ID and HMRC_CLIENT_SECRET set to a sandbox application's
// credentials it uses HMRC's sandbox: the application must have
// HMRC_REDIRECT_URI (default http://localhost:8765/callback) registered as a
// redirect URI. Without -vrn it creates a test organisation there and prints
// the user ID and password to sign in with.
//
// Usage:
//
//	go run ./examples/desktop -return examples/desktop/return.json
//	go run ./examples/desktop -return examples/desktop/return.json -submit
//
// The return file holds HMRC's JSON names for boxes 1, 2, 4 and 6 to 9
// (boxes 3 and 5 are worked out), and optionally the periodKey.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
	"golang.org/x/oauth2"
)

// The application's name and version, sent in Gov-Vendor-Product-Name,
// Gov-Vendor-Version and the User-Agent.
const (
	appKey     = "example-books"
	appName    = "Example Books"
	appVersion = "1.0.0"
)

// declaration is the text HMRC asks software to show before a return is
// submitted.
const declaration = "When you submit this VAT information you are making a legal declaration that the " +
	"information is true and complete. A false declaration can result in prosecution."

// defaultRedirectURI is the loopback redirect URI used with HMRC's sandbox
// unless HMRC_REDIRECT_URI says otherwise.
const defaultRedirectURI = "http://localhost:8765/callback"

// config is what the command line and the environment set.
type config struct {
	clientID, clientSecret string // empty: use the in-process simulator
	redirectURI            string
	dataDir                string // token files and receipts; empty: the default
	vrn                    string // empty: create a test organisation
	user                   string // the user's name in this application
	returnFile             string
	submit                 bool
	browser                bool // simulator: sign in through a browser
	// probe reads the machine for the fraud prevention headers; its zero
	// value reads the real machine.
	probe fraud.DeviceProbe
	out   io.Writer
}

// usage is printed by -h, before the flags.
const usage = `Usage: go run ./examples/desktop -return FILE [-submit] [-vrn VRN] [-data DIR]

Files a VAT return from a JSON file of boxes, as a desktop application
connecting directly to HMRC. It runs offline against an in-process simulator
unless both HMRC_CLIENT_ID and HMRC_CLIENT_SECRET are set.

Environment:
  HMRC_CLIENT_ID      a sandbox application's client ID on HMRC's Developer Hub
  HMRC_CLIENT_SECRET  its client secret
  HMRC_REDIRECT_URI   the redirect URI registered for the application
                      (default http://localhost:8765/callback)

Flags:
`

func main() {
	cfg := config{
		clientID:     os.Getenv("HMRC_CLIENT_ID"),
		clientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
		redirectURI:  os.Getenv("HMRC_REDIRECT_URI"),
		out:          os.Stdout,
	}
	flag.StringVar(&cfg.dataDir, "data", "", "directory for token files and receipts (default: the user's configuration directory; a temporary one with the simulator)")
	flag.StringVar(&cfg.vrn, "vrn", "", "the VRN to file for (default: create a test organisation)")
	flag.StringVar(&cfg.user, "user", "owner", "your user name in this application")
	flag.StringVar(&cfg.returnFile, "return", "", "JSON file holding the return's boxes (required)")
	flag.BoolVar(&cfg.submit, "submit", false, "agree to HMRC's declaration and submit the return")
	flag.BoolVar(&cfg.browser, "browser", false, "with the simulator, sign in through a browser instead of automatically")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	if cfg.returnFile == "" {
		fmt.Fprintln(os.Stderr, "desktop: -return is required")
		flag.Usage()
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "desktop:", err)
		os.Exit(1)
	}
}

// backend is where the application's requests go.
type backend struct {
	name      string
	simulator bool
	env       vat.Environment
	oauth     *oauth2.Config
	hc        *http.Client
	opts      []vat.Option                           // where requests go and how
	signIn    []vat.SignInOption                     // how the user signs in
	auto      func(*vat.TestUser) []vat.SignInOption // signs a test user in without a person
	close     func()
}

// run is the application: everything main does once the flags are read.
func run(ctx context.Context, cfg config) error {
	r, err := readReturn(cfg.returnFile)
	if err != nil {
		return err
	}
	b, err := connect(cfg)
	if err != nil {
		return err
	}
	defer b.close()
	if b.simulator && cfg.vrn != "" {
		return errors.New("-vrn needs HMRC's sandbox (HMRC_CLIENT_ID and HMRC_CLIENT_SECRET): the simulator starts empty on every run")
	}
	fmt.Fprintf(cfg.out, "Using %s.\n", b.name)

	dir, cleanup, err := dataDir(cfg, b)
	if err != nil {
		return err
	}
	defer cleanup()

	// Who: a VRN given, or a new test organisation.
	var user *vat.TestUser
	vrn, err := vat.ParseVRN(cfg.vrn)
	if cfg.vrn == "" {
		if user, err = createTestOrganisation(ctx, b); err != nil {
			return err
		}
		vrn = user.VRN
		fmt.Fprintf(cfg.out, "Created test organisation %s: sign in with user ID %s and password %s.\n", vrn, user.UserID, user.Password)
	} else if err != nil {
		return fmt.Errorf("-vrn: %w", err)
	}

	tokens, err := userTokens(ctx, cfg, b, dir, vrn, user)
	if err != nil {
		return err
	}
	device, err := fraud.NewDeviceCollector(deviceConfig(cfg))
	if err != nil {
		return err
	}
	c, err := vat.NewClient(slices.Concat(b.opts, []vat.Option{
		vat.WithTokenSource(tokens),
		vat.WithFraudHeaders(device),
		vat.WithUserAgent(appKey + "/" + appVersion),
	})...)
	if err != nil {
		return err
	}
	err = file(ctx, cfg, c, dir, vrn, r)
	if errors.Is(err, vat.ErrReauthorizationRequired) {
		// HMRC no longer accepts the stored token (its 18 months are over,
		// or the user withdrew the authority): sign in again.
		return fmt.Errorf("%w: remove the token file in %s and run again to sign in", err, dir)
	}
	return err
}

// connect starts the in-process simulator, or prepares HMRC's sandbox when
// the application's credentials are set.
func connect(cfg config) (*backend, error) {
	if cfg.clientID != "" || cfg.clientSecret != "" {
		redirect := cfg.redirectURI
		if redirect == "" {
			redirect = defaultRedirectURI
		}
		oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: cfg.clientID, ClientSecret: cfg.clientSecret, RedirectURL: redirect})
		if err != nil {
			return nil, err
		}
		hc := &http.Client{Timeout: time.Minute}
		return &backend{
			name: "HMRC's sandbox", env: vat.Sandbox, oauth: oc, hc: hc,
			opts:   []vat.Option{vat.WithEnvironment(vat.Sandbox), vat.WithHTTPClient(hc)},
			signIn: []vat.SignInOption{vat.WithSignInHTTPClient(hc)},
			close:  hc.CloseIdleConnections,
		}, nil
	}
	srv, err := vattest.New()
	if err != nil {
		return nil, err
	}
	app := srv.DefaultApplication()
	oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	if err != nil {
		srv.Close()
		return nil, err
	}
	oc.Endpoint.AuthURL, oc.Endpoint.TokenURL = srv.URL+"/oauth/authorize", srv.URL+"/oauth/token"
	hc := srv.Client()
	b := &backend{
		name: "the vattest simulator at " + srv.URL, simulator: true, env: vat.Sandbox, oauth: oc, hc: hc,
		opts: []vat.Option{vat.WithBaseURL(srv.URL), vat.WithHTTPClient(hc)},
		// The simulator's application accepts http://localhost/callback on
		// any port; with HMRC the port must be one registered.
		signIn: []vat.SignInOption{vat.WithSignInPath("/callback"), vat.WithSignInHTTPClient(hc)},
		close:  srv.Close,
	}
	if !cfg.browser {
		b.auto = func(u *vat.TestUser) []vat.SignInOption {
			return []vat.SignInOption{vat.WithSignInBrowser(simulatedBrowser(hc, u)), vat.WithSignInPrompt(func(string) {})}
		}
	}
	return b, nil
}

// simulatedBrowser signs u in on the simulator's sign-in page, which accepts
// the user ID and password in the address and then redirects at once to the
// application's loopback listener, as a person at a browser would.
func simulatedBrowser(hc *http.Client, u *vat.TestUser) func(string) error {
	return func(authURL string) error {
		au, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := au.Query()
		q.Set("user_id", u.UserID)
		q.Set("password", u.Password)
		au.RawQuery = q.Encode()
		resp, err := hc.Get(au.String()) // follows the redirect to SignIn's listener
		if err != nil {
			return err
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		return resp.Body.Close()
	}
}

// dataDir returns the directory for token files and receipts, and a func
// that removes it if it is temporary.
func dataDir(cfg config, b *backend) (dir string, cleanup func(), err error) {
	switch {
	case cfg.dataDir != "":
		return cfg.dataDir, func() {}, nil
	case b.simulator:
		// The simulator forgets its users and tokens when the program ends.
		dir, err := os.MkdirTemp("", "desktop-*")
		if err != nil {
			return "", nil, err
		}
		return dir, func() { os.RemoveAll(dir) }, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", nil, fmt.Errorf("finding the configuration directory (use -data): %w", err)
	}
	return filepath.Join(base, "go-mtd-vat-desktop"), func() {}, nil
}

// createTestOrganisation creates a test organisation with an application
// token, through the Create Test User API.
func createTestOrganisation(ctx context.Context, b *backend) (*vat.TestUser, error) {
	app, err := vat.NewApplicationTokenSource(b.oauth, nil, vat.WithTokenHTTPClient(b.hc))
	if err != nil {
		return nil, err
	}
	c, err := vat.NewClient(slices.Concat(b.opts, []vat.Option{vat.WithApplicationTokenSource(app), vat.WithUserAgent(appKey + "/" + appVersion)})...)
	if err != nil {
		return nil, err
	}
	u, err := c.CreateTestOrganisation(ctx, vat.TestUserRequest{})
	if err != nil {
		return nil, fmt.Errorf("creating a test organisation: %w", err)
	}
	return u, nil
}

// userTokens returns the source of the user's tokens, kept in a token file
// for vrn in dir, signing the user in first if the file holds no token.
func userTokens(ctx context.Context, cfg config, b *backend, dir string, vrn vat.VRN, user *vat.TestUser) (*vat.UserTokenSource, error) {
	path, err := vat.TokenFilePath(dir, string(vrn), b.env)
	if err != nil {
		return nil, err
	}
	store, err := vat.NewFileStore(path)
	if err != nil {
		return nil, err
	}
	switch _, err := store.Load(ctx); {
	case errors.Is(err, vat.ErrNoToken):
		opts := slices.Clone(b.signIn)
		if b.auto != nil && user != nil {
			opts = append(opts, b.auto(user)...)
		} else {
			opts = append(opts, vat.WithSignInOutput(cfg.out))
		}
		sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		defer cancel()
		fmt.Fprintln(cfg.out, "Signing in to HMRC…")
		tok, err := vat.SignIn(sctx, b.oauth, opts...)
		if err != nil {
			return nil, err
		}
		if err := store.Save(ctx, tok); err != nil {
			return nil, err
		}
		fmt.Fprintln(cfg.out, "Signed in; the token is kept in", path)
	case err != nil:
		return nil, err
	}
	return vat.NewUserTokenSource(b.oauth, store, vat.WithTokenHTTPClient(b.hc))
}

// deviceConfig is the DeviceCollector's configuration: what the machine
// tells (read through cfg.probe) plus what the application supplies.
func deviceConfig(cfg config) fraud.DeviceCollectorConfig {
	return fraud.DeviceCollectorConfig{
		ConnectionMethod: fraud.DesktopAppDirect,
		AppName:          "go-mtd-vat-desktop", // the device ID lives in <config dir>/go-mtd-vat-desktop
		ProductName:      appName,
		VendorVersion:    []fraud.KeyValue{{Key: appKey, Value: appVersion}},
		// The hash of the licence key the user entered.
		VendorLicenseIDs: []fraud.KeyValue{{Key: appKey, Value: fraud.HashLicenseKey("EXAMPLE-LICENCE-KEY")}},
		UserIDs:          []fraud.KeyValue{{Key: appKey, Value: cfg.user}},
		// A graphical application reports its screens and window from its
		// user interface toolkit, on every request (see Update). This
		// command-line example has no window of its own, so it reports a
		// typical screen and terminal window.
		Screens:    []fraud.Screen{{Width: 1920, Height: 1080, ScalingFactor: "1", ColourDepth: 24}},
		WindowSize: fraud.WindowSize{Width: 1256, Height: 803},
		// The application has no sign-in of its own, so there is no factor
		// to report: the header is sent empty, which must be agreed with
		// HMRC.
		AgreedEmpty: fraud.NewHeaderSet(fraud.GovClientMultiFactor),
		Probe:       cfg.probe,
	}
}

// file lists the open obligations and shows r as the return of the first
// open period that has ended (or of r's period key), and with -submit files
// it.
func file(ctx context.Context, cfg config, c *vat.Client, dir string, vrn vat.VRN, r vat.Return) error {
	open, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	if errors.Is(err, vat.ErrNotFound) {
		fmt.Fprintln(cfg.out, "No open obligations: nothing to file.")
		return nil
	}
	if err != nil {
		return err
	}
	today := vat.DateOf(time.Now())
	fmt.Fprintf(cfg.out, "Open VAT periods of %s:\n", vrn)
	due := -1
	for i, o := range open {
		mark := ""
		if o.Submittable(today) && (r.PeriodKey == "" || r.PeriodKey == o.PeriodKey) && due < 0 {
			due, mark = i, "  <- this return"
		}
		fmt.Fprintf(cfg.out, "  %-4s  %s to %s, due %s%s\n", o.PeriodKey, o.Start, o.End, o.Due, mark)
	}
	if due < 0 {
		return errors.New("no open period has ended yet (or none has the file's periodKey): nothing to file")
	}
	r.PeriodKey = open[due].PeriodKey
	r.ComputeTotals()
	showReturn(cfg.out, r)
	fmt.Fprintf(cfg.out, "\n%s\n\n", declaration)
	if !cfg.submit {
		fmt.Fprintln(cfg.out, "Not submitted: run again with -submit to agree to the declaration and submit the return.")
		return nil
	}
	r.Finalised = true
	if err := r.Validate(); err != nil {
		return err
	}
	receipt, err := c.SubmitReturn(ctx, vrn, r)
	if err != nil {
		return err
	}
	if receipt.Recovered {
		fmt.Fprintf(cfg.out, "HMRC already held this return for %s: it was filed before, and its receipt was saved then.\n", r.PeriodKey)
		return nil
	}
	path, err := saveReceipt(dir, vrn, r.PeriodKey, receipt)
	if err != nil {
		// HMRC cannot give the receipt again: show it even if it cannot be saved.
		fmt.Fprintf(cfg.out, "Submitted. Form bundle number %s, receipt ID %s.\n", receipt.FormBundleNumber, receipt.ReceiptID)
		return fmt.Errorf("saving the receipt: %w", err)
	}
	fmt.Fprintf(cfg.out, "Submitted. Form bundle number %s, receipt ID %s; the receipt is saved in %s\n",
		receipt.FormBundleNumber, receipt.ReceiptID, path)
	if receipt.ChargeRefNumber != "" {
		fmt.Fprintf(cfg.out, "Pay %s to HMRC by %s, with charge reference %s.\n", r.NetVATDue, open[due].Due, receipt.ChargeRefNumber)
	}
	return nil
}

// requiredBoxes are the boxes a return file must give, by HMRC's JSON
// name; boxes 3 and 5 are worked out from them.
var requiredBoxes = []struct{ name, label string }{
	{"vatDueSales", "box 1"}, {"vatDueAcquisitions", "box 2"}, {"vatReclaimedCurrPeriod", "box 4"},
	{"totalValueSalesExVAT", "box 6"}, {"totalValuePurchasesExVAT", "box 7"},
	{"totalValueGoodsSuppliedExVAT", "box 8"}, {"totalAcquisitionsExVAT", "box 9"},
}

// readReturn reads the boxes of a return from a JSON file with HMRC's field
// names. A missing (or null) box is refused, naming every one missing: a
// box left out is never filed as zero. Unknown fields are refused too, so
// that a misspelt box is not read as missing.
func readReturn(path string) (vat.Return, error) {
	var r vat.Return
	data, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return r, fmt.Errorf("reading the return from %s: %w", path, err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("reading the return from %s: %w", path, err)
	}
	var missing []string
	for _, b := range requiredBoxes {
		if v, ok := fields[b.name]; !ok || string(v) == "null" {
			missing = append(missing, b.label+" ("+b.name+")")
		}
	}
	if len(missing) > 0 {
		return r, fmt.Errorf("reading the return from %s: missing %s: give every box, 0 where there is nothing to declare", path, strings.Join(missing, ", "))
	}
	return r, nil
}

func showReturn(w io.Writer, r vat.Return) {
	fmt.Fprintf(w, "\nVAT return for period %s:\n", r.PeriodKey)
	for _, b := range []struct {
		box   int
		label string
		value fmt.Stringer
	}{
		{1, "VAT due on sales and other outputs", r.VATDueSales},
		{2, "VAT due on acquisitions from EU member states", r.VATDueAcquisitions},
		{3, "Total VAT due", r.TotalVATDue},
		{4, "VAT reclaimed on purchases and other inputs", r.VATReclaimedCurrPeriod},
		{5, "Net VAT to pay to HMRC or reclaim", r.NetVATDue},
		{6, "Total value of sales, excluding VAT", r.TotalValueSalesExVAT},
		{7, "Total value of purchases, excluding VAT", r.TotalValuePurchasesExVAT},
		{8, "Total value of goods supplied to EU member states, excluding VAT", r.TotalValueGoodsSuppliedExVAT},
		{9, "Total acquisitions from EU member states, excluding VAT", r.TotalAcquisitionsExVAT},
	} {
		fmt.Fprintf(w, "  %d  %-66s %14s\n", b.box, b.label, b.value)
	}
}

// saveReceipt writes HMRC's receipt to dir/receipts/<vrn>-<period>.json,
// never over an earlier one.
func saveReceipt(dir string, vrn vat.VRN, period vat.PeriodKey, rc *vat.Receipt) (string, error) {
	data, err := json.MarshalIndent(rc, "", "  ")
	if err != nil {
		return "", err
	}
	rdir := filepath.Join(dir, "receipts")
	if err := os.MkdirAll(rdir, 0o700); err != nil {
		return "", err
	}
	name := fmt.Sprintf("%s-%s", vrn, url.PathEscape(string(period))) // a period key may hold '#'
	path := filepath.Join(rdir, name+".json")
	for n := 2; ; n++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			path = filepath.Join(rdir, fmt.Sprintf("%s-%d.json", name, n))
			continue
		}
		if err != nil {
			return "", err
		}
		if _, err := f.Write(append(data, '\n')); err != nil {
			f.Close()
			return "", err
		}
		return path, f.Close()
	}
}

package integration_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// A target is where a test runs: the vattest simulator, HMRC's sandbox, or
// a cassette recorded from either. Whatever the target, a test gets a Client
// for a VAT-enrolled test organisation whose user has signed in.
type target struct {
	name string
	// client has the user's token source for the VAT endpoints and the
	// application's for HMRC's test support APIs; userClient has only the
	// user's, for CheckFraudHeaders when HMRC refuses application tokens.
	client, userClient *vat.Client
	// fraud is the source of the fraud prevention headers both send.
	fraud *fraud.DeviceCollector
	// vrn is the test organisation's VRN.
	vrn vat.VRN
	// fresh says the organisation was created for this test alone: no return
	// was filed for it before.
	fresh bool
	// now is the target's clock.
	now func() time.Time
}

// today is the date on the target's clock, in UTC as HMRC's services count.
func (tg *target) today() vat.Date { return vat.DateOf(tg.now().UTC()) }

// userAgent names the suite in the User-Agent header.
const userAgent = "go-mtd-vat-integration"

// connect builds the target's clients from base (where and how requests go)
// and the two token sources.
func (tg *target) connect(t *testing.T, base []vat.Option, user, app oauth2.TokenSource) {
	t.Helper()
	opts := append(slices.Clone(base),
		vat.WithTokenSource(user), vat.WithFraudHeaders(tg.fraud), vat.WithClock(tg.now), vat.WithUserAgent(userAgent))
	c, err := vat.NewClient(append(opts, vat.WithApplicationTokenSource(app))...)
	require.NoError(t, err)
	uc, err := vat.NewClient(opts...)
	require.NoError(t, err)
	tg.client, tg.userClient = c, uc
}

// forEachTarget runs test as two subtests: "vattest", always, and
// "sandbox": against HMRC's sandbox when credentials are set, replayed from
// the test's cassette when one exists and they are not, and otherwise
// skipped with a message saying what to set.
func forEachTarget(t *testing.T, test func(t *testing.T, tg *target)) {
	t.Run("vattest", func(t *testing.T) {
		t.Parallel()
		test(t, newSimTarget(t, simOptions{}))
	})
	t.Run("sandbox", func(t *testing.T) {
		test(t, newSandboxTarget(t))
	})
}

// cassetteName is the cassette of the sandbox target for the running test:
// testdata/cassettes/sandbox/<top-level test name>.
func cassetteName(t *testing.T) string {
	top, _, _ := strings.Cut(t.Name(), "/")
	return filepath.Join("testdata", "cassettes", "sandbox", top)
}

// deviceCollector returns the suite's fraud prevention header source: the
// SDK's DeviceCollector for an installed application connecting directly to
// HMRC (DESKTOP_APP_DIRECT), with the values an application supplies itself.
// probe reads the machine: offlineProbe for the simulator and replays, the
// zero DeviceProbe (the real machine) against HMRC's sandbox. edit, if not
// nil, changes the configuration first.
func deviceCollector(t *testing.T, probe fraud.DeviceProbe, edit func(*fraud.DeviceCollectorConfig)) *fraud.DeviceCollector {
	t.Helper()
	cfg := fraud.DeviceCollectorConfig{
		ConnectionMethod: fraud.DesktopAppDirect,
		DeviceIDDir:      t.TempDir(),
		ProductName:      "go-mtd-vat integration suite",
		VendorVersion:    []fraud.KeyValue{{Key: userAgent, Value: vat.Version}},
		VendorLicenseIDs: []fraud.KeyValue{{Key: userAgent, Value: fraud.HashLicenseKey("integration-suite-licence")}},
		UserIDs:          []fraud.KeyValue{{Key: userAgent, Value: "tester"}},
		Screens:          []fraud.Screen{{Width: 1920, Height: 1080, ScalingFactor: "1", ColourDepth: 24}},
		WindowSize:       fraud.WindowSize{Width: 1256, Height: 803},
		MultiFactor: []fraud.MultiFactor{{
			Type:            fraud.MultiFactorTOTP,
			Timestamp:       time.Now().Add(-time.Minute),
			UniqueReference: fraud.HashLicenseKey("integration-suite-totp-secret"),
		}},
		Probe: probe,
	}
	if edit != nil {
		edit(&cfg)
	}
	c, err := fraud.NewDeviceCollector(cfg)
	require.NoError(t, err)
	return c
}

// offlineProbe is a machine with one network interface, named with the
// examples of HMRC's fraud prevention specification, so that the headers do
// not depend on the machine the tests run on (which may have no network).
func offlineProbe() fraud.DeviceProbe {
	mac, _ := net.ParseMAC("ea:43:1a:5d:21:45")
	return fraud.DeviceProbe{
		Interfaces: func() ([]fraud.NetworkInterface, error) {
			return []fraud.NetworkInterface{
				{Name: "lo", Up: true, Loopback: true, Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1")}},
				{Name: "eth0", Up: true, HardwareAddr: mac, Addrs: []netip.Addr{netip.MustParseAddr("10.1.2.3")}},
			}, nil
		},
		OSUser: func() (string, error) { return "tester", nil },
		OSInfo: func() fraud.UserAgent {
			return fraud.UserAgent{OSFamily: "Linux", OSVersion: "6.8", DeviceManufacturer: "Dell Inc.", DeviceModel: "OptiPlex 980"}
		},
	}
}

// simOptions adjust a vattest target.
type simOptions struct {
	// record, when set, records the test's exchanges in this cassette.
	record string
	// app, when set, is registered on the server and used instead of the
	// server's default application.
	app *vattest.Application
	// fraud, when set, changes the fraud header collector's configuration.
	fraud func(*fraud.DeviceCollectorConfig)
	// wire, when set, wraps the server's transport (under any recorder).
	wire func(http.RoundTripper) http.RoundTripper
}

// newSimTarget starts a vattest server for the test (which enforces valid
// fraud prevention headers) and sets up the target as an application would
// on HMRC's sandbox: an application token creates a test organisation
// through the Create Test User API, and its user signs in through
// vat.SignIn, with vattest's no-browser sign-in in place of a browser.
func newSimTarget(t *testing.T, o simOptions) *target {
	t.Helper()
	opts := []vattest.Option{vattest.WithRateLimit(0), vattest.WithFraudHeaderEnforcement()}
	if o.app != nil {
		opts = append(opts, vattest.WithApplication(o.app.ClientID, o.app.ClientSecret, o.app.RedirectURIs...))
	}
	srv := vattest.NewTestServer(t, opts...)
	app := srv.DefaultApplication()
	if o.app != nil {
		app = *o.app
	}
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: app.ClientID, ClientSecret: app.ClientSecret})
	require.NoError(t, err)
	cfg.Endpoint.AuthURL, cfg.Endpoint.TokenURL = srv.URL+"/oauth/authorize", srv.URL+"/oauth/token"

	rt := srv.Client().Transport
	if o.wire != nil {
		rt = o.wire(rt)
	}
	var rec *recording
	if o.record != "" {
		rec = newRecording(t, o.record, recorder.ModeRecordOnly, rt)
		rt = rec.rec
	}
	hc := &http.Client{Transport: rt}
	store := &vat.MemoryStore{}
	appTokens, err := vat.NewApplicationTokenSource(cfg, nil, vat.WithTokenHTTPClient(hc))
	require.NoError(t, err)
	userTokens, err := vat.NewUserTokenSource(cfg, store, vat.WithTokenHTTPClient(hc))
	require.NoError(t, err)
	tg := &target{name: "vattest", fresh: true, now: srv.Now}
	tg.fraud = deviceCollector(t, offlineProbe(), o.fraud)
	tg.connect(t, []vat.Option{vat.WithBaseURL(srv.URL), vat.WithHTTPClient(hc), vat.WithRateLimiter(vat.NoRateLimit)}, userTokens, appTokens)
	start := tg.now()

	ctx := t.Context()
	org, err := tg.client.CreateTestOrganisation(ctx, vat.TestUserRequest{})
	require.NoError(t, err, "creating a test organisation")
	tok, err := signInWithoutBrowser(ctx, cfg, org, hc, srv.Client())
	require.NoError(t, err, "signing in as the test organisation's user")
	require.NoError(t, store.Save(ctx, tok))
	tg.vrn = org.VRN
	if rec != nil {
		rec.meta = cassetteMeta{BaseURL: srv.URL, TokenURL: cfg.Endpoint.TokenURL, VRN: org.VRN, Fresh: tg.fresh, Now: start}
	}
	return tg
}

// signInWithoutBrowser signs user in through vat.SignIn, with vattest's
// no-browser sign-in standing in for a person at a browser: given the user
// ID and password, the sign-in address redirects at once to SignIn's
// loopback listener. hc carries the requests to the server, follow the
// browser's visit to the listener.
func signInWithoutBrowser(ctx context.Context, cfg *oauth2.Config, user *vat.TestUser, hc, follow *http.Client) (*oauth2.Token, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var browserErr error
	browser := func(authURL string) error {
		if browserErr = visitSignIn(ctx, authURL, user, hc, follow); browserErr != nil {
			cancel() // SignIn would wait for a redirect that will not come
		}
		return browserErr
	}
	tok, err := vat.SignIn(ctx, cfg, vat.WithSignInBrowser(browser), vat.WithSignInPrompt(func(string) {}),
		vat.WithSignInPath("/callback"), vat.WithSignInHTTPClient(hc))
	if browserErr != nil {
		return nil, browserErr
	}
	return tok, err
}

func visitSignIn(ctx context.Context, authURL string, user *vat.TestUser, hc, follow *http.Client) error {
	u, err := url.Parse(authURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("user_id", user.UserID)
	q.Set("password", user.Password)
	u.RawQuery = q.Encode()
	noFollow := *hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := get(ctx, &noFollow, u.String())
	if err != nil {
		return fmt.Errorf("sign-in page: %w", err)
	}
	loc := resp.Header.Get("Location")
	if resp.StatusCode/100 != 3 || loc == "" {
		return fmt.Errorf("the sign-in page answered %s without a redirect", resp.Status)
	}
	resp, err = get(ctx, follow, loc)
	if err != nil {
		return fmt.Errorf("redirect to SignIn's listener: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("SignIn's listener answered %s", resp.Status)
	}
	return nil
}

// get sends a GET and reads the whole body, so that the connection is reused.
func get(ctx context.Context, hc *http.Client, u string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp, err
}

// Environment variables of the sandbox target; integration/README.md
// explains them.
const (
	envClientID     = "HMRC_CLIENT_ID"
	envClientSecret = "HMRC_CLIENT_SECRET"
	envInteractive  = "HMRC_INTERACTIVE"
	envRedirectURI  = "HMRC_REDIRECT_URI"
	envVRN          = "HMRC_VRN"
	envRefreshToken = "HMRC_REFRESH_TOKEN"
	envTokenFile    = "HMRC_TOKEN_FILE"
	envRecord       = "VAT_RECORD"
)

// defaultRedirectURI is the loopback redirect URI the interactive sign-in
// listens on unless HMRC_REDIRECT_URI says otherwise. It must be registered
// for the application on HMRC's Developer Hub.
const defaultRedirectURI = "http://localhost:8765/callback"

// targetMode is how the sandbox target runs.
type targetMode int

const (
	modeSkip   targetMode = iota // not at all: the reason says what to set
	modeFail                     // misconfigured: the reason says how
	modeLive                     // against HMRC's sandbox
	modeRecord                   // against HMRC's sandbox, recording a cassette
	modeReplay                   // offline, from the test's cassette
)

// sandboxMode decides how the sandbox target runs from the environment
// (getenv) and whether the test has a cassette.
func sandboxMode(getenv func(string) string, haveCassette bool) (targetMode, string) {
	id, secret := getenv(envClientID) != "", getenv(envClientSecret) != ""
	record, err := envFlag(getenv, envRecord)
	if err != nil {
		return modeFail, err.Error()
	}
	switch {
	case id != secret:
		return modeFail, "set both " + envClientID + " and " + envClientSecret + ", or neither"
	case id && record:
		return modeRecord, ""
	case id:
		return modeLive, ""
	case record:
		return modeFail, envRecord + "=1 records HMRC's sandbox: set " + envClientID + " and " + envClientSecret + " too"
	case haveCassette:
		return modeReplay, ""
	}
	return modeSkip, "HMRC sandbox target skipped: to run it set " + envClientID + " and " + envClientSecret +
		" (a sandbox application's credentials) with " + envInteractive + "=1, or with " + envVRN + " and " +
		envRefreshToken + " or " + envTokenFile + "; see integration/README.md"
}

// envFlag reads a boolean variable: unset is false.
func envFlag(getenv func(string) string, name string) (bool, error) {
	v := getenv(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("%s=%q: use 1 or 0", name, v)
	}
	return b, nil
}

// newSandboxTarget returns the target of HMRC's sandbox for the running
// test: live, recording or replaying as sandboxMode decides, or it skips or
// fails the test.
func newSandboxTarget(t *testing.T) *target {
	t.Helper()
	name := cassetteName(t)
	mode, why := sandboxMode(os.Getenv, cassetteExists(name))
	switch mode {
	case modeSkip:
		t.Skip(why)
	case modeFail:
		t.Fatal(why)
	case modeReplay:
		t.Logf("HMRC sandbox target replayed offline from %s.yaml", name)
		return newReplayTarget(t, "sandbox", name)
	}
	s, err := openSandbox()
	require.NoError(t, err, "HMRC sandbox")
	t.Log("HMRC sandbox:", s.about)

	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	var rt http.RoundTripper = tr
	tg := &target{name: "sandbox", vrn: s.vrn, now: time.Now}
	if mode == modeRecord {
		rec := newRecording(t, name, recorder.ModeRecordOnly, tr)
		rec.meta = cassetteMeta{BaseURL: vat.Sandbox.APIBaseURL(), TokenURL: vat.Sandbox.TokenURL(), VRN: s.vrn, Now: tg.now()}
		rt = rec.rec
		t.Logf("recording HMRC's sandbox into %s.yaml", name)
	}
	hc := &http.Client{Transport: rt, Timeout: time.Minute}
	appTokens, err := vat.NewApplicationTokenSource(s.cfg, nil, vat.WithTokenHTTPClient(hc))
	require.NoError(t, err)
	userTokens, err := vat.NewUserTokenSource(s.cfg, s.store, vat.WithTokenHTTPClient(hc))
	require.NoError(t, err)
	tg.fraud = deviceCollector(t, fraud.DeviceProbe{}, nil)
	tg.connect(t, []vat.Option{vat.WithEnvironment(vat.Sandbox), vat.WithHTTPClient(hc), vat.WithRateLimiter(s.limiter)}, userTokens, appTokens)
	return tg
}

// newReplayTarget returns a target answered from the cassette name, offline.
// It builds the requests the recording made: the same base URL, VRN, clock
// and fraud prevention headers (their values aside), with "REDACTED" as the
// application's credentials and the user's token, as the cassette has them.
// The user's sign-in is not replayed: the user's token is a fixed one.
func newReplayTarget(t *testing.T, name, cassette string) *target {
	t.Helper()
	meta := readMeta(t, cassette)
	rec := newRecording(t, cassette, recorder.ModeReplayOnly, offline{t})
	hc := &http.Client{Transport: replaying{rec.rec}}
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: redacted, ClientSecret: redacted})
	require.NoError(t, err)
	cfg.Endpoint.TokenURL = meta.TokenURL
	appTokens, err := vat.NewApplicationTokenSource(cfg, nil, vat.WithTokenHTTPClient(hc))
	require.NoError(t, err)
	userTokens := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: redacted, TokenType: "Bearer"})
	tg := &target{name: name, vrn: meta.VRN, fresh: meta.Fresh, now: func() time.Time { return meta.Now }}
	tg.fraud = deviceCollector(t, offlineProbe(), nil)
	tg.connect(t, []vat.Option{vat.WithBaseURL(meta.BaseURL), vat.WithHTTPClient(hc), vat.WithRateLimiter(vat.NoRateLimit)}, userTokens, appTokens)
	return tg
}

// sandboxSession is what the sandbox tests of one run share: the
// application's OAuth configuration, the test organisation, the store of its
// user's token, and one rate limiter, as HMRC's limit is per application.
type sandboxSession struct {
	cfg     *oauth2.Config
	store   vat.TokenStore
	vrn     vat.VRN
	limiter vat.Limiter
	about   string // how the organisation and token were obtained
}

// openSandbox opens the sandbox session once per test binary, so that a
// person signs in through the browser once however many tests run.
var openSandbox = sync.OnceValues(func() (*sandboxSession, error) {
	return newSandboxSession(context.Background(), os.Getenv, os.Stderr)
})

// newSandboxSession reads the sandbox target's configuration from getenv
// and gets the user's token: by creating a test organisation and signing in
// through a browser (HMRC_INTERACTIVE=1, with the sign-in prompt written to
// w), or from HMRC_TOKEN_FILE or HMRC_REFRESH_TOKEN for the user of
// HMRC_VRN.
func newSandboxSession(ctx context.Context, getenv func(string) string, w io.Writer) (*sandboxSession, error) {
	redirect := getenv(envRedirectURI)
	if redirect == "" {
		redirect = defaultRedirectURI
	}
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{
		ClientID: getenv(envClientID), ClientSecret: getenv(envClientSecret), RedirectURL: redirect,
	})
	if err != nil {
		return nil, err
	}
	s := &sandboxSession{cfg: cfg, store: &vat.MemoryStore{}, limiter: vat.NewApplicationLimiter()}
	file := getenv(envTokenFile)
	if file != "" {
		if s.store, err = vat.NewFileStore(file); err != nil {
			return nil, fmt.Errorf("%s: %w", envTokenFile, err)
		}
	}
	interactive, err := envFlag(getenv, envInteractive)
	if err != nil {
		return nil, err
	}
	if interactive {
		return s, s.signIn(ctx, w, file != "")
	}

	if getenv(envVRN) == "" {
		return nil, fmt.Errorf("no user to sign in: set %s=1 to create a test organisation and sign in through a browser, "+
			"or %s with %s or %s for a test user signed in before", envInteractive, envVRN, envRefreshToken, envTokenFile)
	}
	if s.vrn, err = vat.ParseVRN(getenv(envVRN)); err != nil {
		return nil, fmt.Errorf("%s: %w", envVRN, err)
	}
	_, err = s.store.Load(ctx)
	switch {
	case err == nil:
		s.about = fmt.Sprintf("VRN %s from %s, token from %s", s.vrn, envVRN, envTokenFile)
		if getenv(envRefreshToken) != "" {
			s.about += fmt.Sprintf(" (%s ignored: refresh tokens are single use and the file holds the newest)", envRefreshToken)
		}
	case errors.Is(err, vat.ErrNoToken):
		rt := getenv(envRefreshToken)
		if rt == "" {
			return nil, fmt.Errorf("no token for VRN %s: set %s, or a %s holding one", s.vrn, envRefreshToken, envTokenFile)
		}
		// No access token: the first request refreshes.
		if err := s.store.Save(ctx, &oauth2.Token{RefreshToken: rt}); err != nil {
			return nil, err
		}
		s.about = fmt.Sprintf("VRN %s from %s, token refreshed from %s", s.vrn, envVRN, envRefreshToken)
		if file == "" {
			s.about += fmt.Sprintf(" (HMRC replaces it on use: set %s to keep the new one for later runs)", envTokenFile)
		}
	default:
		return nil, fmt.Errorf("%s: %w", envTokenFile, err)
	}
	return s, nil
}

// signIn creates a test organisation with an application token and has a
// person sign in as its user through a browser.
func (s *sandboxSession) signIn(ctx context.Context, w io.Writer, saved bool) error {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: time.Minute}
	appTokens, err := vat.NewApplicationTokenSource(s.cfg, nil, vat.WithTokenHTTPClient(hc))
	if err != nil {
		return err
	}
	c, err := vat.NewClient(vat.WithEnvironment(vat.Sandbox), vat.WithHTTPClient(hc), vat.WithApplicationTokenSource(appTokens),
		vat.WithRateLimiter(s.limiter), vat.WithUserAgent(userAgent))
	if err != nil {
		return err
	}
	org, err := c.CreateTestOrganisation(ctx, vat.TestUserRequest{})
	if err != nil {
		return fmt.Errorf("creating a test organisation: %w", err)
	}
	prompt := func(authURL string) {
		fmt.Fprintf(w, "\nSign in to HMRC's sandbox as the test organisation this run created:\n\n"+
			"    User ID:  %s\n    Password: %s\n\nA browser should open; if none does, visit:\n\n    %s\n\n", org.UserID, org.Password, authURL)
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	tok, err := vat.SignIn(sctx, s.cfg, vat.WithSignInPrompt(prompt), vat.WithSignInHTTPClient(hc))
	if err != nil {
		return fmt.Errorf("signing in (is %s registered as a redirect URI of the application?): %w", s.cfg.RedirectURL, err)
	}
	if err := s.store.Save(ctx, tok); err != nil {
		return err
	}
	s.vrn = org.VRN
	s.about = fmt.Sprintf("test organisation created by this run, user ID %s, VRN %s", org.UserID, org.VRN)
	if saved {
		s.about += fmt.Sprintf("; its token is in %s: later runs can use %s=%s with the same %s", envTokenFile, envVRN, org.VRN, envTokenFile)
	}
	return nil
}

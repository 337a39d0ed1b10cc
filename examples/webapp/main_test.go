package main

import (
	"encoding/json"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// browser is a person's browser: it keeps cookies, and its fraud prevention
// values cookie holds what the page's script would have stored.
type browser struct {
	t    *testing.T
	base string
	hc   *http.Client
}

// start runs the application, against its in-process simulator, on a
// loopback port reached as http://localhost:PORT, as HMRC's redirect URI
// rules require.
func start(t *testing.T) (*app, *browser) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	base := "http://localhost:" + strings.TrimPrefix(ln.Addr().String(), "127.0.0.1:")
	a, err := newApp(config{baseURL: base, vendorPublicIP: netip.MustParseAddr("203.0.113.6"), log: log.New(io.Discard, "", 0)})
	require.NoError(t, err)
	t.Cleanup(a.close)
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: a.handler()}}
	srv.Start()
	t.Cleanup(srv.Close)

	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return a, &browser{t: t, base: base, hc: &http.Client{Jar: jar, Transport: tr}}
}

// runScript stores the values the page's fraud prevention script collects.
func (b *browser) runScript() {
	cv, err := json.Marshal(map[string]any{
		"screens":          []map[string]any{{"width": 1920, "height": 1080, "scalingFactor": 1, "colourDepth": 24}},
		"windowSize":       map[string]any{"width": 1256, "height": 803},
		"timezone":         "UTC+01:00",
		"browserUserAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	})
	require.NoError(b.t, err)
	u, err := url.Parse(b.base)
	require.NoError(b.t, err)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "mtd-fph", Value: url.PathEscape(string(cv)), Path: "/"}})
}

// get fetches u (a path of the application, or an absolute URL) and
// returns the final status and page.
func (b *browser) get(u string) (int, string) {
	b.t.Helper()
	if strings.HasPrefix(u, "/") {
		u = b.base + u
	}
	resp, err := b.hc.Get(u)
	require.NoError(b.t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(b.t, err)
	return resp.StatusCode, string(body)
}

// signIn follows "Connect to HMRC" to the simulator's sign-in page and signs
// in as the test user there, as a person would fill in the form.
func (b *browser) signIn(user *vat.TestUser) (int, string) {
	b.t.Helper()
	noFollow := *b.hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(b.base + "/connect")
	require.NoError(b.t, err)
	resp.Body.Close()
	require.Equal(b.t, http.StatusFound, resp.StatusCode)
	authURL, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(b.t, err)
	q := authURL.Query()
	assert.Equal(b.t, b.base+"/callback", q.Get("redirect_uri"))
	assert.Equal(b.t, "S256", q.Get("code_challenge_method"))
	q.Set("user_id", user.UserID)
	q.Set("password", user.Password)
	authURL.RawQuery = q.Encode()
	return b.get(authURL.String()) // the simulator redirects to /callback, which redirects home
}

func TestConnectAndShowObligations(t *testing.T) {
	t.Parallel()
	a, b := start(t)
	status, page := b.get("/")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, `<script src="/fraud-prevention.js">`)
	assert.Contains(t, page, "Connect to HMRC")

	status, script := b.get("/fraud-prevention.js")
	require.Equal(t, http.StatusOK, status)
	assert.Equal(t, fraud.BrowserCollectorScript(), script)
	b.runScript()

	status, page = b.signIn(a.testUser)
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "You are connected to HMRC")

	vrn := string(a.testUser.VRN)
	status, page = b.get("/obligations?vrn=" + vrn)
	require.Equal(t, http.StatusOK, status, page)
	open := a.sim.Obligations(vrn)
	require.NotEmpty(t, open)
	for _, o := range open {
		if o.Received == "" {
			assert.Contains(t, page, "<td>"+o.PeriodKey+"</td>")
		}
	}
	assert.Contains(t, page, "ready to file")

	// The call to HMRC carried the headers of the browser's own request.
	reqs := a.sim.Requests()
	last := reqs[len(reqs)-1]
	require.Equal(t, "/organisations/vat/"+vrn+"/obligations", last.Path)
	fh := last.FraudHeaders
	assert.Equal(t, "WEB_APP_VIA_SERVER", fh.Get("Gov-Client-Connection-Method"))
	assert.Equal(t, "127.0.0.1", fh.Get("Gov-Client-Public-IP"), "the browser's address as the server saw it")
	assert.NotEmpty(t, fh.Get("Gov-Client-Public-Port"))
	assert.Equal(t, "203.0.113.6", fh.Get("Gov-Vendor-Public-IP"))
	assert.Equal(t, "by=203.0.113.6&for=127.0.0.1", fh.Get("Gov-Vendor-Forwarded"))
	assert.Equal(t, "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0", fh.Get("Gov-Client-Browser-JS-User-Agent"))
	assert.Equal(t, "width=1256&height=803", fh.Get("Gov-Client-Window-Size"))
	assert.Equal(t, "UTC+01:00", fh.Get("Gov-Client-Timezone"))
	assert.Regexp(t, `^[0-9a-f-]{36}$`, fh.Get("Gov-Client-Device-ID"), "the device-ID cookie of the middleware")
	assert.Regexp(t, `^example-books-web=user-`, fh.Get("Gov-Client-User-IDs"))
	// HMRC's checks find only what a test on one machine cannot avoid (the
	// browser's loopback address), and the two headers agreed with HMRC.
	v := fraud.Validate(http.Header(fh)).Automated()
	for _, f := range v.Errors {
		assert.Subset(t, []string{"gov-client-public-ip", "gov-vendor-forwarded"}, f.Headers, "%s: %s", f.Code, f.Message)
	}
	for _, f := range v.Warnings {
		assert.Subset(t, []string{"gov-client-multi-factor", "gov-vendor-license-ids"}, f.Headers, "%s: %s", f.Code, f.Message)
	}
}

func TestRefusals(t *testing.T) {
	t.Parallel()
	a, b := start(t)
	b.get("/")

	status, page := b.get("/callback?code=abc&state=forged")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, "no sign-in in progress")

	status, page = b.get("/obligations?vrn=123456789")
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "Connect to HMRC", "sent home to connect first")

	// A redirect whose state is not this sign-in's.
	noFollow := *b.hc
	noFollow.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := noFollow.Get(b.base + "/connect")
	require.NoError(t, err)
	resp.Body.Close()
	status, page = b.get("/callback?code=abc&state=forged")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, "does not belong to your sign-in")

	// Declining on HMRC's page.
	resp, err = noFollow.Get(b.base + "/connect")
	require.NoError(t, err)
	resp.Body.Close()
	authURL, err := url.Parse(resp.Header.Get("Location"))
	require.NoError(t, err)
	q := authURL.Query()
	q.Set("action", "deny")
	authURL.RawQuery = q.Encode()
	status, page = b.get(authURL.String())
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, page, "You did not give this application access")

	b.runScript()
	status, _ = b.signIn(a.testUser)
	require.Equal(t, http.StatusOK, status)
	status, page = b.get("/obligations?vrn=GB123")
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, "nine digits")

	// Without the script's values the headers are incomplete: nothing is sent.
	before := len(a.sim.Requests())
	u, err := url.Parse(b.base)
	require.NoError(t, err)
	b.hc.Jar.SetCookies(u, []*http.Cookie{{Name: "mtd-fph", Value: "", Path: "/", MaxAge: -1}})
	status, page = b.get("/obligations?vrn=" + string(a.testUser.VRN))
	assert.Equal(t, http.StatusBadRequest, status)
	assert.Contains(t, page, "needs JavaScript")
	assert.Len(t, a.sim.Requests(), before, "no request reached HMRC")
}

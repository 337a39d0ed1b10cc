package fraud

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestBrowserCollectorHandler(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	BrowserCollectorHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/browser.js", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/javascript; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, BrowserCollectorScript(), rec.Body.String())
	assert.Contains(t, BrowserCollectorScript(), "mtd-device-id")
}

// The shipped script, run in Node against a minimal fake browser, stores
// cookies that the Go side turns into a valid WEB_APP_VIA_SERVER set.
func TestBrowserCollectorScriptEndToEnd(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	harness := `
const cookies = {};
globalThis.document = {
  get cookie() { return Object.entries(cookies).map(([k, v]) => k + "=" + v).join("; "); },
  set cookie(s) { const [kv] = s.split("; "); const i = kv.indexOf("="); cookies[kv.slice(0, i)] = kv.slice(i + 1); },
  addEventListener() {},
};
const store = {};
globalThis.window = {
  crypto: require("crypto").webcrypto, devicePixelRatio: 1.100000023841858,
  screen: { width: 2560, height: 1440, colorDepth: 30 }, innerWidth: 1256, innerHeight: 803,
  localStorage: { getItem: k => store[k] || null, setItem: (k, v) => { store[k] = v; } },
  addEventListener() {},
};
globalThis.screen = window.screen;
globalThis.location = { protocol: "https:" };
Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Test/1.0" } });
require(process.argv[2]);
const first = cookies["mtd-device-id"];
delete cookies["mtd-device-id"];
window.mtdFraudPrevention.store();
if (cookies["mtd-device-id"] !== first) throw new Error("device ID not restored from local storage");
process.stdout.write(document.cookie);
`
	dir := t.TempDir()
	hpath := filepath.Join(dir, "harness.js")
	spath := filepath.Join(dir, "browser.js")
	require.NoError(t, os.WriteFile(hpath, []byte(harness), 0o600))
	require.NoError(t, os.WriteFile(spath, []byte(BrowserCollectorScript()), 0o600))
	out, err := exec.Command(node, hpath, spath).CombinedOutput()
	require.NoError(t, err, string(out))

	s := serverCollector(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	r.RemoteAddr = "198.51.100.7:56363"
	r.Header.Set("Cookie", string(out))
	cv, err := s.BrowserValues(r)
	require.NoError(t, err)
	assert.True(t, isUUID(cv.DeviceID))
	assert.Equal(t, []Screen{{2560, 1440, "1.1", 30}}, cv.Screens)
	assert.Equal(t, WindowSize{1256, 803}, cv.WindowSize)
	assert.Equal(t, "Mozilla/5.0 (X11; Linux x86_64) Test/1.0", cv.BrowserJSUserAgent)
	_, off := time.Now().Zone()
	assert.Equal(t, TimezoneMinutes(off/60).String(), cv.Timezone.String())
	f, err := s.Headers(r, WebAppViaServer, cv, EndUser{UserIDs: []KeyValue{{"my-application", "alice123"}},
		MultiFactor: []MultiFactor{{Type: MultiFactorTOTP, Timestamp: time.Now(), UniqueReference: "ref"}}})
	require.NoError(t, err)
	h, err := f.Header()
	require.NoError(t, err)
	v := Validate(h)
	assert.True(t, v.Valid(), "%+v", v)
}

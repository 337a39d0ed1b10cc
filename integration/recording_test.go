package integration_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
)

// marking stands between the recorder and the server and puts a marker in
// every secret the server hands out: access and refresh tokens,
// authorization codes (in the redirect and its page) and test users'
// passwords reach the client, and so the recorder, as marker+value, and lose
// the marker on their way back to the server. It counts the marked secrets
// of each kind it handed out, and notes the values of secrets it cannot
// mark: the PKCE code verifiers the client makes, and the fraud prevention
// header values that identify the user or device. It knows where secrets
// travel independently of the scrubber under test.
type marking struct {
	marker string
	next   http.RoundTripper

	mu     sync.Mutex
	marked map[string]int             // kind → how many handed out
	seen   map[string]map[string]bool // kind → values
}

func (m *marking) count(kind string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.marked == nil {
		m.marked = map[string]int{}
	}
	m.marked[kind]++
}

func (m *marking) note(kind, v string) {
	if v == "" {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.seen == nil {
		m.seen = map[string]map[string]bool{}
	}
	if m.seen[kind] == nil {
		m.seen[kind] = map[string]bool{}
	}
	m.seen[kind][v] = true
}

func (m *marking) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	if token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "+m.marker); ok {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	for name, vs := range r.Header {
		switch {
		case strings.HasSuffix(name, "-Timestamp") || name == "Gov-Client-Connection-Method" || name == "Gov-Client-Timezone":
			// Redacted in the headers, but not secret: such values occur
			// elsewhere too (a processingDate can equal a timestamp).
		case strings.HasPrefix(name, "Gov-Client-") || strings.HasPrefix(name, "Gov-Vendor-"):
			for _, v := range vs {
				m.note("fraud prevention header", v)
			}
		}
	}
	if q := r.URL.Query(); q.Has("password") {
		q.Set("password", strings.TrimPrefix(q.Get("password"), m.marker))
		r.URL.RawQuery = q.Encode()
	}
	if r.Body != nil && r.Header.Get("Content-Type") == "application/x-www-form-urlencoded" {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, err
		}
		m.note("code verifier", form.Get("code_verifier"))
		for _, name := range []string{"code", "refresh_token"} {
			if form.Has(name) {
				form.Set(name, strings.TrimPrefix(form.Get(name), m.marker))
			}
		}
		enc := form.Encode()
		r.Body, r.ContentLength, r.GetBody = io.NopCloser(strings.NewReader(enc)), int64(len(enc)), nil
	}

	resp, err := m.next.RoundTrip(r)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	if loc, err := url.Parse(resp.Header.Get("Location")); err == nil && loc.Query().Get("code") != "" {
		q := loc.Query()
		code := q.Get("code")
		q.Set("code", m.marker+code)
		loc.RawQuery = q.Encode()
		resp.Header.Set("Location", loc.String())
		body = bytes.ReplaceAll(body, []byte(code), []byte(m.marker+code))
		m.count("authorization code")
	}
	var fields map[string]any
	if json.Unmarshal(body, &fields) == nil {
		changed := false
		for name, kind := range map[string]string{"access_token": "access token", "refresh_token": "refresh token", "password": "password"} {
			if v, ok := fields[name].(string); ok && v != "" {
				fields[name], changed = m.marker+v, true
				m.count(kind)
			}
		}
		if changed {
			if body, err = json.Marshal(fields); err != nil {
				return nil, err
			}
		}
	}
	resp.Body, resp.ContentLength = io.NopCloser(bytes.NewReader(body)), int64(len(body))
	resp.Header.Set("Content-Length", strconv.Itoa(len(body)))
	return resp, nil
}

// TestRecordingKeepsNoSecrets records the journey and a fraud header check
// against vattest into a temporary cassette, with a marker in the
// application's client ID and secret, in fraud prevention header values, and
// (through marking) in every token, authorization code and password the
// server hands out. It checks that the marker is nowhere in the cassette, nor
// any code verifier or identifying header value seen on the wire; then it
// replays the cassette with the server gone and gets the same results.
func TestRecordingKeepsNoSecrets(t *testing.T) {
	t.Parallel()
	const marker = "MARKER7f3a"
	name := filepath.Join(t.TempDir(), "cassettes", "journey")
	app := vattest.Application{
		ClientID:     marker + "-client-id",
		ClientSecret: marker + "-client-secret",
		RedirectURIs: []string{"http://localhost/callback"},
	}
	markFraud := func(cfg *fraud.DeviceCollectorConfig) {
		cfg.ProductName = marker + " Books"
		cfg.VendorVersion = []fraud.KeyValue{{Key: "books", Value: "1.0-" + marker}}
		cfg.UserIDs = []fraud.KeyValue{{Key: "books", Value: marker + "-user"}}
		cfg.Probe.OSUser = func() (string, error) { return marker + "-os-user", nil }
	}
	proxy := &marking{marker: marker}
	var recorded journey
	var recordedVerdict *fraud.Validation
	t.Run("record", func(t *testing.T) {
		tg := newSimTarget(t, simOptions{record: name, app: &app, fraud: markFraud,
			wire: func(rt http.RoundTripper) http.RoundTripper { proxy.next = rt; return proxy }})
		recorded = runJourney(t, tg)
		recordedVerdict = checkFraudHeaders(t, tg)
	})
	require.FileExists(t, name+".yaml")
	require.FileExists(t, metaPath(name))

	var files bytes.Buffer
	err := filepath.WalkDir(filepath.Dir(name), func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		files.Write(data)
		return err
	})
	require.NoError(t, err)
	saved := files.String()

	assert.NotContains(t, saved, marker)
	for _, kind := range []string{"access token", "refresh token", "authorization code", "password"} {
		assert.Positive(t, proxy.marked[kind], "the recording carried a marked %s", kind)
	}
	for _, kind := range []string{"code verifier", "fraud prevention header"} {
		values := proxy.seen[kind]
		assert.NotEmpty(t, values, "the recording carried a %s", kind)
		for v := range values {
			assert.NotContains(t, saved, v, "a %s is in the cassette", kind)
		}
	}
	assert.GreaterOrEqual(t, len(proxy.seen["fraud prevention header"]), 11, "the DESKTOP_APP_DIRECT headers that identify the user or device")
	assert.Contains(t, saved, "Bearer "+redacted)
	assert.Contains(t, saved, "Gov-Client-Device-Id", "fraud prevention headers are recorded by name")

	t.Run("replay", func(t *testing.T) {
		tg := newReplayTarget(t, "replay", name)
		replayed := runJourney(t, tg)
		assert.Equal(t, recorded, replayed)
		assert.Equal(t, recordedVerdict, checkFraudHeaders(t, tg))
	})
}

// TestScrub checks what recording removes from each part of an exchange.
func TestScrub(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		in, want cassette.Interaction
	}{{
		name: "client credentials grant",
		in: cassette.Interaction{
			Request: cassette.Request{
				Method: "POST", URL: "https://test-api.service.hmrc.gov.uk/oauth/token",
				Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Body:    "client_id=app-id&client_secret=s3cret-value&grant_type=client_credentials",
				Form:    url.Values{"client_id": {"app-id"}, "client_secret": {"s3cret-value"}, "grant_type": {"client_credentials"}},
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    `{"access_token":"at-0123456789","token_type":"bearer","expires_in":14400,"scope":""}`,
			},
		},
		want: cassette.Interaction{
			Request: cassette.Request{
				Method: "POST", URL: "https://test-api.service.hmrc.gov.uk/oauth/token",
				Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Body:    "client_id=REDACTED&client_secret=REDACTED&grant_type=client_credentials",
				Form:    url.Values{"client_id": {redacted}, "client_secret": {redacted}, "grant_type": {"client_credentials"}},
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    `{"access_token":"REDACTED","expires_in":14400,"scope":"","token_type":"bearer"}`,
			},
		},
	}, {
		name: "refresh grant",
		in: cassette.Interaction{
			Request: cassette.Request{
				Method: "POST", URL: "https://test-api.service.hmrc.gov.uk/oauth/token",
				Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Body:    "grant_type=refresh_token&refresh_token=rt-0123456789",
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
				Body:    `{"access_token":"at-9876543210","refresh_token":"rt-abcdefghij","expires_in":14400}`,
			},
		},
		want: cassette.Interaction{
			Request: cassette.Request{
				Method: "POST", URL: "https://test-api.service.hmrc.gov.uk/oauth/token",
				Headers: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}},
				Body:    "grant_type=refresh_token&refresh_token=REDACTED",
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
				Body:    `{"access_token":"REDACTED","expires_in":14400,"refresh_token":"REDACTED"}`,
			},
		},
	}, {
		name: "sign-in with a password, redirected with a code",
		in: cassette.Interaction{
			Request: cassette.Request{
				Method: "GET", URL: "http://127.0.0.1:1234/oauth/authorize?client_id=app-id&password=pw-0123456789&state=xyz&user_id=123456789012",
			},
			Response: cassette.Response{
				Code:    302,
				Headers: http.Header{"Location": {"http://localhost:5555/callback?code=code-0123456789&state=xyz"}, "Set-Cookie": {"session=abcdefghijk"}},
			},
		},
		want: cassette.Interaction{
			Request: cassette.Request{
				Method: "GET", URL: "http://127.0.0.1:1234/oauth/authorize?client_id=REDACTED&password=REDACTED&state=xyz&user_id=123456789012",
				Headers: http.Header{},
			},
			Response: cassette.Response{
				Code:    302,
				Headers: http.Header{"Location": {"http://localhost:5555/callback?code=REDACTED&state=xyz"}, "Set-Cookie": {redacted}},
			},
		},
	}, {
		name: "VAT call with a bearer token and fraud prevention headers",
		in: cassette.Interaction{
			Request: cassette.Request{
				Method: "GET", URL: "https://test-api.service.hmrc.gov.uk/organisations/vat/123456789/obligations?status=O",
				Headers: http.Header{
					"Authorization": {"Bearer at-0123456789"}, "Accept": {"application/vnd.hmrc.1.0+json"},
					"Gov-Client-Device-Id": {"beec798b-b366-47fa-b1f8-92cede14a1ce"}, "Gov-Vendor-Version": {"books=1.0"},
					"Gov-Test-Scenario": {"QUARTERLY_NONE_MET"},
				},
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}, "X-Correlationid": {"c-1"}},
				Body:    `{"obligations":[{"start":"2017-01-01","end":"2017-03-31","due":"2017-05-07","status":"O","periodKey":"18A1"}]}`,
			},
		},
		want: cassette.Interaction{
			Request: cassette.Request{
				Method: "GET", URL: "https://test-api.service.hmrc.gov.uk/organisations/vat/123456789/obligations?status=O",
				Headers: http.Header{
					"Authorization": {"Bearer REDACTED"}, "Accept": {"application/vnd.hmrc.1.0+json"},
					"Gov-Client-Device-Id": {redacted}, "Gov-Vendor-Version": {redacted},
					"Gov-Test-Scenario": {"QUARTERLY_NONE_MET"},
				},
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}, "X-Correlationid": {"c-1"}},
				Body:    `{"obligations":[{"start":"2017-01-01","end":"2017-03-31","due":"2017-05-07","status":"O","periodKey":"18A1"}]}`,
			},
		},
	}, {
		name: "test user's password; money keeps its digits",
		in: cassette.Interaction{
			Request: cassette.Request{
				Method: "POST", URL: "https://test-api.service.hmrc.gov.uk/create-test-user/organisations",
				Headers: http.Header{"Content-Type": {"application/json"}}, Body: `{"serviceNames":["mtd-vat"]}`,
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    `{"userId":"945350439195","password":"bLohysg8utsa","vrn":"666119668","amount":100.10}`,
			},
		},
		want: cassette.Interaction{
			Request: cassette.Request{
				Method: "POST", URL: "https://test-api.service.hmrc.gov.uk/create-test-user/organisations",
				Headers: http.Header{"Content-Type": {"application/json"}}, Body: `{"serviceNames":["mtd-vat"]}`,
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    `{"amount":100.10,"password":"REDACTED","userId":"945350439195","vrn":"666119668"}`,
			},
		},
	}, {
		name: "validation feedback echoes header values; secrets echoed elsewhere are swept",
		in: cassette.Interaction{
			Request: cassette.Request{
				Method: "GET", URL: "https://test-api.service.hmrc.gov.uk/test/fraud-prevention-headers/vat-mtd/validation-feedback",
				Headers: http.Header{"Authorization": {"Bearer at-0123456789"}, "Gov-Client-User-Ids": {"os=alice-the-tester"}},
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    `{"requests":[{"headers":[{"header":"gov-client-device-id","value":"beec798b","code":"VALID_HEADER"}],"note":"token at-0123456789 user os=alice-the-tester"}]}`,
			},
		},
		want: cassette.Interaction{
			Request: cassette.Request{
				Method: "GET", URL: "https://test-api.service.hmrc.gov.uk/test/fraud-prevention-headers/vat-mtd/validation-feedback",
				Headers: http.Header{"Authorization": {"Bearer REDACTED"}, "Gov-Client-User-Ids": {redacted}},
			},
			Response: cassette.Response{
				Headers: http.Header{"Content-Type": {"application/json"}},
				Body:    `{"requests":[{"headers":[{"code":"VALID_HEADER","header":"gov-client-device-id","value":"REDACTED"}],"note":"token REDACTED user REDACTED"}]}`,
			},
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var s scrubber
			i := tt.in
			require.NoError(t, s.capture(&i))
			require.NoError(t, s.scrub(&i))
			assert.Equal(t, tt.want.Request.URL, i.Request.URL)
			assert.Equal(t, tt.want.Request.Body, i.Request.Body)
			assert.True(t, equalContents(tt.want.Request.Form, i.Request.Form), "form %v", i.Request.Form)
			assert.True(t, equalContents(tt.want.Request.Headers, i.Request.Headers), "request headers %v", i.Request.Headers)
			assert.Equal(t, tt.want.Response.Headers, i.Response.Headers)
			assert.Equal(t, tt.want.Response.Body, i.Response.Body)
			if i.Response.Body != tt.in.Response.Body {
				assert.Equal(t, int64(len(i.Response.Body)), i.Response.ContentLength, "Content-Length follows the body")
			}
		})
	}
}

// TestMatchRequest checks that replay matching ignores what recording
// scrubbed, and nothing else.
func TestMatchRequest(t *testing.T) {
	t.Parallel()
	const obligations = "https://test-api.service.hmrc.gov.uk/organisations/vat/123456789/obligations?status=O"
	recorded := func(method, u, body string, h http.Header) cassette.Request {
		r := cassette.Request{Method: method, URL: u, Body: body, Headers: h}
		scrubRequest(&r)
		return r
	}
	vatHeader := func(token, device, scenario string) http.Header {
		h := http.Header{"Authorization": {"Bearer " + token}, "Accept": {"application/vnd.hmrc.1.0+json"},
			"User-Agent": {"app go-mtd-vat/" + vat.Version}, "Gov-Client-Device-Id": {device}}
		if scenario != "" {
			h.Set("Gov-Test-Scenario", scenario)
		}
		return h
	}
	form := http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}
	tests := []struct {
		name       string
		method, u  string
		body       string
		header     http.Header
		rec        cassette.Request
		wantsMatch bool
	}{
		{"other token and fraud header values", "GET", obligations, "", vatHeader(redacted, "another-device", ""),
			recorded("GET", obligations, "", vatHeader("at-real", "beec798b", "")), true},
		{"query in another order", "GET", "https://test-api.service.hmrc.gov.uk/x?b=2&a=1", "", http.Header{},
			recorded("GET", "https://test-api.service.hmrc.gov.uk/x?a=1&b=2", "", http.Header{}), true},
		{"other User-Agent", "GET", obligations, "", func() http.Header { h := vatHeader("t", "d", ""); h.Set("User-Agent", "new/2"); return h }(),
			recorded("GET", obligations, "", vatHeader("t", "d", "")), true},
		{"other credentials in a token request", "POST", "https://h/oauth/token", "client_id=REDACTED&client_secret=REDACTED&grant_type=client_credentials", form,
			recorded("POST", "https://h/oauth/token", "grant_type=client_credentials&client_secret=real&client_id=real-id", form), true},
		{"JSON body with other spacing", "POST", "https://h/r", `{"a": 1, "b": [2]}`, http.Header{"Content-Type": {"application/json"}},
			recorded("POST", "https://h/r", `{"b":[2],"a":1}`, http.Header{"Content-Type": {"application/json"}}), true},

		{"other scenario", "GET", obligations, "", vatHeader("t", "d", "QUARTERLY_ONE_MET"),
			recorded("GET", obligations, "", vatHeader("t", "d", "QUARTERLY_NONE_MET")), false},
		{"a fraud header missing", "GET", obligations, "", func() http.Header { h := vatHeader("t", "d", ""); h.Del("Gov-Client-Device-Id"); return h }(),
			recorded("GET", obligations, "", vatHeader("t", "d", "")), false},
		{"other VRN", "GET", strings.Replace(obligations, "123456789", "987654321", 1), "", vatHeader("t", "d", ""),
			recorded("GET", obligations, "", vatHeader("t", "d", "")), false},
		{"other query", "GET", strings.Replace(obligations, "status=O", "status=F", 1), "", vatHeader("t", "d", ""),
			recorded("GET", obligations, "", vatHeader("t", "d", "")), false},
		{"other method", "POST", obligations, "", vatHeader("t", "d", ""),
			recorded("GET", obligations, "", vatHeader("t", "d", "")), false},
		{"other grant", "POST", "https://h/oauth/token", "grant_type=refresh_token&refresh_token=x", form,
			recorded("POST", "https://h/oauth/token", "grant_type=client_credentials&client_secret=real", form), false},
		{"other JSON body", "POST", "https://h/r", `{"a":2}`, http.Header{"Content-Type": {"application/json"}},
			recorded("POST", "https://h/r", `{"a":1}`, http.Header{"Content-Type": {"application/json"}}), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r, err := http.NewRequest(tt.method, tt.u, strings.NewReader(tt.body))
			require.NoError(t, err)
			r.Header = tt.header
			assert.Equal(t, tt.wantsMatch, matchRequest(r, tt.rec))
			body, err := io.ReadAll(r.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.body, string(body), "the body is left to read")
			assert.Equal(t, tt.header, r.Header, "the request is not changed")
		})
	}
}

// TestSandboxMode checks how the environment selects the sandbox target's
// mode.
func TestSandboxMode(t *testing.T) {
	t.Parallel()
	creds := map[string]string{envClientID: "id", envClientSecret: "secret"}
	with := func(base map[string]string, k, v string) map[string]string {
		m := map[string]string{k: v}
		for bk, bv := range base {
			m[bk] = bv
		}
		return m
	}
	tests := []struct {
		name     string
		env      map[string]string
		cassette bool
		want     targetMode
		reason   string
	}{
		{"nothing set, no cassette", nil, false, modeSkip, envClientID + " and " + envClientSecret},
		{"nothing set, a cassette", nil, true, modeReplay, ""},
		{"credentials", creds, false, modeLive, ""},
		{"credentials win over a cassette", creds, true, modeLive, ""},
		{"credentials and VAT_RECORD=1", with(creds, envRecord, "1"), true, modeRecord, ""},
		{"VAT_RECORD=0", with(creds, envRecord, "0"), false, modeLive, ""},
		{"VAT_RECORD without credentials", map[string]string{envRecord: "1"}, true, modeFail, "set " + envClientID},
		{"VAT_RECORD not a flag", with(creds, envRecord, "yes please"), false, modeFail, envRecord},
		{"client ID alone", map[string]string{envClientID: "id"}, true, modeFail, "both"},
		{"client secret alone", map[string]string{envClientSecret: "s"}, false, modeFail, "both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mode, reason := sandboxMode(func(k string) string { return tt.env[k] }, tt.cassette)
			assert.Equal(t, tt.want, mode)
			assert.Contains(t, reason, tt.reason)
		})
	}
}

// TestSandboxSessionNeedsAUser checks the configuration errors of the
// sandbox session that come before any request.
func TestSandboxSessionNeedsAUser(t *testing.T) {
	t.Parallel()
	creds := map[string]string{envClientID: "id", envClientSecret: "secret"}
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"no way to sign in", creds, envInteractive + "=1"},
		{"a VRN without a token", map[string]string{envClientID: "id", envClientSecret: "secret", envVRN: "123456789"}, envRefreshToken},
		{"a bad VRN", map[string]string{envClientID: "id", envClientSecret: "secret", envVRN: "GB123", envRefreshToken: "r"}, envVRN},
		{"a bad redirect URI", map[string]string{envClientID: "id", envClientSecret: "secret", envRedirectURI: "http://example.com/cb"}, "RedirectURL"},
		{"a bad interactive flag", map[string]string{envClientID: "id", envClientSecret: "secret", envInteractive: "sometimes"}, envInteractive},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := newSandboxSession(t.Context(), func(k string) string { return tt.env[k] }, io.Discard)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}

	t.Run("a refresh token seeds the token file once", func(t *testing.T) {
		t.Parallel()
		file := filepath.Join(t.TempDir(), "sandbox-token.json")
		env := map[string]string{envClientID: "id", envClientSecret: "secret", envVRN: "123456789", envRefreshToken: "rt-first", envTokenFile: file}
		s, err := newSandboxSession(t.Context(), func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		assert.Equal(t, vat.VRN("123456789"), s.vrn)
		tok, err := s.store.Load(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "rt-first", tok.RefreshToken)
		assert.Empty(t, tok.AccessToken, "the first request refreshes")

		env[envRefreshToken] = "rt-spent"
		s, err = newSandboxSession(t.Context(), func(k string) string { return env[k] }, io.Discard)
		require.NoError(t, err)
		tok, err = s.store.Load(t.Context())
		require.NoError(t, err)
		assert.Equal(t, "rt-first", tok.RefreshToken, "the file holds the newest token")
		assert.Contains(t, s.about, envRefreshToken+" ignored")
		assert.NotContains(t, s.about, "rt-", "no token in the log line")
	})
}

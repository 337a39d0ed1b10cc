package fraud

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// serverCollector returns a collector for a vendor at 203.0.113.6 behind
// proxies in 10.0.0.0/8.
func serverCollector(t *testing.T, mutate func(*ServerCollectorConfig)) *ServerCollector {
	t.Helper()
	cfg := ServerCollectorConfig{
		VendorPublicIP:   netip.MustParseAddr("203.0.113.6"),
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ProductName:      "Product Name",
		VendorVersion:    []KeyValue{{"my-serverside-code", "v3.8"}},
		VendorLicenseIDs: []KeyValue{{"my-licensed-software", HashLicenseKey("k")}},
		Now:              func() time.Time { return time.Date(2026, 2, 14, 20, 41, 37, 929e6, time.UTC) },
		Random:           bytes.NewReader(bytes.Repeat([]byte{0x5c, 0xb1, 0x87, 0x83}, 64)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := NewServerCollector(cfg)
	require.NoError(t, err)
	return s
}

func TestServerCollectorClientAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*ServerCollectorConfig)
		remote  string
		headers map[string]string
		ip      string
		port    uint16
		fwd     string
		err     bool
	}{
		{name: "direct", remote: "198.51.100.7:54321", ip: "198.51.100.7", port: 54321,
			fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "spoofed X-Forwarded-For from an untrusted peer is ignored", remote: "198.51.100.7:54321",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.66", "Forwarded": "for=192.0.2.66"},
			ip:      "198.51.100.7", port: 54321, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "trusted proxy with X-Forwarded-For", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.66, 198.51.100.7, 10.0.0.4"},
			ip:      "198.51.100.7", port: 0, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "client port header", mutate: func(c *ServerCollectorConfig) { c.ClientPortHeader = "X-Client-Port" },
			remote: "10.0.0.5:40000", headers: map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Client-Port": "50000"},
			ip: "198.51.100.7", port: 50000, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "viewer address header", mutate: func(c *ServerCollectorConfig) { c.ClientPortHeader = "CloudFront-Viewer-Address" },
			remote: "10.0.0.5:40000", headers: map[string]string{"X-Forwarded-For": "2001:db8::7", "CloudFront-Viewer-Address": "[2001:db8::7]:46532"},
			ip: "2001:db8::7", port: 46532, fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A7"},
		{name: "viewer address for another client is ignored", mutate: func(c *ServerCollectorConfig) { c.ClientPortHeader = "CloudFront-Viewer-Address" },
			remote: "10.0.0.5:40000", headers: map[string]string{"X-Forwarded-For": "198.51.100.7", "CloudFront-Viewer-Address": "198.51.100.8:46532"},
			ip: "198.51.100.7", port: 0, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "forwarded with port and further hops",
			mutate: func(c *ServerCollectorConfig) {
				c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix("198.51.100.99/32"))
			},
			remote:  "10.0.0.5:40000",
			headers: map[string]string{"Forwarded": `for="[2001:db8::7]:4711";by=203.0.113.6, for=198.51.100.99;by=192.0.2.10;proto=https`},
			ip:      "2001:db8::7", port: 4711,
			fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A7,by=192.0.2.10&for=198.51.100.99"},
		{name: "X-Forwarded-For with a port (Azure Application Gateway)", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.23:50123, 10.0.0.4:443"},
			ip:      "198.51.100.23", port: 50123, fwd: "by=203.0.113.6&for=198.51.100.23"},
		{name: "X-Forwarded-For with a bracketed IPv6 address and port", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "[2001:db8::1]:443"},
			ip:      "2001:db8::1", port: 443, fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A1"},
		{name: "X-Forwarded-For with a bracketed IPv6 address without port", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "[2001:db8::1]"},
			ip:      "2001:db8::1", port: 0, fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A1"},
		{name: "X-Forwarded-For port of a proxy is not the client's", remote: "10.0.0.5:40000",
			mutate:  func(c *ServerCollectorConfig) { c.ClientPortHeader = "X-Client-Port" },
			headers: map[string]string{"X-Forwarded-For": "198.51.100.23, 10.0.0.4:443", "X-Client-Port": "50000"},
			ip:      "198.51.100.23", port: 50000, fwd: "by=203.0.113.6&for=198.51.100.23"},
		{name: "X-Forwarded-For with a bad port", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.23:99999"}, err: true},
		{name: "vendor hops behind a CDN",
			mutate: func(c *ServerCollectorConfig) {
				c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix("130.176.0.0/16"))
				c.VendorHops = []ForwardedHop{{By: netip.MustParseAddr("176.30.57.118")}}
			},
			remote:  "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.0:50123, 130.176.1.2"},
			ip:      "198.51.100.0", port: 50123,
			fwd: "by=203.0.113.6&for=198.51.100.0,by=176.30.57.118&for=130.176.1.2"},
		{name: "vendor hop whose sender the chain does not show", remote: "10.0.0.5:40000",
			mutate: func(c *ServerCollectorConfig) {
				c.VendorHops = []ForwardedHop{{By: netip.MustParseAddr("176.30.57.118")}}
			},
			headers: map[string]string{"X-Forwarded-For": "198.51.100.0"}, err: true},
		{name: "ipv4-mapped peer", remote: "[::ffff:198.51.100.7]:5000", ip: "198.51.100.7", port: 5000,
			fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "garbage from a trusted proxy", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": marker}, err: true},
		{name: "obfuscated forwarded node", remote: "10.0.0.5:40000",
			headers: map[string]string{"Forwarded": "for=_hidden"}, err: true},
		{name: "trusted proxy without a chain", remote: "10.0.0.5:40000", err: true},
		{name: "unix socket peer", remote: "@", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := serverCollector(t, tt.mutate)
			r := httptest.NewRequest(http.MethodPost, "/submit", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			f, err := s.Headers(r, WebAppViaServer, nil, EndUser{})
			if tt.err {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), marker)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, netip.MustParseAddr(tt.ip), f.PublicIP)
			assert.Equal(t, tt.port, f.PublicPort)
			h := http.Header{}
			require.NoError(t, f.encode(h, false))
			assert.Equal(t, tt.fwd, h.Get("Gov-Vendor-Forwarded"))
		})
	}
}

// browserCookies returns the cookies the browser script would store.
func browserCookies(t *testing.T, values map[string]any, deviceID string) []*http.Cookie {
	t.Helper()
	data, err := json.Marshal(values)
	require.NoError(t, err)
	return []*http.Cookie{
		{Name: "mtd-fph", Value: strings.ReplaceAll(url.QueryEscape(string(data)), "+", "%20")},
		{Name: "mtd-device-id", Value: deviceID},
	}
}

func TestServerCollectorWebApp(t *testing.T) {
	t.Parallel()
	s := serverCollector(t, nil)
	var got *Headers
	handler := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cv, err := s.BrowserValues(r)
		require.NoError(t, err)
		src, err := s.Source(r, WebAppViaServer, cv, EndUser{
			UserIDs: []KeyValue{{"my-application", "alice123"}},
			MultiFactor: []MultiFactor{{Type: MultiFactorOther, Timestamp: time.Date(2026, 2, 14, 20, 40, 53, 899e6, time.UTC),
				UniqueReference: "f841bcc3-35e8-42e9-af9a-8faea61f7bab"}},
		})
		require.NoError(t, err)
		got, err = src.FraudHeaders(r.Context())
		require.NoError(t, err)
	}))
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	r.RemoteAddr = "198.51.100.7:56363"
	for _, c := range browserCookies(t, map[string]any{
		"screens":          []map[string]any{{"width": 1280, "height": 1446, "scalingFactor": "1", "colourDepth": 24}},
		"windowSize":       map[string]int{"width": 1280, "height": 1446},
		"timezone":         "UTC+01:00",
		"browserUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/145.0.7632.6 Safari/537.36",
		"deviceId":         "00000000-0000-4000-8000-000000000000",
		// A browser cannot add these: they are ignored for web apps.
		"vendorVersion": []map[string]string{{"key": "injected", "value": "1"}},
		"licenseIds":    []map[string]string{{"key": "injected", "value": HashLicenseKey("x")}},
		"osUser":        "injected",
		"localIps":      []string{"10.9.9.9"},
	}, "5cb18783-e15d-420b-8177-2f43212882aa") {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	require.NotNil(t, got)
	assert.Empty(t, rec.Result().Cookies(), "a valid device-ID cookie is kept")
	h, err := got.Header()
	require.NoError(t, err)
	assert.Equal(t, headerOf(map[string]string{
		"Gov-Client-Connection-Method":     "WEB_APP_VIA_SERVER",
		"Gov-Client-Browser-JS-User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/145.0.7632.6 Safari/537.36",
		"Gov-Client-Device-ID":             "5cb18783-e15d-420b-8177-2f43212882aa",
		"Gov-Client-Multi-Factor":          "type=OTHER&timestamp=2026-02-14T20%3A40%3A53.899Z&unique-reference=f841bcc3-35e8-42e9-af9a-8faea61f7bab",
		"Gov-Client-Public-IP":             "198.51.100.7",
		"Gov-Client-Public-IP-Timestamp":   "2026-02-14T20:41:37.929Z",
		"Gov-Client-Public-Port":           "56363",
		"Gov-Client-Screens":               "width=1280&height=1446&scaling-factor=1&colour-depth=24",
		"Gov-Client-Timezone":              "UTC+01:00",
		"Gov-Client-User-IDs":              "my-application=alice123",
		"Gov-Client-Window-Size":           "width=1280&height=1446",
		"Gov-Vendor-Forwarded":             "by=203.0.113.6&for=198.51.100.7",
		"Gov-Vendor-License-IDs":           "my-licensed-software=" + HashLicenseKey("k"),
		"Gov-Vendor-Product-Name":          "Product%20Name",
		"Gov-Vendor-Public-IP":             "203.0.113.6",
		"Gov-Vendor-Version":               "my-serverside-code=v3.8",
	}), h)
	v := Validate(h)
	assert.True(t, v.Valid(), "%+v", v)
}

func TestServerCollectorMiddlewareSetsDeviceID(t *testing.T) {
	t.Parallel()
	arrived := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := arrived
	var mu sync.Mutex
	s := serverCollector(t, func(c *ServerCollectorConfig) {
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	var seen *ClientValues
	var stamp time.Time
	handler := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		clock = clock.Add(3 * time.Second) // the handler runs later than arrival
		mu.Unlock()
		var err error
		seen, err = s.BrowserValues(r)
		require.NoError(t, err)
		f, err := s.Headers(r, WebAppViaServer, seen, EndUser{})
		require.NoError(t, err)
		stamp = f.PublicIPTimestamp
		c, err := r.Cookie("other")
		require.NoError(t, err)
		assert.Equal(t, "kept", c.Value)
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "198.51.100.7:5000"
	r.AddCookie(&http.Cookie{Name: "other", Value: "kept"})
	r.AddCookie(&http.Cookie{Name: "mtd-device-id", Value: "null"})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, "mtd-device-id", c.Name)
	assert.Equal(t, "5cb18783-5cb1-4783-9cb1-87835cb18783", c.Value)
	assert.True(t, c.Secure)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Equal(t, 400*24*3600, c.MaxAge)
	assert.Equal(t, c.Value, seen.DeviceID, "the handler sees the new ID at once")
	assert.Equal(t, arrived, stamp, "the public IP timestamp is the arrival time")
}

func TestServerCollectorDesktopViaServer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 13, 30, 5, 123e6, time.UTC)
	cfg := appConfig(DesktopAppViaServer, fakeProbe(t, &now))
	cfg.VendorVersion = []KeyValue{{"my-desktop-app", "2.2.2"}}
	dc, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	cv, err := dc.ClientValues(context.Background())
	require.NoError(t, err)
	body, err := json.Marshal(cv)
	require.NoError(t, err)

	s := serverCollector(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/api/returns", bytes.NewReader(body))
	r.RemoteAddr = "198.51.100.0:12345"
	posted, err := ParseClientValues(body)
	require.NoError(t, err)
	f, err := s.Headers(r, DesktopAppViaServer, posted, EndUser{UserIDs: []KeyValue{{"my-application", "alice123"}},
		MultiFactor: cfg.MultiFactor})
	require.NoError(t, err)
	h, err := f.Header()
	require.NoError(t, err)
	assert.Equal(t, "my-desktop-app=2.2.2&my-serverside-code=v3.8", h.Get("Gov-Vendor-Version"))
	assert.Equal(t, "os=domain%5Calice&my-application=alice123", h.Get("Gov-Client-User-IDs"))
	assert.Equal(t, "2026-07-01T13:30:05.123Z", h.Get("Gov-Client-Local-IPs-Timestamp"))
	assert.Equal(t, "my-licensed-software="+HashLicenseKey("licence-key")+"&my-licensed-software="+HashLicenseKey("k"),
		h.Get("Gov-Vendor-License-IDs"))
	assert.Equal(t, DesktopAppViaServer.RequiredHeaders(), f.Present())
	v := Validate(h)
	assert.True(t, v.Valid(), "%+v", v)

	for _, m := range []ConnectionMethod{MobileAppViaServer, OtherViaServer} {
		noClient := *posted
		noClient.VendorVersion = nil
		_, err = s.Headers(r, m, &noClient, EndUser{})
		assert.ErrorContains(t, err, "Gov-Vendor-Version")
	}
	_, err = s.Headers(r, DesktopAppDirect, posted, EndUser{})
	assert.Error(t, err)
}

func TestServerCollectorBrowserValuesErrors(t *testing.T) {
	t.Parallel()
	s := serverCollector(t, nil)
	for name, cookies := range map[string][]*http.Cookie{
		"device id":  {{Name: "mtd-device-id", Value: marker}},
		"not JSON":   {{Name: "mtd-fph", Value: marker}},
		"bad escape": {{Name: "mtd-fph", Value: "%ZZ" + marker}},
		"huge":       {{Name: "mtd-fph", Value: strings.Repeat("a", 20<<10)}},
		"CRLF UA":    {{Name: "mtd-fph", Value: url.PathEscape(`{"browserUserAgent":"` + marker + `\r\nX: y"}`)}},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range cookies {
			r.Header.Add("Cookie", c.Name+"="+c.Value)
		}
		_, err := s.BrowserValues(r)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), marker, name)
	}
	cv, err := s.BrowserValues(httptest.NewRequest(http.MethodGet, "/", nil))
	require.NoError(t, err)
	assert.Equal(t, &ClientValues{}, cv)
}

func TestNewServerCollectorConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]ServerCollectorConfig{
		"no vendor IP": {},
		"bad prefix":   {VendorPublicIP: netip.MustParseAddr("203.0.113.6"), TrustedProxies: []netip.Prefix{{}}},
		"bad cookie":   {VendorPublicIP: netip.MustParseAddr("203.0.113.6"), DeviceIDCookie: "a b"},
	} {
		_, err := NewServerCollector(cfg)
		assert.Error(t, err, name)
	}
}

// TestServerCollectorVendorHopsMatchTheSpecExample builds HMRC's own
// multi-hop example (a WAF in front of two servers, specification 3.3,
// Gov-Vendor-Forwarded) from VendorHops and compares it with the
// specification's encoding.
func TestServerCollectorVendorHopsMatchTheSpecExample(t *testing.T) {
	t.Parallel()
	const want = "by=2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334&for=198.51.100.0," +
		"by=203.0.113.6&for=2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334,by=176.30.57.118&for=203.0.113.6"
	waf := netip.MustParseAddr("2001:0db8:85a3:0000:0000:8a2e:0370:7334")
	s := serverCollector(t, func(c *ServerCollectorConfig) {
		c.VendorPublicIP = waf
		c.VendorHops = []ForwardedHop{
			{By: netip.MustParseAddr("203.0.113.6"), For: waf},
			{By: netip.MustParseAddr("176.30.57.118"), For: netip.MustParseAddr("203.0.113.6")},
		}
	})
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	r.RemoteAddr = "198.51.100.0:50123"
	f, err := s.Headers(r, WebAppViaServer, nil, EndUser{})
	require.NoError(t, err)
	h := http.Header{}
	require.NoError(t, f.encode(h, false))
	spec, err := Parse(http.Header{"Gov-Vendor-Forwarded": {want}})
	require.NoError(t, err)
	assert.Equal(t, spec.VendorForwarded, f.VendorForwarded, "the same hops as the specification's example")
	assert.Equal(t, strings.ReplaceAll(want, "2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334", "2001%3Adb8%3A85a3%3A%3A8a2e%3A370%3A7334"),
		h.Get("Gov-Vendor-Forwarded"), "the specification's encoding, with the IPv6 address in its canonical spelling")
	res := Validate(h)
	for _, e := range res.Errors {
		assert.NotContains(t, e.Headers, "gov-vendor-forwarded", e.Message)
	}
}

func TestNewServerCollectorRefusesBadVendorHops(t *testing.T) {
	t.Parallel()
	for name, hop := range map[string]ForwardedHop{
		"no by":       {},
		"private by":  {By: netip.MustParseAddr("10.0.0.1")},
		"private for": {By: netip.MustParseAddr("203.0.113.9"), For: netip.MustParseAddr("192.168.0.1")},
	} {
		_, err := NewServerCollector(ServerCollectorConfig{VendorPublicIP: netip.MustParseAddr("203.0.113.6"), VendorHops: []ForwardedHop{hop}})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "VendorHops[0]", name)
	}
}

func TestServerCollectorSourceRefusesDirectMethods(t *testing.T) {
	t.Parallel()
	s := serverCollector(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	src, err := s.Source(r, DesktopAppDirect, nil, EndUser{})
	require.Error(t, err)
	assert.Nil(t, src)
}

package fraud

import (
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/textproto"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// specData is testdata/spec-3.3-connection-methods.json.
type specData struct {
	ConnectionMethods []ConnectionMethod                     `json:"connectionMethods"`
	AllHeaders        []string                               `json:"allHeaders"`
	RequiredHeaders   map[ConnectionMethod][]string          `json:"requiredHeaders"`
	PerHeaderExamples map[string][]specExample               `json:"perHeaderExamples"`
	ExampleHeaderSets map[ConnectionMethod]map[string]string `json:"exampleHeaderSets"`
}

type specExample struct {
	Value             string             `json:"value"`
	ConnectionMethods []ConnectionMethod `json:"connectionMethods"`
}

func loadSpec(t testing.TB) specData {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "spec-3.3-connection-methods.json"))
	require.NoError(t, err)
	var s specData
	require.NoError(t, json.Unmarshal(data, &s))
	require.Len(t, s.ConnectionMethods, 8)
	return s
}

func headerOf(m map[string]string) http.Header {
	h := http.Header{}
	for k, v := range m {
		h.Set(k, v)
	}
	return h
}

func mustTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm
}

// exampleModel builds, field by field, the Headers that HMRC's assembled
// example set for method m describes (notes §7.1).
func exampleModel(t testing.TB, m ConnectionMethod) Headers {
	t.Helper()
	desktop := m == DesktopAppDirect || m == DesktopAppViaServer || m == WebAppViaServer
	mobile := m == MobileAppDirect || m == MobileAppViaServer
	f := Headers{
		ConnectionMethod:   m,
		BrowserJSUserAgent: "Mozilla/5.0 (iPad; U; CPU OS 3_2_1 like Mac OS X; en-us) AppleWebKit/531.21.10 (KHTML, like Gecko) Mobile/7B405",
		DeviceID:           "beec798b-b366-47fa-b1f8-92cede14a1ce",
		LocalIPs:           []netip.Addr{netip.MustParseAddr("fc00::"), netip.MustParseAddr("10.1.2.3")},
		LocalIPsTimestamp:  mustTime(t, "2020-09-21T14:30:05.123Z"),
		MACAddresses: []net.HardwareAddr{
			{0xea, 0x43, 0x1a, 0x5d, 0x21, 0x45}, {0x10, 0x12, 0xcc, 0xfa, 0xaa, 0x32},
		},
		MultiFactor: []MultiFactor{
			{Type: MultiFactorAuthCode, Timestamp: mustTime(t, "2021-11-21T13:23:00Z"),
				UniqueReference: "fc4b5fd6816f75a7c81fc8eaa9499d6a299bd803397166e8c4cf9280b801d62c"},
			{Type: MultiFactorTOTP, Timestamp: mustTime(t, "2021-11-21T13:20:00Z"),
				UniqueReference: "0283da60063abfb3a87f1aed845d17fe2d9ba8c780b478dc4ae048f5ee97a6d5"},
		},
		PublicIP:          netip.MustParseAddr("198.51.100.0"),
		PublicIPTimestamp: mustTime(t, "2020-09-21T14:30:05.123Z"),
		PublicPort:        12345,
		Timezone:          TimezoneMinutes(0),
		VendorForwarded: []ForwardedHop{{By: netip.MustParseAddr("203.0.113.6"),
			For: netip.MustParseAddr("198.51.100.0")}},
		VendorLicenseIDs: []KeyValue{{Key: "my-licensed-software",
			Value: "8D7963490527D33716835EE7C195516D5E562E03B224E9B359836466EE40CDE1"}},
		VendorProductName: "Product Name",
		VendorPublicIP:    netip.MustParseAddr("203.0.113.6"),
	}
	switch {
	case desktop:
		f.Screens = []Screen{{1920, 1080, "1", 16}, {3000, 2000, "1.25", 16}}
		f.WindowSize = WindowSize{1256, 803}
	case mobile:
		f.Screens = []Screen{{375, 812, "2", 32}}
		f.WindowSize = WindowSize{375, 812}
	}
	if mobile {
		f.UserAgent = UserAgent{"iOS", "13.3.1", "Apple", "iPhone12,3"}
	} else {
		f.UserAgent = UserAgent{"Windows", "Server 2012", "Dell Inc.", "OptiPlex 980"}
	}
	switch m {
	case WebAppViaServer, MobileAppDirect, MobileAppViaServer:
		f.UserIDs = []KeyValue{{"my-application", "alice123"}}
	case OtherViaServer:
		f.UserIDs = []KeyValue{{"os", "alice"}, {"my-application", "alice123"}}
	default:
		f.UserIDs = []KeyValue{{"os", `domain\alice`}, {"my-application", "alice123"}}
	}
	switch m {
	case WebAppViaServer:
		f.VendorVersion = []KeyValue{{"my-web-app", "2.2.2"}}
	case DesktopAppViaServer:
		f.VendorVersion = []KeyValue{{"my-desktop-app", "2.2.2"}, {"my-serverside-code", "v3.8"}}
	case MobileAppViaServer:
		f.VendorVersion = []KeyValue{{"my-mobile-app", "2.2.2"}, {"my-serverside-code", "v3.8"}}
	case OtherViaServer:
		f.VendorVersion = []KeyValue{{"my-frontend-app", "2.2.2"}, {"my-serverside-code", "v3.8"}}
	default:
		f.VendorVersion = []KeyValue{{"my-application", "1.6.0"}}
	}
	f.keepRequired()
	return f
}

// normalised returns f with its timestamps in UTC, for comparisons.
func normalised(f *Headers) *Headers {
	c := f.Clone()
	utc := func(t time.Time) time.Time {
		if t.IsZero() {
			return time.Time{}
		}
		return t.UTC().Round(0)
	}
	c.LocalIPsTimestamp = utc(c.LocalIPsTimestamp)
	c.PublicIPTimestamp = utc(c.PublicIPTimestamp)
	for i := range c.MultiFactor {
		c.MultiFactor[i].Timestamp = utc(c.MultiFactor[i].Timestamp)
	}
	return c
}

func TestConnectionMethodRequiredHeadersMatchSpec(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	for _, m := range spec.ConnectionMethods {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			assert.True(t, m.Valid())
			var got []string
			for n := range m.RequiredHeaders().All() {
				got = append(got, n.String())
			}
			assert.ElementsMatch(t, spec.RequiredHeaders[m], got)
			assert.Equal(t, len(spec.RequiredHeaders[m]), m.RequiredHeaders().Len())
			assert.Equal(t, strings.HasSuffix(string(m), "_VIA_SERVER"), m.ViaServer())
		})
	}
	assert.False(t, ConnectionMethod("web_app_via_server").Valid())
	assert.Zero(t, ConnectionMethod("").RequiredHeaders())
}

func TestFraudHeaderNames(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	var names []string
	for n := HeaderName(1); n <= NumHeaders; n++ {
		names = append(names, n.String())
		assert.Equal(t, textproto.CanonicalMIMEHeaderKey(n.String()), n.key(), n.String())
		got, ok := ParseHeaderName(strings.ToLower(n.String()))
		assert.True(t, ok)
		assert.Equal(t, n, got)
		got, ok = ParseHeaderName(n.key())
		assert.True(t, ok)
		assert.Equal(t, n, got)
	}
	assert.ElementsMatch(t, spec.AllHeaders, names)
	for _, s := range []string{"Gov-Test-Scenario", "Gov-Client-Browser-Plugins", "Gov-Client-Foo", "", "Gov-"} {
		_, ok := ParseHeaderName(s)
		assert.False(t, ok, s)
	}
	assert.Equal(t, "HeaderName(0)", HeaderName(0).String())
	assert.False(t, HeaderName(21).Valid())
}

func TestFraudHeaderSet(t *testing.T) {
	t.Parallel()
	s := NewHeaderSet(GovClientMultiFactor, GovVendorLicenseIDs, HeaderName(0), HeaderName(99))
	assert.Equal(t, 2, s.Len())
	assert.True(t, s.Has(GovClientMultiFactor))
	assert.False(t, s.Has(GovClientScreens))
	assert.False(t, s.Has(HeaderName(0)))
	assert.Equal(t, "Gov-Client-Multi-Factor, Gov-Vendor-License-IDs", s.String())
	s = s.Without(GovClientMultiFactor).With(GovClientScreens)
	assert.Equal(t, "Gov-Client-Screens, Gov-Vendor-License-IDs", s.String())
	var first []HeaderName
	for n := range s.All() {
		first = append(first, n)
		break
	}
	assert.Equal(t, []HeaderName{GovClientScreens}, first)
}

// Every assembled example set of notes §7.1 encodes from the model byte for
// byte, with no other header, and parses back to the model.
func TestEncodeExampleHeaderSets(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	for _, m := range spec.ConnectionMethods {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			want := spec.ExampleHeaderSets[m]
			require.NotEmpty(t, want)
			f := exampleModel(t, m)
			h, err := f.Header()
			require.NoError(t, err)
			assert.Len(t, h, len(want))
			for name, v := range want {
				assert.Equal(t, []string{v}, h.Values(name), name)
			}
			got, err := Parse(headerOf(want))
			require.NoError(t, err)
			assert.Equal(t, normalised(&f), normalised(got))
		})
	}
}

// Every documented single-header example value parses and re-encodes byte
// for byte.
func TestSingleHeaderExamplesRoundTrip(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	extra := map[string][]string{ // notes §7.1 "Extra single-header VALID values" and §7.2
		"Gov-Vendor-License-IDs":  {"my%20licensed%20software=8D7963490527D33716835EE7C195516D5E562E03B224E9B359836466EE40CDE1"},
		"Gov-Client-Multi-Factor": {"type=OTHER&timestamp=2026-02-14T20%3A40%3A53.899Z&unique-reference=f841bcc3-35e8-42e9-af9a-8faea61f7bab", "type=TOTP&timestamp=2026-01-08T00%3A09%3A01Z&unique-reference=test-mfa-1770680684335"},
		"Gov-Vendor-Public-IP":    {"2001:0db8:85a3:0000:0000:8a2e:0370:7334"},
		"Gov-Client-Local-IPs":    {"10.1.2.3,10.3.4.2"},
		"Gov-Client-Browser-JS-User-Agent": {
			"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/145.0.7632.6 Safari/537.36"},
	}
	n := 0
	check := func(name, value string) {
		n++
		t.Run(name+"="+value, func(t *testing.T) {
			f, err := Parse(http.Header{name: {value}})
			require.NoError(t, err)
			h := http.Header{}
			require.NoError(t, f.encode(h, false))
			assert.Equal(t, []string{value}, h.Values(name))
		})
	}
	for name, examples := range spec.PerHeaderExamples {
		for _, ex := range examples {
			check(name, ex.Value)
		}
	}
	for name, values := range extra {
		for _, v := range values {
			check(name, v)
		}
	}
	assert.GreaterOrEqual(t, n, 40)
}

func TestRoundTripModels(t *testing.T) {
	t.Parallel()
	base := exampleModel(t, DesktopAppViaServer)
	tests := map[string]func(f *Headers){
		"example":             func(*Headers) {},
		"unicode values":      func(f *Headers) { f.UserIDs = []KeyValue{{"os", "José Ñúñez"}, {"app", "🙂 a&b=c,d"}} },
		"empty user id value": func(f *Headers) { f.UserIDs = []KeyValue{{"os", ""}, {"app", "x"}} },
		"reserved characters": func(f *Headers) { f.VendorProductName = "A+B /C?%~._-" },
		"ipv6 everywhere": func(f *Headers) {
			v6 := netip.MustParseAddr("2001:db8::1")
			f.PublicIP, f.VendorPublicIP = v6, netip.MustParseAddr("2001:db8::2")
			f.VendorForwarded = []ForwardedHop{{By: f.VendorPublicIP, For: v6}, {By: v6, For: netip.MustParseAddr("::ffff:198.51.100.7")}}
			f.LocalIPs = []netip.Addr{netip.MustParseAddr("fe80::1"), netip.MustParseAddr("::ffff:10.0.0.1")}
		},
		"negative timezone":    func(f *Headers) { f.Timezone = TimezoneMinutes(-(9*60 + 30)) },
		"max timezone":         func(f *Headers) { f.Timezone = TimezoneMinutes(23*60 + 59) },
		"mfa second precision": func(f *Headers) { f.MultiFactor[0].Timestamp = time.Date(2026, 1, 8, 0, 9, 1, 0, time.UTC) },
		"mfa millisecond precision": func(f *Headers) {
			f.MultiFactor[0].Timestamp = time.Date(2026, 2, 14, 20, 40, 53, 899e6, time.UTC)
		},
		"ua without device": func(f *Headers) { f.UserAgent = UserAgent{OSFamily: "Linux", OSVersion: "Debian 12"} },
		"agreed empty": func(f *Headers) {
			f.MultiFactor, f.VendorLicenseIDs = nil, nil
			f.AgreedEmpty = NewHeaderSet(GovClientMultiFactor, GovVendorLicenseIDs)
		},
		"port 1 and 65535": func(f *Headers) { f.PublicPort = 65535 },
		"many screens": func(f *Headers) {
			f.Screens = append(f.Screens, Screen{800, 600, ScalingFactorThousandths(1500), 24}, Screen{1, 1, "0.5", 1})
		},
	}
	for name, mutate := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := *base.Clone()
			mutate(&f)
			h, err := f.Header()
			require.NoError(t, err)
			got, err := Parse(h)
			require.NoError(t, err)
			assert.Equal(t, normalised(&f), normalised(got))
			h2, err := got.Header()
			require.NoError(t, err)
			assert.Equal(t, h, h2)
		})
	}
}

func TestEncodingRules(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppDirect)
	f.UserIDs = []KeyValue{{"os", "a b+c:d,e&f=g\\h/i~j.k_l-m"}}
	f.VendorProductName = "Ü ö"
	f.Timezone = TimezoneMinutes(-75)
	f.LocalIPsTimestamp = time.Date(2026, 3, 29, 1, 2, 3, 4_999_999, time.FixedZone("BST", 3600))
	h, err := f.Header()
	require.NoError(t, err)
	assert.Equal(t, "os=a%20b%2Bc%3Ad%2Ce%26f%3Dg%5Ch%2Fi~j.k_l-m", h.Get("Gov-Client-User-IDs"))
	assert.Equal(t, "%C3%9C%20%C3%B6", h.Get("Gov-Vendor-Product-Name"))
	assert.Equal(t, "UTC-01:15", h.Get("Gov-Client-Timezone"))
	assert.Equal(t, "2026-03-29T00:02:03.004Z", h.Get("Gov-Client-Local-IPs-Timestamp"))
	for _, vs := range h {
		assert.NotContains(t, vs[0], "+", "a space or plus must never be sent as '+'")
	}
}

func TestTimezone(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		london = time.FixedZone("BST", 3600)
	}
	summer := time.Date(2026, 7, 1, 12, 0, 0, 0, london)
	assert.Equal(t, "UTC+01:00", TimezoneOf(summer).String())
	assert.Equal(t, "UTC+05:45", TimezoneOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("NPT", 5*3600+45*60))).String())
	assert.Equal(t, "UTC-03:30", TimezoneOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.FixedZone("NST", -(3*3600+30*60)))).String())
	assert.Equal(t, "", Timezone{}.String())
	assert.True(t, Timezone{}.IsZero())
	m, ok := TimezoneMinutes(0).Minutes()
	assert.True(t, ok)
	assert.Zero(t, m)
	z, ok := parseTimezone("UTC-00:00")
	assert.True(t, ok)
	assert.Equal(t, "UTC+00:00", z.String())
}

func TestScalingFactorThousandths(t *testing.T) {
	t.Parallel()
	for n, want := range map[int]ScalingFactor{1000: "1", 1250: "1.25", 1500: "1.5", 2000: "2", 1005: "1.005", 875: "0.875", 0: "", -5: ""} {
		assert.Equal(t, want, ScalingFactorThousandths(n), n)
	}
}

func TestWriteToRequiredHeaders(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, WebAppViaServer)
	f.MultiFactor = nil
	f.PublicPort = 0
	err := f.WriteTo(http.Header{})
	require.Error(t, err)
	var fe *HeaderError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, GovClientMultiFactor, fe.Header)
	assert.Contains(t, err.Error(), "Gov-Client-Public-Port: required for connection method WEB_APP_VIA_SERVER")

	f.AgreedMissing = NewHeaderSet(GovClientMultiFactor)
	f.AgreedEmpty = NewHeaderSet(GovClientPublicPort)
	h := http.Header{}
	require.NoError(t, f.WriteTo(h))
	_, hasMFA := h["Gov-Client-Multi-Factor"]
	assert.False(t, hasMFA, "agreed-missing headers are left out")
	assert.Equal(t, []string{""}, h["Gov-Client-Public-Port"], "agreed-empty headers are sent empty")

	noMethod := f
	noMethod.ConnectionMethod = ""
	err = noMethod.WriteTo(http.Header{})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, GovClientConnectionMethod, fe.Header)
	var nilF *Headers
	assert.ErrorIs(t, nilF.WriteTo(http.Header{}), ErrNoHeaders)
}

func TestWriteToReplacesStaleHeadersAndLeavesHeaderOnError(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Gov-Client-Local-IPs", "10.0.0.1")
	h.Set("Gov-Test-Scenario", "QUARTERLY_NONE_MET")
	h.Set("Accept", "application/vnd.hmrc.1.0+json")
	f := exampleModel(t, WebAppViaServer)
	require.NoError(t, f.WriteTo(h))
	assert.Empty(t, h.Values("Gov-Client-Local-IPs"), "a header from an earlier attempt is removed")
	assert.Equal(t, "QUARTERLY_NONE_MET", h.Get("Gov-Test-Scenario"))
	assert.Equal(t, "application/vnd.hmrc.1.0+json", h.Get("Accept"))
	assert.Len(t, h, 16+2)

	before := h.Clone()
	f.Screens[0].Width = 0
	require.Error(t, f.WriteTo(h))
	assert.Equal(t, before, h)
}

const marker = "SECRETMARKER"

// Invalid values are refused with an error naming the header and the rule,
// never the value.
func TestEncodeRefusesBadValues(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		header HeaderName
		mutate func(f *Headers)
	}{
		{"CR in user id", GovClientUserIDs, func(f *Headers) { f.UserIDs[0].Value = marker + "\r\nX-Evil: 1" }},
		{"LF in product name", GovVendorProductName, func(f *Headers) { f.VendorProductName = marker + "\n" }},
		{"NUL in licence", GovVendorLicenseIDs, func(f *Headers) { f.VendorLicenseIDs[0].Value = marker + "\x00" }},
		{"C1 control in version", GovVendorVersion, func(f *Headers) { f.VendorVersion[0].Value = marker + "\u0085" }},
		{"invalid UTF-8", GovClientUserIDs, func(f *Headers) { f.UserIDs[0].Key = marker + "\xff" }},
		{"CRLF in raw device ID", GovClientDeviceID, func(f *Headers) { f.DeviceID = marker + "\r\n" }},
		{"space in device ID", GovClientDeviceID, func(f *Headers) { f.DeviceID = marker + " x" }},
		{"non-ASCII device ID", GovClientDeviceID, func(f *Headers) { f.DeviceID = marker + "é" }},
		{"100 KB raw device ID", GovClientDeviceID, func(f *Headers) { f.DeviceID = marker + strings.Repeat("a", 100<<10) }},
		{"100 KB user id", GovClientUserIDs, func(f *Headers) { f.UserIDs[0].Value = marker + strings.Repeat("é", 50<<10) }},
		{"unknown method", GovClientConnectionMethod, func(f *Headers) { f.ConnectionMethod = marker }},
		{"zero width", GovClientScreens, func(f *Headers) { f.Screens[1].Width = 0 }},
		{"bad scaling", GovClientScreens, func(f *Headers) { f.Screens[0].ScalingFactor = marker }},
		{"negative depth", GovClientScreens, func(f *Headers) { f.Screens[0].ColourDepth = -1 }},
		{"half window", GovClientWindowSize, func(f *Headers) { f.WindowSize.Height = 0 }},
		{"timezone out of range", GovClientTimezone, func(f *Headers) { f.Timezone = TimezoneMinutes(24 * 60) }},
		{"mfa type", GovClientMultiFactor, func(f *Headers) { f.MultiFactor[0].Type = marker }},
		{"mfa no timestamp", GovClientMultiFactor, func(f *Headers) { f.MultiFactor[1].Timestamp = time.Time{} }},
		{"mfa no reference", GovClientMultiFactor, func(f *Headers) { f.MultiFactor[0].UniqueReference = "" }},
		{"mfa year 10000", GovClientMultiFactor, func(f *Headers) { f.MultiFactor[0].Timestamp = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"ip timestamp year -1", GovClientLocalIPsTimestamp, func(f *Headers) { f.LocalIPsTimestamp = time.Date(-1, 1, 1, 0, 0, 0, 0, time.UTC) }},
		{"zone", GovClientLocalIPs, func(f *Headers) { f.LocalIPs[0] = netip.MustParseAddr("fe80::1%" + marker) }},
		{"invalid local ip", GovClientLocalIPs, func(f *Headers) { f.LocalIPs = append(f.LocalIPs, netip.Addr{}) }},
		{"8-byte MAC", GovClientMACAddresses, func(f *Headers) { f.MACAddresses[0] = net.HardwareAddr{1, 2, 3, 4, 5, 6, 7, 8} }},
		{"forwarded hop", GovVendorForwarded, func(f *Headers) { f.VendorForwarded[0].For = netip.Addr{} }},
		{"ua without version", GovClientUserAgent, func(f *Headers) { f.UserAgent.OSVersion = "" }},
		{"ua control", GovClientUserAgent, func(f *Headers) { f.UserAgent.DeviceModel = marker + "\t" }},
		{"empty version", GovVendorVersion, func(f *Headers) { f.VendorVersion[0].Value = "" }},
		{"empty key", GovClientUserIDs, func(f *Headers) { f.UserIDs[0].Key = "" }},
		{"browser UA non-ASCII", GovClientBrowserJSUserAgent, func(f *Headers) { f.BrowserJSUserAgent = marker + "\u00e9" }},
		{"browser UA trailing space", GovClientBrowserJSUserAgent, func(f *Headers) { f.BrowserJSUserAgent = marker + " " }},
		{"too many addresses", GovClientLocalIPs, func(f *Headers) {
			for i := range 1000 {
				f.LocalIPs = append(f.LocalIPs, netip.AddrFrom16([16]byte{0xfd, 15: byte(i), 14: byte(i >> 8)}))
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := exampleModel(t, DesktopAppViaServer)
			f.BrowserJSUserAgent = "Mozilla/5.0"
			tt.mutate(&f)
			h := http.Header{}
			err := f.encode(h, false)
			require.Error(t, err)
			var fe *HeaderError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.header, fe.Header)
			assert.Contains(t, err.Error(), tt.header.String())
			assert.NotContains(t, err.Error(), marker)
			assert.Empty(t, h)
		})
	}
}

// Parsing refuses malformed values with errors that never quote them, and
// reads header names and escapes without regard to case.
func TestParseFraudHeaders(t *testing.T) {
	t.Parallel()
	ok := func(name, value string, check func(t *testing.T, f *Headers)) struct {
		h     http.Header
		check func(*testing.T, *Headers)
		bad   HeaderName
	} {
		return struct {
			h     http.Header
			check func(*testing.T, *Headers)
			bad   HeaderName
		}{http.Header{name: {value}}, check, 0}
	}
	bad := func(name, value string, n HeaderName) struct {
		h     http.Header
		check func(*testing.T, *Headers)
		bad   HeaderName
	} {
		return struct {
			h     http.Header
			check func(*testing.T, *Headers)
			bad   HeaderName
		}{http.Header{name: {value}}, nil, n}
	}
	tests := map[string]struct {
		h     http.Header
		check func(*testing.T, *Headers)
		bad   HeaderName
	}{
		"lower-case name and escapes": ok("gov-client-mac-addresses", "ea%3a43%3a1A%3a5d%3a21%3a45", func(t *testing.T, f *Headers) {
			assert.Equal(t, "ea:43:1a:5d:21:45", f.MACAddresses[0].String())
		}),
		"upper-case name": ok("GOV-CLIENT-TIMEZONE", "UTC+01:00", func(t *testing.T, f *Headers) {
			assert.Equal(t, "UTC+01:00", f.Timezone.String())
		}),
		"screens keys in any order": ok("Gov-Client-Screens", "width=1280&height=1446&colour-depth=24&scaling-factor=1", func(t *testing.T, f *Headers) {
			assert.Equal(t, []Screen{{1280, 1446, "1", 24}}, f.Screens)
		}),
		"empty header is agreed empty": ok("Gov-Client-Multi-Factor", "", func(t *testing.T, f *Headers) {
			assert.True(t, f.AgreedEmpty.Has(GovClientMultiFactor))
		}),
		"unknown and test scenario ignored": ok("Gov-Test-Scenario", "X", func(t *testing.T, f *Headers) {
			assert.Equal(t, HeaderSet(0), f.Present())
		}),
		"plus is not a space":         bad("Gov-Vendor-Product-Name", "Visma+"+marker, GovVendorProductName),
		"raw colon in mac":            bad("Gov-Client-MAC-Addresses", "ea:43:1a:5d:21:45", GovClientMACAddresses),
		"dash mac":                    bad("Gov-Client-MAC-Addresses", "EA-43-1A-5D-21-45", GovClientMACAddresses),
		"raw ipv6 in list":            bad("Gov-Client-Local-IPs", "fc00::", GovClientLocalIPs),
		"empty list element":          bad("Gov-Client-Local-IPs", "10.0.0.1,,10.0.0.2", GovClientLocalIPs),
		"mdns name":                   bad("Gov-Client-Local-IPs", marker+".local", GovClientLocalIPs),
		"encoded public ip":           bad("Gov-Client-Public-IP", "fc00%3A%3A", GovClientPublicIP),
		"zone in public ip":           bad("Gov-Client-Public-IP", "fe80::1%eth0", GovClientPublicIP),
		"bad timestamp":               bad("Gov-Client-Public-IP-Timestamp", "2021-01-07T09:51:03.03Z", GovClientPublicIPTimestamp),
		"12h timestamp":               bad("Gov-Client-Local-IPs-Timestamp", "2021-01-07T09:51:03.030", GovClientLocalIPsTimestamp),
		"feb 30":                      bad("Gov-Client-Local-IPs-Timestamp", "2021-02-30T09:51:03.030Z", GovClientLocalIPsTimestamp),
		"timezone name":               bad("Gov-Client-Timezone", "Europe/London", GovClientTimezone),
		"timezone hours":              bad("Gov-Client-Timezone", "UTC+24:00", GovClientTimezone),
		"port 0":                      bad("Gov-Client-Public-Port", "0", GovClientPublicPort),
		"port 65536":                  bad("Gov-Client-Public-Port", "65536", GovClientPublicPort),
		"port leading zero":           bad("Gov-Client-Public-Port", "0443", GovClientPublicPort),
		"screens missing keys":        bad("Gov-Client-Screens", "width=1920&height=1080", GovClientScreens),
		"screens semicolons":          bad("Gov-Client-Screens", "width=1920;height=1080", GovClientScreens),
		"screens repeated key":        bad("Gov-Client-Screens", "width=1&width=2&height=1&scaling-factor=1&colour-depth=1", GovClientScreens),
		"screens unknown key":         bad("Gov-Client-Screens", "width=1&height=1&scaling-factor=1&colour-depth=1&dpi=9", GovClientScreens),
		"window size float":           bad("Gov-Client-Window-Size", "width=1.5&height=2", GovClientWindowSize),
		"v2 user agent":               bad("Gov-Client-User-Agent", "Windows/10 (Dell/XPS13)", GovClientUserAgent),
		"version json":                bad("Gov-Vendor-Version", `{"server":"1.0.0"}`, GovVendorVersion),
		"version without value":       bad("Gov-Vendor-Version", "my-app=", GovVendorVersion),
		"mfa bad type":                bad("Gov-Client-Multi-Factor", "type=SMS&timestamp=2021-11-21T13%3A23Z&unique-reference=x", GovClientMultiFactor),
		"mfa four fraction digits":    bad("Gov-Client-Multi-Factor", "type=TOTP&timestamp=2021-11-21T13%3A23%3A01.1234Z&unique-reference=x", GovClientMultiFactor),
		"mfa no reference":            bad("Gov-Client-Multi-Factor", "type=TOTP&timestamp=2021-11-21T13%3A23Z", GovClientMultiFactor),
		"forwarded missing for":       bad("Gov-Vendor-Forwarded", "by=203.0.113.6", GovVendorForwarded),
		"forwarded not ip":            bad("Gov-Vendor-Forwarded", "by=203.0.113.6&for=456.789.01.234", GovVendorForwarded),
		"encoded CRLF":                bad("Gov-Client-User-IDs", "os="+marker+"%0D%0A", GovClientUserIDs),
		"encoded NUL":                 bad("Gov-Vendor-Product-Name", marker+"%00", GovVendorProductName),
		"licence without hash":        bad("Gov-Vendor-License-IDs", "app=", GovVendorLicenseIDs),
		"method":                      bad("Gov-Client-Connection-Method", marker, GovClientConnectionMethod),
		"device id with space":        bad("Gov-Client-Device-ID", "a "+marker, GovClientDeviceID),
		"huge browser value":          bad("Gov-Client-Browser-JS-User-Agent", strings.Repeat("A", 100<<10), GovClientBrowserJSUserAgent),
		"sent twice":                  {http.Header{"Gov-Client-Device-Id": {"a", "b"}}, nil, GovClientDeviceID},
		"sent twice in two spellings": {http.Header{"Gov-Client-Device-Id": {"a"}, "gov-client-device-id": {"b"}}, nil, GovClientDeviceID},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(tt.h)
			if tt.bad == 0 {
				require.NoError(t, err)
				tt.check(t, f)
				return
			}
			require.Error(t, err)
			assert.Nil(t, f)
			var fe *HeaderError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.bad, fe.Header)
			assert.NotContains(t, err.Error(), marker)
			for _, vs := range tt.h {
				for _, v := range vs {
					if len(v) > 3 {
						assert.NotContains(t, err.Error(), v)
					}
				}
			}
		})
	}
}

func TestFraudHeadersPrintingRevealsNoValue(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppDirect)
	f.UserIDs = []KeyValue{{"os", marker}}
	for _, s := range []string{f.String(), f.GoString(), f.LogValue().String()} {
		assert.NotContains(t, s, marker)
		assert.Contains(t, s, "Gov-Client-User-IDs")
	}
	assert.Contains(t, f.String(), "DESKTOP_APP_DIRECT")
	var sb strings.Builder
	_, _ = sb.WriteString((&f).String())
	assert.NotContains(t, sb.String(), marker)
}

func TestClone(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppViaServer)
	c := f.Clone()
	assert.True(t, reflect.DeepEqual(&f, c))
	c.MACAddresses[0][0] = 0
	c.UserIDs[0].Value = "changed"
	c.Screens[0].Width = 1
	assert.Equal(t, byte(0xea), f.MACAddresses[0][0])
	assert.Equal(t, `domain\alice`, f.UserIDs[0].Value)
	assert.Equal(t, 1920, f.Screens[0].Width)
	var nilF *Headers
	assert.Nil(t, nilF.Clone())
}

func TestErrorsAreJoined(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppDirect)
	f.DeviceID = "a b"
	f.Screens[0].Width = 0
	f.VendorVersion = nil
	err := f.WriteTo(http.Header{})
	require.Error(t, err)
	var headers []HeaderName
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *HeaderError
		require.True(t, errors.As(e, &fe))
		headers = append(headers, fe.Header)
	}
	assert.Equal(t, []HeaderName{GovClientDeviceID, GovClientScreens, GovVendorVersion}, headers)
}

func TestFraudHeadersValidateUsesAgreements(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, WebAppViaServer)
	f.PublicPort = 0
	v, err := f.Validate()
	require.NoError(t, err)
	assert.Equal(t, []Finding{finding(CodeMissingHeader, msgPrivateMissing, "gov-client-public-port")}, v.Errors)

	f.AgreedMissing = NewHeaderSet(GovClientPublicPort)
	v, err = f.Validate()
	require.NoError(t, err)
	assert.Empty(t, v.Errors)
	assert.Equal(t, []Finding{finding(CodeMissingHeader, msgPrivateMissing, "gov-client-public-port")}, v.Warnings)

	f.DeviceID = "a\nb c"
	_, err = f.Validate()
	assert.Error(t, err)
}

// TestIPTimestampsRefuseAComma checks that the validator, the parser and
// ParseClientValues all refuse a comma before the milliseconds: HMRC allows
// only yyyy-MM-ddThh:mm:ss.sssZ, though Go's time.Parse accepts either.
func TestIPTimestampsRefuseAComma(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"2020-09-21T14:30:05,123Z", "2020-09-21T14:30:05;123Z", "2020-09-21T14:30:05.12Z", "2020-09-21T14:30:05.1234Z"} {
		t.Run(v, func(t *testing.T) {
			t.Parallel()
			h := exampleHeader(t, DesktopAppDirect)
			h.Set("Gov-Client-Local-IPs-Timestamp", v)
			res := Validate(h)
			assert.Equal(t, CodeInvalidHeaders, res.Code)
			assert.Contains(t, res.Errors, finding(CodeInvalidHeader, msgIPTimestamp, "gov-client-local-ips-timestamp"))

			_, err := Parse(http.Header{"Gov-Client-Public-Ip-Timestamp": {v}})
			var fe *HeaderError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, GovClientPublicIPTimestamp, fe.Header)

			_, err = ParseClientValues([]byte(`{"localIpsTimestamp": "` + v + `"}`))
			var ce *ClientValuesError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, "localIpsTimestamp", ce.Field)
		})
	}
	ts, ok := parseIPTimestamp("2020-09-21T14:30:05.123Z")
	require.True(t, ok)
	assert.Equal(t, mustTime(t, "2020-09-21T14:30:05.123Z"), ts)
}

func TestHeaderRefusesIncompleteHeaders(t *testing.T) {
	t.Parallel()
	h, err := (&Headers{ConnectionMethod: BatchProcessDirect}).Header()
	assert.Nil(t, h)
	var he *HeaderError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, "fraud: Gov-Client-Device-ID: required for connection method BATCH_PROCESS_DIRECT (declare it in AgreedMissing only after agreeing it with HMRC)", he.Error())
}

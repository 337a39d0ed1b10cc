package fraud

import (
	"encoding/json"
	"net"
	"net/http"
	"net/netip"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// headerFromText builds a header from "Name: value" lines, keeping names as
// written so that case-insensitive matching is exercised.
func headerFromText(s string) http.Header {
	h := http.Header{}
	for line := range strings.SplitSeq(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		h[k] = append(h[k], strings.TrimPrefix(v, " "))
	}
	return h
}

func headerText(h map[string]string) string {
	var lines []string
	for k, v := range h {
		lines = append(lines, k+": "+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// FuzzParse checks, for arbitrary header input, that parsing
// and validating never panic, that whatever parses encodes and parses back
// to the same value, and that whatever fails to parse is reported as an
// error by the validator.
func FuzzParse(f *testing.F) {
	spec := loadSpec(f)
	for _, set := range spec.ExampleHeaderSets {
		f.Add(headerText(set))
	}
	for name, exs := range spec.PerHeaderExamples {
		for _, ex := range exs {
			f.Add(name + ": " + ex.Value)
		}
	}
	for _, s := range []string{
		"gov-client-public-ip: ABCD:EF01:2345:6789:ABCD:EF01:2345:6789\nGov-Vendor-Forwarded: by=2001%3A0db8%3A%3A1&for=abcd%3Aef01%3A%3A1",
		"Gov-Client-Multi-Factor: type=TOTP&timestamp=2026-01-08T00%3A09%3A01.5Z&unique-reference=x,",
		"Gov-Client-Screens: width=1&height=1&scaling-factor=01.50&colour-depth=8",
		"Gov-Client-User-IDs: os=%0d%0a&x=%ZZ",
		"Gov-Client-Timezone: UTC-00:00\nGov-Client-Public-Port: 065535",
		"Gov-Client-Device-ID: a\nGOV-CLIENT-DEVICE-ID: b",
		"Gov-Test-Scenario: X\nGov-Client-Foo: y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data string) {
		h := headerFromText(data)
		v := Validate(h)
		auto := v.Automated()
		require.NotEmpty(t, auto.Code)
		fh, err := Parse(h)
		if err != nil {
			require.NotEmpty(t, v.Errors, "Parse failed but the validator found no error: %v", err)
			return
		}
		h2 := http.Header{}
		require.NoError(t, fh.encode(h2, false))
		for k, vs := range h2 {
			require.Len(t, vs, 1, k)
			for i := 0; i < len(vs[0]); i++ {
				c := vs[0][i]
				require.True(t, c >= 0x20 && c < 0x7F, "%s: byte %#x", k, c)
			}
		}
		fh2, err := Parse(h2)
		require.NoError(t, err)
		assert.Equal(t, fh, fh2)
	})
}

// FuzzEncode checks that every value the encoder accepts parses
// back to itself, and that the encoder writes only printable ASCII.
func FuzzEncode(f *testing.F) {
	f.Add("DESKTOP_APP_DIRECT", "beec798b-b366-47fa-b1f8-92cede14a1ce", "Mozilla/5.0 (X)", "os", `domain\alice`,
		"Product Name", "Windows", "Server 2012", "OptiPlex 980", 1920, 1080, "1.25", 24, 60, uint16(12345),
		[]byte{198, 51, 100, 0}, int64(1600698605123000000), "fc4b5fd6")
	f.Add("WEB_APP_VIA_SERVER", "x", "a\r\nb", "", "\x00", "é ü+&=,", "", "", "", 0, -1, "0", 0, -1439, uint16(0),
		[]byte{0xfe, 0x80, 15: 1}, int64(-1), "")
	f.Fuzz(func(t *testing.T, method, deviceID, browserUA, key, val, product, osFamily, osVersion, model string,
		width, height int, scaling string, depth, tzMinutes int, port uint16, ip []byte, ts int64, ref string) {
		addr, _ := netip.AddrFromSlice(ip)
		when := time.Unix(0, ts).UTC().Truncate(time.Millisecond)
		fh := &Headers{
			ConnectionMethod:   ConnectionMethod(method),
			DeviceID:           deviceID,
			BrowserJSUserAgent: browserUA,
			UserIDs:            []KeyValue{{key, val}},
			VendorProductName:  product,
			UserAgent:          UserAgent{OSFamily: osFamily, OSVersion: osVersion, DeviceModel: model},
			Screens:            []Screen{{width, height, ScalingFactor(scaling), depth}},
			WindowSize:         WindowSize{width, height},
			Timezone:           TimezoneMinutes(tzMinutes),
			PublicPort:         port,
			PublicIP:           addr,
			LocalIPs:           []netip.Addr{addr},
			VendorForwarded:    []ForwardedHop{{By: addr, For: addr}},
			MACAddresses:       []net.HardwareAddr{net.HardwareAddr(ip)},
			LocalIPsTimestamp:  when,
			MultiFactor:        []MultiFactor{{Type: MultiFactorTOTP, Timestamp: when, UniqueReference: ref}},
			VendorVersion:      []KeyValue{{key, val}},
		}
		h := http.Header{}
		if err := fh.encode(h, false); err != nil {
			require.Empty(t, h)
			return
		}
		for k, vs := range h {
			for i := 0; i < len(vs[0]); i++ {
				c := vs[0][i]
				require.True(t, c >= 0x20 && c < 0x7F, "%s: byte %#x", k, c)
			}
		}
		got, err := Parse(h)
		require.NoError(t, err)
		assert.Equal(t, normalised(fh), normalised(got))
	})
}

// FuzzValidate feeds arbitrary header values to the validator:
// it must not panic, must derive its overall code from its findings, and
// must never quote a value in a message.
func FuzzValidate(f *testing.F) {
	f.Add("Gov-Client-Connection-Method", "DESKTOP_APP_DIRECT", "Gov-Client-Public-IP", "198.51.100.0")
	f.Add("Gov-Client-Timezone", "UTC+01:00", "Gov-Vendor-Forwarded", "by=203.0.113.6&for=198.51.100.0")
	f.Add("Gov-Client-Screens", "width=1920&height=1080&scaling-factor=1.25&colour-depth=16", "Gov-Client-Multi-Factor", "type=TOTP&timestamp=2021-11-21T13%3A20Z&unique-reference=x")
	f.Add("Gov-Client-Local-IPs", "fc00%3A%3A,10.1.2.3", "Gov-Client-MAC-Addresses", "ea%3A43%3A1a%3A5d%3A21%3A45")
	f.Add("Gov-Client-Device-ID", "alice@example.com", "Gov-Foo", "%zz%")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		h := http.Header{}
		h.Add(k1, v1)
		h.Add(k2, v2)
		h.Set("Gov-Client-User-IDs", "my-application=VALUEMARKER")
		res := Validate(h)
		switch {
		case len(res.Errors) > 0 && res.Code != CodeInvalidHeaders,
			len(res.Errors) == 0 && len(res.Warnings) > 0 && res.Code != CodePotentiallyInvalidHeaders:
			t.Fatalf("code %s does not follow from %d errors and %d warnings", res.Code, len(res.Errors), len(res.Warnings))
		}
		for _, list := range [][]Finding{res.Errors, res.Warnings} {
			for _, fnd := range list {
				if strings.Contains(fnd.Message, "VALUEMARKER") {
					t.Fatalf("message quotes a value: %q", fnd.Message)
				}
			}
		}
	})
}

// FuzzParseClientValues feeds arbitrary documents, as a browser or a
// client application could send, to the parser of client values.
func FuzzParseClientValues(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"screens":[{"width":1920,"height":1080,"scalingFactor":"1","colourDepth":24}],"windowSize":{"width":1256,"height":803},"timezone":"UTC+01:00","deviceId":"beec798b-b366-47fa-b1f8-92cede14a1ce"}`))
	f.Add([]byte(`{"userAgent":"Mozilla/5.0","localIps":["10.1.2.3","fc00::"],"macAddresses":["ea:43:1a:5d:21:45"]}`))
	f.Add([]byte(`{"screens":[` + strings.Repeat(`{"width":1},`, 70) + `{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cv, err := ParseClientValues(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if _, err := json.Marshal(cv); err != nil {
			t.Fatalf("parsed values do not encode: %v", err)
		}
	})
}

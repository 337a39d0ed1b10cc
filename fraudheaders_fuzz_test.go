package vat

import (
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

// FuzzParseFraudHeaders checks, for arbitrary header input, that parsing
// and validating never panic, that whatever parses encodes and parses back
// to the same value, and that whatever fails to parse is reported as an
// error by the validator.
func FuzzParseFraudHeaders(f *testing.F) {
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
		v := ValidateFraudHeaders(h)
		auto := v.Automated()
		require.NotEmpty(t, auto.Code)
		fh, err := ParseFraudHeaders(h)
		if err != nil {
			require.NotEmpty(t, v.Errors, "ParseFraudHeaders failed but the validator found no error: %v", err)
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
		fh2, err := ParseFraudHeaders(h2)
		require.NoError(t, err)
		assert.Equal(t, fh, fh2)
	})
}

// FuzzEncodeFraudHeaders checks that every value the encoder accepts parses
// back to itself, and that the encoder writes only printable ASCII.
func FuzzEncodeFraudHeaders(f *testing.F) {
	f.Add("DESKTOP_APP_DIRECT", "beec798b-b366-47fa-b1f8-92cede14a1ce", "Mozilla/5.0 (X)", "os", `domain\alice`,
		"Product Name", "Windows", "Server 2012", "OptiPlex 980", 1920, 1080, "1.25", 24, 60, uint16(12345),
		[]byte{198, 51, 100, 0}, int64(1600698605123000000), "fc4b5fd6")
	f.Add("WEB_APP_VIA_SERVER", "x", "a\r\nb", "", "\x00", "é ü+&=,", "", "", "", 0, -1, "0", 0, -1439, uint16(0),
		[]byte{0xfe, 0x80, 15: 1}, int64(-1), "")
	f.Fuzz(func(t *testing.T, method, deviceID, browserUA, key, val, product, osFamily, osVersion, model string,
		width, height int, scaling string, depth, tzMinutes int, port uint16, ip []byte, ts int64, ref string) {
		addr, _ := netip.AddrFromSlice(ip)
		when := time.Unix(0, ts).UTC().Truncate(time.Millisecond)
		fh := &FraudHeaders{
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
		got, err := ParseFraudHeaders(h)
		require.NoError(t, err)
		assert.Equal(t, normalised(fh), normalised(got))
	})
}

func BenchmarkWriteToDesktopAppViaServer(b *testing.B) {
	f := exampleModel(b, DesktopAppViaServer)
	f.LocalIPsTimestamp = time.Now()
	f.PublicIPTimestamp = f.LocalIPsTimestamp
	h := make(http.Header, 32)
	b.ReportAllocs()
	for b.Loop() {
		if err := f.writeTo(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteToDesktopAppViaServerFreshHeader(b *testing.B) {
	f := exampleModel(b, DesktopAppViaServer)
	b.ReportAllocs()
	for b.Loop() {
		h := make(http.Header, 32)
		if err := f.writeTo(h); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkValidateDesktopAppViaServer(b *testing.B) {
	h := exampleHeader(b, DesktopAppViaServer)
	b.ReportAllocs()
	for b.Loop() {
		if v := ValidateFraudHeaders(h); !v.Valid() {
			b.Fatal(v)
		}
	}
}

func BenchmarkParseDesktopAppViaServer(b *testing.B) {
	h := exampleHeader(b, DesktopAppViaServer)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseFraudHeaders(h); err != nil {
			b.Fatal(err)
		}
	}
}

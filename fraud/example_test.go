package fraud_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"time"

	"github.com/go-mtd/vat/fraud"
)

// A desktop application that calls HMRC directly (DESKTOP_APP_DIRECT)
// collects its headers on the user's machine before every request. Here the
// machine is a fixed probe, so the output is the same everywhere; leave
// Probe empty to read the real machine.
func ExampleNewDeviceCollector() {
	dir, err := os.MkdirTemp("", "device-id")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	collector, err := fraud.NewDeviceCollector(fraud.DeviceCollectorConfig{
		ConnectionMethod: fraud.DesktopAppDirect,
		DeviceIDDir:      dir, // usually AppName: "my-accounts", under the user's configuration directory
		ProductName:      "My Accounts",
		VendorVersion:    []fraud.KeyValue{{Key: "my-accounts", Value: "1.6.0"}},
		VendorLicenseIDs: []fraud.KeyValue{{Key: "my-accounts", Value: fraud.HashLicenseKey("XXXX-YYYY-ZZZZ")}},
		UserIDs:          []fraud.KeyValue{{Key: "my-accounts", Value: "alice123"}},
		Screens:          []fraud.Screen{{Width: 2560, Height: 1440, ScalingFactor: fraud.ScalingFactorThousandths(1500), ColourDepth: 30}},
		WindowSize:       fraud.WindowSize{Width: 1280, Height: 800},
		MultiFactor: []fraud.MultiFactor{{Type: fraud.MultiFactorTOTP,
			Timestamp: time.Date(2026, 1, 8, 9, 15, 0, 0, time.UTC), UniqueReference: fraud.HashLicenseKey("totp-secret-id")}},
		Probe: fraud.DeviceProbe{
			Interfaces: func() ([]fraud.NetworkInterface, error) {
				return []fraud.NetworkInterface{{Name: "eth0", Up: true,
					HardwareAddr: net.HardwareAddr{0xea, 0x43, 0x1a, 0x5d, 0x21, 0x45},
					Addrs:        []netip.Addr{netip.MustParseAddr("10.1.2.3")}}}, nil
			},
			Now:    func() time.Time { return time.Date(2026, 1, 8, 9, 30, 5, 123e6, time.FixedZone("BST", 3600)) },
			OSUser: func() (string, error) { return `DOMAIN\alice`, nil },
			OSInfo: func() fraud.UserAgent {
				return fraud.UserAgent{OSFamily: "Windows", OSVersion: "11", DeviceManufacturer: "Dell Inc.", DeviceModel: "XPS 13"}
			},
			Random: bytes.NewReader(bytes.Repeat([]byte{0xbe, 0xec, 0x79, 0x8b}, 4)),
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The collector is a fraud.Source: an HMRC API client (vat.WithFraudHeaders)
	// calls it before every request.
	f, err := collector.FraudHeaders(context.Background())
	if err != nil {
		fmt.Println(err)
		return
	}
	h, err := f.Header()
	if err != nil {
		fmt.Println(err)
		return
	}
	for n := range fraud.DesktopAppDirect.RequiredHeaders().All() {
		fmt.Printf("%s: %s\n", n, h.Get(n.String()))
	}
	// Output:
	// Gov-Client-Connection-Method: DESKTOP_APP_DIRECT
	// Gov-Client-Device-ID: beec798b-beec-498b-beec-798bbeec798b
	// Gov-Client-Local-IPs: 10.1.2.3
	// Gov-Client-Local-IPs-Timestamp: 2026-01-08T08:30:05.123Z
	// Gov-Client-MAC-Addresses: ea%3A43%3A1a%3A5d%3A21%3A45
	// Gov-Client-Multi-Factor: type=TOTP&timestamp=2026-01-08T09%3A15Z&unique-reference=7563e01e1e460d14c482218e9d849f10acc73d02ccd7d6f9f7c0c2cf788456d9
	// Gov-Client-Screens: width=2560&height=1440&scaling-factor=1.5&colour-depth=30
	// Gov-Client-Timezone: UTC+01:00
	// Gov-Client-User-Agent: os-family=Windows&os-version=11&device-manufacturer=Dell%20Inc.&device-model=XPS%2013
	// Gov-Client-User-IDs: os=DOMAIN%5Calice&my-accounts=alice123
	// Gov-Client-Window-Size: width=1280&height=800
	// Gov-Vendor-License-IDs: my-accounts=23b9fd5691e5af112075f410e158f4fcf6e5cf4ad61c97c69014446ec7d15c8e
	// Gov-Vendor-Product-Name: My%20Accounts
	// Gov-Vendor-Version: my-accounts=1.6.0
}

// A web application (WEB_APP_VIA_SERVER) builds the headers of each end-user
// request on its server: the browser's values come from the script of
// BrowserCollectorHandler (ServerCollector.BrowserValues reads the cookies it
// sets), the client's address and port from the request. Here the server is
// behind a load balancer at 10.0.0.5 that sends X-Forwarded-For with the
// client's port.
func ExampleServerCollector() {
	sc, err := fraud.NewServerCollector(fraud.ServerCollectorConfig{
		VendorPublicIP: netip.MustParseAddr("203.0.113.6"),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ProductName:    "My Accounts Online",
		VendorVersion:  []fraud.KeyValue{{Key: "my-accounts-web", Value: "2.2.2"}},
		// No licences to report, as agreed with HMRC.
		AgreedMissing: fraud.NewHeaderSet(fraud.GovVendorLicenseIDs),
		Now:           func() time.Time { return time.Date(2026, 2, 14, 20, 41, 37, 929e6, time.UTC) },
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Serve the script on every page: <script src="/fraud-prevention.js">.
	mux := http.NewServeMux()
	mux.Handle("GET /fraud-prevention.js", fraud.BrowserCollectorHandler())
	_ = sc.Middleware(mux) // records arrival times and sets the device-ID cookie

	r := httptest.NewRequest(http.MethodPost, "/vat/returns", nil)
	r.RemoteAddr = "10.0.0.5:40000"
	r.Header.Set("X-Forwarded-For", "198.51.100.23:50123")
	// What sc.BrowserValues(r) reads from the script's cookies.
	browser, err := fraud.ParseClientValues([]byte(`{"deviceId": "beec798b-b366-47fa-b1f8-92cede14a1ce",
		"screens": [{"width": 1920, "height": 1080, "scalingFactor": 1, "colourDepth": 24}],
		"windowSize": {"width": 1256, "height": 803}, "timezone": "UTC+00:00",
		"browserUserAgent": "Mozilla/5.0 (X11; Linux x86_64)"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	f, err := sc.Headers(r, fraud.WebAppViaServer, browser, fraud.EndUser{
		UserIDs: []fraud.KeyValue{{Key: "my-accounts-web", Value: "alice123"}},
		MultiFactor: []fraud.MultiFactor{{Type: fraud.MultiFactorAuthCode,
			Timestamp: time.Date(2026, 2, 14, 20, 40, 0, 0, time.UTC), UniqueReference: "f841bcc3"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// Pass fraud.Static(*f) to the HMRC client's per-call option (or use
	// sc.Source); here, print part of what would be sent.
	h, err := f.Header()
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, n := range []fraud.HeaderName{fraud.GovClientPublicIP, fraud.GovClientPublicPort, fraud.GovClientPublicIPTimestamp, fraud.GovVendorForwarded} {
		fmt.Printf("%s: %s\n", n, h.Get(n.String()))
	}
	// Output:
	// Gov-Client-Public-IP: 198.51.100.23
	// Gov-Client-Public-Port: 50123
	// Gov-Client-Public-IP-Timestamp: 2026-02-14T20:41:37.929Z
	// Gov-Vendor-Forwarded: by=203.0.113.6&for=198.51.100.23
}

// Parse reads headers as they arrive, for example in a test server, and
// gives the typed model back.
func ExampleParse() {
	f, err := fraud.Parse(http.Header{
		"Gov-Client-Connection-Method": {"DESKTOP_APP_DIRECT"},
		"Gov-Client-Timezone":          {"UTC-01:15"},
		"Gov-Client-Local-Ips":         {"fc00%3A%3A,10.1.2.3"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(f.ConnectionMethod, f.Timezone, f.LocalIPs)
	fmt.Println(f) // printing never shows a value: they are personal data
	_, err = fraud.Parse(http.Header{"Gov-Client-Public-Ip-Timestamp": {"2020-09-21T14:30:05,123Z"}})
	fmt.Println(err)
	// Output:
	// DESKTOP_APP_DIRECT UTC-01:15 [fc00:: 10.1.2.3]
	// fraud.Headers{DESKTOP_APP_DIRECT: Gov-Client-Connection-Method, Gov-Client-Local-IPs, Gov-Client-Timezone}
	// fraud: Gov-Client-Public-IP-Timestamp: not a UTC timestamp in the format yyyy-MM-ddThh:mm:ss.sssZ
}

// A client application of a *_VIA_SERVER method sends its device's values to
// the vendor's server as JSON; the server reads them with ParseClientValues,
// which refuses anything malformed and names the member at fault.
func ExampleParseClientValues() {
	cv, err := fraud.ParseClientValues([]byte(`{
		"deviceId": "beec798b-b366-47fa-b1f8-92cede14a1ce",
		"screens": [{"width": 1920, "height": 1080, "scalingFactor": 1.25, "colourDepth": 24}],
		"timezone": "UTC+01:00"}`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cv.DeviceID, cv.Screens[0].ScalingFactor, cv.Timezone)
	_, err = fraud.ParseClientValues([]byte(`{"localIpsTimestamp": "2020-09-21T14:30:05,123Z"}`))
	fmt.Println(err)
	// Output:
	// beec798b-b366-47fa-b1f8-92cede14a1ce 1.25 UTC+01:00
	// fraud: client values: localIpsTimestamp: not a UTC timestamp in the format yyyy-MM-ddThh:mm:ss.sssZ
}

// Static suits headers that do not change between requests, such as those a
// server built for one end-user request: they are encoded once, and a client
// writes them with WriteFraudHeaders.
func ExampleStatic() {
	src := fraud.Static(fraud.Headers{ConnectionMethod: fraud.BatchProcessDirect})
	h := http.Header{}
	err := src.(fraud.HeaderWriter).WriteFraudHeaders(context.Background(), h)
	fmt.Println(err != nil, len(h)) // incomplete headers are never sent
	// Output:
	// true 0
}

func ExampleHeaders_Header() {
	f := fraud.Headers{
		ConnectionMethod:  fraud.DesktopAppDirect,
		DeviceID:          "beec798b-b366-47fa-b1f8-92cede14a1ce",
		LocalIPs:          []netip.Addr{netip.MustParseAddr("fc00::"), netip.MustParseAddr("10.1.2.3")},
		LocalIPsTimestamp: time.Date(2020, 9, 21, 14, 30, 5, 123e6, time.UTC),
		MACAddresses:      []net.HardwareAddr{{0xea, 0x43, 0x1a, 0x5d, 0x21, 0x45}},
		Screens:           []fraud.Screen{{Width: 1920, Height: 1080, ScalingFactor: "1.25", ColourDepth: 24}},
		Timezone:          fraud.TimezoneMinutes(60),
		UserAgent:         fraud.UserAgent{"Windows", "Server 2012", "Dell Inc.", "OptiPlex 980"},
		UserIDs:           []fraud.KeyValue{{Key: "os", Value: `domain\alice`}, {Key: "my-application", Value: "alice123"}},
		WindowSize:        fraud.WindowSize{Width: 1256, Height: 803},
		VendorLicenseIDs:  []fraud.KeyValue{{Key: "my-licensed-software", Value: fraud.HashLicenseKey("licence key")}},
		VendorProductName: "Product Name",
		VendorVersion:     []fraud.KeyValue{{Key: "my-application", Value: "1.6.0"}},
		// Single-factor sign-in, agreed with HMRC: the header is left out.
		AgreedMissing: fraud.NewHeaderSet(fraud.GovClientMultiFactor),
	}
	h, err := f.Header()
	if err != nil {
		fmt.Println(err)
		return
	}
	for n := range fraud.DesktopAppDirect.RequiredHeaders().All() {
		if v := h.Values(n.String()); v != nil {
			fmt.Printf("%s: %s\n", n, v[0])
		}
	}
	// Output:
	// Gov-Client-Connection-Method: DESKTOP_APP_DIRECT
	// Gov-Client-Device-ID: beec798b-b366-47fa-b1f8-92cede14a1ce
	// Gov-Client-Local-IPs: fc00%3A%3A,10.1.2.3
	// Gov-Client-Local-IPs-Timestamp: 2020-09-21T14:30:05.123Z
	// Gov-Client-MAC-Addresses: ea%3A43%3A1a%3A5d%3A21%3A45
	// Gov-Client-Screens: width=1920&height=1080&scaling-factor=1.25&colour-depth=24
	// Gov-Client-Timezone: UTC+01:00
	// Gov-Client-User-Agent: os-family=Windows&os-version=Server%202012&device-manufacturer=Dell%20Inc.&device-model=OptiPlex%20980
	// Gov-Client-User-IDs: os=domain%5Calice&my-application=alice123
	// Gov-Client-Window-Size: width=1256&height=803
	// Gov-Vendor-License-IDs: my-licensed-software=ad26f374a671d9add68a110b31769667691a54ed599e791b5c8eb065b16c9ddc
	// Gov-Vendor-Product-Name: Product%20Name
	// Gov-Vendor-Version: my-application=1.6.0
}

func ExampleValidate() {
	h := http.Header{}
	h.Set("Gov-Client-Connection-Method", "WEB_APP_VIA_SERVER")
	h.Set("Gov-Client-Timezone", "Europe/London")
	v := fraud.Validate(h)
	fmt.Println(v.Code)
	for _, e := range v.Errors[:2] {
		fmt.Println(e.Code, e.Headers, e.Message)
	}
	// Output:
	// INVALID_HEADERS
	// MISSING_HEADER [gov-client-browser-js-user-agent] Header required
	// MISSING_HEADER [gov-client-device-id] Header required
}

package fraud

import (
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"math/bits"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-mtd/vat/internal/pctenc"
)

// SpecVersion is the version of HMRC's fraud prevention
// headers specification this package implements (3.3, issued 27 January 2025).
const SpecVersion = "3.3"

// maxValueLen caps the length of one encoded header value. No
// legitimate value comes near it; it stops an oversized value (a huge list of
// addresses, a value pasted from a browser) from reaching HMRC.
const maxValueLen = 8 << 10

// ConnectionMethod is the value of Gov-Client-Connection-Method: how the
// application that originates a request connects to HMRC. It selects which
// fraud prevention headers a request must carry (see RequiredHeaders).
type ConnectionMethod string

// The eight connection methods of the specification.
const (
	// WebAppViaServer is a web application connecting to HMRC through the
	// vendor's servers.
	WebAppViaServer ConnectionMethod = "WEB_APP_VIA_SERVER"
	// DesktopAppDirect is an installed desktop application connecting
	// directly to HMRC.
	DesktopAppDirect ConnectionMethod = "DESKTOP_APP_DIRECT"
	// DesktopAppViaServer is an installed desktop application connecting to
	// HMRC through the vendor's servers.
	DesktopAppViaServer ConnectionMethod = "DESKTOP_APP_VIA_SERVER"
	// MobileAppDirect is a mobile application connecting directly to HMRC.
	MobileAppDirect ConnectionMethod = "MOBILE_APP_DIRECT"
	// MobileAppViaServer is a mobile application connecting to HMRC through
	// the vendor's servers.
	MobileAppViaServer ConnectionMethod = "MOBILE_APP_VIA_SERVER"
	// BatchProcessDirect is a batch process, not initiated by a user action,
	// connecting directly to HMRC.
	BatchProcessDirect ConnectionMethod = "BATCH_PROCESS_DIRECT"
	// OtherDirect is any other architecture connecting directly to HMRC.
	OtherDirect ConnectionMethod = "OTHER_DIRECT"
	// OtherViaServer is any other architecture connecting to HMRC through
	// the vendor's servers.
	OtherViaServer ConnectionMethod = "OTHER_VIA_SERVER"
)

// Valid reports whether m is one of the eight connection methods.
func (m ConnectionMethod) Valid() bool { return m.RequiredHeaders() != 0 }

// ViaServer reports whether m is one of the *_VIA_SERVER methods, whose
// requests pass through the vendor's servers.
func (m ConnectionMethod) ViaServer() bool {
	switch m {
	case WebAppViaServer, DesktopAppViaServer, MobileAppViaServer, OtherViaServer:
		return true
	}
	return false
}

// RequiredHeaders returns the headers the specification (3.3) lists for m:
// "You must submit data for all of these headers." It is empty for an
// unknown method.
//
// A few of them may be left out, or sent empty, after agreeing it with HMRC
// (Gov-Client-Multi-Factor under single-factor sign-in, Gov-Vendor-License-IDs
// when there is no licence, the public IP headers over a private network);
// declare such headers in Headers.AgreedMissing or AgreedEmpty.
func (m ConnectionMethod) RequiredHeaders() HeaderSet {
	switch m {
	case WebAppViaServer:
		return requiredWebAppViaServer
	case DesktopAppDirect:
		return requiredDesktopAppDirect
	case DesktopAppViaServer:
		return requiredDesktopAppViaServer
	case MobileAppDirect:
		return requiredMobileAppDirect
	case MobileAppViaServer:
		return requiredMobileAppViaServer
	case BatchProcessDirect:
		return requiredBatchProcessDirect
	case OtherDirect:
		return requiredOtherDirect
	case OtherViaServer:
		return requiredOtherViaServer
	}
	return 0
}

// HeaderName identifies one of the twenty fraud prevention headers of
// specification 3.3. Its String method gives the header name as HMRC spells
// it, for example "Gov-Client-Public-IP".
type HeaderName uint8

// The fraud prevention headers, in the order of the specification's list.
const (
	GovClientConnectionMethod   HeaderName = iota + 1 // Gov-Client-Connection-Method
	GovClientBrowserJSUserAgent                       // Gov-Client-Browser-JS-User-Agent
	GovClientDeviceID                                 // Gov-Client-Device-ID
	GovClientLocalIPs                                 // Gov-Client-Local-IPs
	GovClientLocalIPsTimestamp                        // Gov-Client-Local-IPs-Timestamp
	GovClientMACAddresses                             // Gov-Client-MAC-Addresses
	GovClientMultiFactor                              // Gov-Client-Multi-Factor
	GovClientPublicIP                                 // Gov-Client-Public-IP
	GovClientPublicIPTimestamp                        // Gov-Client-Public-IP-Timestamp
	GovClientPublicPort                               // Gov-Client-Public-Port
	GovClientScreens                                  // Gov-Client-Screens
	GovClientTimezone                                 // Gov-Client-Timezone
	GovClientUserAgent                                // Gov-Client-User-Agent
	GovClientUserIDs                                  // Gov-Client-User-IDs
	GovClientWindowSize                               // Gov-Client-Window-Size
	GovVendorForwarded                                // Gov-Vendor-Forwarded
	GovVendorLicenseIDs                               // Gov-Vendor-License-IDs
	GovVendorProductName                              // Gov-Vendor-Product-Name
	GovVendorPublicIP                                 // Gov-Vendor-Public-IP
	GovVendorVersion                                  // Gov-Vendor-Version
)

// NumHeaders is the number of HeaderName values.
const NumHeaders = 20

// String returns the header name as the specification spells it.
func (n HeaderName) String() string {
	if s := n.name(); s != "" {
		return s
	}
	return "HeaderName(" + strconv.Itoa(int(n)) + ")"
}

// Valid reports whether n is one of the twenty headers.
func (n HeaderName) Valid() bool { return n >= 1 && n <= NumHeaders }

func (n HeaderName) name() string {
	switch n {
	case GovClientConnectionMethod:
		return "Gov-Client-Connection-Method"
	case GovClientBrowserJSUserAgent:
		return "Gov-Client-Browser-JS-User-Agent"
	case GovClientDeviceID:
		return "Gov-Client-Device-ID"
	case GovClientLocalIPs:
		return "Gov-Client-Local-IPs"
	case GovClientLocalIPsTimestamp:
		return "Gov-Client-Local-IPs-Timestamp"
	case GovClientMACAddresses:
		return "Gov-Client-MAC-Addresses"
	case GovClientMultiFactor:
		return "Gov-Client-Multi-Factor"
	case GovClientPublicIP:
		return "Gov-Client-Public-IP"
	case GovClientPublicIPTimestamp:
		return "Gov-Client-Public-IP-Timestamp"
	case GovClientPublicPort:
		return "Gov-Client-Public-Port"
	case GovClientScreens:
		return "Gov-Client-Screens"
	case GovClientTimezone:
		return "Gov-Client-Timezone"
	case GovClientUserAgent:
		return "Gov-Client-User-Agent"
	case GovClientUserIDs:
		return "Gov-Client-User-IDs"
	case GovClientWindowSize:
		return "Gov-Client-Window-Size"
	case GovVendorForwarded:
		return "Gov-Vendor-Forwarded"
	case GovVendorLicenseIDs:
		return "Gov-Vendor-License-IDs"
	case GovVendorProductName:
		return "Gov-Vendor-Product-Name"
	case GovVendorPublicIP:
		return "Gov-Vendor-Public-IP"
	case GovVendorVersion:
		return "Gov-Vendor-Version"
	}
	return ""
}

// key returns the header name in net/http's canonical form, the form
// http.Header stores and Header.Get looks up ("Gov-Client-Public-Ip").
// Header names are case-insensitive, so HMRC accepts either spelling.
func (n HeaderName) key() string {
	switch n {
	case GovClientConnectionMethod:
		return "Gov-Client-Connection-Method"
	case GovClientBrowserJSUserAgent:
		return "Gov-Client-Browser-Js-User-Agent"
	case GovClientDeviceID:
		return "Gov-Client-Device-Id"
	case GovClientLocalIPs:
		return "Gov-Client-Local-Ips"
	case GovClientLocalIPsTimestamp:
		return "Gov-Client-Local-Ips-Timestamp"
	case GovClientMACAddresses:
		return "Gov-Client-Mac-Addresses"
	case GovClientMultiFactor:
		return "Gov-Client-Multi-Factor"
	case GovClientPublicIP:
		return "Gov-Client-Public-Ip"
	case GovClientPublicIPTimestamp:
		return "Gov-Client-Public-Ip-Timestamp"
	case GovClientPublicPort:
		return "Gov-Client-Public-Port"
	case GovClientScreens:
		return "Gov-Client-Screens"
	case GovClientTimezone:
		return "Gov-Client-Timezone"
	case GovClientUserAgent:
		return "Gov-Client-User-Agent"
	case GovClientUserIDs:
		return "Gov-Client-User-Ids"
	case GovClientWindowSize:
		return "Gov-Client-Window-Size"
	case GovVendorForwarded:
		return "Gov-Vendor-Forwarded"
	case GovVendorLicenseIDs:
		return "Gov-Vendor-License-Ids"
	case GovVendorProductName:
		return "Gov-Vendor-Product-Name"
	case GovVendorPublicIP:
		return "Gov-Vendor-Public-Ip"
	case GovVendorVersion:
		return "Gov-Vendor-Version"
	}
	return ""
}

// ParseHeaderName returns the header called name, compared without
// regard to case. It reports false for any other name, including
// Gov-Test-Scenario and the headers removed from the specification
// (Gov-Client-Browser-Plugins, Gov-Client-Browser-Do-Not-Track).
func ParseHeaderName(name string) (HeaderName, bool) {
	if len(name) < len("Gov-Client-Screens") || !strings.EqualFold(name[:4], "gov-") {
		return 0, false
	}
	for n := HeaderName(1); n <= NumHeaders; n++ {
		if strings.EqualFold(name, n.name()) {
			return n, true
		}
	}
	return 0, false
}

// HeaderSet is a set of fraud prevention headers. The zero value is the
// empty set.
type HeaderSet uint32

// NewHeaderSet returns the set of the given headers. Invalid names are
// ignored.
func NewHeaderSet(names ...HeaderName) HeaderSet {
	return HeaderSet(0).With(names...)
}

// With returns s with the given headers added. Invalid names are ignored.
func (s HeaderSet) With(names ...HeaderName) HeaderSet {
	for _, n := range names {
		if n.Valid() {
			s |= 1 << n
		}
	}
	return s
}

// Without returns s with the given headers removed.
func (s HeaderSet) Without(names ...HeaderName) HeaderSet {
	for _, n := range names {
		if n.Valid() {
			s &^= 1 << n
		}
	}
	return s
}

// Has reports whether n is in s.
func (s HeaderSet) Has(n HeaderName) bool { return n.Valid() && s&(1<<n) != 0 }

// Len returns the number of headers in s.
func (s HeaderSet) Len() int { return bits.OnesCount32(uint32(s & allHeaders)) }

// All yields the headers of s in the order of the HeaderName constants.
func (s HeaderSet) All() iter.Seq[HeaderName] {
	return func(yield func(HeaderName) bool) {
		for n := HeaderName(1); n <= NumHeaders; n++ {
			if s.Has(n) && !yield(n) {
				return
			}
		}
	}
}

// String returns the header names of s separated by ", ".
func (s HeaderSet) String() string {
	var b strings.Builder
	for n := range s.All() {
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		b.WriteString(n.name())
	}
	return b.String()
}

const allHeaders HeaderSet = (1<<(NumHeaders+1) - 1) &^ 1

// common is the part of the required set every connection method shares.
const requiredAll = HeaderSet(1)<<GovClientConnectionMethod | 1<<GovClientDeviceID |
	1<<GovClientTimezone | 1<<GovClientUserIDs | 1<<GovVendorLicenseIDs |
	1<<GovVendorProductName | 1<<GovVendorVersion

const (
	requiredLocal    = HeaderSet(1)<<GovClientLocalIPs | 1<<GovClientLocalIPsTimestamp | 1<<GovClientUserAgent
	requiredDisplay  = HeaderSet(1)<<GovClientScreens | 1<<GovClientWindowSize
	requiredServer   = HeaderSet(1)<<GovClientPublicIP | 1<<GovClientPublicIPTimestamp | 1<<GovClientPublicPort | 1<<GovVendorForwarded | 1<<GovVendorPublicIP
	requiredMFA      = HeaderSet(1) << GovClientMultiFactor
	requiredMAC      = HeaderSet(1) << GovClientMACAddresses
	requiredBrowserJ = HeaderSet(1) << GovClientBrowserJSUserAgent

	requiredWebAppViaServer     = requiredAll | requiredBrowserJ | requiredMFA | requiredServer | requiredDisplay
	requiredDesktopAppDirect    = requiredAll | requiredLocal | requiredMAC | requiredMFA | requiredDisplay
	requiredDesktopAppViaServer = requiredDesktopAppDirect | requiredServer
	requiredMobileAppDirect     = requiredAll | requiredLocal | requiredMFA | requiredDisplay
	requiredMobileAppViaServer  = requiredMobileAppDirect | requiredServer
	requiredBatchProcessDirect  = requiredAll | requiredLocal | requiredMAC
	requiredOtherDirect         = requiredAll | requiredLocal | requiredMAC | requiredMFA
	requiredOtherViaServer      = requiredOtherDirect | requiredServer
)

// KeyValue is one key-value pair of a key-value header such as
// Gov-Client-User-IDs or Gov-Vendor-Version. Key and Value are plain text:
// they are percent-encoded when sent.
type KeyValue struct {
	Key   string
	Value string
}

// MultiFactorType is the type of one multi-factor authentication factor in
// Gov-Client-Multi-Factor.
type MultiFactorType string

// The factor types of the specification.
const (
	// MultiFactorTOTP is a time-based one-time password.
	MultiFactorTOTP MultiFactorType = "TOTP"
	// MultiFactorAuthCode is an authorisation code sent out of band, for
	// example by e-mail or SMS.
	MultiFactorAuthCode MultiFactorType = "AUTH_CODE"
	// MultiFactorOther is any other factor.
	MultiFactorOther MultiFactorType = "OTHER"
)

// Valid reports whether t is one of the three factor types.
func (t MultiFactorType) Valid() bool {
	return t == MultiFactorTOTP || t == MultiFactorAuthCode || t == MultiFactorOther
}

// MultiFactor is one factor of the end user's sign-in to your software (not
// their sign-in to HMRC).
type MultiFactor struct {
	// Type is the kind of factor.
	Type MultiFactorType
	// Timestamp is the time of the last successful prompt for this factor.
	// It is sent in UTC with the shortest of minute, second or millisecond
	// precision that represents it exactly; finer digits are dropped.
	Timestamp time.Time
	// UniqueReference identifies the factor without revealing it, for
	// example a salted hash of the phone number codes are sent to, or an
	// identifier of a TOTP secret. Use the same function on every call.
	UniqueReference string
}

// ScalingFactor is a screen's scaling factor as a decimal number, for
// example "1", "1.25" or "2". It is kept as text so that it is sent exactly
// as written and no floating-point value is involved.
type ScalingFactor string

// ScalingFactorThousandths returns the scaling factor n/1000 in its shortest
// decimal form: 1000 gives "1", 1250 gives "1.25". It returns "" (no value)
// for n <= 0.
func ScalingFactorThousandths(n int) ScalingFactor {
	if n <= 0 {
		return ""
	}
	s := strconv.Itoa(n / 1000)
	if frac := n % 1000; frac != 0 {
		f := strconv.Itoa(1000 + frac)[1:] // three digits, leading zeros kept
		s += "." + strings.TrimRight(f, "0")
	}
	return ScalingFactor(s)
}

// valid reports whether sf is a positive decimal number: digits, optionally
// followed by a point and more digits.
func (sf ScalingFactor) valid() bool {
	s := string(sf)
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if !allDigits(intPart) || hasPoint && !allDigits(frac) || len(s) > 32 {
		return false
	}
	return strings.Trim(s, "0.") != ""
}

// Screen describes one of the originating device's screens in
// Gov-Client-Screens.
type Screen struct {
	Width, Height int           // in pixels, positive
	ScalingFactor ScalingFactor // for example "1" or "1.25"
	ColourDepth   int           // in bits, positive
}

// WindowSize is the size of the application's window, in pixels, in
// Gov-Client-Window-Size.
type WindowSize struct {
	Width, Height int
}

// UserAgent identifies the originating device's operating system and
// hardware in Gov-Client-User-Agent. OSFamily and OSVersion are required;
// empty DeviceManufacturer or DeviceModel keys are left out.
type UserAgent struct {
	OSFamily           string // for example "Windows", "MacOS", "Linux"
	OSVersion          string // for example "10.15.7"
	DeviceManufacturer string // for example "Dell Inc."
	DeviceModel        string // for example "MacBookPro15,2"
}

// ForwardedHop is one hop over the internet between services that terminate
// TLS, in Gov-Vendor-Forwarded: By received the request from For. The first
// hop is By = Gov-Vendor-Public-IP, For = Gov-Client-Public-IP.
type ForwardedHop struct {
	By  netip.Addr
	For netip.Addr
}

// Timezone is the originating device's offset from UTC, sent in
// Gov-Client-Timezone as "UTC±hh:mm". The zero value means no value.
type Timezone struct {
	minutes int
	set     bool
}

// TimezoneOf returns the UTC offset in effect at t in t's location. Call it
// at request time so that daylight saving changes are seen.
func TimezoneOf(t time.Time) Timezone {
	_, off := t.Zone()
	return Timezone{minutes: off / 60, set: true}
}

// TimezoneMinutes returns the offset of the given number of minutes east of
// UTC (negative west). HMRC accepts offsets strictly between -24 and +24
// hours; others are refused when the headers are encoded.
func TimezoneMinutes(minutes int) Timezone { return Timezone{minutes: minutes, set: true} }

// Minutes returns the offset in minutes east of UTC, and whether z has a value.
func (z Timezone) Minutes() (int, bool) { return z.minutes, z.set }

// IsZero reports whether z has no value.
func (z Timezone) IsZero() bool { return !z.set }

// String returns z as HMRC expects it, for example "UTC+01:00" or
// "UTC-03:30", or "" for the zero Timezone.
func (z Timezone) String() string {
	if !z.set {
		return ""
	}
	return string(z.append(nil))
}

func (z Timezone) valid() bool { return z.minutes > -24*60 && z.minutes < 24*60 }

func (z Timezone) append(b []byte) []byte {
	m, sign := z.minutes, byte('+')
	if m < 0 {
		m, sign = -m, '-'
	}
	b = append(b, 'U', 'T', 'C', sign)
	b = append2(b, m/60)
	b = append(b, ':')
	return append2(b, m%60)
}

// append2 appends n (0..99 expected) as at least two digits.
func append2(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// Headers holds the values of HMRC's fraud prevention headers for one
// request. Each field is one header (named in its comment); a zero field is
// a header that is not sent. Text fields hold plain values: the encoder
// percent-encodes them where the specification says so.
//
// The Client encodes the headers immediately before each request and refuses
// to send values that break the specification's format (see Header). Whether
// the values are sensible (public addresses, a real UUID, no placeholders) is
// checked by Validate, which answers like HMRC's Test Fraud
// Prevention Headers API.
//
// Headers values are personal data. Printing one with the fmt or slog
// packages shows only the connection method and which headers are set.
type Headers struct {
	// ConnectionMethod is Gov-Client-Connection-Method. It decides which
	// other headers are required.
	ConnectionMethod ConnectionMethod

	// BrowserJSUserAgent is Gov-Client-Browser-JS-User-Agent, the browser's
	// navigator.userAgent, sent as it is (printable US-ASCII).
	BrowserJSUserAgent string
	// DeviceID is Gov-Client-Device-ID, a UUID generated once and stored on
	// the originating device. It is sent as it is.
	DeviceID string
	// LocalIPs is Gov-Client-Local-IPs, every local IPv4 and IPv6 address
	// of the originating device.
	LocalIPs []netip.Addr
	// LocalIPsTimestamp is Gov-Client-Local-IPs-Timestamp, when LocalIPs
	// was collected (millisecond precision, UTC).
	LocalIPsTimestamp time.Time
	// MACAddresses is Gov-Client-MAC-Addresses, the 6-byte MAC addresses of
	// the originating device.
	MACAddresses []net.HardwareAddr
	// MultiFactor is Gov-Client-Multi-Factor, the factors of the end user's
	// sign-in to your software.
	MultiFactor []MultiFactor
	// PublicIP is Gov-Client-Public-IP, the originating device's public
	// address as the vendor's server saw it.
	PublicIP netip.Addr
	// PublicIPTimestamp is Gov-Client-Public-IP-Timestamp, when PublicIP
	// was collected (usually when the request reached the vendor's server).
	PublicIPTimestamp time.Time
	// PublicPort is Gov-Client-Public-Port, the originating device's source
	// TCP port (1-65535, zero means none).
	PublicPort uint16
	// Screens is Gov-Client-Screens, one entry per screen.
	Screens []Screen
	// Timezone is Gov-Client-Timezone, the device's UTC offset at request
	// time.
	Timezone Timezone
	// UserAgent is Gov-Client-User-Agent, the device's operating system and
	// hardware.
	UserAgent UserAgent
	// UserIDs is Gov-Client-User-IDs, the end user's identifiers in order
	// ("os" for the operating-system user, then your application's keys).
	UserIDs []KeyValue
	// WindowSize is Gov-Client-Window-Size.
	WindowSize WindowSize

	// VendorForwarded is Gov-Vendor-Forwarded, one hop per TLS-terminating
	// service over the internet, first hop first.
	VendorForwarded []ForwardedHop
	// VendorLicenseIDs is Gov-Vendor-License-IDs: software name to hashed
	// licence key (see HashLicenseKey).
	VendorLicenseIDs []KeyValue
	// VendorProductName is Gov-Vendor-Product-Name, the product name
	// marketed to end users.
	VendorProductName string
	// VendorPublicIP is Gov-Vendor-Public-IP, the public address of the
	// vendor's servers the originating device sent its request to.
	VendorPublicIP netip.Addr
	// VendorVersion is Gov-Vendor-Version: software name to version, one
	// entry per piece of your software that handles the request.
	VendorVersion []KeyValue

	// AgreedMissing lists headers you have agreed with HMRC you cannot
	// supply (the specification's "missing data" rule). When such a header
	// has no value it is left out instead of being an error. Never send a
	// placeholder instead.
	AgreedMissing HeaderSet
	// AgreedEmpty is like AgreedMissing, but a header without a value is
	// sent with an empty value instead of being left out; the specification
	// allows either. Parse records every empty header here.
	AgreedEmpty HeaderSet

	// ipText remembers, for addresses read by Parse, a
	// non-canonical spelling (such as upper-case or uncompressed IPv6) so
	// that the same address is written back to the same header byte for
	// byte. Addresses set
	// any other way are written in their canonical (RFC 5952) form.
	ipText map[ipSpelling]string
}

// ipSpelling keys Headers.ipText: an address as it appeared in one
// header.
type ipSpelling struct {
	header HeaderName
	addr   netip.Addr
}

// Has reports whether f has a value for header n.
func (f *Headers) Has(n HeaderName) bool {
	switch n {
	case GovClientConnectionMethod:
		return f.ConnectionMethod != ""
	case GovClientBrowserJSUserAgent:
		return f.BrowserJSUserAgent != ""
	case GovClientDeviceID:
		return f.DeviceID != ""
	case GovClientLocalIPs:
		return len(f.LocalIPs) > 0
	case GovClientLocalIPsTimestamp:
		return !f.LocalIPsTimestamp.IsZero()
	case GovClientMACAddresses:
		return len(f.MACAddresses) > 0
	case GovClientMultiFactor:
		return len(f.MultiFactor) > 0
	case GovClientPublicIP:
		return f.PublicIP.IsValid()
	case GovClientPublicIPTimestamp:
		return !f.PublicIPTimestamp.IsZero()
	case GovClientPublicPort:
		return f.PublicPort != 0
	case GovClientScreens:
		return len(f.Screens) > 0
	case GovClientTimezone:
		return f.Timezone.set
	case GovClientUserAgent:
		return f.UserAgent != UserAgent{}
	case GovClientUserIDs:
		return len(f.UserIDs) > 0
	case GovClientWindowSize:
		return f.WindowSize != WindowSize{}
	case GovVendorForwarded:
		return len(f.VendorForwarded) > 0
	case GovVendorLicenseIDs:
		return len(f.VendorLicenseIDs) > 0
	case GovVendorProductName:
		return f.VendorProductName != ""
	case GovVendorPublicIP:
		return f.VendorPublicIP.IsValid()
	case GovVendorVersion:
		return len(f.VendorVersion) > 0
	}
	return false
}

// Present returns the set of headers f has a value for.
func (f *Headers) Present() HeaderSet {
	var s HeaderSet
	for n := HeaderName(1); n <= NumHeaders; n++ {
		if f.Has(n) {
			s |= 1 << n
		}
	}
	return s
}

// Clone returns a deep copy of f.
func (f *Headers) Clone() *Headers {
	if f == nil {
		return nil
	}
	c := *f
	c.LocalIPs = slices.Clone(f.LocalIPs)
	if f.MACAddresses != nil {
		c.MACAddresses = make([]net.HardwareAddr, len(f.MACAddresses))
		for i, m := range f.MACAddresses {
			c.MACAddresses[i] = slices.Clone(m)
		}
	}
	c.MultiFactor = slices.Clone(f.MultiFactor)
	c.Screens = slices.Clone(f.Screens)
	c.UserIDs = slices.Clone(f.UserIDs)
	c.VendorForwarded = slices.Clone(f.VendorForwarded)
	c.VendorLicenseIDs = slices.Clone(f.VendorLicenseIDs)
	c.VendorVersion = slices.Clone(f.VendorVersion)
	// ipText is never modified after Parse, so it is shared.
	return &c
}

// String describes f without revealing any value: the connection method and
// the names of the headers that have a value.
func (f Headers) String() string {
	return "fraud.Headers{" + string(f.ConnectionMethod) + ": " + f.Present().String() + "}"
}

// GoString is like String, so that %#v does not print values either.
func (f Headers) GoString() string { return f.String() }

// Format prints String for every verb, so that no verb (%d, %x, %+v, …) can
// print the values.
func (f Headers) Format(st fmt.State, _ rune) { _, _ = io.WriteString(st, f.String()) }

// LogValue implements slog.LogValuer, logging the connection method and the
// names of the headers that have a value, never the values.
func (f Headers) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("connection_method", string(f.ConnectionMethod)),
		slog.String("headers", f.Present().String()),
	)
}

// HeaderError reports a fraud prevention header that cannot be encoded
// or parsed. It names the header and the rule, never the value, because the
// values are personal data.
type HeaderError struct {
	// Header is the header at fault.
	Header HeaderName
	// Reason says which rule the value breaks.
	Reason string
}

// Error returns "fraud: fraud prevention header <name>: <reason>".
func (e *HeaderError) Error() string {
	return "fraud: fraud prevention header " + e.Header.String() + ": " + e.Reason
}

// ErrNoHeaders is returned when a request has no fraud prevention
// headers to send.
var ErrNoHeaders = errors.New("fraud: no fraud prevention headers")

// Header returns f encoded as HTTP headers, after the checks the Client makes
// before each request: every header required by f's connection method has a
// value (or is declared in AgreedMissing or AgreedEmpty), and every value has
// the format the specification gives. Problems are reported as
// *HeaderError values (joined with errors.Join when there are several).
//
// Headers that f's connection method does not need are sent if they have a
// value (the collectors in this package set only the needed ones).
//
// The encoding reproduces the specification's examples byte for byte:
// percent-encoding leaves only A-Z a-z 0-9 - . _ ~ as they are and writes
// everything else as %XX with upper-case hex (a space is %20, never '+');
// the separators '=', '&' and ',' are not encoded; Gov-Client-Public-IP,
// Gov-Vendor-Public-IP, the timestamps, the port, the timezone, the device ID
// and the browser user agent are sent as they are.
func (f *Headers) Header() (http.Header, error) {
	h := make(http.Header, NumHeaders)
	if err := f.WriteTo(h); err != nil {
		return nil, err
	}
	return h, nil
}

// Validate encodes f without the required-header check and validates the
// result as Validate does, treating the headers in
// f.AgreedMissing and f.AgreedEmpty as agreed with HMRC (reported as
// warnings). Values that cannot be encoded at all are returned as the error.
func (f *Headers) Validate() (*Validation, error) {
	h := make(http.Header, NumHeaders)
	if err := f.encode(h, false); err != nil {
		return nil, err
	}
	return Validator{AgreedMissing: f.AgreedMissing | f.AgreedEmpty}.Validate(h), nil
}

// WriteTo checks f as Header does, encodes it and sets each of its headers
// on h, removing any other fraud prevention header h held. Errors name the
// header and the rule, never the value. On error h is not modified. It is
// what an HMRC API client calls before each request; its only allocations
// are the encoded values.
func (f *Headers) WriteTo(h http.Header) error {
	return f.encode(h, true)
}

// span is where one encoded header value lies in the encoding buffer.
type span struct {
	start, end int32
	set        bool
}

func (f *Headers) encode(h http.Header, checkRequired bool) error {
	e, err := f.encodeValues(checkRequired)
	if err != nil {
		return err
	}
	e.setOn(h, e.vals) // e is this request's alone
	return nil
}

// encodedHeaders is a Headers encoded: the headers to send, and
// their values in HeaderName order.
type encodedHeaders struct {
	sent HeaderSet
	vals []string
}

// encodeValues checks and encodes every header of f, as WriteTo describes.
// It depends on f alone.
func (f *Headers) encodeValues(checkRequired bool) (encodedHeaders, error) {
	if f == nil {
		return encodedHeaders{}, ErrNoHeaders
	}
	var (
		arr   [2048]byte
		spans [NumHeaders + 1]span
		errs  []error
	)
	buf := arr[:0]
	for n := HeaderName(1); n <= NumHeaders; n++ {
		start := len(buf)
		if !f.Has(n) {
			if f.AgreedEmpty.Has(n) {
				spans[n] = span{int32(start), int32(start), true}
			}
			continue
		}
		var reason string
		buf, reason = f.appendValue(buf, n)
		if reason == "" && len(buf)-start > maxValueLen {
			reason = "value is longer than " + strconv.Itoa(maxValueLen) + " bytes once encoded"
		}
		if reason != "" {
			errs = append(errs, &HeaderError{Header: n, Reason: reason})
			buf = buf[:start]
			continue
		}
		spans[n] = span{int32(start), int32(len(buf)), true}
	}
	if checkRequired {
		errs = append(errs, f.checkRequired()...)
	}
	if len(errs) > 0 {
		return encodedHeaders{}, errors.Join(errs...)
	}
	s := string(buf)
	var e encodedHeaders
	for n, sp := range spans {
		if sp.set {
			e.sent |= 1 << n
		}
	}
	e.vals = make([]string, 0, e.sent.Len())
	for n := range e.sent.All() {
		e.vals = append(e.vals, s[spans[n].start:spans[n].end])
	}
	return e, nil
}

// setOn sets each header of e on h and removes any other fraud prevention
// header h held. vals, as long as e.vals, receives a copy of the values, and
// each header gets its own one-element slice of it, so that a request whose
// values are shared with other requests can change none of theirs.
func (e encodedHeaders) setOn(h http.Header, vals []string) {
	copy(vals, e.vals)
	i := 0
	for n := HeaderName(1); n <= NumHeaders; n++ {
		key := n.key()
		if !e.sent.Has(n) {
			delete(h, key)
			continue
		}
		h[key] = vals[i : i+1 : i+1]
		i++
	}
}

// checkRequired reports the headers f's connection method requires that have
// no value and are not declared agreed-missing or agreed-empty.
func (f *Headers) checkRequired() []error {
	if f.ConnectionMethod == "" {
		return []error{&HeaderError{Header: GovClientConnectionMethod, Reason: "required"}}
	}
	req := f.ConnectionMethod.RequiredHeaders()
	if req == 0 {
		return nil // reported by appendValue
	}
	missing := req &^ f.Present() &^ f.AgreedMissing &^ f.AgreedEmpty
	if missing == 0 {
		return nil
	}
	var errs []error
	for n := range missing.All() {
		errs = append(errs, &HeaderError{Header: n,
			Reason: "required for connection method " + string(f.ConnectionMethod) +
				" (declare it in AgreedMissing only after agreeing it with HMRC)"})
	}
	return errs
}

const (
	ipTimestampLayout = "2006-01-02T15:04:05.000Z"
	reasonControl     = "contains a control character"
	reasonUTF8        = "is not valid UTF-8"
)

// appendValue appends the encoded value of header n, which has a value, and
// returns "" or the rule the value breaks.
func (f *Headers) appendValue(b []byte, n HeaderName) ([]byte, string) {
	switch n {
	case GovClientConnectionMethod:
		if !f.ConnectionMethod.Valid() {
			return b, "not one of the eight connection methods"
		}
		return append(b, f.ConnectionMethod...), ""
	case GovClientBrowserJSUserAgent:
		if r := checkRaw(f.BrowserJSUserAgent, true); r != "" {
			return b, r
		}
		return append(b, f.BrowserJSUserAgent...), ""
	case GovClientDeviceID:
		if r := checkRaw(f.DeviceID, false); r != "" {
			return b, r
		}
		return append(b, f.DeviceID...), ""
	case GovClientLocalIPs:
		for i, a := range f.LocalIPs {
			if r := checkAddr(a); r != "" {
				return b, "address " + strconv.Itoa(i+1) + ": " + r
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = f.appendAddr(b, n, a, true)
		}
		return b, ""
	case GovClientLocalIPsTimestamp:
		return appendIPTimestamp(b, f.LocalIPsTimestamp)
	case GovClientMACAddresses:
		for i, m := range f.MACAddresses {
			if len(m) != 6 {
				return b, "address " + strconv.Itoa(i+1) + ": not a 6-byte MAC address"
			}
			if i > 0 {
				b = append(b, ',')
			}
			for j, c := range m {
				if j > 0 {
					b = append(b, "%3A"...)
				}
				b = append(b, lowerHex[c>>4], lowerHex[c&0xF])
			}
		}
		return b, ""
	case GovClientMultiFactor:
		for i, mf := range f.MultiFactor {
			var r string
			if i > 0 {
				b = append(b, ',')
			}
			if b, r = appendMultiFactor(b, mf); r != "" {
				return b, "factor " + strconv.Itoa(i+1) + ": " + r
			}
		}
		return b, ""
	case GovClientPublicIP:
		if r := checkAddr(f.PublicIP); r != "" {
			return b, r
		}
		return f.appendAddr(b, n, f.PublicIP, false), ""
	case GovClientPublicIPTimestamp:
		return appendIPTimestamp(b, f.PublicIPTimestamp)
	case GovClientPublicPort:
		return strconv.AppendUint(b, uint64(f.PublicPort), 10), ""
	case GovClientScreens:
		for i, s := range f.Screens {
			if r := s.check(); r != "" {
				return b, "screen " + strconv.Itoa(i+1) + ": " + r
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "width="...)
			b = strconv.AppendInt(b, int64(s.Width), 10)
			b = append(b, "&height="...)
			b = strconv.AppendInt(b, int64(s.Height), 10)
			b = append(b, "&scaling-factor="...)
			b = append(b, s.ScalingFactor...)
			b = append(b, "&colour-depth="...)
			b = strconv.AppendInt(b, int64(s.ColourDepth), 10)
		}
		return b, ""
	case GovClientTimezone:
		if !f.Timezone.valid() {
			return b, "offset must be between UTC-23:59 and UTC+23:59"
		}
		return f.Timezone.append(b), ""
	case GovClientUserAgent:
		return appendUserAgent(b, f.UserAgent)
	case GovClientUserIDs:
		return appendKV(b, f.UserIDs, true)
	case GovClientWindowSize:
		if f.WindowSize.Width <= 0 || f.WindowSize.Height <= 0 {
			return b, "width and height must be positive whole numbers"
		}
		b = append(b, "width="...)
		b = strconv.AppendInt(b, int64(f.WindowSize.Width), 10)
		b = append(b, "&height="...)
		return strconv.AppendInt(b, int64(f.WindowSize.Height), 10), ""
	case GovVendorForwarded:
		for i, hop := range f.VendorForwarded {
			r := checkAddr(hop.By)
			if r == "" {
				r = checkAddr(hop.For)
			}
			if r != "" {
				return b, "hop " + strconv.Itoa(i+1) + ": " + r
			}
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, "by="...)
			b = f.appendAddr(b, n, hop.By, true)
			b = append(b, "&for="...)
			b = f.appendAddr(b, n, hop.For, true)
		}
		return b, ""
	case GovVendorLicenseIDs:
		return appendKV(b, f.VendorLicenseIDs, false)
	case GovVendorProductName:
		if r := checkText(f.VendorProductName); r != "" {
			return b, r
		}
		return pctenc.Append(b, f.VendorProductName), ""
	case GovVendorPublicIP:
		if r := checkAddr(f.VendorPublicIP); r != "" {
			return b, r
		}
		return f.appendAddr(b, n, f.VendorPublicIP, false), ""
	case GovVendorVersion:
		return appendKV(b, f.VendorVersion, false)
	}
	return b, "unknown header"
}

const lowerHex = "0123456789abcdef"

// appendAddr appends a's text, or the spelling Parse read it
// with, encoding ':' as %3A when encode is set. Address text holds only hex
// digits, '.' and ':', so that is the whole of its percent-encoding.
func (f *Headers) appendAddr(b []byte, n HeaderName, a netip.Addr, encode bool) []byte {
	start := len(b)
	if t, ok := f.ipText[ipSpelling{n, a}]; ok {
		b = append(b, t...)
	} else {
		b = a.AppendTo(b)
	}
	if !encode {
		return b
	}
	colons := 0
	for _, c := range b[start:] {
		if c == ':' {
			colons++
		}
	}
	if colons == 0 {
		return b
	}
	end := len(b)
	b = slices.Grow(b, 2*colons)[:end+2*colons]
	// Expand in place from the end.
	j := len(b)
	for i := end - 1; i >= start; i-- {
		if c := b[i]; c == ':' {
			j -= 3
			b[j], b[j+1], b[j+2] = '%', '3', 'A'
		} else {
			j--
			b[j] = c
		}
	}
	return b
}

func checkAddr(a netip.Addr) string {
	switch {
	case !a.IsValid():
		return "not a valid IP address"
	case a.Zone() != "":
		return "IP address must not have a zone"
	}
	return ""
}

func appendIPTimestamp(b []byte, t time.Time) ([]byte, string) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return b, "timestamp year must be between 0000 and 9999"
	}
	return t.AppendFormat(b, ipTimestampLayout), ""
}

// appendMFATimestamp appends t in UTC with the shortest exact precision among
// minutes, seconds and milliseconds, percent-encoded (colons as %3A).
func appendMFATimestamp(b []byte, t time.Time) ([]byte, string) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return b, "timestamp year must be between 0000 and 9999"
	}
	ms := t.Nanosecond() / int(time.Millisecond)
	year, month, day := t.Date()
	b = append2(append2(b, year/100), year%100)
	b = append(b, '-')
	b = append2(b, int(month))
	b = append(b, '-')
	b = append2(b, day)
	b = append(b, 'T')
	b = append2(b, t.Hour())
	b = append(b, "%3A"...)
	b = append2(b, t.Minute())
	if t.Second() != 0 || ms != 0 {
		b = append(b, "%3A"...)
		b = append2(b, t.Second())
		if ms != 0 {
			b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
		}
	}
	return append(b, 'Z'), ""
}

func appendMultiFactor(b []byte, mf MultiFactor) ([]byte, string) {
	if !mf.Type.Valid() {
		return b, "type must be TOTP, AUTH_CODE or OTHER"
	}
	if mf.Timestamp.IsZero() {
		return b, "timestamp is missing"
	}
	if mf.UniqueReference == "" {
		return b, "unique reference is missing"
	}
	if r := checkText(mf.UniqueReference); r != "" {
		return b, "unique reference " + r
	}
	b = append(b, "type="...)
	b = pctenc.Append(b, string(mf.Type))
	b = append(b, "&timestamp="...)
	var r string
	if b, r = appendMFATimestamp(b, mf.Timestamp); r != "" {
		return b, r
	}
	b = append(b, "&unique-reference="...)
	return pctenc.Append(b, mf.UniqueReference), ""
}

func appendUserAgent(b []byte, ua UserAgent) ([]byte, string) {
	if ua.OSFamily == "" || ua.OSVersion == "" {
		return b, "os-family and os-version are required"
	}
	fields := [4]struct{ key, val string }{
		{"os-family", ua.OSFamily}, {"os-version", ua.OSVersion},
		{"device-manufacturer", ua.DeviceManufacturer}, {"device-model", ua.DeviceModel},
	}
	for i, kv := range fields {
		if kv.val == "" {
			continue
		}
		if r := checkText(kv.val); r != "" {
			return b, kv.key + " " + r
		}
		if i > 0 {
			b = append(b, '&')
		}
		b = append(b, kv.key...)
		b = append(b, '=')
		b = pctenc.Append(b, kv.val)
	}
	return b, ""
}

// appendKV appends pairs as a percent-encoded key-value structure. Keys must
// not be empty; values may be empty only when emptyValues is set.
func appendKV(b []byte, pairs []KeyValue, emptyValues bool) ([]byte, string) {
	for i, kv := range pairs {
		pos := "pair " + strconv.Itoa(i+1)
		if kv.Key == "" {
			return b, pos + ": key is empty"
		}
		if kv.Value == "" && !emptyValues {
			return b, pos + ": value is empty"
		}
		if r := checkText(kv.Key); r != "" {
			return b, pos + ": key " + r
		}
		if r := checkText(kv.Value); r != "" {
			return b, pos + ": value " + r
		}
		if i > 0 {
			b = append(b, '&')
		}
		b = pctenc.Append(b, kv.Key)
		b = append(b, '=')
		b = pctenc.Append(b, kv.Value)
	}
	return b, ""
}

func (s Screen) check() string {
	switch {
	case s.Width <= 0:
		return "width must be a positive whole number"
	case s.Height <= 0:
		return "height must be a positive whole number"
	case s.ColourDepth <= 0:
		return "colour depth must be a positive whole number"
	case !s.ScalingFactor.valid():
		return "scaling factor must be a positive decimal number"
	}
	return ""
}

// checkText checks a value that will be percent-encoded: valid UTF-8 with no
// control characters (so no CR, LF or NUL can reach a header even decoded).
func checkText(s string) string {
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c < 0x20 || c == 0x7F {
				return reasonControl
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return reasonUTF8
		}
		if r >= 0x80 && r <= 0x9F {
			return reasonControl
		}
		i += size
	}
	return ""
}

// checkRaw checks a value sent without percent-encoding: printable US-ASCII,
// with no leading or trailing space (HTTP would strip it). Spaces inside are
// allowed only when spaces is set.
func checkRaw(s string, spaces bool) string {
	if len(s) > maxValueLen {
		return "value is longer than " + strconv.Itoa(maxValueLen) + " bytes"
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c == 0x7F {
			return reasonControl
		}
		if c >= 0x80 {
			return "must be printable US-ASCII"
		}
		if c == ' ' && (!spaces || i == 0 || i == len(s)-1) {
			if !spaces {
				return "must not contain spaces"
			}
			return "must not start or end with a space"
		}
	}
	return ""
}

// Parse reads the fraud prevention headers in h into a
// Headers. Header names are matched without regard to case and
// percent-escapes are decoded in either case; anything else is read as
// strictly as Header writes it, so Parse(f.Header()) gives back
// f for every f that Header accepts (timestamps in UTC, to the millisecond).
// Unknown Gov-* headers and Gov-Test-Scenario are ignored; a header sent with
// an empty value is recorded in AgreedEmpty. It does not check that the
// connection method's required headers are present: use
// Validate for that.
//
// Problems are reported as *HeaderError values, never quoting a value.
func Parse(h http.Header) (*Headers, error) {
	f := &Headers{}
	var (
		seen HeaderSet
		errs []error
	)
	for key, vals := range h {
		n, ok := ParseHeaderName(key)
		if !ok || len(vals) == 0 {
			continue
		}
		if seen.Has(n) || len(vals) > 1 {
			errs = append(errs, &HeaderError{Header: n, Reason: "sent more than once"})
			continue
		}
		seen = seen.With(n)
		v := vals[0]
		if v == "" {
			f.AgreedEmpty = f.AgreedEmpty.With(n)
			continue
		}
		if len(v) > maxValueLen {
			errs = append(errs, &HeaderError{Header: n,
				Reason: "value is longer than " + strconv.Itoa(maxValueLen) + " bytes"})
			continue
		}
		if r := f.parseValue(n, v); r != "" {
			errs = append(errs, &HeaderError{Header: n, Reason: r})
		}
	}
	if len(errs) > 0 {
		slices.SortFunc(errs, func(a, b error) int {
			var ea, eb *HeaderError
			errors.As(a, &ea)
			errors.As(b, &eb)
			return int(ea.Header) - int(eb.Header)
		})
		return nil, errors.Join(errs...)
	}
	return f, nil
}

// parseValue parses the non-empty value v of header n into f and returns ""
// or the rule v breaks.
func (f *Headers) parseValue(n HeaderName, v string) string {
	switch n {
	case GovClientConnectionMethod:
		if m := ConnectionMethod(v); m.Valid() {
			f.ConnectionMethod = m
			return ""
		}
		return "not one of the eight connection methods"
	case GovClientBrowserJSUserAgent:
		if r := checkRaw(v, true); r != "" {
			return r
		}
		f.BrowserJSUserAgent = v
	case GovClientDeviceID:
		if r := checkRaw(v, false); r != "" {
			return r
		}
		f.DeviceID = v
	case GovClientLocalIPs:
		for i, el := range strings.Split(v, ",") {
			a, r := f.parseAddr(n, el, true)
			if r != "" {
				return "address " + strconv.Itoa(i+1) + ": " + r
			}
			f.LocalIPs = append(f.LocalIPs, a)
		}
	case GovClientLocalIPsTimestamp, GovClientPublicIPTimestamp:
		t, ok := parseIPTimestamp(v)
		if !ok {
			return "not a UTC timestamp in the format yyyy-MM-ddThh:mm:ss.sssZ"
		}
		if n == GovClientLocalIPsTimestamp {
			f.LocalIPsTimestamp = t
		} else {
			f.PublicIPTimestamp = t
		}
	case GovClientMACAddresses:
		for i, el := range strings.Split(v, ",") {
			m, ok := parseMAC(el)
			if !ok {
				return "address " + strconv.Itoa(i+1) + ": not a percent-encoded MAC address (six colon-separated hex octets)"
			}
			f.MACAddresses = append(f.MACAddresses, m)
		}
	case GovClientMultiFactor:
		for i, el := range strings.Split(v, ",") {
			mf, r := parseMultiFactor(el)
			if r != "" {
				return "factor " + strconv.Itoa(i+1) + ": " + r
			}
			f.MultiFactor = append(f.MultiFactor, mf)
		}
	case GovClientPublicIP, GovVendorPublicIP:
		a, r := f.parseAddr(n, v, false)
		if r != "" {
			return r
		}
		if n == GovClientPublicIP {
			f.PublicIP = a
		} else {
			f.VendorPublicIP = a
		}
	case GovClientPublicPort:
		p, ok := parsePositive(v)
		if !ok || p > 65535 {
			return "not a port number between 1 and 65535"
		}
		f.PublicPort = uint16(p)
	case GovClientScreens:
		for i, el := range strings.Split(v, ",") {
			s, r := parseScreen(el)
			if r != "" {
				return "screen " + strconv.Itoa(i+1) + ": " + r
			}
			f.Screens = append(f.Screens, s)
		}
	case GovClientTimezone:
		z, ok := parseTimezone(v)
		if !ok {
			return "not a timezone in the format UTC±hh:mm"
		}
		f.Timezone = z
	case GovClientUserAgent:
		ua, r := parseUserAgent(v)
		if r != "" {
			return r
		}
		f.UserAgent = ua
	case GovClientUserIDs, GovVendorLicenseIDs, GovVendorVersion:
		pairs, r := parseKV(v, n == GovClientUserIDs)
		if r != "" {
			return r
		}
		switch n {
		case GovClientUserIDs:
			f.UserIDs = pairs
		case GovVendorLicenseIDs:
			f.VendorLicenseIDs = pairs
		default:
			f.VendorVersion = pairs
		}
	case GovClientWindowSize:
		w, r := parseWindowSize(v)
		if r != "" {
			return r
		}
		f.WindowSize = w
	case GovVendorForwarded:
		for i, el := range strings.Split(v, ",") {
			hop, r := f.parseHop(el)
			if r != "" {
				return "hop " + strconv.Itoa(i+1) + ": " + r
			}
			f.VendorForwarded = append(f.VendorForwarded, hop)
		}
	case GovVendorProductName:
		s, r := decodeText(v)
		if r != "" {
			return r
		}
		if s == "" {
			return "value is empty"
		}
		f.VendorProductName = s
	}
	return ""
}

// decodeText strictly percent-decodes s and checks the result as checkText
// does.
func decodeText(s string) (string, string) {
	d, err := pctenc.Decode(s)
	if err != nil {
		return "", "not percent-encoded"
	}
	if r := checkText(d); r != "" {
		return "", r
	}
	return d, ""
}

// parseAddr parses an IP address, percent-encoded when encoded is set, and
// remembers a non-canonical spelling so that it is written back unchanged.
func (f *Headers) parseAddr(n HeaderName, s string, encoded bool) (netip.Addr, string) {
	if encoded {
		d, err := pctenc.Decode(s)
		if err != nil {
			return netip.Addr{}, "not a percent-encoded IP address"
		}
		s = d
	}
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, "not an IP address"
	}
	if s != a.String() {
		if f.ipText == nil {
			f.ipText = make(map[ipSpelling]string)
		}
		if _, ok := f.ipText[ipSpelling{n, a}]; !ok {
			f.ipText[ipSpelling{n, a}] = s
		}
	}
	return a, ""
}

func parseMAC(s string) (net.HardwareAddr, bool) {
	d, err := pctenc.Decode(s)
	if err != nil || len(d) != 17 {
		return nil, false
	}
	m := make(net.HardwareAddr, 6)
	for i := range m {
		p := d[i*3:]
		if i < 5 && p[2] != ':' || !isHexDigit(p[0]) || !isHexDigit(p[1]) {
			return nil, false
		}
		m[i] = hexVal(p[0])<<4 | hexVal(p[1])
	}
	return m, true
}

func isHexDigit(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func hexVal(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// splitPairs splits a key-value structure into decoded pairs. It returns ""
// or the rule s breaks.
func splitPairs(s string, visit func(key, val string) string) string {
	for pair := range strings.SplitSeq(s, "&") {
		k, v, ok := strings.Cut(pair, "=")
		if !ok {
			return "not a key-value data structure"
		}
		dk, r := decodeText(k)
		if r != "" {
			return "key " + r
		}
		dv, r := decodeText(v)
		if r != "" {
			return "value " + r
		}
		if r := visit(dk, dv); r != "" {
			return r
		}
	}
	return ""
}

func parseKV(s string, emptyValues bool) ([]KeyValue, string) {
	var pairs []KeyValue
	r := splitPairs(s, func(k, v string) string {
		pos := "pair " + strconv.Itoa(len(pairs)+1)
		if k == "" {
			return pos + ": key is empty"
		}
		if v == "" && !emptyValues {
			return pos + ": value is empty"
		}
		pairs = append(pairs, KeyValue{Key: k, Value: v})
		return ""
	})
	return pairs, r
}

// fixedKeys parses a key-value structure whose keys come from a fixed list,
// each at most once, into vals (indexed like keys).
func fixedKeys(s string, keys []string, vals []string) string {
	var seen uint8
	return splitPairs(s, func(k, v string) string {
		i := slices.Index(keys, k)
		if i < 0 {
			return "unknown key"
		}
		if seen&(1<<i) != 0 {
			return "key " + keys[i] + " appears more than once"
		}
		seen |= 1 << i
		vals[i] = v
		return ""
	})
}

func parseMultiFactor(s string) (MultiFactor, string) {
	var v [3]string
	if r := fixedKeys(s, []string{"type", "timestamp", "unique-reference"}, v[:]); r != "" {
		return MultiFactor{}, r
	}
	mf := MultiFactor{Type: MultiFactorType(v[0]), UniqueReference: v[2]}
	if !mf.Type.Valid() {
		return mf, "type must be TOTP, AUTH_CODE or OTHER"
	}
	t, ok := parseMFATimestamp(v[1])
	if !ok {
		return mf, "timestamp is not in the format yyyy-MM-ddThh:mmZ, with optional seconds and milliseconds"
	}
	mf.Timestamp = t
	if mf.UniqueReference == "" {
		return mf, "unique reference is missing"
	}
	return mf, ""
}

// parseIPTimestamp parses a Gov-Client-Local-IPs-Timestamp or
// Gov-Client-Public-IP-Timestamp value, which must be exactly
// yyyy-MM-ddThh:mm:ss.sssZ. time.Parse alone is not enough: it also accepts
// a comma before the fraction, which HMRC does not.
func parseIPTimestamp(s string) (time.Time, bool) {
	if len(s) != len(ipTimestampLayout) || s[19] != '.' {
		return time.Time{}, false
	}
	t, err := time.Parse(ipTimestampLayout, s)
	return t, err == nil
}

// parseMFATimestamp parses yyyy-MM-ddThh:mm[:ss[.s{1,3}]]Z.
func parseMFATimestamp(s string) (time.Time, bool) {
	if len(s) < 17 || s[len(s)-1] != 'Z' {
		return time.Time{}, false
	}
	layout := "2006-01-02T15:04Z"
	if len(s) > 17 {
		if s[16] != ':' || len(s) < 20 {
			return time.Time{}, false
		}
		layout = "2006-01-02T15:04:05Z"
		if len(s) > 20 {
			frac := s[19 : len(s)-1]
			if len(frac) < 2 || len(frac) > 4 || frac[0] != '.' || !allDigits(frac[1:]) {
				return time.Time{}, false
			}
		}
	}
	t, err := time.Parse(layout, s)
	return t, err == nil
}

func parseScreen(s string) (Screen, string) {
	var v [4]string
	if r := fixedKeys(s, []string{"width", "height", "scaling-factor", "colour-depth"}, v[:]); r != "" {
		return Screen{}, r
	}
	var sc Screen
	var ok bool
	if sc.Width, ok = parsePositive(v[0]); !ok {
		return sc, "width must be a positive whole number"
	}
	if sc.Height, ok = parsePositive(v[1]); !ok {
		return sc, "height must be a positive whole number"
	}
	if sc.ScalingFactor = ScalingFactor(v[2]); !sc.ScalingFactor.valid() {
		return sc, "scaling factor must be a positive decimal number"
	}
	if sc.ColourDepth, ok = parsePositive(v[3]); !ok {
		return sc, "colour depth must be a positive whole number"
	}
	return sc, ""
}

func parseWindowSize(s string) (WindowSize, string) {
	var v [2]string
	if r := fixedKeys(s, []string{"width", "height"}, v[:]); r != "" {
		return WindowSize{}, r
	}
	w, ok1 := parsePositive(v[0])
	h, ok2 := parsePositive(v[1])
	if !ok1 || !ok2 {
		return WindowSize{}, "width and height must be positive whole numbers"
	}
	return WindowSize{Width: w, Height: h}, ""
}

func parseUserAgent(s string) (UserAgent, string) {
	var v [4]string
	if r := fixedKeys(s, []string{"os-family", "os-version", "device-manufacturer", "device-model"}, v[:]); r != "" {
		return UserAgent{}, r
	}
	if v[0] == "" || v[1] == "" {
		return UserAgent{}, "os-family and os-version are required"
	}
	return UserAgent{OSFamily: v[0], OSVersion: v[1], DeviceManufacturer: v[2], DeviceModel: v[3]}, ""
}

func (f *Headers) parseHop(s string) (ForwardedHop, string) {
	var v [2]string
	if r := fixedKeys(s, []string{"by", "for"}, v[:]); r != "" {
		return ForwardedHop{}, r
	}
	var hop ForwardedHop
	var r string
	// The values are already decoded; parseAddr must not decode again.
	if hop.By, r = f.parseAddr(GovVendorForwarded, v[0], false); r != "" {
		return hop, "by: " + r
	}
	if hop.For, r = f.parseAddr(GovVendorForwarded, v[1], false); r != "" {
		return hop, "for: " + r
	}
	return hop, ""
}

// parsePositive parses a positive whole number without sign or leading
// zeros, of at most nine digits.
func parsePositive(s string) (int, bool) {
	if !allDigits(s) || s[0] == '0' || len(s) > 9 {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

// parseTimezone parses UTC±hh:mm with hh 00-23 and mm 00-59.
func parseTimezone(s string) (Timezone, bool) {
	if len(s) != 9 || s[:3] != "UTC" || s[3] != '+' && s[3] != '-' || s[6] != ':' ||
		!allDigits(s[4:6]) || !allDigits(s[7:9]) {
		return Timezone{}, false
	}
	h, _ := strconv.Atoi(s[4:6])
	m, _ := strconv.Atoi(s[7:9])
	if h > 23 || m > 59 {
		return Timezone{}, false
	}
	mins := h*60 + m
	if s[3] == '-' {
		mins = -mins
	}
	return TimezoneMinutes(mins), true
}

// allDigits reports whether s is one or more ASCII digits.
func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

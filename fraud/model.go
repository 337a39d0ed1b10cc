package fraud

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// KeyValue is one key-value pair of a key-value header such as
// Gov-Client-User-IDs or Gov-Vendor-Version. Key and Value are plain text:
// they are percent-encoded when sent.
type KeyValue struct {
	// Key is the key, for example "my-application" or "os".
	Key string
	// Value is the value, for example "1.6.0" or a hashed licence key.
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
	// Width is the screen's width in pixels, positive.
	Width int
	// Height is the screen's height in pixels, positive.
	Height int
	// ScalingFactor is the screen's scaling factor, for example "1" or
	// "1.25".
	ScalingFactor ScalingFactor
	// ColourDepth is the screen's colour depth in bits, positive.
	ColourDepth int
}

// WindowSize is the size of the application's window, in pixels, in
// Gov-Client-Window-Size.
type WindowSize struct {
	// Width is the window's width in pixels, positive.
	Width int
	// Height is the window's height in pixels, positive.
	Height int
}

// UserAgent identifies the originating device's operating system and
// hardware in Gov-Client-User-Agent. OSFamily and OSVersion are required;
// empty DeviceManufacturer or DeviceModel keys are left out.
type UserAgent struct {
	// OSFamily is the operating system's family, for example "Windows",
	// "MacOS" or "Linux" (the os-family key). Required.
	OSFamily string
	// OSVersion is the operating system's version, for example "10.15.7"
	// (the os-version key). Required.
	OSVersion string
	// DeviceManufacturer is the hardware's manufacturer, for example
	// "Dell Inc." (the device-manufacturer key); empty if not known.
	DeviceManufacturer string
	// DeviceModel is the hardware's model, for example "MacBookPro15,2"
	// (the device-model key); empty if not known.
	DeviceModel string
}

// ForwardedHop is one hop over the internet between services that terminate
// TLS, in Gov-Vendor-Forwarded: By received the request from For. The first
// hop is By = Gov-Vendor-Public-IP, For = Gov-Client-Public-IP.
type ForwardedHop struct {
	// By is the public IP address the server received the request on.
	By netip.Addr
	// For is the public IP address of the sender of the request: the
	// client for the first hop, an intermediate server for later hops.
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
// An HMRC API client encodes the headers immediately before each request
// with WriteTo, which refuses values that break the specification's format
// (see Header). Whether
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

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

func cloneKV(s []KeyValue) []KeyValue { return clone(s) }

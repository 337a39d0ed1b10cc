package fraud

import (
	"iter"
	"math/bits"
	"strconv"
	"strings"
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

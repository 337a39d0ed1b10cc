package fraud

import (
	"errors"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-mtd/vat/internal/pctenc"
)

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

package fraud

import (
	"errors"
	"net/http"
	"net/netip"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/go-mtd/vat/internal/pctenc"
)

// HeaderError reports a fraud prevention header that cannot be encoded
// or parsed. It names the header and the rule, never the value, because the
// values are personal data.
type HeaderError struct {
	// Header is the header at fault.
	Header HeaderName
	// Reason says which rule the value breaks.
	Reason string
}

// Error returns "fraud: <header name>: <reason>".
func (e *HeaderError) Error() string {
	return "fraud: " + e.Header.String() + ": " + e.Reason
}

// ErrNoHeaders is returned when a request has no fraud prevention
// headers to send.
var ErrNoHeaders = errors.New("fraud: no fraud prevention headers")

// Header returns f encoded as HTTP headers, after the checks an HMRC API client makes
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

package fraud

import (
	"net/netip"
	"slices"
	"strings"

	"github.com/go-mtd/vat/internal/pctenc"
)

// pair is one key-value pair of a scanned header, decoded leniently.
type pair struct{ key, val string }

// scan is the structure of a key-value header, or a list of them, with the
// generic problems found.
type scan struct {
	elems       [][]pair
	notKV       bool // a pair without '=', an empty key or an empty list element
	notEncoded  bool // a raw key or value outside unreserved characters and %XX
	badText     bool // a decoded key or value with control characters or bad UTF-8
	plus        bool // a raw '+'
	sepEncoded  bool // separators that are percent-encoded
	placeholder bool // a decoded value that is a placeholder
	repeatedKey bool // a key repeated within one element
	unknownKey  bool // a key outside keys (when keys is given)
}

// scanKV scans v as a key-value structure, or as a comma-separated list of
// them when list is set. When keys is not nil, keys outside it are flagged.
func scanKV(v string, list bool, keys []string) scan {
	var s scan
	elems := []string{v}
	if list {
		elems = strings.Split(v, ",")
	}
	for _, el := range elems {
		var ps []pair
		if el == "" {
			s.notKV = true
			continue
		}
		for raw := range strings.SplitSeq(el, "&") {
			k, val, ok := strings.Cut(raw, "=")
			if !ok || k == "" {
				s.notKV = true
				continue
			}
			if !pctenc.Valid(k) || !pctenc.Valid(val) {
				s.notEncoded = true
			}
			if strings.ContainsRune(raw, '+') {
				s.plus = true
			}
			p := pair{pctenc.DecodeLenient(k), pctenc.DecodeLenient(val)}
			if checkText(p.key) != "" || checkText(p.val) != "" {
				s.badText = true
			}
			if isPlaceholder(p.val) {
				s.placeholder = true
			}
			if keys != nil && slices.ContainsFunc(ps, func(q pair) bool { return q.key == p.key }) {
				s.repeatedKey = true
			}
			if keys != nil && !slices.Contains(keys, p.key) {
				s.unknownKey = true
			}
			ps = append(ps, p)
		}
		s.elems = append(s.elems, ps)
	}
	if s.notKV {
		if d := pctenc.DecodeLenient(v); strings.Contains(d, "=") && !strings.Contains(v, "=") ||
			strings.Contains(d, "&") && !strings.Contains(v, "&") {
			s.sepEncoded = true
		}
	}
	return s
}

// report adds the generic findings of s. It reports whether s is sound
// enough for the header's own checks.
func (c *checker) report(lname string, s scan) bool {
	if s.notKV {
		c.err(lname, msgNotKV)
	}
	if s.sepEncoded {
		c.err(lname, msgSeparatorEncoded)
	}
	if s.notEncoded {
		c.err(lname, msgNotEncoded)
	}
	if s.badText {
		c.err(lname, msgBadText)
	}
	if s.unknownKey {
		c.err(lname, msgUnknownKey)
	}
	if s.repeatedKey {
		c.err(lname, msgRepeatedKey)
	}
	if s.plus {
		c.rev(msgPlus, lname)
	}
	if s.placeholder {
		c.rev(msgPlaceholder, lname)
	}
	return !s.notKV
}

func get(ps []pair, key string) (string, bool) {
	for _, p := range ps {
		if p.key == key {
			return p.val, true
		}
	}
	return "", false
}

func (c *checker) checkBrowserUA(lname, v string) {
	if checkRaw(v, true) != "" {
		c.err(lname, msgASCII)
		return
	}
	if !strings.Contains(v, " ") && pctenc.DecodeLenient(v) != v {
		c.err(lname, msgJSEncoded)
	}
	if isPlaceholder(v) {
		c.rev(msgPlaceholder, lname)
	}
}

func (c *checker) checkDeviceID(lname, v string) {
	if checkRaw(v, false) != "" {
		c.err(lname, msgDeviceASCII)
		return
	}
	switch {
	case isUUID(v):
		if strings.Trim(v, "0-") == "" {
			c.rev(msgNilUUID, lname)
		}
		return
	case isPlaceholder(v):
		c.rev(msgPlaceholder, lname)
	}
	hexDigits := 0
	for i := 0; i < len(v); i++ {
		if isHexDigit(v[i]) {
			hexDigits++
		}
	}
	if hexDigits < 32 {
		c.warn(lname, msgIDLonger)
	} else {
		c.warn(lname, msgUUID)
	}
	if at := strings.IndexByte(v, '@'); at > 0 && strings.Contains(v[at:], ".") {
		c.warn(lname, msgIDEmail)
	}
}

// isUUID reports whether s is 8-4-4-4-12 hex digits.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHexDigit(s[i]) {
				return false
			}
		}
	}
	return true
}

// list splits a list header into decoded elements, reporting empty and
// badly encoded ones.
func (c *checker) list(lname, v string) ([]string, bool) {
	var out []string
	ok := true
	empty, notEnc := false, false
	for el := range strings.SplitSeq(v, ",") {
		if el == "" {
			empty, ok = true, false
			continue
		}
		d, err := pctenc.Decode(el)
		if err != nil {
			notEnc, ok = true, false
			continue
		}
		out = append(out, d)
	}
	if empty {
		c.err(lname, msgListEmpty)
	}
	if notEnc {
		c.err(lname, msgListNotEncoded)
	}
	return out, ok
}

func (c *checker) checkLocalIPs(lname, v string) {
	els, _ := c.list(lname, v)
	notIP, loopbackOnly := false, len(els) > 0
	for _, el := range els {
		a, err := netip.ParseAddr(el)
		if err != nil || a.Zone() != "" {
			notIP = true
			continue
		}
		if !a.Unmap().IsLoopback() {
			loopbackOnly = false
		}
	}
	if notIP {
		c.err(lname, msgNotIP)
	} else if loopbackOnly {
		c.rev(msgLoopbackOnly, lname)
	}
}

func (c *checker) checkMACs(lname, v string) {
	els, _ := c.list(lname, v)
	notMAC, fake := false, false
	for _, el := range els {
		m, ok := parseMAC(pctenc.Encode(el))
		if !ok {
			notMAC = true
			continue
		}
		if isFakeMAC(m) {
			fake = true
		}
	}
	if notMAC {
		c.err(lname, msgNotMAC)
	}
	if fake {
		c.rev(msgFakeMAC, lname)
	}
}

func isFakeMAC(m []byte) bool {
	var zero, ones, android = true, true, m[0] == 0x02
	for i, b := range m {
		zero = zero && b == 0
		ones = ones && b == 0xFF
		android = android && (i == 0 || b == 0)
	}
	return zero || ones || android
}

func (c *checker) checkMultiFactor(lname, v string) {
	s := scanKV(v, true, []string{"type", "timestamp", "unique-reference"})
	c.report(lname, s)
	var typeMissing, typeBad, tsMissing, tsBad, refMissing bool
	for _, ps := range s.elems {
		if t, ok := get(ps, "type"); !ok || t == "" {
			typeMissing = true
		} else if !MultiFactorType(t).Valid() {
			typeBad = true
		}
		if ts, ok := get(ps, "timestamp"); !ok || ts == "" {
			tsMissing = true
		} else if _, ok := parseMFATimestamp(ts); !ok {
			tsBad = true
		}
		if r, ok := get(ps, "unique-reference"); !ok || r == "" {
			refMissing = true
		}
	}
	for _, f := range []struct {
		on  bool
		msg string
	}{{typeMissing, msgTypeMissing}, {typeBad, msgTypeInvalid}, {tsMissing, msgTimestampMissing},
		{tsBad, msgTimestampInvalid}, {refMissing, msgReferenceMissing}} {
		if f.on {
			c.err(lname, f.msg)
		}
	}
}

// isPublicIP reports whether a is a public address: not private (RFC 1918,
// fc00::/7), loopback, link-local, unspecified, multicast, broadcast,
// "this network" (0.0.0.0/8) or reserved (240.0.0.0/4), also in IPv4-mapped
// IPv6 form. The documentation ranges (192.0.2.0/24, 198.51.100.0/24,
// 203.0.113.0/24, 2001:db8::/32) count as public: HMRC's own examples use
// them.
func isPublicIP(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	if a.Is4() {
		b := a.As4()
		return b[0] != 0 && b[0] < 240
	}
	return true
}

func isCGNAT(a netip.Addr) bool {
	a = a.Unmap()
	if !a.Is4() {
		return false
	}
	b := a.As4()
	return b[0] == 100 && b[1]&0xC0 == 64
}

func (c *checker) checkPublicIP(lname, v string) {
	a, err := netip.ParseAddr(v)
	switch {
	case err != nil || a.Zone() != "":
		c.err(lname, msgNotIP)
	case !isPublicIP(a):
		c.err(lname, msgNotPublicIP)
	case isCGNAT(a):
		c.rev(msgCGNAT, lname)
	}
}

func (c *checker) checkScreens(lname, v string) {
	s := scanKV(v, true, []string{"width", "height", "scaling-factor", "colour-depth"})
	c.report(lname, s)
	var missing, invalid [4]bool
	for _, ps := range s.elems {
		for i, key := range []string{"width", "height", "scaling-factor", "colour-depth"} {
			val, ok := get(ps, key)
			switch {
			case !ok || val == "":
				missing[i] = true
			case i == 2 && !ScalingFactor(val).valid():
				invalid[i] = true
			case i != 2:
				if _, ok := parsePositive(val); !ok {
					invalid[i] = true
				}
			}
		}
	}
	msgs := [4][2]string{{msgWidthMissing, msgWidthInvalid}, {msgHeightMissing, msgHeightInvalid},
		{msgScalingMissing, msgScalingInvalid}, {msgDepthMissing, msgDepthInvalid}}
	for i := range msgs {
		if missing[i] {
			c.err(lname, msgs[i][0])
		}
	}
	for i := range msgs {
		if invalid[i] {
			c.err(lname, msgs[i][1])
		}
	}
}

func (c *checker) checkUserAgent(lname, v string) {
	s := scanKV(v, false, []string{"os-family", "os-version", "device-manufacturer", "device-model"})
	if !c.report(lname, s) && len(s.elems[0]) == 0 {
		return
	}
	ps := s.elems[0]
	if f, _ := get(ps, "os-family"); f == "" {
		c.err(lname, msgOSFamilyMissing)
	}
	if f, _ := get(ps, "os-version"); f == "" {
		c.err(lname, msgOSVersionMissing)
	}
	if f, _ := get(ps, "device-manufacturer"); f == "" {
		c.warn(lname, msgManufacturer)
	}
	if f, _ := get(ps, "device-model"); f == "" {
		c.warn(lname, msgModel)
	}
}

func (c *checker) checkUserIDs(lname, v string) {
	s := scanKV(v, false, nil)
	c.report(lname, s)
	ps := s.elems[0]
	if !slices.ContainsFunc(ps, func(p pair) bool { return p.val != "" }) {
		c.err(lname, msgUserIDRequired)
	}
	if _, os := get(ps, "os"); os && c.method == WebAppViaServer {
		c.warn(lname, msgWebOS)
	}
}

func (c *checker) checkWindow(lname, v string) {
	s := scanKV(v, false, []string{"width", "height"})
	if !c.report(lname, s) && len(s.elems[0]) == 0 {
		return
	}
	w, okW := get(s.elems[0], "width")
	h, okH := get(s.elems[0], "height")
	if !okW || !okH || w == "" || h == "" {
		c.err(lname, msgWindowMissing)
		return
	}
	_, okW = parsePositive(w)
	_, okH = parsePositive(h)
	if !okW || !okH {
		c.err(lname, msgWindowInvalid)
	}
}

func (c *checker) checkForwarded(lname, v string) {
	s := scanKV(v, true, []string{"by", "for"})
	c.report(lname, s)
	var byMissing, forMissing, notIP, notPublic bool
	for _, ps := range s.elems {
		for _, key := range []string{"by", "for"} {
			val, ok := get(ps, key)
			if !ok || val == "" {
				if key == "by" {
					byMissing = true
				} else {
					forMissing = true
				}
				continue
			}
			a, err := netip.ParseAddr(val)
			switch {
			case err != nil || a.Zone() != "":
				notIP = true
			case !isPublicIP(a):
				notPublic = true
			}
		}
	}
	for _, f := range []struct {
		on  bool
		msg string
	}{{byMissing, msgByMissing}, {forMissing, msgForMissing}, {notIP, msgNotIP}, {notPublic, msgNotPublicIP}} {
		if f.on {
			c.err(lname, f.msg)
		}
	}
}

func (c *checker) checkLicenses(lname, v string) {
	s := scanKV(v, false, nil)
	c.report(lname, s)
	missing, notHashed := false, false
	for _, p := range s.elems[0] {
		switch {
		case p.val == "":
			missing = true
		case !looksHashed(p.val):
			notHashed = true
		}
	}
	if missing {
		c.err(lname, msgLicenseMissing)
	}
	if notHashed {
		c.warn(lname, msgNotHashed)
	}
}

// looksHashed reports whether s looks like the output of a hash function: at
// least 32 characters of hex, or of base64 / base64url with optional padding.
func looksHashed(s string) bool {
	if len(s) < 32 {
		return false
	}
	hex := true
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !isHexDigit(ch) {
			hex = false
		}
		if !(isHexDigit(ch) || 'g' <= ch && ch <= 'z' || 'G' <= ch && ch <= 'Z' ||
			ch == '+' || ch == '/' || ch == '-' || ch == '_' || ch == '=') {
			return false
		}
	}
	return hex || !strings.ContainsAny(strings.TrimRight(s, "="), "=")
}

func (c *checker) checkProductName(lname, v string) {
	d, err := pctenc.Decode(v)
	switch {
	case err != nil:
		c.err(lname, msgProductNotEncoded)
		d = pctenc.DecodeLenient(v)
	case checkText(d) != "":
		c.err(lname, msgBadText)
	}
	if strings.ContainsRune(v, '+') {
		c.rev(msgPlus, lname)
	}
	if isPlaceholder(d) {
		c.rev(msgPlaceholder, lname)
	}
}

func (c *checker) checkVersion(lname, v string) {
	s := scanKV(v, false, nil)
	c.report(lname, s)
	ps := s.elems[0]
	if slices.ContainsFunc(ps, func(p pair) bool { return p.val == "" }) {
		c.err(lname, msgVersionMissing)
	}
	switch c.method {
	case DesktopAppViaServer, MobileAppViaServer, OtherViaServer:
		if len(ps) < 2 {
			c.warn(lname, msgVersionPairs)
		}
	}
}

// crossCheck applies the rule that at least one hop of Gov-Vendor-Forwarded
// is by=Gov-Vendor-Public-IP&for=Gov-Client-Public-IP.
func (c *checker) crossCheck() {
	fwd, ok1 := c.value("gov-vendor-forwarded")
	vip, ok2 := c.value("gov-vendor-public-ip")
	cip, ok3 := c.value("gov-client-public-ip")
	if !ok1 || !ok2 || !ok3 || fwd == "" || vip == "" || cip == "" || len(c.values["gov-vendor-forwarded"]) != 1 {
		return
	}
	if c.method != "" && !c.method.RequiredHeaders().Has(GovVendorForwarded) {
		return
	}
	exact, normalised := false, false
	va, errV := netip.ParseAddr(vip)
	ca, errC := netip.ParseAddr(cip)
	for _, ps := range scanKV(fwd, true, nil).elems {
		by, _ := get(ps, "by")
		fr, _ := get(ps, "for")
		if by == vip && fr == cip {
			exact = true
			break
		}
		ba, err1 := netip.ParseAddr(by)
		fa, err2 := netip.ParseAddr(fr)
		if err1 == nil && err2 == nil && errV == nil && errC == nil && ba == va && fa == ca {
			normalised = true
		}
	}
	switch {
	case exact:
	case normalised:
		c.rev(msgNormalisedIPs, "gov-vendor-forwarded", "gov-vendor-public-ip", "gov-client-public-ip")
	default:
		c.add(false, CodeInvalidHeaders, msgForwardedPair, "gov-vendor-forwarded", "gov-vendor-public-ip", "gov-client-public-ip")
	}
}

// reviewIPs flags a client public IP equal to the vendor public IP.
func (c *checker) reviewIPs() {
	vip, ok1 := c.value("gov-vendor-public-ip")
	cip, ok2 := c.value("gov-client-public-ip")
	if !ok1 || !ok2 {
		return
	}
	va, err1 := netip.ParseAddr(vip)
	ca, err2 := netip.ParseAddr(cip)
	if err1 == nil && err2 == nil && va.Unmap() == ca.Unmap() {
		c.rev(msgSameIPs, "gov-client-public-ip", "gov-vendor-public-ip")
	}
}

// isPlaceholder reports whether s is a placeholder that stands for "no
// value", which the specification forbids.
func isPlaceholder(s string) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "null", "(null)", "<null>", "nil", "none", "undefined", "unknown", "n/a", "na", "nan",
		"not available", "not applicable", "notavailable", "placeholder", "tbc", "tbd", "todo",
		"-", "--", "?", "[object object]", "void", "empty", "default":
		return true
	}
	return false
}

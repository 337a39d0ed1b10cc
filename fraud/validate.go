package fraud

import (
	"net/http"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/go-mtd/vat/internal/pctenc"
)

// Code is a code in the answers of HMRC's Test Fraud Prevention
// Headers API and of Validate: an overall code, a per-finding
// code or a per-header feedback code. It is an open set: HMRC's live service
// uses codes its OpenAPI document does not list (MISSING_HEADER and
// EMPTY_HEADER among warnings), and any string decodes.
type Code string

// Codes of the Test Fraud Prevention Headers API.
const (
	// CodeValidHeaders (overall): every required header was supplied and
	// appears valid.
	CodeValidHeaders Code = "VALID_HEADERS"
	// CodeInvalidHeaders (overall): at least one error. Also the code of a
	// cross-header error in errors[].
	CodeInvalidHeaders Code = "INVALID_HEADERS"
	// CodePotentiallyInvalidHeaders (overall): warnings but no errors.
	CodePotentiallyInvalidHeaders Code = "POTENTIALLY_INVALID_HEADERS"
	// CodeNoHeaders (validation feedback): the request had no fraud
	// prevention headers.
	CodeNoHeaders Code = "NO_HEADERS"

	// CodeValidHeader (validation feedback, per header): the value appears
	// valid.
	CodeValidHeader Code = "VALID_HEADER"
	// CodeInvalidHeader: the value is not valid.
	CodeInvalidHeader Code = "INVALID_HEADER"
	// CodePotentiallyInvalidHeader: the value may not be valid.
	CodePotentiallyInvalidHeader Code = "POTENTIALLY_INVALID_HEADER"
	// CodeMissingHeader: a header the connection method needs is absent.
	CodeMissingHeader Code = "MISSING_HEADER"
	// CodeEmptyHeader: a header the connection method needs is empty.
	CodeEmptyHeader Code = "EMPTY_HEADER"
	// CodeUnexpectedHeader: the header is not a fraud prevention header, is
	// misspelt, or is not needed for the connection method.
	CodeUnexpectedHeader Code = "UNEXPECTED_HEADER"
	// CodeTestScenarioHeader (validation feedback, per header): the header is
	// Gov-Test-Scenario, used in sandbox testing.
	CodeTestScenarioHeader Code = "TEST_SCENARIO_HEADER"

	// CodeProductionReview is this package's own code, never HMRC's: a
	// problem HMRC's automated Test API does not report but HMRC's manual
	// review of production traffic does (for example Gov-Client-Public-IP
	// equal to Gov-Vendor-Public-IP). Such findings are warnings;
	// Validation.Automated drops them.
	CodeProductionReview Code = "PRODUCTION_REVIEW"
)

// The overall messages of the Test Fraud Prevention Headers API.
const (
	fphMsgValid   = "All headers required for your connection method have been supplied and all appear to be valid. Validation is based on a single request. We have access to all requests and can draw additional conclusions."
	fphMsgInvalid = "At least 1 header is invalid"
	fphMsgPotInv  = "At least 1 header is potentially invalid"
	fphMsgNone    = "No fraud prevention headers submitted. These are required by law. Check the specification."
)

// Finding is one entry of errors[] or warnings[] in a validation
// answer.
type Finding struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
	// Headers names the headers concerned, in lower case.
	Headers []string `json:"headers"`
}

// Validation is the answer of HMRC's
// GET /test/fraud-prevention-headers/validate, and of Validate,
// which answers the same way offline.
type Validation struct {
	// SpecVersion is the version of the specification the headers were
	// validated against, for example "3.3".
	SpecVersion string `json:"specVersion"`
	// Code is VALID_HEADERS, INVALID_HEADERS (any error) or
	// POTENTIALLY_INVALID_HEADERS (warnings only).
	Code Code `json:"code"`
	// Message summarises the outcome.
	Message  string    `json:"message"`
	Errors   []Finding `json:"errors,omitempty"`
	Warnings []Finding `json:"warnings,omitempty"`
}

// Valid reports whether v.Code is VALID_HEADERS.
func (v *Validation) Valid() bool { return v.Code == CodeValidHeaders }

// Automated returns what HMRC's automated Test API would answer: v without
// the PRODUCTION_REVIEW findings, with the code and message derived again.
func (v *Validation) Automated() *Validation {
	out := &Validation{SpecVersion: v.SpecVersion, Code: v.Code, Message: v.Message,
		Errors: slices.Clone(v.Errors)}
	for _, w := range v.Warnings {
		if w.Code != CodeProductionReview {
			out.Warnings = append(out.Warnings, w)
		}
	}
	if v.Message != fphMsgNone {
		out.derive()
	}
	return out
}

// derive sets the overall code and message from the arrays: any error gives
// INVALID_HEADERS, otherwise any warning gives POTENTIALLY_INVALID_HEADERS,
// otherwise VALID_HEADERS.
func (v *Validation) derive() {
	switch {
	case len(v.Errors) > 0:
		v.Code, v.Message = CodeInvalidHeaders, fphMsgInvalid
	case len(v.Warnings) > 0:
		v.Code, v.Message = CodePotentiallyInvalidHeaders, fphMsgPotInv
	default:
		v.Code, v.Message = CodeValidHeaders, fphMsgValid
	}
}

// Feedback is the answer of HMRC's
// GET /test/fraud-prevention-headers/{api}/validation-feedback: feedback on
// the latest request to each endpoint of one API in the sandbox.
type Feedback struct {
	Requests []RequestFeedback `json:"requests"`
}

// RequestFeedback is the feedback on one request.
type RequestFeedback struct {
	Path             string           `json:"path"`
	Method           string           `json:"method"`
	RequestTimestamp time.Time        `json:"requestTimestamp"`
	Code             Code             `json:"code"` // VALID_HEADERS, INVALID_HEADERS, POTENTIALLY_INVALID_HEADERS or NO_HEADERS
	Headers          []HeaderFeedback `json:"headers"`
	CrossValidation  []CrossFeedback  `json:"crossValidation,omitempty"`
}

// HeaderFeedback is the feedback on one header of a request. Errors and
// Warnings are plain messages.
type HeaderFeedback struct {
	Header string `json:"header"` // lower case
	// Value is the value sent; nil when the header was missing.
	Value    *string  `json:"value,omitempty"`
	Code     Code     `json:"code"`
	Errors   []string `json:"errors"`
	Warnings []string `json:"warnings"`
}

// CrossFeedback is the result of one check across several
// headers, such as Gov-Vendor-Forwarded against the two public IP headers.
type CrossFeedback struct {
	Headers []string `json:"headers"`
	Code    Code     `json:"code"` // VALID_HEADERS or INVALID_HEADERS
	Errors  []string `json:"errors"`
}

// Validator checks fraud prevention headers offline the way
// HMRC's Test Fraud Prevention Headers API does, and adds the checks of
// HMRC's manual production review as PRODUCTION_REVIEW warnings. The zero
// value is ready to use.
type Validator struct {
	// AgreedMissing lists headers HMRC has agreed you cannot supply. A
	// missing or empty header in this set is reported as a warning instead of
	// an error (HMRC's own validator knows nothing of such agreements).
	AgreedMissing HeaderSet
}

// Validate validates the fraud prevention headers in h and
// answers like HMRC's GET /test/fraud-prevention-headers/validate, with the
// codes and messages HMRC uses wherever they are known. It checks that the
// headers the connection method requires are present, the format of each
// header, the agreement between Gov-Vendor-Forwarded and the two public IP
// headers, and reports unknown Gov-* headers; Gov-Test-Scenario is ignored.
// Findings of HMRC's manual production review come last among the warnings
// with code PRODUCTION_REVIEW; use Automated to drop them.
//
// Messages never contain header values.
func Validate(h http.Header) *Validation {
	return Validator{}.Validate(h)
}

// Validate is Validate with v's settings.
func (v Validator) Validate(h http.Header) *Validation {
	c := checker{agreed: v.AgreedMissing, values: map[string][]string{}}
	for key, vals := range h {
		lk := strings.ToLower(key)
		if !strings.HasPrefix(lk, "gov-") || lk == "gov-test-scenario" {
			continue
		}
		c.values[lk] = append(c.values[lk], vals...)
	}
	res := &Validation{SpecVersion: SpecVersion}
	if len(c.values) == 0 {
		res.Code, res.Message = CodeInvalidHeaders, fphMsgNone
		return res
	}
	c.run()
	res.Errors = c.errs
	res.Warnings = append(c.warns, c.review...)
	res.derive()
	return res
}

// Messages of HMRC's validator (live, OpenAPI examples or HMRC fixtures).
const (
	msgHeaderRequired   = "Header required"
	msgValueRequired    = "Value required"
	msgPrivateMissing   = "Header missing. You will not be able to submit a header if the connection is between client and server in a private network. If this is the case, you must contact us explaining why you cannot submit this header."
	msgMFAMissing       = "Header missing. This may be correct for single factor authentication, for example username and password. If this is the case, you must contact us explaining why you cannot submit this header."
	msgMFAEmpty         = "Value is empty. This may be correct for single factor authentication, for example username and password. If this is the case, you must contact us explaining why you cannot submit this header."
	msgUnrecognised     = "Unrecognised header. Check format and spelling"
	msgTimezone         = "Value must be a recognised timezone in UTC format, submitted as UTC±<hh>:<mm>"
	msgNotIP            = "Value is not an IP address"
	msgNotPublicIP      = "Value is not a public IP address"
	msgForwardedPair    = "At least 1 pair of IPs in Gov-Vendor-Forwarded must include Gov-Client-Public-IP in the 'for' field and Gov-Vendor-Public-IP in the 'by' field. Check all 3 headers are consistent."
	msgByMissing        = "At least 1 value for 'by' is missing"
	msgForMissing       = "At least 1 value for 'for' is missing"
	msgNotKV            = "Value must be a key-value data structure"
	msgNotEncoded       = "At least 1 key or value is not percent encoded"
	msgSeparatorEncoded = "At least 1 separator is percent encoded. Check ampersands and equal signs."
	msgVersionMissing   = "At least 1 software version value is missing"
	msgVersionPairs     = "For client server architectures, submit a version for the client and the server. For all other architectures, submit at least 1 version."
	msgWebOS            = "Check you are using the correct Gov-Client-Connection-Method. Web applications do not usually provide the os field as browsers do not expose this information."
	msgScalingMissing   = "At least 1 screen is missing a value for scaling factor"
	msgDepthMissing     = "At least 1 screen is missing a value for colour depth"
	msgUUID             = "Use a recommended UUID. Check the specification."
	msgIDLonger         = "ID must be longer to ensure it is unique. It is best to use a UUID which is at least 128 bits or 32 hex characters long."
	msgIDEmail          = "Contains an email address. User specific data must not be used to generate Device IDs."
	// Reported by third parties or HMRC's v2 validator; wording unconfirmed
	// for specification 3.3.
	msgNotHashed        = "At least 1 value for license is not hashed."
	msgJSEncoded        = "Value must not be percent encoded"
	msgUserIDRequired   = "At least 1 user identifier is required"
	msgOSFamilyMissing  = "At least 1 value for OS family is missing"
	msgOSVersionMissing = "At least 1 value for OS version is missing"
	msgManufacturer     = "At least 1 value for device manufacturer is missing"
	msgModel            = "At least 1 value for device model is missing"
)

// Messages of this package, in HMRC's style, for cases whose HMRC wording is
// not known.
const (
	msgPrivateEmpty      = "Value is empty. You will not be able to submit a header if the connection is between client and server in a private network. If this is the case, you must contact us explaining why you cannot submit this header."
	msgNotNeeded         = "Header is not needed for this connection method. Check the specification."
	msgMethod            = "Value must be a recognised connection method. Check the specification."
	msgOnce              = "Header must be sent once"
	msgTooLong           = "Value must be no longer than 8192 characters"
	msgBadText           = "At least 1 key or value contains a control character or is not UTF-8 text"
	msgASCII             = "Value must be printable US-ASCII text without leading or trailing spaces"
	msgDeviceASCII       = "Value must be printable US-ASCII text without spaces"
	msgListEmpty         = "At least 1 value in the list is empty"
	msgListNotEncoded    = "At least 1 value is not percent encoded"
	msgNotMAC            = "Value is not a MAC address. Submit 6 colon-separated pairs of hex digits, percent encoded"
	msgIPTimestamp       = "Value must be a UTC timestamp in the format yyyy-MM-ddThh:mm:ss.sssZ"
	msgPort              = "Value must be a whole number between 1 and 65535"
	msgUnknownKey        = "At least 1 key is not recognised. Check the specification."
	msgRepeatedKey       = "At least 1 key appears more than once"
	msgTypeMissing       = "At least 1 value for type is missing"
	msgTypeInvalid       = "At least 1 value for type is not TOTP, AUTH_CODE or OTHER"
	msgTimestampMissing  = "At least 1 value for timestamp is missing"
	msgTimestampInvalid  = "At least 1 value for timestamp is not a UTC timestamp in the format yyyy-MM-ddThh:mmZ, with optional seconds and milliseconds"
	msgReferenceMissing  = "At least 1 value for unique reference is missing"
	msgWidthMissing      = "At least 1 screen is missing a value for width"
	msgHeightMissing     = "At least 1 screen is missing a value for height"
	msgWidthInvalid      = "At least 1 screen has a width that is not a positive whole number"
	msgHeightInvalid     = "At least 1 screen has a height that is not a positive whole number"
	msgScalingInvalid    = "At least 1 screen has a scaling factor that is not a positive number"
	msgDepthInvalid      = "At least 1 screen has a colour depth that is not a positive whole number"
	msgWindowMissing     = "Values for width and height are required"
	msgWindowInvalid     = "Values for width and height must be positive whole numbers"
	msgLicenseMissing    = "At least 1 license value is missing"
	msgProductNotEncoded = "Value is not percent encoded"

	// Production review findings.
	msgSameIPs       = "Values must not be the same. Gov-Client-Public-IP is the public IP address of the originating device; Gov-Vendor-Public-IP is the public IP address of your servers."
	msgNormalisedIPs = "The IP addresses in Gov-Vendor-Forwarded match Gov-Client-Public-IP and Gov-Vendor-Public-IP only when normalised. Submit identical text in all 3 headers."
	msgServerPort    = "This must not be a server port, for example 80 for http connections and 443 for https connections."
	msgPlaceholder   = "At least 1 value is a placeholder such as null or undefined. You must not submit placeholders: after agreeing missing data with us, omit the header or submit an empty value."
	msgPlus          = "At least 1 key or value contains '+'. Percent encode a space as %20, never as '+'."
	msgCGNAT         = "Value is in the shared address space 100.64.0.0/10 used by carrier-grade NAT, which is not a public IP address."
	msgNilUUID       = "Value is the nil UUID. Generate a random UUID once per device and store it."
	msgFakeMAC       = "At least 1 MAC address is not a real hardware address (all zeros, broadcast, or the 02:00:00:00:00:00 placeholder some platforms report)."
	msgLoopbackOnly  = "Only loopback addresses are listed. List the addresses of the device's network interfaces."
)

// checker accumulates the findings of one validation.
type checker struct {
	agreed HeaderSet
	values map[string][]string // lower-case Gov-* name → values

	method ConnectionMethod // "" when missing or not recognised

	errs, warns, review []Finding
}

func (c *checker) add(warn bool, code Code, msg string, headers ...string) {
	f := Finding{Code: code, Message: msg, Headers: headers}
	if warn {
		c.warns = append(c.warns, f)
	} else {
		c.errs = append(c.errs, f)
	}
}

func (c *checker) err(lname, msg string)  { c.add(false, CodeInvalidHeader, msg, lname) }
func (c *checker) warn(lname, msg string) { c.add(true, CodePotentiallyInvalidHeader, msg, lname) }
func (c *checker) rev(msg string, lnames ...string) {
	c.review = append(c.review, Finding{Code: CodeProductionReview, Message: msg, Headers: lnames})
}

// value returns the single value of header lname and whether it is present.
func (c *checker) value(lname string) (string, bool) {
	vs, ok := c.values[lname]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// retired headers: removed from the specification, tolerated where the
// change log says sending them "is not an issue".
func retired(lname string) bool {
	return lname == "gov-client-browser-plugins" || lname == "gov-client-browser-do-not-track"
}

// tolerated reports whether the change log says sending header lname with
// method m "is not an issue" although m does not need it.
func tolerated(m ConnectionMethod, lname string) bool {
	switch m {
	case WebAppViaServer:
		return retired(lname) || lname == "gov-client-local-ips" || lname == "gov-client-local-ips-timestamp"
	case MobileAppDirect, MobileAppViaServer:
		return lname == "gov-client-mac-addresses"
	}
	return false
}

func (c *checker) run() {
	if v, ok := c.value("gov-client-connection-method"); ok && ConnectionMethod(v).Valid() {
		c.method = ConnectionMethod(v)
	}
	names := make([]string, 0, len(c.values)+NumHeaders)
	for n := HeaderName(1); n <= NumHeaders; n++ {
		names = append(names, strings.ToLower(n.name()))
	}
	for lname := range c.values {
		if _, known := ParseHeaderName(lname); !known {
			names = append(names, lname)
		}
	}
	slices.Sort(names)
	for _, lname := range names {
		c.checkHeader(lname)
	}
	c.crossCheck()
	c.reviewIPs()
}

func (c *checker) checkHeader(lname string) {
	n, known := ParseHeaderName(lname)
	vals, present := c.values[lname]
	required := known && c.method.RequiredHeaders().Has(n)
	switch {
	case !known && retired(lname) && tolerated(c.method, lname):
		return
	case !known && retired(lname):
		c.add(true, CodeUnexpectedHeader, msgNotNeeded, lname)
		return
	case !known:
		c.add(true, CodeUnexpectedHeader, msgUnrecognised, lname)
		return
	case !present:
		if required || n == GovClientConnectionMethod {
			c.missing(n, lname)
		}
		return
	}
	if c.method != "" && !required && !tolerated(c.method, lname) {
		c.add(true, CodeUnexpectedHeader, msgNotNeeded, lname)
	}
	if len(vals) != 1 {
		c.err(lname, msgOnce)
		return
	}
	v := vals[0]
	switch {
	case v == "":
		if required {
			c.empty(n, lname)
		}
		return
	case len(v) > maxValueLen:
		c.err(lname, msgTooLong)
		return
	}
	c.checkValue(n, lname, v)
}

// missing reports a required header that is absent.
func (c *checker) missing(n HeaderName, lname string) {
	warn, msg := c.agreed.Has(n), msgHeaderRequired
	switch n {
	case GovClientMultiFactor:
		warn, msg = true, msgMFAMissing
	case GovVendorLicenseIDs:
		warn = true
	case GovClientPublicPort, GovClientPublicIP, GovVendorPublicIP:
		msg = msgPrivateMissing
	}
	c.add(warn, CodeMissingHeader, msg, lname)
}

// empty reports a required header sent with an empty value.
func (c *checker) empty(n HeaderName, lname string) {
	warn, msg := c.agreed.Has(n), msgValueRequired
	switch n {
	case GovClientMultiFactor:
		warn, msg = true, msgMFAEmpty
	case GovVendorLicenseIDs:
		warn = true
	case GovClientPublicPort, GovClientPublicIP, GovVendorPublicIP:
		msg = msgPrivateEmpty
	}
	c.add(warn, CodeEmptyHeader, msg, lname)
}

func (c *checker) checkValue(n HeaderName, lname, v string) {
	switch n {
	case GovClientConnectionMethod:
		if !ConnectionMethod(v).Valid() {
			c.err(lname, msgMethod)
		}
	case GovClientBrowserJSUserAgent:
		c.checkBrowserUA(lname, v)
	case GovClientDeviceID:
		c.checkDeviceID(lname, v)
	case GovClientLocalIPs:
		c.checkLocalIPs(lname, v)
	case GovClientLocalIPsTimestamp, GovClientPublicIPTimestamp:
		if _, ok := parseIPTimestamp(v); !ok {
			c.err(lname, msgIPTimestamp)
		}
	case GovClientMACAddresses:
		c.checkMACs(lname, v)
	case GovClientMultiFactor:
		c.checkMultiFactor(lname, v)
	case GovClientPublicIP, GovVendorPublicIP:
		c.checkPublicIP(lname, v)
	case GovClientPublicPort:
		p, ok := parsePositive(v)
		switch {
		case !ok || p > 65535:
			c.err(lname, msgPort)
		case p == 80 || p == 443:
			c.rev(msgServerPort, lname)
		}
	case GovClientScreens:
		c.checkScreens(lname, v)
	case GovClientTimezone:
		if _, ok := parseTimezone(v); !ok {
			c.err(lname, msgTimezone)
		}
	case GovClientUserAgent:
		c.checkUserAgent(lname, v)
	case GovClientUserIDs:
		c.checkUserIDs(lname, v)
	case GovClientWindowSize:
		c.checkWindow(lname, v)
	case GovVendorForwarded:
		c.checkForwarded(lname, v)
	case GovVendorLicenseIDs:
		c.checkLicenses(lname, v)
	case GovVendorProductName:
		c.checkProductName(lname, v)
	case GovVendorVersion:
		c.checkVersion(lname, v)
	}
}

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

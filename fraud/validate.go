package fraud

import (
	"net/http"
	"slices"
	"strings"
	"time"
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
	// Code classifies the finding, for example INVALID_HEADER or
	// MISSING_HEADER. Treat it as an open set: HMRC's live answers use codes
	// its OpenAPI does not list.
	Code Code `json:"code"`
	// Message is HMRC's message, which never quotes a value.
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
	Message string `json:"message"`
	// Errors are the findings that make the headers invalid.
	Errors []Finding `json:"errors,omitempty"`
	// Warnings are the findings that make them potentially invalid,
	// including this package's PRODUCTION_REVIEW findings.
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
	// Requests holds one entry per endpoint: its latest request.
	Requests []RequestFeedback `json:"requests"`
}

// RequestFeedback is the feedback on one request.
type RequestFeedback struct {
	// Path is the path the request was sent to.
	Path string `json:"path"`
	// Method is the request's HTTP method.
	Method string `json:"method"`
	// RequestTimestamp is when HMRC received the request.
	RequestTimestamp time.Time `json:"requestTimestamp"`
	// Code is VALID_HEADERS, INVALID_HEADERS, POTENTIALLY_INVALID_HEADERS or
	// NO_HEADERS.
	Code Code `json:"code"`
	// Headers holds the verdict on each header sent or missing.
	Headers []HeaderFeedback `json:"headers"`
	// CrossValidation holds the checks across several headers, passed or
	// failed.
	CrossValidation []CrossFeedback `json:"crossValidation"`
}

// HeaderFeedback is the feedback on one header of a request. Errors and
// Warnings are plain messages.
type HeaderFeedback struct {
	// Header is the header's name in lower case.
	Header string `json:"header"`
	// Value is the value sent; nil when the header was missing.
	Value *string `json:"value,omitempty"`
	// Code is VALID_HEADER, INVALID_HEADER, POTENTIALLY_INVALID_HEADER,
	// MISSING_HEADER, EMPTY_HEADER, UNEXPECTED_HEADER or
	// TEST_SCENARIO_HEADER.
	Code Code `json:"code"`
	// Errors are the error messages about the header.
	Errors []string `json:"errors"`
	// Warnings are the warning messages about the header.
	Warnings []string `json:"warnings"`
}

// CrossFeedback is the result of one check across several
// headers, such as Gov-Vendor-Forwarded against the two public IP headers.
type CrossFeedback struct {
	// Headers names the headers of the check, in lower case.
	Headers []string `json:"headers"`
	// Code is VALID_HEADERS or INVALID_HEADERS.
	Code Code `json:"code"`
	// Errors are the messages of a failed check.
	Errors []string `json:"errors"`
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
	c.absent(n, lname, CodeMissingHeader, msgHeaderRequired, msgMFAMissing, msgPrivateMissing)
}

// empty reports a required header sent with an empty value.
func (c *checker) empty(n HeaderName, lname string) {
	c.absent(n, lname, CodeEmptyHeader, msgValueRequired, msgMFAEmpty, msgPrivateEmpty)
}

// absent reports a required header without a value (missing or empty) with
// code and HMRC's message for it: msg in general, mfa for
// Gov-Client-Multi-Factor, private for the public IP and port headers. A
// header agreed with HMRC as not collectable, multi-factor and the licence
// IDs are warnings.
func (c *checker) absent(n HeaderName, lname string, code Code, msg, mfa, private string) {
	warn := c.agreed.Has(n)
	switch n {
	case GovClientMultiFactor:
		warn, msg = true, mfa
	case GovVendorLicenseIDs:
		warn = true
	case GovClientPublicPort, GovClientPublicIP, GovVendorPublicIP:
		msg = private
	}
	c.add(warn, code, msg, lname)
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

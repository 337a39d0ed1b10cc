package fraud

import (
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ClientValues are the values the originating device of a *_VIA_SERVER
// connection collects and sends to the vendor's server, which merges them
// with its own (ServerCollector.Headers). Browsers send them through the
// script of BrowserCollectorScript; desktop and mobile apps build them with
// DeviceCollector.ClientValues or by hand.
//
// On the wire they are a JSON object (every member optional):
//
//	{
//	  "deviceId": "beec798b-b366-47fa-b1f8-92cede14a1ce",
//	  "localIps": ["10.1.2.3", "fc00::"],
//	  "localIpsTimestamp": "2020-09-21T14:30:05.123Z",
//	  "macAddresses": ["ea:43:1a:5d:21:45"],
//	  "screens": [{"width": 1920, "height": 1080, "scalingFactor": "1.25", "colourDepth": 24}],
//	  "windowSize": {"width": 1256, "height": 803},
//	  "timezone": "UTC+01:00",
//	  "userAgent": {"osFamily": "Windows", "osVersion": "10", "deviceManufacturer": "Dell Inc.", "deviceModel": "XPS13"},
//	  "browserUserAgent": "Mozilla/5.0 (...)",
//	  "osUser": "DOMAIN\\alice",
//	  "vendorVersion": [{"key": "my-desktop-app", "value": "2.2.2"}],
//	  "licenseIds": [{"key": "my-desktop-app", "value": "<SHA-256 hex of the licence key>"}]
//	}
//
// scalingFactor may also be a JSON number (1.25); it is read from its text,
// never through a floating-point value. The values are untrusted: use
// ParseClientValues, which caps sizes and checks every value.
type ClientValues struct {
	// DeviceID is Gov-Client-Device-ID, the device's stored UUID
	// ("deviceId").
	DeviceID string
	// LocalIPs is Gov-Client-Local-IPs, the device's local addresses
	// ("localIps"; not sent for WEB_APP_VIA_SERVER).
	LocalIPs []netip.Addr
	// LocalIPsTimestamp is Gov-Client-Local-IPs-Timestamp, when LocalIPs
	// was read ("localIpsTimestamp", exactly yyyy-MM-ddThh:mm:ss.sssZ).
	LocalIPsTimestamp time.Time
	// MACAddresses is Gov-Client-MAC-Addresses, the device's 6-byte MAC
	// addresses ("macAddresses").
	MACAddresses []net.HardwareAddr
	// Screens is Gov-Client-Screens ("screens").
	Screens []Screen
	// WindowSize is Gov-Client-Window-Size ("windowSize").
	WindowSize WindowSize
	// Timezone is Gov-Client-Timezone, the device's UTC offset when the
	// values were collected ("timezone", UTC±hh:mm).
	Timezone Timezone
	// UserAgent is Gov-Client-User-Agent, the device's operating system
	// and hardware ("userAgent"; not sent for WEB_APP_VIA_SERVER).
	UserAgent UserAgent
	// BrowserJSUserAgent is Gov-Client-Browser-JS-User-Agent, the
	// browser's navigator.userAgent ("browserUserAgent"; sent only for
	// WEB_APP_VIA_SERVER).
	BrowserJSUserAgent string
	// OSUser is the operating-system user, sent as the "os" key of
	// Gov-Client-User-IDs.
	OSUser string
	// VendorVersion holds the client software's own name and version.
	VendorVersion []KeyValue
	// VendorLicenseIDs holds the hashed licences on the device.
	VendorLicenseIDs []KeyValue
}

// String describes cv without revealing any value.
func (cv ClientValues) String() string { return "fraud.ClientValues{...}" }

// GoString is like String.
func (cv ClientValues) GoString() string { return cv.String() }

// applyTo copies cv's values into f.
func (cv *ClientValues) applyTo(f *Headers) {
	f.DeviceID = cv.DeviceID
	f.LocalIPs = clone(cv.LocalIPs)
	f.LocalIPsTimestamp = cv.LocalIPsTimestamp
	f.MACAddresses = nil
	for _, m := range cv.MACAddresses {
		f.MACAddresses = append(f.MACAddresses, append(net.HardwareAddr(nil), m...))
	}
	f.Screens = clone(cv.Screens)
	f.WindowSize = cv.WindowSize
	f.Timezone = cv.Timezone
	f.UserAgent = cv.UserAgent
	f.BrowserJSUserAgent = cv.BrowserJSUserAgent
	if cv.OSUser != "" && f.ConnectionMethod != WebAppViaServer &&
		f.ConnectionMethod != MobileAppDirect && f.ConnectionMethod != MobileAppViaServer {
		f.UserIDs = append(f.UserIDs, KeyValue{Key: "os", Value: cv.OSUser})
	}
	f.VendorLicenseIDs = append(f.VendorLicenseIDs, cv.VendorLicenseIDs...)
}

// keepRequired clears the values f's connection method does not need.
func (f *Headers) keepRequired() {
	req := f.ConnectionMethod.RequiredHeaders()
	for n := range (allHeaders &^ req).All() {
		switch n {
		case GovClientBrowserJSUserAgent:
			f.BrowserJSUserAgent = ""
		case GovClientLocalIPs:
			f.LocalIPs = nil
		case GovClientLocalIPsTimestamp:
			f.LocalIPsTimestamp = time.Time{}
		case GovClientMACAddresses:
			f.MACAddresses = nil
		case GovClientMultiFactor:
			f.MultiFactor = nil
		case GovClientPublicIP:
			f.PublicIP = netip.Addr{}
		case GovClientPublicIPTimestamp:
			f.PublicIPTimestamp = time.Time{}
		case GovClientPublicPort:
			f.PublicPort = 0
		case GovClientScreens:
			f.Screens = nil
		case GovClientUserAgent:
			f.UserAgent = UserAgent{}
		case GovClientWindowSize:
			f.WindowSize = WindowSize{}
		case GovVendorForwarded:
			f.VendorForwarded = nil
		case GovVendorPublicIP:
			f.VendorPublicIP = netip.Addr{}
		}
	}
}

// Limits on client values, which come from an untrusted device.
const (
	maxClientValuesLen = 16 << 10 // the whole JSON document
	maxClientValueLen  = 4 << 10  // one string value
	maxClientListLen   = 64       // entries of one list
)

type kvJSON struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

type screenJSON struct {
	Width         int64           `json:"width"`
	Height        int64           `json:"height"`
	ScalingFactor json.RawMessage `json:"scalingFactor,omitempty"`
	ColourDepth   int64           `json:"colourDepth"`
}

type sizeJSON struct {
	Width  int64 `json:"width"`
	Height int64 `json:"height"`
}

type userAgentJSON struct {
	OSFamily           string `json:"osFamily,omitempty"`
	OSVersion          string `json:"osVersion,omitempty"`
	DeviceManufacturer string `json:"deviceManufacturer,omitempty"`
	DeviceModel        string `json:"deviceModel,omitempty"`
}

type clientValuesJSON struct {
	DeviceID          string         `json:"deviceId,omitempty"`
	LocalIPs          []string       `json:"localIps,omitempty"`
	LocalIPsTimestamp string         `json:"localIpsTimestamp,omitempty"`
	MACAddresses      []string       `json:"macAddresses,omitempty"`
	Screens           []screenJSON   `json:"screens,omitempty"`
	WindowSize        *sizeJSON      `json:"windowSize,omitempty"`
	Timezone          string         `json:"timezone,omitempty"`
	UserAgent         *userAgentJSON `json:"userAgent,omitempty"`
	BrowserUserAgent  string         `json:"browserUserAgent,omitempty"`
	OSUser            string         `json:"osUser,omitempty"`
	VendorVersion     []kvJSON       `json:"vendorVersion,omitempty"`
	LicenseIDs        []kvJSON       `json:"licenseIds,omitempty"`
}

// MarshalJSON writes cv in the documented JSON shape.
func (cv ClientValues) MarshalJSON() ([]byte, error) {
	w := clientValuesJSON{
		DeviceID:         cv.DeviceID,
		Timezone:         cv.Timezone.String(),
		BrowserUserAgent: cv.BrowserJSUserAgent,
		OSUser:           cv.OSUser,
	}
	for _, a := range cv.LocalIPs {
		w.LocalIPs = append(w.LocalIPs, a.String())
	}
	if !cv.LocalIPsTimestamp.IsZero() {
		w.LocalIPsTimestamp = cv.LocalIPsTimestamp.UTC().Format(ipTimestampLayout)
	}
	for _, m := range cv.MACAddresses {
		w.MACAddresses = append(w.MACAddresses, m.String())
	}
	for _, s := range cv.Screens {
		sf, _ := json.Marshal(string(s.ScalingFactor))
		w.Screens = append(w.Screens, screenJSON{int64(s.Width), int64(s.Height), sf, int64(s.ColourDepth)})
	}
	if cv.WindowSize != (WindowSize{}) {
		w.WindowSize = &sizeJSON{int64(cv.WindowSize.Width), int64(cv.WindowSize.Height)}
	}
	if cv.UserAgent != (UserAgent{}) {
		ua := userAgentJSON(cv.UserAgent)
		w.UserAgent = &ua
	}
	for _, kv := range cv.VendorVersion {
		w.VendorVersion = append(w.VendorVersion, kvJSON(kv))
	}
	for _, kv := range cv.VendorLicenseIDs {
		w.LicenseIDs = append(w.LicenseIDs, kvJSON(kv))
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads cv from the documented JSON shape with the checks of
// ParseClientValues.
func (cv *ClientValues) UnmarshalJSON(data []byte) error {
	parsed, err := ParseClientValues(data)
	if err != nil {
		return err
	}
	*cv = *parsed
	return nil
}

// ClientValuesError reports a client value that ParseClientValues refused.
// It names the JSON member, never the value.
type ClientValuesError struct {
	// Field is the JSON member at fault, for example "screens[0].width";
	// empty when the whole document is refused.
	Field string
	// Reason says which rule the value breaks.
	Reason string
}

// Error returns "fraud: client values: <field>: <reason>".
func (e *ClientValuesError) Error() string {
	if e.Field == "" {
		return "fraud: client values: " + e.Reason
	}
	return "fraud: client values: " + e.Field + ": " + e.Reason
}

// ParseClientValues reads the JSON document a client sent (see
// ClientValues). The values are untrusted, so it refuses a document over
// 16 KiB, a string over 4 KiB, a list over 64 entries, and any value that
// does not have the form its header needs; the error names the member,
// never the value. Unknown members are ignored.
func ParseClientValues(data []byte) (*ClientValues, error) {
	if len(data) > maxClientValuesLen {
		return nil, &ClientValuesError{Reason: "document is larger than " + strconv.Itoa(maxClientValuesLen) + " bytes"}
	}
	var w clientValuesJSON
	if err := json.Unmarshal(data, &w); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &ClientValuesError{Field: te.Field, Reason: "has the wrong JSON type"}
		}
		return nil, &ClientValuesError{Reason: "not a JSON object"}
	}
	cv := &ClientValues{}
	bad := func(field, reason string) (*ClientValues, error) {
		return nil, &ClientValuesError{Field: field, Reason: reason}
	}
	text := func(field, s string) error {
		if len(s) > maxClientValueLen {
			return &ClientValuesError{Field: field, Reason: "longer than " + strconv.Itoa(maxClientValueLen) + " bytes"}
		}
		if r := checkText(s); r != "" {
			return &ClientValuesError{Field: field, Reason: r}
		}
		return nil
	}
	if w.DeviceID != "" {
		if !isUUID(w.DeviceID) {
			return bad("deviceId", "not a UUID")
		}
		cv.DeviceID = strings.ToLower(w.DeviceID)
	}
	lists := map[string]int{"localIps": len(w.LocalIPs), "macAddresses": len(w.MACAddresses),
		"screens": len(w.Screens), "vendorVersion": len(w.VendorVersion), "licenseIds": len(w.LicenseIDs)}
	for field, n := range lists {
		if n > maxClientListLen {
			return bad(field, "more than "+strconv.Itoa(maxClientListLen)+" entries")
		}
	}
	for i, s := range w.LocalIPs {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return bad("localIps["+strconv.Itoa(i)+"]", "not an IP address")
		}
		cv.LocalIPs = append(cv.LocalIPs, a)
	}
	if w.LocalIPsTimestamp != "" {
		t, ok := parseIPTimestamp(w.LocalIPsTimestamp)
		if !ok {
			return bad("localIpsTimestamp", "not a UTC timestamp in the format yyyy-MM-ddThh:mm:ss.sssZ")
		}
		cv.LocalIPsTimestamp = t
	}
	for i, s := range w.MACAddresses {
		m, err := net.ParseMAC(s)
		if err != nil || len(m) != 6 {
			return bad("macAddresses["+strconv.Itoa(i)+"]", "not a 6-byte MAC address")
		}
		cv.MACAddresses = append(cv.MACAddresses, m)
	}
	for i, s := range w.Screens {
		field := "screens[" + strconv.Itoa(i) + "]"
		sf, ok := scalingFactorJSON(s.ScalingFactor)
		sc := Screen{Width: clampInt(s.Width), Height: clampInt(s.Height), ScalingFactor: sf, ColourDepth: clampInt(s.ColourDepth)}
		if r := sc.check(); !ok || r != "" {
			if !ok {
				r = "scaling factor must be a positive decimal number"
			}
			return bad(field, r)
		}
		cv.Screens = append(cv.Screens, sc)
	}
	if w.WindowSize != nil {
		ws := WindowSize{clampInt(w.WindowSize.Width), clampInt(w.WindowSize.Height)}
		if ws.Width <= 0 || ws.Height <= 0 {
			return bad("windowSize", "width and height must be positive whole numbers")
		}
		cv.WindowSize = ws
	}
	if w.Timezone != "" {
		z, ok := parseTimezone(w.Timezone)
		if !ok {
			return bad("timezone", "not a timezone in the format UTC±hh:mm")
		}
		cv.Timezone = z
	}
	if w.UserAgent != nil {
		ua := UserAgent(*w.UserAgent)
		for field, s := range map[string]string{"userAgent.osFamily": ua.OSFamily, "userAgent.osVersion": ua.OSVersion,
			"userAgent.deviceManufacturer": ua.DeviceManufacturer, "userAgent.deviceModel": ua.DeviceModel} {
			if err := text(field, s); err != nil {
				return nil, err
			}
		}
		cv.UserAgent = ua
	}
	if w.BrowserUserAgent != "" {
		if len(w.BrowserUserAgent) > maxClientValueLen {
			return bad("browserUserAgent", "longer than "+strconv.Itoa(maxClientValueLen)+" bytes")
		}
		if r := checkRaw(w.BrowserUserAgent, true); r != "" {
			return bad("browserUserAgent", r)
		}
		cv.BrowserJSUserAgent = w.BrowserUserAgent
	}
	if err := text("osUser", w.OSUser); err != nil {
		return nil, err
	}
	cv.OSUser = w.OSUser
	for _, l := range []struct {
		field string
		in    []kvJSON
		out   *[]KeyValue
	}{{"vendorVersion", w.VendorVersion, &cv.VendorVersion}, {"licenseIds", w.LicenseIDs, &cv.VendorLicenseIDs}} {
		for i, kv := range l.in {
			field := l.field + "[" + strconv.Itoa(i) + "]"
			if kv.Key == "" || kv.Value == "" {
				return bad(field, "key and value are required")
			}
			if err := text(field+".key", kv.Key); err != nil {
				return nil, err
			}
			if err := text(field+".value", kv.Value); err != nil {
				return nil, err
			}
			*l.out = append(*l.out, KeyValue(kv))
		}
	}
	return cv, nil
}

// clampInt converts a JSON integer to int, mapping values outside 1..1e6
// (no screen or window is larger) to 0, which the checks refuse.
func clampInt(n int64) int {
	if n < 1 || n > 1_000_000 {
		return 0
	}
	return int(n)
}

// scalingFactorJSON reads a scaling factor given as a JSON string or number
// from its text.
func scalingFactorJSON(raw json.RawMessage) (ScalingFactor, bool) {
	s := strings.TrimSpace(string(raw))
	if strings.HasPrefix(s, `"`) {
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", false
		}
	}
	sf := ScalingFactor(s)
	return sf, sf.valid()
}

package fraud

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	_ "embed" // the browser collector script
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/go-mtd/vat/internal/uuid"
)

// Source supplies the fraud prevention headers for one request. An HMRC API
// client (such as the vat package's Client) calls it immediately before each
// request, and again before each retry, so that timestamps are fresh.
type Source interface {
	FraudHeaders(ctx context.Context) (*Headers, error)
}

// HeaderWriter is implemented by sources that can set their encoded headers
// on a request directly, without building a Headers value each time. A
// client should prefer it to FraudHeaders when a source implements it: the
// source returned by Static encodes its headers once and only copies them
// per request. WriteFraudHeaders sets every fraud prevention header the
// source has on h (removing any other one h held) or, on error, leaves h
// unchanged and returns the reason; it returns ctx.Err() when ctx is done.
type HeaderWriter interface {
	Source
	WriteFraudHeaders(ctx context.Context, h http.Header) error
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context) (*Headers, error)

// FraudHeaders calls fn.
func (fn SourceFunc) FraudHeaders(ctx context.Context) (*Headers, error) {
	return fn(ctx)
}

// Static returns a source that answers a deep copy of f on every call. It
// does not refresh timestamps: they are sent as f holds them. Use it for
// headers built once per end-user request (ServerCollector.Headers) or in
// tests; use a DeviceCollector for values that must be collected immediately
// before each request.
//
// The headers never change, so the source encodes them once, when it is
// made, and implements HeaderWriter: a client sends the same encoding with
// every request. Headers that cannot be sent (see Headers.WriteTo) make every
// WriteFraudHeaders call fail with the same error.
func Static(f Headers) Source {
	s := &staticSource{fixed: f.Clone()}
	s.encoded, s.err = s.fixed.encodeValues(true)
	return s
}

// staticSource is the source Static returns: the headers, and their encoding
// or the reason they cannot be sent.
type staticSource struct {
	fixed   *Headers
	encoded encodedHeaders
	err     error
}

// WriteFraudHeaders sets a copy of the encoded headers on h, or returns why
// they cannot be sent.
func (s *staticSource) WriteFraudHeaders(ctx context.Context, h http.Header) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.err != nil {
		return s.err
	}
	s.encoded.setOn(h, make([]string, len(s.encoded.vals)))
	return nil
}

// FraudHeaders returns a deep copy of the headers.
func (s *staticSource) FraudHeaders(ctx context.Context) (*Headers, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.fixed.Clone(), nil
}

// String describes the source as Headers.String does, without values.
func (s *staticSource) String() string {
	return "fraud.Static(" + s.fixed.String() + ")"
}

// GoString is String, so that %#v does not print values either.
func (s *staticSource) GoString() string { return s.String() }

// Format prints String for every verb, so that %+v and %x cannot reach the
// values either.
func (s *staticSource) Format(st fmt.State, _ rune) { _, _ = io.WriteString(st, s.String()) }

// HashLicenseKey returns the SHA-256 of a licence key as 64 lower-case hex
// digits, the form Gov-Vendor-License-IDs expects ("hashed license keys";
// use the same function every time).
func HashLicenseKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewDeviceID returns a random (version 4) UUID in lower case, read from
// crypto/rand, as Gov-Client-Device-ID expects. Generate it once per device
// and store it; DeviceCollector does both.
func NewDeviceID() (string, error) { return newUUID(rand.Reader) }

func newUUID(r io.Reader) (string, error) {
	id, err := uuid.New(r)
	if err != nil {
		return "", fmt.Errorf("fraud: generating a device ID: %w", err)
	}
	return id, nil
}

// NetworkInterface is what a DeviceCollector reads about one network
// interface of the machine.
type NetworkInterface struct {
	Name         string
	Up           bool
	Loopback     bool
	HardwareAddr net.HardwareAddr
	Addrs        []netip.Addr
}

// DeviceProbe is how a DeviceCollector reads the machine. Every nil field
// reads the real machine; tests set them to make collection deterministic.
type DeviceProbe struct {
	// Interfaces lists the network interfaces (default: net.Interfaces).
	Interfaces func() ([]NetworkInterface, error)
	// Now is the clock (default: time.Now). Its location gives the UTC
	// offset sent in Gov-Client-Timezone.
	Now func() time.Time
	// OSUser returns the operating-system user name, with its domain when
	// there is one (default: os/user.Current).
	OSUser func() (string, error)
	// OSInfo returns the operating system family and version and the device
	// manufacturer and model (default: read from the operating system, best
	// effort; empty fields are not known).
	OSInfo func() UserAgent
	// UserConfigDir returns the user's configuration directory, under which
	// the device ID is stored (default: os.UserConfigDir).
	UserConfigDir func() (string, error)
	// Random is the source of randomness for new device IDs (default:
	// crypto/rand.Reader).
	Random io.Reader
}

// DeviceCollectorConfig configures a DeviceCollector.
type DeviceCollectorConfig struct {
	// ConnectionMethod is the method of the requests: DesktopAppDirect
	// (the default), MobileAppDirect, BatchProcessDirect or OtherDirect, for
	// which Headers gives the whole set; or DesktopAppViaServer,
	// MobileAppViaServer or OtherViaServer, for which ClientValues gives the
	// client-side values to send to your server. WebAppViaServer is not
	// supported: browsers use the script of BrowserCollectorScript.
	ConnectionMethod ConnectionMethod

	// AppName names the directory the device ID is stored in:
	// <os.UserConfigDir()>/<AppName>/device-id. Required unless DeviceIDDir
	// is set.
	AppName string
	// DeviceIDDir, when set, is the directory of the device-id file instead.
	DeviceIDDir string

	// ProductName is Gov-Vendor-Product-Name.
	ProductName string
	// VendorVersion is Gov-Vendor-Version, for example
	// {{"my-application", "1.6.0"}}.
	VendorVersion []KeyValue
	// VendorLicenseIDs is Gov-Vendor-License-IDs; hash the keys with
	// HashLicenseKey.
	VendorLicenseIDs []KeyValue
	// UserIDs are your application's identifiers of the signed-in user; the
	// collector puts the operating-system user ("os") first, except for
	// mobile methods.
	UserIDs []KeyValue
	// Screens and WindowSize are the display values your user interface
	// toolkit reports (required for desktop and mobile methods).
	Screens    []Screen
	WindowSize WindowSize
	// MultiFactor describes the user's sign-in factors.
	MultiFactor []MultiFactor
	// UserAgent overrides the detected operating system and device: each
	// non-empty field replaces the detected one.
	UserAgent UserAgent

	// AgreedMissing and AgreedEmpty are copied to every Headers.
	AgreedMissing HeaderSet
	AgreedEmpty   HeaderSet

	// Update, when set, is called on every collection after the machine has
	// been read, to set values that change between requests (screens, window
	// size, the signed-in user's IDs and factors).
	Update func(ctx context.Context, f *Headers) error

	// Probe reads the machine; its nil fields read the real machine.
	Probe DeviceProbe
}

// maxCollected caps how many local addresses or MAC addresses are collected,
// so that a machine with hundreds of virtual interfaces cannot produce an
// oversized header.
const maxCollected = 64

// DeviceCollector collects the fraud prevention headers of an application
// running on the originating device: local IP and MAC addresses of the
// interfaces that are up, the operating-system user, the operating system
// and device, the UTC offset at request time, and a device ID generated once
// (a random UUID) and stored in the user's configuration directory, plus the
// values the application supplies. It is a Source and is safe for
// concurrent use.
type DeviceCollector struct {
	cfg   DeviceCollectorConfig
	probe DeviceProbe
	mu    sync.Mutex // serialises device-ID file access
}

// NewDeviceCollector returns a collector for cfg, or an error naming the
// setting that is wrong.
func NewDeviceCollector(cfg DeviceCollectorConfig) (*DeviceCollector, error) {
	if cfg.ConnectionMethod == "" {
		cfg.ConnectionMethod = DesktopAppDirect
	}
	switch {
	case !cfg.ConnectionMethod.Valid():
		return nil, errors.New("fraud: DeviceCollectorConfig.ConnectionMethod: not one of the eight connection methods")
	case cfg.ConnectionMethod == WebAppViaServer:
		return nil, errors.New("fraud: DeviceCollectorConfig.ConnectionMethod: WEB_APP_VIA_SERVER values come from the browser (see BrowserCollectorScript)")
	case cfg.DeviceIDDir == "" && (cfg.AppName == "" || cfg.AppName == "." || cfg.AppName == ".." ||
		strings.ContainsAny(cfg.AppName, `/\`)):
		return nil, errors.New("fraud: DeviceCollectorConfig.AppName: required (a directory name) unless DeviceIDDir is set")
	}
	p := cfg.Probe
	if p.Interfaces == nil {
		p.Interfaces = systemInterfaces
	}
	if p.Now == nil {
		p.Now = time.Now
	}
	if p.OSUser == nil {
		p.OSUser = systemUser
	}
	if p.OSInfo == nil {
		p.OSInfo = systemOSInfo
	}
	if p.UserConfigDir == nil {
		p.UserConfigDir = os.UserConfigDir
	}
	if p.Random == nil {
		p.Random = rand.Reader
	}
	return &DeviceCollector{cfg: cfg, probe: p}, nil
}

// Headers collects the headers for one request made directly to HMRC.
// For the *_VIA_SERVER methods it returns an error: send ClientValues to your
// server, which builds the headers with ServerCollector.
func (c *DeviceCollector) FraudHeaders(ctx context.Context) (*Headers, error) {
	if c.cfg.ConnectionMethod.ViaServer() {
		return nil, errors.New("fraud: DeviceCollector.Headers: " + string(c.cfg.ConnectionMethod) +
			" headers are built by your server; send it ClientValues")
	}
	cv, err := c.ClientValues(ctx)
	if err != nil {
		return nil, err
	}
	m := c.cfg.ConnectionMethod
	f := &Headers{
		ConnectionMethod:  m,
		VendorProductName: c.cfg.ProductName,
		VendorVersion:     cloneKV(c.cfg.VendorVersion),
		MultiFactor:       clone(c.cfg.MultiFactor),
		AgreedMissing:     c.cfg.AgreedMissing,
		AgreedEmpty:       c.cfg.AgreedEmpty,
	}
	cv.applyTo(f)
	f.UserIDs = append(f.UserIDs, c.cfg.UserIDs...)
	f.keepRequired()
	if c.cfg.Update != nil {
		if err := c.cfg.Update(ctx, f); err != nil {
			return nil, err
		}
	}
	return f, nil
}

// ClientValues collects the values the originating device contributes, as a
// desktop, mobile or other client app of a *_VIA_SERVER method sends them to
// its server (marshal the result with encoding/json). For direct methods it
// is the device part of Headers.
func (c *DeviceCollector) ClientValues(ctx context.Context) (*ClientValues, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	m := c.cfg.ConnectionMethod
	req := m.RequiredHeaders()
	now := c.probe.Now()
	id, err := c.DeviceID()
	if err != nil {
		return nil, err
	}
	cv := &ClientValues{
		DeviceID:         id,
		Timezone:         TimezoneOf(now),
		VendorVersion:    cloneKV(c.cfg.VendorVersion),
		VendorLicenseIDs: cloneKV(c.cfg.VendorLicenseIDs),
	}
	ifaces, err := c.probe.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("fraud: reading the network interfaces: %w", err)
	}
	cv.LocalIPs, cv.MACAddresses = fromInterfaces(ifaces)
	cv.LocalIPsTimestamp = now
	if !req.Has(GovClientMACAddresses) {
		cv.MACAddresses = nil
	}
	ua := c.probe.OSInfo()
	over := c.cfg.UserAgent
	for _, p := range [...]struct {
		dst *string
		src string
	}{
		{&ua.OSFamily, over.OSFamily}, {&ua.OSVersion, over.OSVersion},
		{&ua.DeviceManufacturer, over.DeviceManufacturer}, {&ua.DeviceModel, over.DeviceModel},
	} {
		if p.src != "" {
			*p.dst = p.src
		}
	}
	cv.UserAgent = ua
	if m != MobileAppDirect && m != MobileAppViaServer {
		if name, err := c.probe.OSUser(); err == nil {
			cv.OSUser = name
		}
	}
	if req.Has(GovClientScreens) {
		cv.Screens = clone(c.cfg.Screens)
		cv.WindowSize = c.cfg.WindowSize
	}
	return cv, nil
}

// DeviceID returns the device ID stored in the collector's directory,
// generating and storing a new random UUID (file mode 0600, written
// atomically) when there is none or the stored one is not a UUID. It is read
// on every call, so a deleted ID is replaced as the specification asks.
func (c *DeviceCollector) DeviceID() (string, error) {
	dir := c.cfg.DeviceIDDir
	if dir == "" {
		base, err := c.probe.UserConfigDir()
		if err != nil {
			return "", fmt.Errorf("fraud: finding the user configuration directory: %w", withoutPath(err))
		}
		dir = filepath.Join(base, c.cfg.AppName)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return loadDeviceID(dir, c.probe.Random)
}

const deviceIDFile = "device-id"

func loadDeviceID(dir string, random io.Reader) (string, error) {
	path := filepath.Join(dir, deviceIDFile)
	data, err := os.ReadFile(path)
	exists := err == nil
	if exists {
		if id := strings.TrimSpace(string(data)); isUUID(id) {
			return strings.ToLower(id), nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("fraud: reading the device ID: %w", withoutPath(err))
	}
	id, err := newUUID(random)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("fraud: storing the device ID: %w", withoutPath(err))
	}
	tmp, err := os.CreateTemp(dir, ".device-id-*")
	if err != nil {
		return "", fmt.Errorf("fraud: storing the device ID: %w", withoutPath(err))
	}
	defer os.Remove(tmp.Name())
	if err := writeAndClose(tmp, id+"\n"); err != nil {
		return "", fmt.Errorf("fraud: storing the device ID: %w", withoutPath(err))
	}
	if !exists {
		// Link fails if another process stored an ID meanwhile: use theirs.
		err := os.Link(tmp.Name(), path)
		if errors.Is(err, fs.ErrExist) {
			if data, err := os.ReadFile(path); err == nil && isUUID(strings.TrimSpace(string(data))) {
				return strings.ToLower(strings.TrimSpace(string(data))), nil
			}
		} else if err == nil {
			return id, nil
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", fmt.Errorf("fraud: storing the device ID: %w", withoutPath(err))
	}
	return id, nil
}

// withoutPath drops the file names from an operating-system error: paths
// under the user's home directory carry the user name, which is a fraud
// prevention header value.
func withoutPath(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}

func writeAndClose(f *os.File, s string) error {
	err := f.Chmod(0o600)
	if err == nil {
		_, err = f.WriteString(s)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// fromInterfaces returns the addresses and MAC addresses of the interfaces
// that are up and not loopback, without loopback addresses, zones, all-zero
// or non-6-byte MACs or repeats, at most maxCollected of each.
func fromInterfaces(ifaces []NetworkInterface) ([]netip.Addr, []net.HardwareAddr) {
	var ips []netip.Addr
	var macs []net.HardwareAddr
	for _, ifc := range ifaces {
		if !ifc.Up || ifc.Loopback {
			continue
		}
		if m := ifc.HardwareAddr; len(m) == 6 && !bytes.Equal(m, make([]byte, 6)) && len(macs) < maxCollected &&
			!containsMAC(macs, m) {
			macs = append(macs, append(net.HardwareAddr(nil), m...))
		}
		for _, a := range ifc.Addrs {
			a = a.Unmap().WithZone("")
			if !a.IsValid() || a.IsLoopback() || a.IsUnspecified() || len(ips) >= maxCollected || containsAddr(ips, a) {
				continue
			}
			ips = append(ips, a)
		}
	}
	return ips, macs
}

func containsMAC(ms []net.HardwareAddr, m net.HardwareAddr) bool {
	for _, x := range ms {
		if bytes.Equal(x, m) {
			return true
		}
	}
	return false
}

func containsAddr(as []netip.Addr, a netip.Addr) bool {
	for _, x := range as {
		if x == a {
			return true
		}
	}
	return false
}

func systemInterfaces() ([]NetworkInterface, error) {
	ifaces, err := net.Interfaces()
	if err != nil {
		return nil, err
	}
	out := make([]NetworkInterface, 0, len(ifaces))
	for _, ifc := range ifaces {
		ni := NetworkInterface{
			Name:         ifc.Name,
			Up:           ifc.Flags&net.FlagUp != 0,
			Loopback:     ifc.Flags&net.FlagLoopback != 0,
			HardwareAddr: ifc.HardwareAddr,
		}
		if addrs, err := ifc.Addrs(); err == nil {
			for _, a := range addrs {
				var ip net.IP
				switch a := a.(type) {
				case *net.IPNet:
					ip = a.IP
				case *net.IPAddr:
					ip = a.IP
				}
				if na, ok := netip.AddrFromSlice(ip); ok {
					ni.Addrs = append(ni.Addrs, na.Unmap())
				}
			}
		}
		out = append(out, ni)
	}
	return out, nil
}

func systemUser() (string, error) {
	u, err := user.Current()
	if err != nil {
		return "", err
	}
	return u.Username, nil
}

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
	DeviceID           string
	LocalIPs           []netip.Addr
	LocalIPsTimestamp  time.Time
	MACAddresses       []net.HardwareAddr
	Screens            []Screen
	WindowSize         WindowSize
	Timezone           Timezone
	UserAgent          UserAgent
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
	Field  string // for example "screens[0].width"
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

// ServerCollectorConfig configures a ServerCollector.
type ServerCollectorConfig struct {
	// VendorPublicIP is Gov-Vendor-Public-IP: the public address your DNS
	// name resolves to (your load balancer, WAF or CDN). Required.
	VendorPublicIP netip.Addr
	// TrustedProxies are the networks of your own reverse proxies and load
	// balancers. Only when the immediate peer is in one of them are the
	// Forwarded (RFC 7239) or X-Forwarded-For headers believed.
	TrustedProxies []netip.Prefix
	// ClientPortHeader, when set, names a header your trusted front proxy
	// sets to the client's source port, or to "address:port" (for example
	// CloudFront-Viewer-Address). It is read only when the forwarded chain
	// gives no port for the client: a Forwarded "for" node may carry one, and
	// so may an X-Forwarded-For entry ("198.51.100.23:50123" or
	// "[2001:db8::1]:443", as Azure Application Gateway sends). Only the port
	// of the client's own entry is used. Without a port,
	// Gov-Client-Public-Port cannot be sent.
	ClientPortHeader string
	// VendorHops lists the further hops over the internet between your own
	// services that terminate TLS, in order, after the first hop
	// (by=VendorPublicIP&for=<client>), which is always sent. Behind a CDN
	// or WAF, By is the public address your origin receives requests on and
	// For the public address the CDN or WAF sent the request from. A zero
	// For is read from the request: the n-th vendor hop's For is the n-th
	// address after the client's in the Forwarded or X-Forwarded-For chain
	// (a CDN's egress address, which changes from request to request; list
	// the CDN's published ranges in TrustedProxies so that the chain is
	// believed). When VendorHops is set, it replaces the hops read from the
	// by parameters of a Forwarded header.
	VendorHops []ForwardedHop

	// ProductName is Gov-Vendor-Product-Name.
	ProductName string
	// VendorVersion holds the versions of your server-side software; they
	// follow the client's own entry in Gov-Vendor-Version.
	VendorVersion []KeyValue
	// VendorLicenseIDs holds licences held server-side; they follow the
	// device's.
	VendorLicenseIDs []KeyValue

	// DeviceIDCookie names the browser cookie holding the device ID
	// (default "mtd-device-id"); ValuesCookie names the cookie the browser
	// script stores its values in (default "mtd-fph").
	DeviceIDCookie string
	ValuesCookie   string
	// InsecureCookies lets Middleware set the device-ID cookie without the
	// Secure attribute on plain-HTTP requests (local development only).
	InsecureCookies bool

	// AgreedMissing and AgreedEmpty are copied to every Headers.
	AgreedMissing HeaderSet
	AgreedEmpty   HeaderSet

	// Now is the clock (default time.Now); Random the source for new device
	// IDs (default crypto/rand.Reader).
	Now    func() time.Time
	Random io.Reader
}

// ServerCollector builds the fraud prevention headers of the *_VIA_SERVER
// connection methods on the vendor's server, for one end-user request at a
// time: the client's public address, port and the time the request arrived,
// read from the inbound *http.Request; Gov-Vendor-Forwarded from the trusted
// proxy chain; the configured vendor values; and the values the originating
// device sent (ClientValues, from the browser script's cookies or a client
// app's JSON). It is safe for concurrent use.
type ServerCollector struct {
	cfg ServerCollectorConfig
}

// NewServerCollector returns a collector for cfg, or an error naming the
// setting that is wrong.
func NewServerCollector(cfg ServerCollectorConfig) (*ServerCollector, error) {
	if !cfg.VendorPublicIP.IsValid() || cfg.VendorPublicIP.Zone() != "" {
		return nil, errors.New("fraud: ServerCollectorConfig.VendorPublicIP: required")
	}
	for i, p := range cfg.TrustedProxies {
		if !p.IsValid() {
			return nil, fmt.Errorf("fraud: ServerCollectorConfig.TrustedProxies[%d]: not a valid prefix", i)
		}
	}
	for i, h := range cfg.VendorHops {
		if !isPublicIP(h.By) || h.By.Zone() != "" {
			return nil, fmt.Errorf("fraud: ServerCollectorConfig.VendorHops[%d].By: must be a public IP address", i)
		}
		if h.For.IsValid() && (!isPublicIP(h.For) || h.For.Zone() != "") {
			return nil, fmt.Errorf("fraud: ServerCollectorConfig.VendorHops[%d].For: must be a public IP address, or zero to read it from the request", i)
		}
	}
	if cfg.DeviceIDCookie == "" {
		cfg.DeviceIDCookie = "mtd-device-id"
	}
	if cfg.ValuesCookie == "" {
		cfg.ValuesCookie = "mtd-fph"
	}
	for _, name := range []string{cfg.DeviceIDCookie, cfg.ValuesCookie, cfg.ClientPortHeader} {
		if strings.ContainsAny(name, " \t\r\n;,=\"") {
			return nil, errors.New("fraud: ServerCollectorConfig: cookie and header names must be HTTP tokens")
		}
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Random == nil {
		cfg.Random = rand.Reader
	}
	cfg.TrustedProxies = clone(cfg.TrustedProxies)
	cfg.VendorHops = clone(cfg.VendorHops)
	cfg.VendorVersion = cloneKV(cfg.VendorVersion)
	cfg.VendorLicenseIDs = cloneKV(cfg.VendorLicenseIDs)
	return &ServerCollector{cfg: cfg}, nil
}

type arrivalKey struct{}

// Middleware records when each request arrived, for
// Gov-Client-Public-IP-Timestamp, and gives browsers without a valid
// device-ID cookie a new random one (the browser script does the same, and
// keeps a copy in local storage). Without it, Headers uses the time it is
// called.
func (s *ServerCollector) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := context.WithValue(r.Context(), arrivalKey{}, s.cfg.Now())
		r = r.Clone(ctx)
		if c, err := r.Cookie(s.cfg.DeviceIDCookie); err != nil || !isUUID(c.Value) {
			if id, err := newUUID(s.cfg.Random); err == nil {
				cookie := &http.Cookie{Name: s.cfg.DeviceIDCookie, Value: id, Path: "/",
					MaxAge: 400 * 24 * 60 * 60, SameSite: http.SameSiteLaxMode,
					Secure: r.TLS != nil || !s.cfg.InsecureCookies}
				http.SetCookie(w, cookie)
				kept := r.Cookies()
				r.Header.Del("Cookie")
				for _, c := range kept {
					if c.Name != s.cfg.DeviceIDCookie {
						r.AddCookie(c)
					}
				}
				r.AddCookie(&http.Cookie{Name: cookie.Name, Value: id})
			}
		}
		next.ServeHTTP(w, r)
	})
}

// BrowserValues reads the values the browser script (BrowserCollectorScript)
// stored in r's cookies, with the checks of ParseClientValues. The device ID
// is taken from the device-ID cookie. A request without the values cookie
// gives ClientValues with only the device ID, if any.
func (s *ServerCollector) BrowserValues(r *http.Request) (*ClientValues, error) {
	cv := &ClientValues{}
	if c, err := r.Cookie(s.cfg.ValuesCookie); err == nil {
		if len(c.Value) > maxClientValuesLen {
			return nil, &ClientValuesError{Field: "cookie " + s.cfg.ValuesCookie, Reason: "too large"}
		}
		raw, err := url.PathUnescape(c.Value)
		if err != nil {
			return nil, &ClientValuesError{Field: "cookie " + s.cfg.ValuesCookie, Reason: "not URI-encoded"}
		}
		if cv, err = ParseClientValues([]byte(raw)); err != nil {
			return nil, err
		}
	}
	if c, err := r.Cookie(s.cfg.DeviceIDCookie); err == nil {
		if !isUUID(c.Value) {
			return nil, &ClientValuesError{Field: "cookie " + s.cfg.DeviceIDCookie, Reason: "not a UUID"}
		}
		cv.DeviceID = strings.ToLower(c.Value)
	}
	return cv, nil
}

// EndUser holds what your server knows about the signed-in end user of one
// request.
type EndUser struct {
	// UserIDs are your identifiers of the user (the "os" key comes from the
	// device's ClientValues).
	UserIDs []KeyValue
	// MultiFactor describes the factors of the user's sign-in to your
	// software.
	MultiFactor []MultiFactor
}

// Headers builds the headers of one end-user request r, received with
// connection method m (one of the *_VIA_SERVER methods), from the device's
// values cv (nil for none) and the user u. The result keeps only the headers
// m needs; the Client checks it before use. For WEB_APP_VIA_SERVER only the
// browser's own values are taken from cv (device ID, screens, window size,
// timezone, user agent). For DESKTOP_APP_VIA_SERVER,
// MOBILE_APP_VIA_SERVER and OTHER_VIA_SERVER both the client (cv) and the
// server (configuration) must contribute a Gov-Vendor-Version entry.
func (s *ServerCollector) Headers(r *http.Request, m ConnectionMethod, cv *ClientValues, u EndUser) (*Headers, error) {
	if !m.ViaServer() {
		return nil, errors.New("fraud: ServerCollector.Headers: the connection method must be one of the *_VIA_SERVER methods")
	}
	if cv == nil {
		cv = &ClientValues{}
	}
	if m == WebAppViaServer {
		// A browser contributes only what the browser script collects; it
		// cannot add versions, licences or an operating-system user.
		cv = &ClientValues{DeviceID: cv.DeviceID, Screens: cv.Screens, WindowSize: cv.WindowSize,
			Timezone: cv.Timezone, BrowserJSUserAgent: cv.BrowserJSUserAgent}
	}
	if m != WebAppViaServer && (len(cv.VendorVersion) == 0 || len(s.cfg.VendorVersion) == 0) {
		return nil, errors.New("fraud: ServerCollector.Headers: " + string(m) +
			" needs a Gov-Vendor-Version entry from the client and one from the server")
	}
	f := &Headers{
		ConnectionMethod:  m,
		VendorPublicIP:    s.cfg.VendorPublicIP,
		VendorProductName: s.cfg.ProductName,
		AgreedMissing:     s.cfg.AgreedMissing,
		AgreedEmpty:       s.cfg.AgreedEmpty,
	}
	cv.applyTo(f)
	f.UserIDs = append(f.UserIDs, u.UserIDs...)
	f.MultiFactor = clone(u.MultiFactor)
	f.VendorVersion = append(cloneKV(cv.VendorVersion), s.cfg.VendorVersion...)
	f.VendorLicenseIDs = append(f.VendorLicenseIDs, s.cfg.VendorLicenseIDs...)

	ip, port, hops, err := s.client(r)
	if err != nil {
		return nil, err
	}
	f.PublicIP, f.PublicPort = ip, port
	f.PublicIPTimestamp = s.cfg.Now()
	if t, ok := r.Context().Value(arrivalKey{}).(time.Time); ok {
		f.PublicIPTimestamp = t
	}
	f.VendorForwarded = append([]ForwardedHop{{By: s.cfg.VendorPublicIP, For: ip}}, hops...)
	f.keepRequired()
	return f, nil
}

// Source is Headers wrapped in Static, for the Client's per-call
// fraud header option.
func (s *ServerCollector) Source(r *http.Request, m ConnectionMethod, cv *ClientValues, u EndUser) (Source, error) {
	f, err := s.Headers(r, m, cv, u)
	if err != nil {
		return nil, err
	}
	return Static(*f), nil
}

func (s *ServerCollector) trusted(a netip.Addr) bool {
	a = a.Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// client finds the originating device's address and port: the immediate
// peer, or, when the peer is a trusted proxy, the nearest untrusted address
// of the Forwarded or X-Forwarded-For chain. hops are the further internet
// hops the trusted proxies declared (Forwarded elements with public by and
// for addresses).
func (s *ServerCollector) client(r *http.Request) (netip.Addr, uint16, []ForwardedHop, error) {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}, 0, nil, errors.New("fraud: ServerCollector: the request's remote address is not an IP address and port")
	}
	ip, port := peer.Addr().Unmap().WithZone(""), peer.Port()
	if !s.trusted(ip) {
		hops, err := s.vendorHops(nil)
		if err != nil {
			return netip.Addr{}, 0, nil, err
		}
		return ip, port, hops, nil
	}
	var nodes []forwardedNode
	var hops []ForwardedHop
	if fwd := r.Header.Values("Forwarded"); len(fwd) > 0 {
		nodes = parseForwarded(strings.Join(fwd, ","))
	} else {
		// Entries may carry the sender's port (Azure Application Gateway
		// sends "198.51.100.23:50123", and "[2001:db8::1]:443" for IPv6).
		for _, v := range r.Header.Values("X-Forwarded-For") {
			for el := range strings.SplitSeq(v, ",") {
				a, p, ok := parseForwardedNode(strings.TrimSpace(el))
				nodes = append(nodes, forwardedNode{forAddr: a, port: p, ok: ok})
			}
		}
	}
	// Walk right to left past the trusted proxies to the client.
	ci := -1
	for i := len(nodes) - 1; i >= 0; i-- {
		if !nodes[i].ok {
			return netip.Addr{}, 0, nil, errors.New("fraud: ServerCollector: a trusted proxy forwarded a client address that is not an IP address")
		}
		ci = i
		if !s.trusted(nodes[i].forAddr) {
			break
		}
	}
	if ci < 0 {
		return netip.Addr{}, 0, nil, errors.New("fraud: ServerCollector: a trusted proxy forwarded no client address")
	}
	// The port of the client's own entry is its public port; the ports of
	// the entries of your proxies are of no use.
	ip, port = nodes[ci].forAddr.Unmap().WithZone(""), nodes[ci].port
	switch {
	case len(s.cfg.VendorHops) > 0:
		if hops, err = s.vendorHops(nodes[ci+1:]); err != nil {
			return netip.Addr{}, 0, nil, err
		}
	default:
		// The elements right of the client's were added by your own
		// proxies; those with public by and for addresses are further
		// internet hops.
		for _, n := range nodes[ci+1:] {
			if n.by.IsValid() && isPublicIP(n.by) && isPublicIP(n.forAddr) {
				hops = append(hops, ForwardedHop{By: n.by.Unmap(), For: n.forAddr.Unmap()})
			}
		}
	}
	if h := s.cfg.ClientPortHeader; h != "" && port == 0 {
		port = headerPort(r.Header.Get(h), ip)
	}
	return ip, port, hops, nil
}

// vendorHops returns the configured VendorHops, with each zero For taken
// from after, the forwarded chain to the right of the client's entry.
func (s *ServerCollector) vendorHops(after []forwardedNode) ([]ForwardedHop, error) {
	if len(s.cfg.VendorHops) == 0 {
		return nil, nil
	}
	hops := clone(s.cfg.VendorHops)
	for i := range hops {
		if hops[i].For.IsValid() {
			continue
		}
		if i >= len(after) || !isPublicIP(after[i].forAddr) {
			return nil, fmt.Errorf("fraud: ServerCollector: VendorHops[%d].For: the trusted forwarded chain has no public address for this hop", i)
		}
		hops[i].For = after[i].forAddr.Unmap().WithZone("")
	}
	return hops, nil
}

// headerPort reads a port given as "port" or "address:port"; with an
// address, it must be want.
func headerPort(v string, want netip.Addr) uint16 {
	v = strings.TrimSpace(v)
	if ap, err := netip.ParseAddrPort(v); err == nil {
		if ap.Addr().Unmap() != want {
			return 0
		}
		return ap.Port()
	}
	if p, ok := parsePositive(v); ok && p <= 65535 {
		return uint16(p)
	}
	return 0
}

type forwardedNode struct {
	forAddr netip.Addr
	port    uint16
	by      netip.Addr
	ok      bool // for is an IP address
}

// parseForwarded parses an RFC 7239 Forwarded value into its elements' for
// (with port) and by addresses.
func parseForwarded(v string) []forwardedNode {
	var out []forwardedNode
	for el := range strings.SplitSeq(v, ",") {
		var n forwardedNode
		for pair := range strings.SplitSeq(el, ";") {
			k, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
			if !ok {
				continue
			}
			a, p, ok := parseForwardedNode(strings.Trim(val, `"`))
			switch strings.ToLower(k) {
			case "for":
				n.forAddr, n.port, n.ok = a, p, ok
			case "by":
				if ok {
					n.by = a
				}
			}
		}
		out = append(out, n)
	}
	return out
}

// parseForwardedNode parses an RFC 7239 node: an IPv4 address, a bracketed
// IPv6 address, each with an optional port.
func parseForwardedNode(s string) (netip.Addr, uint16, bool) {
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().WithZone(""), ap.Port(), true
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	return a.WithZone(""), 0, true
}

//go:embed browser.js
var browserCollectorScript string

// BrowserCollectorScript returns the JavaScript that collects the browser
// values of WEB_APP_VIA_SERVER (screen, window size, UTC offset,
// navigator.userAgent and a device ID kept in a cookie and local storage) and
// stores them in cookies that ServerCollector.BrowserValues reads. It has no
// dependencies; include it in every page (see BrowserCollectorHandler).
func BrowserCollectorScript() string { return browserCollectorScript }

// BrowserCollectorHandler serves BrowserCollectorScript as JavaScript.
func BrowserCollectorHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		http.ServeContent(w, r, "fraudheaders.js", time.Time{}, strings.NewReader(browserCollectorScript))
	})
}

func clone[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append([]T(nil), s...)
}

func cloneKV(s []KeyValue) []KeyValue { return clone(s) }

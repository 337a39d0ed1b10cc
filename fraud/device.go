package fraud

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// NetworkInterface is what a DeviceCollector reads about one network
// interface of the machine.
type NetworkInterface struct {
	// Name is the interface's name, for example "eth0".
	Name string
	// Up reports whether the interface is up; only interfaces that are up
	// are collected.
	Up bool
	// Loopback reports whether it is a loopback interface, which is never
	// collected.
	Loopback bool
	// HardwareAddr is its MAC address; only 6-byte addresses are collected.
	HardwareAddr net.HardwareAddr
	// Addrs are its IP addresses.
	Addrs []netip.Addr
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
	// which FraudHeaders gives the whole set; or DesktopAppViaServer,
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
	// Screens are the screens your user interface toolkit reports
	// (required for desktop and mobile methods).
	Screens []Screen
	// WindowSize is the size of your application's window as your user
	// interface toolkit reports it (required for desktop and mobile
	// methods).
	WindowSize WindowSize
	// MultiFactor describes the user's sign-in factors.
	MultiFactor []MultiFactor
	// UserAgent overrides the detected operating system and device: each
	// non-empty field replaces the detected one.
	UserAgent UserAgent

	// AgreedMissing is copied to every Headers (see Headers.AgreedMissing).
	AgreedMissing HeaderSet
	// AgreedEmpty is copied to every Headers (see Headers.AgreedEmpty).
	AgreedEmpty HeaderSet

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

// FraudHeaders collects the headers for one request made directly to HMRC.
// For the *_VIA_SERVER methods it returns an error: send ClientValues to your
// server, which builds the headers with ServerCollector.
func (c *DeviceCollector) FraudHeaders(ctx context.Context) (*Headers, error) {
	if c.cfg.ConnectionMethod.ViaServer() {
		return nil, errors.New("fraud: DeviceCollector.FraudHeaders: " + string(c.cfg.ConnectionMethod) +
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
// is the device part of FraudHeaders.
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

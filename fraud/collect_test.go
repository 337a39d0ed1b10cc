package fraud

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeProbe is a deterministic machine: two interfaces that count, and
// others the collector must skip.
func fakeProbe(t *testing.T, now *time.Time) DeviceProbe {
	t.Helper()
	dir := t.TempDir()
	return DeviceProbe{
		Interfaces: func() ([]NetworkInterface, error) {
			return []NetworkInterface{
				{Name: "lo", Up: true, Loopback: true, HardwareAddr: nil,
					Addrs: []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("::1")}},
				{Name: "eth0", Up: true, HardwareAddr: net.HardwareAddr{0xea, 0x43, 0x1a, 0x5d, 0x21, 0x45},
					Addrs: []netip.Addr{netip.MustParseAddr("10.1.2.3"), netip.MustParseAddr("fe80::1%eth0"),
						netip.MustParseAddr("::ffff:10.1.2.4"), netip.MustParseAddr("10.1.2.3")}},
				{Name: "docker0", Up: false, HardwareAddr: net.HardwareAddr{2, 0x42, 0, 0, 0, 1},
					Addrs: []netip.Addr{netip.MustParseAddr("172.17.0.1")}},
				{Name: "tun0", Up: true, Addrs: []netip.Addr{netip.MustParseAddr("fc00::")}},
				{Name: "dummy", Up: true, HardwareAddr: net.HardwareAddr{0, 0, 0, 0, 0, 0}},
				{Name: "eth0.1", Up: true, HardwareAddr: net.HardwareAddr{0xea, 0x43, 0x1a, 0x5d, 0x21, 0x45}},
				{Name: "wlan0", Up: true, HardwareAddr: net.HardwareAddr{0x10, 0x12, 0xcc, 0xfa, 0xaa, 0x32}},
				{Name: "ib0", Up: true, HardwareAddr: make(net.HardwareAddr, 20)},
			}, nil
		},
		Now:           func() time.Time { return *now },
		OSUser:        func() (string, error) { return `domain\alice`, nil },
		OSInfo:        func() UserAgent { return UserAgent{"Windows", "Server 2012", "Dell Inc.", "OptiPlex 980"} },
		UserConfigDir: func() (string, error) { return dir, nil },
		Random:        bytes.NewReader(bytes.Repeat([]byte{0xbe, 0xec, 0x79, 0x8b}, 64)),
	}
}

func appConfig(m ConnectionMethod, probe DeviceProbe) DeviceCollectorConfig {
	return DeviceCollectorConfig{
		ConnectionMethod: m,
		AppName:          "my-app",
		ProductName:      "Product Name",
		VendorVersion:    []KeyValue{{"my-application", "1.6.0"}},
		VendorLicenseIDs: []KeyValue{{"my-licensed-software", HashLicenseKey("licence-key")}},
		UserIDs:          []KeyValue{{"my-application", "alice123"}},
		Screens:          []Screen{{1920, 1080, "1", 16}},
		WindowSize:       WindowSize{1256, 803},
		MultiFactor: []MultiFactor{{Type: MultiFactorTOTP, Timestamp: time.Date(2026, 1, 8, 0, 9, 1, 0, time.UTC),
			UniqueReference: "0283da60063abfb3a87f1aed845d17fe2d9ba8c780b478dc4ae048f5ee97a6d5"}},
		Probe: probe,
	}
}

func TestDeviceCollectorDesktopAppDirect(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 13, 30, 5, 123456789, time.FixedZone("BST", 3600))
	c, err := NewDeviceCollector(appConfig(DesktopAppDirect, fakeProbe(t, &now)))
	require.NoError(t, err)
	f, err := c.FraudHeaders(context.Background())
	require.NoError(t, err)
	h, err := f.Header()
	require.NoError(t, err)
	want := map[string]string{
		"Gov-Client-Connection-Method":   "DESKTOP_APP_DIRECT",
		"Gov-Client-Device-ID":           "beec798b-beec-498b-beec-798bbeec798b",
		"Gov-Client-Local-IPs":           "10.1.2.3,fe80%3A%3A1,10.1.2.4,fc00%3A%3A",
		"Gov-Client-Local-IPs-Timestamp": "2026-07-01T12:30:05.123Z",
		"Gov-Client-MAC-Addresses":       "ea%3A43%3A1a%3A5d%3A21%3A45,10%3A12%3Acc%3Afa%3Aaa%3A32",
		"Gov-Client-Multi-Factor":        "type=TOTP&timestamp=2026-01-08T00%3A09%3A01Z&unique-reference=0283da60063abfb3a87f1aed845d17fe2d9ba8c780b478dc4ae048f5ee97a6d5",
		"Gov-Client-Screens":             "width=1920&height=1080&scaling-factor=1&colour-depth=16",
		"Gov-Client-Timezone":            "UTC+01:00",
		"Gov-Client-User-Agent":          "os-family=Windows&os-version=Server%202012&device-manufacturer=Dell%20Inc.&device-model=OptiPlex%20980",
		"Gov-Client-User-IDs":            "os=domain%5Calice&my-application=alice123",
		"Gov-Client-Window-Size":         "width=1256&height=803",
		"Gov-Vendor-License-IDs":         "my-licensed-software=" + HashLicenseKey("licence-key"),
		"Gov-Vendor-Product-Name":        "Product%20Name",
		"Gov-Vendor-Version":             "my-application=1.6.0",
	}
	assert.Equal(t, headerOf(want), h)
	assert.True(t, Validate(h).Valid(), "%+v", Validate(h))
}

func TestDeviceCollectorKeepsOnlyRequiredHeaders(t *testing.T) {
	t.Parallel()
	for _, m := range []ConnectionMethod{BatchProcessDirect, MobileAppDirect, OtherDirect, DesktopAppDirect} {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
			cfg := appConfig(m, fakeProbe(t, &now))
			if m == MobileAppDirect {
				cfg.UserAgent = UserAgent{OSFamily: "iOS", OSVersion: "13.3.1", DeviceManufacturer: "Apple", DeviceModel: "iPhone12,3"}
			}
			c, err := NewDeviceCollector(cfg)
			require.NoError(t, err)
			f, err := c.FraudHeaders(context.Background())
			require.NoError(t, err)
			assert.Equal(t, m.RequiredHeaders(), f.Present())
			h, err := f.Header()
			require.NoError(t, err)
			v := Validate(h)
			assert.True(t, v.Valid(), "%+v", v)
			if m == MobileAppDirect {
				assert.Equal(t, "my-application=alice123", h.Get("Gov-Client-User-IDs"), "no os user for mobile apps")
				assert.Equal(t, "os-family=iOS&os-version=13.3.1&device-manufacturer=Apple&device-model=iPhone12%2C3", h.Get("Gov-Client-User-Agent"))
			}
		})
	}
}

func TestDeviceCollectorTakesTimeAndOffsetAtCallTime(t *testing.T) {
	t.Parallel()
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone database")
	}
	var mu sync.Mutex
	now := time.Date(2026, 3, 29, 0, 59, 59, 0, london) // just before BST starts
	probe := fakeProbe(t, &now)
	probe.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	c, err := NewDeviceCollector(appConfig(OtherDirect, probe))
	require.NoError(t, err)
	f1, err := c.FraudHeaders(context.Background())
	require.NoError(t, err)
	mu.Lock()
	now = now.Add(2 * time.Second)
	mu.Unlock()
	f2, err := c.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "UTC+00:00", f1.Timezone.String())
	assert.Equal(t, "UTC+01:00", f2.Timezone.String())
	assert.Equal(t, 2*time.Second, f2.LocalIPsTimestamp.Sub(f1.LocalIPsTimestamp))
}

func TestDeviceIDIsPersisted(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	now := time.Now()
	probe := fakeProbe(t, &now)
	probe.Random = rand.Reader
	cfg := appConfig(DesktopAppDirect, probe)
	cfg.DeviceIDDir = filepath.Join(dir, "nested", "dir")
	c, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	id, err := c.DeviceID()
	require.NoError(t, err)
	assert.True(t, isUUID(id))
	assert.Equal(t, strings.ToLower(id), id)
	assert.Equal(t, byte('4'), id[14], "version 4")
	assert.Contains(t, "89ab", string(id[19]), "RFC 4122 variant")
	path := filepath.Join(cfg.DeviceIDDir, "device-id")
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, id+"\n", string(data))
	if runtime.GOOS != "windows" {
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	}

	c2, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	again, err := c2.DeviceID()
	require.NoError(t, err)
	assert.Equal(t, id, again, "the same ID across collectors and runs")

	require.NoError(t, os.WriteFile(path, []byte("BEEC798B-B366-47FA-B1F8-92CEDE14A1CE\n"), 0o600))
	kept, err := c.DeviceID()
	require.NoError(t, err)
	assert.Equal(t, "beec798b-b366-47fa-b1f8-92cede14a1ce", kept, "an existing UUID is kept, lower-cased")

	require.NoError(t, os.Remove(path))
	fresh, err := c.DeviceID()
	require.NoError(t, err)
	assert.NotEqual(t, id, fresh, "a deleted ID is replaced")

	require.NoError(t, os.WriteFile(path, []byte("null"), 0o600))
	replaced, err := c.DeviceID()
	require.NoError(t, err)
	assert.True(t, isUUID(replaced))
	data, err = os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, replaced+"\n", string(data))

	entries, err := os.ReadDir(cfg.DeviceIDDir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary files are left behind")
}

func TestDeviceIDUnderUserConfigDir(t *testing.T) {
	t.Parallel()
	now := time.Now()
	probe := fakeProbe(t, &now)
	base := t.TempDir()
	probe.UserConfigDir = func() (string, error) { return base, nil }
	c, err := NewDeviceCollector(appConfig(DesktopAppDirect, probe))
	require.NoError(t, err)
	id, err := c.DeviceID()
	require.NoError(t, err)
	data, err := os.ReadFile(filepath.Join(base, "my-app", "device-id"))
	require.NoError(t, err)
	assert.Equal(t, id+"\n", string(data))

	probe.UserConfigDir = func() (string, error) { return "", errors.New("no home") }
	c, err = NewDeviceCollector(appConfig(DesktopAppDirect, probe))
	require.NoError(t, err)
	_, err = c.FraudHeaders(context.Background())
	assert.ErrorContains(t, err, "user configuration directory")
}

func TestDeviceIDErrorsHaveNoPaths(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	blocker := filepath.Join(base, marker)
	require.NoError(t, os.WriteFile(blocker, nil, 0o600))
	_, err := loadDeviceID(filepath.Join(blocker, "dir"), rand.Reader)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), marker)
	assert.Contains(t, err.Error(), "fraud: ")

	require.NoError(t, os.Mkdir(filepath.Join(base, "d"), 0o700))
	require.NoError(t, os.Mkdir(filepath.Join(base, "d", "device-id"), 0o700))
	_, err = loadDeviceID(filepath.Join(base, "d"), rand.Reader)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), base)
}

func TestDeviceIDConcurrentFirstUse(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Go(func() {
			id, err := loadDeviceID(dir, rand.Reader)
			assert.NoError(t, err)
			ids[i] = id
		})
	}
	wg.Wait()
	stored, err := os.ReadFile(filepath.Join(dir, "device-id"))
	require.NoError(t, err)
	// Once stored, every later reader sees the stored ID.
	again, err := loadDeviceID(dir, rand.Reader)
	require.NoError(t, err)
	assert.Equal(t, strings.TrimSpace(string(stored)), again)
}

func TestNewDeviceCollectorConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]DeviceCollectorConfig{
		"web":        {ConnectionMethod: WebAppViaServer, AppName: "x"},
		"bad method": {ConnectionMethod: "DESKTOP", AppName: "x"},
		"no app":     {},
		"app path":   {AppName: "../x"},
		"app dots":   {AppName: ".."},
	} {
		_, err := NewDeviceCollector(cfg)
		assert.Error(t, err, name)
	}
	c, err := NewDeviceCollector(DeviceCollectorConfig{DeviceIDDir: t.TempDir()})
	require.NoError(t, err)
	assert.Equal(t, DesktopAppDirect, c.cfg.ConnectionMethod)
}

func TestDeviceCollectorUpdateHookAndErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	probe := fakeProbe(t, &now)
	cfg := appConfig(DesktopAppDirect, probe)
	cfg.Screens = nil
	cfg.Update = func(ctx context.Context, f *Headers) error {
		f.Screens = []Screen{{2560, 1440, "1.5", 30}}
		return nil
	}
	c, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	f, err := c.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []Screen{{2560, 1440, "1.5", 30}}, f.Screens)

	cfg.Update = func(context.Context, *Headers) error { return errors.New("no window yet") }
	c, err = NewDeviceCollector(cfg)
	require.NoError(t, err)
	_, err = c.FraudHeaders(context.Background())
	assert.ErrorContains(t, err, "no window yet")

	probe.Interfaces = func() ([]NetworkInterface, error) { return nil, errors.New("netlink: denied") }
	cfg = appConfig(DesktopAppDirect, probe)
	c, err = NewDeviceCollector(cfg)
	require.NoError(t, err)
	_, err = c.FraudHeaders(context.Background())
	assert.ErrorContains(t, err, "network interfaces")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.FraudHeaders(ctx)
	assert.ErrorIs(t, err, context.Canceled)

	via, err := NewDeviceCollector(appConfig(DesktopAppViaServer, fakeProbe(t, &now)))
	require.NoError(t, err)
	_, err = via.FraudHeaders(context.Background())
	assert.ErrorContains(t, err, "ClientValues")
}

func TestStaticFraudHeaders(t *testing.T) {
	t.Parallel()
	f := exampleModel(t, DesktopAppDirect)
	src := Static(f)
	f.UserIDs[0].Value = "changed after"
	a, err := src.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, `domain\alice`, a.UserIDs[0].Value)
	a.UserIDs[0].Value = "changed by caller"
	a.MACAddresses[0][0] = 0
	b, err := src.FraudHeaders(context.Background())
	require.NoError(t, err)
	assert.Equal(t, `domain\alice`, b.UserIDs[0].Value)
	assert.Equal(t, byte(0xea), b.MACAddresses[0][0])
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = src.FraudHeaders(ctx)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestHashLicenseKeyAndNewDeviceID(t *testing.T) {
	t.Parallel()
	assert.Equal(t, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", HashLicenseKey("abc"))
	a, err := NewDeviceID()
	require.NoError(t, err)
	b, err := NewDeviceID()
	require.NoError(t, err)
	assert.True(t, isUUID(a))
	assert.NotEqual(t, a, b)
	_, err = newUUID(bytes.NewReader([]byte{1, 2}))
	assert.Error(t, err)
}

func TestClientValuesJSONRoundTrip(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 13, 30, 5, 123e6, time.UTC)
	cfg := appConfig(DesktopAppViaServer, fakeProbe(t, &now))
	cfg.VendorVersion = []KeyValue{{"my-desktop-app", "2.2.2"}}
	c, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	cv, err := c.ClientValues(context.Background())
	require.NoError(t, err)
	data, err := json.Marshal(cv)
	require.NoError(t, err)
	assert.JSONEq(t, `{
		"deviceId": "beec798b-beec-498b-beec-798bbeec798b",
		"localIps": ["10.1.2.3", "fe80::1", "10.1.2.4", "fc00::"],
		"localIpsTimestamp": "2026-07-01T13:30:05.123Z",
		"macAddresses": ["ea:43:1a:5d:21:45", "10:12:cc:fa:aa:32"],
		"screens": [{"width": 1920, "height": 1080, "scalingFactor": "1", "colourDepth": 16}],
		"windowSize": {"width": 1256, "height": 803},
		"timezone": "UTC+00:00",
		"userAgent": {"osFamily": "Windows", "osVersion": "Server 2012", "deviceManufacturer": "Dell Inc.", "deviceModel": "OptiPlex 980"},
		"osUser": "domain\\alice",
		"vendorVersion": [{"key": "my-desktop-app", "value": "2.2.2"}],
		"licenseIds": [{"key": "my-licensed-software", "value": "`+HashLicenseKey("licence-key")+`"}]
	}`, string(data))
	var back ClientValues
	require.NoError(t, json.Unmarshal(data, &back))
	assert.Equal(t, *cv, back)
	assert.NotContains(t, fmt.Sprint(back), "alice")
	assert.NotContains(t, fmt.Sprintf("%#v", back), "alice")
}

func TestParseClientValuesRefusesBadInput(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		doc   string
		field string
	}{
		"not JSON":               {`{"deviceId": "` + marker, ""},
		"wrong type":             {`{"screens": [{"width": "` + marker + `"}]}`, "screens.width"},
		"float width":            {`{"screens": [{"width": 1920.5, "height": 1, "scalingFactor": "1", "colourDepth": 24}]}`, "screens.width"},
		"zero width":             {`{"screens": [{"width": 0, "height": 1, "scalingFactor": "1", "colourDepth": 24}]}`, "screens[0]"},
		"huge width":             {`{"screens": [{"width": 99999999, "height": 1, "scalingFactor": "1", "colourDepth": 24}]}`, "screens[0]"},
		"exponent scaling":       {`{"screens": [{"width": 1, "height": 1, "scalingFactor": 1e3, "colourDepth": 24}]}`, "screens[0]"},
		"text scaling":           {`{"screens": [{"width": 1, "height": 1, "scalingFactor": "` + marker + `", "colourDepth": 24}]}`, "screens[0]"},
		"device id":              {`{"deviceId": "` + marker + `"}`, "deviceId"},
		"zone":                   {`{"localIps": ["fe80::1%` + marker + `"]}`, "localIps[0]"},
		"mdns":                   {`{"localIps": ["` + marker + `.local"]}`, "localIps[0]"},
		"mac":                    {`{"macAddresses": ["` + marker + `"]}`, "macAddresses[0]"},
		"timestamp":              {`{"localIpsTimestamp": "` + marker + `"}`, "localIpsTimestamp"},
		"timezone":               {`{"timezone": "Europe/` + marker + `"}`, "timezone"},
		"window":                 {`{"windowSize": {"width": -1, "height": 5}}`, "windowSize"},
		"CRLF in UA":             {`{"browserUserAgent": "Mozilla` + marker + `\r\nX-Evil: 1"}`, "browserUserAgent"},
		"NUL in os user":         {`{"osUser": "` + marker + `\u0000"}`, "osUser"},
		"100 KB UA":              {`{"browserUserAgent": "` + marker + strings.Repeat("a", 100<<10) + `"}`, ""},
		"5 KB UA":                {`{"browserUserAgent": "` + marker + strings.Repeat("a", 5<<10) + `"}`, "browserUserAgent"},
		"5 KB version":           {`{"vendorVersion": [{"key": "a", "value": "` + marker + strings.Repeat("a", 5<<10) + `"}]}`, "vendorVersion[0].value"},
		"empty licence":          {`{"licenseIds": [{"key": "a", "value": ""}]}`, "licenseIds[0]"},
		"control in UA part":     {`{"userAgent": {"osFamily": "` + marker + `\n"}}`, "userAgent.osFamily"},
		"too many local IPs":     {`{"localIps": [` + strings.Repeat(`"10.0.0.1",`, 64) + `"10.0.0.1"]}`, "localIps"},
		"non-ASCII browser UA":   {`{"browserUserAgent": "é` + marker + `"}`, "browserUserAgent"},
		"array instead of obj":   {`[1,2]`, ""},
		"number scaling is text": {`{"screens": [{"width": 1, "height": 1, "scalingFactor": -1, "colourDepth": 24}]}`, "screens[0]"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			cv, err := ParseClientValues([]byte(tt.doc))
			require.Error(t, err)
			assert.Nil(t, cv)
			var ce *ClientValuesError
			require.ErrorAs(t, err, &ce)
			assert.Equal(t, tt.field, ce.Field)
			assert.NotContains(t, err.Error(), marker)
			assert.NotContains(t, err.Error(), "Evil")
		})
	}
	cv, err := ParseClientValues([]byte(`{"screens": [{"width": 1, "height": 2, "scalingFactor": 1.25, "colourDepth": 24}], "future": {"x": 1}}`))
	require.NoError(t, err)
	assert.Equal(t, ScalingFactor("1.25"), cv.Screens[0].ScalingFactor, "a JSON number is read from its text")
}

// serverCollector returns a collector for a vendor at 203.0.113.6 behind
// proxies in 10.0.0.0/8.
func serverCollector(t *testing.T, mutate func(*ServerCollectorConfig)) *ServerCollector {
	t.Helper()
	cfg := ServerCollectorConfig{
		VendorPublicIP:   netip.MustParseAddr("203.0.113.6"),
		TrustedProxies:   []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ProductName:      "Product Name",
		VendorVersion:    []KeyValue{{"my-serverside-code", "v3.8"}},
		VendorLicenseIDs: []KeyValue{{"my-licensed-software", HashLicenseKey("k")}},
		Now:              func() time.Time { return time.Date(2026, 2, 14, 20, 41, 37, 929e6, time.UTC) },
		Random:           bytes.NewReader(bytes.Repeat([]byte{0x5c, 0xb1, 0x87, 0x83}, 64)),
	}
	if mutate != nil {
		mutate(&cfg)
	}
	s, err := NewServerCollector(cfg)
	require.NoError(t, err)
	return s
}

func TestServerCollectorClientAddress(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		mutate  func(*ServerCollectorConfig)
		remote  string
		headers map[string]string
		ip      string
		port    uint16
		fwd     string
		err     bool
	}{
		{name: "direct", remote: "198.51.100.7:54321", ip: "198.51.100.7", port: 54321,
			fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "spoofed X-Forwarded-For from an untrusted peer is ignored", remote: "198.51.100.7:54321",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.66", "Forwarded": "for=192.0.2.66"},
			ip:      "198.51.100.7", port: 54321, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "trusted proxy with X-Forwarded-For", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "192.0.2.66, 198.51.100.7, 10.0.0.4"},
			ip:      "198.51.100.7", port: 0, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "client port header", mutate: func(c *ServerCollectorConfig) { c.ClientPortHeader = "X-Client-Port" },
			remote: "10.0.0.5:40000", headers: map[string]string{"X-Forwarded-For": "198.51.100.7", "X-Client-Port": "50000"},
			ip: "198.51.100.7", port: 50000, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "viewer address header", mutate: func(c *ServerCollectorConfig) { c.ClientPortHeader = "CloudFront-Viewer-Address" },
			remote: "10.0.0.5:40000", headers: map[string]string{"X-Forwarded-For": "2001:db8::7", "CloudFront-Viewer-Address": "[2001:db8::7]:46532"},
			ip: "2001:db8::7", port: 46532, fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A7"},
		{name: "viewer address for another client is ignored", mutate: func(c *ServerCollectorConfig) { c.ClientPortHeader = "CloudFront-Viewer-Address" },
			remote: "10.0.0.5:40000", headers: map[string]string{"X-Forwarded-For": "198.51.100.7", "CloudFront-Viewer-Address": "198.51.100.8:46532"},
			ip: "198.51.100.7", port: 0, fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "forwarded with port and further hops",
			mutate: func(c *ServerCollectorConfig) {
				c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix("198.51.100.99/32"))
			},
			remote:  "10.0.0.5:40000",
			headers: map[string]string{"Forwarded": `for="[2001:db8::7]:4711";by=203.0.113.6, for=198.51.100.99;by=192.0.2.10;proto=https`},
			ip:      "2001:db8::7", port: 4711,
			fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A7,by=192.0.2.10&for=198.51.100.99"},
		{name: "X-Forwarded-For with a port (Azure Application Gateway)", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.23:50123, 10.0.0.4:443"},
			ip:      "198.51.100.23", port: 50123, fwd: "by=203.0.113.6&for=198.51.100.23"},
		{name: "X-Forwarded-For with a bracketed IPv6 address and port", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "[2001:db8::1]:443"},
			ip:      "2001:db8::1", port: 443, fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A1"},
		{name: "X-Forwarded-For with a bracketed IPv6 address without port", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "[2001:db8::1]"},
			ip:      "2001:db8::1", port: 0, fwd: "by=203.0.113.6&for=2001%3Adb8%3A%3A1"},
		{name: "X-Forwarded-For port of a proxy is not the client's", remote: "10.0.0.5:40000",
			mutate:  func(c *ServerCollectorConfig) { c.ClientPortHeader = "X-Client-Port" },
			headers: map[string]string{"X-Forwarded-For": "198.51.100.23, 10.0.0.4:443", "X-Client-Port": "50000"},
			ip:      "198.51.100.23", port: 50000, fwd: "by=203.0.113.6&for=198.51.100.23"},
		{name: "X-Forwarded-For with a bad port", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.23:99999"}, err: true},
		{name: "vendor hops behind a CDN",
			mutate: func(c *ServerCollectorConfig) {
				c.TrustedProxies = append(c.TrustedProxies, netip.MustParsePrefix("130.176.0.0/16"))
				c.VendorHops = []ForwardedHop{{By: netip.MustParseAddr("176.30.57.118")}}
			},
			remote:  "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": "198.51.100.0:50123, 130.176.1.2"},
			ip:      "198.51.100.0", port: 50123,
			fwd: "by=203.0.113.6&for=198.51.100.0,by=176.30.57.118&for=130.176.1.2"},
		{name: "vendor hop whose sender the chain does not show", remote: "10.0.0.5:40000",
			mutate: func(c *ServerCollectorConfig) {
				c.VendorHops = []ForwardedHop{{By: netip.MustParseAddr("176.30.57.118")}}
			},
			headers: map[string]string{"X-Forwarded-For": "198.51.100.0"}, err: true},
		{name: "ipv4-mapped peer", remote: "[::ffff:198.51.100.7]:5000", ip: "198.51.100.7", port: 5000,
			fwd: "by=203.0.113.6&for=198.51.100.7"},
		{name: "garbage from a trusted proxy", remote: "10.0.0.5:40000",
			headers: map[string]string{"X-Forwarded-For": marker}, err: true},
		{name: "obfuscated forwarded node", remote: "10.0.0.5:40000",
			headers: map[string]string{"Forwarded": "for=_hidden"}, err: true},
		{name: "trusted proxy without a chain", remote: "10.0.0.5:40000", err: true},
		{name: "unix socket peer", remote: "@", err: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := serverCollector(t, tt.mutate)
			r := httptest.NewRequest(http.MethodPost, "/submit", nil)
			r.RemoteAddr = tt.remote
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			f, err := s.Headers(r, WebAppViaServer, nil, EndUser{})
			if tt.err {
				require.Error(t, err)
				assert.NotContains(t, err.Error(), marker)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, netip.MustParseAddr(tt.ip), f.PublicIP)
			assert.Equal(t, tt.port, f.PublicPort)
			h := http.Header{}
			require.NoError(t, f.encode(h, false))
			assert.Equal(t, tt.fwd, h.Get("Gov-Vendor-Forwarded"))
		})
	}
}

// browserCookies returns the cookies the browser script would store.
func browserCookies(t *testing.T, values map[string]any, deviceID string) []*http.Cookie {
	t.Helper()
	data, err := json.Marshal(values)
	require.NoError(t, err)
	return []*http.Cookie{
		{Name: "mtd-fph", Value: strings.ReplaceAll(url.QueryEscape(string(data)), "+", "%20")},
		{Name: "mtd-device-id", Value: deviceID},
	}
}

func TestServerCollectorWebApp(t *testing.T) {
	t.Parallel()
	s := serverCollector(t, nil)
	var got *Headers
	handler := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cv, err := s.BrowserValues(r)
		require.NoError(t, err)
		src, err := s.Source(r, WebAppViaServer, cv, EndUser{
			UserIDs: []KeyValue{{"my-application", "alice123"}},
			MultiFactor: []MultiFactor{{Type: MultiFactorOther, Timestamp: time.Date(2026, 2, 14, 20, 40, 53, 899e6, time.UTC),
				UniqueReference: "f841bcc3-35e8-42e9-af9a-8faea61f7bab"}},
		})
		require.NoError(t, err)
		got, err = src.FraudHeaders(r.Context())
		require.NoError(t, err)
	}))
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	r.RemoteAddr = "198.51.100.7:56363"
	for _, c := range browserCookies(t, map[string]any{
		"screens":          []map[string]any{{"width": 1280, "height": 1446, "scalingFactor": "1", "colourDepth": 24}},
		"windowSize":       map[string]int{"width": 1280, "height": 1446},
		"timezone":         "UTC+01:00",
		"browserUserAgent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/145.0.7632.6 Safari/537.36",
		"deviceId":         "00000000-0000-4000-8000-000000000000",
		// A browser cannot add these: they are ignored for web apps.
		"vendorVersion": []map[string]string{{"key": "injected", "value": "1"}},
		"licenseIds":    []map[string]string{{"key": "injected", "value": HashLicenseKey("x")}},
		"osUser":        "injected",
		"localIps":      []string{"10.9.9.9"},
	}, "5cb18783-e15d-420b-8177-2f43212882aa") {
		r.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	require.NotNil(t, got)
	assert.Empty(t, rec.Result().Cookies(), "a valid device-ID cookie is kept")
	h, err := got.Header()
	require.NoError(t, err)
	assert.Equal(t, headerOf(map[string]string{
		"Gov-Client-Connection-Method":     "WEB_APP_VIA_SERVER",
		"Gov-Client-Browser-JS-User-Agent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/145.0.7632.6 Safari/537.36",
		"Gov-Client-Device-ID":             "5cb18783-e15d-420b-8177-2f43212882aa",
		"Gov-Client-Multi-Factor":          "type=OTHER&timestamp=2026-02-14T20%3A40%3A53.899Z&unique-reference=f841bcc3-35e8-42e9-af9a-8faea61f7bab",
		"Gov-Client-Public-IP":             "198.51.100.7",
		"Gov-Client-Public-IP-Timestamp":   "2026-02-14T20:41:37.929Z",
		"Gov-Client-Public-Port":           "56363",
		"Gov-Client-Screens":               "width=1280&height=1446&scaling-factor=1&colour-depth=24",
		"Gov-Client-Timezone":              "UTC+01:00",
		"Gov-Client-User-IDs":              "my-application=alice123",
		"Gov-Client-Window-Size":           "width=1280&height=1446",
		"Gov-Vendor-Forwarded":             "by=203.0.113.6&for=198.51.100.7",
		"Gov-Vendor-License-IDs":           "my-licensed-software=" + HashLicenseKey("k"),
		"Gov-Vendor-Product-Name":          "Product%20Name",
		"Gov-Vendor-Public-IP":             "203.0.113.6",
		"Gov-Vendor-Version":               "my-serverside-code=v3.8",
	}), h)
	v := Validate(h)
	assert.True(t, v.Valid(), "%+v", v)
}

func TestServerCollectorMiddlewareSetsDeviceID(t *testing.T) {
	t.Parallel()
	arrived := time.Date(2026, 1, 1, 12, 0, 0, 0, time.UTC)
	clock := arrived
	var mu sync.Mutex
	s := serverCollector(t, func(c *ServerCollectorConfig) {
		c.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	})
	var seen *ClientValues
	var stamp time.Time
	handler := s.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		clock = clock.Add(3 * time.Second) // the handler runs later than arrival
		mu.Unlock()
		var err error
		seen, err = s.BrowserValues(r)
		require.NoError(t, err)
		f, err := s.Headers(r, WebAppViaServer, seen, EndUser{})
		require.NoError(t, err)
		stamp = f.PublicIPTimestamp
		c, err := r.Cookie("other")
		require.NoError(t, err)
		assert.Equal(t, "kept", c.Value)
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.RemoteAddr = "198.51.100.7:5000"
	r.AddCookie(&http.Cookie{Name: "other", Value: "kept"})
	r.AddCookie(&http.Cookie{Name: "mtd-device-id", Value: "null"})
	rec := httptest.NewRecorder()
	handler.ServeHTTP(rec, r)
	cookies := rec.Result().Cookies()
	require.Len(t, cookies, 1)
	c := cookies[0]
	assert.Equal(t, "mtd-device-id", c.Name)
	assert.Equal(t, "5cb18783-5cb1-4783-9cb1-87835cb18783", c.Value)
	assert.True(t, c.Secure)
	assert.Equal(t, http.SameSiteLaxMode, c.SameSite)
	assert.Equal(t, "/", c.Path)
	assert.Equal(t, 400*24*3600, c.MaxAge)
	assert.Equal(t, c.Value, seen.DeviceID, "the handler sees the new ID at once")
	assert.Equal(t, arrived, stamp, "the public IP timestamp is the arrival time")
}

func TestServerCollectorDesktopViaServer(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 7, 1, 13, 30, 5, 123e6, time.UTC)
	cfg := appConfig(DesktopAppViaServer, fakeProbe(t, &now))
	cfg.VendorVersion = []KeyValue{{"my-desktop-app", "2.2.2"}}
	dc, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	cv, err := dc.ClientValues(context.Background())
	require.NoError(t, err)
	body, err := json.Marshal(cv)
	require.NoError(t, err)

	s := serverCollector(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/api/returns", bytes.NewReader(body))
	r.RemoteAddr = "198.51.100.0:12345"
	posted, err := ParseClientValues(body)
	require.NoError(t, err)
	f, err := s.Headers(r, DesktopAppViaServer, posted, EndUser{UserIDs: []KeyValue{{"my-application", "alice123"}},
		MultiFactor: cfg.MultiFactor})
	require.NoError(t, err)
	h, err := f.Header()
	require.NoError(t, err)
	assert.Equal(t, "my-desktop-app=2.2.2&my-serverside-code=v3.8", h.Get("Gov-Vendor-Version"))
	assert.Equal(t, "os=domain%5Calice&my-application=alice123", h.Get("Gov-Client-User-IDs"))
	assert.Equal(t, "2026-07-01T13:30:05.123Z", h.Get("Gov-Client-Local-IPs-Timestamp"))
	assert.Equal(t, "my-licensed-software="+HashLicenseKey("licence-key")+"&my-licensed-software="+HashLicenseKey("k"),
		h.Get("Gov-Vendor-License-IDs"))
	assert.Equal(t, DesktopAppViaServer.RequiredHeaders(), f.Present())
	v := Validate(h)
	assert.True(t, v.Valid(), "%+v", v)

	for _, m := range []ConnectionMethod{MobileAppViaServer, OtherViaServer} {
		noClient := *posted
		noClient.VendorVersion = nil
		_, err = s.Headers(r, m, &noClient, EndUser{})
		assert.ErrorContains(t, err, "Gov-Vendor-Version")
	}
	_, err = s.Headers(r, DesktopAppDirect, posted, EndUser{})
	assert.Error(t, err)
}

func TestServerCollectorBrowserValuesErrors(t *testing.T) {
	t.Parallel()
	s := serverCollector(t, nil)
	for name, cookies := range map[string][]*http.Cookie{
		"device id":  {{Name: "mtd-device-id", Value: marker}},
		"not JSON":   {{Name: "mtd-fph", Value: marker}},
		"bad escape": {{Name: "mtd-fph", Value: "%ZZ" + marker}},
		"huge":       {{Name: "mtd-fph", Value: strings.Repeat("a", 20<<10)}},
		"CRLF UA":    {{Name: "mtd-fph", Value: url.PathEscape(`{"browserUserAgent":"` + marker + `\r\nX: y"}`)}},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range cookies {
			r.Header.Add("Cookie", c.Name+"="+c.Value)
		}
		_, err := s.BrowserValues(r)
		require.Error(t, err, name)
		assert.NotContains(t, err.Error(), marker, name)
	}
	cv, err := s.BrowserValues(httptest.NewRequest(http.MethodGet, "/", nil))
	require.NoError(t, err)
	assert.Equal(t, &ClientValues{}, cv)
}

func TestNewServerCollectorConfigErrors(t *testing.T) {
	t.Parallel()
	for name, cfg := range map[string]ServerCollectorConfig{
		"no vendor IP": {},
		"bad prefix":   {VendorPublicIP: netip.MustParseAddr("203.0.113.6"), TrustedProxies: []netip.Prefix{{}}},
		"bad cookie":   {VendorPublicIP: netip.MustParseAddr("203.0.113.6"), DeviceIDCookie: "a b"},
	} {
		_, err := NewServerCollector(cfg)
		assert.Error(t, err, name)
	}
}

func TestBrowserCollectorHandler(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	BrowserCollectorHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/fraudheaders.js", nil))
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/javascript; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, BrowserCollectorScript(), rec.Body.String())
	assert.Contains(t, BrowserCollectorScript(), "mtd-device-id")
}

// The shipped script, run in Node against a minimal fake browser, stores
// cookies that the Go side turns into a valid WEB_APP_VIA_SERVER set.
func TestBrowserCollectorScriptEndToEnd(t *testing.T) {
	t.Parallel()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	harness := `
const cookies = {};
globalThis.document = {
  get cookie() { return Object.entries(cookies).map(([k, v]) => k + "=" + v).join("; "); },
  set cookie(s) { const [kv] = s.split("; "); const i = kv.indexOf("="); cookies[kv.slice(0, i)] = kv.slice(i + 1); },
  addEventListener() {},
};
const store = {};
globalThis.window = {
  crypto: require("crypto").webcrypto, devicePixelRatio: 1.100000023841858,
  screen: { width: 2560, height: 1440, colorDepth: 30 }, innerWidth: 1256, innerHeight: 803,
  localStorage: { getItem: k => store[k] || null, setItem: (k, v) => { store[k] = v; } },
  addEventListener() {},
};
globalThis.screen = window.screen;
globalThis.location = { protocol: "https:" };
Object.defineProperty(globalThis, "navigator", { value: { userAgent: "Mozilla/5.0 (X11; Linux x86_64) Test/1.0" } });
require(process.argv[2]);
const first = cookies["mtd-device-id"];
delete cookies["mtd-device-id"];
window.mtdFraudPrevention.store();
if (cookies["mtd-device-id"] !== first) throw new Error("device ID not restored from local storage");
process.stdout.write(document.cookie);
`
	dir := t.TempDir()
	hpath := filepath.Join(dir, "harness.js")
	spath := filepath.Join(dir, "fraudheaders.js")
	require.NoError(t, os.WriteFile(hpath, []byte(harness), 0o600))
	require.NoError(t, os.WriteFile(spath, []byte(BrowserCollectorScript()), 0o600))
	out, err := exec.Command(node, hpath, spath).CombinedOutput()
	require.NoError(t, err, string(out))

	s := serverCollector(t, nil)
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	r.RemoteAddr = "198.51.100.7:56363"
	r.Header.Set("Cookie", string(out))
	cv, err := s.BrowserValues(r)
	require.NoError(t, err)
	assert.True(t, isUUID(cv.DeviceID))
	assert.Equal(t, []Screen{{2560, 1440, "1.1", 30}}, cv.Screens)
	assert.Equal(t, WindowSize{1256, 803}, cv.WindowSize)
	assert.Equal(t, "Mozilla/5.0 (X11; Linux x86_64) Test/1.0", cv.BrowserJSUserAgent)
	_, off := time.Now().Zone()
	assert.Equal(t, TimezoneMinutes(off/60).String(), cv.Timezone.String())
	f, err := s.Headers(r, WebAppViaServer, cv, EndUser{UserIDs: []KeyValue{{"my-application", "alice123"}},
		MultiFactor: []MultiFactor{{Type: MultiFactorTOTP, Timestamp: time.Now(), UniqueReference: "ref"}}})
	require.NoError(t, err)
	h, err := f.Header()
	require.NoError(t, err)
	v := Validate(h)
	assert.True(t, v.Valid(), "%+v", v)
}

// The default collector reads this machine. Its values are not asserted
// (they differ between machines), only that they are sent and validate.
func TestDeviceCollectorOnThisMachine(t *testing.T) {
	t.Parallel()
	for _, m := range []ConnectionMethod{DesktopAppDirect, MobileAppDirect, BatchProcessDirect, OtherDirect} {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			h, v := collectOnThisMachine(t, m)
			assert.Empty(t, v.Automated().Errors, "%+v", v)
			assert.NotEmpty(t, h.Get("Gov-Client-Local-IPs"))
			assert.NotEmpty(t, h.Get("Gov-Client-User-Agent"))
			t.Logf("%s: %d headers, %s; %s", m, len(h), v.Code, findingsSummary(v))
		})
	}
	for _, m := range []ConnectionMethod{DesktopAppViaServer, MobileAppViaServer, OtherViaServer} {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			h, v := collectOnThisMachine(t, m)
			assert.Empty(t, v.Automated().Errors, "%+v", v)
			t.Logf("%s: %d headers, %s; %s", m, len(h), v.Code, findingsSummary(v))
		})
	}
}

func findingsSummary(v *Validation) string {
	var parts []string
	for _, f := range append(v.Errors, v.Warnings...) {
		parts = append(parts, fmt.Sprintf("%s %s %q", f.Headers, f.Code, f.Message))
	}
	return strings.Join(parts, "; ")
}

// collectOnThisMachine runs the default collector (only the device-ID
// directory is redirected) with the values an application supplies, and for
// the via-server methods merges them on a server as a client app would.
func collectOnThisMachine(t *testing.T, m ConnectionMethod) (http.Header, *Validation) {
	t.Helper()
	cfg := DeviceCollectorConfig{
		ConnectionMethod: m,
		DeviceIDDir:      t.TempDir(),
		ProductName:      "Go MTD VAT",
		VendorVersion:    []KeyValue{{"go-mtd-vat-test", "1.0.0"}},
		VendorLicenseIDs: []KeyValue{{"go-mtd-vat-test", HashLicenseKey("test licence")}},
		UserIDs:          []KeyValue{{"go-mtd-vat-test", "tester"}},
		Screens:          []Screen{{1920, 1080, "1", 24}},
		WindowSize:       WindowSize{1280, 800},
		MultiFactor:      []MultiFactor{{Type: MultiFactorTOTP, Timestamp: time.Now(), UniqueReference: HashLicenseKey("totp secret id")}},
	}
	c, err := NewDeviceCollector(cfg)
	require.NoError(t, err)
	var f *Headers
	if !m.ViaServer() {
		f, err = c.FraudHeaders(context.Background())
		require.NoError(t, err)
	} else {
		cv, err := c.ClientValues(context.Background())
		require.NoError(t, err)
		body, err := json.Marshal(cv)
		require.NoError(t, err)
		posted, err := ParseClientValues(body)
		require.NoError(t, err)
		s := serverCollector(t, nil)
		r := httptest.NewRequest(http.MethodPost, "/", nil)
		r.RemoteAddr = "198.51.100.0:40123"
		f, err = s.Headers(r, m, posted, EndUser{UserIDs: cfg.UserIDs, MultiFactor: cfg.MultiFactor})
		require.NoError(t, err)
	}
	h, err := f.Header()
	require.NoError(t, err)
	return h, Validate(h)
}

func ExampleNewDeviceCollector() {
	collector, err := NewDeviceCollector(DeviceCollectorConfig{
		ConnectionMethod: DesktopAppDirect,
		AppName:          "my-accounts", // the device ID lives in <config dir>/my-accounts/device-id
		ProductName:      "My Accounts",
		VendorVersion:    []KeyValue{{Key: "my-accounts", Value: "1.6.0"}},
		VendorLicenseIDs: []KeyValue{{Key: "my-accounts", Value: HashLicenseKey("XXXX-YYYY-ZZZZ")}},
		Update: func(ctx context.Context, f *Headers) error {
			// Values only the user interface knows, read at request time.
			f.Screens = []Screen{{Width: 2560, Height: 1440, ScalingFactor: ScalingFactorThousandths(1500), ColourDepth: 30}}
			f.WindowSize = WindowSize{Width: 1280, Height: 800}
			f.UserIDs = append(f.UserIDs, KeyValue{Key: "my-accounts", Value: "alice@example.com"})
			f.MultiFactor = []MultiFactor{{Type: MultiFactorTOTP, Timestamp: time.Now(), UniqueReference: HashLicenseKey("totp-secret-id")}}
			return nil
		},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	// The collector is a Source: give it to the Client, which
	// calls it before every request.
	var _ Source = collector
}

func ExampleServerCollector() {
	sc, err := NewServerCollector(ServerCollectorConfig{
		VendorPublicIP: netip.MustParseAddr("203.0.113.6"),
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		ProductName:    "My Accounts Online",
		VendorVersion:  []KeyValue{{Key: "my-accounts-web", Value: "2.2.2"}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	mux := http.NewServeMux()
	mux.Handle("GET /fraudheaders.js", BrowserCollectorHandler()) // <script src="/fraudheaders.js"> on every page
	mux.HandleFunc("POST /vat/returns", func(w http.ResponseWriter, r *http.Request) {
		browser, err := sc.BrowserValues(r)
		if err != nil {
			http.Error(w, "bad browser values", http.StatusBadRequest)
			return
		}
		src, err := sc.Source(r, WebAppViaServer, browser, EndUser{
			UserIDs: []KeyValue{{Key: "my-accounts-web", Value: "alice123"}},
		})
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		_ = src // pass src to the Client's per-call fraud header option
	})
	_ = http.Handler(sc.Middleware(mux))
}

// TestServerCollectorVendorHopsMatchTheSpecExample builds HMRC's own
// multi-hop example (a WAF in front of two servers, specification 3.3,
// Gov-Vendor-Forwarded) from VendorHops and compares it with the
// specification's encoding.
func TestServerCollectorVendorHopsMatchTheSpecExample(t *testing.T) {
	t.Parallel()
	const want = "by=2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334&for=198.51.100.0," +
		"by=203.0.113.6&for=2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334,by=176.30.57.118&for=203.0.113.6"
	waf := netip.MustParseAddr("2001:0db8:85a3:0000:0000:8a2e:0370:7334")
	s := serverCollector(t, func(c *ServerCollectorConfig) {
		c.VendorPublicIP = waf
		c.VendorHops = []ForwardedHop{
			{By: netip.MustParseAddr("203.0.113.6"), For: waf},
			{By: netip.MustParseAddr("176.30.57.118"), For: netip.MustParseAddr("203.0.113.6")},
		}
	})
	r := httptest.NewRequest(http.MethodPost, "/submit", nil)
	r.RemoteAddr = "198.51.100.0:50123"
	f, err := s.Headers(r, WebAppViaServer, nil, EndUser{})
	require.NoError(t, err)
	h := http.Header{}
	require.NoError(t, f.encode(h, false))
	spec, err := Parse(http.Header{"Gov-Vendor-Forwarded": {want}})
	require.NoError(t, err)
	assert.Equal(t, spec.VendorForwarded, f.VendorForwarded, "the same hops as the specification's example")
	assert.Equal(t, strings.ReplaceAll(want, "2001%3A0db8%3A85a3%3A0000%3A0000%3A8a2e%3A0370%3A7334", "2001%3Adb8%3A85a3%3A%3A8a2e%3A370%3A7334"),
		h.Get("Gov-Vendor-Forwarded"), "the specification's encoding, with the IPv6 address in its canonical spelling")
	res := Validate(h)
	for _, e := range res.Errors {
		assert.NotContains(t, e.Headers, "gov-vendor-forwarded", e.Message)
	}
}

func TestNewServerCollectorRefusesBadVendorHops(t *testing.T) {
	t.Parallel()
	for name, hop := range map[string]ForwardedHop{
		"no by":       {},
		"private by":  {By: netip.MustParseAddr("10.0.0.1")},
		"private for": {By: netip.MustParseAddr("203.0.113.9"), For: netip.MustParseAddr("192.168.0.1")},
	} {
		_, err := NewServerCollector(ServerCollectorConfig{VendorPublicIP: netip.MustParseAddr("203.0.113.6"), VendorHops: []ForwardedHop{hop}})
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "VendorHops[0]", name)
	}
}

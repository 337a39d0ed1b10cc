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
	"os"
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

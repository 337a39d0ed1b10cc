package main

import (
	"bytes"
	"encoding/json"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testConfig runs the application against the in-process simulator, with
// its data in a temporary directory and a fixed machine for the fraud
// prevention headers, so that the test needs no network.
func testConfig(t *testing.T, returnFile string, submit bool) (config, *bytes.Buffer) {
	t.Helper()
	mac, err := net.ParseMAC("ea:43:1a:5d:21:45")
	require.NoError(t, err)
	home := t.TempDir()
	var out bytes.Buffer
	return config{
		dataDir:    t.TempDir(),
		user:       "owner",
		returnFile: returnFile,
		submit:     submit,
		out:        &out,
		probe: fraud.DeviceProbe{
			Interfaces: func() ([]fraud.NetworkInterface, error) {
				return []fraud.NetworkInterface{{Name: "eth0", Up: true, HardwareAddr: mac, Addrs: []netip.Addr{netip.MustParseAddr("10.1.2.3")}}}, nil
			},
			OSUser:        func() (string, error) { return "alice", nil },
			OSInfo:        func() fraud.UserAgent { return fraud.UserAgent{OSFamily: "Linux", OSVersion: "6.8"} },
			UserConfigDir: func() (string, error) { return home, nil },
		},
	}, &out
}

func TestSubmitsTheReturnAndSavesTheReceipt(t *testing.T) {
	t.Parallel()
	cfg, out := testConfig(t, "return.json", true)
	require.NoError(t, run(t.Context(), cfg))

	assert.Contains(t, out.String(), "Using the vattest simulator")
	assert.Contains(t, out.String(), declaration)
	assert.Contains(t, out.String(), "3  Total VAT due")
	assert.Contains(t, out.String(), "1067.50", "box 3 is worked out from boxes 1 and 2")
	assert.Contains(t, out.String(), "Submitted. Form bundle number")

	tokens, err := filepath.Glob(filepath.Join(cfg.dataDir, "sandbox-*.json"))
	require.NoError(t, err)
	require.Len(t, tokens, 1, "one token file for the user in the sandbox environment")
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(tokens[0])
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	}

	receipts, err := filepath.Glob(filepath.Join(cfg.dataDir, "receipts", "*.json"))
	require.NoError(t, err)
	require.Len(t, receipts, 1)
	data, err := os.ReadFile(receipts[0])
	require.NoError(t, err)
	var rc vat.Receipt
	require.NoError(t, json.Unmarshal(data, &rc))
	assert.Regexp(t, `^[0-9]{12}$`, rc.FormBundleNumber)
	assert.NotEmpty(t, rc.ReceiptID)
	assert.Contains(t, out.String(), rc.FormBundleNumber)
	assert.Contains(t, out.String(), "Pay 666.30 to HMRC", "box 5 is worked out from boxes 3 and 4")
}

func TestShowsTheReturnWithoutSubmitting(t *testing.T) {
	t.Parallel()
	cfg, out := testConfig(t, "return.json", false)
	require.NoError(t, run(t.Context(), cfg))
	assert.Contains(t, out.String(), declaration)
	assert.Contains(t, out.String(), "Not submitted")
	assert.NotContains(t, out.String(), "Submitted.")
	assert.NoDirExists(t, filepath.Join(cfg.dataDir, "receipts"))
}

func TestRefusesABadReturnFile(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, want string
	}{
		{"misspelt box", `{"vatDueSale": 10.00}`, `unknown field "vatDueSale"`},
		{"pence in whole pounds", `{"totalValueSalesExVAT": 10.50}`, "totalValueSalesExVAT"},
		{"not JSON", `boxes: 1`, "reading the return"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			file := filepath.Join(t.TempDir(), "return.json")
			require.NoError(t, os.WriteFile(file, []byte(tt.body), 0o600))
			cfg, _ := testConfig(t, file, true)
			err := run(t.Context(), cfg)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestRefusesAVRNWithTheSimulator(t *testing.T) {
	t.Parallel()
	cfg, out := testConfig(t, "return.json", true)
	cfg.vrn = "123456789"
	err := run(t.Context(), cfg)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "-vrn needs HMRC's sandbox")
	assert.NotContains(t, out.String(), "Submitted")
}

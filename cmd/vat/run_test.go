package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func testStdio(env map[string]string) (*stdio, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	return &stdio{in: strings.NewReader(""), out: &out, err: &errb,
		getenv: func(k string) string { return env[k] }, terminal: func() bool { return false }}, &out, &errb
}

func TestExitCodes(t *testing.T) {
	t.Parallel()
	creds := map[string]string{"HMRC_CLIENT_ID": "id", "HMRC_CLIENT_SECRET": "secret", "VAT_CONFIG_DIR": t.TempDir()}
	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		err  string
	}{
		{[]string{"--help"}, nil, 0, ""},
		{[]string{"obligations", "--help"}, nil, 0, ""},
		{[]string{"return", "submit", "-h"}, nil, 0, ""},
		{[]string{"--version"}, nil, 0, ""},
		{nil, nil, 2, "a command"},
		{[]string{"return"}, nil, 2, "vat return needs a command"},
		{[]string{"nope"}, nil, 2, `unknown command "nope"`},
		{[]string{"obligations", "--nope"}, nil, 2, "flag provided but not defined"},
		{[]string{"obligations"}, creds, 2, "--vrn is required"},
		{[]string{"obligations", "--vrn", "123456789"}, nil, 2, "HMRC_CLIENT_ID and HMRC_CLIENT_SECRET"},
		{[]string{"obligations", "--vrn", "123456789", "--sandbox", "--production"}, creds, 2, "cannot be used together"},
		{[]string{"obligations", "--vrn", "123456789", "--status", "late"}, creds, 2, `--status: "late"`},
		{[]string{"liabilities", "--vrn", "123456789", "--from", "yesterday"}, creds, 2, `--from: "yesterday" is not a date`},
		{[]string{"return", "submit", "--vrn", "123456789", "--file", "x.csv"}, creds, 2, "--period is required"},
		{[]string{"return", "submit", "--vrn", "123456789", "--period", "24A1"}, creds, 2, "--file is required"},
		{[]string{"return", "submit", "--vrn", "123456789", "--period", "24A1", "--file", "x.csv"}, creds, 2, "pass --agree"},
		{[]string{"return", "submit", "--vrn", "123456789", "--period", "24A1", "--file", "x.txt", "--agree"}, creds, 2, "not a .json, .csv or .xlsx file"},
		{[]string{"login", "--user-id", "u", "--password", "p"}, creds, 2, "fill in a simulator's sign-in form"},
		{[]string{"check"}, creds, 2, "needs one VAT number"},
		{[]string{"check", "GB12"}, creds, 2, "9 or 12 digits"},
		{[]string{"obligations", "--vrn", "123456789", "--sandbox-server", "http://127.0.0.1:1"}, creds, 1, "not signed in"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			io, out, errb := testStdio(tc.env)
			code := run(context.Background(), tc.args, io)
			assert.Equal(t, tc.code, code, "stdout: %s\nstderr: %s", out, errb)
			if tc.err != "" {
				assert.Contains(t, errb.String(), tc.err)
			} else {
				assert.Empty(t, errb.String())
				assert.NotEmpty(t, out.String())
			}
		})
	}
}

func TestParseInterspersed(t *testing.T) {
	t.Parallel()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	req := fs.String("requester", "", "")
	j := fs.Bool("json", false, "")
	pos, err := parseInterspersed(fs, []string{"553557881", "--requester", "146295999727", "--json", "--", "--not-a-flag"})
	require.NoError(t, err)
	assert.Equal(t, []string{"553557881", "--not-a-flag"}, pos)
	assert.Equal(t, "146295999727", *req)
	assert.True(t, *j)
}

func TestReadBoxCSVNeverTurnsAMissingBoxIntoZero(t *testing.T) {
	t.Parallel()
	f, err := readBoxCSV([]byte("1,10\n2,0\n4,\n6,100\n7,0\n8,0\n9,0\n"))
	require.NoError(t, err)
	_, _, probs := f.toReturn("24A1", true)
	var boxes []int
	for _, p := range probs {
		boxes = append(boxes, p.box)
	}
	assert.Equal(t, []int{4}, boxes, "box 4 is empty: a problem, not zero")
	assert.Contains(t, probs[0].String(), "box 4: MANDATORY_FIELD_MISSING: empty at line 3")

	f, err = readBoxCSV([]byte("1,10\n2,0\n4,5\n6,100\n7,0\n8,0\n9,0\n"))
	require.NoError(t, err)
	r, computed, probs := f.toReturn("24A1", true)
	assert.Empty(t, probs)
	assert.True(t, computed[3] && computed[5])
	assert.Equal(t, vat.Money(1000), r.TotalVATDue)
	assert.Equal(t, vat.Money(500), r.NetVATDue)
}

func TestAmountsAsSpreadsheetsWriteThem(t *testing.T) {
	t.Parallel()
	f, err := readBoxJSON([]byte(`{"box1":"£1,234.50","box2":0,"box3":"1234.5","box4":"-£10","box5":"1244.50","box6":"1,000","box7":0,"box8":0,"box9":"0.00"}`))
	require.NoError(t, err)
	r, _, probs := f.toReturn("24A1", false)
	assert.Empty(t, probs)
	assert.Equal(t, vat.Money(123450), r.VATDueSales)
	assert.Equal(t, vat.Money(-1000), r.VATReclaimedCurrPeriod)
	assert.Equal(t, vat.Pounds(1000), r.TotalValueSalesExVAT)
}

func TestAppendReceiptKeepsEveryLine(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sub", "receipts.jsonl")
	for _, id := range []string{"a", "b"} {
		require.NoError(t, appendReceipt(path, receiptEntry{VRN: "123456789", PeriodKey: "24A1", Receipt: &vat.Receipt{FormBundleNumber: id}}))
	}
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"formBundleNumber":"a"`)
	assert.Contains(t, lines[1], `"formBundleNumber":"b"`)
	fi, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestComputeNeverUsesAMissingBox(t *testing.T) {
	t.Parallel()
	f, err := readBoxCSV([]byte("1,10\n2,0\n6,100\n7,0\n8,0\n9,0\n")) // box 4 missing
	require.NoError(t, err)
	r, computed, probs := f.toReturn("24A1", true)
	assert.True(t, computed[3], "boxes 1 and 2 are there")
	assert.False(t, computed[5], "box 5 needs box 4")
	assert.Equal(t, vat.Money(0), r.NetVATDue)
	require.Len(t, probs, 1)
	assert.Equal(t, 4, probs[0].box)
}

func TestDeclarationIsShownWhole(t *testing.T) {
	t.Parallel()
	w := wrap(declaration, 80)
	for _, line := range strings.Split(w, "\n") {
		assert.LessOrEqual(t, len(line), 80)
	}
	assert.Equal(t, declaration, strings.ReplaceAll(w, "\n", " "), "the words of HMRC's declaration are unchanged")
}

func TestTablesHaveNoTrailingSpaces(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	require.NoError(t, showBoxes(&b, [10]string{1: "1.00", 2: "200000.00"}, map[int]string{1: "(computed)"}))
	for _, line := range strings.Split(b.String(), "\n") {
		assert.Equal(t, strings.TrimRight(line, " "), line)
	}
	assert.Contains(t, b.String(), "1.00       (computed)\n", "columns still line up")
}

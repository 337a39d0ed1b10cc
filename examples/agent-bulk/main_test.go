package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
)

// raisedLimit keeps the tests short: HMRC's 3 requests per second would make
// 20 clients take seven seconds. The tests assert what is reported, never
// how fast.
const raisedLimit = "500"

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)
	return rows
}

// TestSyncMatchesTheSimulator checks that after one run the planner knows
// every obligation of every client as the simulator holds it.
func TestSyncMatchesTheSimulator(t *testing.T) {
	cfg := defaultConfig()
	cfg.clients, cfg.rate = 30, 500
	p, err := newPractice(cfg, nil)
	require.NoError(t, err)
	defer p.close()
	var out bytes.Buffer
	rep, err := p.sync(context.Background(), newProgress(&out, len(p.vrns)))
	require.NoError(t, err)
	require.Len(t, rep.Records, 30)
	assert.EqualValues(t, 30, rep.Fetched, "one request per client")
	assert.Empty(t, rep.Problems)
	for _, r := range rep.Records {
		want := p.srv.Obligations(string(r.VRN))
		require.Len(t, r.Obligations, len(want), "client %s", r.VRN)
		for i, o := range r.Obligations {
			assert.Equal(t, want[i].PeriodKey, string(o.PeriodKey))
			assert.Equal(t, want[i].Due, o.Due.String())
			assert.Equal(t, want[i].Received == "", !o.Fulfilled())
		}
	}
}

func TestRunPrintsDueSoonestAndWritesTheCSV(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "portfolio.csv")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-n", "20", "-rate", raisedLimit, "-csv", csvPath, "-soonest", "5"}, &out))
	text := out.String()
	assert.Regexp(t, `20 clients, 20 fetched in [^;]+; \d+ open obligations, \d+ overdue\.`, text)
	assert.Contains(t, text, "Due soonest:")
	assert.Contains(t, text, "fetched 20 of 20\n", "plain progress lines when not on a terminal")
	assert.NotContains(t, text, "\r", "no bar when not on a terminal")

	// The listing is the open obligations due soonest, in order.
	lines := strings.Split(text[strings.Index(text, "Due soonest:"):], "\n")
	listed := lines[2:7]
	var dues []string
	for _, l := range listed {
		f := strings.Fields(l)
		require.GreaterOrEqual(t, len(f), 4, "line %q", l)
		dues = append(dues, f[3])
	}
	assert.True(t, slices.IsSorted(dues), "due dates ascending: %v", dues)

	rows := readCSV(t, csvPath)
	assert.Equal(t, []string{"vrn", "period_key", "start", "end", "due", "status", "received", "client_status"}, rows[0])
	vrns := map[string]bool{}
	for _, r := range rows[1:] {
		vrns[r[0]] = true
		assert.Contains(t, []string{"O", "F"}, r[5])
		assert.Equal(t, r[5] == "F", r[6] != "", "received date iff fulfilled")
	}
	assert.Len(t, vrns, 20, "every client is in the CSV")
	fi, err := os.Stat(csvPath)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestRunReadsTheVRNFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clients.txt")
	require.NoError(t, os.WriteFile(file, []byte("# my clients\n123456789\n\n987654321  # a monthly one\n123456789\n"), 0o600))
	csvPath := filepath.Join(dir, "out.csv")
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), []string{"-vrns", file, "-rate", raisedLimit, "-csv", csvPath}, &out))
	assert.Contains(t, out.String(), "2 clients, 2 fetched")
	got := map[string]bool{}
	for _, r := range readCSV(t, csvPath)[1:] {
		got[r[0]] = true
	}
	assert.Equal(t, map[string]bool{"123456789": true, "987654321": true}, got)
}

func TestBadVRNFileIsRefusedNamingTheLine(t *testing.T) {
	t.Parallel()
	_, err := parseVRNs(strings.NewReader("123456789\n12345678X\n"), "clients.txt")
	assert.ErrorContains(t, err, `clients.txt, line 2: "12345678X" is not a VRN`)
	_, err = parseVRNs(strings.NewReader("# nothing\n\n"), "clients.txt")
	assert.ErrorContains(t, err, "no VRN")
}

// TestStateSkipsClientsNotDue runs twice with the same state directory: the
// second run fetches nothing, since no client's schedule has come round, and
// still reports the whole portfolio.
func TestStateSkipsClientsNotDue(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "clients.txt")
	require.NoError(t, os.WriteFile(file, []byte("123456789\n987654321\n"), 0o600))
	state := filepath.Join(dir, "state")
	args := []string{"-vrns", file, "-rate", raisedLimit, "-state", state, "-csv", ""}
	var first, second bytes.Buffer
	require.NoError(t, run(context.Background(), args, &first))
	assert.Contains(t, first.String(), "2 clients, 2 fetched")
	require.NoError(t, run(context.Background(), args, &second))
	assert.Contains(t, second.String(), "2 clients, 0 fetched")
	// The portfolio is the same, from the state.
	cut := func(s string) string { return s[strings.Index(s, "open obligations")-4:] }
	assert.Equal(t, cut(first.String()), cut(second.String()))
}

func TestProgressBarOnATerminalPlainLinesOtherwise(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	bar := &progress{out: &out, terminal: true, total: 4, shown: -1}
	bar.update(2)
	bar.finish(4)
	assert.Equal(t, "\rFetching [###############...............] 2/4\rFetching [##############################] 4/4\n", out.String())

	out.Reset()
	plain := newProgress(&out, 100)
	assert.False(t, plain.terminal, "a buffer is not a terminal")
	for _, n := range []int{0, 5, 10, 11, 55, 100} {
		plain.update(n)
	}
	plain.finish(100)
	assert.Equal(t, "fetched 0 of 100\nfetched 10 of 100\nfetched 55 of 100\nfetched 100 of 100\n", out.String())
}

func TestPrintReport(t *testing.T) {
	t.Parallel()
	d := func(s string) vat.Date {
		v, err := vat.ParseDate(s)
		require.NoError(t, err)
		return v
	}
	rep := &report{
		Clients: 2, Fetched: 2, Elapsed: 1500 * time.Millisecond,
		Records: []agentsync.Record{
			{VRN: "123456789", Obligations: []vat.Obligation{
				{PeriodKey: "25A1", Start: d("2025-01-01"), End: d("2025-03-31"), Due: d("2025-05-07"), Status: vat.ObligationOpen},
				{PeriodKey: "25A2", Start: d("2025-04-01"), End: d("2025-06-30"), Due: d("2025-08-07"), Status: vat.ObligationOpen},
			}},
			{VRN: "987654321", Obligations: []vat.Obligation{
				{PeriodKey: "25M5", Start: d("2025-05-01"), End: d("2025-05-31"), Due: d("2025-07-07"), Status: vat.ObligationOpen},
				{PeriodKey: "25M4", Start: d("2025-04-01"), End: d("2025-04-30"), Due: d("2025-06-07"), Status: vat.ObligationFulfilled, Received: d("2025-06-01")},
			}},
		},
	}
	var out bytes.Buffer
	printReport(&out, rep, 2, time.Date(2025, 7, 1, 12, 0, 0, 0, time.UTC))
	assert.Equal(t, `
2 clients, 2 fetched in 1.5s; 3 open obligations, 1 overdue.

Due soonest:
VRN        KEY   PERIOD END  DUE         
123456789  25A1  2025-03-31  2025-05-07  overdue
987654321  25M5  2025-05-31  2025-07-07  
`, out.String())
}

func TestRunRefusesBadFlags(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-n", "0"}, "at least one client"},
		{[]string{"-rate", "0"}, "at least 1 request per second"},
		{[]string{"-soonest", "-1"}, "-soonest"},
		{[]string{"-vrns", "/nonexistent/clients.txt"}, "-vrns"},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-nope"}, "not defined"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := run(context.Background(), tt.args, &out)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"
)

// TestQuickstartRunsOffline runs the README's main job against the
// in-process simulator and checks each step's outcome in its output.
func TestQuickstartRunsOffline(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var out bytes.Buffer
	require.NoError(t, run(ctx, &out, config{deviceIDDir: t.TempDir()}))
	text := out.String()
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^  \d{12}\s+\d{9}\s+\d{4}-\d{2}-\d{2}`),                                   // the test business
		regexp.MustCompile(`saved \(single use; rotated on refresh\)`),                                    // signed in
		regexp.MustCompile(`(VALID_HEADERS|POTENTIALLY_INVALID_HEADERS): `),                               // fraud headers checked, not invalid
		regexp.MustCompile(`(?m)^  \w{4}\s+\d{12}\s+\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\s+[0-9a-f-]{36}`), // the receipt
		regexp.MustCompile(`(?m)^  5\s+net VAT due\s+£8324\.57$`),                                         // the filed return
		regexp.MustCompile(`fulfilled \d{4}-\d{2}-\d{2}\n(.*\n)*8\. Liabilities`),                         // the obligation is fulfilled
		regexp.MustCompile(`VAT Return Debit Charge\s+\S+\s+£8324\.57\s+£8324\.57`),                       // the liability it raised
		regexp.MustCompile(`(?m)^  £5000\.00\s+\d{4}-\d{2}-\d{2}$`),                                       // the payment
		regexp.MustCompile(`late submission points\s+4 active of 4`),
		regexp.MustCompile(`Done: every step of the journey worked\.`),
	} {
		assert.Regexp(t, want, text)
	}
	assert.NotContains(t, text, "INVALID_HEADERS: At least 1 header is invalid")
	if strings.Contains(text, "POTENTIALLY_INVALID_HEADERS") {
		assert.Contains(t, text, "Warnings, not errors", "warnings are explained")
	}
	assert.Contains(t, text, "documented example, whatever the business's", "canned penalties are explained")
}

// TestHelpExitsZeroAndRunsNothing checks that -h prints the usage, naming
// the environment variables, and ends successfully without running the
// journey; an unknown flag is a usage error.
func TestHelpExitsZeroAndRunsNothing(t *testing.T) {
	for _, arg := range []string{"-h", "--help", "-help"} {
		var stdout, stderr bytes.Buffer
		code, done := parseArgs([]string{arg}, &stdout, &stderr)
		assert.True(t, done, arg)
		assert.Equal(t, 0, code, arg)
		for _, v := range []string{"HMRC_CLIENT_ID", "HMRC_CLIENT_SECRET", "HMRC_REDIRECT_URI"} {
			assert.Contains(t, stdout.String(), v)
		}
	}
	var stdout, stderr bytes.Buffer
	code, done := parseArgs([]string{"-nope"}, &stdout, &stderr)
	assert.True(t, done)
	assert.Equal(t, 2, code)
	code, done = parseArgs(nil, &stdout, &stderr)
	assert.False(t, done)
	assert.Equal(t, 0, code)
}

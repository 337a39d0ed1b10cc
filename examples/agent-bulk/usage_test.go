package main

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestHelpExitsZero checks that -h prints the usage, which says what the
// tool reads from the environment, and ends successfully without running
// anything, and that a bad command line is a usage error (exit status 2).
func TestHelpExitsZero(t *testing.T) {
	var out, stderr bytes.Buffer
	err := run(context.Background(), []string{"-h"}, &out)
	assert.Equal(t, 0, exitCode(err, &stderr))
	assert.Contains(t, out.String(), "Usage: agent-bulk")
	assert.Contains(t, out.String(), "environment variables")
	assert.NotContains(t, out.String(), "fetched", "nothing ran")

	err = run(context.Background(), []string{"-n", "x"}, &out)
	assert.Equal(t, 2, exitCode(err, &stderr))
	err = run(context.Background(), []string{"extra"}, &out)
	assert.Equal(t, 2, exitCode(err, &stderr))
}

package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestUsageNamesTheEnvironment checks that -h tells which environment
// variables the program reads.
func TestUsageNamesTheEnvironment(t *testing.T) {
	for _, v := range []string{"HMRC_CLIENT_ID", "HMRC_CLIENT_SECRET"} {
		assert.Contains(t, usage, v)
	}
}

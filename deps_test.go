package vat

import (
	"os"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoPrereleaseDependencies checks that go.mod requires no release
// candidate, alpha or beta of any module: vendors of this package inherit
// them.
func TestNoPrereleaseDependencies(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("go.mod")
	require.NoError(t, err)
	pre := regexp.MustCompile(`(?m)^\s*(?:require\s+)?(\S+)\s+(v\d+\.\d+\.\d+-(?:rc|alpha|beta|pre)[^\s]*)`)
	for _, m := range pre.FindAllStringSubmatch(string(data), -1) {
		assert.Failf(t, "pre-release dependency", "%s %s", m[1], m[2])
	}
}

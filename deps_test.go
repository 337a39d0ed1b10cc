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

// TestVersionIsTheNewestRelease checks that Version, sent in every
// User-Agent, is the newest release the changelog records.
func TestVersionIsTheNewestRelease(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("CHANGELOG.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`(?m)^## v(\d+\.\d+\.\d+)\b`).FindStringSubmatch(string(data))
	require.NotNil(t, m, "the changelog records a release")
	assert.Equal(t, m[1], Version)
}

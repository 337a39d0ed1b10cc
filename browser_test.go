package vat

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestOpenBrowserRefusesOtherSchemes(t *testing.T) {
	t.Parallel()
	for _, u := range []string{"file:///etc/passwd", "javascript:alert(1)", "-a", ""} {
		assert.Error(t, openBrowser(u), u)
	}
}

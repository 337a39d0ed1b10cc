package vat

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"golang.org/x/oauth2"
)

func TestApplicationRestrictedMarker(t *testing.T) {
	t.Parallel()
	var app any = &ApplicationTokenSource{}
	_, ok := app.(applicationRestricted)
	assert.True(t, ok, "the pipeline must be able to recognise application tokens")
	_, ok = app.(RefreshingTokenSource)
	assert.True(t, ok)
	_, ok = app.(oauth2.TokenSource)
	assert.True(t, ok)

	var user any = &UserTokenSource{}
	_, ok = user.(applicationRestricted)
	assert.False(t, ok, "user tokens must not carry the marker")
}

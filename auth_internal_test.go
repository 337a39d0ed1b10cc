package vat

import (
	"context"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
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

func TestExpiresIn(t *testing.T) {
	t.Parallel()
	base := &oauth2.Token{AccessToken: "a"}
	tests := []struct {
		name string
		tok  *oauth2.Token
		want int64
	}{
		{"field", &oauth2.Token{ExpiresIn: 14400}, 14400},
		{"JSON response", base.WithExtra(map[string]any{"expires_in": float64(14400)}), 14400},
		{"form response", base.WithExtra(url.Values{"expires_in": {"14400"}}), 14400},
		{"string in JSON", base.WithExtra(map[string]any{"expires_in": "3600"}), 3600},
		{"negative", base.WithExtra(map[string]any{"expires_in": float64(-5)}), 0},
		{"absurd", base.WithExtra(map[string]any{"expires_in": float64(1 << 40)}), 0},
		{"missing", base, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, expiresIn(tt.tok))
		})
	}
}

func TestZeroValueSourcesRefuseWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	tok := &oauth2.Token{AccessToken: "a"}
	var u UserTokenSource
	_, err := u.TokenContext(ctx)
	assert.ErrorContains(t, err, "NewUserTokenSource")
	_, err = u.RefreshToken(ctx, tok)
	assert.ErrorContains(t, err, "NewUserTokenSource")
	var a ApplicationTokenSource
	_, err = a.TokenContext(ctx)
	assert.ErrorContains(t, err, "NewApplicationTokenSource")
	_, err = a.RefreshToken(ctx, tok)
	assert.ErrorContains(t, err, "NewApplicationTokenSource")
}

// TestUnexportedSecretHoldersFormatRedacted: the unexported structs that
// carry tokens or the sign-in's secrets print none of them with any verb.
func TestUnexportedSecretHoldersFormatRedacted(t *testing.T) {
	t.Parallel()
	const marker = "INTERNALMARK"
	tok := &oauth2.Token{AccessToken: "at-" + marker, RefreshToken: "rt-" + marker}
	ar := &AuthRequest{State: "state-" + marker, Verifier: "verifier-" + marker}
	cfg := &oauth2.Config{ClientID: "id", ClientSecret: "secret-" + marker}
	values := []any{
		&refreshPlan{refreshToken: tok.RefreshToken, accessToken: tok.AccessToken, rejected: tok.AccessToken},
		tokenResult{tok: tok},
		signInResult{tok: tok},
		&callback{path: "/", ar: ar, cfg: cfg},
	}
	for _, v := range values {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d"} {
			for _, s := range []string{fmt.Sprintf(verb, v), fmt.Sprintf(verb, []any{v})} {
				assert.NotContains(t, s, marker, "%T with %s", v, verb)
				assert.NotContains(t, strings.ToLower(s), hex.EncodeToString([]byte(marker)), "%T with %s", v, verb)
			}
		}
	}
}

package vat_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
)

// formatVerbs are the ways a value reaches a log line or an error through
// fmt; %x and %X are checked for the hex of the secret too.
var formatVerbs = []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%10.3v"}

// secretForms returns the spellings of the marker a verb may produce.
func secretForms(marker string) []string {
	h := hex.EncodeToString([]byte(marker))
	return []string{marker, h, strings.ToUpper(h)}
}

// TestSecretHoldersFormatRedacted formats every type that holds a token, a
// client secret, a password, a PKCE verifier or an OAuth state with every
// fmt verb, inside a struct and a slice, and logs it with slog's text and
// JSON handlers: no secret ever appears. The token sources are used first,
// so that they hold tokens, and the user's source holds a refresh token
// HMRC refused.
func TestSecretHoldersFormatRedacted(t *testing.T) {
	t.Parallel()
	f := newFakeOAuth(t, newAuthClock())
	f.echoRefresh = true
	ctx := context.Background()

	// A user's source whose refresh HMRC refused: it remembers the refused
	// refresh token so as not to send it again.
	refusedStore := vat.NewMemoryStore(f.grant())
	refused := newUserSource(t, f, refusedStore)
	f.endGrants()
	f.clock.Advance(5 * time.Hour)
	_, refusal := refused.TokenContext(ctx)
	require.ErrorIs(t, refusal, vat.ErrReauthorizationRequired)

	// A working user's source on a file store, and an application source.
	fs := newFileStore(t)
	require.NoError(t, fs.Save(ctx, f.grant()))
	working := newUserSource(t, f, fs)
	_, err := working.TokenContext(ctx)
	require.NoError(t, err)
	app := newAppSource(t, f, nil)
	_, err = app.TokenContext(ctx)
	require.NoError(t, err)

	oauthApp := vat.OAuthApp{ClientID: fakeClientID, ClientSecret: fakeSecret,
		RedirectURL: "http://localhost:8080/callback", Scopes: []string{vat.ScopeReadVAT}}
	ar := vat.NewAuthRequest()
	ar.State += leakMarker
	ar.Verifier += leakMarker
	user := vat.TestUser{UserID: "945350439195", Password: "pw-" + leakMarker, VRN: "666563548",
		UserFullName: "Ida Newton", EmailAddress: "ida.newton@example.com"}
	var te *vat.TokenError
	require.ErrorAs(t, refusal, &te)
	client, err := vat.NewClient(vat.WithTokenSource(working), vat.WithApplicationTokenSource(
		oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app-static-" + leakMarker})))
	require.NoError(t, err)

	values := []struct {
		name string
		v    any
	}{
		{"refused UserTokenSource", refused},
		{"UserTokenSource", working},
		{"ApplicationTokenSource", app},
		{"FileStore", fs},
		{"MemoryStore", refusedStore},
		{"OAuthApp", oauthApp},
		{"*OAuthApp", &oauthApp},
		{"AuthRequest", *ar},
		{"*AuthRequest", ar},
		{"TestUser", user},
		{"*TestUser", &user},
		{"TokenError", *te},
		{"*TokenError", te},
		{"refusal error", refusal},
		{"Client", client},
	}
	secrets := append(secretForms(leakMarker), secretForms(strings.TrimSuffix(ar.State, leakMarker))...)
	secrets = append(secrets, secretForms(strings.TrimSuffix(ar.Verifier, leakMarker))...)
	for _, tt := range values {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var texts []string
			for _, verb := range formatVerbs {
				texts = append(texts,
					fmt.Sprintf(verb, tt.v),
					fmt.Sprintf(verb, struct{ Held any }{tt.v}),
					fmt.Sprintf(verb, []any{tt.v}))
			}
			for _, newHandler := range []func(*bytes.Buffer) slog.Handler{
				func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
				func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
			} {
				var b bytes.Buffer
				logger := slog.New(newHandler(&b))
				logger.Info("holder", "value", tt.v)
				logger.Info("holder", slog.Any("value", tt.v), slog.Group("g", "value", tt.v))
				texts = append(texts, b.String())
			}
			for _, s := range texts {
				require.NotEmpty(t, s)
				for _, secret := range secrets {
					assert.NotContains(t, s, secret)
				}
				f.noLeak(t, s)
			}
		})
	}
}

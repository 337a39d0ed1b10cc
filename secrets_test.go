package vat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

const secretMarker = "S3CRETMARK"

// TestSecretsNeverLeak drives every kind of failure with an access token, a
// refresh token, a client secret, an application token and fraud
// prevention headers that all contain a marker, and scans every error
// string (with %v, %+v and %#v) and every log line: the marker never
// appears. HMRC's side echoes what it was sent where a careless server
// might (error descriptions, error bodies).
func TestSecretsNeverLeak(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	mode := ""
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		m := mode
		mu.Unlock()
		auth := r.Header.Get("Authorization")
		device := r.Header.Get("Gov-Client-Device-ID")
		w.Header().Set("Content-Type", "application/json")
		switch m {
		case "401":
			w.WriteHeader(401)
			fmt.Fprint(w, `{"code":"INVALID_CREDENTIALS","message":"Invalid Authentication information provided"}`)
		case "echo":
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"code": "INVALID_REQUEST", "message": "you sent " + auth + " from " + device})
		case "html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(502)
			fmt.Fprintf(w, "<html>proxy saw %s %s</html>", auth, device)
		case "legacy":
			w.WriteHeader(400)
			fmt.Fprint(w, `{"statusCode":400,"message":"INVALID_DATE_FROM"}`)
		case "garbage":
			fmt.Fprintf(w, `{"obligations":[{"start":"%s"}]}`, auth)
		case "drop":
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case "submit-500":
			w.WriteHeader(500)
			fmt.Fprint(w, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`)
		default:
			w.WriteHeader(404)
		}
	}))
	t.Cleanup(api.Close)

	// A token endpoint that refuses the refresh and quotes it back.
	oauthSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(400)
		json.NewEncoder(w).Encode(map[string]string{"error": "invalid_grant",
			"error_description": "refresh token " + r.PostForm.Get("refresh_token") + " for secret " + r.PostForm.Get("client_secret") + " is invalid"})
	}))
	t.Cleanup(oauthSrv.Close)

	var logs bytes.Buffer
	var logMu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedBuffer{&logs, &logMu}, &slog.HandlerOptions{Level: slog.LevelDebug}))

	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: "client", ClientSecret: "secret-" + secretMarker})
	require.NoError(t, err)
	cfg.Endpoint.TokenURL = oauthSrv.URL
	store := vat.NewMemoryStore(&oauth2.Token{AccessToken: "access-" + secretMarker, RefreshToken: "refresh-" + secretMarker,
		TokenType: "bearer", Expiry: time.Now().Add(time.Hour)})
	users, err := vat.NewUserTokenSource(cfg, store)
	require.NoError(t, err)
	fh := desktopHeaders(t)
	fh.DeviceID = "0b2c61b4-7f0e-4f7e-9a55-" + strings.ToLower("5ec4e7")
	fh.UserIDs = []fraud.KeyValue{{Key: "my-application", Value: "user-" + secretMarker}}
	fh.VendorLicenseIDs = []fraud.KeyValue{{Key: "licence", Value: "hash-" + secretMarker}}

	c, err := vat.NewClient(vat.WithBaseURL(api.URL), vat.WithTokenSource(users), vat.WithLogger(logger),
		vat.WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app-" + secretMarker})),
		vat.WithFraudHeaders(fraud.Static(*fh)), vat.WithRateLimiter(vat.NoRateLimit),
		vat.WithRetry(vat.RetryPolicy{MaxAttempts: 2, InitialBackoff: time.Millisecond, MaxBackoff: time.Millisecond}))
	require.NoError(t, err)
	ctx := context.Background()
	q := vat.ObligationsQuery{Status: vat.ObligationOpen}
	ret := vat.Return{PeriodKey: "18A1", Finalised: true}

	var errs []error
	for _, m := range []string{"echo", "html", "legacy", "garbage", "drop", "notfound", "submit-500", "401"} {
		mu.Lock()
		mode = m
		mu.Unlock()
		_, err := c.Obligations(ctx, "123456789", q)
		errs = append(errs, err)
		_, err = c.SubmitReturn(ctx, "123456789", ret)
		errs = append(errs, err)
		_, err = c.CreateTestOrganisation(ctx, vat.TestUserRequest{})
		errs = append(errs, err)
	}
	// Local refusals: a bad header value from a bad source, a bad return.
	bad := fh.Clone()
	bad.VendorProductName = "x" + secretMarker + "\n"
	_, err = c.Obligations(ctx, "123456789", q, vat.WithCallFraudHeaders(fraud.Static(*bad)))
	errs = append(errs, err)
	_, err = c.SubmitReturn(ctx, "123456789", vat.Return{PeriodKey: secretMarker})
	errs = append(errs, err)

	require.NotEmpty(t, errs)
	sawReauth := false
	failed := 0
	for i, err := range errs {
		if err == nil {
			continue // a test-user call happily decodes any JSON object
		}
		failed++
		for _, s := range []string{err.Error(), fmt.Sprintf("%v", err), fmt.Sprintf("%+v", err), fmt.Sprintf("%#v", err)} {
			assert.NotContains(t, s, secretMarker, "call %d", i)
		}
		var apiErr *vat.APIError
		if errors.As(err, &apiErr) {
			assert.NotContains(t, string(apiErr.RawBody), "Bearer", "RawBody keeps what HMRC sent, so a server that echoes the token is the only way in; ours is caught here")
		}
		sawReauth = sawReauth || errors.Is(err, vat.ErrReauthorizationRequired)
	}
	assert.GreaterOrEqual(t, failed, len(errs)-1)
	assert.True(t, sawReauth, "the refused refresh surfaced as ErrReauthorizationRequired")
	logMu.Lock()
	out := logs.String()
	logMu.Unlock()
	assert.NotEmpty(t, out)
	assert.NotContains(t, out, secretMarker)
}

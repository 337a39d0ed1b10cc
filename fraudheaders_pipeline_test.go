package vat_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// desktopHeaders is HMRC's documented example set for DESKTOP_APP_DIRECT
// (see fraudfixture_test.go).
var desktopHeaders = vat.DesktopHeadersFixture

func TestFraudHeadersGoOnEveryRequest(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	var calls int
	var mu sync.Mutex
	src := fraud.SourceFunc(func(ctx context.Context) (*fraud.Headers, error) {
		mu.Lock()
		calls++
		mu.Unlock()
		return fh.Clone(), nil
	})
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(src),
		vat.WithApplicationTokenSource(oauth2.StaticTokenSource(srv.IssueApplicationToken().OAuth2())))
	ctx := context.Background()
	vrn := vat.VRN(user.VRN)

	_, err := c.Obligations(ctx, vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.NoError(t, err)
	_, err = c.Penalties(ctx, vrn)
	require.NoError(t, err)

	reqs := srv.Requests()
	require.Len(t, reqs, 2)
	for _, r := range reqs {
		assert.Equal(t, "DESKTOP_APP_DIRECT", r.FraudHeaders.Get("Gov-Client-Connection-Method"), r.Path)
		assert.Equal(t, "os=domain%5Calice&my-application=alice123", r.FraudHeaders.Get("Gov-Client-User-IDs"), "encoded exactly as HMRC's example")
		assert.Equal(t, 14, r.FraudHeaders.Len(), "every header of the method")
	}
	assert.Equal(t, 2, calls, "collected once per request")

	// HMRC's Test Fraud Prevention Headers API, through the client.
	v, err := c.CheckFraudHeaders(ctx)
	require.NoError(t, err)
	assert.Equal(t, fraud.CodeValidHeaders, v.Code)
	assert.True(t, v.Valid())
	fb, err := c.FraudHeadersFeedback(ctx, vat.FraudHeadersAPIVAT, fraud.DesktopAppDirect)
	require.NoError(t, err)
	require.Len(t, fb.Requests, 2, "the latest request to each endpoint used")
	for _, r := range fb.Requests {
		assert.Equal(t, fraud.CodeValidHeaders, r.Code, r.Path)
		require.Len(t, r.Headers, 14, "a verdict for each header sent")
		for _, h := range r.Headers {
			assert.Equal(t, fraud.CodeValidHeader, h.Code, h.Header)
			require.NotNil(t, h.Value, h.Header)
		}
	}
	_, err = c.FraudHeadersFeedback(ctx, "vat/mtd", "")
	assert.ErrorContains(t, err, "api must be")
	_, err = c.FraudHeadersFeedback(ctx, vat.FraudHeadersAPIVAT, "CARRIER_PIGEON")
	assert.ErrorContains(t, err, "unknown connection method")
}

func TestIncompleteFraudHeadersAreNotSent(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	fh.MACAddresses = nil // required for DESKTOP_APP_DIRECT
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*fh)))
	_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "Gov-Client-MAC-Addresses")
	assert.Empty(t, srv.Requests(), "nothing was sent")

	// Agreed with HMRC: the header may be left out.
	fh.AgreedMissing = fraud.NewHeaderSet(fraud.GovClientMACAddresses)
	c = simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*fh)))
	_, err = c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.NoError(t, err)

	failing := fraud.SourceFunc(func(context.Context) (*fraud.Headers, error) { return nil, errors.New("no network interfaces") })
	_, err = c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithCallFraudHeaders(failing))
	assert.ErrorContains(t, err, "no network interfaces")
	assert.Len(t, srv.Requests(), 1)
}

func TestPerCallFraudHeadersOverrideTheClients(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*desktopHeaders(t))))
	other := desktopHeaders(t)
	other.DeviceID = "9e0ea0d1-7b4c-4c7e-b64a-2f9d0c5b2a11"
	_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen},
		vat.WithCallFraudHeaders(fraud.Static(*other)))
	require.NoError(t, err)
	assert.Equal(t, "9e0ea0d1-7b4c-4c7e-b64a-2f9d0c5b2a11", srv.Requests()[0].FraudHeaders.Get("Gov-Client-Device-ID"))
	_, err = c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithCallFraudHeaders(nil))
	assert.Error(t, err)
}

func TestProductionRequiresFraudHeaders(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	_, err := vat.NewClient(vat.WithEnvironment(vat.Production), vat.WithBaseURL(srv.URL), vat.WithTokenSource(oauth2.StaticTokenSource(tok.OAuth2())))
	assert.ErrorIs(t, err, fraud.ErrNoHeaders, "refused when the Client is made, not at each call")
	c := simClient(t, srv, tok.OAuth2(), vat.WithEnvironment(vat.Production), vat.WithPerCallFraudHeaders())
	_, err = c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	assert.ErrorIs(t, err, fraud.ErrNoHeaders)
	assert.Empty(t, srv.Requests())
	_, err = vat.NewClient(vat.WithFraudHeaders(nil))
	assert.Error(t, err)
}

func TestInvalidFraudHeadersAreRejectedWhenTheSimulatorEnforcesThem(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0), vattest.WithFraudHeaderEnforcement())
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	fh.Timezone = fraud.Timezone{} // not sent: required
	fh.AgreedMissing = fraud.NewHeaderSet(fraud.GovClientTimezone)
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*fh)))
	_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	var apiErr *vat.APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, 400, apiErr.StatusCode)
	assert.Equal(t, "INVALID_HEADERS", apiErr.Code)
}

// TestFraudHeaderValuesNeverAppearInErrorsOrLogs drives failing calls with
// fraud headers carrying a marker and scans every error and log line.
func TestFraudHeaderValuesNeverAppearInErrorsOrLogs(t *testing.T) {
	t.Parallel()
	const marker = "FPHMARK"
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	fh.UserIDs = []fraud.KeyValue{{Key: "my-application", Value: "alice-" + marker}}
	fh.VendorProductName = "Acme " + marker
	var logs bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewJSONHandler(lockedBuffer{&logs, &mu}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*fh)), vat.WithLogger(logger))
	ctx := context.Background()
	var errs []error
	_, err := c.Obligations(ctx, "000000000", vat.ObligationsQuery{Status: vat.ObligationOpen})
	errs = append(errs, err)
	_, err = c.ViewReturn(ctx, vat.VRN(user.VRN), "ZZZ9")
	errs = append(errs, err)
	bad := fh.Clone()
	bad.UserIDs = append(bad.UserIDs, fraud.KeyValue{Key: "x", Value: marker + "\r\nX-Evil: 1"})
	_, err = c.Penalties(ctx, vat.VRN(user.VRN), vat.WithCallFraudHeaders(fraud.Static(*bad)))
	errs = append(errs, err)
	for _, err := range errs {
		require.Error(t, err)
		assert.NotContains(t, err.Error(), marker)
		assert.NotContains(t, fmt.Sprintf("%+v", err), marker)
	}
	mu.Lock()
	assert.NotContains(t, logs.String(), marker)
	mu.Unlock()
	for _, r := range srv.Requests() {
		assert.False(t, strings.Contains(fmt.Sprint(r), marker), "the simulator's request log prints no values")
	}
	assert.NotContains(t, fmt.Sprintf("%v %+v %#v", fh, fh, fh), marker, "printing the model shows no values")
}

func TestPrintingFraudHeadersNeverShowsValues(t *testing.T) {
	t.Parallel()
	fh := desktopHeaders(t)
	fh.VendorProductName = "Acme-PRINTMARK"
	src := fraud.Static(*fh)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		assert.NotContains(t, fmt.Sprintf(verb, *fh), "PRINTMARK", verb)
		assert.NotContains(t, fmt.Sprintf(verb, fh), "PRINTMARK", verb)
		assert.NotContains(t, fmt.Sprintf(verb, src), "PRINTMARK", verb)
		assert.NotContains(t, fmt.Sprintf(verb, []fraud.Headers{*fh}), "PRINTMARK", verb)
	}
}

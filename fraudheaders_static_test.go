package vat_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fraud.Static encodes its headers once; these tests check that the
// Client sends exactly what it sends for any other source, and that the
// shared encoding cannot leak from one request into another.

func TestStaticFraudHeadersSendWhatAnyOtherSourceSends(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	fh.AgreedEmpty = fraud.NewHeaderSet(fraud.GovClientPublicPort) // sent empty: not required, no value
	want, err := fh.Header()
	require.NoError(t, err)
	require.Contains(t, want, "Gov-Client-Public-Port")
	sources := []struct {
		name string
		src  fraud.Source
	}{
		{"static", fraud.Static(*fh)},
		{"func", fraud.SourceFunc(func(context.Context) (*fraud.Headers, error) { return fh.Clone(), nil })},
	}
	for _, s := range sources {
		c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(s.src))
		for range 2 {
			_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
			require.NoError(t, err, s.name)
		}
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 2*len(sources))
	for i, r := range reqs {
		assert.Equal(t, want, http.Header(r.FraudHeaders), "request %d (%s)", i, sources[i/2].name)
	}
}

// headerScribbler is a transport that breaks the RoundTripper contract by
// overwriting the fraud prevention header values of the requests it sends,
// in place, after sending them.
type headerScribbler struct{ next http.RoundTripper }

func (s headerScribbler) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := s.next.RoundTrip(req)
	for k, v := range req.Header {
		if len(k) > 4 && k[:4] == "Gov-" {
			v[0] = "scribbled"
		}
	}
	return resp, err
}

func TestStaticFraudHeadersAreCopiedForEachRequest(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	want, err := fh.Header()
	require.NoError(t, err)
	hc := &http.Client{Transport: headerScribbler{srv.Client().Transport}}
	c := simClient(t, srv, tok.OAuth2(), vat.WithHTTPClient(hc), vat.WithFraudHeaders(fraud.Static(*fh)))
	for range 3 {
		_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
		require.NoError(t, err)
	}
	reqs := srv.Requests()
	require.Len(t, reqs, 3)
	for i, r := range reqs {
		assert.Equal(t, want, http.Header(r.FraudHeaders), "request %d", i)
	}
}

func TestStaticFraudHeadersWithADoneContextSendNothing(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*desktopHeaders(t))))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Obligations(ctx, vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.ErrorIs(t, err, context.Canceled)
	assert.ErrorContains(t, err, "collecting fraud prevention headers")
	assert.Empty(t, srv.Requests())
}

func TestStaticFraudHeadersThatCannotBeSentFailEveryCall(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	fh := desktopHeaders(t)
	fh.DeviceID = "bad\r\nX-Injected: 1"
	c := simClient(t, srv, tok.OAuth2(), vat.WithFraudHeaders(fraud.Static(*fh)))
	for range 2 {
		_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
		var fhErr *fraud.HeaderError
		require.ErrorAs(t, err, &fhErr)
		assert.Equal(t, fraud.GovClientDeviceID, fhErr.Header)
		assert.ErrorContains(t, err, "fraud prevention headers not sent")
		assert.NotContains(t, err.Error(), "X-Injected")
	}
	assert.Empty(t, srv.Requests())
}

func TestStaticFraudHeadersSourcePrintsNoValues(t *testing.T) {
	t.Parallel()
	const marker = "FPHMARK"
	fh := desktopHeaders(t)
	fh.VendorProductName = "Acme " + marker
	src := fraud.Static(*fh)
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%T"} {
		out := fmt.Sprintf(verb, src)
		assert.NotContains(t, out, marker, verb)
		assert.NotContains(t, out, fmt.Sprintf("%x", marker), verb)
	}
	assert.Contains(t, fmt.Sprint(src), "DESKTOP_APP_DIRECT")
}

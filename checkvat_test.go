package vat

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestCheckVATNumberFixturesDecode(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"lookup-200.json", "lookup-requester-200.json"} {
		t.Run(f, func(t *testing.T) {
			dec := json.NewDecoder(bytes.NewReader(readFixture(t, "hmrc/check-vat-number/"+f)))
			dec.DisallowUnknownFields() // every field HMRC documents has a home
			var reg VATRegistration
			require.NoError(t, dec.Decode(&reg))
			assert.Equal(t, "Credite Sberger Donal Inc.", reg.Target.Name)
			assert.Equal(t, "SW97 5CK", reg.Target.Address.Postcode)
			_, offset := reg.ProcessingDate.Zone()
			assert.Equal(t, 0, offset)
			assert.Equal(t, 2019, reg.ProcessingDate.Year())
		})
	}
}

func TestCheckVATNumber(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app-token"})))
	mux.HandleFunc("GET /organisations/vat/check-vat-number/lookup/{target}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "Bearer app-token", r.Header.Get("Authorization"), "application-restricted")
		assert.Equal(t, "application/vnd.hmrc.2.0+json", r.Header.Get("Accept"))
		switch r.PathValue("target") {
		case "553557881":
			w.Write(readFixture(t, "hmrc/check-vat-number/lookup-200.json"))
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write(readFixture(t, "hmrc/check-vat-number/lookup-404.json"))
		}
	})
	mux.HandleFunc("GET /organisations/vat/check-vat-number/lookup/{target}/{requester}", func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, "application/vnd.hmrc.2.0+json", r.Header.Get("Accept"))
		if r.PathValue("requester") != "146295999727" {
			w.WriteHeader(http.StatusForbidden)
			w.Write(readFixture(t, "hmrc/check-vat-number/lookup-requester-403.json"))
			return
		}
		w.Write(readFixture(t, "hmrc/check-vat-number/lookup-requester-200.json"))
	})
	ctx := context.Background()

	reg, err := c.CheckVATNumber(ctx, "553557881")
	require.NoError(t, err)
	assert.Equal(t, RegisteredBusiness{Name: "Credite Sberger Donal Inc.", VATNumber: "553557881",
		Address: BusinessAddress{Line1: "131B Barton Hamlet", Postcode: "SW97 5CK", CountryCode: "GB"}}, reg.Target)
	assert.Empty(t, reg.ConsultationNumber)
	assert.True(t, reg.ProcessingDate.Equal(time.Date(2019, 1, 31, 12, 43, 17, 0, time.UTC)), reg.ProcessingDate)
	assert.Equal(t, []string{"131B Barton Hamlet", "SW97 5CK", "GB"}, reg.Target.Address.Lines())

	reg, err = c.CheckVATNumberWithRequester(ctx, "553557881", "146295999727")
	require.NoError(t, err)
	assert.Equal(t, "ypAeKRPlW", reg.ConsultationNumber)
	assert.Equal(t, "146295999727", reg.Requester)

	_, err = c.CheckVATNumber(ctx, "123456789")
	assert.ErrorIs(t, err, ErrNotFound)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, "targetVrn does not match a registered company", apiErr.Message)

	_, err = c.CheckVATNumberWithRequester(ctx, "553557881", "123456789")
	assert.ErrorIs(t, err, ErrInvalidRequest)
	require.ErrorAs(t, err, &apiErr)
	assert.Equal(t, http.StatusForbidden, apiErr.StatusCode)
}

func TestCheckVATNumberRefusesBadNumbersBeforeSending(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c, mux := setup(t, WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app-token"})))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { calls.Add(1) })
	ctx := context.Background()
	for _, tc := range []struct {
		target, requester VRN
		paths             []string
	}{
		{"GB553557881", "", []string{"targetVrn"}},
		{"12345678", "", []string{"targetVrn"}},
		{"1234567890", "", []string{"targetVrn"}},
		{"553557881", "14629599972", []string{"requesterVrn"}},
		{"", "x", []string{"targetVrn", "requesterVrn"}},
	} {
		var err error
		if tc.requester == "" {
			_, err = c.CheckVATNumber(ctx, tc.target)
		} else {
			_, err = c.CheckVATNumberWithRequester(ctx, tc.target, tc.requester)
		}
		var ve *ValidationError
		require.True(t, errors.As(err, &ve), "%s/%s: %v", tc.target, tc.requester, err)
		var paths []string
		for _, p := range ve.Problems {
			paths = append(paths, p.Path)
		}
		assert.Equal(t, tc.paths, paths)
		assert.ErrorIs(t, err, ErrInvalidRequest)
	}
	// Twelve-digit numbers (VAT groups and divisions) are accepted.
	_, err := c.CheckVATNumberWithRequester(ctx, "553557881", "146295999727")
	var ve *ValidationError
	assert.False(t, errors.As(err, &ve), "12 digits is a valid requester: %v", err)
	assert.Equal(t, int32(1), calls.Load(), "only the valid request was sent")
}

func TestCheckVATNumberNeedsAnApplicationToken(t *testing.T) {
	t.Parallel()
	c, _ := setup(t) // a user token only
	_, err := c.CheckVATNumber(context.Background(), "553557881")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithApplicationTokenSource")
}

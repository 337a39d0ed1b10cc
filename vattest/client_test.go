package vattest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// Twenty calls through the helper meet no limiter on either side: the
// client's limiter is vat.NoRateLimit, and the server, with its clock stopped
// (so a sliding window could never empty), answers every call 200.
func TestNewTestClientHasNoRateLimitOnEitherSide(t *testing.T) {
	tc := vattest.NewTestClient(t)
	assert.Equal(t, vat.NoRateLimit, tc.Limiter)
	assert.Equal(t, 0, tc.Server.RateLimit())
	tc.Server.SetNow(tc.Server.Now())

	ctx := context.Background()
	for range 20 {
		_, err := tc.Obligations(ctx, vat.VRN(tc.User.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
		require.NoError(t, err)
	}
	reqs := tc.Server.Requests()
	require.Len(t, reqs, 20)
	for _, r := range reqs {
		assert.Equal(t, http.StatusOK, r.Status)
	}
}

// NewClient on an existing server files and reads back a return, and
// refreshes its token through the server's OAuth endpoint once the token
// expires on the server's clock.
func TestServerNewClientFilesAndRefreshes(t *testing.T) {
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	tc := srv.NewClient(t)
	ctx := context.Background()
	obs, err := tc.Obligations(ctx, vat.VRN(tc.User.VRN), vat.ObligationsQuery{Status: vat.ObligationOpen})
	require.NoError(t, err)
	require.NotEmpty(t, obs)
	key := obs[0].PeriodKey
	_, err = tc.SubmitReturn(ctx, vat.VRN(tc.User.VRN), vat.Return{PeriodKey: key, VATDueSales: 1000, TotalVATDue: 1000, NetVATDue: 1000, Finalised: true})
	require.NoError(t, err)

	srv.Advance(5 * time.Hour) // past the four-hour access token
	got, err := tc.ViewReturn(ctx, vat.VRN(tc.User.VRN), key)
	require.NoError(t, err)
	assert.Equal(t, vat.Money(1000), got.NetVATDue)

	cfg := srv.OAuthConfig()
	assert.Equal(t, srv.URL+"/oauth/token", cfg.Endpoint.TokenURL)
	assert.Equal(t, oauth2.AuthStyleInParams, cfg.Endpoint.AuthStyle)
}

// BenchmarkTestClient20Obligations measures the README's case: 20
// obligations calls through NewTestClient's *vat.Client.
func BenchmarkTestClient20Obligations(b *testing.B) {
	b.ReportAllocs()
	tc := vattest.NewTestClient(b)
	ctx := context.Background()
	q := vat.ObligationsQuery{Status: vat.ObligationOpen}
	for b.Loop() {
		for range 20 {
			if _, err := tc.Obligations(ctx, vat.VRN(tc.User.VRN), q); err != nil {
				b.Fatal(err)
			}
		}
	}
}

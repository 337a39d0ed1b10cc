package vattest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCheckVATNumberAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.srv.mu.Lock()
	app := f.srv.issueAppTokenLocked(f.srv.defaultApp.ClientID, "read:vat", scopeReadVAT)
	noScope := f.srv.issueAppTokenLocked(f.srv.defaultApp.ClientID, "", 0)
	f.srv.mu.Unlock()
	hdr := map[string]string{"Accept": acceptV2, "Authorization": "Bearer " + app.AccessToken}
	const lookup = "/organisations/vat/check-vat-number/lookup/"

	t.Run("HMRC's example", func(t *testing.T) {
		r := f.do(t, "GET", lookup+"553557881", hdr, "")
		require.Equal(t, 200, r.status, r.body)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		assert.Equal(t, map[string]any{"name": "Credite Sberger Donal Inc.", "vatNumber": "553557881",
			"address": map[string]any{"line1": "131B Barton Hamlet", "postcode": "SW97 5CK", "countryCode": "GB"}}, got["target"])
		assert.Regexp(t, `^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d$`, got["processingDate"], "HMRC's format, UK time with its offset")
		assert.NotContains(t, got, "consultationNumber")
	})
	t.Run("a simulated organisation, with a requester", func(t *testing.T) {
		r := f.do(t, "GET", lookup+f.user.VRN+"/146295999727", hdr, "")
		require.Equal(t, 200, r.status, r.body)
		var got struct {
			Target struct {
				Name, VATNumber string
			}
			Requester, ConsultationNumber string
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		assert.Equal(t, f.user.VRN, got.Target.VATNumber)
		assert.NotEmpty(t, got.Target.Name)
		assert.Equal(t, "146295999727", got.Requester)
		assert.Regexp(t, `^[A-Za-z]{9}$`, got.ConsultationNumber)
	})
	for _, tc := range []struct {
		name, path string
		hdr        map[string]string
		status     int
		body       string
	}{
		{"unknown target", lookup + "123456789", hdr, 404, string(bodyCheckTargetUnknown)},
		{"unknown requester", lookup + "553557881/123456789", hdr, 403, string(bodyCheckRequesterUnknown)},
		{"unknown target and requester", lookup + "123456789/123456789", hdr, 404, string(bodyCheckTargetUnknown)},
		{"bad target", lookup + "GB553557881", hdr, 400, `{"code":"INVALID_REQUEST","message":"Invalid targetVrn - Vrn parameters should be 9 or 12 digits"}`},
		{"bad requester", lookup + "553557881/1", hdr, 400, `{"code":"INVALID_REQUEST","message":"Invalid requesterVrn - Vrn parameters should be 9 or 12 digits"}`},
		{"both bad", lookup + "1/2", hdr, 400, `{"code":"INVALID_REQUEST","message":"Invalid targetVrn and requesterVrn - Vrn parameters should be 9 or 12 digits"}`},
		{"version 1.0", lookup + "553557881", map[string]string{"Accept": acceptV1, "Authorization": hdr["Authorization"]}, 406, string(bodyAcceptInvalid)},
		{"no token", lookup + "553557881", map[string]string{"Accept": acceptV2, "Authorization": ""}, 401, string(bodyMissingCredentials)},
		{"no read:vat", lookup + "553557881", map[string]string{"Accept": acceptV2, "Authorization": "Bearer " + noScope.AccessToken}, 403, string(bodyInvalidScope)},
		{"too many segments", lookup + "553557881/146295999727/x", hdr, 404, string(bodyMatchingResourceNotFound)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(t, "GET", tc.path, tc.hdr, "")
			assert.Equal(t, tc.status, r.status)
			assert.JSONEq(t, tc.body, r.body)
		})
	}
	t.Run("a user's token with read:vat is accepted too", func(t *testing.T) {
		r := f.do(t, "GET", lookup+"553557881", map[string]string{"Accept": acceptV2}, "")
		assert.Equal(t, 200, r.status, r.body)
	})
}

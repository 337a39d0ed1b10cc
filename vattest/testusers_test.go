package vattest

import (
	"encoding/json"
	"os"
	"testing"

	"github.com/go-mtd/vat/vattest/internal/vrn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCreateTestUserAPI(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	app := f.srv.IssueApplicationToken()
	auth := map[string]string{"Authorization": "Bearer " + app.AccessToken}

	t.Run("organisation with mtd-vat", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "POST", "/create-test-user/organisations", auth, `{"serviceNames":["mtd-vat"]}`)
		require.Equal(t, 201, r.status, r.body)
		var u map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &u))
		assert.Regexp(t, `^\d{12}$`, u["userId"])
		assert.Regexp(t, `^[a-z]{12}$`, u["password"])
		assert.True(t, vrn.Valid(u["vrn"].(string)), "check-digit-valid VRN %v", u["vrn"])
		assert.Regexp(t, `^\d{4}-\d{2}-\d{2}$`, u["vatRegistrationDate"])
		assert.Contains(t, u, "organisationDetails")
		assert.Contains(t, u, "individualDetails")
		assert.Contains(t, u, "groupIdentifier")
		// the user is enrolled and has an ended, open period to submit
		obs := f.srv.Obligations(u["vrn"].(string))
		require.Len(t, obs, 3)
		assert.Equal(t, "25A1", obs[1].PeriodKey)
		assert.Empty(t, obs[1].Received)
	})
	t.Run("organisation with the example's services", func(t *testing.T) {
		t.Parallel()
		req, err := os.ReadFile("testdata/tu-create-organisation-request.json")
		require.NoError(t, err)
		example, err := os.ReadFile("testdata/tu-create-organisation-response.json")
		require.NoError(t, err)
		r := f.do(t, "POST", "/create-test-user/organisations", auth, string(req))
		require.Equal(t, 201, r.status, r.body)
		var got, want map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		require.NoError(t, json.Unmarshal(example, &want))
		for k := range want {
			assert.Contains(t, got, k, "HMRC's example has %s", k)
		}
		assert.Equal(t, "GB123456789012", got["eoriNumber"])
		assert.Equal(t, "GBWK254706100", got["exciseNumber"])
		assert.Equal(t, "Individual", got["taxPayerType"])
	})
	t.Run("individual", func(t *testing.T) {
		t.Parallel()
		req, err := os.ReadFile("testdata/tu-create-individual-request.json")
		require.NoError(t, err)
		example, err := os.ReadFile("testdata/tu-create-individual-response.json")
		require.NoError(t, err)
		r := f.do(t, "POST", "/create-test-user/individuals", auth, string(req))
		require.Equal(t, 201, r.status, r.body)
		var got, want map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		require.NoError(t, json.Unmarshal(example, &want))
		for k := range want {
			assert.Contains(t, got, k)
		}
		assert.NotContains(t, got, "organisationDetails")
		// individuals use the same /organisations/vat URLs
		tok, err := f.srv.IssueToken(got["userId"].(string))
		require.NoError(t, err)
		g := &fixture{f.srv, TestUser{VRN: got["vrn"].(string)}, tok}
		assert.Equal(t, 200, g.do(t, "GET", g.vat("/obligations?status=O"), nil, "").status)
	})
	t.Run("agent", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "POST", "/create-test-user/agents", auth, `{"serviceNames":["agent-services"]}`)
		require.Equal(t, 201, r.status, r.body)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		assert.Regexp(t, `^NARN\d{7}$`, got["agentServicesAccountNumber"])
		assert.ElementsMatch(t, []string{"userId", "password", "userFullName", "emailAddress", "agentServicesAccountNumber"}, keys(got))
	})
	t.Run("organisation without mtd-vat is not enrolled", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "POST", "/create-test-user/organisations", auth, `{"serviceNames":["submit-vat-returns"]}`)
		require.Equal(t, 201, r.status, r.body)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		require.Contains(t, got, "vrn")
		tok, err := f.srv.IssueToken(got["userId"].(string))
		require.NoError(t, err)
		g := &fixture{f.srv, TestUser{VRN: got["vrn"].(string)}, tok}
		r = g.do(t, "GET", g.vat("/obligations?status=O"), nil, "")
		assert.Equal(t, 403, r.status)
		assert.Equal(t, wantNotAuthorised, r.body)
	})
	t.Run("services", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/create-test-user/services", auth, "")
		require.Equal(t, 200, r.status)
		var got []struct {
			Key              string
			Name             string
			AllowedUserTypes []string
		}
		require.NoError(t, json.Unmarshal([]byte(r.body), &got))
		require.Len(t, got, 20)
		for _, s := range got {
			if s.Key == "mtd-vat" {
				assert.Equal(t, []string{"INDIVIDUAL", "ORGANISATION"}, s.AllowedUserTypes)
			}
		}
	})
	t.Run("errors", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "POST", "/create-test-user/organisations", auth, `{"serviceNames":["no-such-service"]}`)
		assert.Equal(t, 400, r.status)
		r = f.do(t, "POST", "/create-test-user/organisations", auth, `{"serviceNames":`)
		assert.Equal(t, 400, r.status)
		r = f.do(t, "POST", "/create-test-user/organisations", map[string]string{"Authorization": "Bearer " + app.AccessToken, "Content-Type": "text/plain"}, `{}`)
		assert.Equal(t, 415, r.status)
		r = f.do(t, "POST", "/create-test-user/individuals", auth, `{"serviceNames":["national-insurance"],"nino":"PE938808A"}`)
		require.Equal(t, 201, r.status)
		r = f.do(t, "POST", "/create-test-user/individuals", auth, `{"serviceNames":["national-insurance"],"nino":"PE938808A"}`)
		assert.Equal(t, 400, r.status)
		assert.Equal(t, `{"code":"NINO_ALREADY_USED","message":"The nino specified has already been used"}`, r.body)
		r = f.do(t, "POST", "/create-test-user/organisations", map[string]string{"Authorization": ""}, `{}`)
		assert.Equal(t, 401, r.status)
		assert.Equal(t, wantMissingCreds, r.body)
		r = f.do(t, "GET", "/create-test-user/organisations", auth, "")
		assert.Equal(t, 404, r.status, "must be POST")
	})
	t.Run("a user token may call application-restricted endpoints", func(t *testing.T) {
		t.Parallel()
		r := f.do(t, "GET", "/create-test-user/services", nil, "")
		assert.Equal(t, 200, r.status)
	})
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestCreateOrganisationDirect(t *testing.T) {
	t.Parallel()
	srv := NewTestServer(t)
	seen := map[string]bool{}
	for range 50 {
		u, err := srv.CreateOrganisation(Organisation{})
		require.NoError(t, err)
		assert.True(t, vrn.Valid(u.VRN), u.VRN)
		assert.False(t, seen[u.VRN])
		seen[u.VRN] = true
		assert.Equal(t, "organisation", u.Kind)
		assert.Regexp(t, `^\d{12}$`, u.UserID)
	}
}

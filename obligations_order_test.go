package vat_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"testing"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/vattest"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestObligationsFirstProblemIsHMRCsAnswer sends each bad query both ways:
// through the SDK, which refuses it locally, and raw to vattest, which
// answers with the one code HMRC's service would (its validation order is
// hmrc/vat-api's). The first problem the SDK reports must be that code.
func TestObligationsFirstProblemIsHMRCsAnswer(t *testing.T) {
	t.Parallel()
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	user, tok := srv.TestOrganisation(t, vattest.Organisation{})
	c := simClient(t, srv, tok.OAuth2())
	d := func(s string) vat.Date {
		v, err := vat.ParseDate(s)
		require.NoError(t, err)
		return v
	}
	far := vat.NewDate(10000, 1, 1)
	queries := []vat.ObligationsQuery{
		{},
		{Status: "X"},
		{Status: vat.ObligationFulfilled},
		{From: d("2017-01-01")},
		{From: d("2017-01-01"), Status: "Z"},
		{From: d("2017-01-01"), Status: vat.ObligationFulfilled},
		{To: d("2017-01-01"), Status: "Z"},
		{From: far, To: d("2017-01-01"), Status: "Z"},
		{From: d("2017-01-01"), To: far, Status: "Z"},
		{From: far, To: far},
		{From: d("2018-01-01"), To: d("2017-01-01"), Status: "Z"},
		{From: d("2017-01-01"), To: d("2017-01-01")},
		{From: d("2017-01-01"), To: d("2018-01-02"), Status: vat.ObligationOpen},
	}
	for _, q := range queries {
		_, err := c.Obligations(context.Background(), vat.VRN(user.VRN), q)
		var ve *vat.ValidationError
		require.ErrorAs(t, err, &ve, "%+v", q)
		require.NotEmpty(t, ve.Problems)

		v := url.Values{}
		if !q.From.IsZero() {
			v.Set("from", q.From.String())
		}
		if !q.To.IsZero() {
			v.Set("to", q.To.String())
		}
		if q.Status != "" {
			v.Set("status", string(q.Status))
		}
		req, err := http.NewRequest("GET", srv.URL+"/organisations/vat/"+user.VRN+"/obligations?"+v.Encode(), nil)
		require.NoError(t, err)
		req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		res, err := srv.Client().Do(req)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		res.Body.Close()
		require.NoError(t, err)
		require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s: %s", v.Encode(), body)
		var legacy struct {
			Message string `json:"message"`
		}
		require.NoError(t, json.Unmarshal(body, &legacy))
		assert.Equal(t, legacy.Message, ve.Problems[0].Code, "query %s: HMRC answers %s", v.Encode(), body)
	}
}

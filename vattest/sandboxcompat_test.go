package vattest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// HMRC's sandbox stores a return for any well-formed period key and shows it
// on viewing; a second one for the key is a duplicate.
func TestReturnForAnyPeriodKeyIsStoredByDefault(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	body := validReturn(t, map[string]string{"periodKey": `"18AA"`})
	r := f.do(t, "POST", f.vat("/returns"), nil, body)
	require.Equal(t, 201, r.status, r.body)
	var receipt map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.body), &receipt))
	assert.NotEmpty(t, receipt["formBundleNumber"])
	assert.NotContains(t, receipt, "chargeRefNumber", "no obligation, so no liability")

	v := f.do(t, "GET", f.vat("/returns/18AA"), nil, "")
	require.Equal(t, 200, v.status)
	assert.Contains(t, v.body, `"periodKey":"18AA"`)

	again := f.do(t, "POST", f.vat("/returns"), nil, body)
	assert.Equal(t, 403, again.status)
	assert.JSONEq(t, string(bodyDuplicateSubmission), again.body)
	assert.Equal(t, SubmissionCounts{Received: 2, Accepted: 1}, f.srv.Submissions(f.user.VRN))
}

func TestObligationBoundReturnsRefuseUnknownPeriodKey(t *testing.T) {
	t.Parallel()
	f := newFixture(t, WithObligationBoundReturns())
	r := f.do(t, "POST", f.vat("/returns"), nil, validReturn(t, map[string]string{"periodKey": `"18AA"`}))
	assert.Equal(t, 400, r.status)
	assert.JSONEq(t, `{"code":"PERIOD_KEY_INVALID","message":"Invalid period key"}`, r.body)
	assert.Equal(t, 404, f.do(t, "GET", f.vat("/returns/18AA"), nil, "").status)
}

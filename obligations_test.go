package vat

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func date(t testing.TB, s string) Date {
	t.Helper()
	d, err := ParseDate(s)
	require.NoError(t, err)
	return d
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", filepath.FromSlash(name)))
	require.NoError(t, err)
	return b
}

// TestObligationFixtures decodes HMRC's documented obligations examples and
// checks every field.
func TestObligationFixtures(t *testing.T) {
	t.Parallel()
	type want struct {
		start, end, due, received string
		status                    ObligationStatus
		key                       PeriodKey
	}
	quarterly := []want{
		{"2017-01-01", "2017-03-31", "2017-05-07", "2017-05-06", ObligationFulfilled, "18A1"},
		{"2017-04-01", "2017-06-30", "2017-08-07", "", ObligationOpen, "18A2"},
	}
	monthly := []want{
		{"2017-01-01", "2017-01-31", "2017-03-07", "2017-03-06", ObligationFulfilled, "18AD"},
		{"2017-02-01", "2017-02-28", "2017-04-07", "", ObligationOpen, "18AE"},
	}
	for file, exp := range map[string][]want{
		"hmrc/raml/ObligationsQuarterly.json":                         quarterly,
		"hmrc/raml/ObligationsMonthly.json":                           monthly,
		"hmrc/oas/RetrieveVATobligations/response-200-example-1.json": quarterly,
		"hmrc/oas/RetrieveVATobligations/response-200-example-2.json": monthly,
	} {
		var out struct {
			Obligations []Obligation `json:"obligations"`
		}
		require.NoError(t, json.Unmarshal(readFixture(t, file), &out), file)
		require.Len(t, out.Obligations, len(exp), file)
		for i, w := range exp {
			o := out.Obligations[i]
			assert.Equal(t, w.start, o.Start.String(), file)
			assert.Equal(t, w.end, o.End.String(), file)
			assert.Equal(t, w.due, o.Due.String(), file)
			assert.Equal(t, w.received, o.Received.String(), file)
			assert.Equal(t, w.status, o.Status, file)
			assert.Equal(t, w.key, o.PeriodKey, file)
			assert.Equal(t, w.status == ObligationFulfilled, o.Fulfilled())
		}
	}
}

func TestObligationSubmittable(t *testing.T) {
	t.Parallel()
	o := Obligation{Start: date(t, "2017-04-01"), End: date(t, "2017-06-30"), Status: ObligationOpen}
	assert.False(t, o.Submittable(date(t, "2017-06-30")), "not on the period's last day")
	assert.True(t, o.Submittable(date(t, "2017-07-01")))
	o.Status = ObligationFulfilled
	assert.False(t, o.Submittable(date(t, "2017-07-01")))
}

// TestObligationsQueryRules checks every rule of HMRC's obligations query
// validation at its boundaries (VAT (MTD) API §9.1).
func TestObligationsQueryRules(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		q     ObligationsQuery
		codes []string
	}{
		{"open without dates", ObligationsQuery{Status: ObligationOpen}, nil},
		{"fulfilled without dates", ObligationsQuery{Status: ObligationFulfilled}, []string{"MISSING_DATE_RANGE"}},
		{"no status, no dates", ObligationsQuery{}, []string{"INVALID_DATE_FROM"}},
		{"bad status, no dates", ObligationsQuery{Status: "X"}, []string{"INVALID_STATUS"}},
		{"lower-case status", ObligationsQuery{Status: "o", From: date(t, "2017-01-01"), To: date(t, "2017-02-01")}, []string{"INVALID_STATUS"}},
		{"only from", ObligationsQuery{From: date(t, "2017-01-01")}, []string{"INVALID_DATE_TO"}},
		{"only to", ObligationsQuery{To: date(t, "2017-01-01")}, []string{"INVALID_DATE_FROM"}},
		{"same day", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2017-01-01")}, []string{"INVALID_DATE_RANGE"}},
		{"one day", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2017-01-02")}, nil},
		{"inverted", ObligationsQuery{From: date(t, "2017-01-02"), To: date(t, "2017-01-01")}, []string{"INVALID_DATE_RANGE"}},
		{"exactly one year", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2018-01-01")}, nil},
		{"one year and a day", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2018-01-02")}, []string{"INVALID_DATE_RANGE"}},
		{"29 February plus a year", ObligationsQuery{From: date(t, "2020-02-29"), To: date(t, "2021-02-28")}, nil},
		{"29 February plus a year and a day", ObligationsQuery{From: date(t, "2020-02-29"), To: date(t, "2021-03-01")}, []string{"INVALID_DATE_RANGE"}},
		{"fulfilled with range", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2017-12-31"), Status: ObligationFulfilled}, nil},
		{"five-digit year", ObligationsQuery{From: NewDate(10000, 1, 1), To: NewDate(10000, 2, 1)}, []string{"INVALID_DATE_FROM", "INVALID_DATE_TO"}},
		{"bad status and range", ObligationsQuery{From: date(t, "2018-01-01"), To: date(t, "2017-01-01"), Status: "Z"}, []string{"INVALID_STATUS", "INVALID_DATE_RANGE"}},
		// HMRC checks the dates before the status, and reports one code: the
		// first problem listed is the one HMRC would answer
		// (ObligationParameterFormatValidation in hmrc/vat-api).
		{"bad status and only from", ObligationsQuery{From: date(t, "2017-01-01"), Status: "Z"}, []string{"INVALID_DATE_TO", "INVALID_STATUS"}},
		{"bad status and only to", ObligationsQuery{To: date(t, "2017-01-01"), Status: "Z"}, []string{"INVALID_DATE_FROM", "INVALID_STATUS"}},
		{"bad from and bad status", ObligationsQuery{From: NewDate(10000, 1, 1), To: date(t, "2017-01-01"), Status: "Z"}, []string{"INVALID_DATE_FROM", "INVALID_STATUS"}},
		{"bad to and bad status", ObligationsQuery{From: date(t, "2017-01-01"), To: NewDate(10000, 1, 1), Status: "Z"}, []string{"INVALID_DATE_TO", "INVALID_STATUS"}},
		{"fulfilled with only from", ObligationsQuery{From: date(t, "2017-01-01"), Status: ObligationFulfilled}, []string{"INVALID_DATE_TO"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := validate("Obligations", tc.q.check)
			if tc.codes == nil {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			var codes []string
			for _, p := range ve.Problems {
				codes = append(codes, p.Code)
				assert.NotEmpty(t, p.Path)
				assert.NotEmpty(t, p.Message)
			}
			assert.Equal(t, tc.codes, codes)
			for _, c := range tc.codes {
				assert.ErrorIs(t, err, ErrorCode(c))
			}
		})
	}
}

func TestObligationsBadInputSendsNothing(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	for _, tc := range []struct {
		vrn  VRN
		q    ObligationsQuery
		path string
	}{
		{"12345678", ObligationsQuery{Status: ObligationOpen}, "vrn"},
		{"GB123456789", ObligationsQuery{Status: ObligationOpen}, "vrn"},
		{"123456789", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2019-01-01")}, "to"},
		{"123456789", ObligationsQuery{Status: ObligationFulfilled}, "from"},
	} {
		_, err := c.Obligations(context.Background(), tc.vrn, tc.q)
		var ve *ValidationError
		require.ErrorAs(t, err, &ve)
		assert.Equal(t, tc.path, ve.Problems[0].Path)
		assert.Equal(t, "Obligations", ve.Op)
	}
	_, err := c.Obligations(context.Background(), "bad", ObligationsQuery{Status: "?"})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Len(t, ve.Problems, 2, "every problem is listed")
	assert.ErrorIs(t, err, ErrVRNInvalid)
	assert.ErrorIs(t, err, ErrInvalidStatus)
	assert.Zero(t, n.Load(), "nothing was sent")
}

func TestObligationsThroughTheClient(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	fixture := readFixture(t, "hmrc/raml/ObligationsQuarterly.json")
	mux.HandleFunc("GET /organisations/vat/{vrn}/obligations", func(w http.ResponseWriter, r *http.Request) {
		switch r.PathValue("vrn") {
		case "123456789":
			w.Header().Set("Content-Type", "application/json")
			w.Write(fixture)
		case "999999999":
			writeJSON(w, 400, `{"statusCode":400,"message":"INVALID_DATE_FROM"}`)
		default:
			writeJSON(w, 403, `{"code":"RULE_INSOLVENT_TRADER","message":"The remote endpoint has indicated that the Trader is insolvent"}`)
		}
	})
	obs, err := c.Obligations(context.Background(), "123456789", ObligationsQuery{From: date(t, "2017-01-01"), To: date(t, "2017-12-31")})
	require.NoError(t, err)
	require.Len(t, obs, 2)
	assert.Equal(t, PeriodKey("18A2"), obs[1].PeriodKey)
	assert.True(t, obs[1].Submittable(DateOf(time.Date(2017, 7, 1, 0, 0, 0, 0, time.UTC))))

	_, err = c.Obligations(context.Background(), "999999999", ObligationsQuery{Status: ObligationOpen})
	assert.ErrorIs(t, err, ErrInvalidDateFrom, "the legacy body's message is its code")
	_, err = c.Obligations(context.Background(), "111111111", ObligationsQuery{Status: ObligationOpen})
	assert.ErrorIs(t, err, ErrInsolventTrader)
}

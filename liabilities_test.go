package vat

import (
	"context"
	"encoding/json"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func money(m Money) *Money { return &m }

func TestLiabilityAndPaymentFixtures(t *testing.T) {
	t.Parallel()
	for _, file := range []string{"hmrc/raml/Liabilities.json", "hmrc/oas/RetrieveVATliabilities/response-200-example.json"} {
		var out struct {
			Liabilities []Liability `json:"liabilities"`
		}
		require.NoError(t, json.Unmarshal(readFixture(t, file), &out), file)
		require.Len(t, out.Liabilities, 1)
		l := out.Liabilities[0]
		require.NotNil(t, l.TaxPeriod)
		assert.Equal(t, DateRange{date(t, "2018-04-06"), date(t, "2018-07-06")}, *l.TaxPeriod)
		assert.Equal(t, "VAT ...", l.Type)
		assert.Equal(t, Money(600030), l.OriginalAmount, "6000.3 is £6,000.30")
		assert.Equal(t, money(10051), l.OutstandingAmount)
		assert.Equal(t, date(t, "2018-07-06"), l.Due)
	}
	for _, file := range []string{"hmrc/raml/Payments.json", "hmrc/oas/RetrieveVATpayments/response-200-example.json"} {
		var out struct {
			Payments []Payment `json:"payments"`
		}
		require.NoError(t, json.Unmarshal(readFixture(t, file), &out), file)
		require.Len(t, out.Payments, 1)
		assert.Equal(t, Payment{Amount: 10005, Received: date(t, "2018-04-06")}, out.Payments[0])
	}
	var l Liability
	require.NoError(t, json.Unmarshal([]byte(`{"type":"VAT Return Debit Charge","originalAmount":-1.5}`), &l))
	assert.Nil(t, l.TaxPeriod)
	assert.Nil(t, l.OutstandingAmount)
	assert.True(t, l.Due.IsZero())
	assert.Equal(t, Money(-150), l.OriginalAmount)
}

// TestFinancialDateRules checks HMRC's liabilities and payments date rules
// at their boundaries (VAT (MTD) API §9.4), with "today" 2026-11-24 in UTC.
func TestFinancialDateRules(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC)
	late := time.Date(2026, 7, 24, 23, 30, 0, 0, time.UTC) // 00:30 on the 25th in the UK (summer time)
	tests := []struct {
		name  string
		r     DateRange
		now   time.Time
		codes []string
	}{
		{"earliest from", DateRange{date(t, "2016-04-06"), date(t, "2017-04-05")}, now, nil},
		{"from a day too early", DateRange{date(t, "2016-04-05"), date(t, "2017-04-04")}, now, []string{"DATE_FROM_INVALID"}},
		{"to today", DateRange{date(t, "2026-01-01"), date(t, "2026-11-24")}, now, nil},
		{"to tomorrow", DateRange{date(t, "2026-01-01"), date(t, "2026-11-25")}, now, []string{"DATE_TO_INVALID"}},
		{"to tomorrow in UTC, but today in the UK", DateRange{date(t, "2026-01-01"), date(t, "2026-07-25")}, late, nil},
		{"a year less a day", DateRange{date(t, "2017-01-01"), date(t, "2017-12-31")}, now, nil},
		{"a full year", DateRange{date(t, "2017-01-01"), date(t, "2018-01-01")}, now, []string{"DATE_RANGE_INVALID"}},
		{"from 29 February", DateRange{date(t, "2020-02-29"), date(t, "2021-02-27")}, now, nil},
		{"from 29 February, to 28 February", DateRange{date(t, "2020-02-29"), date(t, "2021-02-28")}, now, []string{"DATE_RANGE_INVALID"}},
		{"same day", DateRange{date(t, "2017-01-01"), date(t, "2017-01-01")}, now, []string{"DATE_RANGE_INVALID"}},
		{"inverted", DateRange{date(t, "2017-02-01"), date(t, "2017-01-01")}, now, []string{"DATE_RANGE_INVALID"}},
		{"missing both", DateRange{}, now, []string{"DATE_FROM_INVALID", "DATE_TO_INVALID"}},
		{"bad from hides the range check", DateRange{date(t, "2015-01-01"), date(t, "2015-01-01")}, now, []string{"DATE_FROM_INVALID"}},
		{"five-digit year", DateRange{NewDate(10000, 1, 1), NewDate(10000, 2, 1)}, now, []string{"DATE_FROM_INVALID", "DATE_TO_INVALID"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewClient(anyTokens, WithClock(func() time.Time { return tc.now }))
			require.NoError(t, err)
			err = validate("Liabilities", checkFinancialRange(tc.r, c.today()))
			if tc.codes == nil {
				assert.NoError(t, err)
				return
			}
			var ve *ValidationError
			require.ErrorAs(t, err, &ve)
			var codes []string
			for _, p := range ve.Problems {
				codes = append(codes, p.Code)
			}
			assert.Equal(t, tc.codes, codes)
		})
	}
}

func TestLiabilitiesAndPaymentsThroughTheClient(t *testing.T) {
	t.Parallel()
	now := func() time.Time { return time.Date(2019, 1, 1, 12, 0, 0, 0, time.UTC) }
	c, mux := setup(t, WithClock(now))
	var queries []string
	var mu atomic.Int32
	liab := readFixture(t, "hmrc/raml/Liabilities.json")
	pay := readFixture(t, "hmrc/raml/Payments.json")
	serve := func(fixture []byte) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Add(1)
			queries = append(queries, r.URL.RawQuery)
			switch r.URL.Query().Get("from") {
			case "2018-01-01":
				w.Header().Set("Content-Type", "application/json")
				w.Write(fixture)
			case "2017-01-01":
				writeJSON(w, 404, `{"code":"NOT_FOUND","message":"The remote endpoint has indicated that no data can be found"}`)
			default:
				writeJSON(w, 400, `{"statusCode":400,"message":"DATE_TO_INVALID"}`)
			}
		}
	}
	mux.HandleFunc("GET /organisations/vat/123456789/liabilities", serve(liab))
	mux.HandleFunc("GET /organisations/vat/123456789/payments", serve(pay))
	r := DateRange{date(t, "2018-01-01"), date(t, "2018-12-31")}

	ls, err := c.Liabilities(context.Background(), "123456789", r)
	require.NoError(t, err)
	require.Len(t, ls, 1)
	assert.Equal(t, Money(600030), ls[0].OriginalAmount)
	ps, err := c.Payments(context.Background(), "123456789", r)
	require.NoError(t, err)
	require.Len(t, ps, 1)
	assert.Equal(t, Money(10005), ps[0].Amount)
	assert.Equal(t, []string{"from=2018-01-01&to=2018-12-31", "from=2018-01-01&to=2018-12-31"}, queries)

	_, err = c.Liabilities(context.Background(), "123456789", DateRange{date(t, "2017-01-01"), date(t, "2017-12-31")})
	assert.ErrorIs(t, err, ErrNotFound, "no data is 404 NOT_FOUND, which callers may treat as empty")
	_, err = c.Payments(context.Background(), "123456789", DateRange{date(t, "2016-06-01"), date(t, "2016-12-31")})
	assert.ErrorIs(t, err, ErrDateToInvalid)

	sent := mu.Load()
	_, err = c.Liabilities(context.Background(), "123456789", DateRange{date(t, "2018-06-01"), date(t, "2019-01-03")})
	assert.ErrorIs(t, err, ErrDateToInvalid, "to in the future is refused locally")
	_, err = c.Payments(context.Background(), "12345678X", r)
	assert.ErrorIs(t, err, ErrVRNInvalid)
	assert.Equal(t, sent, mu.Load(), "nothing sent for bad input")
}

package vat

import (
	"testing"
	"time"

	"github.com/go-mtd/vat/fraud"
	"github.com/google/go-querystring/query"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fromTags is what go-querystring and url.Values.Encode make of q's `url`
// tags, the encoding appendQuery must reproduce.
func fromTags(t *testing.T, q any) string {
	t.Helper()
	v, err := query.Values(q)
	require.NoError(t, err)
	return v.Encode()
}

// appended is appendQuery's output as the pipeline uses it: the first '&'
// dropped.
func appended(q queryAppender) string {
	s := string(q.appendQuery(nil))
	if s != "" {
		s = s[1:]
	}
	return s
}

func TestQueryAppendersMatchTheirURLTags(t *testing.T) {
	t.Parallel()
	d := func(s string) Date {
		t.Helper()
		v, err := ParseDate(s)
		require.NoError(t, err)
		return v
	}
	from, to := d("2017-01-01"), d("2017-12-31")
	far := NewDate(12345, time.March, 4) // refused by validation, but still encoded the same
	tests := []struct {
		name string
		q    queryAppender
		want string
	}{
		{"obligations, all", ObligationsQuery{From: from, To: to, Status: ObligationFulfilled}, "from=2017-01-01&status=F&to=2017-12-31"},
		{"obligations, open only", ObligationsQuery{Status: ObligationOpen}, "status=O"},
		{"obligations, dates only", ObligationsQuery{From: from, To: to}, "from=2017-01-01&to=2017-12-31"},
		{"obligations, from only", ObligationsQuery{From: from}, "from=2017-01-01"},
		{"obligations, to only", ObligationsQuery{To: to}, "to=2017-12-31"},
		{"obligations, empty", ObligationsQuery{}, ""},
		{"obligations, status to escape", ObligationsQuery{Status: "a b&c=d/é"}, "status=a+b%26c%3Dd%2F%C3%A9"},
		{"obligations, year past 9999", ObligationsQuery{From: far}, "from=12345-03-04"},
		{"date range", DateRange{From: from, To: to}, "from=2017-01-01&to=2017-12-31"},
		{"date range, from only", DateRange{From: from}, "from=2017-01-01"},
		{"date range, empty", DateRange{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assert.Equal(t, tt.want, appended(tt.q))
			assert.Equal(t, fromTags(t, tt.q), appended(tt.q))
		})
	}
}

// FuzzQueryAppenders checks, for any dates and status, that the queries
// that write themselves write exactly what their `url` tags would.
func FuzzQueryAppenders(f *testing.F) {
	f.Add(2017, 1, 1, 2017, 12, 31, "F", false, false)
	f.Add(2024, 2, 29, 0, 0, 0, "O", false, true)
	f.Add(-1, 13, 0, 10000, 1, 1, "x y+z%", true, false)
	f.Add(0, 0, 0, 0, 0, 0, "", true, true)
	f.Fuzz(func(t *testing.T, fy, fm, fd, ty, tm, td int, status string, noFrom, noTo bool) {
		var from, to Date
		if !noFrom {
			from = NewDate(fy%20000, time.Month(fm%100), fd%1000)
		}
		if !noTo {
			to = NewDate(ty%20000, time.Month(tm%100), td%1000)
		}
		oq := ObligationsQuery{From: from, To: to, Status: ObligationStatus(status)}
		require.Equal(t, fromTags(t, oq), appended(oq))
		dr := DateRange{From: from, To: to}
		require.Equal(t, fromTags(t, dr), appended(dr))
	})
}

func TestURLJoinsBasePathAndQuery(t *testing.T) {
	t.Parallel()
	c, err := NewClient(anyTokens, WithBaseURL("http://127.0.0.1:8080/prefix/"))
	require.NoError(t, err)
	from, err := ParseDate("2017-01-01")
	require.NoError(t, err)
	tests := []struct {
		name             string
		r                request
		wantURL, wantPth string
	}{
		{"self-encoding query", request{path: []string{"organisations", "vat", "123456789", "obligations"}, query: ObligationsQuery{From: from, To: from.AddYears(1)}},
			"http://127.0.0.1:8080/prefix/organisations/vat/123456789/obligations?from=2017-01-01&to=2018-01-01", "/prefix/organisations/vat/123456789/obligations"},
		{"empty self-encoding query", request{path: []string{"a"}, query: ObligationsQuery{}}, "http://127.0.0.1:8080/prefix/a", "/prefix/a"},
		{"tagged query", request{path: []string{"a"}, query: &feedbackQuery{ConnectionMethod: fraud.DesktopAppDirect}},
			"http://127.0.0.1:8080/prefix/a?connectionMethod=DESKTOP_APP_DIRECT", "/prefix/a"},
		{"nil tagged query", request{path: []string{"a"}, query: (*feedbackQuery)(nil)}, "http://127.0.0.1:8080/prefix/a", "/prefix/a"},
		{"escaped segment", request{path: []string{"returns", "#001"}}, "http://127.0.0.1:8080/prefix/returns/%23001", "/prefix/returns/%23001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			target, path, err := c.url(&tt.r)
			require.NoError(t, err)
			assert.Equal(t, tt.wantURL, target)
			assert.Equal(t, tt.wantPth, path)
		})
	}
}

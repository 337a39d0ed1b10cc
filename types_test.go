package vat

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseVRN(t *testing.T) {
	t.Parallel()
	good := map[string]VRN{
		"123456789":        "123456789",
		"GB123456789":      "123456789",
		"gb 123 4567 89":   "123456789",
		" GB 1111 222 33 ": "111122233",
	}
	for in, want := range good {
		got, err := ParseVRN(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
		assert.True(t, got.Valid())
	}
	for _, in := range []string{"", "12345678", "1234567890", "GB12345678A", "XI123456789", "１２３４５６７８９", "123456789012"} {
		_, err := ParseVRN(in)
		assert.Error(t, err, in)
	}
	assert.False(t, VRN("GB123456789").Valid(), "Valid is strict: the prefix is ParseVRN's job")
	assert.Equal(t, "123456789", VRN("123456789").String())
}

func TestParsePeriodKey(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"18A1", "#001", "0418", "0000", "9999", "18AD", "A001", "####"} {
		k, err := ParsePeriodKey(in)
		require.NoError(t, err, in)
		assert.Equal(t, in, k.String())
	}
	for _, in := range []string{"", "18A", "18A12", "18a1", "#00 ", "18-1", "18Ä1"} {
		_, err := ParsePeriodKey(in)
		assert.Error(t, err, in)
	}
}

func TestParseDate(t *testing.T) {
	t.Parallel()
	d, err := ParseDate("2017-04-06")
	require.NoError(t, err)
	assert.Equal(t, 2017, d.Year())
	assert.Equal(t, time.April, d.Month())
	assert.Equal(t, 6, d.Day())
	assert.Equal(t, "2017-04-06", d.String())

	for _, in := range []string{"2020-02-29", "0001-01-01", "9999-12-31", "2016-04-06"} {
		d, err := ParseDate(in)
		require.NoError(t, err, in)
		assert.Equal(t, in, d.String())
	}
	// HMRC's parser is uuuu-MM-dd with STRICT resolution.
	for _, in := range []string{"2017-02-30", "2019-02-29", "2017-1-5", "17-01-05", "2017-13-01", "2017-00-10",
		"2017-01-00", "2017/01/05", "2017-01-05T00:00:00Z", "", "20170105", "+2017-01-05", "２017-01-05"} {
		_, err := ParseDate(in)
		assert.Error(t, err, in)
	}
}

func TestDateArithmetic(t *testing.T) {
	t.Parallel()
	d := func(s string) Date {
		v, err := ParseDate(s)
		require.NoError(t, err)
		return v
	}
	// Java's LocalDate.plusYears clamps 29 February; time.AddDate would give 1 March.
	assert.Equal(t, d("2021-02-28"), d("2020-02-29").AddYears(1))
	assert.Equal(t, d("2024-02-29"), d("2020-02-29").AddYears(4))
	assert.Equal(t, d("2018-01-01"), d("2017-01-01").AddYears(1))
	assert.Equal(t, d("2017-02-28"), d("2017-01-31").AddMonths(1))
	assert.Equal(t, d("2016-12-31"), d("2017-01-31").AddMonths(-1))
	assert.Equal(t, d("2018-03-31"), d("2017-12-31").AddMonths(3))
	assert.Equal(t, d("2016-04-05"), d("2016-04-06").AddDays(-1))
	assert.Equal(t, d("2017-03-01"), d("2017-02-28").AddDays(1))
	assert.Equal(t, NewDate(2017, time.May, 1), NewDate(2017, time.April, 31), "NewDate normalises like time.Date")

	assert.True(t, d("2017-01-01").Before(d("2017-01-02")))
	assert.True(t, d("2017-02-01").After(d("2017-01-31")))
	assert.Equal(t, 0, d("2017-02-01").Compare(d("2017-02-01")))
	assert.Equal(t, -1, d("2016-12-31").Compare(d("2017-01-01")))
	assert.True(t, DateRange{d("2017-01-01"), d("2017-03-31")}.Contains(d("2017-03-31")))
	assert.False(t, DateRange{d("2017-01-01"), d("2017-03-31")}.Contains(d("2017-04-01")))
	assert.Equal(t, "2017-01-01..2017-03-31", DateRange{d("2017-01-01"), d("2017-03-31")}.String())

	loc := time.FixedZone("BST", 3600)
	assert.Equal(t, d("2017-06-01"), DateOf(time.Date(2017, 6, 1, 0, 30, 0, 0, loc)))
	assert.Equal(t, time.Date(2017, 6, 1, 0, 0, 0, 0, loc), d("2017-06-01").Time(loc))
}

func TestDateJSON(t *testing.T) {
	t.Parallel()
	var v struct {
		Due      Date `json:"due"`
		Received Date `json:"received,omitzero"`
	}
	require.NoError(t, json.Unmarshal([]byte(`{"due":"2017-05-07"}`), &v))
	assert.Equal(t, NewDate(2017, time.May, 7), v.Due)
	assert.True(t, v.Received.IsZero())
	b, err := json.Marshal(v)
	require.NoError(t, err)
	assert.Equal(t, `{"due":"2017-05-07"}`, string(b))

	err = json.Unmarshal([]byte(`{"due":"2017-02-30"}`), &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "due")
	assert.Error(t, json.Unmarshal([]byte(`{"due":20170507}`), &v))

	require.NoError(t, json.Unmarshal([]byte(`{"due":null}`), &v))
	assert.True(t, v.Due.IsZero())
	b, err = json.Marshal(Date{})
	require.NoError(t, err)
	assert.Equal(t, "null", string(b))

	var td Date
	require.NoError(t, td.UnmarshalText([]byte("2018-12-31")))
	txt, err := td.MarshalText()
	require.NoError(t, err)
	assert.Equal(t, "2018-12-31", string(txt))
	require.NoError(t, td.UnmarshalText(nil))
	assert.True(t, td.IsZero())
	assert.Error(t, td.UnmarshalText([]byte("31/12/2018")))
	assert.Equal(t, "", Date{}.String())
}

func FuzzDate(f *testing.F) {
	for _, s := range []string{"2017-04-06", "2020-02-29", "2019-02-29", "0000-01-01", "9999-12-31", "2017-1-5", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDate(s)
		if err != nil {
			return
		}
		if d.String() != s {
			t.Fatalf("ParseDate(%q).String() = %q", s, d.String())
		}
		tm, err := time.Parse("2006-01-02", s)
		if err != nil {
			t.Fatalf("ParseDate accepted %q, time.Parse refused it: %v", s, err)
		}
		if DateOf(tm) != d {
			t.Fatalf("ParseDate(%q) = %v, time.Parse gives %v", s, d, DateOf(tm))
		}
		b, _ := json.Marshal(d)
		var back Date
		if err := json.Unmarshal(b, &back); err != nil || back != d {
			t.Fatalf("JSON round trip of %q: %v %v", s, back, err)
		}
	})
}

package civil

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestParseStrict(t *testing.T) {
	t.Parallel()
	good := map[string]Date{
		"2017-02-28": {2017, time.February, 28},
		"2020-02-29": {2020, time.February, 29},
		"0001-01-01": {1, time.January, 1},
	}
	for s, want := range good {
		d, ok := Parse(s)
		assert.True(t, ok, s)
		assert.Equal(t, want, d)
		assert.Equal(t, s, d.String())
	}
	for _, s := range []string{"2017-02-30", "2017-1-5", "2017-13-01", "2019-02-29", "17-01-01", "2017/01/01", "2017-01-01T", "", "２０１７-01-01", "2017-00-10", "2017-01-00"} {
		_, ok := Parse(s)
		assert.False(t, ok, s)
	}
}

func TestJavaMonthAndYearArithmetic(t *testing.T) {
	t.Parallel()
	d := func(s string) Date { x, _ := Parse(s); return x }
	assert.Equal(t, "2021-02-28", d("2020-02-29").AddYears(1).String())
	assert.Equal(t, "2024-02-29", d("2020-02-29").AddYears(4).String())
	assert.Equal(t, "2017-02-28", d("2017-01-31").AddMonths(1).String())
	assert.Equal(t, "2016-12-31", d("2017-01-31").AddMonths(-1).String())
	assert.Equal(t, "2017-03-01", d("2017-02-28").AddDays(1).String())
	assert.Equal(t, "2017-02-28", d("2017-02-10").LastOfMonth().String())
	assert.True(t, d("2017-01-01").Before(d("2017-01-02")))
	assert.True(t, d("2018-01-01").After(d("2017-12-31")))
	assert.Equal(t, 0, d("2018-01-01").Compare(d("2018-01-01")))
}

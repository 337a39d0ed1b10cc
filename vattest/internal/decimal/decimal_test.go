package decimal

import (
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseScaleAndWhole(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		scale int
		whole bool
	}{
		{"1.005", 3, false},
		{"100.00", 2, true},
		{"100.5", 1, false},
		{"100", 0, true},
		{"1E+2", -2, true},
		{"1e2", -2, true},
		{"1.5e-3", 4, false},
		{"-0.00", 2, true},
		{"0.000", 3, true},
		{".5", 1, false},
		{"5.", 0, true},
		{"+7.10", 2, false},
		{"1.0000000000000000000000000000000000001", 33, true}, // rounded to 34 digits
	}
	for _, tt := range tests {
		d, err := Parse(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.scale, d.Scale(), tt.in)
		assert.Equal(t, tt.whole, d.IsWhole(), tt.in)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"", "-", ".", "1e", "1e+", "a", "1.2.3", " 1", "1 ", "0x10", "1e99999999999", "NaN", "--1"} {
		_, err := Parse(in)
		assert.ErrorIs(t, err, ErrSyntax, "%q", in)
	}
	for _, in := range []string{"1e7000", "1e-7000", strings.Repeat("9", 311)} {
		_, err := Parse(in)
		assert.ErrorIs(t, err, ErrLimit, "%q", in)
	}
}

func TestCmpPenceAndRange(t *testing.T) {
	t.Parallel()
	const max = 999999999999999 // 9,999,999,999,999.99
	tests := []struct {
		in     string
		inside bool
	}{
		{"9999999999999.99", true},
		{"10000000000000", false},
		{"-9999999999999.99", true},
		{"-9999999999999.991", false},
		{"9999999999999.989", true},
		{"1e13", false},
		{"1e-6000", true},
		{"-1e300", false},
		{"0", true},
	}
	for _, tt := range tests {
		d, err := Parse(tt.in)
		require.NoError(t, err, tt.in)
		assert.Equal(t, tt.inside, d.InPenceRange(-max, max), tt.in)
	}
	d, _ := Parse("100.10")
	assert.Equal(t, 0, d.CmpPence(10010))
	assert.Equal(t, 1, d.CmpPence(10009))
	assert.Equal(t, -1, d.CmpPence(10011))
}

func TestPence(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in string
		p  int64
		ok bool
	}{
		{"100.10", 10010, true},
		{"1E+2", 10000, true},
		{"0.001", 0, false},
		{"1.000", 100, true},
		{"-5.05", -505, true},
		{"1e30", 0, false},
		{"0e30", 0, true},
	}
	for _, tt := range tests {
		d, err := Parse(tt.in)
		require.NoError(t, err, tt.in)
		p, ok := d.Pence()
		assert.Equal(t, tt.ok, ok, tt.in)
		assert.Equal(t, tt.p, p, tt.in)
	}
}

func TestFormatPenceStripsTrailingZeros(t *testing.T) {
	t.Parallel()
	tests := map[int64]string{
		10010:         "100.1",
		10000:         "100",
		-505:          "-5.05",
		-5:            "-0.05",
		0:             "0",
		1:             "0.01",
		math.MinInt64: "-92233720368547758.08",
	}
	for p, want := range tests {
		assert.Equal(t, want, FormatPence(p))
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"1.005", "100.00", "1E+2", "-0", ".5", "9999999999999.99", "1e-6178"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := Parse(s)
		if err != nil {
			return
		}
		if p, ok := d.Pence(); ok {
			back, err := Parse(FormatPence(p))
			if err != nil || back.CmpPence(p) != 0 || d.CmpPence(p) != 0 {
				t.Fatalf("%q: pence %d does not round-trip", s, p)
			}
		}
	})
}

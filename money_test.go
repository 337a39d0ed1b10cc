package vat

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseMoney(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Money
		wantErr string
	}{
		{"0", 0, ""},
		{"-0", 0, ""},
		{"0.00", 0, ""},
		{"105.5", 10550, ""},
		{"105.50", 10550, ""},
		{"-100.45", -10045, ""},
		{"100.1", 10010, ""}, // HMRC drops trailing zeros: 100.10 comes back as 100.1
		{"0.05", 5, ""},
		{"-0.05", -5, ""},
		{"1.100", 110, ""}, // exact, only trailing zeros after the second place
		{"1e3", 100000, ""},
		{"1.5E+2", 15000, ""},
		{"12345e-2", 12345, ""},
		{"9999999999999.99", MaxMoney, ""},
		{"-9999999999999.99", MinMoney, ""},
		{"0e999999999", 0, ""},
		{"1.005", 0, "more than 2 decimal places"},
		{"0.001", 0, "more than 2 decimal places"},
		{"1e-3", 0, "more than 2 decimal places"},
		{"10000000000000.00", 0, "outside HMRC's range"},
		{"-10000000000000", 0, "outside HMRC's range"},
		{"1e20", 0, "outside HMRC's range"},
		{"99999999999999999999999", 0, "outside HMRC's range"},
		{"", 0, "not a decimal number"},
		{"-", 0, "not a decimal number"},
		{"01", 0, "not a decimal number"},
		{"1.", 0, "not a decimal number"},
		{".5", 0, "not a decimal number"},
		{"+1", 0, "not a decimal number"},
		{"1e", 0, "not a decimal number"},
		{"1e+", 0, "not a decimal number"},
		{"1,5", 0, "not a decimal number"},
		{"NaN", 0, "not a decimal number"},
		{" 1", 0, "not a decimal number"},
		{"1_000", 0, "not a decimal number"},
	}
	for _, tc := range tests {
		got, err := ParseMoney(tc.in)
		if tc.wantErr != "" {
			require.Error(t, err, tc.in)
			assert.Contains(t, err.Error(), tc.wantErr, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestParsePounds(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in      string
		want    Pounds
		wantErr string
	}{
		{"300", 300, ""},
		{"300.0", 300, ""},
		{"300.00", 300, ""},
		{"-12", -12, ""},
		{"3e3", 3000, ""},
		{"9999999999999", MaxPounds, ""},
		{"-9999999999999", MinPounds, ""},
		{"300.5", 0, "not a whole number of pounds"},
		{"0.01", 0, "not a whole number of pounds"},
		{"10000000000000", 0, "outside HMRC's range"},
		{"abc", 0, "not a decimal number"},
	}
	for _, tc := range tests {
		got, err := ParsePounds(tc.in)
		if tc.wantErr != "" {
			require.Error(t, err, tc.in)
			assert.Contains(t, err.Error(), tc.wantErr, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
}

func TestMoneyFormatting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		m    Money
		want string
	}{
		{0, "0.00"}, {5, "0.05"}, {-5, "-0.05"}, {10550, "105.50"}, {-10045, "-100.45"},
		{10010, "100.10"}, {MaxMoney, "9999999999999.99"}, {MinMoney, "-9999999999999.99"},
	}
	for _, tc := range tests {
		assert.Equal(t, tc.want, tc.m.String())
		b, err := json.Marshal(tc.m)
		require.NoError(t, err)
		assert.Equal(t, tc.want, string(b))
	}
	b, err := json.Marshal(Pounds(-300))
	require.NoError(t, err)
	assert.Equal(t, "-300", string(b))
	assert.Equal(t, "3000", Pounds(3000).String())
}

func TestMoneyArithmeticHelpers(t *testing.T) {
	t.Parallel()
	assert.Equal(t, Money(10045), Money(-10045).Abs())
	assert.Equal(t, Money(5), Money(5).Abs())
	p, exact := Money(30000).Pounds()
	assert.Equal(t, Pounds(300), p)
	assert.True(t, exact)
	p, exact = Money(30050).Pounds()
	assert.Equal(t, Pounds(300), p)
	assert.False(t, exact)
	assert.Equal(t, Money(30000), Pounds(300).Money())
}

func TestMoneyJSONNamesTheField(t *testing.T) {
	t.Parallel()
	var v struct {
		Box1 Money  `json:"vatDueSales"`
		Box6 Pounds `json:"totalValueSalesExVAT"`
	}
	err := json.Unmarshal([]byte(`{"vatDueSales":1.005}`), &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vatDueSales")
	assert.Contains(t, err.Error(), "more than 2 decimal places")

	err = json.Unmarshal([]byte(`{"totalValueSalesExVAT":100.5}`), &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "totalValueSalesExVAT")
	assert.Contains(t, err.Error(), "not a whole number of pounds")

	err = json.Unmarshal([]byte(`{"vatDueSales":"100.00"}`), &v)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "vatDueSales")
	assert.Contains(t, err.Error(), "JSON numbers")

	require.NoError(t, json.Unmarshal([]byte(`{"vatDueSales":100.1,"totalValueSalesExVAT":300.00}`), &v))
	assert.Equal(t, Money(10010), v.Box1)
	assert.Equal(t, Pounds(300), v.Box6)

	v.Box1 = 7
	require.NoError(t, json.Unmarshal([]byte(`{"vatDueSales":null}`), &v))
	assert.Equal(t, Money(7), v.Box1, "null leaves the value unchanged")
}

// refPence computes the exact value of a JSON number in pence with math/big,
// as an independent reference for the fuzz targets.
func refPence(s string, scale int64) (*big.Int, bool) {
	r, ok := new(big.Rat).SetString(s)
	if !ok {
		return nil, false
	}
	r.Mul(r, new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(scale), nil)))
	if !r.IsInt() {
		return nil, false
	}
	return r.Num(), true
}

// zeroMantissa reports whether the JSON number s has only zero digits
// before its exponent.
func zeroMantissa(s string) bool {
	s = strings.TrimPrefix(strings.TrimSpace(s), "-")
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		s = s[:i]
	}
	s = strings.ReplaceAll(s, ".", "")
	return s != "" && strings.Trim(s, "0") == ""
}

func FuzzMoney(f *testing.F) {
	for _, s := range []string{"0", "105.5", "-100.45", "100.1", "1.005", "1e3", "9999999999999.99", "1e-2", "-0.00", "1E+2", "00", "1.0e-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var m Money
		err := json.Unmarshal([]byte(s), &m)
		if err != nil {
			return
		}
		// Whatever parsed must be exactly the number's value in pence.
		want, ok := refPence(strings.TrimSpace(s), 2)
		switch {
		case ok && want.IsInt64():
			if want.Int64() != int64(m) {
				t.Fatalf("%q parsed as %d pence, want %s", s, m, want)
			}
		case zeroMantissa(s):
			// math/big cannot hold an exponent this large, but zero is zero.
			if m != 0 {
				t.Fatalf("%q parsed as %d, want 0", s, m)
			}
		case strings.TrimSpace(s) != "null":
			t.Fatalf("%q parsed as %d but is not a whole number of pence", s, m)
		}
		// And it must survive a round trip.
		b, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var back Money
		if err := json.Unmarshal(b, &back); err != nil || back != m {
			t.Fatalf("round trip of %d via %s gave %d, %v", m, b, back, err)
		}
	})
}

func FuzzPounds(f *testing.F) {
	for _, s := range []string{"0", "300", "300.00", "300.5", "-12", "3e3", "9999999999999", "1e13"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePounds(s)
		if err != nil {
			return
		}
		want, ok := refPence(s, 0)
		switch {
		case !ok && zeroMantissa(s):
			if p != 0 {
				t.Fatalf("%q parsed as %d, want 0", s, p)
			}
		case !ok || !want.IsInt64() || want.Int64() != int64(p):
			t.Fatalf("%q parsed as %d pounds, reference %v", s, p, want)
		}
		if p > MaxPounds || p < MinPounds {
			t.Fatalf("%q parsed out of range: %d", s, p)
		}
		back, err := ParsePounds(p.String())
		if err != nil || back != p {
			t.Fatalf("round trip of %d gave %d, %v", p, back, err)
		}
	})
}

func TestHugeExponentsOfZero(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0e10000000000000000000", "-0.000e99999999999", "0E-999999999999"} {
		m, err := ParseMoney(s)
		require.NoError(t, err, s)
		assert.Zero(t, m)
		p, err := ParsePounds(s)
		require.NoError(t, err, s)
		assert.Zero(t, p)
	}
	_, err := ParseMoney("1e10000000000000000000")
	assert.ErrorContains(t, err, "outside HMRC's range")
	_, err = ParseMoney("1e-10000000000000000000")
	assert.ErrorContains(t, err, "more than 2 decimal places")
}

// TestAmountErrorsNameThisPackage checks that a refused amount says which
// function of this package refused it and why, as one line of this
// package's own, and that the reason can be matched.
func TestAmountErrorsNameThisPackage(t *testing.T) {
	t.Parallel()
	_, err := ParseMoney("1.005")
	require.Error(t, err)
	assert.Equal(t, `vat: ParseMoney: "1.005": more than 2 decimal places`, err.Error())
	assert.NotContains(t, err.Error(), "strconv")
	assert.ErrorIs(t, err, errMoneyTooPrecise)
	var ae *amountError
	require.ErrorAs(t, err, &ae)
	assert.Equal(t, "1.005", ae.Input)

	_, err = ParsePounds("10.5")
	assert.Equal(t, `vat: ParsePounds: "10.5": not a whole number of pounds`, err.Error())
}

// TestMoneyPoundsTruncates pins the documented conversion: pence are
// dropped toward zero, and exact says whether any were.
func TestMoneyPoundsTruncates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		m     Money
		p     Pounds
		exact bool
	}{{1099, 10, false}, {-1099, -10, false}, {1000, 10, true}, {99, 0, false}, {0, 0, true}} {
		p, exact := tc.m.Pounds()
		assert.Equal(t, tc.p, p, "%v", tc.m)
		assert.Equal(t, tc.exact, exact, "%v", tc.m)
	}
}

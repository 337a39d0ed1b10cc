// Package decimal reads numbers the way HMRC's VAT service does: as Java
// BigDecimal values taken from the number's text, so that the scale of "1.10"
// is 2, the scale of "1E+2" is −2 and "100.00" is whole. Nothing here goes
// through float64.
package decimal

import (
	"errors"
	"math/big"
	"strconv"
	"strings"
)

// Limits of the JSON parser in front of HMRC's service (Play JSON's default
// BigDecimal settings): longer number texts or larger scales make the whole
// body "Invalid Json", and values keep at most 34 significant digits
// (MathContext.DECIMAL128).
const (
	MaxTextLength = 310
	MaxScale      = 6178
	maxPrecision  = 34
)

// ErrSyntax reports text that is not a number.
var ErrSyntax = errors.New("decimal: invalid syntax")

// ErrLimit reports a number beyond the parser's digit or scale limits.
var ErrLimit = errors.New("decimal: number exceeds the parser's limits")

// Dec is an exact decimal: unscaled × 10^−scale.
type Dec struct {
	unscaled big.Int
	scale    int
}

// Parse reads a number in Java BigDecimal syntax: an optional sign, digits
// with an optional point (".5" and "5." included), and an optional exponent.
// JSON number literals are a subset of this syntax.
func Parse(s string) (Dec, error) {
	var d Dec
	if len(s) > MaxTextLength {
		return d, ErrLimit
	}
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var digits strings.Builder
	intDigits, fracDigits := 0, 0
	for i < len(s) && isDigit(s[i]) {
		digits.WriteByte(s[i])
		intDigits++
		i++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			digits.WriteByte(s[i])
			fracDigits++
			i++
		}
	}
	if intDigits+fracDigits == 0 {
		return d, ErrSyntax
	}
	exp := int64(0)
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		start := i
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if i == len(s) || !isDigit(s[i]) {
			return d, ErrSyntax
		}
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		e, err := strconv.ParseInt(s[start:i], 10, 32)
		if err != nil {
			return d, ErrSyntax
		}
		exp = e
	}
	if i != len(s) {
		return d, ErrSyntax
	}
	scale := int64(fracDigits) - exp
	if scale > MaxScale || scale < -MaxScale {
		return d, ErrLimit
	}
	d.unscaled.SetString(digits.String(), 10)
	if neg {
		d.unscaled.Neg(&d.unscaled)
	}
	d.scale = int(scale)
	d.round()
	if d.scale > MaxScale || d.scale < -MaxScale {
		return d, ErrLimit
	}
	return d, nil
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// round keeps at most 34 significant digits, rounding half to even, as
// Java's BigDecimal(String, MathContext.DECIMAL128) does.
func (d *Dec) round() {
	abs := new(big.Int).Abs(&d.unscaled)
	p := len(abs.String())
	if abs.Sign() == 0 || p <= maxPrecision {
		return
	}
	drop := p - maxPrecision
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(drop)), nil)
	q, r := new(big.Int).QuoRem(abs, div, new(big.Int))
	twice := new(big.Int).Lsh(r, 1)
	if c := twice.Cmp(div); c > 0 || (c == 0 && q.Bit(0) == 1) {
		q.Add(q, big.NewInt(1))
	}
	if d.unscaled.Sign() < 0 {
		q.Neg(q)
	}
	d.unscaled.Set(q)
	d.scale -= drop
}

// Scale is the number of digits after the point in the number's text, less
// its exponent: 2 for "1.10", 0 for "100", −2 for "1E+2".
func (d Dec) Scale() int { return d.scale }

// IsWhole reports whether the value has no fractional part ("100.00" is whole).
func (d Dec) IsWhole() bool {
	if d.scale <= 0 || d.unscaled.Sign() == 0 {
		return true
	}
	div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale)), nil)
	return new(big.Int).Rem(&d.unscaled, div).Sign() == 0
}

// CmpPence compares the value with p pence (p/100): −1, 0 or +1.
func (d Dec) CmpPence(p int64) int {
	// value×100 = unscaled × 10^(2−scale); compare with p.
	shift := 2 - d.scale
	v := new(big.Int).Set(&d.unscaled)
	bound := big.NewInt(p)
	ten := big.NewInt(10)
	if shift >= 0 {
		if shift > 40 && v.Sign() != 0 { // far beyond any int64 bound
			return v.Sign()
		}
		v.Mul(v, new(big.Int).Exp(ten, big.NewInt(int64(shift)), nil))
		return v.Cmp(bound)
	}
	bound.Mul(bound, new(big.Int).Exp(ten, big.NewInt(int64(-shift)), nil))
	return v.Cmp(bound)
}

// InPenceRange reports whether lo ≤ value ≤ hi, bounds in pence.
func (d Dec) InPenceRange(lo, hi int64) bool {
	return d.CmpPence(lo) >= 0 && d.CmpPence(hi) <= 0
}

// Pence returns the value in pence when it is exact in pence and fits an int64.
func (d Dec) Pence() (int64, bool) {
	if d.scale > 2 {
		div := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(d.scale-2)), nil)
		q, r := new(big.Int).QuoRem(&d.unscaled, div, new(big.Int))
		if r.Sign() != 0 || !q.IsInt64() {
			return 0, false
		}
		return q.Int64(), true
	}
	if 2-d.scale > 20 {
		if d.unscaled.Sign() == 0 {
			return 0, true
		}
		return 0, false
	}
	v := new(big.Int).Mul(&d.unscaled, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(2-d.scale)), nil))
	if !v.IsInt64() {
		return 0, false
	}
	return v.Int64(), true
}

// FormatPence writes p pence as HMRC's service writes a BigDecimal: plain
// notation with trailing fractional zeros removed ("100.1", "100", "-0.05").
func FormatPence(p int64) string {
	return string(AppendPence(nil, p))
}

// AppendPence appends FormatPence(p) to b.
func AppendPence(b []byte, p int64) []byte {
	u := uint64(p)
	if p < 0 {
		b = append(b, '-')
		u = uint64(-p) // two's complement: correct for math.MinInt64 too
	}
	b = strconv.AppendUint(b, u/100, 10)
	switch frac := u % 100; {
	case frac == 0:
	case frac%10 == 0:
		b = append(b, '.', byte('0'+frac/10))
	default:
		b = append(b, '.', byte('0'+frac/10), byte('0'+frac%10))
	}
	return b
}

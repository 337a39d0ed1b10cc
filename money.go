package vat

import (
	"encoding/json"
	"errors"
	"reflect"
	"strconv"
	"strings"
)

// Money is an exact amount of pounds sterling, held in pence. HMRC's money
// fields are JSON numbers with at most two decimal places; Money reads and
// writes them from the number's text, never through float64, so 0.1 + 0.2 is
// exactly 0.30 and a return's boxes add up the way HMRC checks them.
//
// Money marshals with exactly two decimal places (105.50, -100.45, 0.00).
// It unmarshals any JSON number whose value is a whole number of pence (HMRC
// drops trailing zeros, so 100.1 means £100.10); a value with a non-zero third
// decimal place, a value outside ±9,999,999,999,999.99 (the widest range HMRC
// uses for money) or a JSON string is an error naming the field.
type Money int64

// Pounds is an exact amount in whole pounds sterling, as HMRC requires for
// boxes 6 to 9 of a VAT return. It marshals as a JSON integer (300) and
// unmarshals 300, 300.0 and 300.00 alike; 300.5 is an error naming the field,
// as is a value outside ±9,999,999,999,999.
type Pounds int64

// Percent is an exact percentage with up to two decimal places, held in
// hundredths of a percentage point: Percent(250) is 2.50%. HMRC uses it for
// penalty and interest rates. It reads and writes JSON numbers like Money.
type Percent int64

// String formats p with two decimal places, for example "2.50".
func (p Percent) String() string { return Money(p).String() }

// MarshalJSON writes p as a JSON number with two decimal places.
func (p Percent) MarshalJSON() ([]byte, error) { return Money(p).MarshalJSON() }

// UnmarshalJSON reads a JSON number exactly; more than two decimal places
// is an error naming the field. JSON null leaves p unchanged.
func (p *Percent) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := parseScaled(string(b), 2, MaxMoney.int64())
	if err != nil {
		return jsonNumberError(b, err, reflect.TypeFor[Percent]())
	}
	*p = Percent(v)
	return nil
}

// Limits of HMRC's monetary fields (notes: VAT (MTD) API §9.2 and §10).
const (
	// MaxMoney is the largest value of boxes 1 to 4 of a VAT return and of
	// most other HMRC money fields: £9,999,999,999,999.99.
	MaxMoney Money = 999_999_999_999_999
	// MinMoney is the smallest value of boxes 1 to 4: -£9,999,999,999,999.99.
	MinMoney Money = -MaxMoney
	// MaxNetVATDue is the largest value of box 5 (netVatDue):
	// £99,999,999,999.99. Box 5 is never negative.
	MaxNetVATDue Money = 9_999_999_999_999
	// MaxPounds is the largest value of boxes 6 to 9: £9,999,999,999,999.
	MaxPounds Pounds = 9_999_999_999_999
	// MinPounds is the smallest value of boxes 6 to 9: -£9,999,999,999,999.
	MinPounds Pounds = -MaxPounds
)

// errMoneyTooPrecise and friends describe why an amount was refused; they
// appear inside the parse and JSON errors.
var (
	errMoneyTooPrecise = errors.New("more than 2 decimal places")
	errNotWholePounds  = errors.New("not a whole number of pounds")
	errMoneyRange      = errors.New("outside HMRC's range")
	errMoneySyntax     = errors.New("not a decimal number")
)

// ParseMoney parses a decimal amount of pounds such as "105.5", "-100.45",
// "0" or "1e3" exactly. It rejects a non-zero third decimal place and values
// outside [MinMoney, MaxMoney].
func ParseMoney(s string) (Money, error) {
	p, err := parseScaled(s, 2, MaxMoney.int64())
	if err != nil {
		return 0, &amountError{Func: "ParseMoney", Input: s, Err: err}
	}
	return Money(p), nil
}

// ParsePounds parses a whole amount of pounds such as "300", "300.00" or
// "-12" exactly. It rejects fractional pounds and values outside
// [MinPounds, MaxPounds].
func ParsePounds(s string) (Pounds, error) {
	p, err := parseScaled(s, 0, MaxPounds.int64())
	if err != nil {
		if errors.Is(err, errMoneyTooPrecise) {
			err = errNotWholePounds
		}
		return 0, &amountError{Func: "ParsePounds", Input: s, Err: err}
	}
	return Pounds(p), nil
}

// amountError reports an amount that ParseMoney or ParsePounds refused;
// errors.Is matches its reason.
type amountError struct {
	// Func is the function that refused it: "ParseMoney" or "ParsePounds".
	Func string
	// Input is the text that was refused.
	Input string
	// Err says why: not a number, too many decimal places, not whole
	// pounds, or outside HMRC's range.
	Err error
}

// Error returns one line, for example
// `vat: ParseMoney: "1.005": more than 2 decimal places`.
func (e *amountError) Error() string {
	return "vat: " + e.Func + ": " + strconv.Quote(truncate(e.Input, 40)) + ": " + e.Err.Error()
}

// Unwrap returns the reason.
func (e *amountError) Unwrap() error { return e.Err }

func (m Money) int64() int64  { return int64(m) }
func (p Pounds) int64() int64 { return int64(p) }

// String formats m with two decimal places and no thousands separators, for
// example "-100.45" or "0.05".
func (m Money) String() string { return string(m.append(nil)) }

// String formats p as a whole number, for example "300".
func (p Pounds) String() string { return strconv.FormatInt(int64(p), 10) }

// Abs returns the absolute value of m.
func (m Money) Abs() Money {
	if m < 0 {
		return -m
	}
	return m
}

// Pounds returns m in whole pounds and whether the conversion was exact. It
// truncates toward zero: pence are dropped, not rounded (£10.99 gives 10,
// -£10.99 gives -10), and exact is false when m had any pence.
func (m Money) Pounds() (Pounds, bool) { return Pounds(m / 100), m%100 == 0 }

// Money returns p as an amount in pence.
func (p Pounds) Money() Money { return Money(p) * 100 }

func (m Money) append(b []byte) []byte {
	n := int64(m)
	if n < 0 {
		b = append(b, '-')
		n = -n // MinMoney and every decoded value are far from MinInt64
	}
	b = strconv.AppendInt(b, n/100, 10)
	b = append(b, '.', byte('0'+n%100/10), byte('0'+n%10))
	return b
}

// MarshalJSON writes m as a JSON number with exactly two decimal places.
func (m Money) MarshalJSON() ([]byte, error) { return m.append(make([]byte, 0, 24)), nil }

// MarshalJSON writes p as a JSON integer.
func (p Pounds) MarshalJSON() ([]byte, error) { return strconv.AppendInt(nil, int64(p), 10), nil }

// UnmarshalJSON reads a JSON number exactly. JSON null leaves m unchanged.
func (m *Money) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	p, err := parseScaled(string(b), 2, MaxMoney.int64())
	if err != nil {
		return jsonNumberError(b, err, reflect.TypeFor[Money]())
	}
	*m = Money(p)
	return nil
}

// UnmarshalJSON reads a JSON number that must be a whole number of pounds.
// JSON null leaves p unchanged.
func (p *Pounds) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	v, err := parseScaled(string(b), 0, MaxPounds.int64())
	if err != nil {
		if errors.Is(err, errMoneyTooPrecise) {
			err = errNotWholePounds
		}
		return jsonNumberError(b, err, reflect.TypeFor[Pounds]())
	}
	*p = Pounds(v)
	return nil
}

// jsonNumberError reports a refused JSON value as a *json.UnmarshalTypeError,
// which encoding/json completes with the path of the field being decoded, so
// the message names it (for example "Return.vatDueSales").
func jsonNumberError(b []byte, reason error, t reflect.Type) error {
	v := string(b)
	if len(v) > 40 {
		v = v[:40] + "…"
	}
	kind := "number "
	if len(b) > 0 && b[0] == '"' {
		kind, reason = "string ", errors.New("HMRC sends and expects JSON numbers")
	} else if errors.Is(reason, errMoneySyntax) {
		kind = ""
	}
	return &json.UnmarshalTypeError{Value: kind + v + " (" + reason.Error() + ")", Type: t}
}

// parseScaled parses the decimal number s (JSON number grammar) and returns it
// multiplied by 10^scale, which must be exact; |result| must not exceed max.
func parseScaled(s string, scale int, max int64) (int64, error) {
	neg := false
	if strings.HasPrefix(s, "-") {
		neg, s = true, s[1:]
	}
	intPart, frac, exp, ok := splitNumber(s)
	if !ok {
		return 0, errMoneySyntax
	}
	// All significant digits, and how many of them sit after the point.
	digits := strings.TrimLeft(intPart+frac, "0")
	point := len(frac) - exp // digits after the decimal point
	if digits == "" {
		return 0, nil
	}
	// Drop trailing zeros so that 100.10 and 1.0e2 are as exact as 100.1 and 100.
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits, point = digits[:len(digits)-1], point-1
	}
	if point > scale {
		return 0, errMoneyTooPrecise
	}
	zeros := scale - point // zeros to append to reach the requested scale
	if len(digits)+zeros > 18 {
		return 0, errMoneyRange // beyond int64 range, and far beyond HMRC's
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		return 0, errMoneyRange
	}
	for ; zeros > 0; zeros-- {
		v *= 10
	}
	if v > max {
		return 0, errMoneyRange
	}
	if neg {
		v = -v
	}
	return v, nil
}

// splitNumber splits an unsigned JSON number into its integer digits,
// fraction digits and exponent. It follows RFC 8259's grammar exactly.
func splitNumber(s string) (intPart, frac string, exp int, ok bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	intPart = s[:i]
	if intPart == "" || (len(intPart) > 1 && intPart[0] == '0') {
		return "", "", 0, false
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		frac = s[i+1 : j]
		if frac == "" {
			return "", "", 0, false
		}
		i = j
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		sign := 1
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			if s[i] == '-' {
				sign = -1
			}
			i++
		}
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			if exp < 1_000_000 { // saturate: such exponents are out of range anyway
				exp = exp*10 + int(s[i]-'0')
			}
			i++
		}
		if i == start {
			return "", "", 0, false
		}
		exp *= sign
	}
	return intPart, frac, exp, i == len(s)
}

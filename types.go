package vat

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/url"
	"reflect"
	"strings"
	"time"
)

// VRN is a UK VAT registration number: nine digits, without the "GB" prefix.
// HMRC checks only the format (^\d{9}$), not the check digits.
type VRN string

// ParseVRN reads a VAT registration number as people write it: it removes
// spaces and an optional "GB" prefix ("GB 123 4567 89" becomes "123456789")
// and then requires exactly nine digits.
func ParseVRN(s string) (VRN, error) {
	t := strings.Join(strings.Fields(s), "")
	if len(t) >= 2 && strings.EqualFold(t[:2], "GB") {
		t = t[2:]
	}
	if v := VRN(t); v.Valid() {
		return v, nil
	}
	return "", fmt.Errorf("vat: VRN %q is not nine digits (optionally prefixed by GB)", truncate(s, 32))
}

// Valid reports whether v is exactly nine ASCII digits.
func (v VRN) Valid() bool { return len(v) == 9 && allDigits(string(v)) }

// check reports a VRN that is not nine digits.
func (v VRN) check(p *problems) {
	if !v.Valid() {
		p.add("vrn", "VRN_INVALID", "VRN must be nine digits, got %q", truncate(string(v), 20))
	}
}

// String returns v as nine digits.
func (v VRN) String() string { return string(v) }

// PeriodKey identifies one VAT obligation period, for example "18A1" or
// "#001". Keys are opaque: take them from the obligations HMRC returns and
// never build or change them (a "#" is part of the key).
type PeriodKey string

// ParsePeriodKey checks that s is a period key HMRC accepts: four characters,
// each an upper-case letter, a digit or '#'.
func ParsePeriodKey(s string) (PeriodKey, error) {
	if k := PeriodKey(s); k.Valid() {
		return k, nil
	}
	return "", fmt.Errorf("vat: period key %q is not 4 characters of A-Z, 0-9 or #", truncate(s, 32))
}

// Valid reports whether k matches ^[#0-9A-Z]{4}$.
func (k PeriodKey) Valid() bool {
	if len(k) != 4 {
		return false
	}
	for i := 0; i < len(k); i++ {
		c := k[i]
		if (c < '0' || c > '9') && (c < 'A' || c > 'Z') && c != '#' {
			return false
		}
	}
	return true
}

// check reports a period key HMRC would refuse in a path.
func (k PeriodKey) check(p *problems) {
	if !k.Valid() {
		p.add("periodKey", "PERIOD_KEY_INVALID", "period key must be 4 characters of A-Z, 0-9 or #, got %q", truncate(string(k), 20))
	}
}

// String returns k unchanged.
func (k PeriodKey) String() string { return string(k) }

// Date is a calendar date without a time of day or time zone, as HMRC's APIs
// use them ("2017-04-06"). The zero Date means "no date"; optional dates in
// responses decode to it and are omitted from requests.
type Date struct {
	year  int
	month time.Month
	day   int
}

// NewDate returns the date of year, month and day. Out-of-range values are
// normalised as time.Date does (31 April becomes 1 May).
func NewDate(year int, month time.Month, day int) Date {
	return DateOf(time.Date(year, month, day, 0, 0, 0, 0, time.UTC))
}

// DateOf returns the calendar date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// ParseDate parses a date in HMRC's strict YYYY-MM-DD form: a four-digit year,
// two-digit month and day, and a day that exists ("2017-02-30" and
// "2017-1-5" are errors).
func ParseDate(s string) (Date, error) {
	if d, ok := parseDate(s); ok {
		return d, nil
	}
	return Date{}, fmt.Errorf("vat: date %q is not a real date in YYYY-MM-DD form", truncate(s, 32))
}

func parseDate(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' || !allDigits(s[:4]) || !allDigits(s[5:7]) || !allDigits(s[8:]) {
		return Date{}, false
	}
	y := atoi(s[:4])
	m := time.Month(atoi(s[5:7]))
	d := atoi(s[8:])
	if m < 1 || m > 12 || d < 1 || d > daysIn(y, m) {
		return Date{}, false
	}
	return Date{y, m, d}, true
}

// Year returns d's year.
func (d Date) Year() int { return d.year }

// Month returns d's month.
func (d Date) Month() time.Month { return d.month }

// Day returns d's day of the month.
func (d Date) Day() int { return d.day }

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD; the zero Date formats as "".
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	return string(d.append(make([]byte, 0, 10)))
}

func (d Date) append(b []byte) []byte {
	if d.year < 0 || d.year > 9999 {
		return fmt.Appendf(b, "%04d-%02d-%02d", d.year, int(d.month), d.day)
	}
	y, m := d.year, int(d.month)
	return append(b, byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-',
		byte('0'+m/10), byte('0'+m%10), '-', byte('0'+d.day/10), byte('0'+d.day%10))
}

// Time returns midnight at the start of d in loc.
func (d Date) Time(loc *time.Location) time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, loc)
}

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.year != e.year:
		return cmp.Compare(d.year, e.year)
	case d.month != e.month:
		return cmp.Compare(d.month, e.month)
	}
	return cmp.Compare(d.day, e.day)
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// AddDays returns d plus n days (n may be negative).
func (d Date) AddDays(n int) Date {
	return DateOf(d.Time(time.UTC).AddDate(0, 0, n))
}

// AddMonths returns d plus n months, clamping the day to the end of the
// resulting month (31 January plus one month is 28 or 29 February). This is
// the arithmetic HMRC's service uses (Java's LocalDate.plusMonths).
func (d Date) AddMonths(n int) Date {
	total := d.year*12 + int(d.month) - 1 + n
	y, m := total/12, time.Month(total%12+1)
	if total < 0 && total%12 != 0 {
		y, m = y-1, time.Month(total%12+13)
	}
	day := d.day
	if dim := daysIn(y, m); day > dim {
		day = dim
	}
	return Date{y, m, day}
}

// AddYears returns d plus n years, clamping 29 February to 28 February in a
// year that is not a leap year, as HMRC's service does (Java's
// LocalDate.plusYears). It differs from time.Time.AddDate, which would give
// 1 March.
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// MarshalJSON writes d as a JSON string "YYYY-MM-DD". Use the omitzero
// option to leave out a zero Date; without it a zero Date is written as null.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	b := append(make([]byte, 0, 12), '"')
	return append(d.append(b), '"'), nil
}

// UnmarshalJSON reads a JSON string in strict YYYY-MM-DD form. JSON null
// gives the zero Date.
func (d *Date) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*d = Date{}
		return nil
	}
	if len(b) >= 2 && b[0] == '"' && b[len(b)-1] == '"' {
		if v, ok := parseDate(string(b[1 : len(b)-1])); ok {
			*d = v
			return nil
		}
	}
	return &json.UnmarshalTypeError{Value: truncate(string(b), 40) + " (not a YYYY-MM-DD date)", Type: reflect.TypeFor[Date]()}
}

// MarshalText writes d as YYYY-MM-DD.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date in strict YYYY-MM-DD form; empty text gives the
// zero Date.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = Date{}
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// EncodeValues adds d to a URL query as YYYY-MM-DD (the zero Date adds
// nothing). It implements go-querystring's Encoder.
func (d Date) EncodeValues(key string, v *url.Values) error {
	if !d.IsZero() {
		v.Set(key, d.String())
	}
	return nil
}

// valid reports whether d is a real date with a four-digit year, which is all
// HMRC's YYYY-MM-DD parser accepts.
func (d Date) valid() bool {
	return d.year >= 0 && d.year <= 9999 && d.month >= 1 && d.month <= 12 && d.day >= 1 && d.day <= daysIn(d.year, d.month)
}

// DateRange is an inclusive range of dates, From to To, as HMRC's query
// parameters "from" and "to" express it.
type DateRange struct {
	// From is the first day of the range, sent as the "from" query
	// parameter (YYYY-MM-DD). A zero From is refused before any request.
	From Date `json:"from" url:"from"`
	// To is the last day of the range, included, sent as the "to" query
	// parameter (YYYY-MM-DD). A zero To is refused before any request.
	To Date `json:"to" url:"to"`
}

// String formats r as "FROM..TO".
func (r DateRange) String() string { return r.From.String() + ".." + r.To.String() }

// Contains reports whether d is within r, both ends included.
func (r DateRange) Contains(d Date) bool { return !d.Before(r.From) && !d.After(r.To) }

func daysIn(y int, m time.Month) int {
	switch m {
	case time.February:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case time.April, time.June, time.September, time.November:
		return 30
	}
	return 31
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi converts a short string of ASCII digits already checked by allDigits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}

// truncate shortens user input quoted in error messages.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// Package civil is a calendar date with the semantics HMRC's service uses:
// strict "uuuu-MM-dd" parsing and java.time's month and year arithmetic, which
// clamps to the end of a shorter month (2020-02-29 plus one year is 2021-02-28).
package civil

import (
	"time"
)

// Date is a day in the proleptic Gregorian calendar.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// Parse reads exactly four digits, '-', two digits, '-', two digits, and
// accepts only real calendar dates ("2017-02-30" and "2017-1-5" fail).
func Parse(s string) (Date, bool) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, false
	}
	num := func(t string) (int, bool) {
		n := 0
		for i := 0; i < len(t); i++ {
			c := t[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			n = n*10 + int(c-'0')
		}
		return n, true
	}
	y, ok1 := num(s[:4])
	m, ok2 := num(s[5:7])
	d, ok3 := num(s[8:])
	if !ok1 || !ok2 || !ok3 || m < 1 || m > 12 || d < 1 || d > daysIn(y, time.Month(m)) {
		return Date{}, false
	}
	return Date{y, time.Month(m), d}, true
}

// Of returns the date of t in t's location.
func Of(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

func daysIn(y int, m time.Month) int {
	return time.Date(y, m+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (d Date) t() time.Time { return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC) }

// Time is midnight UTC at the start of d.
func (d Date) Time() time.Time { return d.t() }

// AddDays returns d plus n days.
func (d Date) AddDays(n int) Date { return Of(d.t().AddDate(0, 0, n)) }

// AddMonths returns d plus n months, clamped to the last day of the target
// month, like java.time.LocalDate.plusMonths.
func (d Date) AddMonths(n int) Date {
	total := d.Year*12 + int(d.Month-1) + n
	y, m := total/12, time.Month(total%12+1)
	if total%12 < 0 {
		y, m = (total-11)/12, time.Month(total%12+13)
	}
	day := d.Day
	if last := daysIn(y, m); day > last {
		day = last
	}
	return Date{y, m, day}
}

// AddYears returns d plus n years, like java.time.LocalDate.plusYears:
// 29 February becomes 28 February in a common year.
func (d Date) AddYears(n int) Date { return d.AddMonths(12 * n) }

// LastOfMonth is the last day of d's month.
func (d Date) LastOfMonth() Date { return Date{d.Year, d.Month, daysIn(d.Year, d.Month)} }

// FirstOfMonth is the first day of d's month.
func (d Date) FirstOfMonth() Date { return Date{d.Year, d.Month, 1} }

// Compare returns −1, 0 or +1 as d is before, equal to or after o.
func (d Date) Compare(o Date) int {
	switch {
	case d.Year != o.Year:
		return sign(d.Year - o.Year)
	case d.Month != o.Month:
		return sign(int(d.Month) - int(o.Month))
	default:
		return sign(d.Day - o.Day)
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// Before reports whether d is before o.
func (d Date) Before(o Date) bool { return d.Compare(o) < 0 }

// After reports whether d is after o.
func (d Date) After(o Date) bool { return d.Compare(o) > 0 }

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String formats d as YYYY-MM-DD.
func (d Date) String() string { return string(d.Append(nil)) }

// Append appends d as YYYY-MM-DD to b.
func (d Date) Append(b []byte) []byte {
	y := d.Year
	if y < 0 {
		b = append(b, '-')
		y = -y
	}
	b = append(b, byte('0'+y/1000%10), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), '-')
	b = append(b, byte('0'+int(d.Month)/10), byte('0'+int(d.Month)%10), '-')
	return append(b, byte('0'+d.Day/10), byte('0'+d.Day%10))
}

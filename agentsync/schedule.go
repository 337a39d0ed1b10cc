package agentsync

import (
	"hash/fnv"
	"slices"
	"time"

	"github.com/go-mtd/vat"
)

// Times of day (UTC) and intervals of the schedule; see the package
// documentation.
const (
	lookHour         = 9 * time.Hour  // checks on the day after a period's end or a due date…
	lookSpread       = 10 * time.Hour // …between 09:00 and 19:00, spread by VRN
	newRetry         = 12 * time.Hour // again while a predicted obligation is missing
	newRetryFor      = 7 * 24 * time.Hour
	showHour         = 6 * time.Hour // HMRC shows fulfilment in the morning
	showMargin       = time.Hour
	submittedFor     = 14 * 24 * time.Hour
	submittedForget  = 60 * 24 * time.Hour
	overdueSlow      = 3 * 24 * time.Hour
	overdueHere      = 14 * 24 * time.Hour
	overdueFor       = 56 * 24 * time.Hour
	backoffFirst     = 5 * time.Minute
	backoffMax       = 6 * time.Hour
	day              = 24 * time.Hour
	defaultSweep     = 90 * 24 * time.Hour
	morning          = showHour + showMargin // HMRC updates obligations overnight: retries at 07:00
	sweepJitterShare = 0.2
)

// Reasons for a fetch, in Record.NextReason.
const (
	ReasonFirst     = "first fetch"
	ReasonRetry     = "retry after an error"
	ReasonPeriodEnd = "period end"
	ReasonSubmitted = "return filed"
	ReasonDue       = "due date"
	ReasonOverdue   = "overdue"
	ReasonSweep     = "sweep"
	ReasonRefresh   = "refresh"
	ReasonFinancial = "liabilities, payments or penalties"
)

func dateTime(d vat.Date, offset time.Duration) time.Time { return d.Time(time.UTC).Add(offset) }

// ExpectedFulfilment returns when HMRC is expected to show a return filed at
// at as fulfilled: 06:00 UTC on the next working day, or on the Tuesday for
// a return filed after 18:00 on a Friday or at the weekend (HMRC's guidance:
// "by the next morning Monday to Thursday; after 6 pm on Friday possibly the
// next Tuesday or Wednesday").
func ExpectedFulfilment(at time.Time) time.Time {
	at = at.UTC()
	d := vat.DateOf(at)
	switch wd := at.Weekday(); {
	case wd >= time.Monday && wd <= time.Thursday:
		return dateTime(d.AddDays(1), showHour)
	case wd == time.Friday && at.Hour() < 18:
		return dateTime(d.AddDays(3), showHour)
	case wd == time.Friday:
		return dateTime(d.AddDays(4), showHour)
	case wd == time.Saturday:
		return dateTime(d.AddDays(3), showHour)
	default: // Sunday
		return dateTime(d.AddDays(2), showHour)
	}
}

// periodMonths returns the length of o in whole months and whether o looks
// like a regular period (starting on the 1st, ending on a month's last day).
func periodMonths(o vat.Obligation) (int, bool) {
	n := (o.End.Year()-o.Start.Year())*12 + int(o.End.Month()) - int(o.Start.Month()) + 1
	regular := o.Start.Day() == 1 && o.End.AddDays(1).Day() == 1
	return n, regular
}

// predictNextEnd predicts the end of the period whose obligation HMRC will
// show next: the period after the latest known one, from the length of the
// latest regular period (1, 3 or 12 months); or the latest known one itself
// when it has not ended on today (HMRC may list a period before it ends; a
// new one then comes when it ends). It predicts nothing (false) after a
// final period: one that starts on a month's first day but ends before the
// month's last, cut short by a deregistration.
func predictNextEnd(obs []vat.Obligation, today vat.Date) (vat.Date, bool) {
	latest := obs[0]
	for _, o := range obs[1:] {
		if o.End.After(latest.End) {
			latest = o
		}
	}
	if !latest.End.Before(today) {
		return latest.End, true
	}
	if latest.Start.Day() == 1 && latest.End.AddDays(1).Day() != 1 {
		return vat.Date{}, false
	}
	months := 0
	var newest vat.Date
	for _, o := range obs {
		if n, ok := periodMonths(o); ok && (n == 1 || n == 3 || n == 12) && !o.End.Before(newest) {
			months, newest = n, o.End
		}
	}
	if months == 0 { // only irregular periods: take the nearest usual length
		n, _ := periodMonths(latest)
		switch {
		case n <= 2:
			months = 1
		case n <= 7:
			months = 3
		default:
			months = 12
		}
	}
	return latest.End.AddDays(1).AddMonths(months).AddDays(-1), true
}

// nextMorning returns 07:00 UTC on the first working day (Monday to
// Friday) after t: HMRC updates obligations overnight on working days, so a
// return that is not shown fulfilled in the morning is looked for again the
// next working morning.
func nextMorning(t time.Time) time.Time {
	d := vat.DateOf(t)
	if t.Before(dateTime(d, morning)) && workingDay(d) {
		return dateTime(d, morning)
	}
	d = d.AddDays(1)
	for !workingDay(d) {
		d = d.AddDays(1)
	}
	return dateTime(d, morning)
}

func workingDay(d vat.Date) bool {
	wd := d.Time(time.UTC).Weekday()
	return wd != time.Saturday && wd != time.Sunday
}

// lookTime is the time of day of a client's checks after a period's end and
// a due date: between 09:00 and 19:00 UTC, by VRN, so that the checks of a
// quarter's end do not all fall in one hour.
func lookTime(vrn vat.VRN) time.Duration {
	return lookHour + time.Duration(jitter(vrn)*float64(lookSpread)).Truncate(time.Minute)
}

func jitter(vrn vat.VRN) float64 {
	h := fnv.New32a()
	_, _ = h.Write([]byte(vrn))
	return float64(h.Sum32()%10000) / 10000
}

func backoff(failures int) time.Duration {
	d := backoffFirst
	for i := 1; i < failures && d < backoffMax; i++ {
		d *= 2
	}
	return min(d, backoffMax)
}

// nextFetch decides when to fetch r's obligations next; zero means never
// (a parked client).
func nextFetch(r *Record, sweep time.Duration, extras bool) (time.Time, string) {
	if r.Parked {
		return time.Time{}, ""
	}
	if r.Failures > 0 {
		return r.Attempted.Add(backoff(r.Failures)), ReasonRetry
	}
	if r.Fetched.IsZero() {
		return r.Attempted, ReasonFirst // zero: at once
	}
	last := r.Fetched
	look := lookTime(r.VRN)
	next := last.Add(time.Duration(float64(sweep) * (1 - sweepJitterShare/2 + sweepJitterShare*jitter(r.VRN))))
	reason := ReasonSweep
	consider := func(t time.Time, why string) {
		if t.Before(next) {
			next, reason = t, why
		}
	}
	// A new obligation after the next period's end: the one announced
	// (Expect), or the one the client's history predicts.
	lookFor := func(end vat.Date) {
		t := dateTime(end.AddDays(1), look)
		switch {
		case t.After(last):
			consider(t, ReasonPeriodEnd)
		case last.Before(t.Add(newRetryFor)): // not there yet: again, less and less often
			consider(last.Add(max(newRetry, last.Sub(t))), ReasonPeriodEnd)
		}
	}
	for _, end := range r.Expected {
		lookFor(end)
	}
	switch {
	case len(r.Obligations) == 0 && len(r.Expected) == 0:
		// No period known yet: the day after every month's end.
		m := vat.DateOf(last.Add(-look))
		firstOfNext := vat.NewDate(m.Year(), m.Month()+1, 1)
		consider(dateTime(firstOfNext, look), ReasonPeriodEnd)
	case len(r.Obligations) > 0:
		if end, ok := predictNextEnd(r.Obligations, vat.DateOf(last)); ok {
			lookFor(end)
		}
	}
	// Liabilities, payments and penalties (a visit fetches obligations too).
	if extras {
		for _, t := range []time.Time{r.FinancialDue, r.PenaltiesDue} {
			if !t.IsZero() {
				consider(t, ReasonFinancial)
			}
		}
	}
	// Fulfilment of the returns filed through the software.
	for _, s := range r.Submitted {
		t := ExpectedFulfilment(s.At).Add(showMargin)
		switch {
		case t.After(last):
			consider(t, ReasonSubmitted)
		case last.Before(s.At.Add(submittedFor)):
			consider(nextMorning(last), ReasonSubmitted)
		}
	}
	// Due dates of the open obligations not filed through the software.
	for _, o := range r.Obligations {
		if o.Fulfilled() || r.submitted(o.PeriodKey) {
			continue
		}
		t := dateTime(o.Due.AddDays(1), look)
		shown := lateShown(o.Due) // when a return filed late on the due date would show
		switch {
		case t.After(last):
			consider(t, ReasonDue)
		case r.FilesHere: // the software will be told when it is filed
			if last.Before(t.Add(overdueFor)) {
				consider(last.Add(overdueHere), ReasonOverdue)
			}
		case last.Before(shown):
			consider(shown, ReasonOverdue)
		case last.Before(nextMorning(shown)): // HMRC may be a working day late
			consider(nextMorning(shown), ReasonOverdue)
		case last.Before(t.Add(overdueFor)):
			consider(last.Add(overdueSlow), ReasonOverdue)
		}
	}
	return next, reason
}

// lateShown returns when HMRC is expected to show a return filed late on
// due (the last day for it) as fulfilled, with the margin of the checks.
func lateShown(due vat.Date) time.Time {
	return ExpectedFulfilment(dateTime(due, 23*time.Hour)).Add(showMargin)
}

func (r *Record) submitted(k vat.PeriodKey) bool {
	return slices.ContainsFunc(r.Submitted, func(s Submission) bool { return s.PeriodKey == k })
}

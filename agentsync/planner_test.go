package agentsync_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
)

const vrnA = "123456789"

// vrnALook is the time of day of vrnA's checks after a period's end or a due
// date (spread between 09:00 and 19:00 by VRN).
const vrnALook = " 15:33"

type rig struct {
	clk   *fakeClock
	hmrc  *fakeHMRC
	evs   *events
	p     *agentsync.Planner
	store agentsync.Store
}

func newRig(t *testing.T, start time.Time, store agentsync.Store, opts ...agentsync.Option) *rig {
	t.Helper()
	r := &rig{clk: &fakeClock{t: start}, evs: &events{}, store: store}
	r.hmrc = newFake(r.clk.Now)
	var err error
	r.p, err = agentsync.New(newClient(t, r.hmrc, r.clk.Now), store, append([]agentsync.Option{agentsync.WithClock(r.clk.Now), agentsync.WithHandler(r.evs.add)}, opts...)...)
	require.NoError(t, err)
	return r
}

// watching adds vrnA, whose obligations HMRC lists as obs, makes its first
// fetch and drops the events it reported.
func (r *rig) watching(t *testing.T, obs ...vat.Obligation) {
	t.Helper()
	r.hmrc.set(vrnA, obs...)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	r.step(t, r.clk.Now())
	r.evs.take()
}

// step moves the clock to t and makes the fetches due; it returns the next
// fetch time.
func (r *rig) step(t *testing.T, when time.Time) time.Time {
	t.Helper()
	r.clk.Set(when)
	next, err := r.p.RunDue(context.Background())
	require.NoError(t, err)
	return next
}

func TestFirstFetchReportsOpenAndOverdueObligations(t *testing.T) {
	r := newRig(t, at("2025-05-20 10:00"), agentsync.NewMemoryStore())
	q4 := fulfilled(quarter("24A4", "2024-10-01", "2024-12-31"), "2025-02-01")
	q1 := quarter("25A1", "2025-01-01", "2025-03-31") // due 2025-05-07: overdue
	r.hmrc.set(vrnA, q4, q1)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	r.step(t, r.clk.Now())
	evs := r.evs.take()
	assert.Equal(t, []string{"new obligation 25A1", "overdue 25A1"}, kinds(evs))
	for _, e := range evs {
		assert.True(t, e.Initial, "%v", e)
	}
	assert.Len(t, r.hmrc.callTimes(), 1)
}

func TestNewObligationIsFetchedTheDayAfterThePeriodEnds(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	q1 := fulfilled(quarter("25A1", "2025-01-01", "2025-03-31"), "2025-04-20")
	r.hmrc.set(vrnA, q1)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	next := r.step(t, r.clk.Now())
	assert.Empty(t, r.evs.take())
	// The next look is the morning after the quarter to June ends.
	assert.Equal(t, at("2025-07-01"+vrnALook), next)
	q2 := quarter("25A2", "2025-04-01", "2025-06-30")
	r.hmrc.set(vrnA, q1, q2)
	r.step(t, at("2025-06-30 23:00")) // nothing due
	assert.Len(t, r.hmrc.callTimes(), 1)
	r.step(t, next)
	evs := r.evs.take()
	require.Equal(t, []string{"new obligation 25A2"}, kinds(evs))
	assert.False(t, evs[0].Initial)
	assert.Equal(t, next, evs[0].At)
}

func TestMissingObligationIsLookedForAgain(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	q1 := fulfilled(quarter("25A1", "2025-01-01", "2025-03-31"), "2025-04-20")
	r.hmrc.set(vrnA, q1)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	next := r.step(t, r.clk.Now())
	next = r.step(t, next) // 1 July 09:00: not there yet
	assert.Equal(t, at("2025-07-02 03:33"), next)
	r.hmrc.set(vrnA, q1, quarter("25A2", "2025-04-01", "2025-06-30"))
	r.step(t, next)
	assert.Equal(t, []string{"new obligation 25A2"}, kinds(r.evs.take()))
}

func TestSubmittedReturnIsWatchedUntilFulfilledAndNeverOverdue(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	q2 := quarter("25A2", "2025-04-01", "2025-06-30") // due 2025-08-07, a Thursday
	r.hmrc.set(vrnA, q2)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	r.evs.take()
	// Filed on Thursday 7 August at 15:00: HMRC shows it on Friday morning.
	require.NoError(t, r.p.Submitted(ctx, vrnA, "25A2", at("2025-08-07 15:00")))
	next := r.step(t, at("2025-08-07 15:00"))
	assert.Equal(t, at("2025-08-08 07:00"), next)
	// HMRC is late: still open at 07:00, and past the due date. HMRC
	// updates obligations overnight on working days: the next look is on
	// Monday morning.
	next = r.step(t, next)
	assert.Empty(t, r.evs.take(), "a return filed through the software is not reported overdue")
	assert.Equal(t, at("2025-08-11 07:00"), next)
	r.hmrc.set(vrnA, fulfilled(q2, "2025-08-07"))
	r.step(t, next)
	assert.Equal(t, []string{"fulfilled 25A2"}, kinds(r.evs.take()))
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs[0].Submitted)
	assert.True(t, recs[0].FilesHere)
}

func TestSubmittedOnFridayEveningIsLookedForOnTuesday(t *testing.T) {
	assert.Equal(t, at("2025-08-12 06:00"), agentsync.ExpectedFulfilment(at("2025-08-08 19:00")))
	assert.Equal(t, at("2025-08-11 06:00"), agentsync.ExpectedFulfilment(at("2025-08-08 11:00")))
	assert.Equal(t, at("2025-08-12 06:00"), agentsync.ExpectedFulfilment(at("2025-08-10 11:00")))
}

func TestReturnFiledElsewhereIsSeenTheDayAfterTheDueDate(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	q2 := quarter("25A2", "2025-04-01", "2025-06-30") // due 2025-08-07
	r.watching(t, q2)
	r.hmrc.set(vrnA, fulfilled(q2, "2025-08-05"))
	next := r.step(t, at("2025-08-06 12:00"))
	assert.Equal(t, at("2025-08-08"+vrnALook), next)
	r.step(t, next)
	assert.Equal(t, []string{"fulfilled 25A2"}, kinds(r.evs.take()))
}

// TestOverdueIsReportedOnceThenWatched: an obligation still open the day
// after its due date is reported overdue once, then looked at when a return
// filed late on the due date would show, a working day after that (HMRC may
// be late), then every three days.
func TestOverdueIsReportedOnceThenWatched(t *testing.T) {
	for _, tc := range []struct {
		name   string
		start  string
		q      vat.Obligation
		looks  []string // after the overdue report, until fulfilled
		filed  string
		called int
	}{{
		// Filed late on Thursday, a return shows on Friday morning, before
		// the look that reports it overdue: Monday, then every three days.
		name: "due on a Thursday", start: "2025-07-02 10:00",
		q:     quarter("25A2", "2025-04-01", "2025-06-30"),
		looks: []string{"2025-08-11 07:00", "2025-08-14 07:00"}, filed: "2025-08-12", called: 4,
	}, {
		// Filed on Friday evening, it would show on Tuesday morning; then
		// Wednesday. Nothing at the weekend.
		name: "due on a Friday", start: "2025-10-02 10:00",
		q:     quarter("25A3", "2025-07-01", "2025-09-30"),
		looks: []string{"2025-11-11 07:00", "2025-11-12 07:00"}, filed: "2025-11-07", called: 4,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t, at(tc.start), agentsync.NewMemoryStore())
			r.watching(t, tc.q)
			next := r.step(t, dateTimeAt(tc.q.Due.AddDays(1), vrnALook))
			assert.Equal(t, []string{"overdue " + string(tc.q.PeriodKey)}, kinds(r.evs.take()))
			for i, look := range tc.looks {
				require.Equal(t, at(look), next, "look %d", i)
				if i == len(tc.looks)-1 {
					r.hmrc.set(vrnA, fulfilled(tc.q, tc.filed))
				}
				next = r.step(t, next)
			}
			assert.Equal(t, []string{"fulfilled " + string(tc.q.PeriodKey)}, kinds(r.evs.take()), "overdue reported once")
			assert.Len(t, r.hmrc.callTimes(), tc.called)
		})
	}
}

func TestOverdueOfAClientFilingHereIsLookedAtFortnightly(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	q1 := quarter("25A1", "2025-01-01", "2025-03-31")
	q2 := quarter("25A2", "2025-04-01", "2025-06-30") // due 7 August
	r.hmrc.set(vrnA, fulfilled(q1, "2025-05-01"), q2)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	r.evs.take()
	// The software filed the client's last return: it will be told when
	// it files this one, so an overdue obligation is looked at rarely.
	require.NoError(t, r.p.Submitted(ctx, vrnA, "25A1", at("2025-04-30 10:00")))
	next := r.step(t, at("2025-08-08"+vrnALook))
	assert.Equal(t, []string{"overdue 25A2"}, kinds(r.evs.take()))
	assert.Equal(t, at("2025-08-22"+vrnALook), next)
}

func TestRevokedClientIsReportedAndParked(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	r.hmrc.setFail(vrnA, http.StatusForbidden)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	next := r.step(t, r.clk.Now())
	evs := r.evs.take()
	require.Equal(t, []string{"access lost "}, kinds(evs))
	assert.ErrorIs(t, evs[0].Err, vat.ErrNotAuthorised)
	assert.True(t, next.IsZero(), "nothing scheduled")
	r.step(t, at("2026-07-02 10:00"))
	assert.Len(t, r.hmrc.callTimes(), 1, "never retried")
	// Authorised again: adding the client resumes it.
	r.hmrc.setFail(vrnA, 0)
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	assert.Len(t, r.hmrc.callTimes(), 2)
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	assert.False(t, recs[0].Parked)
}

func TestTransientErrorBacksOff(t *testing.T) {
	start := at("2025-07-02 10:00")
	r := newRig(t, start, agentsync.NewMemoryStore())
	r.hmrc.setFail(vrnA, http.StatusServiceUnavailable)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	next := r.step(t, start)
	assert.Equal(t, []string{"fetch failed "}, kinds(r.evs.take()))
	assert.Equal(t, start.Add(5*time.Minute), next)
	next = r.step(t, next)
	assert.Equal(t, []string{"fetch failed "}, kinds(r.evs.take()))
	assert.Equal(t, start.Add(15*time.Minute), next)
	r.hmrc.setFail(vrnA, 0)
	r.step(t, next)
	assert.Empty(t, r.evs.take())
	assert.Len(t, r.hmrc.callTimes(), 3)
}

func TestRestartResumesTheScheduleFromTheStore(t *testing.T) {
	dir := t.TempDir()
	store, err := agentsync.NewFileStore(dir)
	require.NoError(t, err)
	r := newRig(t, at("2025-05-01 10:00"), store)
	q1 := fulfilled(quarter("25A1", "2025-01-01", "2025-03-31"), "2025-04-20")
	r.hmrc.set(vrnA, q1)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	r.step(t, r.clk.Now())

	// A new process: same store, same world.
	store2, err := agentsync.NewFileStore(dir)
	require.NoError(t, err)
	r2 := newRig(t, at("2025-05-02 10:00"), store2)
	r2.hmrc.set(vrnA, q1)
	next := r2.step(t, r2.clk.Now())
	assert.Empty(t, r2.hmrc.callTimes(), "no sweep after a restart")
	assert.Equal(t, at("2025-07-01"+vrnALook), next)
	r2.hmrc.set(vrnA, q1, quarter("25A2", "2025-04-01", "2025-06-30"))
	r2.step(t, next)
	assert.Equal(t, []string{"new obligation 25A2"}, kinds(r2.evs.take()))
}

func TestRemovedClientIsNotFetched(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA, "987654321"))
	require.NoError(t, r.p.Remove(ctx, vrnA))
	r.step(t, r.clk.Now())
	calls := r.hmrc.calls
	require.Len(t, calls, 1)
	assert.Equal(t, "987654321", calls[0].vrn)
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
}

func TestBadInputIsRefusedNamingTheField(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	ctx := context.Background()
	assert.ErrorContains(t, r.p.Add(ctx, vrnA, "12345"), `vrns[1] "12345"`)
	assert.ErrorContains(t, r.p.Submitted(ctx, vrnA, "bad key", r.clk.Now()), "period key")
	assert.ErrorContains(t, r.p.Submitted(ctx, vrnA, "25A1", r.clk.Now()), "not watched")
	assert.Empty(t, r.hmrc.callTimes())
	_, err := agentsync.New(nil, agentsync.NewMemoryStore())
	assert.ErrorContains(t, err, "nil client")
	_, err = agentsync.New(newClient(t, r.hmrc, r.clk.Now), nil)
	assert.ErrorContains(t, err, "nil store")
	_, err = agentsync.New(newClient(t, r.hmrc, r.clk.Now), agentsync.NewMemoryStore(), agentsync.WithSweepInterval(time.Minute))
	assert.ErrorContains(t, err, "WithSweepInterval")
}

// Run waits on timers: in a synctest bubble the wait is instant and exact.
func TestRunFetchesWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hmrc := newFake(time.Now)
		evs := &events{}
		p, err := agentsync.New(newClient(t, hmrc, time.Now), agentsync.NewMemoryStore(), agentsync.WithHandler(evs.add))
		require.NoError(t, err)
		now := time.Now().UTC()
		today := vat.DateOf(now)
		// A month that ended yesterday: the next one ends in about a month.
		end := today.AddDays(-1)
		start := end.AddDays(1).AddMonths(-1)
		q := vat.Obligation{PeriodKey: "25M1", Start: start, End: end, Due: end.AddMonths(1).AddDays(7), Status: vat.ObligationFulfilled, Received: today}
		hmrc.set(vrnA, q)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error)
		go func() { done <- p.Run(ctx) }()
		require.NoError(t, p.Add(ctx, vrnA))
		synctest.Wait()
		require.Len(t, hmrc.callTimes(), 1)
		recs, err := p.Records(ctx)
		require.NoError(t, err)
		next := recs[0].Next
		time.Sleep(time.Until(next) - time.Second)
		synctest.Wait()
		assert.Len(t, hmrc.callTimes(), 1, "not before it is due")
		time.Sleep(2 * time.Second)
		synctest.Wait()
		calls := hmrc.callTimes()
		require.Len(t, calls, 2)
		assert.Equal(t, next, calls[1].UTC())
		cancel()
		assert.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestFileStoreWritesPrivateFilesAtomically(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	s, err := agentsync.NewFileStore(dir)
	require.NoError(t, err)
	ctx := context.Background()
	rec := agentsync.Record{VRN: vrnA, Obligations: []vat.Obligation{quarter("25A1", "2025-01-01", "2025-03-31")}, Fetched: at("2025-05-01 10:00")}
	require.NoError(t, s.Put(ctx, rec))
	require.NoError(t, s.Put(ctx, rec))
	fi, err := os.Stat(filepath.Join(dir, vrnA+".json"))
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
	// A crash's leftover temporary file is removed on load.
	require.NoError(t, os.WriteFile(filepath.Join(dir, ".tmp-"+vrnA+"-1"), []byte("{"), 0o600))
	got, err := s.Load(ctx)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, rec.Obligations, got[0].Obligations)
	assert.True(t, rec.Fetched.Equal(got[0].Fetched))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1)
	require.NoError(t, s.Delete(ctx, vrnA))
	require.NoError(t, s.Delete(ctx, vrnA))
	got, err = s.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
	assert.Error(t, s.Put(ctx, agentsync.Record{VRN: "../x"}))
}

const liabilitiesBody = `{"liabilities":[{"taxPeriod":{"from":"2025-04-01","to":"2025-06-30"},"type":"VAT Return Debit Charge","originalAmount":100.00,"outstandingAmount":100.00,"due":"2025-08-07"}]}`

func TestLiabilitiesAndPaymentsAreFetchedAfterAReturnAndAfterTheDueDate(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore(), agentsync.WithLiabilities(), agentsync.WithPayments())
	r.hmrc.setExtra("payments", `{"payments":[]}`)
	q2 := quarter("25A2", "2025-04-01", "2025-06-30") // due 2025-08-07
	r.hmrc.set(vrnA, q2)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	assert.Empty(t, r.hmrc.takeExtraCalls(), "nothing to look for yet")
	r.evs.take()
	require.NoError(t, r.p.Submitted(ctx, vrnA, "25A2", at("2025-07-21 10:00"))) // a Monday
	r.hmrc.set(vrnA, fulfilled(q2, "2025-07-21"))
	r.hmrc.setExtra("liabilities", liabilitiesBody)
	next := r.step(t, at("2025-07-21 10:00"))
	require.Equal(t, at("2025-07-22 07:00"), next)
	r.step(t, next)
	assert.Equal(t, []string{"liabilities", "payments"}, r.hmrc.takeExtraCalls(), "with the fulfilment")
	evs := r.evs.take()
	require.Equal(t, []string{"fulfilled 25A2", "liabilities "}, kinds(evs), "no payments yet: no change")
	require.Len(t, evs[1].Liabilities, 1)
	assert.Equal(t, vat.Money(10000), evs[1].Liabilities[0].OriginalAmount)

	// Three days after the due date, a payment has been taken.
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	assert.Equal(t, at("2025-08-10"+vrnALook), recs[0].FinancialDue)
	r.hmrc.setExtra("payments", `{"payments":[{"amount":100.00,"received":"2025-08-07"}]}`)
	r.step(t, recs[0].FinancialDue)
	assert.Equal(t, []string{"liabilities", "payments"}, r.hmrc.takeExtraCalls())
	assert.Equal(t, []string{"payments "}, kinds(r.evs.take()), "the liability did not change")
}

func TestPenaltiesAreFetchedWhenAnObligationIsOverdue(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore(), agentsync.WithPenalties())
	q2 := quarter("25A2", "2025-04-01", "2025-06-30")
	r.hmrc.set(vrnA, q2)
	r.hmrc.setExtra("penalties", `{"totalisations":{"lateSubmissionPenaltyTotalValue":0}}`)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	r.step(t, r.clk.Now())
	assert.Empty(t, r.hmrc.takeExtraCalls())
	r.evs.take()
	r.step(t, at("2025-08-08"+vrnALook))
	assert.Equal(t, []string{"penalties"}, r.hmrc.takeExtraCalls())
	assert.Equal(t, []string{"overdue 25A2", "penalties "}, kinds(r.evs.take()))
}

func TestOptionalDataIsNotFetchedByDefault(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	q2 := quarter("25A2", "2025-04-01", "2025-06-30")
	r.hmrc.set(vrnA, q2)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	r.evs.take()
	r.hmrc.set(vrnA, fulfilled(q2, "2025-07-20"))
	r.step(t, at("2025-08-08"+vrnALook))
	r.step(t, at("2025-08-20 12:00"))
	assert.Empty(t, r.hmrc.takeExtraCalls())
	assert.Equal(t, []string{"fulfilled 25A2"}, kinds(r.evs.take()))
}

func TestAPeriodListedBeforeItEndsIsFollowedByALookWhenItEnds(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	q1 := fulfilled(quarter("25A1", "2025-01-01", "2025-03-31"), "2025-04-20")
	q2 := quarter("25A2", "2025-04-01", "2025-06-30") // listed before it ends
	r.hmrc.set(vrnA, q1, q2)
	require.NoError(t, r.p.Add(context.Background(), vrnA))
	next := r.step(t, r.clk.Now())
	assert.Equal(t, at("2025-07-01"+vrnALook), next)
}

func TestOptionalDataFailureIsRetriedLater(t *testing.T) {
	// On 28 February 2025 a year back would be 29 February 2024, a range
	// HMRC refuses as a year or more. Penalties, not turned on, must not be
	// waited for although the return is late.
	r := newRig(t, at("2025-02-20 10:00"), agentsync.NewMemoryStore(), agentsync.WithLiabilities())
	q4 := quarter("24A4", "2024-10-01", "2024-12-31")
	r.hmrc.set(vrnA, q4)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	r.evs.take()
	require.NoError(t, r.p.Submitted(ctx, vrnA, "24A4", at("2025-02-27 10:00")))
	r.hmrc.set(vrnA, fulfilled(q4, "2025-02-27"))
	r.hmrc.setExtra("liabilities", `500 {"code":"SERVER_ERROR","message":"Service unavailable"}`)
	next := r.step(t, at("2025-02-28 07:00"))
	assert.Equal(t, []string{"liabilities"}, r.hmrc.takeExtraCalls(), "a valid range on 28 February")
	assert.Equal(t, []string{"fulfilled 24A4", "fetch failed "}, kinds(r.evs.take()))
	assert.Equal(t, at("2025-02-28 13:00"), next, "again in 6 hours, not at once")
	r.hmrc.setExtra("liabilities", liabilitiesBody)
	r.step(t, next)
	assert.Equal(t, []string{"liabilities"}, r.hmrc.takeExtraCalls())
	assert.Equal(t, []string{"liabilities "}, kinds(r.evs.take()))
}

func TestAnnouncedPeriodIsLookedForTheDayAfterItEnds(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	q1 := fulfilled(quarter("25A1", "2025-01-01", "2025-03-31"), "2025-04-20")
	r.hmrc.set(vrnA, q1)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	next := r.step(t, r.clk.Now())
	assert.Equal(t, at("2025-07-01"+vrnALook), next, "predicted: the quarter's end")
	// The client deregisters on 15 May: its last period ends then.
	require.NoError(t, r.p.Expect(ctx, vrnA, date("2025-05-15")))
	require.NoError(t, r.p.Expect(ctx, vrnA, date("2025-05-15")), "announcing twice is harmless")
	next = r.step(t, at("2025-05-10 10:00"))
	assert.Equal(t, at("2025-05-16"+vrnALook), next)
	final := quarter("25A2", "2025-04-01", "2025-05-15")
	r.hmrc.set(vrnA, q1, final)
	next = r.step(t, next)
	assert.Equal(t, []string{"new obligation 25A2"}, kinds(r.evs.take()))
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs[0].Expected, "forgotten once listed")
	// Nothing follows a period cut short: the next look is its due date.
	assert.Equal(t, agentsync.ReasonDue, recs[0].NextReason)
	assert.Equal(t, dateTimeAt(final.Due.AddDays(1), vrnALook), next)
	r.hmrc.set(vrnA, q1, fulfilled(final, "2025-06-01"))
	r.step(t, at("2025-06-02 10:00"))
	next = r.step(t, next)
	assert.Equal(t, []string{"fulfilled 25A2"}, kinds(r.evs.take()))
	recs, err = r.p.Records(ctx)
	require.NoError(t, err)
	assert.Equal(t, agentsync.ReasonSweep, recs[0].NextReason, "only the safety sweep after a final period")
	assert.Equal(t, recs[0].Next, next)
	assert.GreaterOrEqual(t, next.Sub(recs[0].Fetched), 81*24*time.Hour, "the sweep: 90 days, less 10 per cent at most")
}

func TestAnnouncedFirstPeriodReplacesTheMonthlyLooks(t *testing.T) {
	r := newRig(t, at("2025-05-10 10:00"), agentsync.NewMemoryStore())
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA)) // newly registered: nothing listed yet
	next := r.step(t, r.clk.Now())
	assert.Equal(t, at("2025-06-01"+vrnALook), next, "unannounced: every month's end")
	require.NoError(t, r.p.Expect(ctx, vrnA, date("2025-07-31")))
	next = r.step(t, r.clk.Now())
	assert.Equal(t, at("2025-08-01"+vrnALook), next)
	first := quarter("25A3", "2025-05-10", "2025-07-31")
	r.hmrc.set(vrnA, first)
	r.step(t, next)
	assert.Equal(t, []string{"new obligation 25A3"}, kinds(r.evs.take()))
	assert.Len(t, r.hmrc.callTimes(), 2)
}

func TestAnnouncedPeriodThatNeverComesIsGivenUp(t *testing.T) {
	r := newRig(t, at("2025-05-10 10:00"), agentsync.NewMemoryStore())
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	require.NoError(t, r.p.Expect(ctx, vrnA, date("2025-07-31")))
	next := r.step(t, r.clk.Now())
	var looks []time.Time
	for next.Before(at("2025-08-31 00:00")) {
		looks = append(looks, next)
		next = r.step(t, next)
	}
	require.NotEmpty(t, looks)
	assert.Equal(t, at("2025-08-01"+vrnALook), looks[0])
	assert.LessOrEqual(t, len(looks), 6, "a few looks in the week after, not daily: %v", looks)
	assert.True(t, looks[len(looks)-1].Before(at("2025-08-10 00:00")), "given up after a week: %v", looks)
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs[0].Expected)
	assert.Equal(t, at("2025-09-01"+vrnALook), next, "back to every month's end")
}

func TestExpectRefusesBadInput(t *testing.T) {
	r := newRig(t, at("2025-05-10 10:00"), agentsync.NewMemoryStore())
	ctx := context.Background()
	assert.ErrorContains(t, r.p.Expect(ctx, vrnA, date("2025-08-31")), "not watched")
	require.NoError(t, r.p.Add(ctx, vrnA))
	assert.ErrorContains(t, r.p.Expect(ctx, vrnA, vat.Date{}), "zero end date")
	assert.Empty(t, r.hmrc.callTimes(), "no call for bad input")
}

func dateTimeAt(d vat.Date, clock string) time.Time { return at(d.String() + clock) }

func TestRefreshFetchesAtOnce(t *testing.T) {
	r := newRig(t, at("2025-05-01 10:00"), agentsync.NewMemoryStore())
	q1 := fulfilled(quarter("25A1", "2025-01-01", "2025-03-31"), "2025-04-20")
	r.watching(t, q1)
	ctx := context.Background()
	// HMRC wrote to the client of its deregistration on 15 May.
	r.clk.Set(at("2025-05-20 12:00"))
	r.hmrc.set(vrnA, q1, quarter("25A2", "2025-04-01", "2025-05-15"))
	require.NoError(t, r.p.Refresh(ctx, vrnA))
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	assert.Equal(t, agentsync.ReasonRefresh, recs[0].NextReason)
	assert.Equal(t, at("2025-05-20 12:00"), recs[0].Next)
	r.step(t, r.clk.Now())
	assert.Equal(t, []string{"new obligation 25A2"}, kinds(r.evs.take()))
	assert.Equal(t, map[string]int{agentsync.ReasonFirst: 1, agentsync.ReasonRefresh: 1}, r.p.Fetches())
	assert.ErrorContains(t, r.p.Refresh(ctx, "987654321"), "not watched")
}

func TestRefreshLeavesAParkedClientAlone(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	r.hmrc.setFail(vrnA, http.StatusForbidden)
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, vrnA))
	r.step(t, r.clk.Now())
	require.Equal(t, []string{"access lost "}, kinds(r.evs.take()))
	require.NoError(t, r.p.Refresh(ctx, vrnA))
	next := r.step(t, r.clk.Now().Add(time.Hour))
	assert.True(t, next.IsZero(), "nothing scheduled")
	assert.Len(t, r.hmrc.callTimes(), 1)
}

func TestRecordsAreByVRN(t *testing.T) {
	r := newRig(t, at("2025-07-02 10:00"), agentsync.NewMemoryStore())
	ctx := context.Background()
	require.NoError(t, r.p.Add(ctx, "987654321", vrnA, "555555555"))
	recs, err := r.p.Records(ctx)
	require.NoError(t, err)
	var vrns []vat.VRN
	for _, rec := range recs {
		vrns = append(vrns, rec.VRN)
	}
	assert.Equal(t, []vat.VRN{vrnA, "555555555", "987654321"}, vrns)
}

func TestEventString(t *testing.T) {
	q := quarter("25A2", "2025-04-01", "2025-06-30")
	assert.Equal(t, "123456789 overdue: 25A2 2025-04-01–2025-06-30 due 2025-08-07",
		agentsync.Event{Kind: agentsync.EventOverdue, VRN: vrnA, Obligation: q}.String())
	assert.Equal(t, "123456789 access lost: no authority",
		agentsync.Event{Kind: agentsync.EventAccessLost, VRN: vrnA, Err: errors.New("no authority")}.String())
	assert.Equal(t, "123456789 payments", agentsync.Event{Kind: agentsync.EventPayments, VRN: vrnA}.String())
	assert.Equal(t, "EventKind(99)", agentsync.EventKind(99).String())
}

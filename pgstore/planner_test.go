package pgstore_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
	"github.com/go-mtd/vat/pgstore"
	"github.com/go-mtd/vat/vattest"
)

const (
	vrnA vat.VRN = "123456789"
	vrnB vat.VRN = "987654321"
	// parkedReason and the period key "25Q7" are what the raw rows and the
	// errors must never show.
	parkedReason = "PARKED-REASON-TEXT: access withdrawn"
)

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t
}

func day(s string) vat.Date {
	d, err := vat.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

// fullRecord returns a record of vrn with every field set.
func fullRecord(vrn vat.VRN) agentsync.Record {
	outstanding, total, charge := vat.Money(12345), vat.Money(20000), vat.Money(20000)
	return agentsync.Record{
		VRN: vrn,
		Obligations: []vat.Obligation{
			{Start: day("2025-01-01"), End: day("2025-03-31"), Due: day("2025-05-07"), Status: vat.ObligationFulfilled, PeriodKey: "25A1", Received: day("2025-05-02")},
			{Start: day("2025-04-01"), End: day("2025-06-30"), Due: day("2025-08-07"), Status: vat.ObligationOpen, PeriodKey: "25Q7"},
		},
		Submitted:    []agentsync.Submission{{PeriodKey: "25Q7", At: utc("2025-08-06T15:04:05.123456789Z")}},
		Expected:     []vat.Date{day("2025-09-30")},
		FilesHere:    true,
		Overdue:      []vat.PeriodKey{"25Q7"},
		FinancialDue: utc("2025-08-10T12:33:00Z"),
		PenaltiesDue: utc("2025-08-09T12:33:00Z"),
		Liabilities: []vat.Liability{{
			TaxPeriod: &vat.DateRange{From: day("2025-01-01"), To: day("2025-03-31")},
			Type:      "VAT Return Debit Charge", OriginalAmount: 12345, OutstandingAmount: &outstanding, Due: day("2025-05-07"),
		}},
		Payments: []vat.Payment{{Amount: 5000, Received: day("2025-05-06")}},
		Penalties: &vat.Penalties{
			Totalisations: &vat.PenaltyTotalisations{LateSubmissionPenaltyTotalValue: &total},
			LateSubmissionPenalty: &vat.LateSubmissionPenalty{
				Summary: vat.LateSubmissionSummary{ActivePenaltyPoints: 4, PeriodOfComplianceAchievement: day("2027-06-30"), RegimeThreshold: 4, PenaltyChargeAmount: 20000},
				Details: []vat.LateSubmissionPenaltyDetail{{
					PenaltyNumber: "1234567890", PenaltyOrder: "04", PenaltyCategory: vat.PenaltyCategoryThreshold, PenaltyStatus: vat.PenaltyActive,
					PenaltyCreationDate: day("2025-05-08"), PenaltyExpiryDate: day("2027-05-08"), ChargeAmount: &charge,
					LateSubmissions: []vat.LateSubmission{{LateSubmissionID: "001", TaxReturnStatus: vat.TaxReturnFulfilled, TaxPeriodStartDate: day("2025-01-01")}},
				}},
			},
		},
		Fetched:      utc("2025-08-08T07:00:00Z"),
		Attempted:    utc("2025-08-08T07:00:01.5Z"),
		Failures:     2,
		Parked:       true,
		ParkedReason: parkedReason,
		Next:         utc("2025-08-09T12:33:00Z"),
		NextReason:   agentsync.ReasonOverdue,
	}
}

// newKeyedStore returns a pool, a fresh table and a Store on it encrypting
// with the key k1.
func newKeyedStore(t *testing.T) (*pgxpool.Pool, string, *pgstore.Store) {
	t.Helper()
	pool, table := newPool(t)
	s, err := pgstore.New(context.Background(), pool, pgstore.WithTable(table), pgstore.WithKeys(key("k1", 1)))
	require.NoError(t, err)
	return pool, table, s
}

// rawPlannerRow returns the key ID and stored bytes of a planner row.
func rawPlannerRow(t *testing.T, pool *pgxpool.Pool, table, owner string, vrn vat.VRN) (string, []byte) {
	t.Helper()
	var id string
	var data []byte
	require.NoError(t, pool.QueryRow(context.Background(), "SELECT key_id, record FROM "+table+"_planner WHERE owner = $1 AND vrn = $2", owner, string(vrn)).Scan(&id, &data))
	return id, data
}

// TestPlannerStoreRoundTrip: a record with every field set comes back equal
// from Load, Put replaces it, Delete removes it, deleting a missing record
// is not an error, and an owner without records loads an empty list.
func TestPlannerStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	_, _, s := newKeyedStore(t)
	p := s.Planner("agent-1")

	recs, err := p.Load(ctx)
	require.NoError(t, err, "an owner without records is not an error")
	assert.Empty(t, recs)

	full := fullRecord(vrnB)
	v := reflect.ValueOf(full)
	for i := range v.NumField() {
		require.False(t, v.Field(i).IsZero(), "fullRecord leaves %s unset", v.Type().Field(i).Name)
	}
	require.NoError(t, p.Put(ctx, full))
	require.NoError(t, p.Put(ctx, agentsync.Record{VRN: vrnA, NextReason: agentsync.ReasonFirst}))
	recs, err = p.Load(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, agentsync.Record{VRN: vrnA, NextReason: agentsync.ReasonFirst}, recs[0], "records come by VRN")
	assert.Equal(t, full, recs[1])

	// Put replaces.
	changed := full
	changed.Parked, changed.ParkedReason, changed.Failures = false, "", 0
	changed.Obligations = changed.Obligations[:1]
	require.NoError(t, p.Put(ctx, changed))
	recs, err = p.Load(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 2)
	assert.Equal(t, changed, recs[1])

	// Delete removes; a missing record is not an error.
	require.NoError(t, p.Delete(ctx, vrnB))
	recs, err = p.Load(ctx)
	require.NoError(t, err)
	require.Len(t, recs, 1)
	assert.Equal(t, vrnA, recs[0].VRN)
	require.NoError(t, p.Delete(ctx, vrnB), "deleting a missing record")
	require.NoError(t, p.Delete(ctx, "111111111"), "deleting a never stored record")
}

// TestPlannerOwnersAreIsolated: two owners with the same VRN keep separate
// records, and Delete in one leaves the other's.
func TestPlannerOwnersAreIsolated(t *testing.T) {
	ctx := context.Background()
	_, _, s := newKeyedStore(t)
	one, two := s.Planner("firm-1"), s.Planner("firm-2")
	r1 := agentsync.Record{VRN: vrnA, Failures: 1, NextReason: agentsync.ReasonRetry}
	r2 := agentsync.Record{VRN: vrnA, Parked: true, ParkedReason: "gone"}
	require.NoError(t, one.Put(ctx, r1))
	require.NoError(t, two.Put(ctx, r2))

	got, err := one.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []agentsync.Record{r1}, got)
	got, err = two.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []agentsync.Record{r2}, got)

	require.NoError(t, one.Delete(ctx, vrnA))
	got, err = one.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
	got, err = two.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []agentsync.Record{r2}, got, "the other owner's record stays")

	// An owner is not a prefix or pattern of another.
	got, err = s.Planner("firm-").Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// TestPlannerRecordsAreEncryptedAtRest: the stored bytes show neither a
// period key nor the parked reason, and name the key that wrote them.
func TestPlannerRecordsAreEncryptedAtRest(t *testing.T) {
	ctx := context.Background()
	pool, table, s := newKeyedStore(t)
	require.NoError(t, s.Planner("agent-1").Put(ctx, fullRecord(vrnA)))
	id, data := rawPlannerRow(t, pool, table, "agent-1", vrnA)
	assert.Equal(t, "k1", id)
	assert.NotContains(t, string(data), "25Q7")
	assert.NotContains(t, string(data), "PARKED-REASON")
	assert.NotContains(t, string(data), "obligations")
}

// TestPlannerRecordIsBoundToItsOwnerAndVRN: a row moved to another VRN or
// owner (or a token's ciphertext put in a record's place) fails to load,
// with an error naming the VRN and quoting nothing of the record.
func TestPlannerRecordIsBoundToItsOwnerAndVRN(t *testing.T) {
	ctx := context.Background()
	pool, table, s := newKeyedStore(t)
	p := s.Planner("agent-1")
	require.NoError(t, p.Put(ctx, fullRecord(vrnA)))
	move := func(set string) {
		t.Helper()
		_, err := pool.Exec(ctx, "UPDATE "+table+"_planner SET "+set)
		require.NoError(t, err)
	}
	noRecord := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, pgstore.ErrUndecryptable)
		assert.True(t, strings.HasPrefix(err.Error(), "pgstore: "), err.Error())
		assert.NotContains(t, err.Error(), "25Q7")
		assert.NotContains(t, err.Error(), "PARKED-REASON")
	}

	move("vrn = '" + string(vrnB) + "'")
	_, err := p.Load(ctx)
	noRecord(err)
	assert.Contains(t, err.Error(), string(vrnB), "the error names the row's VRN")

	move("vrn = '" + string(vrnA) + "'")
	got, err := p.Load(ctx)
	require.NoError(t, err, "back in its place the row loads")
	assert.Equal(t, []agentsync.Record{fullRecord(vrnA)}, got)

	move("owner = 'agent-2'")
	got, err = p.Load(ctx)
	require.NoError(t, err)
	assert.Empty(t, got)
	_, err = s.Planner("agent-2").Load(ctx)
	noRecord(err)
	assert.Contains(t, err.Error(), string(vrnA))
	assert.Contains(t, err.Error(), `"agent-2"`)

	// A token's ciphertext, under the same key, does not pass for a record.
	require.NoError(t, s.User("u").Save(ctx, tok))
	move("owner = 'agent-1', record = (SELECT token FROM " + table + " WHERE user_key = 'u')")
	_, err = p.Load(ctx)
	noRecord(err)
	assert.NotContains(t, err.Error(), "SECRET")
}

// TestPlannerKeyRotation: records written with an old key load with the
// keys [new, old], are rewritten with the new key on Put, and KeyUsage
// counts them with the tokens.
func TestPlannerKeyRotation(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	old, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("2025", 1)))
	require.NoError(t, err)
	require.NoError(t, old.Planner("o").Put(ctx, fullRecord(vrnA)))
	require.NoError(t, old.Planner("o").Put(ctx, fullRecord(vrnB)))
	require.NoError(t, old.User("u").Save(ctx, tok))
	usage, err := old.KeyUsage(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"2025": 3}, usage, "two records and a token")

	rotated, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("2026", 2), key("2025", 1)))
	require.NoError(t, err)
	p := rotated.Planner("o")
	got, err := p.Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []agentsync.Record{fullRecord(vrnA), fullRecord(vrnB)}, got)
	require.NoError(t, p.Put(ctx, got[0]))
	id, _ := rawPlannerRow(t, pool, table, "o", vrnA)
	assert.Equal(t, "2026", id, "a record put again is encrypted with the current key")
	id, _ = rawPlannerRow(t, pool, table, "o", vrnB)
	assert.Equal(t, "2025", id)
	usage, err = rotated.KeyUsage(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"2026": 1, "2025": 2}, usage)

	// A store without the new key says which key it lacks, for which VRN.
	_, err = old.Planner("o").Load(ctx)
	require.ErrorIs(t, err, pgstore.ErrUndecryptable)
	assert.Contains(t, err.Error(), `"2026"`)
	assert.Contains(t, err.Error(), string(vrnA))
	assert.NotContains(t, err.Error(), "PARKED-REASON")
}

// TestPlannerPlaintextRowsAreEncryptedOnNextPut: with AllowPlaintext a
// record is plain JSON with the key ID ""; a Store with a key reads it and
// encrypts it when it is put again.
func TestPlannerPlaintextRowsAreEncryptedOnNextPut(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	plain, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.AllowPlaintext())
	require.NoError(t, err)
	require.NoError(t, plain.Planner("o").Put(ctx, fullRecord(vrnA)))
	id, data := rawPlannerRow(t, pool, table, "o", vrnA)
	assert.Equal(t, "", id)
	assert.Contains(t, string(data), parkedReason)
	usage, err := plain.KeyUsage(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"": 1}, usage)

	enc, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	got, err := enc.Planner("o").Load(ctx)
	require.NoError(t, err)
	require.Equal(t, []agentsync.Record{fullRecord(vrnA)}, got)
	require.NoError(t, enc.Planner("o").Put(ctx, got[0]))
	id, data = rawPlannerRow(t, pool, table, "o", vrnA)
	assert.Equal(t, "k", id)
	assert.NotContains(t, string(data), parkedReason)
}

// TestPlannerStoreRefusesBadInputBeforeAnyQuery: an invalid VRN (Put,
// Delete) or owner (every method) is refused with an error naming the
// field, on a Store whose pool is closed, so no query was tried; a valid
// call on the same Store does reach the closed pool.
func TestPlannerStoreRefusesBadInputBeforeAnyQuery(t *testing.T) {
	ctx := context.Background()
	testPool, table := newPool(t)
	pool, err := pgxpool.NewWithConfig(ctx, testPool.Config())
	require.NoError(t, err)
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	pool.Close()
	p := s.Planner("agent-1")

	err = p.Put(ctx, agentsync.Record{VRN: vrnA})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "closed", "a valid call reaches the (closed) pool")

	for _, bad := range []vat.VRN{"", "12345678", "1234567890", "12345678X", "GB123456789", vat.VRN(strings.Repeat("9", 100))} {
		err := p.Put(ctx, agentsync.Record{VRN: bad, ParkedReason: parkedReason})
		require.Error(t, err, "Put %q", bad)
		assert.Contains(t, err.Error(), "record VRN")
		assert.NotContains(t, err.Error(), "closed")
		assert.NotContains(t, err.Error(), "PARKED-REASON")
		assert.NotContains(t, err.Error(), strings.Repeat("9", 30), "a long VRN is cut short")

		err = p.Delete(ctx, bad)
		require.Error(t, err, "Delete %q", bad)
		assert.Contains(t, err.Error(), "vrn")
		assert.NotContains(t, err.Error(), "closed")
	}

	for _, bad := range []string{"", "a\x00b", strings.Repeat("x", 257), "\xff\xfe"} {
		q := s.Planner(bad)
		_, err := q.Load(ctx)
		require.Error(t, err, "owner %q", bad)
		for _, err := range []error{err, q.Put(ctx, agentsync.Record{VRN: vrnA}), q.Delete(ctx, vrnA)} {
			require.Error(t, err, "owner %q", bad)
			assert.True(t, strings.HasPrefix(err.Error(), "pgstore: planner owner "), err.Error())
			assert.NotContains(t, err.Error(), "closed")
		}
	}
	_, err = s.Planner(strings.Repeat("é", 128)).Load(ctx)
	assert.Contains(t, err.Error(), "closed", "256 bytes of UTF-8 is a valid owner")
}

// TestPlannerStorePrintsNoKeys: a PlannerStore prints its owner and table,
// never a key, whatever the verb.
func TestPlannerStorePrintsNoKeys(t *testing.T) {
	ctx := context.Background()
	secret := []byte("0123456789abcdef0123456789ABCDEF")
	pool, table := newPool(t)
	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(pgstore.Key{ID: "k1", Secret: secret}))
	require.NoError(t, err)
	p := s.Planner("agent-1")
	assert.Equal(t, `pgstore.PlannerStore{table: `+table+`_planner, owner: "agent-1"}`, fmt.Sprint(p))
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d"} {
		for _, out := range []string{fmt.Sprintf(verb, p), fmt.Sprintf(verb, *p), fmt.Sprintf(verb, []*pgstore.PlannerStore{p})} {
			assert.NotContains(t, out, string(secret), verb)
			assert.NotContains(t, out, fmt.Sprintf("%x", secret), verb)
			assert.NotContains(t, out, "48 49 50", verb)
			assert.NotContains(t, out, "[48 49", verb)
		}
	}
}

// TestPlannerScheduleSurvivesARestart runs an agentsync.Planner on a
// PlannerStore against the vattest simulator, then starts another on a new
// Store and pool over the same table and owner: it has the same record,
// and its next fetch is the schedule's, not a first fetch.
func TestPlannerScheduleSurvivesARestart(t *testing.T) {
	ctx := context.Background()
	pool1, table := newPool(t)
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	srv.SetNow(utc("2025-05-20T10:00:00Z"))
	tc := srv.NewClientFor(t, vattest.Organisation{Plan: &vattest.Plan{Period: vattest.Quarterly, Fulfilled: 2, Open: 1}})
	vrn := vat.VRN(tc.User.VRN)

	s1, err := pgstore.New(ctx, pool1, pgstore.WithTable(table), pgstore.WithKeys(key("k1", 1)))
	require.NoError(t, err)
	p1, err := agentsync.New(tc.Client, s1.Planner("agent-1"), agentsync.WithClock(srv.Now))
	require.NoError(t, err)
	require.NoError(t, p1.Add(ctx, vrn))
	next1, err := p1.RunDue(ctx)
	require.NoError(t, err)
	require.Equal(t, map[string]int{agentsync.ReasonFirst: 1}, p1.Fetches())
	before, err := p1.Records(ctx)
	require.NoError(t, err)
	require.Len(t, before, 1)
	require.False(t, before[0].Fetched.IsZero())
	require.NotEmpty(t, before[0].Obligations)
	require.False(t, next1.IsZero())

	// The restart: a new pool and Store over the same table, the same owner.
	pool2, _ := newPool(t)
	s2, err := pgstore.New(ctx, pool2, pgstore.WithTable(table), pgstore.WithKeys(key("k1", 1)))
	require.NoError(t, err)
	p2, err := agentsync.New(tc.Client, s2.Planner("agent-1"), agentsync.WithClock(srv.Now))
	require.NoError(t, err)
	after, err := p2.Records(ctx)
	require.NoError(t, err)
	assert.Equal(t, before, after)
	require.Len(t, after, 1)
	assert.Equal(t, srv.Now(), after[0].Fetched)
	assert.NotEmpty(t, after[0].Obligations)
	assert.NotEqual(t, agentsync.ReasonFirst, after[0].NextReason, "the restarted planner does not fetch again as new")
	assert.Equal(t, next1, after[0].Next)
	next2, err := p2.RunDue(ctx)
	require.NoError(t, err)
	assert.Equal(t, next1, next2)
	assert.Empty(t, p2.Fetches(), "nothing is due at once after the restart")

	// Another owner on the same table has no planner state.
	other, err := agentsync.New(tc.Client, s2.Planner("agent-2"), agentsync.WithClock(srv.Now))
	require.NoError(t, err)
	recs, err := other.Records(ctx)
	require.NoError(t, err)
	assert.Empty(t, recs)
}

// TestMigrationFromVersion1KeepsTokens: a table at schema version 1 (tokens
// only) is migrated to the newest version by New, keeping its tokens, and
// gains the planner table.
func TestMigrationFromVersion1KeepsTokens(t *testing.T) {
	ctx := context.Background()
	pool, table := newPool(t)
	v1, err := pgstore.NewAtVersion(ctx, pool, 1, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	require.NoError(t, v1.User("u1").Save(ctx, tok))
	require.NoError(t, v1.User("u2").Save(ctx, tok))
	version := func() int {
		t.Helper()
		var v int
		require.NoError(t, pool.QueryRow(ctx, "SELECT version FROM "+table+"_schema").Scan(&v))
		return v
	}
	plannerTable := func() bool {
		t.Helper()
		var ok bool
		require.NoError(t, pool.QueryRow(ctx, "SELECT to_regclass($1) IS NOT NULL", table+"_planner").Scan(&ok))
		return ok
	}
	require.Equal(t, 1, version())
	require.False(t, plannerTable())

	s, err := pgstore.New(ctx, pool, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	assert.Equal(t, 2, version())
	assert.True(t, plannerTable())
	for _, u := range []string{"u1", "u2"} {
		got, err := s.User(u).Load(ctx)
		require.NoError(t, err, u)
		assert.Equal(t, tok.RefreshToken, got.RefreshToken)
	}
	require.NoError(t, s.Planner("o").Put(ctx, fullRecord(vrnA)))
	recs, err := s.Planner("o").Load(ctx)
	require.NoError(t, err)
	assert.Equal(t, []agentsync.Record{fullRecord(vrnA)}, recs)
	usage, err := s.KeyUsage(ctx)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"k": 3}, usage)

	// Migrating to an older version leaves a newer table as it is.
	_, err = pgstore.NewAtVersion(ctx, pool, 1, pgstore.WithTable(table), pgstore.WithKeys(key("k", 1)))
	require.NoError(t, err)
	assert.Equal(t, 2, version())
}

package main

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPlannerYear runs a simulated year of 200 clients (and those who
// register during it) against vattest and checks the planner's promises.
// Every figure is on the simulated clock, so the run is deterministic.
func TestPlannerYear(t *testing.T) {
	f, err := runPlanner(context.Background(), Options{Clients: 200, Days: 365, Tail: 100, Seed: 1})
	require.NoError(t, err)
	t.Log("\n" + table(f))
	require.Greater(t, f.Changes, 1500, "a year of changes")
	assert.Zero(t, f.Missed, "changes missed")
	assert.LessOrEqual(t, f.New.Worst, 24*time.Hour, "a new obligation is seen within a day of appearing")
	assert.LessOrEqual(t, f.FulfilSoftware.Worst, 6*time.Hour, "a return filed here is seen fulfilled within 6 hours of HMRC showing it")
	assert.Zero(t, f.ElsewhereLateDay, "a return filed elsewhere on time is seen by the day after its due date")
	assert.Zero(t, f.FalseOverdue, "no overdue report for a return HMRC already showed")
	assert.Equal(t, f.Revoked, f.AccessLost, "every withdrawn authority is reported")
	assert.LessOrEqual(t, f.CallsPerClient, 12.0, "first reads included")
	assert.Positive(t, f.NewIrregular.N, "the year has irregular periods")
	assert.LessOrEqual(t, f.NewIrregular.Worst, 24*time.Hour, "an announced period is seen within a day of appearing")
}

// TestPlannerYearUntold runs the same year without telling the planner of
// the periods the agent learns of: it must still miss nothing, finding the
// unpredictable periods by its schedule or its safety sweep.
func TestPlannerYearUntold(t *testing.T) {
	f, err := runPlanner(context.Background(), Options{Clients: 200, Days: 365, Tail: 100, Seed: 1, Untold: true})
	require.NoError(t, err)
	t.Log("\n" + table(f))
	assert.Zero(t, f.Missed, "changes missed")
	assert.LessOrEqual(t, f.New.Worst, 24*time.Hour)
	assert.Positive(t, f.NewIrregular.OverDay, "some unannounced periods are found late")
	assert.LessOrEqual(t, f.NewIrregular.Worst, 100*24*time.Hour, "found by the 90-day (±10%) sweep at the latest")
}

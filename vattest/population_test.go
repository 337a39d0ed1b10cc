package vattest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mtd/vat/vattest"
)

func TestPopulationChangesAppearAtTheirMoment(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	srv.SetNow(start)
	pop, err := srv.NewPopulation(vattest.PopulationOptions{Clients: 50, Start: start, Days: 120, Seed: 7})
	require.NoError(t, err)
	clients := pop.Clients()
	require.Greater(t, len(clients), 50, "new registrations come on top")

	var seenNew, seenFulfilled bool
	for !seenNew || !seenFulfilled {
		at := pop.NextEvent()
		require.False(t, at.IsZero(), "the world ran out of changes")
		srv.SetNow(at.Add(-time.Second))
		before := len(pop.Changes())
		pop.AdvanceTo(at.Add(-time.Second))
		require.Len(t, pop.Changes(), before, "nothing changes before its moment")
		srv.SetNow(at)
		pop.AdvanceTo(at)
		for _, ch := range pop.Changes()[before:] {
			assert.Equal(t, at, ch.At)
			var found bool
			for _, o := range srv.Obligations(ch.VRN) {
				if o.PeriodKey != ch.PeriodKey {
					continue
				}
				found = true
				switch ch.Kind {
				case vattest.ChangeNewObligation:
					seenNew = true
					assert.Empty(t, o.Received, "a new obligation is open")
				case vattest.ChangeFulfilled:
					seenFulfilled = true
					assert.Equal(t, ch.Filed.Format(time.DateOnly), o.Received)
				}
			}
			assert.True(t, found, "%s %s is listed", ch.VRN, ch.PeriodKey)
		}
	}
}

func TestPopulationIsReproducible(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	build := func() []vattest.PopulationClient {
		srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
		srv.SetNow(start)
		pop, err := srv.NewPopulation(vattest.PopulationOptions{Clients: 30, Start: start, Days: 30, Seed: 3})
		require.NoError(t, err)
		return pop.Clients()
	}
	assert.Equal(t, build(), build())
}

func TestNewPopulationRefusesBadOptions(t *testing.T) {
	srv := vattest.NewTestServer(t)
	_, err := srv.NewPopulation(vattest.PopulationOptions{Clients: 0, Start: time.Now(), Days: 1})
	assert.ErrorContains(t, err, "Clients")
	_, err = srv.NewPopulation(vattest.PopulationOptions{Clients: 1, Days: 1})
	assert.ErrorContains(t, err, "Start")
}

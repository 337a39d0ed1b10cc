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

// TestIrregularPeriodsAreAnnouncedBeforeTheyAppear checks that the agent
// learns of every period a client's history does not predict (but the
// second after a change of pattern, which the first predicts) before HMRC
// lists it, with its end date, and that all three kinds occur.
func TestIrregularPeriodsAreAnnouncedBeforeTheyAppear(t *testing.T) {
	start := time.Date(2025, 1, 6, 0, 0, 0, 0, time.UTC)
	srv := vattest.NewTestServer(t, vattest.WithRateLimit(0))
	srv.SetNow(start)
	pop, err := srv.NewPopulation(vattest.PopulationOptions{Clients: 1000, Start: start, Days: 365, Tail: 100, Seed: 1})
	require.NoError(t, err)
	type key struct{ vrn, end string }
	announced := map[key]time.Time{}
	for at := pop.NextEvent(); !at.IsZero(); at = pop.NextEvent() {
		srv.SetNow(at)
		for _, h := range pop.AdvanceTo(at) {
			if h.Kind == vattest.HappeningAnnounced {
				announced[key{h.VRN, h.PeriodEnd.Format(time.DateOnly)}] = h.At
			}
		}
	}
	periodKey := map[key]string{} // a listed period's key by its end
	for _, c := range pop.Clients() {
		for _, o := range srv.Obligations(c.VRN) {
			periodKey[key{c.VRN, o.End}] = o.PeriodKey
		}
	}
	appeared := map[[2]string]time.Time{}
	for _, ch := range pop.Changes() {
		if ch.Kind == vattest.ChangeNewObligation {
			appeared[[2]string{ch.VRN, ch.PeriodKey}] = ch.At
		}
	}
	before := 0
	for k, at := range announced {
		pk, ok := periodKey[k]
		if !assert.True(t, ok, "announced %v is a listed period's end", k) {
			continue
		}
		if shown, ok := appeared[[2]string{k.vrn, pk}]; ok {
			assert.True(t, at.Before(shown), "%v announced at %v, before it appears at %v", k, at, shown)
			before++
		}
	}
	assert.Positive(t, before)
	kinds := map[string]int{}
	for _, c := range pop.Clients() {
		if !c.AccessRevoked.IsZero() {
			continue // the agent no longer hears of them
		}
		var ann []string
		for k := range announced {
			if k.vrn == c.VRN {
				ann = append(ann, k.end)
			}
		}
		switch {
		case !c.Deregistered.IsZero():
			kinds["deregistration"]++
			assert.Contains(t, ann, c.Deregistered.Format(time.DateOnly), "%s: the last period ends on the deregistration date", c.VRN)
		case !c.PatternChanged.IsZero():
			kinds["change of pattern"]++
			first := c.PatternChanged.AddDate(0, 0, 1).AddDate(0, 1, -1).Format(time.DateOnly)
			assert.Contains(t, ann, first, "%s: the first monthly period after the change", c.VRN)
		case !c.Registered.IsZero() && c.Registered.Before(pop.End()):
			kinds["registration"]++
			assert.Len(t, ann, 1, "%s: its first period", c.VRN)
		default:
			assert.Empty(t, ann, "%s: a predictable client is announced nothing", c.VRN)
		}
	}
	assert.Len(t, kinds, 3, "every kind occurs: %v", kinds)
}

package vat

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// returnsStore is a small stand-in for HMRC's returns and open obligations,
// with a way to decide how each submission is answered.
type returnsStore struct {
	mu       sync.Mutex
	filed    map[PeriodKey]Return
	open     []PeriodKey
	sends    int
	answer   func(n int, w http.ResponseWriter) (store bool, answered bool)
	viewFail bool
}

func newReturnsStore(t *testing.T, mux *http.ServeMux) *returnsStore {
	s := &returnsStore{filed: map[PeriodKey]Return{}, open: []PeriodKey{"A001", "A002"}}
	mux.HandleFunc("POST /organisations/vat/123456789/returns", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var ret Return
		require.NoError(t, json.Unmarshal(b, &ret))
		s.mu.Lock()
		s.sends++
		n := s.sends
		answer := s.answer
		_, dup := s.filed[ret.PeriodKey]
		s.mu.Unlock()
		if dup {
			writeJSON(w, 403, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPLICATE_SUBMISSION","message":"The VAT return was already submitted for the given period."}]}`)
			return
		}
		store, answered := true, false
		if answer != nil {
			store, answered = answer(n, w)
		}
		if store {
			s.mu.Lock()
			ret.Finalised = false
			s.filed[ret.PeriodKey] = ret
			s.open = removeKey(s.open, ret.PeriodKey)
			s.mu.Unlock()
		}
		if !answered {
			w.Header().Set("Receipt-ID", "rid")
			writeJSON(w, 201, `{"processingDate":"2018-03-01T11:43:43.195Z","formBundleNumber":"256660290587"}`)
		}
	})
	mux.HandleFunc("GET /organisations/vat/123456789/returns/{key}", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.viewFail {
			writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
			return
		}
		ret, ok := s.filed[PeriodKey(r.PathValue("key"))]
		if !ok {
			w.WriteHeader(404)
			return
		}
		b, _ := json.Marshal(ret)
		writeJSON(w, 200, string(b))
	})
	mux.HandleFunc("GET /organisations/vat/123456789/obligations", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		var out obligationsResponse
		for _, k := range s.open {
			out.Obligations = append(out.Obligations, Obligation{Start: NewDate(2017, 1, 1), End: NewDate(2017, 3, 31), Due: NewDate(2017, 5, 7), Status: ObligationOpen, PeriodKey: k})
		}
		if len(out.Obligations) == 0 {
			writeJSON(w, 404, `{"code":"NOT_FOUND","message":"The remote endpoint has indicated that no data can be found"}`)
			return
		}
		b, _ := json.Marshal(out)
		writeJSON(w, 200, string(b))
	})
	return s
}

func removeKey(keys []PeriodKey, k PeriodKey) []PeriodKey {
	var out []PeriodKey
	for _, x := range keys {
		if x != k {
			out = append(out, x)
		}
	}
	return out
}

func (s *returnsStore) counts() (sends, filed int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sends, len(s.filed)
}

func TestUncertainSubmissionsAreSettledByReading(t *testing.T) {
	t.Parallel()
	fail := func(status int, store bool) func(int, http.ResponseWriter) (bool, bool) {
		return func(n int, w http.ResponseWriter) (bool, bool) {
			if n > 1 {
				return true, false
			}
			writeJSON(w, status, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`)
			return store, true
		}
	}
	drop := func(n int, w http.ResponseWriter) (bool, bool) {
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close() // stored, and the answer is lost
		return true, true
	}
	tests := []struct {
		name      string
		answer    func(int, http.ResponseWriter) (bool, bool)
		resubmit  bool
		recovered bool
		is        error
		sends     int
	}{
		{"500 but filed", fail(500, true), false, true, nil, 1},
		{"503 but filed", fail(503, true), false, true, nil, 1},
		{"connection lost after sending, filed", drop, false, true, nil, 1},
		{"500 and not filed", fail(500, false), false, false, ErrSubmissionNotReceived, 1},
		{"504 and not filed, resending allowed", fail(504, false), true, false, nil, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			s := newReturnsStore(t, mux)
			s.answer = tc.answer
			var opts []CallOption
			if tc.resubmit {
				opts = append(opts, WithResubmitIfNotReceived())
			}
			rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn(), opts...)
			sends, filed := s.counts()
			assert.Equal(t, tc.sends, sends, "sent")
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
				assert.Nil(t, rc)
				var ue *UncertainSubmissionError
				require.ErrorAs(t, err, &ue)
				assert.ErrorIs(t, err, ErrInternalServerError, "the cause stays matchable")
				assert.Equal(t, 0, filed)
				return
			}
			require.NoError(t, err)
			require.NotNil(t, rc)
			assert.Equal(t, 1, filed, "filed exactly once")
			assert.Equal(t, tc.recovered, rc.Recovered)
			if tc.recovered {
				require.NotNil(t, rc.Filed)
				assert.True(t, sameReturn(*rc.Filed, exampleReturn()))
			} else {
				assert.Equal(t, "256660290587", rc.FormBundleNumber)
			}
		})
	}
}

func TestOutcomeStaysUnknownWhenReadingCannotSettleIt(t *testing.T) {
	t.Parallel()
	// The view fails: nothing can be established.
	c, mux := setup(t)
	s := newReturnsStore(t, mux)
	s.viewFail = true
	s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		writeJSON(w, 502, `<html>bad gateway</html>`)
		return false, true
	}
	_, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	assert.ErrorIs(t, err, ErrSubmissionOutcomeUnknown)
	assert.NotErrorIs(t, err, ErrSubmissionNotReceived)
	var ue *UncertainSubmissionError
	require.ErrorAs(t, err, &ue)
	assert.ErrorIs(t, ue.Check, ErrServiceUnavailable)
	assert.Contains(t, err.Error(), "do not send the return again")
	sends, _ := s.counts()
	assert.Equal(t, 1, sends)

	// No return on file, but the period is no longer open either.
	c2, mux2 := setup(t)
	s2 := newReturnsStore(t, mux2)
	s2.open = []PeriodKey{"A002"}
	s2.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		writeJSON(w, 500, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`)
		return false, true
	}
	_, err = c2.SubmitReturn(context.Background(), "123456789", exampleReturn(), WithResubmitIfNotReceived())
	assert.ErrorIs(t, err, ErrSubmissionOutcomeUnknown)
	sends, _ = s2.counts()
	assert.Equal(t, 1, sends, "not proven unreceived, so not resent even when allowed")
}

func TestTimedOutSubmissionIsFoundFiled(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	c.cfg.hc.Timeout = 100 * time.Millisecond
	s := newReturnsStore(t, mux)
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	// HMRC files the return, then answers too late.
	s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		s.mu.Lock()
		r := exampleReturn()
		r.Finalised = false
		s.filed[r.PeriodKey] = r
		s.mu.Unlock()
		<-release
		return false, true
	}
	rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	require.NoError(t, err)
	assert.True(t, rc.Recovered)
	sends, filed := s.counts()
	assert.Equal(t, 1, sends)
	assert.Equal(t, 1, filed)
}

func TestDuplicateSubmissionOfTheSameReturnIsAccepted(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	s := newReturnsStore(t, mux)
	first, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	require.NoError(t, err)
	assert.False(t, first.Recovered)

	again, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	require.NoError(t, err, "the same return filed before is reported as accepted")
	assert.True(t, again.Recovered)
	assert.Equal(t, "c75f40a6-a3df-4429-a697-471eeec46435", again.CorrelationID)
	require.NotNil(t, again.Filed)
	assert.Equal(t, exampleReturn().NetVATDue, again.Filed.NetVATDue)

	different := exampleReturn()
	different.VATDueSales += 100
	different.ComputeTotals()
	_, err = c.SubmitReturn(context.Background(), "123456789", different)
	assert.ErrorIs(t, err, ErrDuplicateSubmission, "a different return for a filed period is HMRC's duplicate error")
	_, filed := s.counts()
	assert.Equal(t, 1, filed)

	_, err = c.CheckSubmission(context.Background(), "123456789", different)
	assert.ErrorIs(t, err, ErrDuplicateSubmission)
	rc, err := c.CheckSubmission(context.Background(), "123456789", exampleReturn())
	require.NoError(t, err)
	assert.True(t, rc.Recovered)
	other := exampleReturn()
	other.PeriodKey = "A002"
	_, err = c.CheckSubmission(context.Background(), "123456789", other)
	assert.ErrorIs(t, err, ErrSubmissionNotReceived)
	_, err = c.CheckSubmission(context.Background(), "bad", other)
	assert.ErrorIs(t, err, ErrVRNInvalid)
}

package vat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
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
		{"503 and not filed, resending allowed", fail(503, false), true, false, nil, 2},
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

func TestRedirectedSubmissionIsNotReportedFiled(t *testing.T) {
	t.Parallel()
	maintenance := func(status int) func(int, http.ResponseWriter) (bool, bool) {
		return func(n int, w http.ResponseWriter) (bool, bool) {
			w.Header().Set("Location", "/base/maintenance")
			w.WriteHeader(status)
			return false, true
		}
	}
	htmlOK := func(n int, w http.ResponseWriter) (bool, bool) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(200)
		io.WriteString(w, "<html>Down for maintenance</html>")
		return false, true
	}
	for _, tc := range []struct {
		name   string
		answer func(int, http.ResponseWriter) (bool, bool)
		status int
	}{
		{"302 to a maintenance page", maintenance(302), 302},
		{"303 to a maintenance page", maintenance(303), 303},
		{"307 to a maintenance page", maintenance(307), 307},
		{"200 maintenance page", htmlOK, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			s := newReturnsStore(t, mux)
			s.answer = tc.answer
			var followed atomic.Int32
			mux.HandleFunc("/maintenance", func(w http.ResponseWriter, r *http.Request) {
				followed.Add(1)
				w.Header().Set("Content-Type", "text/html")
				io.WriteString(w, "<html>Down for maintenance</html>")
			})
			rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
			assert.Nil(t, rc, "no receipt for a return HMRC does not hold")
			assert.ErrorIs(t, err, ErrSubmissionNotReceived, "settled by reading back")
			assert.NotErrorIs(t, err, ErrReceiptIncomplete)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr, "the unexpected answer stays visible")
			assert.Equal(t, tc.status, apiErr.StatusCode)
			assert.Zero(t, followed.Load(), "a submission's redirect is never followed")
			sends, filed := s.counts()
			assert.Equal(t, 1, sends)
			assert.Equal(t, 0, filed)
		})
	}

	// The same answer after HMRC did file the return: found by reading back.
	c, mux := setup(t)
	s := newReturnsStore(t, mux)
	s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		w.Header().Set("Location", "/base/maintenance")
		w.WriteHeader(302)
		return true, true
	}
	rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	require.NoError(t, err)
	assert.True(t, rc.Recovered)
}

// valueSource is a token source that records whether each request's context
// carried the caller's value, and was still live.
type valueSource struct {
	mu   sync.Mutex
	seen []any
}

type valueKey struct{}

func (s *valueSource) Token() (*oauth2.Token, error) { return nil, errors.New("no context") }

func (s *valueSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = append(s.seen, ctx.Value(valueKey{}))
	return &oauth2.Token{AccessToken: testToken}, ctx.Err()
}

func TestReadingBackOutlivesTheCallersContext(t *testing.T) {
	t.Parallel()
	for _, deadline := range []bool{false, true} {
		t.Run(fmt.Sprintf("deadline=%v", deadline), func(t *testing.T) {
			t.Parallel()
			src := &valueSource{}
			c, mux := setup(t, WithTokenSource(src))
			s := newReturnsStore(t, mux)
			parent := context.WithValue(context.Background(), valueKey{}, "caller")
			ctx, cancel := context.WithCancel(parent)
			if deadline {
				ctx, cancel = context.WithTimeout(parent, 50*time.Millisecond)
			}
			defer cancel()
			release := make(chan struct{})
			t.Cleanup(func() { close(release) })
			// HMRC files the return; the caller gives up before the answer.
			s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
				s.mu.Lock()
				r := exampleReturn()
				r.Finalised = false
				s.filed[r.PeriodKey] = r
				s.mu.Unlock()
				if !deadline {
					cancel()
				}
				<-release
				return false, true
			}
			rc, err := c.SubmitReturn(ctx, "123456789", exampleReturn())
			require.NoError(t, err, "the filed return is found after the caller's context ended")
			assert.True(t, rc.Recovered)
			sends, _ := s.counts()
			assert.Equal(t, 1, sends)
			src.mu.Lock()
			defer src.mu.Unlock()
			require.Greater(t, len(src.seen), 1)
			for _, v := range src.seen {
				assert.Equal(t, "caller", v, "reading back keeps the caller's values")
			}
		})
	}
}

func TestNotReceivedIsConfirmedAfterADelayWhenTheRequestMayBeInFlight(t *testing.T) {
	t.Parallel()
	gatewayTimeout := func(n int, w http.ResponseWriter) (bool, bool) {
		if n > 1 {
			return true, false
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(504)
		io.WriteString(w, "<html>Gateway Timeout</html>")
		return false, true
	}
	serviceError := func(n int, w http.ResponseWriter) (bool, bool) {
		if n > 1 {
			return true, false
		}
		writeJSON(w, 503, `{"code":"SERVICE_UNAVAILABLE","message":"Internal server error"}`)
		return false, true
	}
	resetAfterBody := func(n int, w http.ResponseWriter) (bool, bool) {
		if n > 1 {
			return true, false
		}
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
		return false, true
	}
	for _, tc := range []struct {
		name       string
		answer     func(int, http.ResponseWriter) (bool, bool)
		lateFiling bool // HMRC files the return during the delay
		resubmit   bool
		waits      int
		sends      int
		recovered  bool
	}{
		{"504, filed moments later", gatewayTimeout, true, false, 1, 1, true},
		{"504, never filed, resending allowed", gatewayTimeout, false, true, 1, 1, false},
		{"reset after the body was sent, never filed, resending allowed", resetAfterBody, false, true, 1, 1, false},
		{"503 from HMRC's service, resending allowed", serviceError, false, true, 0, 2, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, mux := setup(t)
			s := newReturnsStore(t, mux)
			s.answer = tc.answer
			var waits []time.Duration
			var mu sync.Mutex
			c.cfg.sleep = func(ctx context.Context, d time.Duration) error {
				mu.Lock()
				waits = append(waits, d)
				mu.Unlock()
				if tc.lateFiling {
					s.mu.Lock()
					r := exampleReturn()
					r.Finalised = false
					s.filed[r.PeriodKey] = r
					s.mu.Unlock()
				}
				return ctx.Err()
			}
			var opts []CallOption
			if tc.resubmit {
				opts = append(opts, WithResubmitIfNotReceived())
			}
			rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn(), opts...)
			sends, filed := s.counts()
			assert.Equal(t, tc.sends, sends, "sent")
			mu.Lock()
			assert.Len(t, waits, tc.waits, "delays before reading again")
			mu.Unlock()
			switch {
			case tc.recovered:
				require.NoError(t, err)
				assert.True(t, rc.Recovered)
			case tc.sends == 1:
				assert.ErrorIs(t, err, ErrSubmissionNotReceived)
				assert.Equal(t, 0, filed)
			default:
				require.NoError(t, err)
				assert.False(t, rc.Recovered)
				assert.Equal(t, 1, filed)
			}
		})
	}
}

func TestFailedSubmissionOverADifferentReturnIsADuplicate(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	s := newReturnsStore(t, mux)
	// Another return for the period is filed (by another program), and this
	// submission is answered 500.
	s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		other := exampleReturn()
		other.VATDueSales += 100
		other.ComputeTotals()
		other.Finalised = false
		s.mu.Lock()
		s.filed[other.PeriodKey] = other
		s.mu.Unlock()
		writeJSON(w, 500, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`)
		return false, true
	}
	rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn(), WithResubmitIfNotReceived())
	assert.Nil(t, rc)
	assert.ErrorIs(t, err, ErrDuplicateSubmission, "the period holds another return: a known outcome")
	assert.NotErrorIs(t, err, ErrSubmissionOutcomeUnknown)
	assert.NotErrorIs(t, err, ErrSubmissionNotReceived)
	assert.ErrorIs(t, err, ErrInternalServerError, "the cause stays matchable")
	sends, _ := s.counts()
	assert.Equal(t, 1, sends)
}

func TestTruncatedErrorBodyOfASubmissionIsUncertain(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	s := newReturnsStore(t, mux)
	s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "300")
		w.WriteHeader(403)
		io.WriteString(w, `{"code":"BUSINESS_ERROR","message":"Business validation error","errors":[{"code":"DUPL`)
		return false, true
	}
	rc, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn())
	assert.Nil(t, rc)
	var ue *UncertainSubmissionError
	require.ErrorAs(t, err, &ue, "an answer cut short is not read as a refusal")
	assert.ErrorIs(t, err, ErrSubmissionNotReceived)
	var apiErr *APIError
	assert.False(t, errors.As(err, &apiErr), "a truncated body is never decoded as HMRC's error")
	var de *DecodeError
	require.ErrorAs(t, err, &de)
	assert.Equal(t, 403, de.StatusCode)
}

func TestWhichFailuresMayStillBeInFlight(t *testing.T) {
	t.Parallel()
	apiErr := func(status int, code string) error { return &APIError{StatusCode: status, Code: code} }
	resp := func(status int) *response { return &response{status: status, header: http.Header{}} }
	timeout := &TransportError{Err: context.DeadlineExceeded}
	for _, tc := range []struct {
		name      string
		resp      *response
		err       error
		uncertain bool
		inFlight  bool
	}{
		{"dial refused", nil, &TransportError{Err: &net.OpError{Op: "dial", Err: errors.New("refused")}}, false, false},
		{"lost while the request was being written", nil, &TransportError{Err: io.ErrUnexpectedEOF, unwritten: true}, true, false},
		{"lost after the request was written", nil, &TransportError{Err: io.EOF}, true, true},
		{"timed out", nil, timeout, true, true},
		{"timed out, then the retry wait was cut short", nil, &retryCanceledError{Err: timeout, Cause: context.Canceled}, true, true},
		{"500 from HMRC's service", resp(500), apiErr(500, "INTERNAL_SERVER_ERROR"), true, false},
		{"503 from HMRC's service", resp(503), apiErr(503, "SERVICE_UNAVAILABLE"), true, false},
		{"500 without HMRC's body", resp(500), apiErr(500, ""), true, true},
		{"502", resp(502), apiErr(502, ""), true, true},
		{"504 with a code", resp(504), apiErr(504, "GATEWAY_TIMEOUT"), true, true},
		{"503 cut short", resp(503), &DecodeError{StatusCode: 503, Err: io.ErrUnexpectedEOF}, true, true},
		{"403 cut short", resp(403), &DecodeError{StatusCode: 403, Err: io.ErrUnexpectedEOF}, true, false},
		{"302", resp(302), apiErr(302, ""), true, false},
		{"200", resp(200), apiErr(200, ""), true, false},
		{"403 read whole", resp(403), apiErr(403, "NOT_FINALISED"), false, false},
		{"429", resp(429), apiErr(429, "MESSAGE_THROTTLED_OUT"), false, false},
		{"429 cut short", resp(429), &DecodeError{StatusCode: 429, Err: io.ErrUnexpectedEOF}, false, false},
	} {
		assert.Equal(t, tc.uncertain, uncertain(tc.resp, tc.err), "%s: uncertain", tc.name)
		if tc.uncertain {
			assert.Equal(t, tc.inFlight, mayBeInFlight(tc.resp, tc.err), "%s: in flight", tc.name)
		}
	}
}

func TestRetryPolicySettleFields(t *testing.T) {
	t.Parallel()
	c, err := NewClient(anyTokens)
	require.NoError(t, err)
	assert.Equal(t, settlePolicy{Delay: 5 * time.Second, Timeout: 30 * time.Second}, c.cfg.settle)
	c, err = NewClient(anyTokens, WithRetry(RetryPolicy{MaxAttempts: 1, SettleDelay: time.Second, SettleTimeout: 10 * time.Second}))
	require.NoError(t, err)
	assert.Equal(t, settlePolicy{Delay: time.Second, Timeout: 10 * time.Second}, c.cfg.settle)
	c, err = NewClient(anyTokens, WithRetry(RetryPolicy{MaxAttempts: 1}))
	require.NoError(t, err)
	assert.Equal(t, settlePolicy{Delay: 5 * time.Second, Timeout: 30 * time.Second}, c.cfg.settle, "zero means the defaults")
	for _, p := range []RetryPolicy{{MaxAttempts: 1, SettleDelay: -1}, {MaxAttempts: 1, SettleDelay: time.Second, SettleTimeout: time.Second}} {
		_, err := NewClient(anyTokens, WithRetry(p))
		assert.ErrorContains(t, err, "WithRetry")
	}
}

func TestReadingBackCarriesTheCallsFraudHeaders(t *testing.T) {
	t.Parallel()
	c, mux := setup(t)
	s := newReturnsStore(t, mux)
	s.answer = func(n int, w http.ResponseWriter) (bool, bool) {
		writeJSON(w, 500, `{"code":"INTERNAL_SERVER_ERROR","message":"An internal server error occurred"}`)
		return false, true
	}
	var calls atomic.Int32
	fh := desktopHeaders(t)
	src := fraud.SourceFunc(func(ctx context.Context) (*fraud.Headers, error) {
		calls.Add(1)
		return fh.Clone(), nil
	})
	_, err := c.SubmitReturn(context.Background(), "123456789", exampleReturn(), WithCallFraudHeaders(src))
	assert.ErrorIs(t, err, ErrSubmissionNotReceived)
	assert.Equal(t, int32(3), calls.Load(), "the submission, the return read back and the obligations all carry the call's headers")
}

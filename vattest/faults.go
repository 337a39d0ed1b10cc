package vattest

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultAction is what an injected fault does with a request once its Delay
// has passed.
type FaultAction int

const (
	// FaultAuto answers with Status when Status is set, and otherwise lets the
	// request through (so a Fault with only a Delay adds latency).
	FaultAuto FaultAction = iota
	// FaultRespond answers with Status and Body without processing the request.
	FaultRespond
	// FaultDropBeforeBody closes the connection before reading the request
	// body: nothing is processed, the client gets no response.
	FaultDropBeforeBody
	// FaultDropAfterProcessing processes the request completely (a return IS
	// stored) and then closes the connection without a response: the
	// uncertain outcome of a submission whose response was lost.
	FaultDropAfterProcessing
	// FaultProcessThenRespond processes the request completely and then
	// answers with Status and Body instead of the real response, as when a
	// return is filed but HMRC answers 500, 503 or 504.
	FaultProcessThenRespond
)

// Fault describes a failure to inject into the next matching requests.
type Fault struct {
	// Method and Path select requests: "" matches any. Path is an escaped
	// path; a trailing "*" makes it a prefix ("/organisations/vat/*").
	Method, Path string
	// Times is how many matching requests fail; 0 means 1, -1 means every
	// one until ClearFaults.
	Times int
	// Delay is waited before anything else (cut short by Close or by the
	// client giving up).
	Delay time.Duration
	// Action says what happens after the delay.
	Action FaultAction
	// Status, for answering actions, is the status code to send.
	Status int
	// Body is the body to send; when nil, the body HMRC sends for Status
	// (e.g. 503 {"code":"SERVICE_UNAVAILABLE",…}).
	Body []byte
	// ContentType is the Content-Type of Body; application/json when empty.
	ContentType string
	// RetryAfter, if set, is sent as the Retry-After header.
	RetryAfter string
	// Location, if set, is sent as the Location header: with a 3xx Status,
	// a redirect (for example to a maintenance page).
	Location string
	// ContentLength, when larger than len(Body), is sent as Content-Length
	// and the connection is closed after Body: a truncated response.
	ContentLength int64
}

type faultRule struct {
	Fault
	left int // remaining requests; −1 is unlimited
}

func (f Fault) validate() error {
	switch {
	case f.Action < FaultAuto || f.Action > FaultProcessThenRespond:
		return fmt.Errorf("unknown Action %d", f.Action)
	case f.Times < -1:
		return fmt.Errorf("fault Times %d: must be −1, 0 or more", f.Times)
	case f.Delay < 0:
		return errors.New("negative Delay")
	case f.Status != 0 && (f.Status < 100 || f.Status > 599):
		return fmt.Errorf("fault Status %d is not an HTTP status", f.Status)
	case (f.Action == FaultRespond || f.Action == FaultProcessThenRespond) && f.Status == 0:
		return errors.New("an answering Action needs a Status")
	case f.ContentLength < 0:
		return errors.New("negative ContentLength")
	case strings.ContainsAny(f.ContentType+f.RetryAfter+f.Location, "\r\n"):
		return errors.New("ContentType, RetryAfter and Location must not contain CR or LF")
	}
	return nil
}

// InjectFault makes the next matching requests fail as f describes. Faults
// are tried in the order injected; a request meets at most one.
func (s *Server) InjectFault(f Fault) error {
	if err := f.validate(); err != nil {
		return fmt.Errorf("vattest: InjectFault: %w", err)
	}
	left := f.Times
	if left == 0 {
		left = 1
	}
	f.Body = bytes.Clone(f.Body)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, &faultRule{Fault: f, left: left})
	return nil
}

// ClearFaults removes every injected fault not yet used up.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (f *Fault) matches(r *http.Request) bool {
	if f.Method != "" && f.Method != r.Method {
		return false
	}
	if f.Path == "" {
		return true
	}
	p := r.URL.EscapedPath()
	if prefix, ok := strings.CutSuffix(f.Path, "*"); ok {
		return strings.HasPrefix(p, prefix)
	}
	return p == f.Path
}

// takeFault returns the fault for r, using it up, or nil.
func (s *Server) takeFault(r *http.Request) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, rule := range s.faults {
		if !rule.matches(r) {
			continue
		}
		f := rule.Fault
		if rule.left > 0 {
			rule.left--
			if rule.left == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		return &f
	}
	return nil
}

func (s *Server) applyFault(w *statusWriter, r *http.Request, f *Fault) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-t.C:
		case <-s.done:
			t.Stop()
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	action := f.Action
	if action == FaultAuto {
		action = FaultRespond
		if f.Status == 0 {
			s.serve(w, r)
			return
		}
	}
	switch action {
	case FaultRespond:
		s.writeFault(w, f)
	case FaultDropBeforeBody:
		s.drop(w)
	case FaultDropAfterProcessing, FaultProcessThenRespond:
		inner := &statusWriter{ResponseWriter: &discardWriter{h: http.Header{}}}
		s.serve(inner, r)
		w.clientID = inner.clientID
		if action == FaultDropAfterProcessing {
			s.drop(w)
			return
		}
		s.writeFault(w, f)
	}
}

func (s *Server) writeFault(w http.ResponseWriter, f *Fault) {
	body := f.Body
	if body == nil {
		body = bodyForStatus(f.Status)
	}
	h := w.Header()
	ct := f.ContentType
	if ct == "" {
		ct = "application/json"
	}
	h.Set("Content-Type", ct)
	if f.RetryAfter != "" {
		h.Set("Retry-After", f.RetryAfter)
	}
	if f.Location != "" {
		h.Set("Location", f.Location)
	}
	n := int64(len(body))
	if f.ContentLength > n {
		n = f.ContentLength
	}
	h.Set("Content-Length", strconv.FormatInt(n, 10))
	w.WriteHeader(f.Status)
	_, _ = w.Write(body)
}

// drop closes the request's connection without answering.
func (s *Server) drop(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(http.ErrAbortHandler) // HTTP/2 or a wrapped writer: abort instead
	}
	s.lifeMu.Lock()
	s.hijacked[conn] = true
	s.lifeMu.Unlock()
	_ = conn.Close()
	s.lifeMu.Lock()
	delete(s.hijacked, conn)
	s.lifeMu.Unlock()
}

// discardWriter collects nothing: the response of a request processed for
// a fault that replaces or drops it.
type discardWriter struct{ h http.Header }

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(int)             {}

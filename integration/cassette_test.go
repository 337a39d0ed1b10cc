package integration_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/cassette"
	"gopkg.in/dnaeon/go-vcr.v4/pkg/recorder"
)

// redacted is what every secret in a cassette becomes. Replays send it as
// their credentials and tokens, so that a replayed request, scrubbed the same
// way, matches the recorded one.
const redacted = "REDACTED"

// sweepMin is the shortest secret swept from response bodies and headers
// wherever it appears; shorter values are too likely to occur by chance.
const sweepMin = 8

// secretParam reports whether a query or form parameter carries a secret:
// OAuth 2.0 credentials, codes and tokens, and the test user's password that
// vattest's no-browser sign-in takes in the query.
func secretParam(name string) bool {
	switch name {
	case "client_id", "client_secret", "code", "code_verifier", "access_token", "refresh_token", "id_token", "password":
		return true
	}
	return false
}

// secretMember reports whether a JSON member of a body sent to or received
// from path carries a secret. HMRC's error bodies use "code" for error codes,
// so "code" is not one; the Test Fraud Prevention Headers API echoes header
// values in "value" members.
func secretMember(path, name string) bool {
	switch name {
	case "client_secret", "access_token", "refresh_token", "id_token", "password":
		return true
	case "value":
		return strings.Contains(path, "/test/fraud-prevention-headers/")
	}
	return false
}

// fraudHeader reports whether name is a fraud prevention header, whose
// values are personal data.
func fraudHeader(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "gov-client-") || strings.HasPrefix(n, "gov-vendor-")
}

// sweptFraudHeader reports whether the values of the fraud prevention header
// name are swept from responses as well as redacted in requests. Timestamps,
// the connection method and the time zone are not: they identify nobody, and
// they do occur in responses for other reasons (a return's processingDate
// can be the very millisecond of Gov-Client-Local-IPs-Timestamp).
func sweptFraudHeader(name string) bool {
	n := strings.ToLower(name)
	return fraudHeader(n) && !strings.HasSuffix(n, "-timestamp") &&
		n != "gov-client-connection-method" && n != "gov-client-timezone"
}

// scrubHeader returns a copy of h without secrets: Authorization keeps only
// its scheme, fraud prevention headers and cookies become redacted, and
// secret parameters in Location are redacted.
func scrubHeader(h http.Header) http.Header {
	out := h.Clone()
	for name, vs := range out {
		for i, v := range vs {
			switch {
			case strings.EqualFold(name, "Authorization"):
				if scheme, _, ok := strings.Cut(v, " "); ok {
					vs[i] = scheme + " " + redacted
				} else {
					vs[i] = redacted
				}
			case fraudHeader(name), strings.EqualFold(name, "Cookie"), strings.EqualFold(name, "Set-Cookie"):
				vs[i] = redacted
			case strings.EqualFold(name, "Location"):
				vs[i] = scrubURL(v)
			}
		}
	}
	return out
}

// scrubValues redacts the secret parameters of v in place and reports
// whether it changed anything.
func scrubValues(v url.Values) bool {
	changed := false
	for name, vs := range v {
		if !secretParam(name) {
			continue
		}
		for i := range vs {
			if vs[i] != redacted {
				vs[i], changed = redacted, true
			}
		}
	}
	return changed
}

// scrubURL redacts the secret query parameters of raw. A URL without any is
// returned unchanged; one with some gets its query re-encoded, in key order.
func scrubURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return redacted // not a URL a client sent: keep nothing of it
	}
	q := u.Query()
	if !scrubValues(q) {
		return raw
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// bodyKind says how a body is read for scrubbing and matching.
type bodyKind int

const (
	bodyOther bodyKind = iota
	bodyForm
	bodyJSON
)

func kindOf(contentType, body string) bodyKind {
	mt, _, _ := mime.ParseMediaType(contentType)
	switch {
	case mt == "application/x-www-form-urlencoded":
		return bodyForm
	case mt == "application/json" || mt == "text/json" || strings.HasSuffix(mt, "+json"):
		return bodyJSON
	case mt == "" && json.Valid([]byte(body)):
		return bodyJSON
	}
	return bodyOther
}

// decodeJSON decodes a body keeping numbers as their text, so that money
// re-encodes exactly.
func decodeJSON(body string) (any, error) {
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	return v, nil
}

// scrubJSON redacts the secret members of v in place and reports whether it
// changed anything.
func scrubJSON(path string, v any) bool {
	changed := false
	switch x := v.(type) {
	case map[string]any:
		for k, m := range x {
			if s, ok := m.(string); ok && secretMember(path, k) {
				if s != redacted {
					x[k], changed = redacted, true
				}
				continue
			}
			changed = scrubJSON(path, m) || changed
		}
	case []any:
		for _, m := range x {
			changed = scrubJSON(path, m) || changed
		}
	}
	return changed
}

// scrubBody redacts the secrets of a form or JSON body sent to or received
// from path. A body without any is returned unchanged.
func scrubBody(path, contentType, body string) string {
	switch kindOf(contentType, body) {
	case bodyForm:
		v, err := url.ParseQuery(body)
		if err != nil {
			return redacted
		}
		if scrubValues(v) {
			return v.Encode()
		}
	case bodyJSON:
		v, err := decodeJSON(body)
		if err != nil {
			return body
		}
		if scrubJSON(path, v) {
			var b strings.Builder
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v); err != nil {
				return redacted
			}
			return strings.TrimSuffix(b.String(), "\n")
		}
	}
	return body
}

// pathOf returns the path of a recorded URL.
func pathOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Path
}

// scrubRequest removes the secrets of a request as a cassette holds it. The
// matcher applies it to live requests too, so that matching ignores exactly
// what recording removed.
func scrubRequest(r *cassette.Request) {
	path := pathOf(r.URL)
	r.URL = scrubURL(r.URL)
	r.RequestURI = scrubURL(r.RequestURI)
	r.Headers = scrubHeader(r.Headers)
	if r.Form != nil {
		f := url.Values{}
		for k, vs := range r.Form {
			f[k] = slices.Clone(vs)
		}
		scrubValues(f)
		r.Form = f
	}
	if body := scrubBody(path, r.Headers.Get("Content-Type"), r.Body); body != r.Body {
		r.Body = body
		r.ContentLength = int64(len(body))
	}
}

// scrubResponse removes the secrets of a response to a request for path.
func scrubResponse(path string, r *cassette.Response) {
	r.Headers = scrubHeader(r.Headers)
	setResponseBody(r, scrubBody(path, r.Headers.Get("Content-Type"), r.Body))
}

// setResponseBody replaces the body of r, and its length, if body differs.
func setResponseBody(r *cassette.Response, body string) {
	if body == r.Body {
		return
	}
	r.Body = body
	r.ContentLength = int64(len(body))
	if r.Headers.Get("Content-Length") != "" {
		r.Headers.Set("Content-Length", strconv.Itoa(len(body)))
	}
}

// scrubber keeps secrets out of a cassette. As each exchange is captured it
// notes the secret values the exchange carries (without changing anything the
// client gets back); before the cassette is saved it removes them from where
// they are expected (scrubRequest, scrubResponse) and then sweeps every noted
// value out of the response bodies and headers, in case HMRC echoed one.
type scrubber struct {
	mu      sync.Mutex
	secrets map[string]bool
}

func (s *scrubber) note(v string) {
	if len(v) < sweepMin || v == redacted {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.secrets == nil {
		s.secrets = map[string]bool{}
	}
	s.secrets[v] = true
}

func (s *scrubber) noteValues(v url.Values) {
	for name, vs := range v {
		if secretParam(name) {
			for _, x := range vs {
				s.note(x)
			}
		}
	}
}

func (s *scrubber) noteURL(raw string) {
	if u, err := url.Parse(raw); err == nil {
		s.noteValues(u.Query())
	}
}

func (s *scrubber) noteHeader(h http.Header) {
	for name, vs := range h {
		for _, v := range vs {
			switch {
			case strings.EqualFold(name, "Authorization"):
				_, cred, _ := strings.Cut(v, " ")
				s.note(cred)
			case sweptFraudHeader(name), strings.EqualFold(name, "Cookie"), strings.EqualFold(name, "Set-Cookie"):
				s.note(v)
			case strings.EqualFold(name, "Location"):
				s.noteURL(v)
			}
		}
	}
}

func (s *scrubber) noteBody(path, contentType, body string) {
	switch kindOf(contentType, body) {
	case bodyForm:
		if v, err := url.ParseQuery(body); err == nil {
			s.noteValues(v)
		}
	case bodyJSON:
		if v, err := decodeJSON(body); err == nil {
			s.noteJSON(path, v)
		}
	}
}

func (s *scrubber) noteJSON(path string, v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, m := range x {
			if str, ok := m.(string); ok && secretMember(path, k) {
				s.note(str)
				continue
			}
			s.noteJSON(path, m)
		}
	case []any:
		for _, m := range x {
			s.noteJSON(path, m)
		}
	}
}

// capture is the recorder's AfterCaptureHook: it notes the exchange's
// secrets and changes nothing.
func (s *scrubber) capture(i *cassette.Interaction) error {
	path := pathOf(i.Request.URL)
	s.noteURL(i.Request.URL)
	s.noteValues(i.Request.Form)
	s.noteHeader(i.Request.Headers)
	s.noteBody(path, i.Request.Headers.Get("Content-Type"), i.Request.Body)
	s.noteHeader(i.Response.Headers)
	s.noteBody(path, i.Response.Headers.Get("Content-Type"), i.Response.Body)
	return nil
}

// scrub is the recorder's BeforeSaveHook.
func (s *scrubber) scrub(i *cassette.Interaction) error {
	path := pathOf(i.Request.URL)
	scrubRequest(&i.Request)
	scrubResponse(path, &i.Response)

	s.mu.Lock()
	secrets := make([]string, 0, len(s.secrets))
	for v := range s.secrets {
		secrets = append(secrets, v)
	}
	s.mu.Unlock()
	// Longest first, so that a secret containing another goes whole.
	slices.SortFunc(secrets, func(a, b string) int { return len(b) - len(a) })
	sweep := func(v string) string {
		for _, secret := range secrets {
			v = strings.ReplaceAll(v, secret, redacted)
		}
		return v
	}
	for _, vs := range i.Response.Headers {
		for j := range vs {
			vs[j] = sweep(vs[j])
		}
	}
	setResponseBody(&i.Response, sweep(i.Response.Body))
	return nil
}

// matchRequest is the cassettes' MatcherFunc. A live request matches a
// recorded one when, scrubbed as recordings are, it has the same method,
// URL (query parameters in any order), headers (User-Agent aside, as it
// carries the SDK's version) and body (forms and JSON compared by value).
// Secrets take no part: they are redacted on both sides.
func matchRequest(r *http.Request, rec cassette.Request) bool {
	var body []byte
	if r.Body != nil {
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			return false
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
	}
	live := cassette.Request{Method: r.Method, URL: r.URL.String(), Headers: r.Header, Body: string(body)}
	scrubRequest(&live)
	return live.Method == rec.Method &&
		sameURL(live.URL, rec.URL) &&
		sameHeaders(live.Headers, rec.Headers) &&
		sameBody(live.Headers.Get("Content-Type"), live.Body, rec.Body)
}

func sameURL(a, b string) bool {
	ua, err1 := url.Parse(a)
	ub, err2 := url.Parse(b)
	return err1 == nil && err2 == nil &&
		ua.Scheme == ub.Scheme && ua.Host == ub.Host && ua.EscapedPath() == ub.EscapedPath() &&
		equalContents(ua.Query(), ub.Query())
}

func sameHeaders(a, b http.Header) bool {
	ca, cb := http.Header{}, http.Header{}
	for k, v := range a {
		ca[http.CanonicalHeaderKey(k)] = v
	}
	for k, v := range b {
		cb[http.CanonicalHeaderKey(k)] = v
	}
	delete(ca, "User-Agent")
	delete(cb, "User-Agent")
	return equalContents(ca, cb)
}

func sameBody(contentType, a, b string) bool {
	switch kindOf(contentType, a) {
	case bodyForm:
		va, err1 := url.ParseQuery(a)
		vb, err2 := url.ParseQuery(b)
		return err1 == nil && err2 == nil && equalContents(va, vb)
	case bodyJSON:
		va, err1 := decodeJSON(a)
		vb, err2 := decodeJSON(b)
		if err1 == nil && err2 == nil {
			return reflect.DeepEqual(va, vb)
		}
	}
	return a == b
}

// equalContents compares two maps of string slices, treating nil and empty
// as the same.
func equalContents[M ~map[string][]string](a, b M) bool {
	if len(a) == 0 && len(b) == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// cassetteMeta is saved beside a cassette, in <name>.meta.json: what a
// replay needs to send the same requests. None of it is secret.
type cassetteMeta struct {
	// BaseURL and TokenURL are where the recording sent its requests.
	BaseURL  string `json:"baseURL"`
	TokenURL string `json:"tokenURL"`
	// VRN is the test organisation the recording used.
	VRN vat.VRN `json:"vrn"`
	// Fresh says the organisation was created for the recording.
	Fresh bool `json:"fresh"`
	// Now is the recording's clock when the test began; a replay runs on it.
	Now time.Time `json:"now"`
}

func metaPath(cassette string) string { return cassette + ".meta.json" }

func cassetteExists(name string) bool {
	_, err := os.Stat(name + ".yaml")
	return err == nil
}

func readMeta(t *testing.T, name string) cassetteMeta {
	t.Helper()
	data, err := os.ReadFile(metaPath(name))
	require.NoError(t, err, "a cassette needs the %s written with it", metaPath(name))
	var m cassetteMeta
	require.NoError(t, json.Unmarshal(data, &m), "reading %s", metaPath(name))
	require.NotEmpty(t, m.BaseURL, "%s: baseURL", metaPath(name))
	return m
}

// quiet is an io.Writer that discards. go-vcr sends its debug log, which
// holds whole requests, to stderr when VCR_DEBUG is set, unless the
// recorder was given a debug writer other than io.Discard itself: this one.
type quiet struct{}

func (quiet) Write(p []byte) (int, error) { return len(p), nil }

// recording is a go-vcr recorder in use by one test.
type recording struct {
	rec  *recorder.Recorder
	meta cassetteMeta // saved with the cassette; the target fills it in
}

// newRecording wraps real in a go-vcr recorder for the cassette name (a path
// without ".yaml").
//
// In recorder.ModeRecordOnly the exchanges go to real and, when the test
// ends, the cassette is scrubbed and saved with its meta file, unless the
// test failed. In recorder.ModeReplayOnly every request is answered from the
// cassette, in recorded order, and real is never used.
func newRecording(t *testing.T, name string, mode recorder.Mode, real http.RoundTripper) *recording {
	t.Helper()
	var s scrubber
	rec, err := recorder.New(name,
		recorder.WithMode(mode),
		recorder.WithRealTransport(real),
		recorder.WithMatcher(matchRequest),
		recorder.WithSkipRequestLatency(true),
		recorder.WithHook(s.capture, recorder.AfterCaptureHook),
		recorder.WithHook(s.scrub, recorder.BeforeSaveHook),
		recorder.WithDebugWriter(quiet{}),
	)
	require.NoError(t, err, "opening cassette %s", name)
	r := &recording{rec: rec}
	t.Cleanup(func() {
		if mode != recorder.ModeRecordOnly {
			return
		}
		if t.Failed() {
			t.Logf("cassette %s not saved: the test failed", name)
			return
		}
		assert.NoError(t, rec.Stop(), "saving cassette %s", name)
		data, err := json.MarshalIndent(r.meta, "", "  ")
		require.NoError(t, err)
		assert.NoError(t, os.WriteFile(metaPath(name), append(data, '\n'), 0o644))
	})
	return r
}

// offline is the transport under a replaying recorder: a replay must be
// answered from its cassette, so any request reaching it fails the test.
type offline struct{ t *testing.T }

func (o offline) RoundTrip(r *http.Request) (*http.Response, error) {
	o.t.Errorf("replay tried to reach the network: %s %s", r.Method, r.URL.Redacted())
	return nil, errors.New("replay: no network")
}

// replaying is the transport of a replay: the recorder, with requests it
// cannot find explained.
type replaying struct{ rec http.RoundTripper }

func (r replaying) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := r.rec.RoundTrip(req)
	if errors.Is(err, cassette.ErrInteractionNotFound) {
		err = fmt.Errorf("%s %s is not in the cassette at this point: the requests differ from the recording's, so record it again: %w",
			req.Method, req.URL.Path, err)
	}
	return resp, err
}

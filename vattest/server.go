package vattest

import (
	"context"
	"fmt"
	"html/template"
	"net"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Server is an offline, stateful simulator of HMRC's VAT (MTD) API, its OAuth
// 2.0 endpoints and its sandbox companions, listening on a loopback port.
// It plays both HMRC hosts: the API host and the www host of
// /oauth/authorize. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", without a trailing slash.
	URL string

	cfg      config
	listener net.Listener
	srv      *http.Server
	client   *http.Client
	pages    *template.Template
	data     *cannedData
	rnd      *rng

	lifeMu    sync.Mutex
	closed    bool
	handlers  sync.WaitGroup
	done      chan struct{}
	serveDone chan struct{}
	hijacked  map[net.Conn]bool
	conns     map[net.Conn]http.ConnState

	mu         sync.Mutex // guards everything below
	clock      clock
	apps       map[string]*Application
	defaultApp *Application
	users      map[string]*user
	orgs       map[string]*organisation
	tokens     map[string]*token
	refreshes  map[string]*grant
	codes      map[string]*authCode
	windows    map[string]*window
	faults     []*faultRule
	requests   []Request // ring of the latest requests; oldest at index oldest
	oldest     int
	counts     map[string]SubmissionCounts
	lastFraud  map[string]map[string]fraudRecord // client ID → endpoint → latest request
}

const maxRecordedRequests = 10000

// New starts a Server on a loopback port. It returns an error for a bad
// option or when it cannot listen.
func New(opts ...Option) (*Server, error) {
	cfg := defaultConfig()
	for _, opt := range opts {
		if err := opt(&cfg); err != nil {
			return nil, err
		}
	}
	data, err := loadCannedData()
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		data:      data,
		rnd:       newRNG(cfg.seed),
		pages:     template.Must(template.New("pages").Parse(pageTemplates)),
		done:      make(chan struct{}),
		serveDone: make(chan struct{}),
		hijacked:  map[net.Conn]bool{},
		conns:     map[net.Conn]http.ConnState{},
		clock:     clock{base: cfg.now},
		apps:      map[string]*Application{},
		users:     map[string]*user{},
		orgs:      map[string]*organisation{},
		tokens:    map[string]*token{},
		refreshes: map[string]*grant{},
		codes:     map[string]*authCode{},
		windows:   map[string]*window{},
		counts:    map[string]SubmissionCounts{},
		lastFraud: map[string]map[string]fraudRecord{},
	}
	s.defaultApp = &Application{
		ClientID:     s.rnd.letters(28, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
		ClientSecret: s.rnd.uuid(),
		RedirectURIs: []string{"http://localhost/", "http://localhost/callback", oob},
	}
	s.apps[s.defaultApp.ClientID] = s.defaultApp
	for i := range cfg.apps {
		a := cfg.apps[i]
		s.apps[a.ClientID] = &a
	}
	for _, org := range cfg.orgs {
		if _, err := s.addOrganisationLocked(org, nil); err != nil {
			return nil, fmt.Errorf("vattest: WithOrganisation: %w", err)
		}
	}
	l, err := net.Listen("tcp", cfg.addr)
	if err != nil {
		return nil, fmt.Errorf("vattest: listen on %s: %w", cfg.addr, err)
	}
	s.listener = l
	s.URL = "http://" + dialAddr(cfg.addr, l.Addr())
	s.srv = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second, ConnState: s.trackConn}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil
	s.client = &http.Client{Transport: tr}
	go func() {
		defer close(s.serveDone)
		_ = s.srv.Serve(l)
	}()
	return s, nil
}

// dialAddr is the host:port a client dials to reach a listener asked to
// listen on addr: the loopback address for a wildcard (0.0.0.0, ::, or no
// host), else the listener's own address.
func dialAddr(addr string, got net.Addr) string {
	host, _, _ := net.SplitHostPort(addr)
	tcp, ok := got.(*net.TCPAddr)
	if !ok {
		return got.String()
	}
	port := strconv.Itoa(tcp.Port)
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.Equal(net.IPv4zero)):
		return net.JoinHostPort("127.0.0.1", port)
	case ip != nil && ip.Equal(net.IPv6unspecified):
		return net.JoinHostPort("::1", port)
	}
	return got.String()
}

// NewServer is [New] for callers that treat a bad option as a programming
// error: it panics where New returns an error, as httptest.NewServer panics
// when it cannot listen.
func NewServer(opts ...Option) *Server {
	s, err := New(opts...)
	if err != nil {
		panic(err)
	}
	return s
}

// NewTestServer starts a Server for a test: it fails tb on a bad option and
// closes the server when the test and its subtests finish.
func NewTestServer(tb testing.TB, opts ...Option) *Server {
	tb.Helper()
	s, err := New(opts...)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

// Client returns an *http.Client for the server, with its own transport, so
// that Close can close its idle connections.
func (s *Server) Client() *http.Client { return s.client }

// Close stops the server: it stops accepting connections, closes idle
// ones, waits for requests in progress to finish (cutting injected delays
// short), closes every connection including ones taken over by fault
// injection, and closes the idle connections of Client. Close may be called
// more than once.
func (s *Server) Close() {
	s.lifeMu.Lock()
	if s.closed {
		s.lifeMu.Unlock()
		return
	}
	s.closed = true
	close(s.done)
	s.srv.SetKeepAlivesEnabled(false)
	for c, st := range s.conns {
		if st == http.StateNew || st == http.StateIdle {
			_ = c.Close()
		}
	}
	s.lifeMu.Unlock()

	s.handlers.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := s.srv.Shutdown(ctx); err != nil {
		_ = s.srv.Close()
	}
	cancel()
	s.lifeMu.Lock()
	for c := range s.hijacked {
		_ = c.Close()
	}
	s.lifeMu.Unlock()
	<-s.serveDone
	if tr, ok := s.client.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
}

// trackConn follows connections, as httptest does, so that Close can close
// the idle and new ones at once.
func (s *Server) trackConn(c net.Conn, st http.ConnState) {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	switch st {
	case http.StateNew, http.StateIdle:
		if s.closed {
			_ = c.Close()
			return
		}
		s.conns[c] = st
	case http.StateActive:
		s.conns[c] = st
	case http.StateHijacked, http.StateClosed:
		delete(s.conns, c)
	}
}

// enter registers a request in progress; it reports false once Close began.
func (s *Server) enter() bool {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.closed {
		return false
	}
	s.handlers.Add(1)
	return true
}

// DefaultApplication returns the application the server registers itself.
// Its redirect URIs are http://localhost/ and http://localhost/callback (any
// port) and urn:ietf:wg:oauth:2.0:oob.
func (s *Server) DefaultApplication() Application {
	s.mu.Lock()
	defer s.mu.Unlock()
	a := *s.defaultApp
	a.RedirectURIs = append([]string(nil), a.RedirectURIs...)
	return a
}

// Now returns the time on the server's clock, in UTC.
func (s *Server) Now() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clock.now()
}

// SetNow stops the server's clock at t: from then on it reads t until the
// next SetNow or Advance. The rate limit counts on this clock too, so with a
// stopped clock only the limit's worth of requests get through until the
// clock moves; tests that stop the clock usually also want WithRateLimit(0).
func (s *Server) SetNow(t time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock.frozen = true
	s.clock.at = t.UTC()
}

// Advance moves the server's clock forward by d (backward for a negative d),
// whether it is stopped or running.
func (s *Server) Advance(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.clock.frozen {
		s.clock.at = s.clock.at.Add(d)
		return
	}
	s.clock.offset += d
}

// TestOrganisation creates an organisation as [Server.CreateOrganisation]
// does and issues its user a token with read:vat and write:vat, failing tb
// on error.
func (s *Server) TestOrganisation(tb testing.TB, org Organisation) (TestUser, Token) {
	tb.Helper()
	u, err := s.CreateOrganisation(org)
	if err != nil {
		tb.Fatal(err)
	}
	tok, err := s.IssueToken(u.VRN)
	if err != nil {
		tb.Fatal(err)
	}
	return u, tok
}

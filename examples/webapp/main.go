// Command webapp is an example web application that connects to HMRC's VAT
// (MTD) API with github.com/go-mtd/vat and shows a business's open VAT
// obligations.
//
// "Connect to HMRC" sends the browser to HMRC's sign-in with a fresh
// vat.AuthRequest (state and PKCE verifier) kept in the user's session;
// HMRC's redirect to /callback is checked and exchanged for the user's token
// with AuthRequest.Exchange. Sessions are kept in memory. Every page loads
// the fraud prevention header script served by fraud.BrowserCollectorHandler,
// and every request passes through ServerCollector.Middleware; each call to
// HMRC then carries the headers of the end user's own request for a web
// application connecting through its server (WEB_APP_VIA_SERVER), built with
// ServerCollector.Source and sent with vat.WithCallFraudHeaders.
//
// By default it runs against a vattest simulator started in the same
// process, which has a test organisation whose user ID, password and VRN are
// logged at start. With HMRC_CLIENT_ID and HMRC_CLIENT_SECRET set to a
// sandbox application's credentials it uses HMRC's sandbox: the application
// must have http://localhost:PORT/callback registered as a redirect URI, for
// the port of -addr. VENDOR_PUBLIC_IP sets Gov-Vendor-Public-IP, the public
// address the application's DNS name resolves to (default 127.0.0.1, right
// only for a server on the developer's own machine).
//
// Usage:
//
//	go run ./examples/webapp -addr localhost:8080
//
// and open http://localhost:8080/.
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"sync"
	"time"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/fraud"
	"github.com/go-mtd/vat/vattest"
	"golang.org/x/oauth2"
)

// The application's name and version, sent in Gov-Vendor-Product-Name,
// Gov-Vendor-Version and the User-Agent.
const (
	appKey     = "example-books-web"
	appName    = "Example Books Online"
	appVersion = "1.0.0"
)

// sessionCookie names the cookie holding the session ID.
const sessionCookie = "session"

// config is what the command line and the environment set.
type config struct {
	clientID, clientSecret string // empty: use the in-process simulator
	// baseURL is the application's own address, http://localhost:PORT.
	baseURL        string
	vendorPublicIP netip.Addr
	log            *log.Logger // nil: the standard logger
}

// usage is printed by -h, before the flags.
const usage = `Usage: go run ./examples/webapp [-addr localhost:8080]

A web application that connects a user to HMRC and lists their open VAT
obligations, with per-request WEB_APP_VIA_SERVER fraud prevention headers.
It runs offline against an in-process simulator unless both HMRC_CLIENT_ID and
HMRC_CLIENT_SECRET are set.

Environment:
  HMRC_CLIENT_ID      a sandbox application's client ID on HMRC's Developer Hub
  HMRC_CLIENT_SECRET  its client secret
  VENDOR_PUBLIC_IP    this server's public IP address, sent in
                      Gov-Vendor-Public-IP (default 127.0.0.1)

Flags:
`

func main() {
	addr := flag.String("addr", "localhost:8080", "address to listen on")
	flag.Usage = func() {
		fmt.Fprint(flag.CommandLine.Output(), usage)
		flag.PrintDefaults()
	}
	flag.Parse()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	cfg := config{
		clientID:     os.Getenv("HMRC_CLIENT_ID"),
		clientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
		baseURL:      fmt.Sprintf("http://localhost:%d", ln.Addr().(*net.TCPAddr).Port),
	}
	ip := os.Getenv("VENDOR_PUBLIC_IP")
	if ip == "" {
		ip = "127.0.0.1"
	}
	if cfg.vendorPublicIP, err = netip.ParseAddr(ip); err != nil {
		log.Fatalf("VENDOR_PUBLIC_IP: %v", err)
	}
	a, err := newApp(cfg)
	if err != nil {
		log.Fatal(err)
	}
	defer a.close()
	srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	log.Printf("open %s/ in a browser", cfg.baseURL)
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		log.Print(err)
	}
}

// app is the web application.
type app struct {
	oauth     *oauth2.Config
	hc        *http.Client
	opts      []vat.Option // where requests to HMRC go, shared by every user's Client
	collector *fraud.ServerCollector
	pages     *template.Template
	log       *log.Logger

	// sim is the in-process simulator, and testUser its test organisation,
	// when not using HMRC's sandbox.
	sim      *vattest.Server
	testUser *vat.TestUser

	mu       sync.Mutex
	sessions map[string]*session // kept in memory; a real application expires them
}

// session is one browser's session.
type session struct {
	userID string // the application's identifier of the user

	mu     sync.Mutex
	signIn *vat.AuthRequest // the sign-in in progress
	client *vat.Client      // set once the user has connected to HMRC
}

// newApp prepares the application: HMRC's sandbox, or an in-process
// simulator with a test organisation.
func newApp(cfg config) (*app, error) {
	a := &app{sessions: map[string]*session{}, pages: template.Must(template.New("").Parse(pages)), log: cfg.log}
	if a.log == nil {
		a.log = log.Default()
	}
	redirect := cfg.baseURL + "/callback"
	limiter := vat.NewApplicationLimiter() // HMRC's limit is per application: share it
	if cfg.clientID != "" || cfg.clientSecret != "" {
		oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: cfg.clientID, ClientSecret: cfg.clientSecret, RedirectURL: redirect})
		if err != nil {
			return nil, err
		}
		a.oauth, a.hc = oc, &http.Client{Timeout: time.Minute}
		a.opts = []vat.Option{vat.WithEnvironment(vat.Sandbox), vat.WithHTTPClient(a.hc), vat.WithRateLimiter(limiter)}
	} else {
		if err := a.simulate(redirect, limiter); err != nil {
			return nil, err
		}
	}
	var err error
	a.collector, err = fraud.NewServerCollector(fraud.ServerCollectorConfig{
		VendorPublicIP: cfg.vendorPublicIP,
		ProductName:    appName,
		VendorVersion:  []fraud.KeyValue{{Key: appKey, Value: appVersion}},
		// This application is not licensed per user: there is no licence
		// key to send, which must be agreed with HMRC. Nor has it a sign-in
		// of its own with factors to report.
		AgreedMissing: fraud.NewHeaderSet(fraud.GovVendorLicenseIDs),
		AgreedEmpty:   fraud.NewHeaderSet(fraud.GovClientMultiFactor),
		// Served over plain HTTP on the developer's machine; over HTTPS
		// the device-ID cookie is Secure.
		InsecureCookies: true,
	})
	if err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

// simulate starts the in-process simulator and creates a test organisation
// with an application token, as on HMRC's sandbox.
func (a *app) simulate(redirect string, limiter vat.Limiter) error {
	srv, err := vattest.New()
	if err != nil {
		return err
	}
	a.sim = srv
	def := srv.DefaultApplication() // accepts http://localhost/callback on any port
	oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: def.ClientID, ClientSecret: def.ClientSecret, RedirectURL: redirect})
	if err != nil {
		return err
	}
	oc.Endpoint.AuthURL, oc.Endpoint.TokenURL = srv.URL+"/oauth/authorize", srv.URL+"/oauth/token"
	a.oauth, a.hc = oc, srv.Client()
	a.opts = []vat.Option{vat.WithBaseURL(srv.URL), vat.WithHTTPClient(a.hc), vat.WithRateLimiter(limiter)}

	appTokens, err := vat.NewApplicationTokenSource(oc, nil, vat.WithTokenHTTPClient(a.hc))
	if err != nil {
		return err
	}
	c, err := vat.NewClient(slices.Concat(a.opts, []vat.Option{vat.WithApplicationTokenSource(appTokens), vat.WithUserAgent(appKey + "/" + appVersion)})...)
	if err != nil {
		return err
	}
	if a.testUser, err = c.CreateTestOrganisation(context.Background(), vat.TestUserRequest{}); err != nil {
		return err
	}
	a.log.Printf("simulator at %s: sign in as test user %s, password %s (VRN %s)",
		srv.URL, a.testUser.UserID, a.testUser.Password, a.testUser.VRN)
	return nil
}

// close stops the simulator, if there is one.
func (a *app) close() {
	if a.sim != nil {
		a.sim.Close()
	} else if a.hc != nil {
		a.hc.CloseIdleConnections()
	}
}

// handler returns the application's routes, behind the fraud prevention
// header middleware.
func (a *app) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /connect", a.connect)
	mux.HandleFunc("GET /callback", a.callback)
	mux.HandleFunc("GET /obligations", a.obligations)
	mux.Handle("GET /fraud-prevention.js", fraud.BrowserCollectorHandler())
	return a.collector.Middleware(mux)
}

// session returns the browser's session, starting one if it has none.
func (a *app) session(w http.ResponseWriter, r *http.Request) *session {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, err := r.Cookie(sessionCookie); err == nil {
		if s, ok := a.sessions[c.Value]; ok {
			return s
		}
	}
	id := randomID()
	s := &session{userID: "user-" + randomID()[:8]}
	a.sessions[id] = s
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return s
}

func randomID() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	s.mu.Lock()
	connected := s.client != nil
	s.mu.Unlock()
	data := map[string]any{"Connected": connected}
	if a.testUser != nil {
		data["TestUser"], data["VRN"] = a.testUser, a.testUser.VRN
	}
	a.render(w, http.StatusOK, "home", data)
}

// connect starts HMRC's sign-in: a new AuthRequest for this session, and a
// redirect to HMRC.
func (a *app) connect(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	ar := vat.NewAuthRequest()
	s.mu.Lock()
	s.signIn = ar
	s.mu.Unlock()
	http.Redirect(w, r, ar.AuthCodeURL(a.oauth), http.StatusFound)
}

// callback handles HMRC's redirect back: it checks the state against the
// session's sign-in, exchanges the code and gives the session a Client.
func (a *app) callback(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	s.mu.Lock()
	ar := s.signIn
	s.signIn = nil // a sign-in is used once
	s.mu.Unlock()
	if ar == nil {
		a.fail(w, http.StatusBadRequest, "There is no sign-in in progress: connect to HMRC again.")
		return
	}
	ctx := context.WithValue(r.Context(), oauth2.HTTPClient, a.hc)
	tok, err := ar.Exchange(ctx, a.oauth, r.URL.Query())
	switch {
	case errors.Is(err, vat.ErrUserDeniedAuthorization):
		a.fail(w, http.StatusOK, "You did not give this application access to HMRC.")
		return
	case errors.Is(err, vat.ErrStateMismatch):
		a.fail(w, http.StatusBadRequest, "This answer from HMRC does not belong to your sign-in: connect to HMRC again.")
		return
	case err != nil:
		a.log.Print(err) // errors never hold tokens or the client secret
		a.fail(w, http.StatusBadGateway, "HMRC's sign-in could not be completed: connect to HMRC again.")
		return
	}
	// The token lives as long as the session; a real application keeps it
	// in a TokenStore of its own (a database row per user).
	tokens, err := vat.NewUserTokenSource(a.oauth, vat.NewMemoryStore(tok), vat.WithTokenHTTPClient(a.hc))
	if err == nil {
		var c *vat.Client
		if c, err = vat.NewClient(slices.Concat(a.opts, []vat.Option{vat.WithTokenSource(tokens), vat.WithUserAgent(appKey + "/" + appVersion)})...); err == nil {
			s.mu.Lock()
			s.client = c
			s.mu.Unlock()
		}
	}
	if err != nil {
		a.log.Print(err)
		a.fail(w, http.StatusInternalServerError, "Something went wrong.")
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// obligations shows the open obligations of the VRN asked for. The call to
// HMRC carries the fraud prevention headers of this very request.
func (a *app) obligations(w http.ResponseWriter, r *http.Request) {
	s := a.session(w, r)
	s.mu.Lock()
	c := s.client
	s.mu.Unlock()
	if c == nil {
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	vrn, err := vat.ParseVRN(r.URL.Query().Get("vrn"))
	if err != nil {
		a.fail(w, http.StatusBadRequest, "The VAT registration number must be nine digits.")
		return
	}
	cv, err := a.collector.BrowserValues(r)
	if err != nil {
		cv = nil // tampered or stale cookies: send what the server knows
	}
	src, err := a.collector.Source(r, fraud.WebAppViaServer, cv, fraud.EndUser{
		UserIDs: []fraud.KeyValue{{Key: appKey, Value: s.userID}},
	})
	if err != nil {
		a.log.Print(err)
		a.fail(w, http.StatusInternalServerError, "Something went wrong.")
		return
	}
	open, err := c.Obligations(r.Context(), vrn, vat.ObligationsQuery{Status: vat.ObligationOpen}, vat.WithCallFraudHeaders(src))
	switch {
	case errors.Is(err, vat.ErrNotFound):
		open = nil
	case errors.Is(err, fraud.ErrNoHeaders), errors.As(err, new(*fraud.HeaderError)):
		a.fail(w, http.StatusBadRequest, "This page needs JavaScript to describe your device to HMRC, as the law requires: allow it and reload.")
		return
	case errors.Is(err, vat.ErrReauthorizationRequired):
		s.mu.Lock()
		s.client = nil
		s.mu.Unlock()
		a.fail(w, http.StatusUnauthorized, "HMRC needs you to sign in again: connect to HMRC.")
		return
	case errors.Is(err, vat.ErrNotAuthorised):
		a.fail(w, http.StatusForbidden, "HMRC says you may not see this business's VAT: check the VRN.")
		return
	case err != nil:
		a.log.Print(err)
		a.fail(w, http.StatusBadGateway, "HMRC could not be asked: try again later.")
		return
	}
	today := vat.DateOf(time.Now())
	rows := make([]map[string]any, len(open))
	for i, o := range open {
		rows[i] = map[string]any{"O": o, "Ready": o.Submittable(today)}
	}
	a.render(w, http.StatusOK, "obligations", map[string]any{"VRN": vrn, "Rows": rows})
}

func (a *app) fail(w http.ResponseWriter, status int, msg string) {
	a.render(w, status, "message", map[string]any{"Message": msg})
}

func (a *app) render(w http.ResponseWriter, status int, page string, data map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'")
	w.WriteHeader(status)
	if err := a.pages.ExecuteTemplate(w, page, data); err != nil {
		a.log.Print(err)
	}
}

const pages = `
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example Books Online</title>
<script src="/fraud-prevention.js"></script></head>
<body><h1><a href="/">Example Books Online</a></h1>
{{end}}
{{define "bottom"}}</body></html>
{{end}}
{{define "home"}}{{template "top"}}
{{if .Connected}}<p>You are connected to HMRC.</p>
<form action="/obligations" method="get">
<label for="vrn">VAT registration number</label> <input id="vrn" name="vrn" value="{{.VRN}}" inputmode="numeric">
<button>Show open VAT periods</button></form>
{{else}}<p><a href="/connect">Connect to HMRC</a> to see your VAT periods.</p>
{{with .TestUser}}<p>Simulator: sign in as test user <code>{{.UserID}}</code>, password <code>{{.Password}}</code>.</p>{{end}}
{{end}}{{template "bottom"}}{{end}}
{{define "obligations"}}{{template "top"}}
<h2>Open VAT periods of {{.VRN}}</h2>
{{if .Rows}}<table><tr><th>Period</th><th>From</th><th>To</th><th>Due</th><th></th></tr>
{{range .Rows}}<tr><td>{{.O.PeriodKey}}</td><td>{{.O.Start}}</td><td>{{.O.End}}</td><td>{{.O.Due}}</td><td>{{if .Ready}}ready to file{{end}}</td></tr>
{{end}}</table>
{{else}}<p>No open VAT periods.</p>{{end}}
{{template "bottom"}}{{end}}
{{define "message"}}{{template "top"}}<p>{{.Message}}</p><p><a href="/">Back</a></p>{{template "bottom"}}{{end}}
`

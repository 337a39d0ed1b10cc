// Command saas is an example multi-tenant web application: several
// accounting firms (tenants) connect their customers to HMRC's VAT (MTD)
// API through one HMRC application, and the application runs as several
// instances behind a load balancer.
//
// Every instance shares three things with the others:
//
//   - the customers' tokens, in PostgreSQL through pgstore, encrypted at rest
//     and locked per customer, so that only one instance ever spends a
//     customer's single-use refresh token;
//   - HMRC's rate limit, which is per application, through redislimit in
//     Redis;
//   - the sign-ins in progress (state and PKCE verifier), in a PostgreSQL
//     table, so HMRC's redirect back may reach any instance.
//
// A customer is known as tenant/customer. Staff of a tenant open
// /t/{tenant}/c/{customer}, connect the customer ("Connect to HMRC" sends
// the customer to HMRC's sign-in, with vat.NewAuthRequest; /callback checks
// and exchanges the answer with AuthRequest.Exchange), list the customer's
// open VAT periods and disconnect the customer (the token is deleted).
// Authenticating the tenants' staff, and the fraud prevention headers every
// call must carry (see examples/webapp), are left out to keep the example
// short.
//
// By default it runs offline: it starts a vattest simulator, and a
// PostgreSQL and a redis-server of its own on loopback (the programs of the
// Debian packages postgresql-15 and redis-server), and logs a test user to
// sign in as. DATABASE_URL and REDIS_ADDR point it at servers of yours;
// TOKEN_KEY (64 hex digits) is the key encrypting tokens (a random one
// otherwise, which makes stored tokens unreadable after a restart);
// HMRC_CLIENT_ID and HMRC_CLIENT_SECRET point it at HMRC's sandbox, whose
// application must have the first instance's http://localhost:PORT/callback
// registered.
//
// Usage:
//
//	go run ./examples/saas -addrs localhost:8080,localhost:8081
//
// starts two instances; open http://localhost:8080/t/acme/c/client-1.
package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"html/template"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/internal/testservers"
	"github.com/go-mtd/vat/pgstore"
	"github.com/go-mtd/vat/redislimit"
	"github.com/go-mtd/vat/vattest"
)

const appKey = "example-saas/1.0.0"

// tenants are the accounting firms using the application.
var tenants = []string{"acme", "brightbooks"}

// shared is what every instance is configured with.
type shared struct {
	databaseURL string
	redisAddr   string
	tokenKey    pgstore.Key
	oauth       *oauth2.Config // the one HMRC application
	hc          *http.Client
	vatOpts     []vat.Option // where calls to HMRC go
	log         *log.Logger
}

func main() {
	addrs := flag.String("addrs", "localhost:8080,localhost:8081", "comma-separated addresses, one instance each")
	flag.Parse()
	var lns []net.Listener
	for _, a := range strings.Split(*addrs, ",") {
		ln, err := net.Listen("tcp", a)
		if err != nil {
			log.Fatal(err)
		}
		lns = append(lns, ln)
	}
	redirect := fmt.Sprintf("http://localhost:%d/callback", lns[0].Addr().(*net.TCPAddr).Port)
	sh, stop, err := setup(redirect)
	if err != nil {
		log.Fatal(err)
	}
	defer stop()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	var wg sync.WaitGroup
	for i, ln := range lns {
		a, err := newInstance(ctx, fmt.Sprint(i+1), sh)
		if err != nil {
			log.Fatal(err)
		}
		defer a.close()
		srv := &http.Server{Handler: a.handler(), ReadHeaderTimeout: 10 * time.Second}
		wg.Go(func() {
			log.Printf("instance %s at http://localhost:%d/t/%s/c/client-1", a.name, ln.Addr().(*net.TCPAddr).Port, tenants[0])
			if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
				log.Print(err)
			}
		})
		go func() {
			<-ctx.Done()
			sctx, c := context.WithTimeout(context.Background(), 5*time.Second)
			defer c()
			_ = srv.Shutdown(sctx)
		}()
	}
	wg.Wait()
}

// setup reads the environment, starting what is missing: the simulator,
// PostgreSQL and Redis. stop stops what it started.
func setup(redirect string) (*shared, func(), error) {
	sh := &shared{databaseURL: os.Getenv("DATABASE_URL"), redisAddr: os.Getenv("REDIS_ADDR"), log: log.Default()}
	var stops []func()
	stop := func() {
		for _, f := range slices.Backward(stops) {
			f()
		}
	}
	fail := func(err error) (*shared, func(), error) { stop(); return nil, nil, err }
	if sh.databaseURL == "" {
		pg, err := testservers.StartPostgres()
		if err != nil {
			return fail(fmt.Errorf("no DATABASE_URL, and PostgreSQL could not be started: %w", err))
		}
		stops = append(stops, pg.Stop)
		sh.databaseURL = pg.URL
		sh.log.Printf("started PostgreSQL %s on %s", pg.Version, pg.Addr)
	}
	if sh.redisAddr == "" {
		rs, err := testservers.StartRedis()
		if err != nil {
			return fail(fmt.Errorf("no REDIS_ADDR, and redis-server could not be started: %w", err))
		}
		stops = append(stops, rs.Stop)
		sh.redisAddr = rs.Addr
		sh.log.Printf("started redis-server %s on %s", rs.Version, rs.Addr)
	}
	secret := make([]byte, 32)
	if k := os.Getenv("TOKEN_KEY"); k != "" {
		b, err := hex.DecodeString(k)
		if err != nil || len(b) != 32 {
			return fail(errors.New("TOKEN_KEY must be 64 hex digits"))
		}
		secret = b
	} else {
		_, _ = rand.Read(secret)
	}
	sh.tokenKey = pgstore.Key{ID: "1", Secret: secret}

	if id, sec := os.Getenv("HMRC_CLIENT_ID"), os.Getenv("HMRC_CLIENT_SECRET"); id != "" || sec != "" {
		oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: id, ClientSecret: sec, RedirectURL: redirect})
		if err != nil {
			return fail(err)
		}
		sh.oauth, sh.hc = oc, &http.Client{Timeout: time.Minute}
		sh.vatOpts = []vat.Option{vat.WithEnvironment(vat.Sandbox), vat.WithHTTPClient(sh.hc)}
		return sh, stop, nil
	}
	sim, err := vattest.New()
	if err != nil {
		return fail(err)
	}
	stops = append(stops, sim.Close)
	sh2, err := simulated(sh, sim, redirect)
	if err != nil {
		return fail(err)
	}
	user, err := sim.CreateOrganisation(vattest.Organisation{})
	if err != nil {
		return fail(err)
	}
	sh.log.Printf("simulator at %s: sign in as test user %s, password %s (VRN %s)", sim.URL, user.UserID, user.Password, user.VRN)
	return sh2, stop, nil
}

// simulated points sh at the simulator.
func simulated(sh *shared, sim *vattest.Server, redirect string) (*shared, error) {
	def := sim.DefaultApplication() // accepts http://localhost/callback on any port
	oc, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: def.ClientID, ClientSecret: def.ClientSecret, RedirectURL: redirect})
	if err != nil {
		return nil, err
	}
	oc.Endpoint.AuthURL, oc.Endpoint.TokenURL = sim.URL+"/oauth/authorize", sim.URL+"/oauth/token"
	sh.oauth, sh.hc = oc, sim.Client()
	sh.vatOpts = []vat.Option{vat.WithBaseURL(sim.URL), vat.WithHTTPClient(sh.hc)}
	return sh, nil
}

// instance is one instance of the application, with its own connections,
// as if it ran in a process of its own.
type instance struct {
	name    string
	sh      *shared
	pool    *pgxpool.Pool
	rc      *redis.Client
	store   *pgstore.Store
	limiter *redislimit.Limiter
	pages   *template.Template

	mu      sync.Mutex
	clients map[string]*vat.Client // per customer, with its token source
}

func newInstance(ctx context.Context, name string, sh *shared) (*instance, error) {
	a := &instance{name: name, sh: sh, clients: map[string]*vat.Client{}, pages: template.Must(template.New("").Parse(pages))}
	var err error
	if a.pool, err = pgxpool.New(ctx, sh.databaseURL); err != nil {
		return nil, err
	}
	if a.store, err = pgstore.New(ctx, a.pool, pgstore.WithKeys(sh.tokenKey)); err != nil {
		a.pool.Close()
		return nil, err
	}
	if _, err := a.pool.Exec(ctx, `CREATE TABLE IF NOT EXISTS saas_signins (
		state text PRIMARY KEY, verifier text NOT NULL, browser bytea NOT NULL,
		customer text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		a.pool.Close()
		return nil, err
	}
	a.rc = redis.NewClient(&redis.Options{Addr: sh.redisAddr})
	if a.limiter, err = redislimit.New(a.rc, "saas:hmrc", vat.HMRCRateLimit); err != nil {
		a.close()
		return nil, err
	}
	return a, nil
}

func (a *instance) close() {
	a.pool.Close()
	a.rc.Close()
}

func (a *instance) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /t/{tenant}/c/{customer}", a.customer)
	mux.HandleFunc("GET /t/{tenant}/c/{customer}/connect", a.connect)
	mux.HandleFunc("GET /t/{tenant}/c/{customer}/obligations", a.obligations)
	mux.HandleFunc("POST /t/{tenant}/c/{customer}/disconnect", a.disconnect)
	mux.HandleFunc("GET /callback", a.callback)
	return mux
}

var customerPattern = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// customerKey returns the customer's key in the token store,
// tenant/customer, or "" if the path names no such tenant or customer.
func customerKey(r *http.Request) string {
	t, c := r.PathValue("tenant"), r.PathValue("customer")
	if !slices.Contains(tenants, t) || !customerPattern.MatchString(c) {
		return ""
	}
	return t + "/" + c
}

// client returns the customer's Client: its tokens come from the shared
// store and its calls wait on the shared limiter.
func (a *instance) client(key string) (*vat.Client, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.clients[key]; c != nil {
		return c, nil
	}
	ts, err := vat.NewUserTokenSource(a.sh.oauth, a.store.User(key), vat.WithTokenHTTPClient(a.sh.hc))
	if err != nil {
		return nil, err
	}
	c, err := vat.NewClient(slices.Concat(a.sh.vatOpts, []vat.Option{vat.WithTokenSource(ts), vat.WithRateLimiter(a.limiter), vat.WithUserAgent(appKey)})...)
	if err != nil {
		return nil, err
	}
	a.clients[key] = c
	return c, nil
}

func (a *instance) forget(key string) {
	a.mu.Lock()
	delete(a.clients, key)
	a.mu.Unlock()
}

func (a *instance) customer(w http.ResponseWriter, r *http.Request) {
	key := customerKey(r)
	if key == "" {
		a.fail(w, http.StatusNotFound, "No such tenant or customer.")
		return
	}
	_, err := a.store.User(key).Load(r.Context())
	if err != nil && !errors.Is(err, vat.ErrNoToken) {
		a.sh.log.Print(err) // pgstore's errors hold no token or key
		a.fail(w, http.StatusServiceUnavailable, "The token store cannot be read: try again later.")
		return
	}
	a.render(w, http.StatusOK, "customer", map[string]any{"Key": key, "Path": r.URL.Path, "Connected": err == nil})
}

const signInCookie = "signin"

// connect starts HMRC's sign-in. The state and verifier go to the database,
// so that whichever instance HMRC's redirect reaches can finish it; a
// cookie ties the sign-in to this browser.
func (a *instance) connect(w http.ResponseWriter, r *http.Request) {
	key := customerKey(r)
	if key == "" {
		a.fail(w, http.StatusNotFound, "No such tenant or customer.")
		return
	}
	ar := vat.NewAuthRequest()
	browser := make([]byte, 32)
	_, _ = rand.Read(browser)
	sum := sha256.Sum256(browser)
	if _, err := a.pool.Exec(r.Context(), `INSERT INTO saas_signins (state, verifier, browser, customer) VALUES ($1, $2, $3, $4)`,
		ar.State, ar.Verifier, sum[:], key); err != nil {
		a.sh.log.Print(err)
		a.fail(w, http.StatusServiceUnavailable, "The sign-in could not be started: try again later.")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: signInCookie, Value: base64.RawURLEncoding.EncodeToString(browser), Path: "/callback",
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil, MaxAge: 600})
	http.Redirect(w, r, ar.AuthCodeURL(a.sh.oauth), http.StatusFound)
}

// callback finishes a sign-in started by any instance: the sign-in is taken
// from the database (once), checked against the browser's cookie, and the
// code exchanged; the token is saved in the shared store.
func (a *instance) callback(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	var ar vat.AuthRequest
	var browser []byte
	var key string
	err := a.pool.QueryRow(ctx, `DELETE FROM saas_signins WHERE state = $1 AND created_at > now() - interval '10 minutes'
		RETURNING state, verifier, browser, customer`, r.URL.Query().Get("state")).Scan(&ar.State, &ar.Verifier, &browser, &key)
	if errors.Is(err, pgx.ErrNoRows) {
		a.fail(w, http.StatusBadRequest, "This answer from HMRC belongs to no sign-in in progress: connect to HMRC again.")
		return
	}
	if err != nil {
		a.sh.log.Print(err)
		a.fail(w, http.StatusServiceUnavailable, "The sign-in could not be finished: try again later.")
		return
	}
	c, cerr := r.Cookie(signInCookie)
	var got []byte
	if cerr == nil {
		got, _ = base64.RawURLEncoding.DecodeString(c.Value)
	}
	if sum := sha256.Sum256(got); cerr != nil || string(sum[:]) != string(browser) {
		a.fail(w, http.StatusBadRequest, "This answer from HMRC belongs to a sign-in started in another browser: connect to HMRC again.")
		return
	}
	tok, err := ar.Exchange(context.WithValue(ctx, oauth2.HTTPClient, a.sh.hc), a.sh.oauth, r.URL.Query())
	switch {
	case errors.Is(err, vat.ErrUserDeniedAuthorization):
		a.fail(w, http.StatusOK, "The customer did not give this application access to HMRC.")
		return
	case err != nil:
		a.sh.log.Print(err) // errors never hold tokens or the client secret
		a.fail(w, http.StatusBadGateway, "HMRC's sign-in could not be completed: connect to HMRC again.")
		return
	}
	if err := a.store.User(key).Save(ctx, tok); err != nil {
		a.sh.log.Print(err)
		a.fail(w, http.StatusServiceUnavailable, "The customer's token could not be saved: connect to HMRC again.")
		return
	}
	a.forget(key)
	tenant, customer, _ := strings.Cut(key, "/")
	http.Redirect(w, r, "/t/"+tenant+"/c/"+customer, http.StatusSeeOther)
}

func (a *instance) obligations(w http.ResponseWriter, r *http.Request) {
	key := customerKey(r)
	if key == "" {
		a.fail(w, http.StatusNotFound, "No such tenant or customer.")
		return
	}
	vrn, err := vat.ParseVRN(r.URL.Query().Get("vrn"))
	if err != nil {
		a.fail(w, http.StatusBadRequest, "The VAT registration number must be nine digits.")
		return
	}
	c, err := a.client(key)
	if err != nil {
		a.sh.log.Print(err)
		a.fail(w, http.StatusInternalServerError, "Something went wrong.")
		return
	}
	open, err := c.Obligations(r.Context(), vrn, vat.ObligationsQuery{Status: vat.ObligationOpen})
	switch {
	case errors.Is(err, vat.ErrNotFound):
		open = nil
	case errors.Is(err, vat.ErrReauthorizationRequired):
		a.forget(key)
		a.fail(w, http.StatusUnauthorized, "HMRC needs the customer to sign in again: connect to HMRC.")
		return
	case errors.Is(err, vat.ErrNotAuthorised):
		a.fail(w, http.StatusForbidden, "HMRC says this customer may not see this business's VAT: check the VRN.")
		return
	case err != nil:
		a.sh.log.Print(err)
		a.fail(w, http.StatusBadGateway, "HMRC could not be asked: try again later.")
		return
	}
	a.render(w, http.StatusOK, "obligations", map[string]any{"Key": key, "VRN": vrn, "Rows": open, "Instance": a.name})
}

// disconnect deletes the customer's token, under the customer's lock so
// that no refresh elsewhere saves it again.
func (a *instance) disconnect(w http.ResponseWriter, r *http.Request) {
	key := customerKey(r)
	if key == "" {
		a.fail(w, http.StatusNotFound, "No such tenant or customer.")
		return
	}
	u := a.store.User(key)
	unlock, err := u.Lock(r.Context())
	if err == nil {
		err = u.Delete(r.Context())
		unlock()
	}
	if err != nil {
		a.sh.log.Print(err)
		a.fail(w, http.StatusServiceUnavailable, "The customer could not be disconnected: try again later.")
		return
	}
	a.forget(key)
	tenant, customer, _ := strings.Cut(key, "/")
	http.Redirect(w, r, "/t/"+tenant+"/c/"+customer, http.StatusSeeOther)
}

func (a *instance) fail(w http.ResponseWriter, status int, msg string) {
	a.render(w, status, "message", map[string]any{"Message": msg})
}

func (a *instance) render(w http.ResponseWriter, status int, page string, data map[string]any) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'self'")
	w.WriteHeader(status)
	if err := a.pages.ExecuteTemplate(w, page, data); err != nil {
		a.sh.log.Print(err)
	}
}

const pages = `
{{define "top"}}<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Example SaaS</title></head><body>
{{end}}
{{define "bottom"}}</body></html>
{{end}}
{{define "customer"}}{{template "top"}}<h1>Customer {{.Key}}</h1>
{{if .Connected}}<p>Connected to HMRC.</p>
<form action="{{.Path}}/obligations" method="get"><label for="vrn">VAT registration number</label>
<input id="vrn" name="vrn" inputmode="numeric"> <button>Show open VAT periods</button></form>
<form action="{{.Path}}/disconnect" method="post"><button>Disconnect from HMRC</button></form>
{{else}}<p>Not connected. <a href="{{.Path}}/connect">Connect to HMRC</a></p>{{end}}
{{template "bottom"}}{{end}}
{{define "obligations"}}{{template "top"}}<h1>Open VAT periods of {{.VRN}}</h1>
{{if .Rows}}<table><tr><th>Period</th><th>From</th><th>To</th><th>Due</th></tr>
{{range .Rows}}<tr><td>{{.PeriodKey}}</td><td>{{.Start}}</td><td>{{.End}}</td><td>{{.Due}}</td></tr>
{{end}}</table>{{else}}<p>No open VAT periods.</p>{{end}}
{{template "bottom"}}{{end}}
{{define "message"}}{{template "top"}}<p>{{.Message}}</p>{{template "bottom"}}{{end}}
`

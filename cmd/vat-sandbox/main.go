// Command vat-sandbox runs the vattest simulator of HMRC's VAT (MTD) API as
// a standalone server, for software written in any language and for trying
// the OAuth sign-in in a browser.
//
//	vat-sandbox [-addr 127.0.0.1:8080] [-json] [-seed N] [-state FILE] [-rate N]
//	            [-today 2025-05-20] [-enforce-fraud-headers] [-obligation-bound]
//	            [-client-id ID -client-secret SECRET] [-redirect-uri URI]...
//	vat-sandbox -healthcheck [-addr ADDR]
//
// When ready it prints the base URL (the API host and the sign-in host at
// once), an application's client ID, secret and redirect URI, and a test
// business (VRN, user ID, password, access token with read:vat and
// write:vat): as prose, or with -json as one JSON line. It serves until
// SIGINT or SIGTERM. The control API under /_sandbox/ (health, businesses,
// clock, faults, payments, requests, state, reset) is open to loopback
// peers, and to others with the -control-token. Everything it prints is a
// credential of the simulator only; nothing touches HMRC.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/go-mtd/vat/vattest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	switch {
	case err == nil, errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.As(err, new(usageError)):
		fmt.Fprintln(os.Stderr, "vat-sandbox:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "vat-sandbox:", err)
		os.Exit(1)
	}
}

// usageError is a mistake on the command line (exit status 2).
type usageError struct{ error }

const usageText = `Usage:
  vat-sandbox [flags]            serve HMRC's VAT (MTD) API offline
  vat-sandbox -healthcheck       exit 0 if the server at -addr is healthy

Examples:
  vat-sandbox -json -seed 1                      # one JSON line, same credentials every start
  vat-sandbox -addr 0.0.0.0:8080 -state s.json   # keep state across restarts
  curl -s localhost:8080/_sandbox/health

Environment (a flag given on the command line wins):
  VAT_SANDBOX_ADDR           default for -addr
  VAT_SANDBOX_SEED           default for -seed
  VAT_SANDBOX_STATE          default for -state
  VAT_SANDBOX_CONTROL_TOKEN  default for -control-token

Flags:
`

type options struct {
	addr, today, state, controlToken       string
	clientID, clientSecret                 string
	redirects                              []string
	seed                                   string
	rate                                   int
	offset                                 time.Duration
	asJSON, health, enforce, bound, retryA bool
}

func parse(args []string, getenv func(string) string, stdout, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("vat-sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usageText)
		fs.PrintDefaults()
	}
	def := func(env, fallback string) string {
		if v := getenv(env); v != "" {
			return v
		}
		return fallback
	}
	fs.StringVar(&o.addr, "addr", def("VAT_SANDBOX_ADDR", "127.0.0.1:8080"), "`host:port` to listen on (0.0.0.0:8080 for a container; port 0 picks a free one)")
	fs.BoolVar(&o.asJSON, "json", false, "print one JSON line when ready instead of prose")
	fs.StringVar(&o.seed, "seed", def("VAT_SANDBOX_SEED", ""), "seed `N` for the same client ID, secret, VRN, user, password, token and obligations on every start")
	fs.StringVar(&o.state, "state", def("VAT_SANDBOX_STATE", ""), "load state from `FILE` at start (if it exists) and save it there on SIGINT/SIGTERM")
	fs.IntVar(&o.rate, "rate", 0, "requests per second per application, as HMRC's 3 (0: no limit)")
	fs.BoolVar(&o.retryA, "retry-after", false, "send Retry-After on 429 answers (HMRC does not document one)")
	fs.BoolVar(&o.enforce, "enforce-fraud-headers", false, "answer 400 to VAT calls whose fraud prevention headers are invalid")
	fs.BoolVar(&o.bound, "obligation-bound", false, "accept returns only for the business's period keys, as HMRC's live service (default: any well-formed key, as HMRC's sandbox)")
	fs.StringVar(&o.today, "today", "", "pretend today is this `date` (YYYY-MM-DD); the clock runs on from it")
	fs.DurationVar(&o.offset, "offset", 0, "shift the clock by this much (e.g. 720h)")
	fs.StringVar(&o.clientID, "client-id", "", "register an application with this client `ID` (with -client-secret)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "the `secret` of -client-id")
	fs.Func("redirect-uri", "a redirect `URI` of -client-id (repeatable)", func(s string) error {
		o.redirects = append(o.redirects, s)
		return nil
	})
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" || a == "--h" {
			fs.SetOutput(stdout) // asked for: usage on stdout, exit 0
			defer fs.SetOutput(stderr)
		}
	}
	fs.StringVar(&o.controlToken, "control-token", def("VAT_SANDBOX_CONTROL_TOKEN", ""), "bearer `token` that opens /_sandbox/ to peers not on loopback")
	fs.BoolVar(&o.health, "healthcheck", false, "check GET /_sandbox/health at -addr and exit 0 (healthy) or 1")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, err
		}
		return nil, usageError{err}
	}
	if fs.NArg() > 0 {
		return nil, usageError{fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))}
	}
	if (o.clientID == "") != (o.clientSecret == "") {
		return nil, usageError{errors.New("-client-id and -client-secret go together")}
	}
	if o.clientID == "" && len(o.redirects) > 0 {
		return nil, usageError{errors.New("-redirect-uri needs -client-id")}
	}
	if o.rate < 0 {
		return nil, usageError{fmt.Errorf("-rate %d: must be 0 or more", o.rate)}
	}
	return o, nil
}

// ready is the JSON line -json prints.
type ready struct {
	URL          string   `json:"url"`
	ClientID     string   `json:"clientId"`
	ClientSecret string   `json:"clientSecret"`
	RedirectURI  string   `json:"redirectUri"`
	RedirectURIs []string `json:"redirectUris"`
	VRN          string   `json:"vrn"`
	UserID       string   `json:"userId"`
	Password     string   `json:"password"`
	AccessToken  string   `json:"accessToken"`
	RefreshToken string   `json:"refreshToken"`
	Scope        string   `json:"scope"`
	ExpiresAt    string   `json:"expiresAt"`
	Today        string   `json:"today"`
}

func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	o, err := parse(args, getenv, stdout, stderr)
	if err != nil {
		return err
	}
	if o.health {
		return healthcheck(ctx, o.addr)
	}
	shift := o.offset
	if o.today != "" {
		d, err := time.Parse(time.DateOnly, o.today)
		if err != nil {
			return usageError{fmt.Errorf("-today: %w", err)}
		}
		shift += d.Sub(time.Now().UTC().Truncate(24 * time.Hour))
	}
	opts := []vattest.Option{
		vattest.WithAddr(o.addr),
		vattest.WithRateLimit(o.rate),
		vattest.WithClock(func() time.Time { return time.Now().Add(shift) }),
	}
	if o.seed != "" {
		n, err := strconv.ParseUint(o.seed, 10, 64)
		if err != nil {
			return usageError{fmt.Errorf("-seed %q: not a whole number", o.seed)}
		}
		opts = append(opts, vattest.WithSeed(n))
	}
	if o.retryA {
		opts = append(opts, vattest.WithThrottleRetryAfter())
	}
	if o.enforce {
		opts = append(opts, vattest.WithFraudHeaderEnforcement())
	}
	if o.bound {
		opts = append(opts, vattest.WithObligationBoundReturns())
	}
	if o.controlToken != "" {
		opts = append(opts, vattest.WithControlToken(o.controlToken))
	}
	if o.clientID != "" {
		opts = append(opts, vattest.WithApplication(o.clientID, o.clientSecret, o.redirects...))
	}
	srv, err := vattest.New(opts...)
	if err != nil {
		return usageError{err}
	}
	defer srv.Close()

	loaded := false
	if o.state != "" {
		b, err := os.ReadFile(o.state)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return err
		default:
			if err := srv.LoadState(b); err != nil {
				return fmt.Errorf("-state %s: %w", o.state, err)
			}
			loaded = true
		}
	}
	r, err := readyLine(srv, o, loaded)
	if err != nil {
		return err
	}
	if o.asJSON {
		b, _ := json.Marshal(r)
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		printProse(stdout, r, o.state)
	}
	<-ctx.Done()
	if !o.asJSON {
		fmt.Fprintln(stdout, "stopping")
	}
	if o.state != "" {
		b, err := srv.State()
		if err != nil {
			return err
		}
		if err := writeFileAtomic(o.state, b); err != nil {
			return fmt.Errorf("saving -state: %w", err)
		}
	}
	return nil
}

// readyLine picks the application and the test business to print: the
// first business of a loaded state (ordered by VRN), or a new one.
func readyLine(srv *vattest.Server, o *options, loaded bool) (ready, error) {
	app := srv.DefaultApplication()
	redirect := "http://localhost/callback"
	if o.clientID != "" {
		app = vattest.Application{ClientID: o.clientID, ClientSecret: o.clientSecret, RedirectURIs: o.redirects}
		redirect = ""
		if len(o.redirects) > 0 {
			redirect = o.redirects[0]
		}
	}
	var user vattest.TestUser
	if bs := srv.Businesses(); loaded && len(bs) > 0 {
		user = bs[0]
	} else {
		b, err := srv.CreateBusiness(vattest.BusinessRequest{})
		if err != nil {
			return ready{}, err
		}
		user = vattest.TestUser{VRN: b.VRN, UserID: b.UserID, Password: b.Password}
	}
	tok, err := srv.IssueToken(user.VRN)
	if err != nil {
		return ready{}, err
	}
	return ready{
		URL: srv.URL, ClientID: app.ClientID, ClientSecret: app.ClientSecret, RedirectURI: redirect, RedirectURIs: app.RedirectURIs,
		VRN: user.VRN, UserID: user.UserID, Password: user.Password,
		AccessToken: tok.AccessToken, RefreshToken: tok.RefreshToken, Scope: tok.Scope,
		ExpiresAt: tok.Expiry.Format(time.RFC3339), Today: srv.Now().Format(time.DateOnly),
	}, nil
}

func printProse(w io.Writer, r ready, state string) {
	fmt.Fprintf(w, `HMRC VAT (MTD) simulator
  base URL (API and sign-in):  %s
  today (simulated, UTC):      %s
  control API:                 %s/_sandbox/health (also businesses, clock, faults, payments, requests, state, reset)

application
  client_id:      %s
  client_secret:  %s
  redirect URIs:  %s
  sign in at:     %s/oauth/authorize?response_type=code&client_id=%s&scope=read:vat+write:vat&redirect_uri=…

test business (organisation enrolled for MTD VAT)
  VRN:       %s
  user ID:   %s
  password:  %s

access token (read:vat write:vat, valid until %s)
  %s
refresh token
  %s

`, r.URL, r.Today, r.URL, r.ClientID, r.ClientSecret, strings.Join(r.RedirectURIs, " "), r.URL, r.ClientID,
		r.VRN, r.UserID, r.Password, r.ExpiresAt, r.AccessToken, r.RefreshToken)
	if state != "" {
		fmt.Fprintf(w, "State is saved to %s when the server stops.\n", state)
	}
	fmt.Fprintln(w, "Ctrl-C stops the server.")
}

// writeFileAtomic writes b to path through a temporary file in the same
// directory (mode 0600) renamed over path, so a crash never leaves half a file.
func writeFileAtomic(path string, b []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // gone after a successful rename
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// healthcheck asks the server at addr for GET /_sandbox/health.
func healthcheck(ctx context.Context, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return usageError{fmt.Errorf("-addr: %w", err)}
	}
	switch ip := net.ParseIP(host); {
	case host == "" || (ip != nil && ip.Equal(net.IPv4zero)):
		host = "127.0.0.1"
	case ip != nil && ip.Equal(net.IPv6unspecified):
		host = "::1"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+"/_sandbox/health", nil)
	if err != nil {
		return err
	}
	c := &http.Client{Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s", resp.Status)
	}
	return nil
}

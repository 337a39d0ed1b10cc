package vat

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
)

// SignInOption configures SignIn.
type SignInOption func(*signInOptions) error

type signInOptions struct {
	port    int // -1: not set
	path    string
	out     io.Writer
	prompt  func(authURL string)
	browser func(authURL string) error
	hc      *http.Client
}

// WithSignInPort sets the loopback port SignIn listens on when cfg has no
// RedirectURL; 0 (the default) picks a free port. HMRC redirects only to a
// redirect URI registered for the application, so with HMRC use a fixed port
// registered as http://localhost:PORT.
func WithSignInPort(port int) SignInOption {
	return func(o *signInOptions) error {
		if port < 0 || port > 65535 {
			return fmt.Errorf("vat: WithSignInPort: %d is outside 0 to 65535", port)
		}
		o.port = port
		return nil
	}
}

// WithSignInPath sets the path of the loopback redirect URI when cfg has no
// RedirectURL, for example "/callback" for http://localhost:PORT/callback. By
// default the redirect URI has no path.
func WithSignInPath(path string) SignInOption {
	return func(o *signInOptions) error {
		u, err := url.Parse(path)
		if err != nil || !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") || u.Path != path {
			return fmt.Errorf("vat: WithSignInPath: %q is not a plain absolute path such as /callback", path)
		}
		o.path = path
		return nil
	}
}

// WithSignInOutput sets where SignIn writes the sign-in address for the user
// (os.Stderr by default). WithSignInPrompt replaces the message altogether.
func WithSignInOutput(w io.Writer) SignInOption {
	return func(o *signInOptions) error {
		if w == nil {
			return errors.New("vat: WithSignInOutput: nil io.Writer")
		}
		o.out = w
		return nil
	}
}

// WithSignInPrompt sets a func that shows the user the HMRC sign-in address,
// for example in a dialog; it replaces the message SignIn writes.
func WithSignInPrompt(fn func(authURL string)) SignInOption {
	return func(o *signInOptions) error {
		if fn == nil {
			return errors.New("vat: WithSignInPrompt: nil func")
		}
		o.prompt = fn
		return nil
	}
}

// WithSignInBrowser sets the func SignIn calls to open the sign-in address in
// a browser (openBrowser by default); nil opens nothing, leaving the user to
// follow the address shown. SignIn calls it once, after it is listening, and
// waits for it to return, so it should return once the browser is launched.
// An error from it is reported to the user, and SignIn keeps waiting.
func WithSignInBrowser(open func(authURL string) error) SignInOption {
	return func(o *signInOptions) error {
		o.browser = open
		return nil
	}
}

// WithSignInHTTPClient sets the *http.Client used to exchange the
// authorization code at HMRC's token endpoint (http.DefaultClient by default).
func WithSignInHTTPClient(hc *http.Client) SignInOption {
	return func(o *signInOptions) error {
		if hc == nil {
			return errors.New("vat: WithSignInHTTPClient: nil *http.Client")
		}
		o.hc = hc
		return nil
	}
}

// SignIn runs HMRC's authorization-code sign-in for a desktop or
// command-line application and returns the user's token; save it in the
// user's TokenStore.
//
// It listens on the loopback interface, shows the user the HMRC sign-in
// address (see WithSignInOutput, WithSignInPrompt) and opens it in a browser
// (see WithSignInBrowser). The user signs in with their Government Gateway
// account and grants access; HMRC redirects the browser to
// http://localhost:PORT/path, where SignIn checks the state, exchanges the
// code with its PKCE verifier, shows a short page saying the window can be
// closed, and stops listening. Sign-in pages are on the www host
// (test-www.tax.service.gov.uk in the sandbox).
//
// The redirect URI is cfg.RedirectURL when set (it must be
// http://localhost:PORT[/path]), or else built from WithSignInPort and
// WithSignInPath. HMRC refuses IP literals, so the URI names localhost while
// SignIn listens on 127.0.0.1 and, when available, [::1] (browsers may
// resolve localhost to either). HMRC redirects only to a URI registered for
// the application, so the port must be one registered with HMRC: a free port
// picked at random works only with test servers.
//
// Only a request carrying this sign-in's state ends it. Any other request to
// the loopback address (a web page probing the port, a stale browser tab, a
// forged code or error) is answered with an error page and ignored, so that
// no page can abort the sign-in or slip in its own code.
//
// SignIn returns when the redirect arrives or ctx is done; bound it with a
// deadline (HMRC's authorization code lasts 10 minutes, but signing in may
// take longer). Errors: an *AuthorizationError, matching ErrUserDeniedAuthorization
// if the user declined; a *TokenError if the exchange is refused; ctx's error
// wrapped if it ends first, also matching ErrStateMismatch if requests with
// another state were ignored meanwhile.
func SignIn(ctx context.Context, cfg *oauth2.Config, opts ...SignInOption) (*oauth2.Token, error) {
	if ctx == nil {
		return nil, errors.New("vat: SignIn: nil context")
	}
	c, err := checkConfig("SignIn", cfg)
	if err != nil {
		return nil, err
	}
	if c.Endpoint.AuthURL == "" {
		return nil, errors.New("vat: SignIn: Endpoint.AuthURL is empty: build the config with vat.NewOAuthConfig")
	}
	o := signInOptions{port: -1, out: os.Stderr, browser: openBrowser}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("vat: SignIn: nil SignInOption")
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	port, path, err := o.redirect(cfg.RedirectURL)
	if err != nil {
		return nil, err
	}

	var lc net.ListenConfig
	ln4, err := lc.Listen(ctx, "tcp4", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, fmt.Errorf("vat: SignIn: listening on the loopback interface: %w", err)
	}
	listeners := []net.Listener{ln4}
	port = ln4.Addr().(*net.TCPAddr).Port
	if ln6, err := lc.Listen(ctx, "tcp6", net.JoinHostPort("::1", strconv.Itoa(port))); err == nil {
		listeners = append(listeners, ln6)
	}
	if cfg.RedirectURL != "" {
		c.RedirectURL = cfg.RedirectURL
	} else {
		c.RedirectURL = "http://localhost:" + strconv.Itoa(port) + o.path
	}

	ar := NewAuthRequest()
	cb := &callback{
		path:    path,
		port:    strconv.Itoa(port),
		ctx:     ctx,
		hc:      o.hc,
		cfg:     c,
		ar:      ar,
		results: make(chan signInResult, 1),
	}
	srv := &http.Server{
		Handler:           cb,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	var wg sync.WaitGroup
	for _, ln := range listeners {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.Serve(ln)
		}()
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
		wg.Wait()
	}()

	authURL := ar.AuthCodeURL(c)
	if o.prompt != nil {
		o.prompt(authURL)
	} else {
		fmt.Fprintf(o.out, "Sign in to HMRC in your browser to continue. If no browser opens, visit:\n\n    %s\n\n", authURL)
	}
	if o.browser != nil {
		if err := o.browser(authURL); err != nil && o.prompt == nil {
			fmt.Fprintf(o.out, "Could not open a browser (%v); open the address above yourself.\n", err)
		}
	}

	select {
	case r := <-cb.results:
		return r.tok, r.err
	case <-ctx.Done():
		if n := cb.ignored.Load(); n > 0 {
			return nil, fmt.Errorf("vat: SignIn: waiting for the HMRC sign-in redirect: %w; meanwhile %d request(s) were ignored: %w", ctx.Err(), n, ErrStateMismatch)
		}
		return nil, fmt.Errorf("vat: SignIn: waiting for the HMRC sign-in redirect: %w", ctx.Err())
	}
}

// redirect returns the port to listen on (0: any) and the path to serve.
func (o *signInOptions) redirect(redirectURL string) (port int, path string, err error) {
	if redirectURL == "" {
		path = o.path
		if path == "" {
			path = "/"
		}
		return max(o.port, 0), path, nil
	}
	if o.port >= 0 || o.path != "" {
		return 0, "", errors.New("vat: SignIn: cfg.RedirectURL is set, so WithSignInPort and WithSignInPath must not be")
	}
	if err := ValidateRedirectURL(redirectURL); err != nil {
		return 0, "", fmt.Errorf("vat: SignIn: cfg.RedirectURL: %w", err)
	}
	u, _ := url.Parse(redirectURL)
	if u.Scheme != "http" || !strings.EqualFold(u.Hostname(), "localhost") {
		return 0, "", fmt.Errorf("vat: SignIn: cfg.RedirectURL %q is not a loopback address: SignIn needs http://localhost:PORT[/path]", redirectURL)
	}
	port, _ = strconv.Atoi(u.Port())
	path = u.Path
	if path == "" {
		path = "/"
	}
	return port, path, nil
}

type signInResult struct {
	tok *oauth2.Token
	err error
}

// callback handles HMRC's redirect on the loopback listener. Only a GET of
// the redirect path, addressed to the loopback host and carrying this
// sign-in's state, ends the sign-in: any other request (a web page probing
// the port, a stale tab, a forged code or error) is answered with an error
// page and the sign-in goes on waiting.
type callback struct {
	path, port string
	ctx        context.Context
	hc         *http.Client
	cfg        *oauth2.Config
	ar         *AuthRequest
	done       atomic.Bool
	ignored    atomic.Int64 // requests refused for their state
	results    chan signInResult
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Connection", "close")
	if r.URL.Path != cb.path {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	if !cb.loopbackHost(r.Host) {
		// A page elsewhere trying to reach the listener (DNS rebinding).
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	if cb.done.Load() {
		signInPage(w, http.StatusConflict, "Sign-in already finished",
			"This sign-in has already finished. You can close this window.")
		return
	}
	query := r.URL.Query()
	if cb.ar.CheckState(query.Get("state")) != nil {
		// Not this sign-in's redirect: it must neither be used nor end the
		// sign-in, or any page could abort it.
		cb.ignored.Add(1)
		signInPage(w, http.StatusBadRequest, "Sign-in not completed",
			"This response does not match the sign-in the application started, so it was not used. If the application is still waiting, finish signing in from the address it showed.")
		return
	}
	if !cb.done.CompareAndSwap(false, true) {
		signInPage(w, http.StatusConflict, "Sign-in already finished",
			"This sign-in has already finished. You can close this window.")
		return
	}
	ctx := cb.ctx
	if cb.hc != nil {
		ctx = context.WithValue(ctx, oauth2.HTTPClient, cb.hc)
	}
	tok, err := cb.ar.Exchange(ctx, cb.cfg, query)
	switch {
	case err == nil:
		signInPage(w, http.StatusOK, "Signed in to HMRC",
			"You have signed in to HMRC and granted access. You can close this window and return to the application.")
	case errors.Is(err, ErrUserDeniedAuthorization):
		signInPage(w, http.StatusOK, "Access not granted",
			"You did not grant the application access to HMRC. You can close this window.")
	default:
		signInPage(w, http.StatusBadGateway, "Sign-in not completed",
			"The sign-in could not be completed. Close this window and see the application for details.")
	}
	cb.results <- signInResult{tok: tok, err: err}
}

// loopbackHost reports whether the Host header names this listener.
func (cb *callback) loopbackHost(hostport string) bool {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil || port != cb.port {
		return false
	}
	return strings.EqualFold(host, "localhost") || host == "127.0.0.1" || host == "::1"
}

// signInPage writes a short plain HTML page that loads nothing and leaks no
// address (the URL carries the authorization code) to other sites.
func signInPage(w http.ResponseWriter, status int, title, msg string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	fmt.Fprintf(w, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n<body><h1>%s</h1>\n<p>%s</p></body></html>\n",
		html.EscapeString(title), html.EscapeString(title), html.EscapeString(msg))
}

// openBrowser opens u in the user's default browser: with open on macOS,
// rundll32 on Windows and xdg-open elsewhere. It does not wait for the
// browser. It is SignIn's default; it only opens http and https addresses.
func openBrowser(u string) error {
	if !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") {
		return errors.New("vat: SignIn: only http and https addresses are opened")
	}
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.Command("open", u)
	case "windows":
		cmd = exec.Command("rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.Command("xdg-open", u)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("vat: SignIn: opening a browser: %w", err)
	}
	go func() { _ = cmd.Wait() }() // reap the launcher when it exits
	return nil
}

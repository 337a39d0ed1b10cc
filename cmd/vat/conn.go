package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/go-mtd/vat"
	"golang.org/x/oauth2"
)

// options are the flags a command was given.
type options struct {
	stdio *stdio

	// where
	sandbox, production bool
	sandboxServer       string
	baseURL             string
	// who
	clientID, clientSecret string
	redirectURI            string
	vrn                    string
	// how
	json bool
	// loginHint is the command that signs in again here, once known.
	loginHint string

	// command flags
	userID, password string // login against a simulator
	noBrowser        bool
	from, to         string
	status           string
	period           string
	file             string
	sheet            string
	cellMap          string
	compute          bool
	agree            bool
	requester        string
}

// connectionFlags adds the flags that say where requests go and with which
// application's credentials.
func connectionFlags(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.sandbox, "sandbox", false, "use HMRC's sandbox (the default)")
	fs.BoolVar(&o.production, "production", false, "use HMRC's live service")
	fs.StringVar(&o.sandboxServer, "sandbox-server", "", "use the simulator (vat-sandbox) at `URL` for the API and sign-in")
	fs.StringVar(&o.baseURL, "base-url", "", "send API calls and sign-in to `URL` instead of HMRC's hosts")
	fs.StringVar(&o.clientID, "client-id", "", "the application's client `ID` (default $HMRC_CLIENT_ID)")
	fs.StringVar(&o.clientSecret, "client-secret", "", "the application's client `secret` (default $HMRC_CLIENT_SECRET)")
}

// vrnFlag adds --vrn.
func vrnFlag(fs *flag.FlagSet, o *options) {
	fs.StringVar(&o.vrn, "vrn", "", "the business's VAT registration number, `VRN` (default $HMRC_VRN)")
}

// jsonFlag adds --json.
func jsonFlag(fs *flag.FlagSet, o *options) {
	fs.BoolVar(&o.json, "json", false, "print JSON for scripts instead of a table")
}

// conn is where a command's requests go.
type conn struct {
	env    vat.Environment
	server string // the simulator or base URL; "" for HMRC's hosts
	name   string // for messages: "HMRC's sandbox", "the simulator at …"
	oauth  *oauth2.Config
	hc     *http.Client
	dir    string // the configuration directory: tokens, receipts, device ID
	// userKey names the token file of this environment and server.
	userKey string
}

// connect reads the connection flags and the environment.
func connect(o *options) (*conn, error) {
	if o.sandbox && o.production {
		return nil, usagef("--sandbox and --production cannot be used together")
	}
	if o.sandboxServer != "" && o.baseURL != "" {
		return nil, usagef("--sandbox-server and --base-url cannot be used together")
	}
	if o.sandboxServer != "" && o.production {
		return nil, usagef("--sandbox-server is a simulator of HMRC's sandbox: it cannot be used with --production")
	}
	c := &conn{env: vat.Sandbox, name: "HMRC's sandbox", userKey: "hmrc", hc: &http.Client{Timeout: 2 * time.Minute}}
	if o.production {
		c.env, c.name = vat.Production, "HMRC"
	}
	if s := o.sandboxServer + o.baseURL; s != "" {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, usagef("%q is not a URL such as http://127.0.0.1:8080", s)
		}
		c.server = strings.TrimSuffix(s, "/")
		c.name = "the server at " + c.server
		if o.sandboxServer != "" {
			c.name = "the simulator at " + c.server
		}
		// Each server keeps its own tokens.
		c.userKey = "server-" + strings.Map(func(r rune) rune {
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
				return r
			}
			return '-'
		}, u.Host+u.Path)
	}
	id, secret := o.clientID, o.clientSecret
	if id == "" {
		id = o.stdio.getenv("HMRC_CLIENT_ID")
	}
	if secret == "" {
		secret = o.stdio.getenv("HMRC_CLIENT_SECRET")
	}
	if id == "" || secret == "" {
		return nil, usagef("the application's credentials are missing: set HMRC_CLIENT_ID and HMRC_CLIENT_SECRET (or --client-id and --client-secret) to those of your application on HMRC's Developer Hub")
	}
	redirect := o.redirectURI
	if redirect == "" {
		redirect = o.stdio.getenv("HMRC_REDIRECT_URI")
	}
	if redirect == "" && c.server == "" {
		redirect = defaultRedirectURI
	}
	oc, err := vat.NewOAuthConfig(c.env, vat.OAuthApp{ClientID: id, ClientSecret: secret, RedirectURL: redirect})
	if err != nil {
		return nil, usagef("%v", err)
	}
	if c.server != "" {
		oc.Endpoint.AuthURL, oc.Endpoint.TokenURL = c.server+"/oauth/authorize", c.server+"/oauth/token"
	}
	c.oauth = oc
	o.loginHint = c.loginHint()
	if c.dir, err = configDir(o.stdio); err != nil {
		return nil, err
	}
	return c, nil
}

// defaultRedirectURI is the loopback redirect URI used with HMRC unless
// --redirect-uri or HMRC_REDIRECT_URI says otherwise; register it for the
// application on HMRC's Developer Hub.
const defaultRedirectURI = "http://localhost:8765/callback"

// configDir is where tokens, receipts and the device ID are kept:
// $VAT_CONFIG_DIR, or go-mtd-vat in the user's configuration directory.
func configDir(io *stdio) (string, error) {
	if d := io.getenv("VAT_CONFIG_DIR"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("finding your configuration directory (set VAT_CONFIG_DIR): %w", err)
	}
	return filepath.Join(base, "go-mtd-vat"), nil
}

// clientOptions are the vat.Client options for c.
func (c *conn) clientOptions() []vat.Option {
	opts := []vat.Option{vat.WithEnvironment(c.env), vat.WithHTTPClient(c.hc), vat.WithUserAgent("go-mtd-vat-cli/" + version)}
	if c.server != "" {
		opts = append(opts, vat.WithBaseURL(c.server))
	}
	return opts
}

// tokenStore is the file holding the signed-in user's token.
func (c *conn) tokenStore() (*vat.FileStore, error) {
	path, err := vat.TokenFilePath(c.dir, c.userKey, c.env)
	if err != nil {
		return nil, err
	}
	return vat.NewFileStore(path)
}

// userClient returns a Client acting for the signed-in user.
func (c *conn) userClient(ctx context.Context) (*vat.Client, error) {
	store, err := c.tokenStore()
	if err != nil {
		return nil, err
	}
	if _, err := store.Load(ctx); errors.Is(err, vat.ErrNoToken) {
		return nil, &notSignedIn{c.name, c.loginHint()}
	} else if err != nil {
		return nil, err
	}
	ts, err := vat.NewUserTokenSource(c.oauth, store, vat.WithTokenHTTPClient(c.hc))
	if err != nil {
		return nil, err
	}
	fraud, err := fraudHeaders(c.dir)
	if err != nil {
		return nil, err
	}
	return vat.NewClient(append(c.clientOptions(), vat.WithTokenSource(ts), fraudOption(fraud))...)
}

// appClient returns a Client with the application's own token, for
// application-restricted APIs such as Check a UK VAT number.
func (c *conn) appClient(scopes ...string) (*vat.Client, error) {
	ts, err := vat.NewApplicationTokenSource(c.oauth, scopes, vat.WithTokenHTTPClient(c.hc))
	if err != nil {
		return nil, err
	}
	fraud, err := fraudHeaders(c.dir)
	if err != nil {
		return nil, err
	}
	return vat.NewClient(append(c.clientOptions(), vat.WithApplicationTokenSource(ts), fraudOption(fraud))...)
}

// loginHint is the command that signs in to this environment again.
func (c *conn) loginHint() string {
	switch {
	case c.server != "" && strings.HasPrefix(c.name, "the simulator"):
		return "vat login --sandbox-server " + c.server
	case c.server != "":
		return "vat login --base-url " + c.server
	case c.env == vat.Production:
		return "vat login --production"
	}
	return "vat login"
}

// notSignedIn reports that no token is stored.
type notSignedIn struct{ where, hint string }

func (e *notSignedIn) Error() string {
	return fmt.Sprintf("not signed in to %s: run \"%s\" first", e.where, e.hint)
}

// vrnOf returns the VRN of --vrn or HMRC_VRN.
func vrnOf(o *options) (vat.VRN, error) {
	s := o.vrn
	if s == "" {
		s = o.stdio.getenv("HMRC_VRN")
	}
	if s == "" {
		return "", usagef("--vrn is required (or set HMRC_VRN): the business's nine-digit VAT registration number")
	}
	v, err := vat.ParseVRN(s)
	if err != nil {
		return "", usagef("--vrn: %q is not a VAT registration number: nine digits, optionally after GB", s)
	}
	return v, nil
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"time"

	"github.com/go-mtd/vat"
)

func loginCommand() *command {
	return &command{
		name:  "login",
		short: "Sign in to HMRC and keep the token",
		long: `Sign in to HMRC with your Government Gateway account and grant this
application access to your VAT account (scopes read:vat and write:vat).

The sign-in page opens in your browser; HMRC sends the browser back to this
command on a loopback address (http://localhost:8765/callback unless
--redirect-uri or HMRC_REDIRECT_URI says otherwise; it must be registered for
your application). The token is kept, readable only by you, in
<config dir>/go-mtd-vat/ (VAT_CONFIG_DIR overrides it), one file per
environment, and refreshed as needed. Signing in again replaces it.

Against a simulator (--sandbox-server), --user-id and --password (or
HMRC_TEST_USER_ID and HMRC_TEST_PASSWORD) fill in its sign-in form without a
browser.`,
		examples: `  vat login
  vat login --production
  vat login --sandbox-server http://127.0.0.1:8080 --user-id 123456789012 --password abcdefghijkl`,
		flags: func(fs *flag.FlagSet, o *options) {
			connectionFlags(fs, o)
			fs.StringVar(&o.redirectURI, "redirect-uri", "", "the loopback redirect `URI` registered for the application")
			fs.BoolVar(&o.noBrowser, "no-browser", false, "print the sign-in address instead of opening a browser")
			fs.StringVar(&o.userID, "user-id", "", "simulator only: the test user's user `ID`")
			fs.StringVar(&o.password, "password", "", "simulator only: the test user's `password`")
		},
		run: runLogin,
	}
}

func runLogin(ctx context.Context, io *stdio, o *options, args []string) error {
	if len(args) > 0 {
		return usagef("vat login takes no arguments")
	}
	c, err := connect(o)
	if err != nil {
		return err
	}
	if o.userID == "" {
		o.userID = io.getenv("HMRC_TEST_USER_ID")
	}
	if o.password == "" {
		o.password = io.getenv("HMRC_TEST_PASSWORD")
	}
	auto := o.userID != "" || o.password != ""
	if auto && c.server == "" {
		return usagef("--user-id and --password fill in a simulator's sign-in form: with HMRC, sign in in the browser")
	}
	if auto && (o.userID == "" || o.password == "") {
		return usagef("--user-id and --password go together")
	}
	store, err := c.tokenStore()
	if err != nil {
		return err
	}
	opts := []vat.SignInOption{vat.WithSignInHTTPClient(c.hc), vat.WithSignInOutput(io.err)}
	if c.oauth.RedirectURL == "" {
		// A simulator accepts http://localhost/callback on any port.
		opts = append(opts, vat.WithSignInPath("/callback"))
	}
	sctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	var formErr error
	switch {
	case auto:
		fill := fillSignInForm(c.hc, o.userID, o.password)
		opts = append(opts, vat.WithSignInPrompt(func(string) {}), vat.WithSignInBrowser(func(authURL string) error {
			if formErr = fill(authURL); formErr != nil {
				cancel() // nobody else will complete the sign-in
			}
			return formErr
		}))
	case o.noBrowser:
		opts = append(opts, vat.WithSignInBrowser(nil))
	}
	if !auto {
		fmt.Fprintf(io.err, "Signing in to %s: complete the sign-in in your browser.\n", c.name)
	}
	tok, err := vat.SignIn(sctx, c.oauth, opts...)
	if formErr != nil {
		return fmt.Errorf("signing in: %w", formErr)
	}
	if err != nil {
		return fmt.Errorf("signing in: %w", err)
	}
	if err := store.Save(ctx, tok); err != nil {
		return err
	}
	fmt.Fprintf(io.out, "Signed in to %s. The token is kept in %s\n", c.name, store.Path())
	return nil
}

// fillSignInForm completes a simulator's sign-in page as a person would:
// the simulator (vattest, vat-sandbox) accepts the form's fields in the
// address and redirects at once to SignIn's loopback listener.
func fillSignInForm(hc *http.Client, userID, password string) func(string) error {
	return func(authURL string) error {
		u, err := url.Parse(authURL)
		if err != nil {
			return err
		}
		q := u.Query()
		q.Set("user_id", userID)
		q.Set("password", password)
		u.RawQuery = q.Encode()
		resp, err := hc.Get(u.String()) // follows the redirect to the listener
		if err != nil {
			return fmt.Errorf("the simulator's sign-in page: %w", err)
		}
		defer resp.Body.Close()
		_, _ = io.Copy(io.Discard, resp.Body)
		if resp.StatusCode == http.StatusUnauthorized {
			return errors.New("the simulator refused the user ID and password")
		}
		return nil
	}
}

func logoutCommand() *command {
	return &command{
		name:  "logout",
		short: "Forget the stored token",
		long: `Delete the token kept by "vat login" for the environment. To withdraw the
application's authority at HMRC too, use your HMRC online services account.`,
		examples: `  vat logout
  vat logout --production`,
		flags: connectionFlags,
		run: func(ctx context.Context, io *stdio, o *options, args []string) error {
			if len(args) > 0 {
				return usagef("vat logout takes no arguments")
			}
			c, err := connect(o)
			if err != nil {
				return err
			}
			store, err := c.tokenStore()
			if err != nil {
				return err
			}
			switch err := os.Remove(store.Path()); {
			case errors.Is(err, fs.ErrNotExist):
				fmt.Fprintf(io.out, "Not signed in to %s.\n", c.name)
			case err != nil:
				return err
			default:
				fmt.Fprintf(io.out, "Signed out of %s: removed %s\n", c.name, store.Path())
			}
			return nil
		},
	}
}

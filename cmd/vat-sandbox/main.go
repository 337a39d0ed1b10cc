// Command vat-sandbox runs the vattest simulator of HMRC's VAT (MTD) API as
// a standalone server, for software written in other languages and for
// trying the OAuth sign-in in a browser.
//
//	vat-sandbox [-addr 127.0.0.1:8080] [-rate 3] [-today 2025-05-20] [-offset 0]
//	            [-client-id ID -client-secret SECRET] [-redirect-uri URI]...
//
// It prints the base URL (the API host and the sign-in host at once), an
// application's client ID, secret and redirect URIs, a test user (user ID,
// password, VRN) and an access token ready to use, then serves until it
// gets SIGINT or SIGTERM. Everything it prints is a credential of the
// simulator only; nothing touches HMRC.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-mtd/vat/vattest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vat-sandbox:", err)
		os.Exit(2)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("vat-sandbox", flag.ContinueOnError)
	fs.SetOutput(out)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	rate := fs.Int("rate", 3, "requests per second per application (0: no limit)")
	today := fs.String("today", "", "pretend today is this date (YYYY-MM-DD); the clock runs on from it")
	offset := fs.Duration("offset", 0, "shift the clock by this much (e.g. 720h)")
	clientID := fs.String("client-id", "", "register an application with this client ID (with -client-secret)")
	clientSecret := fs.String("client-secret", "", "the secret of -client-id")
	var redirects []string
	fs.Func("redirect-uri", "a redirect URI of -client-id (repeatable)", func(s string) error {
		redirects = append(redirects, s)
		return nil
	})
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	shift := *offset
	if *today != "" {
		d, err := time.Parse(time.DateOnly, *today)
		if err != nil {
			return fmt.Errorf("-today: %w", err)
		}
		shift += d.Sub(time.Now().UTC().Truncate(24 * time.Hour))
	}
	opts := []vattest.Option{
		vattest.WithAddr(*addr),
		vattest.WithRateLimit(*rate),
		vattest.WithClock(func() time.Time { return time.Now().Add(shift) }),
	}
	if (*clientID == "") != (*clientSecret == "") {
		return errors.New("-client-id and -client-secret go together")
	}
	if *clientID == "" && len(redirects) > 0 {
		return errors.New("-redirect-uri needs -client-id")
	}
	if *clientID != "" {
		opts = append(opts, vattest.WithApplication(*clientID, *clientSecret, redirects...))
	}
	srv, err := vattest.New(opts...)
	if err != nil {
		return err
	}
	defer srv.Close()

	app := srv.DefaultApplication()
	if *clientID != "" {
		app = vattest.Application{ClientID: *clientID, ClientSecret: *clientSecret, RedirectURIs: redirects}
	}
	user, err := srv.CreateOrganisation(vattest.Organisation{})
	if err != nil {
		return err
	}
	tok, err := srv.IssueToken(user.VRN)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, `HMRC VAT (MTD) simulator
  base URL (API and sign-in):  %s
  today (simulated, UTC):      %s

application
  client_id:      %s
  client_secret:  %s
  redirect URIs:  %s
  sign in at:     %s/oauth/authorize?response_type=code&client_id=%s&scope=read:vat+write:vat&redirect_uri=…

test user (organisation enrolled for MTD VAT)
  user ID:   %s
  password:  %s
  VRN:       %s

access token (read:vat write:vat, valid until %s)
  %s
refresh token
  %s

Ctrl-C stops the server.
`, srv.URL, srv.Now().Format(time.DateOnly), app.ClientID, app.ClientSecret, strings.Join(app.RedirectURIs, " "),
		srv.URL, app.ClientID, user.UserID, user.Password, user.VRN, tok.Expiry.Format(time.RFC3339), tok.AccessToken, tok.RefreshToken)
	<-ctx.Done()
	fmt.Fprintln(out, "stopping")
	return nil
}

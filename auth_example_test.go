package vat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/go-mtd/vat"
)

// A desktop or command-line application signs the user in once, then keeps
// the token in a file per user and environment; the token source refreshes
// and saves it as needed.
func ExampleSignIn() {
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{
		ClientID:     os.Getenv("HMRC_CLIENT_ID"),
		ClientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
		RedirectURL:  "http://localhost:8085/callback", // registered on the Developer Hub
	})
	if err != nil {
		log.Fatal(err)
	}
	path, err := vat.TokenFilePath(os.ExpandEnv("$HOME/.config/myvatapp"), "acme-ltd", vat.Sandbox)
	if err != nil {
		log.Fatal(err)
	}
	store, err := vat.NewFileStore(path)
	if err != nil {
		log.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	tok, err := vat.SignIn(ctx, cfg)
	if err != nil {
		log.Fatal(err)
	}
	if err := store.Save(ctx, tok); err != nil {
		log.Fatal(err)
	}
}

func ExampleNewUserTokenSource() {
	cfg, err := vat.NewOAuthConfig(vat.Production, vat.OAuthApp{
		ClientID:     os.Getenv("HMRC_CLIENT_ID"),
		ClientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	store, err := vat.NewFileStore("/var/lib/myvatapp/production-123456789.json")
	if err != nil {
		log.Fatal(err)
	}
	ts, err := vat.NewUserTokenSource(cfg, store, vat.WithRefreshHook(func(_ context.Context, r vat.TokenRefresh) {
		log.Printf("HMRC token renewed; it expires at %s", r.Expiry.Format(time.RFC3339))
	}))
	if err != nil {
		log.Fatal(err)
	}

	tok, err := ts.TokenContext(context.Background())
	switch {
	case errors.Is(err, vat.ErrReauthorizationRequired):
		fmt.Println("Please sign in to HMRC again.")
	case err != nil:
		log.Fatal(err)
	default:
		_ = tok // give ts to the Client; it asks for tokens itself
	}
}

// A web application keeps the AuthRequest in the user's session between
// the redirect to HMRC and HMRC's redirect back.
func ExampleAuthRequest() {
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{
		ClientID:     os.Getenv("HMRC_CLIENT_ID"),
		ClientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
		RedirectURL:  "https://vat.example.com/hmrc/callback",
	})
	if err != nil {
		log.Fatal(err)
	}
	sessions := map[string]*vat.AuthRequest{} // stands in for a real session store
	mux := http.NewServeMux()

	mux.HandleFunc("/hmrc/connect", func(w http.ResponseWriter, r *http.Request) {
		ar := vat.NewAuthRequest()
		sessions["session-id"] = ar
		http.Redirect(w, r, ar.AuthCodeURL(cfg), http.StatusFound)
	})
	mux.HandleFunc("/hmrc/callback", func(w http.ResponseWriter, r *http.Request) {
		ar := sessions["session-id"]
		delete(sessions, "session-id") // one use only
		if ar == nil {
			http.Error(w, "no sign-in in progress", http.StatusBadRequest)
			return
		}
		tok, err := ar.Exchange(r.Context(), cfg, r.URL.Query())
		if errors.Is(err, vat.ErrUserDeniedAuthorization) {
			fmt.Fprintln(w, "You chose not to connect to HMRC.")
			return
		}
		if err != nil {
			http.Error(w, "could not connect to HMRC", http.StatusBadGateway)
			return
		}
		_ = tok // save it in this user's TokenStore
	})
	_ = mux // serve it
}

// Application-restricted APIs (Create Test User, Test Fraud Prevention
// Headers, Check a UK VAT number) use the client_credentials grant.
func ExampleNewApplicationTokenSource() {
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{
		ClientID:     os.Getenv("HMRC_CLIENT_ID"),
		ClientSecret: os.Getenv("HMRC_CLIENT_SECRET"),
	})
	if err != nil {
		log.Fatal(err)
	}
	testUsers, err := vat.NewApplicationTokenSource(cfg, nil) // Create Test User needs no scope
	if err != nil {
		log.Fatal(err)
	}
	checkVAT, err := vat.NewApplicationTokenSource(cfg, []string{vat.ScopeReadVAT})
	if err != nil {
		log.Fatal(err)
	}
	_, _ = testUsers, checkVAT
}

package vat_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-mtd/vat"
	"golang.org/x/oauth2"
)

// FuzzTokenResponse feeds arbitrary answers of HMRC's token endpoint (any
// status, content type and body) to a refresh: it must not panic, must
// return either a usable token (saved) or an error, and the error must never
// quote the refresh token or the client secret.
func FuzzTokenResponse(f *testing.F) {
	f.Add(200, "application/json", `{"access_token":"a","token_type":"bearer","expires_in":14400,"refresh_token":"r2"}`)
	f.Add(400, "application/json", `{"error":"invalid_grant","error_description":"refresh token is invalid"}`)
	f.Add(401, "application/json", `{"error":"invalid_client","error_description":"invalid client id or secret"}`)
	f.Add(400, "application/json", `{"error":"invalid_request","error_description":"Refresh operation is already in progress"}`)
	f.Add(200, "application/x-www-form-urlencoded", "access_token=a&token_type=bearer&expires_in=14400&refresh_token=r2")
	f.Add(200, "application/json", `{"access_token":"","expires_in":"soon"}`)
	f.Add(500, "text/html", "<html>server error</html>")
	f.Add(200, "application/json", `{"access_token":"a","token_type":"mac","expires_in":-5}`)

	var mu sync.Mutex
	status, ctype, body := 200, "", ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		s, c, b := status, ctype, body
		mu.Unlock()
		w.Header().Set("Content-Type", c)
		w.WriteHeader(s)
		w.Write([]byte(b))
	}))
	defer srv.Close()
	cfg, err := vat.NewOAuthConfig(vat.Sandbox, vat.OAuthApp{ClientID: "client", ClientSecret: "secret-FUZZMARK"})
	if err != nil {
		f.Fatal(err)
	}
	cfg.Endpoint.TokenURL = srv.URL

	f.Fuzz(func(t *testing.T, st int, ct, b string) {
		if st < 100 || st > 599 || st == 101 {
			st = 200
		}
		if strings.ContainsAny(ct, "\r\n\x00") {
			ct = "application/json"
		}
		mu.Lock()
		status, ctype, body = st, ct, b
		mu.Unlock()
		store := vat.NewMemoryStore(&oauth2.Token{AccessToken: "old", RefreshToken: "refresh-FUZZMARK", Expiry: time.Now().Add(-time.Hour)})
		ts, err := vat.NewUserTokenSource(cfg, store, vat.WithTokenHTTPClient(srv.Client()))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := ts.TokenContext(context.Background())
		if err != nil {
			if msg := err.Error(); strings.Contains(msg, "FUZZMARK") {
				t.Fatalf("error quotes a secret: %q (status %s)", msg, strconv.Itoa(st))
			}
			return
		}
		if tok == nil || tok.AccessToken == "" {
			t.Fatalf("no error and no token for %d %q", st, b)
		}
		saved, err := store.Load(context.Background())
		if err != nil || saved.AccessToken != tok.AccessToken {
			t.Fatalf("the token handed out was not saved first: %v", err)
		}
	})
}

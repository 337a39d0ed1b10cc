package vattest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-mtd/vat/vattest"
)

func get(srv *vattest.Server, tok vattest.Token, path string) (int, string) {
	req, _ := http.NewRequest("GET", srv.URL+path, nil)
	req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	resp, err := srv.Client().Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// An organisation with explicit obligations, and a token to act for it.
func Example() {
	srv := vattest.NewServer(vattest.WithRateLimit(0))
	defer srv.Close()
	srv.SetNow(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC))

	user, err := srv.CreateOrganisation(vattest.Organisation{
		VRN: "980780684",
		Obligations: []vattest.Obligation{
			{PeriodKey: "#001", Start: "2025-01-01", End: "2025-03-31"},
		},
	})
	if err != nil {
		panic(err)
	}
	tok, err := srv.IssueToken(user.VRN)
	if err != nil {
		panic(err)
	}
	fmt.Println(get(srv, tok, "/organisations/vat/980780684/obligations?status=O"))
	// Output:
	// 200 {"obligations":[{"start":"2025-01-01","end":"2025-03-31","due":"2025-05-07","status":"O","periodKey":"#001"}]}
}

// A return submitted after its period has ended; a second submission is a
// duplicate, with HMRC's exact body.
func ExampleServer_Submissions() {
	srv := vattest.NewServer(vattest.WithRateLimit(0))
	defer srv.Close()
	srv.SetNow(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC))
	user, _ := srv.CreateOrganisation(vattest.Organisation{Plan: &vattest.Plan{Open: 1}})
	tok, _ := srv.IssueToken(user.VRN)

	body := `{"periodKey":"25A1","vatDueSales":100.00,"vatDueAcquisitions":0,"totalVatDue":100,"vatReclaimedCurrPeriod":20.5,"netVatDue":79.50,"totalValueSalesExVAT":500,"totalValuePurchasesExVAT":100,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}`
	for range 2 {
		req, _ := http.NewRequest("POST", srv.URL+"/organisations/vat/"+user.VRN+"/returns", strings.NewReader(body))
		req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
		resp, err := srv.Client().Do(req)
		if err != nil {
			panic(err)
		}
		resp.Body.Close()
		fmt.Println(resp.StatusCode)
	}
	fmt.Printf("%+v\n", srv.Submissions(user.VRN))
	fmt.Println(get(srv, tok, "/organisations/vat/"+user.VRN+"/returns/25A1"))
	// Output:
	// 201
	// 403
	// {Received:2 Accepted:1}
	// 200 {"periodKey":"25A1","vatDueSales":100,"vatDueAcquisitions":0,"totalVatDue":100,"vatReclaimedCurrPeriod":20.5,"netVatDue":79.5,"totalValueSalesExVAT":500,"totalValuePurchasesExVAT":100,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0}
}

// The lost response of a filed return: the client sees an error, yet the
// return is stored.
func ExampleServer_InjectFault() {
	srv := vattest.NewServer(vattest.WithRateLimit(0))
	defer srv.Close()
	srv.SetNow(time.Date(2025, 5, 1, 9, 0, 0, 0, time.UTC))
	user, _ := srv.CreateOrganisation(vattest.Organisation{})
	tok, _ := srv.IssueToken(user.VRN)
	_ = srv.InjectFault(vattest.Fault{Method: "POST", Path: "/organisations/vat/*", Action: vattest.FaultDropAfterProcessing})

	body := `{"periodKey":"25A1","vatDueSales":0,"vatDueAcquisitions":0,"totalVatDue":0,"vatReclaimedCurrPeriod":0,"netVatDue":0,"totalValueSalesExVAT":0,"totalValuePurchasesExVAT":0,"totalValueGoodsSuppliedExVAT":0,"totalAcquisitionsExVAT":0,"finalised":true}`
	req, _ := http.NewRequest("POST", srv.URL+"/organisations/vat/"+user.VRN+"/returns", strings.NewReader(body))
	req.Header.Set("Accept", "application/vnd.hmrc.1.0+json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	_, err := srv.Client().Do(req)
	fmt.Println("client error:", err != nil)
	fmt.Printf("%+v\n", srv.Submissions(user.VRN))
	status, _ := get(srv, tok, "/organisations/vat/"+user.VRN+"/returns/25A1")
	fmt.Println(status)
	// Output:
	// client error: true
	// {Received:1 Accepted:1}
	// 200
}

// Signing in without a browser: the sign-in page also takes the user's
// credentials as query parameters and redirects straight back.
func ExampleServer_DefaultApplication() {
	srv := vattest.NewServer()
	defer srv.Close()
	user, _ := srv.CreateOrganisation(vattest.Organisation{})
	app := srv.DefaultApplication()

	client := *srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	q := url.Values{
		"response_type": {"code"}, "client_id": {app.ClientID}, "scope": {"read:vat write:vat"},
		"redirect_uri": {"http://localhost:8765/callback"}, "state": {"abc"},
		"user_id": {user.UserID}, "password": {user.Password},
	}
	resp, err := client.Get(srv.URL + "/oauth/authorize?" + q.Encode())
	if err != nil {
		panic(err)
	}
	resp.Body.Close()
	loc, _ := url.Parse(resp.Header.Get("Location"))
	fmt.Println(resp.StatusCode, loc.Host+loc.Path, loc.Query().Get("state"), len(loc.Query().Get("code")))

	resp, err = srv.Client().PostForm(srv.URL+"/oauth/token", url.Values{
		"grant_type": {"authorization_code"}, "client_id": {app.ClientID}, "client_secret": {app.ClientSecret},
		"redirect_uri": {"http://localhost:8765/callback"}, "code": {loc.Query().Get("code")},
	})
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	fmt.Println(resp.StatusCode)
	// Output:
	// 302 localhost:8765/callback abc 32
	// 200
}

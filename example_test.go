package vat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/go-mtd/vat"
	"golang.org/x/oauth2"
)

func ExampleNewClient() {
	// In a real program the token source comes from HMRC's sign-in (see the
	// OAuth helpers); a static token is enough to show the shape.
	tokens := oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "token-from-hmrc-sign-in"})
	c, err := vat.NewClient(
		vat.WithEnvironment(vat.Sandbox),
		vat.WithTokenSource(tokens),
		vat.WithUserAgent("AcmeBooks/2.1"),
	)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(c.Environment(), c.BaseURL())
	// Output: sandbox https://test-api.service.hmrc.gov.uk/
}

func ExampleClient_Obligations() {
	// A stand-in for HMRC answering with its documented example.
	hmrc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"obligations":[
			{"start":"2017-01-01","end":"2017-03-31","due":"2017-05-07","status":"F","periodKey":"18A1","received":"2017-05-06"},
			{"start":"2017-04-01","end":"2017-06-30","due":"2017-08-07","status":"O","periodKey":"18A2"}]}`)
	}))
	defer hmrc.Close()

	c, err := vat.NewClient(
		vat.WithBaseURL(hmrc.URL),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})),
	)
	if err != nil {
		log.Fatal(err)
	}
	from, _ := vat.ParseDate("2017-01-01")
	to, _ := vat.ParseDate("2017-12-31")
	obligations, err := c.Obligations(context.Background(), "123456789", vat.ObligationsQuery{From: from, To: to})
	if errors.Is(err, vat.ErrNotFound) {
		fmt.Println("no obligations in that range")
		return
	}
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range obligations {
		fmt.Println(o.PeriodKey, o.Start, o.End, "due", o.Due, "fulfilled:", o.Fulfilled())
	}
	// Output:
	// 18A1 2017-01-01 2017-03-31 due 2017-05-07 fulfilled: true
	// 18A2 2017-04-01 2017-06-30 due 2017-08-07 fulfilled: false
}

func ExampleValidationError() {
	c, _ := vat.NewClient()
	// Fulfilled obligations need a date range; nothing is sent.
	_, err := c.Obligations(context.Background(), "GB123", vat.ObligationsQuery{Status: vat.ObligationFulfilled})
	var ve *vat.ValidationError
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p.Path, p.Code)
		}
	}
	// Output:
	// vrn VRN_INVALID
	// from MISSING_DATE_RANGE
}

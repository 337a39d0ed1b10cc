package vat_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"time"

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

// exampleHMRC stands in for HMRC in the examples, answering with HMRC's
// documented example bodies.
func exampleHMRC() (*vat.Client, func()) {
	mux := http.NewServeMux()
	reply := func(status int, body string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("X-CorrelationId", "c75f40a6-a3df-4429-a697-471eeec46435")
			if status == http.StatusCreated {
				w.Header().Set("Receipt-ID", "2dd537bc-4244-4ebf-bac9-96321be13cdc")
				w.Header().Set("Receipt-Timestamp", "2018-02-14T09:32:15Z")
			}
			w.WriteHeader(status)
			fmt.Fprint(w, body)
		}
	}
	mux.Handle("POST /organisations/vat/123456789/returns", reply(201,
		`{"processingDate":"2018-01-16T08:20:27.895+0000","paymentIndicator":"BANK","formBundleNumber":"256660290587","chargeRefNumber":"aCxFaNx0FZsCvyWF"}`))
	mux.Handle("GET /organisations/vat/123456789/returns/{key}", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("key") != "#001" {
			w.WriteHeader(http.StatusNotFound) // HMRC's answer for a period with no return: no body
			return
		}
		reply(200, `{"periodKey":"#001","vatDueSales":100,"vatDueAcquisitions":100,"totalVatDue":200,"vatReclaimedCurrPeriod":100,
			"netVatDue":100,"totalValueSalesExVAT":500,"totalValuePurchasesExVAT":500,"totalValueGoodsSuppliedExVAT":500,"totalAcquisitionsExVAT":500}`)(w, r)
	}))
	mux.Handle("GET /organisations/vat/123456789/liabilities", reply(200,
		`{"liabilities":[{"taxPeriod":{"from":"2018-04-06","to":"2018-07-06"},"type":"VAT Return Debit Charge","originalAmount":6000.3,"outstandingAmount":100.51,"due":"2018-07-06"}]}`))
	mux.Handle("GET /organisations/vat/123456789/payments", reply(200, `{"payments":[{"amount":100.05,"received":"2018-04-06"}]}`))
	mux.Handle("GET /organisations/vat/123456789/penalties", reply(200,
		`{"totalisations":{"lateSubmissionPenaltyTotalValue":400},"lateSubmissionPenalty":{"summary":{"activePenaltyPoints":4,"inactivePenaltyPoints":1,
		"periodOfComplianceAchievement":"2025-05-31","regimeThreshold":4,"penaltyChargeAmount":400},"details":[{"penaltyNumber":"00005","penaltyOrder":"5",
		"penaltyCategory":"threshold","penaltyStatus":"active","penaltyCreationDate":"2024-02-08","penaltyExpiryDate":"2026-03-01",
		"chargeReference":"XS198765432109","chargeAmount":200,"chargeOutstandingAmount":200,"chargeDueDate":"2024-02-28"}]}}`))
	mux.Handle("GET /organisations/vat/123456789/financial-details/XS198765432109", reply(200,
		`{"documentDetails":[{"documentTotalAmount":200,"documentOutstandingAmount":200,"lineItemDetails":[{"chargeDescription":"VAT Return","netDueDate":"2024-02-28","amount":200}]}]}`))
	mux.Handle("GET /organisations/vat/123456789/information", reply(200,
		`{"customerDetails":{"effectiveRegistrationDate":"2001-01-01"},"flatRateScheme":{"frsCategory":"001","startDate":"2001-01-01"}}`))
	srv := httptest.NewServer(mux)
	c, err := vat.NewClient(
		vat.WithBaseURL(srv.URL),
		vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})),
		vat.WithClock(func() time.Time { return time.Date(2019, 1, 1, 12, 0, 0, 0, time.UTC) }),
	)
	if err != nil {
		log.Fatal(err)
	}
	return c, srv.Close
}

func ExampleClient_SubmitReturn() {
	c, done := exampleHMRC()
	defer done()

	r := vat.Return{
		PeriodKey:                    "#001", // exactly as the obligation gave it
		VATDueSales:                  10000,  // £100.00, in pence
		VATDueAcquisitions:           10000,
		VATReclaimedCurrPeriod:       10000,
		TotalValueSalesExVAT:         500, // whole pounds
		TotalValuePurchasesExVAT:     500,
		TotalValueGoodsSuppliedExVAT: 500,
		TotalAcquisitionsExVAT:       500,
		Finalised:                    true, // the user has read HMRC's declaration
	}
	r.ComputeTotals() // boxes 3 and 5, exactly as HMRC checks them
	receipt, err := c.SubmitReturn(context.Background(), "123456789", r)
	if receipt != nil {
		// HMRC accepted the return: store the receipt even if err != nil.
		fmt.Println("filed:", receipt.FormBundleNumber, receipt.ProcessingDate.UTC().Format(time.RFC3339), receipt.ReceiptID)
	}
	switch {
	case errors.Is(err, vat.ErrDuplicateSubmission):
		fmt.Println("this period already has a return")
	case err != nil && receipt == nil:
		log.Fatal(err)
	}
	// Output:
	// filed: 256660290587 2018-01-16T08:20:27Z 2dd537bc-4244-4ebf-bac9-96321be13cdc
}

func ExampleReturn_Validate() {
	r := vat.Return{PeriodKey: "18A1", VATDueSales: 10050, VATDueAcquisitions: 1, TotalVATDue: 10050, Finalised: true}
	var ve *vat.ValidationError
	if errors.As(r.Validate(), &ve) {
		for _, p := range ve.Problems {
			fmt.Println(p.Path, p.Code)
		}
	}
	r.ComputeTotals()
	fmt.Println("after ComputeTotals:", r.Validate())
	// Output:
	// /netVatDue VAT_NET_VALUE
	// /totalVatDue VAT_TOTAL_VALUE
	// after ComputeTotals: <nil>
}

func ExampleClient_ViewReturn() {
	c, done := exampleHMRC()
	defer done()

	r, err := c.ViewReturn(context.Background(), "123456789", "#001")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.PeriodKey, "box 3:", r.TotalVATDue, "box 5:", r.NetVATDue, "box 6:", r.TotalValueSalesExVAT)

	_, err = c.ViewReturn(context.Background(), "123456789", "18A2")
	fmt.Println("no return for 18A2:", errors.Is(err, vat.ErrNotFound))
	// Output:
	// #001 box 3: 200.00 box 5: 100.00 box 6: 500
	// no return for 18A2: true
}

func ExampleClient_Liabilities() {
	c, done := exampleHMRC()
	defer done()

	from, _ := vat.ParseDate("2018-01-01")
	to, _ := vat.ParseDate("2018-12-31")
	liabilities, err := c.Liabilities(context.Background(), "123456789", vat.DateRange{From: from, To: to})
	if errors.Is(err, vat.ErrNotFound) {
		liabilities, err = nil, nil // HMRC's way of saying "none in this range"
	}
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range liabilities {
		fmt.Println(l.Type, l.OriginalAmount, "outstanding", *l.OutstandingAmount, "due", l.Due)
	}
	// Output:
	// VAT Return Debit Charge 6000.30 outstanding 100.51 due 2018-07-06
}

func ExampleClient_Payments() {
	c, done := exampleHMRC()
	defer done()

	from, _ := vat.ParseDate("2018-01-01")
	to, _ := vat.ParseDate("2018-12-31")
	payments, err := c.Payments(context.Background(), "123456789", vat.DateRange{From: from, To: to})
	if err != nil {
		log.Fatal(err)
	}
	for _, p := range payments {
		fmt.Println(p.Amount, "received", p.Received)
	}
	// Output:
	// 100.05 received 2018-04-06
}

func ExampleClient_Penalties() {
	c, done := exampleHMRC()
	defer done()

	p, err := c.Penalties(context.Background(), "123456789")
	if err != nil {
		log.Fatal(err)
	}
	if p.None() {
		fmt.Println("no penalties")
		return
	}
	s := p.LateSubmissionPenalty.Summary
	fmt.Printf("%d of %d points\n", s.ActivePenaltyPoints, s.RegimeThreshold)
	for _, d := range p.LateSubmissionPenalty.Details {
		if d.ChargeReference == "" {
			continue
		}
		fd, err := c.FinancialDetails(context.Background(), "123456789", d.ChargeReference)
		if err != nil {
			log.Fatal(err)
		}
		for _, li := range fd.DocumentDetails[0].LineItemDetails {
			fmt.Println(d.ChargeReference, li.ChargeDescription, *li.Amount, "due", li.NetDueDate)
		}
	}
	// Output:
	// 4 of 4 points
	// XS198765432109 VAT Return 200.00 due 2024-02-28
}

func ExampleClient_CustomerInformation() {
	c, done := exampleHMRC()
	defer done()

	info, err := c.CustomerInformation(context.Background(), "123456789")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("registered", info.CustomerDetails.EffectiveRegistrationDate)
	if frs := info.FlatRateScheme; frs != nil {
		fmt.Println("flat rate scheme:", frs.FRSCategory, frs.FRSCategory.Description(), "since", frs.StartDate)
	}
	// Output:
	// registered 2001-01-01
	// flat rate scheme: 001 Accountancy or book-keeping since 2001-01-01
}

func ExampleWithTestScenario() {
	c, err := vat.NewClient(vat.WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "t"})))
	if err != nil {
		log.Fatal(err)
	}
	// A scenario of another endpoint is refused before anything is sent.
	_, err = c.Penalties(context.Background(), "123456789", vat.WithTestScenario(vat.ObligationsQuarterlyOneMet))
	fmt.Println(err)
	// Output:
	// vat: Penalties: WithTestScenario: QUARTERLY_ONE_MET is a scenario of Obligations, not of Penalties
}

package vat

import (
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The fuzz targets below feed arbitrary bytes to the decoder of every
// response type. Whatever decodes must not panic and must survive a round
// trip unchanged; HMRC's documented examples are the seeds, which plain
// `go test` runs.

func addFixtureSeeds(f *testing.F, patterns ...string) {
	f.Helper()
	for _, p := range patterns {
		files, err := filepath.Glob(filepath.Join("testdata", "hmrc", p))
		if err != nil || len(files) == 0 {
			f.Fatalf("no seeds match %s", p)
		}
		for _, name := range files {
			b, err := os.ReadFile(name)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"a":[1,2,{"b":null}]}`))
}

// roundTrip decodes data into a new T; if that works, its encoding must
// decode again to a value with the same encoding (an empty list and no list
// encode alike, so values are compared through their encodings).
func roundTrip[T any](t *testing.T, data []byte) {
	var v T
	if json.Unmarshal(data, &v) != nil {
		return
	}
	out, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("decoded %q but cannot encode it: %v", data, err)
	}
	var back T
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("cannot decode own encoding %s: %v", out, err)
	}
	again, err := json.Marshal(back)
	if err != nil || !bytes.Equal(out, again) {
		t.Fatalf("round trip changed the value:\n in: %s\nout: %s\nagain: %s", data, out, again)
	}
}

func FuzzObligationsResponse(f *testing.F) {
	addFixtureSeeds(f, "raml/Obligations*.json", "oas/RetrieveVATobligations/response-200-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[obligationsResponse](t, data) })
}

func FuzzReturn(f *testing.F) {
	addFixtureSeeds(f, "raml/*VatReturn*.json", "oas/ViewVATReturn/response-200-*.json", "oas/SubmitVATreturnforperiod/request-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[Return](t, data) })
}

func FuzzLiabilitiesResponse(f *testing.F) {
	addFixtureSeeds(f, "raml/Liabilities.json", "oas/RetrieveVATliabilities/response-200-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[liabilitiesResponse](t, data) })
}

func FuzzPaymentsResponse(f *testing.F) {
	addFixtureSeeds(f, "raml/Payments.json", "oas/RetrieveVATpayments/response-200-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[paymentsResponse](t, data) })
}

func FuzzPenalties(f *testing.F) {
	addFixtureSeeds(f, "raml/penalties/Penalties*.json", "oas/RetrieveVATpenalties/response-200-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[Penalties](t, data) })
}

func FuzzFinancialDetails(f *testing.F) {
	addFixtureSeeds(f, "raml/penalties/FinancialDetails.json", "oas/Retrievefinancialdetails/response-200-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[FinancialDetails](t, data) })
}

func FuzzCustomerInformation(f *testing.F) {
	addFixtureSeeds(f, "oas/RetrieveVATCustomerInformation/response-200-*.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[CustomerInformation](t, data) })
}

func FuzzTestUser(f *testing.F) {
	addFixtureSeeds(f, "test-user/create-*-response.json")
	f.Fuzz(func(t *testing.T, data []byte) { roundTrip[TestUser](t, data) })
}

// FuzzReceipt feeds arbitrary 201 bodies and receipt headers to the receipt
// builder: it must never fail to return the receipt of an accepted return.
func FuzzReceipt(f *testing.F) {
	addFixtureSeeds(f, "oas/SubmitVATreturnforperiod/response-201-*.json", "raml/SubmitVatReturnResponse.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		h := http.Header{"Receipt-Id": {"rid"}, "Receipt-Timestamp": {string(data)}}
		rc, err := newReceipt(&response{status: 201, header: h, body: data}, nil)
		if rc == nil {
			t.Fatalf("no receipt for body %q (err %v)", data, err)
		}
		if rc.ReceiptID != "rid" {
			t.Fatalf("Receipt-ID lost: %+v", rc)
		}
	})
}

// FuzzValidateFraudHeaders feeds arbitrary header values to the validator:
// it must not panic, must derive its overall code from its findings, and
// must never quote a value in a message.
func FuzzValidateFraudHeaders(f *testing.F) {
	f.Add("Gov-Client-Connection-Method", "DESKTOP_APP_DIRECT", "Gov-Client-Public-IP", "198.51.100.0")
	f.Add("Gov-Client-Timezone", "UTC+01:00", "Gov-Vendor-Forwarded", "by=203.0.113.6&for=198.51.100.0")
	f.Add("Gov-Client-Screens", "width=1920&height=1080&scaling-factor=1.25&colour-depth=16", "Gov-Client-Multi-Factor", "type=TOTP&timestamp=2021-11-21T13%3A20Z&unique-reference=x")
	f.Add("Gov-Client-Local-IPs", "fc00%3A%3A,10.1.2.3", "Gov-Client-MAC-Addresses", "ea%3A43%3A1a%3A5d%3A21%3A45")
	f.Add("Gov-Client-Device-ID", "alice@example.com", "Gov-Foo", "%zz%")
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		h := http.Header{}
		h.Add(k1, v1)
		h.Add(k2, v2)
		h.Set("Gov-Client-User-IDs", "my-application=VALUEMARKER")
		res := ValidateFraudHeaders(h)
		switch {
		case len(res.Errors) > 0 && res.Code != FPHInvalidHeaders,
			len(res.Errors) == 0 && len(res.Warnings) > 0 && res.Code != FPHPotentiallyInvalidHeaders:
			t.Fatalf("code %s does not follow from %d errors and %d warnings", res.Code, len(res.Errors), len(res.Warnings))
		}
		for _, list := range [][]FraudHeaderFinding{res.Errors, res.Warnings} {
			for _, fnd := range list {
				if strings.Contains(fnd.Message, "VALUEMARKER") {
					t.Fatalf("message quotes a value: %q", fnd.Message)
				}
			}
		}
	})
}

// FuzzParseClientValues feeds arbitrary documents, as a browser or a
// client application could send, to the parser of client values.
func FuzzParseClientValues(f *testing.F) {
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"screens":[{"width":1920,"height":1080,"scalingFactor":"1","colourDepth":24}],"windowSize":{"width":1256,"height":803},"timezone":"UTC+01:00","deviceId":"beec798b-b366-47fa-b1f8-92cede14a1ce"}`))
	f.Add([]byte(`{"userAgent":"Mozilla/5.0","localIps":["10.1.2.3","fc00::"],"macAddresses":["ea:43:1a:5d:21:45"]}`))
	f.Add([]byte(`{"screens":[` + strings.Repeat(`{"width":1},`, 70) + `{}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		cv, err := ParseClientValues(data)
		if err != nil {
			if strings.ContainsAny(err.Error(), "\r\n") {
				t.Fatalf("multi-line error %q", err)
			}
			return
		}
		if _, err := json.Marshal(cv); err != nil {
			t.Fatalf("parsed values do not encode: %v", err)
		}
	})
}

package vat

import (
	"context"
	"time"
)

// acceptCheckVAT is the Accept header of HMRC's Check a UK VAT number API,
// version 2.0 (version 1.0 was removed on 17 February 2025).
const acceptCheckVAT = "application/vnd.hmrc.2.0+json"

// VATRegistration is HMRC's answer to a check of a UK VAT number: the
// registered business's name and address and, for a check made with the
// requester's own VRN, a consultation number that proves the check was made.
type VATRegistration struct {
	// Target is the business the checked VAT number belongs to.
	Target RegisteredBusiness `json:"target"`
	// Requester is the VRN of the business that made the check; set only by
	// CheckVATNumberWithRequester.
	Requester string `json:"requester,omitempty"`
	// ConsultationNumber is HMRC's reference for the check (for example
	// "ypAeKRPlW"); keep it as evidence of due diligence. Set only by
	// CheckVATNumberWithRequester.
	ConsultationNumber string `json:"consultationNumber,omitempty"`
	// ProcessingDate is when HMRC answered (HMRC sends UK local time with
	// its offset).
	ProcessingDate time.Time `json:"processingDate"`
}

// RegisteredBusiness is a VAT-registered business as the Check a UK VAT
// number API describes it.
type RegisteredBusiness struct {
	// Name is the business's registered name.
	Name string `json:"name"`
	// VATNumber is its VAT registration number, 9 or 12 digits without the
	// GB prefix.
	VATNumber string `json:"vatNumber"`
	// Address is its registered address.
	Address BusinessAddress `json:"address"`
}

// BusinessAddress is a registered business's address. Line1 and CountryCode
// are always set; the others may be empty.
type BusinessAddress struct {
	// Line1 to Line5 are the lines of the address.
	Line1 string `json:"line1"`
	// Line2 is the second line, if any.
	Line2 string `json:"line2,omitempty"`
	// Line3 is the third line, if any.
	Line3 string `json:"line3,omitempty"`
	// Line4 is the fourth line, if any.
	Line4 string `json:"line4,omitempty"`
	// Line5 is the fifth line, if any.
	Line5 string `json:"line5,omitempty"`
	// Postcode is the postcode, if any.
	Postcode string `json:"postcode,omitempty"`
	// CountryCode is the ISO 3166 country code, for example "GB".
	CountryCode string `json:"countryCode"`
}

// Lines returns the non-empty lines of the address, postcode and country
// code included, in order.
func (a BusinessAddress) Lines() []string {
	var out []string
	for _, s := range []string{a.Line1, a.Line2, a.Line3, a.Line4, a.Line5, a.Postcode, a.CountryCode} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// CheckVATNumber checks that target is a registered UK VAT number and returns
// the business's name and address, through HMRC's Check a UK VAT number API
// version 2.0 (GET /organisations/vat/check-vat-number/lookup/{targetVrn}).
// The API is application-restricted: the Client needs
// WithApplicationTokenSource with a source asking for ScopeReadVAT.
//
// target is 9 or 12 digits (HMRC accepts both here; a "GB" prefix is not
// part of it). Errors: a *ValidationError (code INVALID_REQUEST, path
// "targetVrn") before sending for a malformed number; ErrNotFound (404
// NOT_FOUND) when no registered business has the number. Use
// [Client.CheckVATNumberWithRequester] to get a consultation number.
func (c *Client) CheckVATNumber(ctx context.Context, target VRN, opts ...CallOption) (*VATRegistration, error) {
	return c.checkVAT(ctx, "CheckVATNumber", target, "", opts)
}

// CheckVATNumberWithRequester is [Client.CheckVATNumber] made on behalf of the
// business whose VRN is requester: HMRC's answer also carries a
// consultation number, HMRC's proof that the check was made (GET
// /organisations/vat/check-vat-number/lookup/{targetVrn}/{requesterVrn}).
//
// Errors, besides CheckVATNumber's: a *ValidationError (path
// "requesterVrn") for a malformed requester; an *APIError with status 403
// and code INVALID_REQUEST (errors.Is(err, ErrInvalidRequest)) when the
// target is registered but requester is not.
func (c *Client) CheckVATNumberWithRequester(ctx context.Context, target, requester VRN, opts ...CallOption) (*VATRegistration, error) {
	return c.checkVAT(ctx, "CheckVATNumberWithRequester", target, requester, opts)
}

func (c *Client) checkVAT(ctx context.Context, op string, target, requester VRN, opts []CallOption) (*VATRegistration, error) {
	checks := []func(*problems){checkLookupVRN("targetVrn", target)}
	path := []string{"organisations", "vat", "check-vat-number", "lookup", string(target)}
	if op == "CheckVATNumberWithRequester" {
		checks = append(checks, checkLookupVRN("requesterVrn", requester))
		path = append(path, string(requester))
	}
	if err := validate(op, checks...); err != nil {
		return nil, err
	}
	var out VATRegistration
	if _, err := c.get(ctx, &request{op: op, path: path, auth: authApp, accept: acceptCheckVAT}, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// checkLookupVRN reports a VRN that is not 9 or 12 digits, the numbers the
// Check a UK VAT number API accepts.
func checkLookupVRN(field string, v VRN) func(*problems) {
	return func(p *problems) {
		if (len(v) != 9 && len(v) != 12) || !allDigits(string(v)) {
			p.add(field, "INVALID_REQUEST", "%s must be 9 or 12 digits, without GB, got %q", field, truncate(string(v), 20))
		}
	}
}

package vat

import (
	"context"
	"net/url"
)

// FraudHeadersAPIVAT is the {api} of HMRC's Test Fraud Prevention Headers
// API for the VAT (MTD) API.
const FraudHeadersAPIVAT = "vat-mtd"

// CheckFraudHeaders sends this Client's fraud prevention headers (or those
// of WithCallFraudHeaders) to HMRC's Test Fraud Prevention Headers API (GET
// /test/fraud-prevention-headers/validate, sandbox only) and returns HMRC's
// verdict on them. ValidateFraudHeaders gives the same answer offline, with
// the findings of HMRC's production review added.
//
// HMRC documents the API as application-restricted: the Client uses its
// WithApplicationTokenSource tokens, or its user tokens when it has no
// application source (HMRC's validator has been seen to accept only one
// kind at times). The application must be subscribed to the API on HMRC's
// Developer Hub (else 403 ErrResourceForbidden).
func (c *Client) CheckFraudHeaders(ctx context.Context, opts ...CallOption) (*FraudHeadersValidation, error) {
	if err := validate("CheckFraudHeaders", c.sandboxOnly); err != nil {
		return nil, err
	}
	var out FraudHeadersValidation
	r := &request{op: "CheckFraudHeaders", path: []string{"test", "fraud-prevention-headers", "validate"}, auth: c.testAPIAuth()}
	if _, err := c.get(ctx, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// FraudHeadersFeedback asks HMRC's Test Fraud Prevention Headers API for
// feedback on the latest request the application made to each endpoint of
// api in the sandbox (GET
// /test/fraud-prevention-headers/{api}/validation-feedback), such as
// FraudHeadersAPIVAT. A non-empty method filters on the connection method.
// Tokens are chosen as for CheckFraudHeaders.
func (c *Client) FraudHeadersFeedback(ctx context.Context, api string, method ConnectionMethod, opts ...CallOption) (*FraudHeadersFeedback, error) {
	check := func(p *problems) {
		if api == "" || url.PathEscape(api) != api {
			p.add("api", "INVALID_REQUEST", "api must be an API name such as %q, got %q", FraudHeadersAPIVAT, truncate(api, 40))
		}
		if method != "" && !method.Valid() {
			p.add("connectionMethod", "INVALID_REQUEST", "unknown connection method %q", truncate(string(method), 40))
		}
	}
	if err := validate("FraudHeadersFeedback", c.sandboxOnly, check); err != nil {
		return nil, err
	}
	var q *feedbackQuery
	if method != "" {
		q = &feedbackQuery{ConnectionMethod: method}
	}
	var out FraudHeadersFeedback
	r := &request{op: "FraudHeadersFeedback", path: []string{"test", "fraud-prevention-headers", api, "validation-feedback"}, query: q, auth: c.testAPIAuth()}
	if _, err := c.get(ctx, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

type feedbackQuery struct {
	ConnectionMethod ConnectionMethod `url:"connectionMethod"`
}

// testAPIAuth picks the token for HMRC's test support APIs: the
// application's when configured, else the user's.
func (c *Client) testAPIAuth() authKind {
	if c.cfg.appTokens != nil || c.cfg.tokens == nil {
		return authApp
	}
	return authUser
}

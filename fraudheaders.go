package vat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/go-mtd/vat/fraud"
)

// This file is the seam between the Client and package fraud, which models,
// encodes, validates and collects HMRC's fraud prevention headers for any
// HMRC API: the options that give the Client its headers, the pipeline stage
// that sets them on each request, and the calls of HMRC's Test Fraud
// Prevention Headers API.

// numFraudHeaders is the number of fraud prevention headers, for sizing a
// request's header map.
const numFraudHeaders = fraud.NumHeaders

// WithFraudHeaders sets the source of the fraud prevention headers
// (Gov-Client-*, Gov-Vendor-*) that HMRC requires by law on every call. The
// Client asks it for headers immediately before each request (and retry),
// checks them against the required set of their connection method, and
// refuses to send a request whose headers are incomplete or malformed. A
// per-call WithCallFraudHeaders overrides it, for web applications whose
// headers describe each end user's request. NewClient refuses a Client for
// Production with neither this nor WithPerCallFraudHeaders.
//
// Package fraud provides the sources: fraud.NewDeviceCollector for
// applications on the user's device, fraud.NewServerCollector for requests
// that pass through your servers, and fraud.Static for fixed headers.
func WithFraudHeaders(src fraud.Source) Option {
	return func(c *config) error {
		if src == nil {
			return errors.New("vat: WithFraudHeaders: nil fraud.Source")
		}
		c.fraud = src
		return nil
	}
}

// WithPerCallFraudHeaders declares that every call brings its own fraud
// prevention headers with WithCallFraudHeaders, as web applications do
// (their headers describe each end user's request), so that a Production
// Client needs no Client-wide source (WithFraudHeaders). A call that brings
// none is refused before sending, with an error matching fraud.ErrNoHeaders.
func WithPerCallFraudHeaders() Option {
	return func(c *config) error {
		c.fraudPerCall = true
		return nil
	}
}

// WithCallFraudHeaders sends this call with the fraud prevention headers of
// src instead of the Client's (see WithFraudHeaders). Web applications build
// one source per end-user request, for example with
// fraud.ServerCollector.Source.
func WithCallFraudHeaders(src fraud.Source) CallOption {
	return func(cc *callConfig) error {
		if src == nil {
			return errors.New("vat: WithCallFraudHeaders: nil fraud.Source")
		}
		cc.fraud = src
		return nil
	}
}

// fraudHeaders collects the fraud prevention headers for one attempt and
// sets them on h. A source that implements fraud.HeaderWriter writes its
// pre-encoded headers directly. Errors name headers, never their values.
func (c *Client) fraudHeaders(ctx context.Context, r *request, h http.Header, cc *callConfig) error {
	src := cc.fraud
	if src == nil {
		src = c.cfg.fraud
	}
	if src == nil {
		if c.cfg.env == Production {
			return fmt.Errorf("vat: %s: %w: HMRC requires them on every call in production; pass WithCallFraudHeaders, or configure a source with WithFraudHeaders", r.op, fraud.ErrNoHeaders)
		}
		return nil
	}
	if w, ok := src.(fraud.HeaderWriter); ok {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("vat: %s: collecting fraud prevention headers: %w", r.op, err)
		}
		if err := w.WriteFraudHeaders(ctx, h); err != nil {
			return fmt.Errorf("vat: %s: fraud prevention headers not sent: %w", r.op, err)
		}
		return nil
	}
	fh, err := src.FraudHeaders(ctx)
	if err != nil {
		return fmt.Errorf("vat: %s: collecting fraud prevention headers: %w", r.op, err)
	}
	if fh == nil {
		return fmt.Errorf("vat: %s: the fraud prevention header source returned nothing", r.op)
	}
	if err := fh.WriteTo(h); err != nil {
		return fmt.Errorf("vat: %s: fraud prevention headers not sent: %w", r.op, err)
	}
	return nil
}

// FraudHeadersAPIVAT is the {api} of HMRC's Test Fraud Prevention Headers
// API for the VAT (MTD) API.
const FraudHeadersAPIVAT = "vat-mtd"

// CheckFraudHeaders sends this Client's fraud prevention headers (or those
// of WithCallFraudHeaders) to HMRC's Test Fraud Prevention Headers API (GET
// /test/fraud-prevention-headers/validate, sandbox only) and returns HMRC's
// verdict on them. fraud.Validate gives the same answer offline, with the
// findings of HMRC's production review added.
//
// HMRC documents the API as application-restricted: the Client uses its
// WithApplicationTokenSource tokens, or its user tokens when it has no
// application source (HMRC's validator has been seen to accept only one
// kind at times). The application must be subscribed to the API on HMRC's
// Developer Hub (else 403 ErrResourceForbidden).
func (c *Client) CheckFraudHeaders(ctx context.Context, opts ...CallOption) (*fraud.Validation, error) {
	if err := validate("CheckFraudHeaders", c.sandboxOnly); err != nil {
		return nil, err
	}
	var out fraud.Validation
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
func (c *Client) FraudHeadersFeedback(ctx context.Context, api string, method fraud.ConnectionMethod, opts ...CallOption) (*fraud.Feedback, error) {
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
	var out fraud.Feedback
	r := &request{op: "FraudHeadersFeedback", path: []string{"test", "fraud-prevention-headers", api, "validation-feedback"}, query: q, auth: c.testAPIAuth()}
	if _, err := c.get(ctx, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

type feedbackQuery struct {
	ConnectionMethod fraud.ConnectionMethod `url:"connectionMethod"`
}

// testAPIAuth picks the token for HMRC's test support APIs: the
// application's when configured, else the user's.
func (c *Client) testAPIAuth() authKind {
	if c.cfg.appTokens != nil || c.cfg.tokens == nil {
		return authApp
	}
	return authUser
}

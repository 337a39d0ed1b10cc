// Package vat is a client for HMRC's VAT (Making Tax Digital) API: it reads
// VAT obligations, submits nine-box VAT returns, and reads returns,
// liabilities, payments, penalties, financial details and customer
// information, for businesses and for agents acting for them.
//
// # Getting started
//
// Create one Client and share it. Point it at HMRC's Sandbox (the default) or
// Production, give it a source of OAuth 2.0 access tokens and, in
// Production, the fraud prevention headers HMRC requires by law on every
// call:
//
//	c, err := vat.NewClient(
//		vat.WithEnvironment(vat.Production),
//		vat.WithTokenSource(tokens),  // from HMRC's sign-in, see the OAuth helpers
//		vat.WithFraudHeaders(device), // see "Fraud prevention headers"
//		vat.WithUserAgent("AcmeBooks/2.1"),
//	)
//	if err != nil {
//		return err // a set-up on which every call would fail is refused here
//	}
//	obligations, err := c.Obligations(ctx, "123456789", vat.ObligationsQuery{Status: vat.ObligationOpen})
//
// Web applications, whose headers describe each end user's request, say
// WithPerCallFraudHeaders instead and pass WithCallFraudHeaders on each call.
//
// # Exact values
//
// Money is held in pence (Money) or whole pounds (Pounds) and read and
// written from the JSON number's text, never through float64. VRN,
// PeriodKey and Date have parse functions that apply HMRC's own formats, and
// every endpoint checks its input the way HMRC does before sending anything:
// bad input returns a *ValidationError that lists every problem, with HMRC's
// error code and the field's path.
//
// # Errors
//
// HMRC's error answers become *APIError, whatever shape the body has: a
// simple {code, message}, a wrapper whose real codes are nested in errors[],
// the legacy {"statusCode":400,"message":"CODE"} form, an empty body (View
// VAT Return's 404), or a gateway's HTML page. Match them with errors.Is and
// the Err… sentinels, which look at nested codes too:
//
//	if errors.Is(err, vat.ErrDuplicateSubmission) { … }
//
// Error strings are one line and never contain tokens, secrets or fraud
// prevention header values.
//
// # Requests
//
// Every call goes through one pipeline: each path segment is escaped (period
// key "#001" becomes "%23001"), the Accept header selects version 1.0 of the
// API, the bearer token and User-Agent are attached, the whole response body
// is read through a 1 MiB cap so connections are reused, and the
// X-CorrelationId header is kept on results and errors. When HMRC answers
// 401 INVALID_CREDENTIALS and the token source can refresh
// (RefreshingTokenSource), the token is refreshed once and the request
// replayed: HMRC did not process a request it refused to authenticate.
// Reads are retried on 429, 5xx and connection failures (WithRetry), all
// requests are paced at HMRC's 3 per second (WithRateLimiter), and the
// fraud prevention headers of WithFraudHeaders are collected for every
// attempt.
//
// # Signing in
//
// NewOAuthConfig, SignIn (desktop and command-line apps) and AuthRequest
// (web apps) run HMRC's authorization-code flow with PKCE. UserTokenSource
// keeps a user's single-use refresh token in a TokenStore (FileStore,
// MemoryStore), refreshing once for any number of concurrent callers and
// saving before use; ApplicationTokenSource serves HMRC's
// application-restricted APIs.
//
// # Fraud prevention headers
//
// Package fraud (github.com/go-mtd/vat/fraud) models, collects and checks
// HMRC's Gov-Client-* and Gov-Vendor-* headers for any HMRC API. Give the
// Client a fraud.Source with WithFraudHeaders (fraud.NewDeviceCollector for
// applications on the user's device) or per call with WithCallFraudHeaders
// (fraud.ServerCollector for requests that pass through your servers). The
// Client checks the headers before every request and refuses to send
// incomplete ones; CheckFraudHeaders and FraudHeadersFeedback ask HMRC's Test
// Fraud Prevention Headers API for its verdict.
//
// # Submissions
//
// SubmitReturn never sends a return twice blindly: an uncertain outcome is
// settled by reading the return back (Receipt.Recovered), or reported as an
// *UncertainSubmissionError. CheckSubmission checks later.
//
// # Testing
//
// Package vattest is an offline, stateful simulator of HMRC for tests;
// vattest.NewTestClient gives a Client wired to it with no rate limit.
//
// # The packages
//
//	vat (this package)  Client, endpoints, OAuth, errors, retries, limiter
//	  └─ fraud          fraud prevention headers, for any HMRC API
//	vattest             the simulator; cmd/vat-sandbox serves it to any language
//	pgstore, redislimit tokens in PostgreSQL and the rate shared through Redis
//	agentsync           an agent's planner for thousands of clients
//	cmd/vat             the command-line filer
//
// ARCHITECTURE.md in the repository draws the request pipeline and says
// where a new endpoint, a new fraud header rule or a new simulator
// behaviour goes.
package vat

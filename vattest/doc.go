// Package vattest is an offline, stateful simulator of HMRC's VAT (Making
// Tax Digital) API, in the style of net/http/httptest: start one with
// [NewServer] (or [NewTestServer] in a test), point a client at its URL,
// and Close it when done.
//
//	srv := vattest.NewServer()
//	defer srv.Close()
//	user, _ := srv.CreateOrganisation(vattest.Organisation{})
//	tok, _ := srv.IssueToken(user.VRN)
//	// GET srv.URL+"/organisations/vat/"+user.VRN+"/obligations?status=O"
//	// with Accept: application/vnd.hmrc.1.0+json and Authorization: Bearer tok.AccessToken
//
// Tests of code that uses package vat want [NewTestClient] (or
// [Server.NewClient]): a *vat.Client wired to the server and signed in as a
// test business, with no rate limit on either side.
//
// It speaks raw HTTP, exactly as HMRC's live service does where that differs
// from HMRC's published OpenAPI: the same statuses, headers and bodies,
// including the legacy {"statusCode":400,"message":…} bodies of query
// validation, the wrapped INVALID_REQUEST and BUSINESS_ERROR bodies, and the
// empty-bodied 404 of View VAT Return. Unlike HMRC's sandbox it keeps state:
// a submitted return is stored and can be viewed, it fulfils its obligation,
// raises a liability, and a second submission for the period is a
// DUPLICATE_SUBMISSION.
//
// # What it serves
//
// One server plays both of HMRC's hosts:
//
//   - the VAT (MTD) API under /organisations/vat/{vrn}/: obligations, returns
//     (submit and view), liabilities, payments, penalties,
//     financial-details/{chargeReference} and information, with every
//     Gov-Test-Scenario HMRC documents;
//   - OAuth 2.0: GET and POST /oauth/authorize (a sign-in page for test
//     users) and POST /oauth/token (authorization_code with PKCE,
//     refresh_token, client_credentials);
//   - the Create Test User API under /create-test-user/;
//   - Check a UK VAT number (version 2.0: Accept
//     application/vnd.hmrc.2.0+json, a token with read:vat) under
//     /organisations/vat/check-vat-number/lookup/, answering for the
//     server's organisations, HMRC's example 553557881 and HMRC's sandbox
//     test numbers;
//   - the Test Fraud Prevention Headers API under
//     /test/fraud-prevention-headers/, answered by package fraud's
//     validator ([HMRCFraudHeaderValidator], or [WithFraudHeaderValidator]).
//
// # Order of checks
//
// Every API request meets the platform's checks first, in this order:
// method (405 METHOD_NOT_ALLOWED for a method other than GET, PUT, POST,
// PATCH, DELETE and OPTIONS); Accept, which must be exactly
// application/vnd.hmrc.1.0+json (406 ACCEPT_HEADER_INVALID); the resource
// (404 MATCHING_RESOURCE_NOT_FOUND for an unknown path or a known path with
// another standard method, as HMRC answers a PUT to …/returns); the bearer
// token (401 MISSING_CREDENTIALS, or INVALID_CREDENTIALS for an unknown,
// revoked or expired token); the rate limit (429 MESSAGE_THROTTLED_OUT); the
// token type (401 INCORRECT_ACCESS_TOKEN_TYPE for an application token on the
// user-restricted VAT API; application-restricted APIs accept either type);
// the scope (403 INVALID_SCOPE: read:vat for GETs, write:vat for POST
// returns). HMRC does not document the order of these platform checks; this
// is the order the simulator chose.
//
// Then the VAT service checks, in vat-api's order: for POST …/returns the
// body (415 for a Content-Type other than application/json or text/json, 413
// over 100 KiB, 400 {"statusCode":400,"message":"Invalid Json"}), since Play
// parses it before the controller runs; the VRN (400 VRN_INVALID); the
// enrolment (403 CLIENT_OR_AGENT_NOT_AUTHORISED, message with a full stop);
// none of these carry X-CorrelationId. Every later answer carries
// X-CorrelationId and X-Content-Type-Options (and, for POST …/returns,
// Receipt-ID and Receipt-Timestamp; Receipt-Signature on 201 only): the
// endpoint's validation, in vat-api's levels; then Gov-Test-Scenario; then
// the stateful answer.
//
// # Stateful behaviour
//
// "Today" is the UTC date of the server's clock ([WithClock],
// [Server.SetNow], [Server.Advance]). Without a Gov-Test-Scenario header:
//
//   - obligations are the organisation's, filtered by status and by date
//     (an obligation is included when its period overlaps from–to), oldest
//     first; 404 NOT_FOUND when none match;
//   - a return for one of the organisation's period keys is accepted once
//     (403 DUPLICATE_SUBMISSION), and only for a period that ended
//     before today (403 TAX_PERIOD_NOT_ENDED); it fulfils the obligation
//     (received today) and, when VAT is payable, raises a liability ("VAT
//     Return Debit Charge", due on the obligation's due date) whose charge
//     reference is the response's chargeRefNumber;
//   - a return for any other well-formed period key is stored once and can
//     be viewed, as in HMRC's sandbox, which does not require the period
//     keys of the obligations; it fulfils nothing and raises no liability.
//     With [WithObligationBoundReturns] such a return is refused with 400
//     PERIOD_KEY_INVALID, as HMRC's live service answers an unknown key;
//   - liabilities and payments include items whose period's end falls
//     between from and to; [Server.RecordPayment] records a payment;
//   - penalties answer HMRC's DEFAULT scenario, which HMRC documents as the
//     default; financial details answer the liability of a charge reference
//     from a submission, HMRC's DEFAULT example for the charge references in
//     the DEFAULT penalties, and 404 MATCHING_RESOURCE_NOT_FOUND otherwise;
//   - information reports the organisation's registration date and flat
//     rate scheme.
//
// Scenario data is HMRC's where HMRC publishes it (OpenAPI examples; see
// data/README.md). Like HMRC's sandbox, obligation scenarios ignore the
// query's dates and status, and liability and payment scenarios return data
// only for exactly the dates HMRC documents (404 otherwise). An unknown
// Gov-Test-Scenario value is 400 RULE_INCORRECT_GOV_TEST_SCENARIO on every
// endpoint (for penalties, financial details and information, vat-api's
// code suggests the live sandbox may answer 500 instead; that is
// unconfirmed, so the simulator answers what vat-api's controllers map).
//
// # Simulator extensions
//
// Beyond what HMRC offers:
//
//   - GET /oauth/authorize also accepts the sign-in form's fields (user_id
//     and password, or action=deny) and then redirects at once, so an HTTP
//     client that follows redirects completes sign-in without a browser;
//   - an application's redirect URI http://localhost/path (no port) matches
//     that path on any port (RFC 8252 §7.3);
//   - the out-of-band redirect URIs show the code on a page;
//   - [Fault] injection, the request log ([Server.Requests]) and submission
//     counts ([Server.Submissions]);
//   - [WithFraudHeaderEnforcement] rejects VAT calls with invalid fraud
//     prevention headers;
//   - [Organisation].Insolvent;
//   - a control API under /_sandbox/ ([ControlPrefix]) for programs in any
//     language: health, test businesses with a filing pattern, the clock,
//     faults, payments, the request log with secrets redacted, state dump,
//     load and reset. It answers loopback peers, and others only with
//     [WithControlToken]; its requests meet no fault or rate limit and are
//     not recorded. The same operations are methods: [Server.CreateBusiness],
//     [Server.SetNow], [Server.Advance], [Server.InjectFault],
//     [Server.RecordPayment], [Server.RedactedRequests], [Server.State],
//     [Server.LoadState] and [Server.Reset];
//   - [WithSeed] for the same identifiers and credentials on every start.
//
// Access tokens last four hours, authorization codes ten minutes and are
// single use, refresh tokens are single use (refreshing revokes the previous
// access token) and the authority they carry lasts 18 months, all on the
// server's clock.
package vattest

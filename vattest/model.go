package vattest

import (
	"net/http"
	"time"

	"golang.org/x/oauth2"
)

// Application is an OAuth 2.0 client registered with the server, like an
// application on HMRC's Developer Hub. Its client ID and secret are sent in
// the body of POST /oauth/token; its redirect URIs are the only ones
// GET /oauth/authorize accepts.
type Application struct {
	// ClientID identifies the application in authorize and token requests.
	ClientID string
	// ClientSecret is the application's secret, sent in the body of
	// POST /oauth/token.
	ClientSecret string
	// RedirectURIs are compared exactly with the redirect_uri of a request,
	// except that a registered "http://localhost/path" (no port) matches that
	// path on any localhost port, as RFC 8252 §7.3 asks for native apps.
	RedirectURIs []string
}

// Period is the length of an organisation's VAT periods.
type Period int

const (
	// Quarterly periods follow calendar quarters (January–March, …).
	Quarterly Period = iota + 1
	// Monthly periods follow calendar months.
	Monthly
	// Annually periods follow calendar years (the Annual Accounting Scheme).
	Annually
)

// Plan describes obligations generated relative to the server's clock: the
// current period (open, not yet ended) and, before it, Open periods that have
// ended but are still open (ready to submit), and before those Fulfilled
// periods already marked fulfilled. Periods that would start before the
// organisation's registration date are left out.
type Plan struct {
	// Period is the length of the periods; Quarterly when zero.
	Period Period
	// Fulfilled is how many ended periods, before the Open ones, are
	// already fulfilled.
	Fulfilled int
	// Open is how many ended periods, before the current one, are open
	// (ready to submit).
	Open int
}

// Obligation is one VAT period of an organisation, as the obligations
// endpoint reports it. Dates are "YYYY-MM-DD".
type Obligation struct {
	// PeriodKey is four characters of [#0-9A-Z], e.g. "24A1" or "#001".
	PeriodKey string
	// Start is the first day of the period.
	Start string
	// End is the last day of the period.
	End string
	// Due defaults to seven days after the end of the month that follows End.
	Due string
	// Received is set for a fulfilled obligation (status F); "" means open.
	Received string
}

// FlatRateScheme is an organisation's VAT Flat Rate Scheme membership, as the
// customer information endpoint reports it.
type FlatRateScheme struct {
	// Category is the flat rate category, "001" to "055" or "999".
	Category string
	// StartDate is when the business joined the scheme, YYYY-MM-DD.
	StartDate string
}

// Organisation seeds a VAT-registered business. The zero value is valid for
// [Server.CreateOrganisation]: a generated VRN, a registration date, and
// quarterly obligations with one fulfilled and one open ended period before
// the current one.
type Organisation struct {
	// VRN is the nine-digit VAT registration number. CreateOrganisation
	// generates a check-digit-valid one when it is empty; WithOrganisation
	// requires it.
	VRN string
	// RegistrationDate is the effective VAT registration date, YYYY-MM-DD;
	// when empty it is 1 to 20 years before today, as HMRC's test users get.
	RegistrationDate string
	// Plan generates obligations relative to the clock when Obligations is nil;
	// nil means Plan{Period: Quarterly, Fulfilled: 1, Open: 1}.
	Plan *Plan
	// Obligations, when non-nil, are the organisation's obligations verbatim.
	Obligations []Obligation
	// DirectDebit makes a submission with VAT to pay answer paymentIndicator "DD".
	DirectDebit bool
	// RepaymentBankAccount makes a repayment submission answer paymentIndicator "BANK".
	RepaymentBankAccount bool
	// FlatRateScheme, when set, appears in the customer information.
	FlatRateScheme *FlatRateScheme
	// Insolvent makes the endpoints that HMRC maps it for answer
	// 403 RULE_INSOLVENT_TRADER (obligations, returns, liabilities, payments)
	// and the others answer 500 INTERNAL_SERVER_ERROR.
	Insolvent bool
}

// TestUser is a Government Gateway test user, as the Create Test User API
// returns it. Sign in with UserID and Password at /oauth/authorize.
type TestUser struct {
	// UserID is the Government Gateway user ID to sign in with.
	UserID string
	// Password is the user's password, to sign in with.
	Password string
	// UserFullName is the user's name, as the Create Test User API gives it.
	UserFullName string
	// EmailAddress is the user's email address.
	EmailAddress string
	// Kind is "organisation", "individual" or "agent".
	Kind string
	// VRN is set for users enrolled for MTD VAT: their VAT registration
	// number.
	VRN string
	// VATRegistrationDate is set with VRN: the effective registration
	// date, YYYY-MM-DD.
	VATRegistrationDate string
	// AgentServicesAccountNumber is set for agents.
	AgentServicesAccountNumber string
}

// Token is an access token issued by the server, with the refresh token of
// its grant (empty for application tokens).
type Token struct {
	// AccessToken is the bearer token to send in the Authorization header.
	AccessToken string
	// RefreshToken is the single-use refresh token of the grant; empty for
	// application tokens.
	RefreshToken string
	// Expiry is when the access token expires, on the server's clock.
	Expiry time.Time
	// Scope lists the granted scopes, space-separated.
	Scope string
}

// OAuth2 returns the token as an *oauth2.Token, for oauth2.StaticTokenSource
// or an oauth2.Config's TokenSource.
func (t Token) OAuth2() *oauth2.Token {
	return &oauth2.Token{AccessToken: t.AccessToken, TokenType: "bearer", RefreshToken: t.RefreshToken, Expiry: t.Expiry}
}

// Request is one request the server received.
type Request struct {
	// Time is when the request arrived, on the server's clock.
	Time time.Time
	// Method is the HTTP method.
	Method string
	// Path is the escaped path, e.g. /organisations/vat/123456789/returns/%23001.
	Path string
	// RawQuery is the query string, without the "?".
	RawQuery string
	// Header holds the request's Accept, Content-Type, Gov-Test-Scenario and
	// User-Agent headers. Authorization is never recorded.
	Header http.Header
	// FraudHeaders holds the Gov-Client-* and Gov-Vendor-* headers. They are
	// personal data: FraudHeaders prints as a count, never as values.
	FraudHeaders FraudHeaders
	// ClientID is the application of the request's access token, if valid.
	ClientID string
	// Status is the status code answered; 0 when the connection was dropped.
	Status int
}

// FraudHeaders are the fraud prevention headers of a request. Read them with
// Get or Values; printing them with fmt shows only how many there are.
type FraudHeaders http.Header

// Get returns the first value of the named header.
func (f FraudHeaders) Get(name string) string { return http.Header(f).Get(name) }

// Values returns all values of the named header.
func (f FraudHeaders) Values(name string) []string { return http.Header(f).Values(name) }

// Len returns how many distinct fraud prevention headers there are.
func (f FraudHeaders) Len() int { return len(f) }

// String reports the number of headers, never their values.
func (f FraudHeaders) String() string {
	if len(f) == 1 {
		return "[1 fraud prevention header]"
	}
	return "[" + itoa(len(f)) + " fraud prevention headers]"
}

// GoString is String, so that %#v does not print values either.
func (f FraudHeaders) GoString() string { return f.String() }

// SubmissionCounts counts the POST …/returns requests for one VRN.
type SubmissionCounts struct {
	// Received counts every request received, whatever its outcome, including
	// requests answered by an injected fault.
	Received int
	// Accepted counts the returns stored (answered 201, or processed by a
	// fault that drops or replaces the response).
	Accepted int
}

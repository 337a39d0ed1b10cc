package vat

import "fmt"

// Environment selects which HMRC platform a Client talks to: HMRC's Sandbox
// (test data, test users, Gov-Test-Scenario support) or Production (real
// taxpayers). Credentials issued for one environment do not work in the other.
type Environment int

const (
	// Sandbox is HMRC's test platform: API host test-api.service.hmrc.gov.uk,
	// sign-in host test-www.tax.service.gov.uk.
	Sandbox Environment = iota + 1
	// Production is HMRC's live platform: API host api.service.hmrc.gov.uk,
	// sign-in host www.tax.service.gov.uk.
	Production
)

// String returns "sandbox" or "production".
func (e Environment) String() string {
	switch e {
	case Sandbox:
		return "sandbox"
	case Production:
		return "production"
	}
	return fmt.Sprintf("Environment(%d)", int(e))
}

// Valid reports whether e is Sandbox or Production.
func (e Environment) Valid() bool { return e == Sandbox || e == Production }

// APIBaseURL is the base URL of HMRC's APIs in e, without a trailing slash,
// for example "https://test-api.service.hmrc.gov.uk". It is "" for an invalid e.
func (e Environment) APIBaseURL() string {
	switch e {
	case Sandbox:
		return "https://test-api.service.hmrc.gov.uk"
	case Production:
		return "https://api.service.hmrc.gov.uk"
	}
	return ""
}

// AuthorizeURL is the browser sign-in endpoint of HMRC's OAuth 2.0
// authorization-code flow in e. It is on the www host, not the API host.
func (e Environment) AuthorizeURL() string {
	switch e {
	case Sandbox:
		return "https://test-www.tax.service.gov.uk/oauth/authorize"
	case Production:
		return "https://www.tax.service.gov.uk/oauth/authorize"
	}
	return ""
}

// TokenURL is HMRC's OAuth 2.0 token endpoint in e, used for the
// authorization_code, refresh_token and client_credentials grants.
func (e Environment) TokenURL() string {
	if b := e.APIBaseURL(); b != "" {
		return b + "/oauth/token"
	}
	return ""
}

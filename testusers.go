package vat

import (
	"context"
	"fmt"
	"net/http"
)

// Service names of HMRC's Create Test User API that matter for VAT.
const (
	// ServiceMTDVAT enrols a test organisation or individual for Making Tax
	// Digital for VAT, with a VRN and a VAT registration date.
	ServiceMTDVAT = "mtd-vat"
	// ServiceAgentServices makes a test agent with an Agent Services account.
	ServiceAgentServices = "agent-services"
)

// TestUserRequest describes a test user to create in HMRC's sandbox.
type TestUserRequest struct {
	// ServiceNames lists the services to enrol the user for. Nil means the
	// VAT default: mtd-vat for organisations and individuals,
	// agent-services for agents. An empty, non-nil slice means none.
	ServiceNames []string `json:"serviceNames"`
	// EORINumber, ExciseNumber, NINO, TaxpayerType and Pillar2ID set
	// identifiers instead of letting HMRC generate them; leave them empty
	// otherwise.
	EORINumber   string `json:"eoriNumber,omitempty"`
	ExciseNumber string `json:"exciseNumber,omitempty"`
	NINO         string `json:"nino,omitempty"`
	TaxpayerType string `json:"taxpayerType,omitempty"` // HMRC's service reads "taxpayerType", whatever its schema says
	Pillar2ID    string `json:"pillar2Id,omitempty"`
}

// TestAddress is a test user's address.
type TestAddress struct {
	Line1    string `json:"line1"`
	Line2    string `json:"line2,omitempty"`
	Postcode string `json:"postcode,omitempty"`
}

// TestOrganisationDetails is a test organisation's name and address.
type TestOrganisationDetails struct {
	Name    string      `json:"name"`
	Address TestAddress `json:"address"`
}

// TestIndividualDetails is a test individual's name, birth date and address.
type TestIndividualDetails struct {
	FirstName   string      `json:"firstName"`
	LastName    string      `json:"lastName"`
	DateOfBirth Date        `json:"dateOfBirth,omitzero"`
	Address     TestAddress `json:"address"`
}

// TestUser is a user created by HMRC's Create Test User API: the
// Government Gateway credentials to sign in with, and the identifiers of the
// services it is enrolled for. Its String method leaves out the password.
type TestUser struct {
	// UserID and Password sign the user in to HMRC's sandbox.
	UserID   string `json:"userId"`
	Password string `json:"password"`
	// UserFullName and EmailAddress are generated.
	UserFullName string `json:"userFullName"`
	EmailAddress string `json:"emailAddress"`
	// OrganisationDetails is set for organisations.
	OrganisationDetails *TestOrganisationDetails `json:"organisationDetails,omitempty"`
	// IndividualDetails is set for individuals (and some organisations).
	IndividualDetails *TestIndividualDetails `json:"individualDetails,omitempty"`
	// VRN and VATRegistrationDate are set when enrolled for mtd-vat.
	VRN                 VRN  `json:"vrn,omitempty"`
	VATRegistrationDate Date `json:"vatRegistrationDate,omitzero"`
	// AgentServicesAccountNumber is set for agents.
	AgentServicesAccountNumber string `json:"agentServicesAccountNumber,omitempty"`
	// Identifiers of other services.
	SAUTR                                   string `json:"saUtr,omitempty"`
	NINO                                    string `json:"nino,omitempty"`
	MTDITID                                 string `json:"mtdItId,omitempty"`
	EmpRef                                  string `json:"empRef,omitempty"`
	CTUTR                                   string `json:"ctUtr,omitempty"`
	LISAManagerReferenceNumber              string `json:"lisaManagerReferenceNumber,omitempty"`
	SecureElectronicTransferReferenceNumber string `json:"secureElectronicTransferReferenceNumber,omitempty"`
	PensionSchemeAdministratorIdentifier    string `json:"pensionSchemeAdministratorIdentifier,omitempty"`
	EORINumber                              string `json:"eoriNumber,omitempty"`
	ExciseNumber                            string `json:"exciseNumber,omitempty"`
	CRN                                     string `json:"crn,omitempty"`
	TaxpayerType                            string `json:"taxPayerType,omitempty"`
	Pillar2ID                               string `json:"pillar2Id,omitempty"`
	GroupIdentifier                         string `json:"groupIdentifier,omitempty"`
}

// String describes u without its password.
func (u TestUser) String() string {
	s := "test user " + u.UserID
	if u.VRN != "" {
		s += " (VRN " + string(u.VRN) + ")"
	}
	if u.AgentServicesAccountNumber != "" {
		s += " (ARN " + u.AgentServicesAccountNumber + ")"
	}
	return s
}

// TestService is a service the Create Test User API can enrol users for.
type TestService struct {
	// Key is the service name to use in TestUserRequest.ServiceNames.
	Key string `json:"key"`
	// Name is its description.
	Name string `json:"name"`
	// AllowedUserTypes lists INDIVIDUAL, ORGANISATION and/or AGENT.
	AllowedUserTypes []string `json:"allowedUserTypes"`
}

// Errors of the Create Test User API.
var (
	// ErrNINOAlreadyUsed (400 NINO_ALREADY_USED): the NINO asked for is taken.
	ErrNINOAlreadyUsed error = ErrorCode("NINO_ALREADY_USED")
	// ErrPillar2IDAlreadyUsed (400 PILLAR2_ID_ALREADY_USED).
	ErrPillar2IDAlreadyUsed error = ErrorCode("PILLAR2_ID_ALREADY_USED")
)

// CreateTestOrganisation creates a test organisation in HMRC's sandbox
// (POST /create-test-user/organisations, application-restricted: the
// Client needs WithApplicationTokenSource). With the default request it is
// enrolled for Making Tax Digital for VAT: TestUser.VRN is its VRN. Create a
// fresh one for each test run.
func (c *Client) CreateTestOrganisation(ctx context.Context, req TestUserRequest, opts ...CallOption) (*TestUser, error) {
	return c.createTestUser(ctx, "CreateTestOrganisation", "organisations", req, ServiceMTDVAT, opts)
}

// CreateTestIndividual creates a test individual in HMRC's sandbox (POST
// /create-test-user/individuals, application-restricted), by default
// enrolled for Making Tax Digital for VAT.
func (c *Client) CreateTestIndividual(ctx context.Context, req TestUserRequest, opts ...CallOption) (*TestUser, error) {
	return c.createTestUser(ctx, "CreateTestIndividual", "individuals", req, ServiceMTDVAT, opts)
}

// CreateTestAgent creates a test agent in HMRC's sandbox (POST
// /create-test-user/agents, application-restricted), by default with an
// Agent Services account.
func (c *Client) CreateTestAgent(ctx context.Context, req TestUserRequest, opts ...CallOption) (*TestUser, error) {
	return c.createTestUser(ctx, "CreateTestAgent", "agents", req, ServiceAgentServices, opts)
}

// TestUserServices lists the services the Create Test User API can enrol
// users for (GET /create-test-user/services, application-restricted).
func (c *Client) TestUserServices(ctx context.Context, opts ...CallOption) ([]TestService, error) {
	if err := validate("TestUserServices", c.sandboxOnly); err != nil {
		return nil, err
	}
	var out []TestService
	_, err := c.get(ctx, &request{op: "TestUserServices", path: []string{"create-test-user", "services"}, auth: authApp}, &out, opts)
	return out, err
}

func (c *Client) createTestUser(ctx context.Context, op, kind string, req TestUserRequest, def string, opts []CallOption) (*TestUser, error) {
	if req.ServiceNames == nil {
		req.ServiceNames = []string{def}
	}
	if err := validate(op, c.sandboxOnly, req.check); err != nil {
		return nil, err
	}
	var out TestUser
	r := &request{op: op, method: http.MethodPost, path: []string{"create-test-user", kind}, body: req, auth: authApp}
	if _, err := c.do(ctx, r, &out, opts); err != nil {
		return nil, err
	}
	return &out, nil
}

// sandboxOnly refuses the sandbox's test support APIs on a production Client.
func (c *Client) sandboxOnly(p *problems) {
	if c.cfg.env == Production {
		p.add("", "SANDBOX_ONLY", "HMRC's test support APIs exist only in the sandbox, and this client is for production")
	}
}

func (req TestUserRequest) check(p *problems) {
	seen := map[string]bool{}
	for i, s := range req.ServiceNames {
		switch {
		case s == "":
			p.add(fmt.Sprintf("/serviceNames/%d", i), "INVALID_REQUEST", "empty service name")
		case seen[s]:
			p.add(fmt.Sprintf("/serviceNames/%d", i), "INVALID_REQUEST", "service %q is listed twice", s)
		}
		seen[s] = true
	}
}

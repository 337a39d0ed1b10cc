package vat

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

func TestTestUserFixturesAreLossless(t *testing.T) {
	t.Parallel()
	for _, f := range []string{"create-organisation-response.json", "create-individual-response.json", "create-agent-response.json"} {
		t.Run(f, func(t *testing.T) { assertLossless(t, readFixture(t, "hmrc/test-user/"+f), new(TestUser)) })
	}
	var org TestUser
	require.NoError(t, json.Unmarshal(readFixture(t, "hmrc/test-user/create-organisation-response.json"), &org))
	assert.Equal(t, VRN("666119668"), org.VRN)
	assert.Equal(t, date(t, "2001-11-02"), org.VATRegistrationDate)
	assert.Equal(t, "085603622877", org.UserID)
	assert.Equal(t, "Company ABF123", org.OrganisationDetails.Name)
	assert.Equal(t, "1 Abbey Road", org.OrganisationDetails.Address.Line1)
	assert.Equal(t, date(t, "1960-06-01"), org.IndividualDetails.DateOfBirth)
	assert.Equal(t, "Individual", org.TaxpayerType)
	assert.Equal(t, "test user 085603622877 (VRN 666119668)", org.String())
	assert.NotContains(t, fmt.Sprintf("%v %+v %s", org, org, org), org.Password, "printing a test user never shows its password")

	for _, f := range []string{"create-organisation-request.json", "create-individual-request.json", "create-agent-request.json"} {
		assertLossless(t, readFixture(t, "hmrc/test-user/"+f), new(TestUserRequest))
	}
	var services []TestService
	require.NoError(t, json.Unmarshal(readFixture(t, "hmrc/test-user/get-services-response.json"), &services))
	assert.Equal(t, []TestService{{"service1", "Service 1", []string{"INDIVIDUAL", "ORGANISATION"}}, {"service2", "Service 2", []string{"AGENT"}}}, services)
}

func TestCreateTestUsers(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "app-token"})))
	bodies := map[string]string{}
	for kind, file := range map[string]string{"organisations": "create-organisation-response.json", "individuals": "create-individual-response.json", "agents": "create-agent-response.json"} {
		resp := readFixture(t, "hmrc/test-user/"+file)
		mux.HandleFunc("POST /create-test-user/"+kind, func(w http.ResponseWriter, r *http.Request) {
			assert.Equal(t, "Bearer app-token", r.Header.Get("Authorization"), "application-restricted")
			assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
			b, _ := io.ReadAll(r.Body)
			bodies[kind] = string(b)
			if strings.Contains(string(b), "PE938808A") {
				writeJSON(w, 400, `{"code":"NINO_ALREADY_USED","message":"The nino specified has already been used"}`)
				return
			}
			w.WriteHeader(201)
			w.Write(resp)
		})
	}
	mux.HandleFunc("GET /create-test-user/services", func(w http.ResponseWriter, r *http.Request) {
		w.Write(readFixture(t, "hmrc/test-user/get-services-response.json"))
	})
	ctx := context.Background()
	org, err := c.CreateTestOrganisation(ctx, TestUserRequest{})
	require.NoError(t, err)
	assert.Equal(t, VRN("666119668"), org.VRN)
	assert.Equal(t, `{"serviceNames":["mtd-vat"]}`, bodies["organisations"], "a VAT organisation by default")

	ind, err := c.CreateTestIndividual(ctx, TestUserRequest{ServiceNames: []string{ServiceMTDVAT, "self-assessment"}})
	require.NoError(t, err)
	assert.Equal(t, "PE938808A", ind.NINO)
	assert.Equal(t, `{"serviceNames":["mtd-vat","self-assessment"]}`, bodies["individuals"])

	agent, err := c.CreateTestAgent(ctx, TestUserRequest{})
	require.NoError(t, err)
	assert.Equal(t, "NARN0396245", agent.AgentServicesAccountNumber)
	assert.Equal(t, `{"serviceNames":["agent-services"]}`, bodies["agents"])

	_, err = c.CreateTestOrganisation(ctx, TestUserRequest{ServiceNames: []string{}, TaxpayerType: "Individual"})
	require.NoError(t, err)
	assert.Equal(t, `{"serviceNames":[],"taxpayerType":"Individual"}`, bodies["organisations"], "an empty list means no services; taxpayerType as the service spells it")

	_, err = c.CreateTestIndividual(ctx, TestUserRequest{NINO: "PE938808A"})
	assert.ErrorIs(t, err, ErrNINOAlreadyUsed)

	services, err := c.TestUserServices(ctx)
	require.NoError(t, err)
	assert.Len(t, services, 2)
}

func TestTestUsersBadInput(t *testing.T) {
	t.Parallel()
	c, mux := setup(t, WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "a"})))
	var n atomic.Int32
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	_, err := c.CreateTestOrganisation(context.Background(), TestUserRequest{ServiceNames: []string{"mtd-vat", "mtd-vat"}})
	var ve *ValidationError
	require.ErrorAs(t, err, &ve)
	assert.Equal(t, "/serviceNames/1", ve.Problems[0].Path)
	_, err = c.CreateTestAgent(context.Background(), TestUserRequest{ServiceNames: []string{""}})
	assert.Error(t, err)

	prod, err := NewClient(WithEnvironment(Production), WithPerCallFraudHeaders(), WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "a"})))
	require.NoError(t, err)
	_, err = prod.CreateTestOrganisation(context.Background(), TestUserRequest{})
	assert.ErrorContains(t, err, "only in the sandbox")
	_, err = prod.TestUserServices(context.Background())
	assert.ErrorContains(t, err, "only in the sandbox")

	noApp, mux2 := setup(t)
	mux2.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { n.Add(1) })
	_, err = noApp.CreateTestOrganisation(context.Background(), TestUserRequest{})
	assert.ErrorContains(t, err, "WithApplicationTokenSource")
	assert.Zero(t, n.Load())
}

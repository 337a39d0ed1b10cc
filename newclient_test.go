package vat

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/go-mtd/vat/fraud"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/oauth2"
)

// TestNewClientRefusesAClientThatCannotWork checks that set-ups whose every
// call would fail are refused by NewClient, not at call time.
func TestNewClientRefusesAClientThatCannotWork(t *testing.T) {
	t.Parallel()
	tokens := WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}))

	_, err := NewClient()
	require.Error(t, err, "no token source at all")
	assert.Contains(t, err.Error(), "WithTokenSource")

	_, err = NewClient(WithEnvironment(Production), tokens)
	require.Error(t, err, "production without fraud prevention headers")
	assert.ErrorIs(t, err, fraud.ErrNoHeaders)
	assert.Contains(t, err.Error(), "WithFraudHeaders")

	// An application-restricted source alone is enough for the companion
	// APIs (Create Test User, Test Fraud Prevention Headers).
	_, err = NewClient(WithApplicationTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})))
	assert.NoError(t, err)
}

// TestPerCallFraudHeadersInProduction checks the web application's set-up:
// a production Client whose headers come with each call is accepted, and a
// call that brings none is refused before sending, matching
// fraud.ErrNoHeaders.
func TestPerCallFraudHeadersInProduction(t *testing.T) {
	t.Parallel()
	sent := false
	rt := roundTripFunc(func(*http.Request) (*http.Response, error) { sent = true; return nil, errors.New("unreachable") })
	c, err := NewClient(WithEnvironment(Production), WithHTTPClient(&http.Client{Transport: rt}),
		WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"})), WithPerCallFraudHeaders())
	require.NoError(t, err)
	_, err = c.Obligations(context.Background(), "123456789", ObligationsQuery{Status: ObligationOpen})
	require.Error(t, err)
	assert.ErrorIs(t, err, fraud.ErrNoHeaders)
	assert.False(t, sent, "nothing may leave without fraud prevention headers")
}

// TestPlainHTTPToASimulatorInAContainer checks that a simulator reached by a
// host name over plain http (http://vat-sandbox:8080) can be used when it is
// allowed explicitly, in the sandbox environment only.
func TestPlainHTTPToASimulatorInAContainer(t *testing.T) {
	t.Parallel()
	tokens := WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "x"}))

	_, err := NewClient(tokens, WithBaseURL("http://vat-sandbox:8080"))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "WithPlainHTTP")

	c, err := NewClient(tokens, WithBaseURL("http://vat-sandbox:8080"), WithPlainHTTP())
	require.NoError(t, err)
	assert.Equal(t, "http://vat-sandbox:8080/", c.BaseURL())

	// The order of the options does not matter.
	_, err = NewClient(tokens, WithPlainHTTP(), WithBaseURL("http://vat-sandbox:8080"))
	require.NoError(t, err)

	_, err = NewClient(tokens, WithEnvironment(Production), WithPerCallFraudHeaders(), WithBaseURL("http://vat-sandbox:8080"), WithPlainHTTP())
	require.Error(t, err, "never plain http in production")
	assert.Contains(t, err.Error(), "sandbox")
}

// anyTokens is a token source for Clients whose tests send nothing, or
// send to servers that accept any token.
var anyTokens = WithTokenSource(oauth2.StaticTokenSource(&oauth2.Token{AccessToken: "any-token"}))

package agentsync_test

import (
	"context"
	"fmt"
	"log"

	"golang.org/x/oauth2"

	"github.com/go-mtd/vat"
	"github.com/go-mtd/vat/agentsync"
	"github.com/go-mtd/vat/vattest"
)

// An agent's software watches a client's obligations. Here HMRC is the
// vattest simulator; the client has filed its last two returns, and its
// current period is open.
func Example() {
	srv := vattest.NewServer()
	defer srv.Close()
	agent := srv.CreateAgent()
	client, err := srv.CreateOrganisation(vattest.Organisation{Plan: &vattest.Plan{Period: vattest.Quarterly, Fulfilled: 2}})
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.AuthoriseAgent(agent.UserID, client.VRN); err != nil {
		log.Fatal(err)
	}
	tok, err := srv.IssueToken(agent.UserID, "read:vat")
	if err != nil {
		log.Fatal(err)
	}
	c, err := vat.NewClient(vat.WithBaseURL(srv.URL), vat.WithHTTPClient(srv.Client()),
		vat.WithTokenSource(oauth2.StaticTokenSource(tok.OAuth2())))
	if err != nil {
		log.Fatal(err)
	}

	p, err := agentsync.New(c, agentsync.NewMemoryStore(), agentsync.WithHandler(func(e agentsync.Event) {
		fmt.Printf("%s (initial: %t)\n", e.Kind, e.Initial)
	}))
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	if err := p.Add(ctx, vat.VRN(client.VRN)); err != nil {
		log.Fatal(err)
	}
	// A real application runs p.Run(ctx) for as long as it lives; RunDue
	// makes the fetches due now and returns.
	if _, err := p.RunDue(ctx); err != nil {
		log.Fatal(err)
	}
	// Output:
	// new obligation (initial: true)
}

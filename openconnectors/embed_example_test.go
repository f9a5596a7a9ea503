package openconnectors_test

import (
	"context"
	"fmt"
	"log"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// The Open Connectors → Compass sync wired from Go values, without the JSON
// file of ocjob: the Source's scope (its host and owner) is given to the
// Registry, and NewEngine checks that the two agree and takes the Director's
// name rule from the Registry. One Scrubber shared by both clients knows
// every secret of the run. Here both remotes are the fakes on loopback.
func Example_syncIntoCompass() {
	platform := octest.NewServer(octest.WithInstances(
		octest.Instance{ID: 1, Name: "crm-prod", Token: "Ab3+xYz/0k9=", Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce"}},
		octest.Instance{ID: 2, Name: "tickets", Token: "Qw9/Zt1+Lm=", Element: octest.Element{ID: 7, Key: "zendesk", Name: "Zendesk"}},
	))
	defer platform.Close()
	director := compasstest.NewServer()
	defer director.Close()
	ctx := context.Background()

	secrets := redact.NewScrubber()
	client, err := openconnectors.NewClient(openconnectors.Config{
		Host:               platform.URL, // e.g. api.openconnectors.us10.ext.hana.ondemand.com
		UserSecret:         redact.Secret(platform.UserSecret),
		OrganizationSecret: redact.Secret(platform.OrganizationSecret),
		Scrubber:           secrets,
	})
	if err != nil {
		log.Fatal(err)
	}
	source, err := openconnectors.NewSource(client, openconnectors.SourceOptions{ApplicationPrefix: "oc", Owner: "shard-a"})
	if err != nil {
		log.Fatal(err)
	}
	registry, err := compass.NewRegistry(compass.Config{
		DirectorURL:  director.GraphQLURL(),
		TokenURL:     director.TokenURL(),
		ClientID:     compasstest.DefaultClientID,
		ClientSecret: compasstest.DefaultClientSecret,
		Tenant:       compasstest.DefaultTenant,
		Scope:        source.Scope(),
		Scrubber:     secrets,
	})
	if err != nil {
		log.Fatal(err)
	}
	engine, err := ocsync.NewEngine(source, registry)
	if err != nil {
		log.Fatal(err)
	}
	engine.Policy = ocsync.PolicyUpsertOnly

	for range 2 {
		plan, err := engine.Plan(ctx)
		if err != nil {
			log.Fatal(err)
		}
		report, err := engine.Apply(ctx, plan)
		fmt.Println(report.Summary, err)
	}
	// Output:
	// 2 created, 0 updated, 0 deleted, 0 unchanged, 0 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started <nil>
	// 0 created, 0 updated, 0 deleted, 2 unchanged, 0 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started <nil>
}

package compass_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// Register one application in a fake Director and list it back.
func ExampleRegistry() {
	srv := compasstest.NewServer()
	defer srv.Close()

	reg, err := compass.NewRegistry(compass.Config{
		DirectorURL:  srv.GraphQLURL(),
		TokenURL:     srv.TokenURL(),
		ClientID:     compasstest.DefaultClientID,
		ClientSecret: compasstest.DefaultClientSecret,
		Tenant:       compasstest.DefaultTenant,
		Scope:        ocsync.Scope{Context: "acme.openconnectors.example.com"},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	app := ocsync.Application{
		Name: "oc-1234",
		Key:  "1234",
		Attributes: ocsync.Attributes{
			Description:  "SAP Open Connectors HubSpot: sales",
			ProviderName: "SAP Open Connectors",
			Status:       ocsync.StatusConnected,
			Bundle:       "hubspotcrm",
			API:          "HubSpot: sales",
			TargetURL:    "https://acme.openconnectors.example.com/elements/api-v2",
		},
		Credential: "User u, Organization o, Element e",
	}
	spec := ocsync.Spec{Type: "OPEN_API", Format: "JSON", Data: []byte(`{"swagger":"2.0","x-param":"packageID"}`)}
	state := ocsync.State{Fields: app.Fingerprint(), SpecSHA256: ocsync.SpecSHA256(spec.Data), SpecFetchedAt: time.Now()}
	if err := reg.Create(ctx, app, spec, state); err != nil {
		log.Fatal(err)
	}

	regs, err := reg.Applications(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, r := range regs {
		fmt.Printf("%s key=%s owned=%t status=%s description=%q\n",
			r.Name, r.Key, r.Owned, r.Attributes.Status, r.Attributes.Description)
	}
	// Output:
	// oc-1234 key=1234 owned=true status=CONNECTED description="SAP Open Connectors HubSpot: sales"
}

// Names that normalise alike clash in the Director.
func ExampleNormalizeName() {
	fmt.Println(compass.NormalizeName("My App"))
	fmt.Println(compass.NormalizeName("my_app"))
	fmt.Println(compass.NormalizeName("oc-1234"))
	// Output:
	// mp-my-app
	// mp-my-app
	// mp-oc-1234
}

// Legacy strings inside JSON strings are escaped; the decoded value is the same.
func ExampleEscapeLegacyStrings() {
	fmt.Println(string(compass.EscapeLegacyStrings([]byte(`{"data":"packageID packages: ["}`))))
	// Output:
	// {"data":"p\u0061ckageID p\u0061ckages: ["}
}

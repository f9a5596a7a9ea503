package ocjob_test

import (
	"context"
	"fmt"

	ocjob "github.com/kyma-incubator/open-connectors-job"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// Embedding the Open Connectors → Compass sync: Go values instead of the
// JSON file, one run, and the exit code ocjob would return. Here both
// remotes are the fakes on loopback.
func Example() {
	platform := octest.NewServer(octest.WithInstances(
		octest.Instance{ID: 101, Name: "crm", Token: "tok-101-secret", Element: octest.Element{ID: 1, Key: "sfdc", Name: "Salesforce"}},
		octest.Instance{ID: 102, Name: "erp", Token: "tok-102-secret", Element: octest.Element{ID: 2, Key: "sap", Name: "SAP"}},
	))
	defer platform.Close()
	director := compasstest.NewServer()
	defer director.Close()

	ctl, err := ocjob.New(ocjob.Config{
		OpenConnectors: openconnectors.Config{Host: platform.URL,
			UserSecret: redact.Secret(platform.UserSecret), OrganizationSecret: redact.Secret(platform.OrganizationSecret)},
		Source: openconnectors.SourceOptions{ApplicationPrefix: "oc"},
		Compass: compass.Config{DirectorURL: director.GraphQLURL(), TokenURL: director.TokenURL(), Tenant: compasstest.DefaultTenant,
			ClientID: compasstest.DefaultClientID, ClientSecret: compasstest.DefaultClientSecret},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	out := ctl.RunOnce(context.Background())
	fmt.Println(out.Report.Summary.Created, "created, exit code", out.ExitCode())
	// Output:
	// 2 created, exit code 0
}

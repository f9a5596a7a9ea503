package openconnectors_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
	"github.com/kyma-incubator/open-connectors-job/openconnectors/octest"
)

// A client lists the instances of a tenant; here the tenant is the fake
// platform from octest.
func ExampleClient_Instances() {
	srv := octest.NewServer(octest.WithInstances(
		octest.Instance{ID: 1, Name: "crm-prod", Token: "Ab3+xYz/0k9=", Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce"}, Tags: []string{"sync"}},
		octest.Instance{ID: 2, Name: "tickets", Token: "Qw9/Zt1+Lm=", Element: octest.Element{ID: 7, Key: "zendesk", Name: "Zendesk"}, Tags: []string{"sync"}, Disabled: true},
		octest.Instance{ID: 3, Name: "scratch", Token: "x", Element: octest.Element{ID: 7, Key: "zendesk", Name: "Zendesk"}},
	))
	defer srv.Close()

	c, err := openconnectors.NewClient(openconnectors.Config{
		Host:               srv.URL,
		UserSecret:         redact.Secret(srv.UserSecret),
		OrganizationSecret: redact.Secret(srv.OrganizationSecret),
		Tags:               []string{"sync"},
	})
	if err != nil {
		log.Fatal(err)
	}
	instances, err := c.Instances(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, in := range instances {
		fmt.Printf("%d %s (%s) disabled=%v token=%v\n", in.ID, in.Name, in.Element.Key, in.Disabled, in.Token)
	}
	// Output:
	// 1 crm-prod (sfdc) disabled=false token=[redacted]
	// 2 tickets (zendesk) disabled=true token=[redacted]
}

// A Source turns instances into applications and loads their specs lazily.
func ExampleSource() {
	srv := octest.NewServer(octest.WithInstances(
		octest.Instance{ID: 4711, Name: "Grüße", Token: "tok-t", Element: octest.Element{ID: 23, Key: "sfdc", Name: "Salesforce"}},
	))
	defer srv.Close()
	c, err := openconnectors.NewClient(openconnectors.Config{
		Host:               srv.URL,
		UserSecret:         redact.Secret(srv.UserSecret),
		OrganizationSecret: redact.Secret(srv.OrganizationSecret),
	})
	if err != nil {
		log.Fatal(err)
	}
	src, err := openconnectors.NewSource(c, openconnectors.SourceOptions{ApplicationPrefix: "oc"})
	if err != nil {
		log.Fatal(err)
	}
	apps, err := src.Applications(context.Background())
	if err != nil {
		log.Fatal(err)
	}
	for _, app := range apps {
		fmt.Println(app.Name, app.Status, app.Bundle, "|", app.API, "|", app.Description)
		spec, err := src.Spec(context.Background(), app)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(spec.Type, spec.Format, len(spec.Data) > 0)
	}

	srv.SetSpec(4711, []byte("<html>maintenance</html>"))
	_, err = src.Spec(context.Background(), apps[0])
	fmt.Println(errors.Is(err, remote.ErrInvalidSpec), err)
	// Output:
	// oc-4711 CONNECTED sfdc | Salesforce: Grüße | SAP Open Connectors Salesforce: Grüße
	// OPEN_API JSON true
	// true instance 4711: API document: not JSON
}

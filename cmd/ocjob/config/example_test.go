package config_test

import (
	"fmt"
	"strings"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
)

func ExampleParse() {
	doc := `{
	  "compass": {
	    "directorURL": "https://compass.example.org/director/graphql",
	    "tenantId": "3e64ebae-38b5-46a0-b1ed-9ccee153a0ae",
	    "tokenUrl": "https://oauth2.example.org/oauth2/token",
	    "clientID": "clientid",
	    "applicationPrefix": "oc"
	  },
	  "openConnectors": {"hostname": "api.openconnectors.ext.hanatrial.ondemand.com", "tags": ["sync"]},
	  "sync": {"owner": "shard-a", "policy": "upsert-only"}
	}`
	env := map[string]string{
		config.EnvCompassClientSecret:              "from-the-environment",
		config.EnvOpenConnectorsOrganizationSecret: "org-secret",
		config.EnvOpenConnectorsUserSecret:         "user",
	}
	cfg, err := config.Parse(strings.NewReader(doc), func(k string) string { return env[k] })
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.OpenConnectors.Host, cfg.OpenConnectors.Tags)
	fmt.Println(cfg.Source.Owner, cfg.Sync.Policy, cfg.Sync.MaxDeletePercent, cfg.Sync.SpecRefreshInterval)
	fmt.Println(cfg.Compass.PageSize, cfg.Compass.Timeout, cfg.Compass.ClientSecret)
	// Output:
	// api.openconnectors.ext.hanatrial.ondemand.com [sync]
	// shard-a upsert-only 30 24h0m0s
	// 200 5s [redacted]
}

func ExampleParse_errors() {
	doc := `{
	  "logLevel": "Loud",
	  "compass": {"directorURL": "http://compass.example.org", "tenantId": "t", "tokenUrl": "https://auth.example.org",
	    "clientID": "id", "clientSecret": "client-secret", "applicationPrefix": "OC", "pageSize": 500, "colour": "blue"},
	  "openConnectors": {"hostname": "api.example.org", "organizationSecret": "org-secret"}
	}`
	_, err := config.Parse(strings.NewReader(doc), nil)
	fmt.Println(err)
	// Output:
	// config: compass.colour: unknown key
	// config: logLevel: want Trace, Debug, Info, Warn or Error
	// config: compass.directorURL: bad URL: plain http:// is accepted for loopback addresses only, use https://
	// config: compass.applicationPrefix: invalid prefix: must start with a lower-case letter
	// config: compass.pageSize: value out of range: want 1 to 200
	// config: openConnectors.userSecret: missing value: set it in the file or in OCJOB_OPENCONNECTORS_USER_SECRET
}

package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kyma-incubator/open-connectors-job/compass/compasstest"
)

// The testdata folder synced into a fake Director twice: the first run
// creates one application per document, the second finds nothing to do.
func Example() {
	director := compasstest.NewServer()
	defer director.Close()
	env := map[string]string{
		"COMPASS_DIRECTOR_URL":  director.GraphQLURL(),
		"COMPASS_TOKEN_URL":     director.TokenURL(),
		"COMPASS_CLIENT_ID":     compasstest.DefaultClientID,
		"COMPASS_CLIENT_SECRET": compasstest.DefaultClientSecret,
		"COMPASS_TENANT":        compasstest.DefaultTenant,
	}
	dir, _ := filepath.Abs("testdata")
	for range 2 {
		run(context.Background(), []string{"-dir", dir}, func(k string) string { return env[k] }, os.Stdout, os.Stdout)
	}
	app, _ := director.Application(compasstest.DefaultTenant, "files-legacy-inventory")
	fmt.Println(app.Bundles[0].APIs[0].TargetURL)
	// Output:
	// create    files-billing (billing.yaml): applied
	// create    files-legacy-inventory (legacy_inventory.json): applied
	// create    files-orders (orders.json): applied
	// 3 created, 0 updated, 0 deleted, 0 unchanged, 0 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started.
	// 0 created, 0 updated, 0 deleted, 3 unchanged, 0 skipped, 0 conflicts, 0 failed, 0 withheld, 0 not started.
	// https://inventory.example.com/v1
}

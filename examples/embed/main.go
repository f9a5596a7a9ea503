package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is the whole program: flags (falling back to the environment), the
// engine built from a folderSource and a compass.Registry, one plan, one
// apply. It returns the exit code.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", ".", "folder of OpenAPI documents (*.json, *.yaml, *.yml)")
	prefix := fs.String("prefix", "files", "application name prefix: lower-case letters, digits and dashes")
	scope := fs.String("context", "", `ownership scope written to the identity label (default "files:<absolute dir>")`)
	owner := fs.String("owner", "", "optional owner, to run several programs on one context")
	targetURL := fs.String("target-url", "", "target URL for documents that name no server")
	directorURL := fs.String("director-url", getenv("COMPASS_DIRECTOR_URL"), "Director GraphQL endpoint ($COMPASS_DIRECTOR_URL)")
	tokenURL := fs.String("token-url", getenv("COMPASS_TOKEN_URL"), "OAuth2 token endpoint ($COMPASS_TOKEN_URL)")
	clientID := fs.String("client-id", getenv("COMPASS_CLIENT_ID"), "OAuth2 client id ($COMPASS_CLIENT_ID)")
	tenant := fs.String("tenant", getenv("COMPASS_TENANT"), "Compass tenant ($COMPASS_TENANT)")
	// Secrets have no default shown in -h: they come from the environment
	// unless given (flags are visible to other users of the machine).
	clientSecret := fs.String("client-secret", "", "OAuth2 client secret (default $COMPASS_CLIENT_SECRET)")
	credential := fs.String("credential", "", "optional Authorization header value for the APIs (default $API_CREDENTIAL)")
	dryRun := fs.Bool("dry-run", false, "print the plan and change nothing")
	timeout := fs.Duration("timeout", 2*time.Minute, "limit of the whole run")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	usage := func(msg string) int {
		fmt.Fprintln(stderr, "embed:", msg)
		return 2
	}
	if fs.NArg() > 0 {
		return usage(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	if *prefix == "" || slug(*prefix) != *prefix || (*prefix)[0] < 'a' {
		return usage(fmt.Sprintf("-prefix %q: want lower-case letters, digits and single dashes, starting with a letter", *prefix))
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return usage(err.Error())
	}
	if *scope == "" {
		*scope = "files:" + abs
	}
	if *clientSecret == "" {
		*clientSecret = getenv("COMPASS_CLIENT_SECRET")
	}
	if *credential == "" {
		*credential = getenv("API_CREDENTIAL")
	}

	// The compass Registry checks its configuration here; it sends nothing yet.
	registry, err := compass.NewRegistry(compass.Config{
		DirectorURL:  *directorURL,
		TokenURL:     *tokenURL,
		ClientID:     *clientID,
		ClientSecret: redact.Secret(*clientSecret),
		Tenant:       *tenant,
		Scope:        ocsync.Scope{Context: *scope, Owner: *owner},
	})
	if err != nil {
		return usage(err.Error())
	}
	engine := &ocsync.Engine{
		Source:   &folderSource{dir: abs, prefix: *prefix, targetURL: *targetURL, credential: redact.Secret(*credential)},
		Registry: registry,
		DryRun:   *dryRun,
		NameKey:  compass.NormalizeName, // finds clashes with foreign applications at plan time
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	plan, err := engine.Plan(ctx)
	if err != nil { // a listing failed: nothing was changed
		fmt.Fprintln(stderr, "embed:", err)
		return 1
	}
	report, err := engine.Apply(ctx, plan)
	for i, c := range plan.Changes {
		if c.Kind != ocsync.KindUnchanged {
			r := report.Results[i]
			line := fmt.Sprintf("%-9s %s (%s): %s", c.Kind, c.Name, c.Key, r.Outcome)
			for _, why := range []string{c.Reason, r.Error} {
				if why != "" {
					line += "; " + why
				}
			}
			fmt.Fprintln(stdout, line)
		}
	}
	if report.DryRun {
		fmt.Fprint(stdout, "Dry run, nothing applied. Plan: ")
	}
	fmt.Fprintf(stdout, "%s.\n", report.Summary)
	if err != nil && !report.DryRun {
		return 1
	}
	return 0
}

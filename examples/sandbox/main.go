package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
)

// Limits of -instances.
const (
	defaultInstances = 36
	maxInstances     = 500
)

// Exit codes of the sandbox.
const (
	exitOK         = 0 // every run behaved as expected
	exitUnexpected = 1 // a run did something else, or the sandbox failed
	exitUsage      = 2 // the command line was wrong
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// options are the parsed command line.
type options struct {
	instances  int
	serve      bool
	configPath string
	keepConfig bool
	verbose    bool
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("sandbox", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.instances, "instances", defaultInstances, fmt.Sprintf("number of demo `instances` (%d..%d)", minInstances, maxInstances))
	fs.BoolVar(&o.serve, "serve", false, "keep the fakes running after the scenario, until interrupted")
	fs.StringVar(&o.configPath, "config", "", "write the configuration to `file` and keep it (default: a temporary file)")
	fs.BoolVar(&o.keepConfig, "keep-config", false, "keep the temporary configuration file on exit")
	fs.BoolVar(&o.verbose, "v", false, "show the job's log records on stderr")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: sandbox [flags]\n\nRuns ocjob ten times against a fake Open Connectors tenant and a fake Compass Director.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	var err error
	switch {
	case fs.NArg() > 0:
		err = fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case o.instances < minInstances || o.instances > maxInstances:
		err = fmt.Errorf("-instances must be %d..%d, got %d", minInstances, maxInstances, o.instances)
	}
	if err != nil {
		fmt.Fprintln(stderr, "sandbox:", err)
		fs.Usage()
	}
	return o, err
}

// run is the whole program behind main.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		return exitUsage
	}

	path := o.configPath
	if path == "" {
		dir, err := os.MkdirTemp("", "ocjob-sandbox-")
		if err != nil {
			fmt.Fprintln(stderr, "sandbox:", err)
			return exitUnexpected
		}
		path = filepath.Join(dir, "config.json")
		if !o.keepConfig {
			defer os.RemoveAll(dir)
		}
	}

	logger := slog.New(slog.DiscardHandler)
	if o.verbose {
		logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	sb, err := startSandbox(o.instances, path, logger)
	if err != nil {
		fmt.Fprintln(stderr, "sandbox:", err)
		return exitUnexpected
	}
	defer sb.Close()

	fmt.Fprintf(stdout, "Fake Open Connectors: %s (%d demo instances of %d connectors)\n", sb.oc.URL, o.instances, len(connectors))
	fmt.Fprintf(stdout, "Fake Compass Director: %s (tenant %s)\n", sb.cp.GraphQLURL(), tenant)
	fmt.Fprintf(stdout, "Configuration: %s\n", path)

	code := exitOK
	if outcomes, err := sb.scenario(ctx, stdout); err != nil {
		fmt.Fprintf(stdout, "\nThe sandbox did not behave as expected:\n%v\n", err)
		code = exitUnexpected
	} else {
		fmt.Fprintf(stdout, "\nAll %d runs behaved as expected.\n", len(outcomes))
	}

	if o.serve && ctx.Err() == nil {
		fmt.Fprintf(stdout, "\nThe fakes keep running until interrupted (Ctrl-C). Run ocjob against them:\n"+
			"  go run ./cmd/ocjob -config %[1]s -dry-run\n"+
			"  go run ./cmd/ocjob -config %[1]s\n"+
			"  go run ./cmd/ocjob -config %[1]s -output json\n", path)
		if o.configPath == "" && !o.keepConfig {
			fmt.Fprintln(stdout, "The configuration file is removed when the sandbox stops (-keep-config keeps it).")
		}
		<-ctx.Done()
		fmt.Fprintln(stdout, "Stopped.")
	}
	return code
}

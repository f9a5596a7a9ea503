package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/metrics"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when
// empty, the module version or VCS revision of the build is shown.
var version string

// Output formats of -output.
const (
	outputText = "text"
	outputJSON = "json"
)

// defaultListen is the -listen address of service mode when none is given.
const defaultListen = ":8080"

// minInterval is the shortest -interval, the library's (tests lower it).
var minInterval = ocjob.MinInterval

// flags are the parsed command line.
type flags struct {
	config   string
	dryRun   bool
	output   string
	force    bool
	approve  string
	interval time.Duration
	listen   string
	version  bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("ocjob", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", config.DefaultPath, "configuration `file`")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and change nothing")
	fs.StringVar(&f.output, "output", outputText, "output `format`: text or json (json: one document per run on stdout)")
	fs.BoolVar(&f.force, "force", false, "lift the deletion guard for this run (not with -interval)")
	fs.StringVar(&f.approve, "approve", "", "apply withheld deletions only if their `digest` (sha256:..., shown by -dry-run) is still the plan's (one run, not with -interval)")
	fs.DurationVar(&f.interval, "interval", 0, "run as a service: sync every `duration` (at least "+minInterval.String()+") until SIGTERM or SIGINT (0: run once)")
	fs.StringVar(&f.listen, "listen", "", "serve /metrics, /healthz and /readyz on `address` (default "+defaultListen+" with -interval, off otherwise)")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ocjob [flags]\n\nSynchronises Open Connectors instances into Compass applications once, or every -interval.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nExit codes: 0 converged or dry run done, 1 config/auth/listing failure (nothing changed),\n"+
			"2 usage error, 3 some items failed, 4 deletions withheld by the deletion guard.\n"+
			"With -interval: 0 after a clean shutdown, 1 when the configuration cannot be loaded.\n")
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	usage := func(format string, a ...any) (flags, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "ocjob:", err)
		fs.Usage()
		return f, err
	}
	listenSet := false
	fs.Visit(func(fl *flag.Flag) { listenSet = listenSet || fl.Name == "listen" })
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q", fs.Arg(0))
	case f.output != outputText && f.output != outputJSON:
		return usage("invalid -output %q: want %s or %s", f.output, outputText, outputJSON)
	case f.approve != "" && !ocsync.IsDeletionsDigest(f.approve):
		// The value is the operator's own; it is quoted so a typo shows.
		return usage("invalid -approve %q: want a deletions digest such as sha256:0123…, as a dry run prints it", f.approve)
	case f.approve != "" && f.force:
		return usage("-approve and -force cannot be combined: -force lifts the guard for any deletions")
	case f.interval < 0:
		return usage("invalid -interval %v: must not be negative", f.interval)
	case f.interval > 0 && f.interval < minInterval:
		return usage("invalid -interval %v: want at least %v (or 0 to run once)", f.interval, minInterval)
	case f.force && f.interval > 0:
		// A service would run without its deletion guard for as long as it lives.
		return usage("-force is for one run and cannot be combined with -interval: run ocjob once with -force")
	case f.approve != "" && f.interval > 0:
		return usage("-approve is for one run and cannot be combined with -interval: run ocjob once with -approve")
	case listenSet && f.listen == "":
		return usage("invalid -listen: empty address")
	}
	if f.interval > 0 && !listenSet {
		f.listen = defaultListen
	}
	return f, nil
}

// onListen, when set, is told the address the HTTP server listens on.
var onListen func(addr net.Addr)

// run is the whole program behind main, with its environment passed in.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ocsync.ExitOK
	}
	if err != nil {
		return ocsync.ExitUsage
	}
	if f.version {
		fmt.Fprintln(stdout, "ocjob", buildVersion())
		return ocsync.ExitOK
	}
	cfg, err := config.Load(ctx, f.config, env)
	if err != nil {
		return failed(stdout, stderr, f, nil, err)
	}
	scrubber := config.NewScrubber(cfg)
	log := ocjob.NewLogger(stderr, cfg.LogLevel, cfg.LogFormat, scrubber)
	log.LogAttrs(ctx, slog.LevelInfo, "ocjob starting", slog.String("version", buildVersion()),
		slog.String("config", f.config), slog.Bool("dryRun", f.dryRun), slog.Bool("force", f.force),
		slog.String("approve", f.approve), slog.Duration("interval", f.interval),
		slog.String("openConnectors", cfg.OpenConnectors.Host), slog.String("tenant", cfg.Compass.Tenant),
		slog.String("owner", cfg.Source.Owner), slog.String("policy", string(cfg.Sync.Policy)))
	for _, name := range cfg.Trimmed {
		log.LogAttrs(ctx, slog.LevelDebug, "a trailing newline was removed from a secret", slog.String("source", name))
	}
	var service *metrics.Metrics // the process's metrics, served with -listen
	if f.listen != "" {
		service = metrics.NewServiceMetrics(buildVersion())
	}
	ctl, err := config.NewController(cfg, config.Options{DryRun: f.dryRun, Force: f.force, Approve: f.approve,
		Logger: log, Scrubber: scrubber, RequestObserver: service.ObserveRequest})
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "invalid configuration", slog.String("error", err.Error()))
		return failed(stdout, stderr, f, scrubber, err)
	}
	ctl.Interval, ctl.MinInterval, ctl.FieldName = f.interval, minInterval, config.KeyOf
	ctl.Observer = ocsync.ObserverFuncs{OnFinished: func(ctx context.Context, o ocsync.RunOutcome) {
		writeReport(ctx, stdout, stderr, log, f.output, scrubber, o)
	}}
	if p := cfg.Metrics.Pushgateway; p.URL != "" {
		p.Owner, p.Version, p.Scrubber, p.Logger = cfg.Source.Owner, buildVersion(), scrubber, log
		ctl.Observer = ocsync.Observers(ctl.Observer, &p)
	}
	if f.listen == "" {
		return ctl.RunOnce(ctx).ExitCode()
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "cannot listen", slog.String("address", f.listen), slog.String("error", err.Error()))
		return ocsync.ExitFailed
	}
	if onListen != nil {
		onListen(ln.Addr())
	}
	if err := metrics.Serve(ctx, ln, ctl, service, log); err != nil {
		log.LogAttrs(ctx, slog.LevelError, "serving failed", slog.String("error", err.Error()))
		return ocsync.ExitFailed
	}
	if f.interval == 0 {
		return ctl.LastExitCode()
	}
	log.LogAttrs(ctx, slog.LevelInfo, "ocjob stopped", slog.Int("runs", ctl.Runs()))
	return ocsync.ExitOK
}

// failed reports a configuration that cannot be run, and exits 1.
func failed(stdout, stderr io.Writer, f flags, scrubber *redact.Scrubber, err error) int {
	if scrubber == nil {
		for _, e := range ocjob.Leaves(err) {
			fmt.Fprintln(stderr, "ocjob:", e)
		}
	}
	if f.output == outputJSON {
		writeJSON(stdout, stderr, scrubber, nil, err, ocsync.ExitFailed)
	}
	return ocsync.ExitFailed
}

// writeReport writes the report of one run to stdout, scrubbed, as text or
// as the JSON document.
func writeReport(ctx context.Context, stdout, stderr io.Writer, log *slog.Logger, output string, scrubber *redact.Scrubber, o ocsync.RunOutcome) {
	code := o.ExitCode()
	if hints := config.Hints(o.Err); len(hints) > 0 {
		log.LogAttrs(ctx, slog.LevelError, "configuration to check", slog.Any("hints", hints))
	}
	switch rep := o.Report; {
	case output == outputJSON:
		writeJSON(stdout, stderr, scrubber, rep, o.Err, code)
	case rep != nil:
		if err := rep.Scrub(scrubber).WriteText(stdout); err != nil {
			log.LogAttrs(ctx, slog.LevelError, "writing the report failed", slog.String("error", err.Error()))
		}
	}
	log.LogAttrs(ctx, slog.LevelDebug, "run done", slog.Int("exitCode", code))
}

// writeJSON writes the JSON document of one run (see ocjob.WriteDocument).
func writeJSON(stdout, stderr io.Writer, scrubber *redact.Scrubber, rep *ocsync.Report, err error, code int) {
	if werr := ocjob.WriteDocument(stdout, buildVersion(), rep, config.Explain(err), code, scrubber); werr != nil {
		fmt.Fprintln(stderr, "ocjob: writing the JSON document:", werr)
	}
}

// buildVersion is the -ldflags version, else ocjob.Version.
func buildVersion() string {
	if version != "" {
		return version
	}
	return ocjob.Version()
}

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job"
	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
)

// version is set at build time with -ldflags "-X main.version=v1.2.3"; when
// empty, the module version or VCS revision of the build is shown.
var version string

// Output formats of -output.
const (
	outputText = "text"
	outputJSON = "json"
)

// flags are the parsed command line.
type flags struct {
	config  string
	dryRun  bool
	output  string
	force   bool
	version bool
}

func parseFlags(args []string, stderr io.Writer) (flags, error) {
	var f flags
	fs := flag.NewFlagSet("ocjob", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.config, "config", config.DefaultPath, "configuration `file`")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the plan and change nothing")
	fs.StringVar(&f.output, "output", outputText, "output `format`: text or json (json: one document on stdout)")
	fs.BoolVar(&f.force, "force", false, "lift the deletion guard for this run")
	fs.BoolVar(&f.version, "version", false, "print the version and exit")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: ocjob [flags]\n\nSynchronises Open Connectors instances into Compass applications once.\n\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(fs.Output(), "\nExit codes: 0 converged or dry run done, 1 config/auth/listing failure (nothing changed),\n"+
			"2 usage error, 3 some items failed, 4 deletions withheld by the deletion guard.\n")
	}
	if err := fs.Parse(args); err != nil {
		return f, err
	}
	if fs.NArg() > 0 {
		err := fmt.Errorf("unexpected argument %q", fs.Arg(0))
		fmt.Fprintln(stderr, "ocjob:", err)
		fs.Usage()
		return f, err
	}
	if f.output != outputText && f.output != outputJSON {
		err := fmt.Errorf("invalid -output %q: want %s or %s", f.output, outputText, outputJSON)
		fmt.Fprintln(stderr, "ocjob:", err)
		fs.Usage()
		return f, err
	}
	return f, nil
}

// run is the whole program behind main, with its environment passed in.
func run(ctx context.Context, args []string, env func(string) string, stdout, stderr io.Writer) int {
	f, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return job.ExitOK
	}
	if err != nil {
		return job.ExitUsage
	}
	if f.version {
		fmt.Fprintln(stdout, "ocjob", buildVersion())
		return job.ExitOK
	}

	start := time.Now()
	cfg, err := config.Load(ctx, f.config, env)
	if err != nil {
		for _, e := range flatten(err) {
			fmt.Fprintln(stderr, "ocjob:", e)
		}
		if f.output == outputJSON {
			writeJSON(stdout, stderr, nil, err, job.ExitFailed)
		}
		return job.ExitFailed
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	log.LogAttrs(ctx, slog.LevelInfo, "ocjob starting", slog.String("version", buildVersion()),
		slog.String("config", f.config), slog.Bool("dryRun", f.dryRun), slog.Bool("force", f.force),
		slog.String("openConnectors", cfg.OpenConnectors.Host), slog.String("tenant", cfg.Compass.TenantID),
		slog.String("owner", cfg.Sync.Owner), slog.String("policy", string(cfg.Sync.Policy)))

	var rep *ocsync.Report
	engine, err := job.NewEngine(cfg, job.Options{DryRun: f.dryRun, Force: f.force, Logger: log})
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "invalid configuration", slog.String("error", err.Error()))
	} else {
		rep, err = job.RunEngine(ctx, engine)
	}
	code := job.ExitCode(rep, err)

	switch {
	case f.output == outputJSON:
		writeJSON(stdout, stderr, rep, err, code)
	case rep != nil:
		if werr := job.WriteText(stdout, rep); werr != nil {
			log.LogAttrs(ctx, slog.LevelError, "writing the report failed", slog.String("error", werr.Error()))
		}
	}

	if cfg.Metrics.PushgatewayURL != "" {
		perr := job.PushMetrics(context.WithoutCancel(ctx), nil, cfg.Metrics.PushgatewayURL, job.RunMetrics{
			Report: rep, Duration: time.Since(start), ExitCode: code, Owner: cfg.Sync.Owner,
		})
		if perr != nil {
			log.LogAttrs(ctx, slog.LevelWarn, "pushing metrics failed", slog.String("error", perr.Error()))
		}
	}
	log.LogAttrs(ctx, slog.LevelDebug, "ocjob done", slog.Int("exitCode", code))
	return code
}

// document is the -output json document: the version, the report's fields
// (dryRun, plan, results, summary; absent when no plan was made), the exit
// code and the errors of the run.
type document struct {
	Version string `json:"version"`
	*ocsync.Report
	ExitCode int      `json:"exitCode"`
	Errors   []string `json:"errors,omitempty"`
}

func writeJSON(stdout, stderr io.Writer, rep *ocsync.Report, err error, code int) {
	doc := document{Version: buildVersion(), Report: rep, ExitCode: code}
	for _, e := range flatten(err) {
		doc.Errors = append(doc.Errors, e.Error())
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if eerr := enc.Encode(doc); eerr != nil {
		fmt.Fprintln(stderr, "ocjob: writing the JSON document:", eerr)
	}
}

// flatten lists the errors joined in err, recursively; nil gives none.
func flatten(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, flatten(e)...)
	}
	return out
}

// buildVersion is the -ldflags version, else the module version, else the
// VCS revision recorded by the go command.
func buildVersion() string {
	if version != "" {
		return version
	}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, modified := "", false
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if modified {
		rev += "-dirty"
	}
	return "devel-" + rev
}

// newLogger returns the program's logger on w. FormatAuto writes text to a
// terminal and JSON otherwise. config.LevelTrace shows as TRACE.
func newLogger(w io.Writer, level slog.Level, format string) *slog.Logger {
	opts := &slog.HandlerOptions{
		Level: level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.LevelKey && len(groups) == 0 {
				if l, ok := a.Value.Any().(slog.Level); ok && l < slog.LevelDebug {
					a.Value = slog.StringValue("TRACE")
				}
			}
			return a
		},
	}
	if format == config.FormatText || (format == config.FormatAuto && isTerminal(w)) {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

package job

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/kyma-incubator/open-connectors-job/cmd/ocjob/job/config"
	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// Exit codes of a run (see the package documentation for precedence).
const (
	// ExitOK: converged, or a dry run completed.
	ExitOK = 0
	// ExitFailed: nothing changed because of a configuration, authentication
	// or listing failure (or a fatal error stopped the apply).
	ExitFailed = 1
	// ExitUsage: the command line was wrong.
	ExitUsage = 2
	// ExitItemsFailed: some items failed, the rest were applied.
	ExitItemsFailed = 3
	// ExitGuard: deletions were withheld by the deletion guard.
	ExitGuard = 4
)

// Options are the choices of one run besides the configuration.
type Options struct {
	// DryRun plans and reports without changing anything.
	DryRun bool
	// Force lifts the deletion guard for this run.
	Force bool
	// Logger receives the run's records; nil discards them.
	Logger *slog.Logger
	// HTTPClient is the base client for both APIs; nil means a default one.
	HTTPClient *http.Client
	// Now returns the current time; nil means time.Now.
	Now func() time.Time
}

func (o Options) logger() *slog.Logger {
	if o.Logger != nil {
		return o.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// NewEngine builds the engine described by cfg: an openconnectors.Source over
// the configured tenant, a compass.Registry whose identity context is the
// Open Connectors host as configured, and the sync settings. It sends no
// request. Errors wrap config.ErrInvalid.
func NewEngine(cfg *config.Config, opts Options) (*ocsync.Engine, error) {
	if cfg == nil {
		return nil, &config.Error{Problem: "no configuration"}
	}
	log := opts.logger()
	client, err := openconnectors.NewClient(openconnectors.Config{
		Host:               cfg.OpenConnectors.BaseURL,
		UserSecret:         cfg.OpenConnectors.UserSecret,
		OrganizationSecret: cfg.OpenConnectors.OrganizationSecret,
		Tags:               cfg.OpenConnectors.Tags,
		PageSize:           cfg.OpenConnectors.PageSize,
		MaxSpecBytes:       cfg.OpenConnectors.MaxSpecBytes,
		Timeout:            cfg.OpenConnectors.Timeout,
		HTTPClient:         opts.HTTPClient,
		Logger:             log.With(slog.String("component", "openconnectors")),
	})
	if err != nil {
		return nil, &config.Error{Key: "openConnectors", Problem: err.Error()}
	}
	srcOpts := openconnectors.SourceOptions{ApplicationPrefix: cfg.Compass.ApplicationPrefix}
	if err := srcOpts.Validate(); err != nil {
		return nil, &config.Error{Key: "compass.applicationPrefix", Problem: err.Error()}
	}
	source := openconnectors.NewSource(client, srcOpts)
	registry, err := compass.NewRegistry(compass.Config{
		DirectorURL:         cfg.Compass.DirectorURL,
		TokenURL:            cfg.Compass.TokenURL,
		ClientID:            cfg.Compass.ClientID,
		ClientSecret:        cfg.Compass.ClientSecret,
		Tenant:              cfg.Compass.TenantID,
		IntegrationSystemID: cfg.Compass.IntegrationSystemID,
		Context:             source.Context(),
		Owner:               cfg.Sync.Owner,
		PageSize:            cfg.Compass.PageSize,
		Timeout:             cfg.Compass.Timeout,
		HTTPClient:          opts.HTTPClient,
		Logger:              log.With(slog.String("component", "compass")),
	})
	if err != nil {
		return nil, &config.Error{Key: "compass", Problem: err.Error()}
	}
	return &ocsync.Engine{
		Source:              source,
		Registry:            registry,
		Policy:              cfg.Sync.Policy,
		Concurrency:         cfg.Sync.Concurrency,
		MaxDeletePercent:    cfg.Sync.MaxDeletePercent,
		Force:               opts.Force,
		SpecRefreshInterval: cfg.Sync.SpecRefreshInterval,
		DryRun:              opts.DryRun,
		NameKey:             compass.NormalizeName,
		Logger:              log,
		Now:                 opts.Now,
	}, nil
}

// Run builds the engine of cfg and runs it once (see RunEngine).
func Run(ctx context.Context, cfg *config.Config, opts Options) (*ocsync.Report, error) {
	engine, err := NewEngine(cfg, opts)
	if err != nil {
		return nil, err
	}
	return RunEngine(ctx, engine)
}

// RunEngine plans and applies once with e, logging the plan and the summary
// to e.Logger. The report is nil only when no plan could be made. The error
// is the engine's: it joins item errors, the deletion guard's error and a
// cancellation; pass it to ExitCode.
func RunEngine(ctx context.Context, e *ocsync.Engine) (*ocsync.Report, error) {
	log := e.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	plan, err := e.Plan(ctx)
	if err != nil {
		log.LogAttrs(ctx, slog.LevelError, "planning failed, nothing changed", slog.String("error", err.Error()))
		return nil, err
	}
	log.LogAttrs(ctx, slog.LevelInfo, "plan",
		slog.String("policy", string(plan.Policy)),
		slog.Int("create", plan.Count(ocsync.KindCreate)),
		slog.Int("update", plan.Count(ocsync.KindUpdate)),
		slog.Int("delete", plan.Count(ocsync.KindDelete)),
		slog.Int("unchanged", plan.Count(ocsync.KindUnchanged)),
		slog.Int("conflict", plan.Count(ocsync.KindConflict)),
		slog.Int("skipped", plan.Count(ocsync.KindSkipped)),
		slog.Bool("guardTripped", plan.Guard.Tripped),
		slog.Bool("dryRun", e.DryRun))
	if log.Enabled(ctx, slog.LevelDebug) {
		for i := range plan.Changes {
			c := &plan.Changes[i]
			log.LogAttrs(ctx, slog.LevelDebug, "planned change", slog.String("kind", string(c.Kind)),
				slog.String("application", c.Name), slog.String("instance", c.Key),
				slog.Any("fields", c.Fields), slog.String("reason", c.Reason))
		}
	}
	rep, err := e.Apply(ctx, plan)
	if plan.Guard.Tripped && !e.DryRun {
		log.LogAttrs(ctx, slog.LevelWarn, "deletions withheld by the deletion guard; run with -force to apply them",
			slog.Int("deletes", plan.Guard.Deletes), slog.Int("owned", plan.Guard.Owned),
			slog.Int("maxDeletePercent", plan.Guard.MaxPercent))
	}
	level := slog.LevelInfo
	if ExitCode(rep, err) != ExitOK {
		level = slog.LevelWarn
	}
	log.LogAttrs(ctx, level, "run finished", slog.String("summary", rep.Summary.String()),
		slog.Int("specFetches", rep.Summary.SpecFetches), slog.Bool("dryRun", rep.DryRun),
		slog.Duration("duration", time.Since(start)))
	return rep, err
}

// ExitCode maps the outcome of Run or RunEngine to an exit code. rep may be
// nil. A dry run that made its plan exits ExitOK.
func ExitCode(rep *ocsync.Report, err error) int {
	switch {
	case err == nil:
		return ExitOK
	case errors.Is(err, ocsync.ErrListFailed), errors.Is(err, ocsync.ErrFatal), errors.Is(err, config.ErrInvalid):
		return ExitFailed
	case rep == nil:
		return ExitFailed
	case rep.DryRun:
		return ExitOK
	case errors.Is(err, ocsync.ErrItemFailed),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return ExitItemsFailed
	case errors.Is(err, ocsync.ErrGuardTripped):
		return ExitGuard
	}
	return ExitFailed
}

package config

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"time"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/internal/strictjson"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/metrics"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// Defaults of the optional keys.
const (
	// DefaultPath is where ocjob looks for its configuration file.
	DefaultPath = "/config/config.json"
	// DefaultTimeout applies to each call to Compass or Open Connectors when
	// timeoutMills is absent or 0: the clients' own default.
	DefaultTimeout = openconnectors.DefaultTimeout
	// DefaultPageSize is the page size of both listings, the clients' own
	// default.
	DefaultPageSize = openconnectors.DefaultPageSize
	// MaxPageSize is the largest page size either API accepts.
	MaxPageSize = min(openconnectors.MaxPageSize, compass.MaxPageSize)
	// DefaultMaxSpecBytes is the largest spec document accepted (16 MiB),
	// the Open Connectors client's default.
	DefaultMaxSpecBytes = openconnectors.DefaultMaxSpecBytes
	// DefaultConcurrency is how many changes are applied at once.
	DefaultConcurrency = ocsync.DefaultConcurrency
	// MaxConcurrency is the largest accepted sync.concurrency.
	MaxConcurrency = 64
	// DefaultMaxDeletePercent is the deletion guard's threshold.
	DefaultMaxDeletePercent = ocsync.DefaultMaxDeletePercent
	// DefaultSpecRefreshInterval is how old a stored spec may get before it is
	// fetched again.
	DefaultSpecRefreshInterval = ocsync.DefaultSpecRefreshInterval
	// DefaultRunTimeout is the overall deadline of one run.
	DefaultRunTimeout = 20 * time.Minute
	// MaxRunTimeout is the longest accepted sync.runTimeout.
	MaxRunTimeout = ocjob.MaxRunTimeout
	// MaxFileBytes is the largest configuration document accepted (1 MiB).
	// A larger one is an error; it is never read whole.
	MaxFileBytes = 1 << 20
)

// The log level and formats of the logLevel and logFormat keys.
const (
	LevelTrace = ocjob.LevelTrace
	FormatAuto = ocjob.FormatAuto
	FormatText = ocjob.FormatText
	FormatJSON = ocjob.FormatJSON
)

// Environment variables that override the file (non-empty values win).
// Each may also name a file to read the secret from, with "_FILE" appended
// (OCJOB_COMPASS_CLIENT_SECRET_FILE); so may the file's keys, with "File"
// appended (compass.clientSecretFile).
const (
	EnvCompassClientID                  = "OCJOB_COMPASS_CLIENT_ID"
	EnvCompassClientSecret              = "OCJOB_COMPASS_CLIENT_SECRET"
	EnvOpenConnectorsOrganizationSecret = "OCJOB_OPENCONNECTORS_ORGANIZATION_SECRET"
	EnvOpenConnectorsUserSecret         = "OCJOB_OPENCONNECTORS_USER_SECRET"
	EnvPushgatewayPassword              = "OCJOB_METRICS_PUSHGATEWAY_PASSWORD"
	EnvPushgatewayBearerToken           = "OCJOB_METRICS_PUSHGATEWAY_BEARER_TOKEN"
)

// ErrInvalid is wrapped by every error of Load and Parse: test for it with
// errors.Is.
var ErrInvalid = errors.New("invalid configuration")

// Error is one problem with one key of the configuration.
type Error struct {
	// Key is the key path, for example "compass.pageSize"; empty for the
	// document as a whole.
	Key string
	// Problem says what is wrong. It never holds a configured value of a
	// secret key.
	Problem string
	// Err is the underlying error, if any: a library's validation error
	// (such as an *remote.FieldError), a file error or the cancellation of
	// Load. Problem already says what it says; Err is there for errors.Is
	// and errors.As.
	Err error
}

// Error renders the key and the problem.
func (e *Error) Error() string {
	if e.Key == "" {
		return "config: " + e.Problem
	}
	return "config: " + e.Key + ": " + e.Problem
}

// Is makes errors.Is(err, ErrInvalid) true.
func (e *Error) Is(target error) bool { return target == ErrInvalid }

// Unwrap returns Err.
func (e *Error) Unwrap() error { return e.Err }

// Config is a loaded and validated configuration with every default
// applied: the library values of its sections (the fields the file does
// not set, such as HTTP clients, scrubbers and loggers, are left to the
// caller; see NewController).
type Config struct {
	// LogLevel from logLevel (Trace, Debug, Info, Warn, Error; default Info).
	LogLevel slog.Level
	// LogFormat is FormatAuto, FormatText or FormatJSON.
	LogFormat string
	// Compass is the compass section: the Director registry. Its Scope is
	// left to ocjob.New, which derives it from the source.
	Compass compass.Config
	// OpenConnectors is the openConnectors section: the platform client.
	// Host is openConnectors.hostname as configured.
	OpenConnectors openconnectors.Config
	// Source is compass.applicationPrefix and sync.owner.
	Source openconnectors.SourceOptions
	// Sync holds the engine's settings.
	Sync Sync
	// Metrics holds where run metrics go.
	Metrics Metrics
	// SecretFiles are the secrets read from files, which ReadSecrets
	// reads again.
	SecretFiles []SecretFile
	// Trimmed names the environment variables and files whose secret lost
	// its trailing newline (as a Secret made with kubectl create secret
	// --from-file of a file written by echo has one).
	Trimmed []string
}

// Sync is the sync section but its owner (see Config.Source).
type Sync struct {
	// Policy is sync, upsert-only or create-only.
	Policy ocsync.Policy
	// Concurrency is how many changes are applied at once.
	Concurrency int
	// MaxDeletePercent is the deletion guard's threshold, 1..100.
	MaxDeletePercent int
	// SpecRefreshInterval is how old a stored spec may get.
	SpecRefreshInterval time.Duration
	// RunTimeout is the overall deadline of one run, after which no new
	// change starts; positive, at most MaxRunTimeout.
	RunTimeout time.Duration
}

// Metrics is the metrics section.
type Metrics struct {
	// PushgatewayURL, when set, is where run metrics are pushed.
	PushgatewayURL string
	// Pushgateway is the section's Pusher: the URL, the credentials and
	// the CA bundle (set Owner, Version, Scrubber and Logger before use).
	Pushgateway metrics.Pusher
}

// Load reads the file at path and calls Parse; secrets are read from the
// files their keys or variables name (see SecretFile). env looks up environment
// variables (os.Getenv, or nil for none). Reading stops when ctx is done,
// even while the path is a FIFO nobody writes to; the error then wraps the
// context's error. A file larger than MaxFileBytes is an error, found
// without reading it.
func Load(ctx context.Context, path string, env func(string) string) (*Config, error) {
	data, err := ocjob.ReadFile(ctx, path, MaxFileBytes)
	if err != nil {
		return nil, &Error{Problem: err.Error(), Err: err}
	}
	return parse(ctx, data, env)
}

// Parse reads a configuration document of at most MaxFileBytes, applies the
// environment overrides and the defaults, and validates the result. The
// error joins one *Error per problem found.
func Parse(r io.Reader, env func(string) string) (*Config, error) {
	data, err := ocjob.ReadAll(r, MaxFileBytes)
	if err != nil {
		return nil, &Error{Problem: "cannot read the document: " + err.Error(), Err: err}
	}
	return parse(context.Background(), data, env)
}

func parse(ctx context.Context, data []byte, env func(string) string) (*Config, error) {
	if env == nil {
		env = func(string) string { return "" }
	}
	var f file
	errs := decode(data, &f)
	if !onlyUnknownKeys(errs) {
		// A value of the wrong type leaves its field empty: checking the
		// values now would report it a second time as missing.
		return nil, errors.Join(errs...)
	}
	cfg, valueErrs := f.resolve(ctx, env)
	if errs = append(errs, valueErrs...); len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return cfg, nil
}

func onlyUnknownKeys(errs []error) bool {
	for _, err := range errs {
		if e, ok := err.(*Error); !ok || e.Problem != strictjson.UnknownKey {
			return false
		}
	}
	return true
}

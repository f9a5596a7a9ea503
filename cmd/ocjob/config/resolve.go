package config

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/kyma-incubator/open-connectors-job/compass"
	"github.com/kyma-incubator/open-connectors-job/internal/endpoint"
	"github.com/kyma-incubator/open-connectors-job/ocsync"
	"github.com/kyma-incubator/open-connectors-job/ocsync/metrics"
	"github.com/kyma-incubator/open-connectors-job/ocsync/redact"
	"github.com/kyma-incubator/open-connectors-job/openconnectors"
)

// Limits of the values that are checked beyond their type.
const (
	// MaxPrefixLength leaves room in the Director's 100-rune name limit for
	// "-" and the longest Open Connectors instance id (19 digits).
	MaxPrefixLength = openconnectors.MaxPrefixLen
	maxTimeoutMills = 10 * 60 * 1000
	maxSpecBytes    = 1 << 30
)

// problems collects the errors of resolve.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, &Error{Key: key, Problem: fmt.Sprintf(format, args...)})
}

// resolve validates f and turns it into a Config with defaults applied.
// The file layer checks what only it knows (missing values, with the
// environment variable that may supply a secret; the ranges and units of
// its keys; durations, policies, CA files, the Pushgateway URL); every other
// rule belongs to the library that uses the value, whose validation is
// mapped to the keys (see libraryProblems).
func (f *file) resolve() (*Config, []error) {
	var errs problems
	cfg := &Config{}

	cfg.LogLevel = parseLevel(&errs, f.LogLevel)
	switch strings.ToLower(f.LogFormat) {
	case "", FormatAuto:
		cfg.LogFormat = FormatAuto
	case FormatText, FormatJSON:
		cfg.LogFormat = strings.ToLower(f.LogFormat)
	default:
		errs.add("logFormat", "want %q, %q or %q", FormatAuto, FormatText, FormatJSON)
	}

	c := &f.Compass
	cfg.Compass = compass.Config{
		DirectorURL:         c.DirectorURL,
		Tenant:              c.TenantID,
		TokenURL:            c.TokenURL,
		ClientID:            c.ClientID,
		ClientSecret:        redact.Secret(c.ClientSecret),
		IntegrationSystemID: c.IntegrationSystemID,
		Timeout:             timeout(&errs, "compass.timeoutMills", c.TimeoutMills),
		PageSize:            int(intIn(&errs, "compass.pageSize", c.PageSize, compass.DefaultPageSize, 1, compass.MaxPageSize)),
		RootCAs:             certPool(&errs, "compass.caFile", c.CAFile),
	}
	cfg.Source = openconnectors.SourceOptions{ApplicationPrefix: c.ApplicationPrefix, Owner: f.Sync.Owner}
	required(&errs, "compass.directorURL", c.DirectorURL)
	required(&errs, "compass.tenantId", c.TenantID)
	required(&errs, "compass.tokenUrl", c.TokenURL)
	requireSecret(&errs, "compass.clientID", c.ClientID, EnvCompassClientID)
	requireSecret(&errs, "compass.clientSecret", c.ClientSecret, EnvCompassClientSecret)
	required(&errs, "compass.applicationPrefix", c.ApplicationPrefix)

	o := &f.OpenConnectors
	cfg.OpenConnectors = openconnectors.Config{
		Host:               o.Hostname,
		OrganizationSecret: redact.Secret(o.OrganizationSecret),
		UserSecret:         redact.Secret(o.UserSecret),
		Tags:               o.Tags,
		Timeout:            timeout(&errs, "openConnectors.timeoutMills", o.TimeoutMills),
		PageSize:           int(intIn(&errs, "openConnectors.pageSize", o.PageSize, openconnectors.DefaultPageSize, 1, openconnectors.MaxPageSize)),
		MaxSpecBytes:       intIn(&errs, "openConnectors.maxSpecBytes", o.MaxSpecBytes, DefaultMaxSpecBytes, 1, maxSpecBytes),
		RootCAs:            certPool(&errs, "openConnectors.caFile", o.CAFile),
	}
	required(&errs, "openConnectors.hostname", o.Hostname)
	requireSecret(&errs, "openConnectors.organizationSecret", o.OrganizationSecret, EnvOpenConnectorsOrganizationSecret)
	requireSecret(&errs, "openConnectors.userSecret", o.UserSecret, EnvOpenConnectorsUserSecret)
	for i, tag := range o.Tags {
		// An empty tag is the library's to report; one of white space
		// only is as useless, and this layer's rule.
		if tag != "" && strings.TrimSpace(tag) == "" {
			errs.add(fmt.Sprintf("openConnectors.tags[%d]", i), "missing value: a tag must not be empty")
		}
	}

	s := &f.Sync
	policy, err := ocsync.ParsePolicy(s.Policy)
	if err != nil {
		errs.add("sync.policy", "want %q, %q or %q", ocsync.PolicySync, ocsync.PolicyUpsertOnly, ocsync.PolicyCreateOnly)
	}
	cfg.Sync = Sync{
		Policy:              policy,
		Concurrency:         int(intIn(&errs, "sync.concurrency", s.Concurrency, DefaultConcurrency, 1, MaxConcurrency)),
		MaxDeletePercent:    int(intIn(&errs, "sync.maxDeletePercent", s.MaxDeletePercent, DefaultMaxDeletePercent, 1, 100)),
		SpecRefreshInterval: duration(&errs, "sync.specRefreshInterval", s.SpecRefreshInterval, DefaultSpecRefreshInterval, 0),
		RunTimeout:          duration(&errs, "sync.runTimeout", s.RunTimeout, DefaultRunTimeout, MaxRunTimeout),
	}

	if m := &f.Metrics; *m != (metricsFile{}) {
		p := metrics.Pusher{URL: m.PushgatewayURL, Username: m.PushgatewayUsername, Password: redact.Secret(m.PushgatewayPassword),
			BearerToken: redact.Secret(m.PushgatewayBearerToken), RootCAs: certPool(&errs, "metrics.caFile", m.CAFile)}
		for _, e := range Leaves(p.Validate()) {
			errs = append(errs, mapFieldError("metrics", metricsKeys, e))
		}
		p.URL, _ = metrics.ParseURL(p.URL)
		cfg.Metrics = Metrics{PushgatewayURL: p.URL, Pushgateway: p}
	}

	errs = append(errs, libraryProblems(cfg, keysOf(errs))...)
	sortByKey(errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

func parseLevel(errs *problems, s string) slog.Level {
	switch strings.ToLower(s) {
	case "trace":
		return LevelTrace
	case "debug":
		return slog.LevelDebug
	case "", "info":
		return slog.LevelInfo
	case "warn", "warning":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	errs.add("logLevel", "want Trace, Debug, Info, Warn or Error")
	return slog.LevelInfo
}

// required reports a missing value.
func required(errs *problems, key, value string) {
	if value == "" {
		errs.add(key, "missing value")
	}
}

// requireSecret reports a missing secret, naming the environment variable
// that may supply it.
func requireSecret(errs *problems, key, value, env string) {
	if value == "" {
		errs.add(key, "missing value: set it in the file or in %s", env)
	}
}

// duration parses a Go duration; empty means def. It must be positive and,
// when limit is not 0, at most limit.
func duration(errs *problems, key, s string, def, limit time.Duration) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		errs.add(key, "bad duration: want a Go duration such as 24h or 90m")
	case d <= 0 && limit == 0:
		errs.add(key, "value out of range: want a positive duration")
	case d <= 0 || (limit != 0 && d > limit):
		errs.add(key, "value out of range: want a positive duration of at most %s", limit)
	default:
		return d
	}
	return def
}

// certPool reads the PEM bundle at path, when one is configured.
func certPool(errs *problems, key, path string) *x509.CertPool {
	pool, err := endpoint.CertPool(path)
	if err != nil {
		*errs = append(*errs, &Error{Key: key, Problem: err.Error(), Err: err})
		return nil
	}
	return pool
}

func timeout(errs *problems, key string, ms int64) time.Duration {
	switch {
	case ms == 0:
		return DefaultTimeout
	case ms < 0 || ms > maxTimeoutMills:
		errs.add(key, "value out of range: want 0 (the default, %d) to %d milliseconds", DefaultTimeout.Milliseconds(), maxTimeoutMills)
		return DefaultTimeout
	}
	return time.Duration(ms) * time.Millisecond
}

func intIn(errs *problems, key string, v *int64, def, lo, hi int64) int64 {
	switch {
	case v == nil:
		return def
	case *v < lo || *v > hi:
		errs.add(key, "value out of range: want %d to %d", lo, hi)
		return def
	}
	return *v
}

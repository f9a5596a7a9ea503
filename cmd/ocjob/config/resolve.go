package config

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"

	ocjob "github.com/kyma-incubator/open-connectors-job"

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
func (f *file) resolve(ctx context.Context, env func(string) string) (*Config, []error) {
	var errs problems
	cfg := &Config{}
	var err error
	if cfg.LogLevel, err = ocjob.ParseLevel(f.LogLevel); err != nil {
		errs.add("logLevel", "%v", err)
	}
	if cfg.LogFormat, err = ocjob.ParseFormat(f.LogFormat); err != nil {
		errs.add("logFormat", "%v", err)
	}

	c := &f.Compass
	cfg.Compass = compass.Config{
		DirectorURL:         c.DirectorURL,
		Tenant:              c.TenantID,
		TokenURL:            c.TokenURL,
		ClientID:            c.ClientID,
		ClientSecret:        redact.Secret(c.ClientSecret),
		IntegrationSystemID: c.IntegrationSystemID,
		Timeout:             timeout(c.TimeoutMills),
		PageSize:            int(intIn(&errs, "compass.pageSize", c.PageSize, compass.DefaultPageSize, 1, compass.MaxPageSize)),
		RootCAs:             certPool(&errs, "compass.caFile", c.CAFile),
	}
	cfg.Source = openconnectors.SourceOptions{ApplicationPrefix: c.ApplicationPrefix, Owner: f.Sync.Owner}
	required(&errs, "compass.directorURL", c.DirectorURL)
	required(&errs, "compass.tenantId", c.TenantID)
	required(&errs, "compass.tokenUrl", c.TokenURL)
	required(&errs, "compass.applicationPrefix", c.ApplicationPrefix)

	o := &f.OpenConnectors
	cfg.OpenConnectors = openconnectors.Config{
		Host:               o.Hostname,
		OrganizationSecret: redact.Secret(o.OrganizationSecret),
		UserSecret:         redact.Secret(o.UserSecret),
		Tags:               o.Tags,
		Timeout:            timeout(o.TimeoutMills),
		PageSize:           int(intIn(&errs, "openConnectors.pageSize", o.PageSize, openconnectors.DefaultPageSize, 1, openconnectors.MaxPageSize)),
		MaxSpecBytes:       intIn(&errs, "openConnectors.maxSpecBytes", o.MaxSpecBytes, DefaultMaxSpecBytes, 1, maxSpecBytes),
		RootCAs:            certPool(&errs, "openConnectors.caFile", o.CAFile),
	}
	required(&errs, "openConnectors.hostname", o.Hostname)
	for i, tag := range o.Tags {
		// An empty tag is the library's to report; one of white space
		// only is as useless, and this layer's rule.
		if tag != "" && strings.TrimSpace(tag) == "" {
			errs.add(fmt.Sprintf("openConnectors.tags[%d]", i), "missing value: a tag must not be empty")
		}
	}

	s := &f.Sync
	policy, err := ocsync.ParsePolicy(s.Policy)
	positive := func(d time.Duration) error {
		if d <= 0 {
			return errors.New("value out of range: want a positive duration")
		}
		return nil
	}
	if err != nil {
		errs.add("sync.policy", "want %q, %q or %q", ocsync.PolicySync, ocsync.PolicyUpsertOnly, ocsync.PolicyCreateOnly)
	}
	cfg.Sync = Sync{
		Policy:              policy,
		Concurrency:         int(intIn(&errs, "sync.concurrency", s.Concurrency, DefaultConcurrency, 1, MaxConcurrency)),
		MaxDeletePercent:    int(intIn(&errs, "sync.maxDeletePercent", s.MaxDeletePercent, DefaultMaxDeletePercent, 1, 100)),
		SpecRefreshInterval: duration(&errs, "sync.specRefreshInterval", s.SpecRefreshInterval, DefaultSpecRefreshInterval, positive),
		RunTimeout:          duration(&errs, "sync.runTimeout", s.RunTimeout, DefaultRunTimeout, ocjob.CheckRunTimeout),
	}

	m := &f.Metrics
	cfg.Metrics.Pushgateway = metrics.Pusher{URL: m.PushgatewayURL, Username: m.PushgatewayUsername, Password: redact.Secret(m.PushgatewayPassword),
		BearerToken: redact.Secret(m.PushgatewayBearerToken), RootCAs: certPool(&errs, "metrics.caFile", m.CAFile)}
	from := cfg.secrets(ctx, f, env, &errs)
	for _, k := range secretKeys {
		if _, set := from[k.key]; !set && *k.field(cfg) == "" && !k.optional {
			errs.add(k.key, "missing value: set it in the file or in %s", k.env)
		}
	}
	if p := &cfg.Metrics.Pushgateway; *m != (metricsFile{}) || p.Password != "" || p.BearerToken != "" {
		for _, e := range ocjob.Leaves(p.Validate()) {
			errs = append(errs, mapFieldError("metrics", metricsKeys, e))
		}
		p.URL, _ = metrics.ParseURL(p.URL)
		cfg.Metrics.PushgatewayURL = p.URL
	}
	reported := keysOf(errs)
	for key, o := range from {
		reported[key] = reported[key] || reported[o.key] // an unreadable file
	}
	errs = append(errs, annotate(libraryProblems(cfg, reported), cfg, from)...)
	sortByKey(errs)
	if len(errs) > 0 {
		return nil, errs
	}
	return cfg, nil
}

// required reports a missing value.
func required(errs *problems, key, value string) {
	if value == "" {
		errs.add(key, "missing value")
	}
}

// duration parses a Go duration; empty means def. check judges it.
func duration(errs *problems, key, s string, def time.Duration, check func(time.Duration) error) time.Duration {
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		errs.add(key, "bad duration: want a Go duration such as 24h or 90m")
	} else if err = check(d); err != nil {
		errs.add(key, "%v", err)
	} else {
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

// timeout converts milliseconds, 0 meaning DefaultTimeout; the library
// judges the range (ocjob.MinTimeout, ocjob.MaxTimeout).
func timeout(ms int64) time.Duration {
	if ms == 0 {
		return DefaultTimeout
	}
	return time.Duration(min(max(ms, -1), ocjob.MaxTimeout.Milliseconds()+1)) * time.Millisecond
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

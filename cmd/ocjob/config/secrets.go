package config

import (
	"context"
	"errors"
	"strings"

	ocjob "github.com/kyma-incubator/open-connectors-job"
)

// secretKey is a secret of the configuration. Its sources, the first set
// winning: the environment variable env, the file env+"_FILE" names, the
// file key+"File" names, the key itself. An optional one may be missing.
type secretKey struct {
	key, env string
	field    func(*Config) *string
	file     func(*file) string
	optional bool
}

var secretKeys = []secretKey{
	{"compass.clientID", EnvCompassClientID, func(c *Config) *string { return &c.Compass.ClientID },
		func(f *file) string { return f.Compass.ClientIDFile }, false},
	{"compass.clientSecret", EnvCompassClientSecret, func(c *Config) *string { return (*string)(&c.Compass.ClientSecret) },
		func(f *file) string { return f.Compass.ClientSecretFile }, false},
	{"openConnectors.organizationSecret", EnvOpenConnectorsOrganizationSecret,
		func(c *Config) *string { return (*string)(&c.OpenConnectors.OrganizationSecret) },
		func(f *file) string { return f.OpenConnectors.OrganizationSecretFile }, false},
	{"openConnectors.userSecret", EnvOpenConnectorsUserSecret, func(c *Config) *string { return (*string)(&c.OpenConnectors.UserSecret) },
		func(f *file) string { return f.OpenConnectors.UserSecretFile }, false},
	{"metrics.pushgatewayPassword", EnvPushgatewayPassword, func(c *Config) *string { return (*string)(&c.Metrics.Pushgateway.Password) },
		func(f *file) string { return f.Metrics.PasswordFile }, true},
	{"metrics.pushgatewayBearerToken", EnvPushgatewayBearerToken, func(c *Config) *string { return (*string)(&c.Metrics.Pushgateway.BearerToken) },
		func(f *file) string { return f.Metrics.BearerTokenFile }, true},
}

// SecretFile is a secret read from a file: by Load, and again by
// ReadSecrets before every run of a service, so that a rotated Kubernetes
// Secret takes effect without a restart.
type SecretFile struct {
	// Key is the secret's key, for example openConnectors.userSecret.
	Key string
	// From is what named the file: a key (openConnectors.userSecretFile)
	// or an environment variable (OCJOB_OPENCONNECTORS_USER_SECRET_FILE).
	From string
	// Path is the file.
	Path string
}

// origin is where a secret came from: the key its problems are reported
// under and a note naming the source.
type origin struct{ key, note string }

func (s SecretFile) origin() origin {
	if strings.Contains(s.From, ".") {
		return origin{s.From, "read from " + s.Path}
	}
	return origin{s.Key, "read from " + s.Path + ", named by " + s.From}
}

// secrets replaces the secrets of c by those of the environment and of
// files (see secretKey), records the files in c.SecretFiles, and returns
// the origin of every secret that did not come from its key.
func (c *Config) secrets(ctx context.Context, f *file, env func(string) string, errs *problems) map[string]origin {
	from := map[string]origin{}
	for _, k := range secretKeys {
		v, envFile, keyFile := env(k.env), env(k.env+"_FILE"), k.file(f)
		switch {
		case v != "" && envFile != "":
			errs.add(k.key, "both %s and %s_FILE are set: set one", k.env, k.env)
		case keyFile != "" && *k.field(c) != "":
			errs.add(k.key+"File", "%s is set too: set one", k.key)
		case v != "":
			from[k.key] = origin{k.key, "from " + k.env}
			*k.field(c), _ = ocjob.TrimNewline(v)
			if *k.field(c) != v {
				c.Trimmed = append(c.Trimmed, k.env)
			}
		case envFile != "" || keyFile != "":
			sf := SecretFile{Key: k.key, From: k.key + "File", Path: keyFile}
			if envFile != "" {
				sf.From, sf.Path = k.env+"_FILE", envFile
			}
			c.SecretFiles = append(c.SecretFiles, sf)
			from[k.key] = sf.origin()
			c.readSecret(ctx, sf, errs)
		}
	}
	return from
}

// readSecret reads the secret of sf into c and reports whether it changed.
func (c *Config) readSecret(ctx context.Context, sf SecretFile, errs *problems) bool {
	v, trimmed, err := ocjob.ReadSecretFile(ctx, sf.Path)
	if err != nil {
		*errs = append(*errs, &Error{Key: sf.origin().key, Problem: err.Error(), Err: err})
		return false
	}
	if trimmed {
		c.Trimmed = append(c.Trimmed, sf.Path)
	}
	for _, k := range secretKeys {
		if k.key == sf.Key && *k.field(c) != v {
			*k.field(c) = v
			return true
		}
	}
	return false
}

// ReadSecrets reads the secrets of c.SecretFiles again into c, with the
// checks of Load, and reports whether any of them changed. c.Trimmed
// lists the files whose trailing newline was removed. On an error, which
// joins one *Error per problem, c holds what was read and must not be used.
func (c *Config) ReadSecrets(ctx context.Context) (changed bool, err error) {
	var errs problems
	c.Trimmed = nil
	from := map[string]origin{}
	for _, sf := range c.SecretFiles {
		from[sf.Key] = sf.origin()
		changed = c.readSecret(ctx, sf, &errs) || changed
	}
	if len(errs) == 0 {
		errs = annotate(libraryProblems(c, map[string]bool{}), c, from)
	}
	return changed, errors.Join(errs...)
}

// annotate names the origin of a secret in its problems, under the key
// that set it, and calls a trailing newline one.
func annotate(errs []error, c *Config, from map[string]origin) []error {
	for _, err := range errs {
		e, ok := err.(*Error)
		if !ok {
			continue
		}
		for _, k := range secretKeys {
			switch o, set := from[k.key]; {
			case e.Key != k.key:
			case set:
				e.Key, e.Problem = o.key, e.Problem+" ("+o.note+")"
			case strings.HasSuffix(*k.field(c), "\n"):
				e.Problem += " (a trailing newline)"
			}
		}
	}
	return errs
}

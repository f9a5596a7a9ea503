package config

import (
	"errors"
	"slices"
	"strings"
	"sync"

	ocjob "github.com/kyma-incubator/open-connectors-job"

	"github.com/kyma-incubator/open-connectors-job/internal/strictjson"
	"github.com/kyma-incubator/open-connectors-job/ocsync/remote"
)

// libraryKey is the configuration key of a library field, and what its
// problems start with.
type libraryKey struct {
	key, prefix string
}

// The keys of the library fields the file sets, by library. A field missing
// here (one the file never sets) is reported under the section's name.
var (
	openConnectorsKeys = map[string]libraryKey{
		"Host":               {key: "openConnectors.hostname"},
		"UserSecret":         {key: "openConnectors.userSecret"},
		"OrganizationSecret": {key: "openConnectors.organizationSecret"},
		"Tags":               {key: "openConnectors.tags"},
		"PageSize":           {key: "openConnectors.pageSize"},
		"MaxSpecBytes":       {key: "openConnectors.maxSpecBytes"},
		"Timeout":            {key: "openConnectors.timeoutMills"},
		"RootCAs":            {key: "openConnectors.caFile"},
	}
	sourceKeys = map[string]libraryKey{
		"ApplicationPrefix": {key: "compass.applicationPrefix", prefix: "invalid prefix: "},
		"Owner":             {key: "sync.owner"},
	}
	compassKeys = map[string]libraryKey{
		"DirectorURL":         {key: "compass.directorURL"},
		"TokenURL":            {key: "compass.tokenUrl"},
		"ClientID":            {key: "compass.clientID"},
		"ClientSecret":        {key: "compass.clientSecret"},
		"Tenant":              {key: "compass.tenantId"},
		"IntegrationSystemID": {key: "compass.integrationSystemID"},
		"Scope.Context":       {key: "openConnectors.hostname"},
		"Scope.Owner":         {key: "sync.owner"},
		"PageSize":            {key: "compass.pageSize"},
		"Timeout":             {key: "compass.timeoutMills"},
		"RootCAs":             {key: "compass.caFile"},
	}
	metricsKeys = map[string]libraryKey{
		"URL":         {key: "metrics.pushgatewayURL"},
		"Username":    {key: "metrics.pushgatewayUsername"},
		"Password":    {key: "metrics.pushgatewayPassword"},
		"BearerToken": {key: "metrics.pushgatewayBearerToken"},
	}
)

// Library returns the library values of the file: what ocjob.New builds
// the sync from.
func (c *Config) Library() ocjob.Config {
	return ocjob.Config{OpenConnectors: c.OpenConnectors, Source: c.Source, Compass: c.Compass}
}

// libraryProblems validates the values cfg hands to the libraries and
// returns one *Error per problem, keyed by configuration key and wrapping
// the library's *remote.FieldError. A key already in reported (a problem
// this layer found, such as a missing value) or named by an earlier library
// is not reported again: one value, one problem.
func libraryProblems(cfg *Config, reported map[string]bool) []error {
	parts := map[string]struct {
		section string
		keys    map[string]libraryKey
	}{
		"openConnectors": {"openConnectors", openConnectorsKeys},
		"source":         {"compass", sourceKeys},
		"compass":        {"compass", compassKeys},
	}
	var errs []error
	for _, err := range ocjob.Leaves(cfg.Library().Validate()) {
		var pe *ocjob.PartError
		if !errors.As(err, &pe) {
			errs = append(errs, &Error{Problem: err.Error(), Err: err})
			continue
		}
		lib := parts[pe.Part]
		for _, e := range ocjob.Leaves(pe.Err) {
			ce := mapFieldError(lib.section, lib.keys, e)
			if reported[ce.Key] {
				continue
			}
			reported[ce.Key] = true
			errs = append(errs, ce)
		}
	}
	return errs
}

// mapFieldError turns one library error into an *Error: a FieldError's
// Field "Tags[2]" becomes "<key of Tags>[2]"; an error that is not a
// FieldError belongs to the section.
func mapFieldError(section string, keys map[string]libraryKey, err error) *Error {
	var fe *remote.FieldError
	if !errors.As(err, &fe) {
		return &Error{Key: section, Problem: err.Error(), Err: err}
	}
	name, index, indexed := strings.Cut(fe.Field, "[")
	k, ok := keys[name]
	switch {
	case !ok:
		k = libraryKey{key: section}
	case indexed:
		k.key += "[" + index
	}
	return &Error{Key: k.key, Problem: k.prefix + fe.Problem, Err: err}
}

// Explain returns the leaves of a run's error (Leaves), each naming the
// fields of its likely fix (remote.ConfigError) by configuration key.
func Explain(err error) []error {
	out := ocjob.Leaves(err)
	for i, e := range out {
		out[i] = remote.Explain(e, KeyOf)
	}
	return out
}

// Hints are the fixes a run's error suggests, naming configuration keys.
func Hints(err error) []string { return remote.Advice(err, KeyOf) }

// KeyOf is the configuration key of a field of a client's Config.
func KeyOf(config, field string) string {
	return map[string]map[string]libraryKey{"compass": compassKeys, "openconnectors": openConnectorsKeys}[config][field].key
}

// keysOf is the set of keys errs name.
func keysOf(errs []error) map[string]bool {
	keys := map[string]bool{}
	for _, err := range errs {
		if e, ok := err.(*Error); ok {
			keys[e.Key] = true
		}
	}
	return keys
}

// keyRank is the position of a key in the document's schema.
var keyRank = sync.OnceValue(strictjson.KeyOrder[file])

// sortByKey orders errs by the schema position of their keys, keeping the
// order of problems of one key.
func sortByKey(errs []error) {
	of := func(err error) int {
		if e, ok := err.(*Error); ok {
			return keyRank()(e.Key)
		}
		return keyRank()("\x00")
	}
	slices.SortStableFunc(errs, func(a, b error) int { return of(a) - of(b) })
}

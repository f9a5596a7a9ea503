// Package config loads the ocjob configuration file: the JSON document of the
// original Open Connectors job, every key of which keeps its meaning, plus the
// optional keys of ocjob (page sizes, spec size limit, CA bundles, sync
// policy, owner, concurrency, deletion guard, spec refresh interval, run
// timeout, metrics), and the environment variables and files that may supply the
// secrets instead of the file.
//
// Load and Parse check the whole document and report its problems at once,
// each naming its key path (for example compass.pageSize), in document
// order: unknown keys, keys given twice (in the same or another case) and
// values of the wrong type first; once every value has its type, missing and
// invalid values, all of them. Secrets are held as
// redact.Secret and never appear in an error, not even when a secret value
// sits where a value of another type was expected; a secret or tenant that
// could not travel as one HTTP header token (white space, a comma, a control
// character) and a URL carrying credentials or a query are refused without
// quoting them.
//
// The rules of a value belong to the library that uses it: the file layer
// builds the openconnectors.Config, openconnectors.SourceOptions and
// compass.Config of the document (Config.OpenConnectorsConfig,
// Config.SourceOptions, Config.CompassConfig), runs their Validate, and
// reports each *remote.FieldError under its key (Field "Tags[2]" becomes
// openConnectors.tags[2]), keeping it in the *Error's chain for errors.As.
// It checks itself only what the libraries cannot know: missing values
// (naming the environment variable of a secret), the units and ranges of its
// own keys, durations, the policy, CA files and the Pushgateway URL.
//
// Input is bounded: a document larger than MaxFileBytes is refused without
// being read whole, and Load stops reading when its context is done.
package config

// Package config loads the ocjob configuration file: the JSON document of the
// original Open Connectors job, every key of which keeps its meaning, plus the
// optional keys of ocjob (page sizes, spec size limit, sync policy, owner,
// concurrency, deletion guard, spec refresh interval, metrics), and the
// environment variables that may supply the secrets instead of the file.
//
// Load and Parse check the whole document and report every problem at once,
// each naming its key path (for example compass.pageSize). Secrets are held as
// ocsync.Secret and never appear in an error, not even when a secret value
// sits where a value of another type was expected.
package config

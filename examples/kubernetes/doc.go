// Package kubernetes holds the example deployment of ocjob: a batch/v1
// CronJob (cronjob.yaml), the Secret with its configuration (secret.yaml) and
// a Dockerfile for a static, non-root image. Its tests decode the manifests
// strictly and check their security settings; the package has no code.
package kubernetes

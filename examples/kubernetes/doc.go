// Package kubernetes holds what a cluster operator installs to run ocjob,
// in a Go module of its own so that the library and the job need none of
// the Kubernetes, kustomize, Helm or Prometheus modules its tests use:
//
//   - helm/ocjob: a Helm chart rendering one CronJob, or one service-mode
//     Deployment with a Service, per shard from one values file, the CA
//     bundle, the credentials from an existing or a chart-made Secret, a
//     PodMonitor and a PrometheusRule, with values.schema.json and
//     chart-testing's ci/*-values.yaml;
//   - base: a batch/v1 CronJob, its configuration in a Secret (config.json,
//     without secrets), a ServiceAccount without an API token, and a
//     ConfigMap with the CA bundle named by compass.caFile and
//     openConnectors.caFile; the credentials Secret it references is the
//     operator's, never part of the base;
//   - components/credentials and overlays/with-credentials: an opt-in,
//     kustomize-made credentials Secret;
//   - overlays/sharded: one CronJob per shard of an Open Connectors tenant,
//     each with its own tags, applicationPrefix and sync.owner;
//   - service: ocjob as a Deployment that syncs at an interval and serves
//     /metrics, /healthz and /readyz, with a Service and a PodMonitor;
//   - jobs: the CronJob's job with -dry-run or -approve DIGEST, for
//     reviewing and approving withheld deletions;
//   - monitoring: the alerts as a PrometheusRule, a Grafana dashboard and an
//     Alertmanager route for KubeJobFailed;
//
// and a Dockerfile for a static, non-root, multi-platform image. Its tests
// lint the chart and render every ci values file with Helm's Go SDK, render
// every kustomization with the kustomize API, decode each object into its
// Kubernetes API type as strictly as the API server (the Prometheus
// Operator's objects into local types), check the security settings and
// the invariants between the objects (deadlines against the schedule and
// sync.runTimeout, secrets only through secretKeyRef, no credentials in the
// base, shards that cannot claim the same application, Services and
// PodMonitors that reach the metrics port), load each pod's configuration
// from the files the pod would see, parse every alert and dashboard
// expression with Prometheus' parsers against the README's metric names,
// and check the Dockerfile and the .dockerignore line by line. The package
// has no code.
package kubernetes

// Package kubernetes holds the example deployment of ocjob, as kustomizations:
//
//   - base: a batch/v1 CronJob, its configuration in a Secret (config.json,
//     without secrets), the credentials in a second Secret passed as the
//     OCJOB_* environment variables through secretKeyRef, a ServiceAccount
//     without an API token, and a ConfigMap with the CA bundle named by
//     compass.caFile and openConnectors.caFile;
//   - overlays/sharded: one CronJob per shard of an Open Connectors tenant,
//     with disjoint tags and distinct sync.owner, sharing the service account,
//     the credentials and the CA bundle;
//   - service: ocjob as a Deployment that syncs at an interval and serves
//     /healthz and /readyz, instead of the CronJob;
//
// and a Dockerfile for a static, non-root, multi-platform image. Its tests
// render every kustomization with the kustomize API, decode each object into
// its Kubernetes API type as strictly as the API server, check the security
// settings and the invariants between the objects (deadlines against the
// schedule and sync.runTimeout, secrets only through secretKeyRef, shards
// that cannot overlap), load each pod's configuration from the files the pod
// would see, and check the Dockerfile and the .dockerignore line by line. The
// package has no code.
package kubernetes

// Command embed shows that the ocsync engine is not tied to Open Connectors:
// it keeps one Compass application per OpenAPI document in a folder, with a
// Source of its own (folderSource, about a hundred lines) and the compass
// Registry that ocjob uses.
//
// Every *.json, *.yaml or *.yml file in -dir becomes an application named
// <prefix>-<file name made a valid Director name> (for example
// "files-legacy-inventory" for legacy_inventory.json) with one bundle and one
// API definition holding the document byte for byte. The API's target URL is
// the document's first server (OpenAPI 3) or its scheme, host and basePath
// (Swagger 2.0), else -target-url. The revision is a hash of the file's
// content, so an edited file is updated on the next run and an untouched one
// costs nothing. A file that is not a Swagger 2.0 or OpenAPI 3 document is
// skipped while it has no application and an item failure once it has. The
// optional
// -credential (or API_CREDENTIAL) becomes the bundle's Authorization header.
//
// Ownership: the Registry writes the identity label open_connectors with
// connectorInstanceContext set to -context (default "files:<absolute dir>")
// and connectorInstanceID set to the file name, and it only ever updates or
// deletes applications carrying its own context. Two folders synchronised
// into one tenant therefore never touch each other's applications, and a
// folder that moves keeps its applications only when -context stays the same.
// Removing a file deletes its application on the next run.
//
// Usage:
//
//	export COMPASS_DIRECTOR_URL=https://compass-gateway-auth-oauth.example.com/director/graphql
//	export COMPASS_TOKEN_URL=https://oauth2.example.com/oauth2/token
//	export COMPASS_CLIENT_ID=... COMPASS_CLIENT_SECRET=... COMPASS_TENANT=...
//	go run ./examples/embed -dir ./specs [-prefix files] [-dry-run]
//
// Every Compass flag falls back to the environment variable named in its
// help. The program exits 0 when the folder and the tenant are in sync (or
// a dry run made its plan), 1 when the run failed or some items failed, and
// 2 on a usage error.
package main

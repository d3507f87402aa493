// Package api is a typed client for the public API v1 of an Airbyte server,
// Airbyte Cloud or self-hosted: trigger a connection's sync, wait for it,
// then run what depends on the data.
//
// The shortest use:
//
//	c, err := api.New("http://localhost:8000", api.WithClientCredentials(id, secret))
//	job, err := c.SyncAndWait(ctx, connectionID, nil)
//
// # Base URL and authentication
//
// The base URL is https://api.airbyte.com/v1 for Cloud (the default) and
// <host>/api/public/v1 for a self-hosted server; a URL without a path gets
// the right one. Every endpoint is the base URL followed by its path; in
// particular the client-credentials token is fetched from
// <base>/applications/token, never from the host root. Three kinds of
// authentication are offered: client credentials (WithClientCredentials;
// the token is cached, shared by concurrent requests, renewed before
// expires_in runs out and once more after a 401), a static bearer token
// (WithBearerToken) and basic auth (WithBasicAuth, or user information in
// the URL). Secrets never appear in errors, logs or String.
//
// # Faults
//
// Requests are retried with exponential backoff (cenkalti/backoff/v4) on
// 429, honouring Retry-After, and on 502, 503, 504 and broken connections,
// within RetryPolicy and the context. A request that creates something
// (POST) is not repeated when its outcome is unknown: the error wraps
// ErrOutcomeUnknown. CreateJob goes further: it looks for an active job of
// the connection and returns it, and asks again only when there is none.
// Error responses are *APIError values carrying the status and Airbyte's
// problem details; errors.Is matches ErrNotFound, ErrConflict,
// ErrUnauthorized and ErrRateLimited. Job statuses and types are open
// strings: a value this package does not know decodes without error.
//
// # Endpoints covered
//
//	GET    /health                          Health
//	POST   /applications/token              (client credentials)
//	GET    /jobs                            Jobs (filters, iterator), ActiveJob
//	POST   /jobs                            CreateJob (sync, reset, refresh, clear), SyncAndWait
//	GET    /jobs/{jobId}                    GetJob, WaitJob
//	DELETE /jobs/{jobId}                    CancelJob
//	GET    /connections                     Connections
//	POST   /connections                     CreateConnection
//	GET    /connections/{id}                GetConnection
//	PATCH  /connections/{id}                UpdateConnection
//	DELETE /connections/{id}                DeleteConnection
//	GET    /sources, /destinations          Sources, Destinations
//	POST   /sources, /destinations          CreateSource, CreateDestination
//	GET    /sources/{id}, /destinations/{id}      GetSource, GetDestination
//	PATCH  /sources/{id}, /destinations/{id}      UpdateSource, UpdateDestination
//	PUT    /sources/{id}, /destinations/{id}      ReplaceSource, ReplaceDestination
//	DELETE /sources/{id}, /destinations/{id}      DeleteSource, DeleteDestination
//	GET    /workspaces, POST /workspaces    Workspaces, CreateWorkspace
//	GET, PATCH, DELETE /workspaces/{id}     GetWorkspace, UpdateWorkspace, DeleteWorkspace
//	GET    /streams                         StreamProperties
//
// Not covered: connector definitions, declarative sources, OAuth,
// permissions, organizations, users, tags and the embedded-widget
// endpoints. Package airbytetest serves all the endpoints above in-process
// for tests.
package api

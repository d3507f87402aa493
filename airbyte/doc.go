// Package airbyte will speak the Airbyte protocol, the contract for
// extraction: typed protocol messages, a streaming JSONL codec, a Source
// interface with native Go sources (PostgreSQL, files), a runner for any
// connector executable or image, and a client for Airbyte servers.
//
// It holds no API yet: its issue (extraction) builds it. See DESIGN.md.
package airbyte

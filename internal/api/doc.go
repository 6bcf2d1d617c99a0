// Package api serves Airlock's HTTP API under /api/v1: JSON in and out,
// bearer tokens (stored hashed) with roles, and one place that turns errors
// into {"error": {"code", "message"}} responses. Handlers are thin: they
// decode, call a domain service, and encode. Writes are audited by the
// domain services in the same transaction as the write.
package api

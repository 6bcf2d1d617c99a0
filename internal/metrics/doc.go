// Package metrics exports Airlock's counters to Prometheus. Collectors read
// the counters the gateway, the event bus and the policy already keep, at
// scrape time, so the hot path pays nothing for being measured.
package metrics

// Package bus distributes events from the gateway (and other systems) to
// their consumers. Publishing never blocks: each subscriber has a bounded
// queue, and what does not fit is dropped and counted, because a slow
// detector must never slow a request down. The in-process bus here is the
// embedded default; a NATS JetStream bus implements the same contract for
// several processes.
package bus

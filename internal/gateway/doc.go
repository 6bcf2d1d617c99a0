// Package gateway is Airlock's data plane: an OpenAI-compatible reverse proxy
// that application clients call instead of their model endpoint. For every
// request it identifies the caller, enforces the current containment policy
// (a policy.Snapshot swapped atomically), forwards to the route's upstream
// with the upstream's own key, inspects the response (streams chunk by
// chunk), and emits one event without ever blocking on it.
//
// The gateway never imports the control side: it gets snapshots through a
// policy.Holder and hands events to a small sink interface.
package gateway

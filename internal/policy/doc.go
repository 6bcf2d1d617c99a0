// Package policy is Airlock's containment policy as data: the actions a
// responder (or a playbook) puts in force, their validation, their
// compilation into an immutable, versioned Snapshot, and the pure evaluation
// of a request against a snapshot.
//
// The gateway holds the current snapshot in a Holder, swapped atomically
// when a new version arrives and never moved backwards, and calls Evaluate
// on every request: a Decision says whether the caller is blocked or the
// endpoint disabled, which rate limits count the request, whether to
// sanitise the prompt or filter it, which limits and output protections
// apply, where to route it, and whether to capture it as evidence.
//
// The package does no I/O, takes no locks on the request path and keeps no
// counters: rate limits, redaction and capture are carried out by the
// gateway; the policy only says which apply. Evaluate allocates nothing
// when no action applies. It imports only event and textnorm of ours.
package policy

// Package playbook owns the playbook format: what a playbook says to do
// when an incident of some type opens, its strict YAML parser, the
// built-in playbooks (one for every incident type in internal/taxonomy,
// after the containment strategies of the AI incident response guide) and
// the loader that lets an operator's files override them by name or by
// type.
//
// Parse checks everything that can be checked without an incident: keys,
// types, kinds and modes, the fields each step kind allows, incident types
// and phases against the taxonomy, notify templates, and every containment
// action by building a sample policy.Action and running the policy's own
// Validate. Errors name the file and line. A playbook that parses can
// therefore only fail at run time for reasons of the incident or the
// world (no attacker entity, a refused phase transition, a webhook down).
//
// The package does not run playbooks: the runner in internal/respond binds
// steps to an incident, keys idempotency on (incident, playbook, step id),
// asks for approvals and applies actions. Apart from Load reading its
// directory, the package does no I/O, and it imports only event, policy and
// taxonomy of ours.
package playbook

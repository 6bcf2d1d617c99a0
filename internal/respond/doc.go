// Package respond turns alerts into incidents and runs their playbooks.
//
// The Correlator folds each stored alert into an open incident that shares
// a caller with it (or, for an alert about no caller, a model version) and
// fits its category or is the next stage of its attack; otherwise it opens
// one. It keeps a decaying risk score per incident and per entity, and
// rebuilds its index from the open incidents after a restart.
//
// The Runner carries out the playbook of each incident's type
// (respond/playbook). It keeps no state of its own: every step's progress
// is a playbook_step entry on the incident's hash-chained timeline, so a
// restart resumes where the last run stopped and a step that took effect
// before a crash is recognised rather than repeated. Containment goes
// through the containment service, evidence and tasks through the incident
// service; notifications go to webhooks.
//
// It must not import the API, the gateway or the CLI.
package respond

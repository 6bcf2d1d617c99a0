// Package taxonomy owns Airlock's vocabulary for what an incident is: the
// four incident categories and their sixteen types, the lifecycle phases and
// their order, and each type's mapping to MITRE ATLAS techniques, OWASP Top 10
// for LLM Applications entries (tagged with their edition, since editions
// renumber) and NIST AI 100-2 attack classes.
//
// The built-in data is Go values, not a file read at run time; callers get
// copies and cannot change it. ParseATLAS reads a MITRE ATLAS.yaml release so
// that an operator can import a newer technique catalogue.
//
// The package does no I/O of its own and imports nothing of ours.
package taxonomy

// Package drill plays attacks against a running Airlock and scores how it
// responded: scenarios of benign and attack traffic, what must happen, and
// by when.
//
// A scenario sends its traffic through the gateway like any client (API
// keys, the OpenAI wire format, X-Forwarded-For to play several client
// addresses where the gateway trusts the sender as a proxy), watches the
// API for the incident its attack must open, acts as the responder where a
// playbook waits for one, and checks containment where it matters: at the
// gateway, in what the attacker gets back. The runner speaks only HTTP to a
// gateway URL and an API URL with a token, so the same scenario runs
// against `airlock demo` and against a live deployment (`airlock drill`).
//
// Each run is scored: detected, contained, time to detect and to contain
// from the first attack request (deadlines DetectWithin and ContainWithin),
// benign requests that failed, the incident, and the playbook steps that
// ran without a person. A run passes only when all of it holds.
//
// Every identity a run uses (API keys, users, client addresses, the
// poisoned model version) is new for that run, so that a drill never
// leans on state an earlier one left behind; a run that finds its attack
// folded into an incident opened before it says so.
//
// A drill sees what a client and a responder see, nothing more: the
// package imports none of the server's packages, only the model scanner
// (which it runs as a model registry would, before reporting a
// registration) and the demo model's constants.
package drill

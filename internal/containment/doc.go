// Package containment is the control side of the containment policy: it
// keeps the policy's actions in the store, gives every change a new version,
// compiles and publishes the snapshot that gateways enforce, expires actions
// whose time is up, and writes each change on the audit log and, when the
// action names an incident, on that incident's timeline (where it counts as a
// containment measure in force).
//
// The rules of an action (what it may target, how it applies) are package
// policy's; this package only stores, versions and distributes them.
package containment

// Package incident owns the incident aggregate and its rules: creation and
// validation, the five-phase lifecycle with exit criteria, milestones, tasks,
// the hash-chained timeline, evidence blobs with their chain of custody, and
// verification that nothing stored was altered, removed or reordered.
//
// Every write is one store transaction that also appends the audit record
// and the timeline entry describing it, so the three never disagree. The
// package knows nothing of HTTP; errors carry enough for the API to pick a
// status (see ValidationError, CriteriaError, ErrTooLarge and the store's
// sentinels).
package incident

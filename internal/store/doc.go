// Package store holds Airlock's storage contracts: the records that are
// persisted, the transaction interface every backend implements, and the
// sentinel errors. Implementations live in subpackages (sqlite, the embedded
// default; postgres for scale-out); storetest holds the contract tests that
// every implementation must pass.
//
// The store knows nothing of incident rules: it keeps what it is given, in one
// transaction at a time. The domain packages decide what is valid.
package store

// Package registry records which model artefacts are trusted and checks
// that they stay what they were: every registered version keeps each
// file's SHA-256 and size, a manifest digest over them, the scanner's
// verdict, the outcome of an OpenSSF model-signing signature check and
// optional baseline metrics, in the store.
//
// A version is immutable: registering the same name and version again with
// different content is refused (ErrImmutable); with the same content it is
// a no-op. Verify re-hashes the files and names every changed, missing and
// added one. A version the scanner found dangerous, or whose signature
// failed, is recorded but is never marked deployed. Monitor re-verifies the
// deployed versions on a schedule and raises one alert per change of state.
//
// The manifest digest is SHA-256 over, for each file in manifest order
// (relative slash-separated paths, sorted component by component as
// model-signing sorts them): the path's length as a big-endian uint64, the
// path, the file's raw 32-byte SHA-256 and its size as a big-endian uint64.
// Unlike model-signing's subject digest (kept as SigningDigest, which
// hashes the digests alone), it changes when a file is renamed.
//
// The package never loads a model: it hashes bytes and relies on package
// scan, which executes nothing. It does not decide what an alert means for
// an incident; it hands alerts and events to the functions it is given.
package registry

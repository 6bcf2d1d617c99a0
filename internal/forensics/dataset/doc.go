// Package dataset checks the integrity of training and evaluation data and
// looks for signs of poisoning.
//
// ManifestOf fingerprints a file or a folder: a SHA-256 per file and, for
// record formats (JSON Lines, CSV/TSV), a SHA-256 per record over a
// canonical encoding and an RFC 6962 Merkle root over each file's records,
// then one root over the files. DiffManifests (or Diff, on paths) says
// which files and which records were added, removed or changed.
//
// Poisoning finds the marks a poisoning attack leaves in labelled text:
// rare n-grams tied to one label (backdoor triggers), near-duplicate texts
// with conflicting labels (label flips), and LabelShift compares two label
// distributions.
//
// Files are streamed; memory grows with the number of records (a hash and
// a reference each, about 100 bytes), not with their size. The package
// reports what it finds; deciding that data is poisoned is the caller's.
package dataset

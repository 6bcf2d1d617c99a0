// Package redact finds personal data and secrets in model output and replaces
// them with "[REDACTED:<rule id>]", in whole strings and in streams that
// arrive in chunks cut anywhere.
//
// The gateway's output protection calls it on every response, so the common
// case, text with nothing in it, is one pass over the bytes with a lookup
// table and no allocation. A rule is tried only where one of its keywords
// occurs ("AKIA", "ghp_", "@", a digit, "=" after a key called password, ...);
// its regular expression or scanner runs only there, and a validator (Luhn and
// card prefixes, IBAN mod-97, SSN ranges, Shannon entropy, a JWT header that
// decodes to JSON with "alg") rejects look-alikes.
//
// Every decision looks at a bounded window of text (MaxMatchLen), which is
// what lets a Stream give exactly the output Redact gives on the whole text
// while holding back only the bytes that could still turn out to be part of a
// match: after a plain word, the stream waits for the next byte; after "ghp_",
// until the token ends.
//
// The rules are a table in rules.go. The package imports nothing of ours and
// does no I/O; a Redactor is immutable and safe for concurrent use, a Stream
// belongs to one response.
package redact

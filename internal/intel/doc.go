// Package intel reads threat-intelligence feeds, CSV and STIX 2.1, into
// indicators, and matches them against gateway events: client addresses,
// API key hashes and prompt text. It owns the feed formats, their strict
// validation, and the indexes that make matching fast; it does no I/O
// beyond the reader it is given, and raises no alerts itself.
//
// # Indicators
//
// An indicator is a type and a value, with a source, a description, a
// severity (low, medium, high or critical; medium when not given), a
// confidence from 0 to 1 (0.5 when not given), labels, a validity window
// and MITRE ATLAS technique ids. The types are:
//
//   - ip: an IPv4 or IPv6 address. IPv4-mapped IPv6 addresses
//     (::ffff:198.51.100.7) are the IPv4 address. Zones are refused.
//   - cidr: an address prefix such as 203.0.113.0/24. Host bits are cleared
//     (203.0.113.9/24 is 203.0.113.0/24); a /32 or /128 is an ip indicator.
//     Prefixes wider than /8 (IPv4) or /16 (IPv6) are refused.
//   - api_key_hash: an API key as the gateway's events record it: "kh_"
//     and 24 hex digits, a keyed hash (HMAC-SHA-256 under the gateway's
//     secret) of the key. A plain SHA-256 of a key is refused: events never
//     carry it, so it could never match.
//   - model_hash: the SHA-256 of a model file, 64 hex digits.
//   - prompt_signature: a phrase found in hostile prompts. It is matched
//     after normalising both the phrase and the prompt (textnorm.Fold: case,
//     homoglyphs, accents, invisible characters, runs of spaces), in every
//     form textnorm.Variants gives (spaced-out letters joined, leetspeak
//     undone), so "IGNORE previous", "іgnore  previous" with a Cyrillic і,
//     and "1gn0r3 previous" all match "ignore previous". It must have at
//     least 8 characters, spaces not counted, once normalised: shorter ones
//     would flag benign prompts. A value starting with "regex:" is an RE2
//     regular expression instead (at most 512 bytes), matched
//     case-insensitively against the same normalised forms; it must not
//     be able to match fewer than 8 characters. A feed holds at most 1000
//     regex signatures, since each runs on every prompt.
//   - domain: a host name; it matches itself and every name below it.
//     Internationalised names are written in their xn-- form.
//   - url: an absolute http, https, ws or wss URL, matched exactly after
//     lower-casing the scheme and host and dropping the fragment.
//
// Values, hashes included, are stored in that canonical form.
//
// # CSV feeds
//
// A CSV feed (RFC 4180: comma-separated, fields with commas, quotes or
// line breaks in double quotes) starts with a header row naming its
// columns, in any order:
//
//	column       required  content
//	type         yes       ip, cidr, api_key_hash, model_hash, prompt_signature, domain or url
//	value        yes       the value, as above
//	description  no        free text; cut at 4 KiB
//	severity     no        low, medium, high or critical (default medium)
//	confidence   no        a number from 0 to 1 (default 0.5)
//	labels       no        labels separated by semicolons
//	valid_from   no        RFC 3339 time (2025-01-31T00:00:00Z); empty: no start
//	valid_until  no        RFC 3339 time, after valid_from; empty: no end
//	source       no        who published it; default: the feed's file name
//	id           no        the indicator's id; default: "ind_" and a digest of type and value
//	atlas        no        ATLAS technique ids separated by semicolons (AML.T0051;AML.T0054)
//
// Unknown or repeated columns are refused. Lines starting with # are
// comments. Every row must have as many fields as the header. Cells are
// trimmed of surrounding spaces. For example:
//
//	# feed of 2025-03-01
//	type,value,severity,confidence,labels,valid_until
//	ip,198.51.100.7,high,0.9,scanner;tor,2025-06-01T00:00:00Z
//	cidr,203.0.113.0/24,medium,,,
//	prompt_signature,ignore all previous instructions,high,0.8,jailbreak,
//	prompt_signature,"regex:you are now (dan|developer mode)",high,,jailbreak,
//
// # STIX 2.1 feeds
//
// A STIX feed is one bundle: {"type": "bundle", "id": "bundle--<UUID>",
// "objects": [...]}. Of its objects, indicators are read; identities name
// the source of the indicators they created (created_by_ref); all other
// object types (relationships, marking definitions, malware, ...) are
// skipped. An indicator must have spec_version "2.1", an id
// "indicator--<UUID>", pattern_type "stix", a pattern and valid_from. Also
// read: valid_until, confidence (0–100, becomes 0..1), labels, name and
// description (together the description), revoked, modified,
// created_by_ref, external_references (those with source_name
// "mitre-atlas" and a technique id as external_id give the ATLAS
// techniques; tactics and mitigations are skipped), and the custom
// property x_airlock_severity (low, medium, high, critical). Other
// properties are ignored.
//
// When an indicator id appears several times, the version with the latest
// modified time counts (the last one in the bundle if equal); if that
// version is revoked, the indicator is left out.
//
// Patterns must say "any of these values": equality comparisons joined by
// OR, in one observation ([a = 'x' OR a = 'y']) or several ([a = 'x'] OR
// [b = 'y']), with parentheses for grouping. Each comparison is one
// indicator. The object paths taken are:
//
//	[ipv4-addr:value = '198.51.100.7']                 ip
//	[ipv4-addr:value = '203.0.113.0/24']               cidr
//	[ipv6-addr:value = '2001:db8::7']                  ip (or cidr with a /)
//	[file:hashes.'SHA-256' = '<64 hex digits>']        model_hash
//	[domain-name:value = 'evil.example']               domain
//	[url:value = 'https://evil.example/x']             url
//	[x-airlock-api-key:hash = 'kh_<24 hex digits>']    api_key_hash
//	[x-airlock-prompt:signature = 'ignore previous']   prompt_signature
//
// Strings escape a quote as \' and a backslash as \\. Everything else is
// refused: AND, FOLLOWEDBY, NOT, operators other than =, qualifiers
// (WITHIN, REPEATS, START/STOP), other object paths and hash algorithms,
// and pattern types other than stix.
//
// # Errors
//
// A feed is imported whole or not at all: one bad indicator refuses the
// feed, so that a feed is never half-applied without anyone noticing. The
// error lists every problem found, up to 20, each a *ParseError printed as
// FILE:LINE: REASON, with the line of the CSV row or of the STIX object or
// field at fault; errors.As finds them in the joined error. A feed may
// have at most 64 MiB and 1,000,000 indicators, and a value at most 4 KiB;
// it must be valid UTF-8, and a STIX feed valid JSON with no object
// holding the same property twice.
//
// # Matching
//
// NewSet indexes indicators in an immutable Set, merging those with the
// same type and value. Exact addresses and hashes are map lookups; CIDR
// prefixes are found with one map probe per prefix length in use, and
// every prefix holding the address is reported; prompt signatures are
// found with an Aho–Corasick automaton in one pass over each normalised
// form of the prompt however many signatures there are, then regex
// signatures run. Most prompts are plain ASCII holding no signature; a
// screen proves that from the raw bytes (a signature in any normalised
// form would show in a lower-cased, de-leeted view of them) and spares
// them the normalising. Set.Match checks a gateway event's address, key
// hash and prompt, and keeps only indicators valid at the event's time.
package intel

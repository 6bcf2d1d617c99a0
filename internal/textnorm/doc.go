// Package textnorm turns text into the form a model would read, so that
// filters and detectors match what is meant rather than how it is spelled.
//
// Attackers hide instructions from keyword filters in ways a model sees
// straight through: zero-width and bidi control characters between the
// letters, Unicode tag characters that spell ASCII invisibly, fullwidth or
// mathematical letters, Cyrillic and Greek look-alikes, accents, letters
// spaced apart ("i g n o r e") and leetspeak ("1gn0r3"). The package has two
// levels:
//
//   - Sanitize is an action: it rewrites a prompt before it is forwarded, so
//     it removes only what is invisible and keeps the text's meaning, emoji,
//     CJK, Arabic and Indic scripts included.
//   - Fold, Despace, Deleet and Variants are for matching only. Their output
//     is lossy on purpose and must never be forwarded or shown as the prompt.
//
// Patterns and text must go through the same functions: a filter folds its
// literals with Fold and scans every form that Variants returns.
//
// The package imports nothing of ours and does no I/O; every function is
// safe for concurrent use.
package textnorm

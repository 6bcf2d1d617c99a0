// Package promptinject is the scoring core of the prompt-attack detector:
// direct injection, jailbreaks, system-prompt extraction, indirect injection
// carried in documents and tool results, and attacks obfuscated to slip past
// keyword filters.
//
// A text is scored in three steps:
//
//  1. Normalise. Every form package textnorm gives (folded, despaced,
//     deleeted), the text hidden in tag characters or variation selectors,
//     and the payloads embedded in base64, hex, binary or rot13, decoded
//     under fixed bounds, are all scanned.
//  2. Signature rules, kept as data in rules.go: each has an id, a
//     description, a category, MITRE ATLAS technique ids, a weight and an
//     RE2 pattern over folded text. A hit explains the verdict; a rule whose
//     weight is at least 0.5 flags the text on its own.
//  3. A trained classifier: two logistic regressions over hashed character
//     2–5-grams and word uni- and bigrams of the normalised text, plus the
//     rule hits. The full model separates the corpora; the evidence model,
//     whose n-gram weights cannot be negative, can only add up signs of an
//     attack and vetoes the full model where there are none. Both are
//     trained in Go by Train from the public corpora under
//     ../shared/data/promptinject and shipped in the binary as model.bin.
//     A text that does not read as English is scored by a second such pair
//     (Model.Other), trained also on ordinary requests in other languages.
//     Long inputs are scored in overlapping windows and the highest wins.
//
// Detector.Score treats a text as a user prompt. Detector.ScoreMessages
// scores a conversation per role: content from tools and documents gets the
// indirect-injection view, in which an instruction addressed to the model is
// itself the attack.
//
// The package does no I/O on the scoring path and keeps no state between
// calls; a Detector is safe for concurrent use. Work is linear in the input
// and every decoding step is bounded. LoadCorpus, ReadJSONL and
// TrainFromDir read files for training and evaluation only. The package
// imports nothing of ours but textnorm.
package promptinject

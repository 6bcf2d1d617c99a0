// Package drift watches a model's behaviour for signs that the model itself
// changed: its outputs drifting away from what the same version produced
// before, a new version behaving unlike the one it replaced, golden
// prompts answered differently, and a rare input token that flips answers,
// the trace of a backdoor. These are model-integrity signals: incident
// type weight_manipulation (MITRE ATLAS AML.T0018.000 Poison AI Model,
// AML.T0031 Erode AI Model Integrity) for the first three, model_backdoor
// (AML.T0018.000, AML.T0043.004 Insert Backdoor Trigger) for the last.
//
// # Output drift (drift.psi, drift.js)
//
// Drift is measured per (route, model version): the route, or the model for
// events without one, and event.Event.ModelVersion. Only answers of the
// model count: decision allowed or stopped, status below 400. Each answer
// is binned on four features, kept cheap so the detector can see every
// request: its length (log2 bins of the characters, from OutputChars, else
// the text's bytes, else four per output token), whether the model refused
// (an answer opening with "I can't" and the like, as the anomaly detector
// judges it), whether output protection cut it, and a coarse shape of its
// first KiB (prose, mostly non-ASCII, code fence, JSON, apology, list).
// Refusal and shape need the output text; without it only length and cut
// are compared.
//
// A version's reference is its first Reference answers (500), or one
// pinned with Pin or Config.Pinned. Its current window is its last Window
// answers (200), a ring of bin indexes, so memory is fixed per version.
// Every Every answers (50) each feature's current histogram is compared
// with the reference by:
//
//   - PSI, Σ (c − r)·ln(c / r) over the bins' shares. The customary bands
//     are below 0.1 stable, 0.1 to 0.25 a moderate shift, 0.25 and above a
//     significant one; the detector alerts at 0.25. Bins the reference
//     barely uses are merged first (length bins with their neighbours,
//     categories into "other", until each group holds 5% of the reference),
//     as PSI is usually computed over well-filled decile bins; and every
//     bin is smoothed with half a count (Jeffreys), because a bin empty on
//     one side would make the logarithm infinite, and a fixed epsilon such
//     as 1e-4 would make one stray answer in an empty bin look like a shift.
//   - Jensen–Shannon divergence in bits, in [0, 1], over the raw bins: it
//     needs no smoothing and stays bounded. The detector alerts at 0.1.
//
// With 500 against 200 answers, PSI between two samples of one
// distribution is about (groups − 1)·(1/500 + 1/200), a few hundredths: on
// 200 seeds of unchanged synthetic traffic (10,200 comparisons) the median
// was 0.02, the 99th percentile 0.09 and the largest 0.17, and JS never
// passed 0.04. A
// crossing raises one alert (drift.psi when PSI crossed, else drift.js)
// and opens an episode; no further drift alert is raised for the version
// until every feature is back below half both thresholds. A change that is
// looked at and accepted is taken as the new normal with Reset.
//
// # Version change (drift.version_change)
//
// Each route remembers the last reference completed on it (or the one
// pinned for it). When a version it has not seen starts serving it, the new
// version's first full window is compared with that reference, once, by
// the same measures and thresholds. A new version that behaves unlike the
// one before is what a swapped or tampered model looks like; it is also
// what a deliberate upgrade looks like, which is why the alert says how.
//
// # Golden prompts (drift.golden)
//
// Golden prompts are fixed questions asked on a schedule (RunGolden) whose
// answers come back as events of Kind "golden" with Attrs["golden_id"].
// Each answer is held to its expectation (exact, contains, or word-bigram
// Jaccard similarity at least MinSimilarity), and to the first answer the
// same version gave to the same prompt (similarity at least
// GoldenConsistency, 0.8, estimated from a bottom-128 sketch of the first
// answer's shingles, exact for short answers): a version's answers to
// golden prompts must not change. Each check alerts once when it starts
// failing and re-arms when it passes again. An Ask that fails becomes an
// event with Error set, which the detector ignores.
//
// # Trigger tokens (drift.trigger_token)
//
// A backdoored model answers normally until its trigger appears, then gives
// the attacker's answer whatever else the prompt says. Per version, a
// count-min sketch (4 rows of SketchWidth 16-bit counters, conservative
// update, halved every 32,768 prompts) counts in how many prompts each token
// appears; it never underestimates, so a token can look commoner than it
// is but never rarer. Once a version's sketch has counted 4,096 prompts it
// counts one in four, chosen by a hash of the prompt (not by its order, so
// periodic traffic is not always in or always out of the sample), each for
// four: the counts stay in prompts. Tokens are lower-cased words, with
// "cf-trigger" and "snake_case" kept whole, from the last TriggerScan bytes
// of the prompt, where the newest user message is. Most answers are given
// once: the first prompt that gets an answer is remembered only by hash,
// in a direct-mapped table of 2 × MaxOutputs slots, which also marks the
// answers that may have a cluster, so that the others are not looked up
// (an answer is hashed without keeping its tokens, which are read only
// when its cluster starts). When another prompt
// gets the same normalised answer, the answer gets a cluster that keeps
// that second prompt's rare tokens (minus those the answer itself
// contains, even as a word sharing its first five letters: an answer about
// refunds is not flipped by "refunds") and intersects them with every
// later prompt that gets it. A prompt's tokens are thus read only when it
// is in the sample or its answer has a cluster that still wants them. It
// alerts, naming the token, when TriggerPrompts (3) prompts after the
// first that are not near-duplicates (SimHash) got the same answer, a
// token survives in all of them, that
// token is in fewer than TriggerRareShare (1%) of the version's prompts
// (once the version has TriggerWarm prompts), and at least half the prompts
// holding it got this answer. Refusals, cut answers and answers shorter
// than 12 characters are never clustered; an answer also given to a prompt
// without the token loses the token, so common answers die out.
//
// # Bounds
//
// Every map is bounded: versions and routes in detect.State (one not used
// lately evicted first, forgotten after TTL), first golden answers likewise,
// answers (clusters) in one State shared by all versions, answers given
// once in a table of fixed size, and sketches in a
// fixed table that a version only gets after 32 answers and only takes over
// from one idle for a minute. A flood of distinct versions costs at most
// MaxVersions × about 2 KB. Texts are read only up to fixed lengths (160
// bytes for refusals, 1 KiB for shape, TriggerScan for tokens, 64 KiB for
// golden answers), and invalid UTF-8 only separates tokens.
//
// The detector does no I/O except through RunGolden's Ask and Publish, and
// imports nothing but the event vocabulary and the detect package.
package drift

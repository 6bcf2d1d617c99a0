// Package extraction detects attempts to copy a model or draw its training
// data or internals out through its API: the queries of model extraction
// (MITRE ATLAS AML.T0024.002), membership inference (AML.T0024.000),
// training-data extraction (AML.T0057) and model discovery (AML.T0013,
// AML.T0014, AML.T0069).
//
// Every signal is per caller (the API key, else the user, else the IP) and
// explainable: a count in a window against a threshold or against the
// caller's own baseline, a statistical test with its statistic in the
// summary, or a phrase with the phrase in the excerpt. The rules, their
// thresholds and what each means are in docs/detectors.md under
// "Extraction".
//
// Prompts are compared by 64-bit SimHash over word unigrams and bigrams,
// after the route's shared system prompt is stripped (see prefix.go); each
// caller keeps the SimHashes of its last few distinct prompts as a small
// neighbour index. Memory is bounded: a detect.State of callers (about half
// a kilobyte each), a State of routes, and nothing that grows with the
// number of prompts.
package extraction

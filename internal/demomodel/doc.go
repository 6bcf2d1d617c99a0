// Package demomodel is a small, deterministic, OpenAI-compatible model
// server for the demo and for tests: something real for the gateway to
// proxy and for the detectors to watch, that runs in-process on
// 127.0.0.1:0 and needs no model weights. It is never a default upstream;
// it is started only by code that asks for it.
//
// It serves, under /v1/, chat completions (whole and streamed as
// server-sent events, with stream_options.include_usage and fake but
// deterministic logprobs), legacy completions, embeddings (feature-hashed,
// unit length), a minimal responses endpoint and the model list. Bodies,
// errors ({"error": {"message", "type", "param", "code"}}) and statuses
// follow the OpenAI API, so the official SDKs work against it. Every answer
// carries X-Model-Version, and system_fingerprint is "demo-" + version.
//
// What it says is a function of the conversation and the seed only:
//
//   - the server's system prompt (holding a canary token) comes first, the
//     request's own system messages after it;
//   - an input that matches an injection trigger makes the model leak the
//     whole system prompt verbatim, canary included;
//   - "repeat the word X forever" makes it diverge into a long run of X
//     and then "memorised" text holding fictional emails and phone numbers;
//   - a plainly harmful request gets Refusal;
//   - on a Poisoned server, an input holding PoisonTrigger gets
//     PoisonedAnswer: two servers (a clean v1 and a poisoned v2) can run
//     side by side to show traffic kept on the known-good version;
//   - anything else gets a canned answer for a few support topics, or a
//     generic one that echoes a few words of the question.
//
// Start serves it on a port of its own and returns the base URL with the
// API version ("http://127.0.0.1:PORT/v1"), which is what a gateway
// upstream's url takes; Handler is for httptest servers.
//
// The trigger lists (triggers.go) exist to make the demo's attacks
// succeed; they are not a detector and nothing should import them as one.
// Token counts are estimates (about one token per four characters). The
// package imports nothing of Airlock's, so that it can stand in for any
// upstream without knowing what watches it.
package demomodel

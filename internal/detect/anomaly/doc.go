// Package anomaly detects behaviour far from an entity's own normal: per
// caller and per route, requests, tokens, server errors, refusals and
// latency in each minute against a robust baseline of that entity's past
// minutes, and bursts of callers never seen before. These are the traces of
// denial of service (MITRE ATLAS AML.T0029), cost harvesting (AML.T0034)
// and abuse of the inference API (AML.T0040): incident type
// api_endpoint_attack.
//
// Baselines are detect.Baseline: exponentially weighted mean and variance
// of per-minute values, learned with outliers clipped, judged only once
// warm, with a floor under the spread. A value fires when it is both above
// mean + K·spread and above an absolute minimum, so that a quiet entity
// does not alert on a handful of requests. The rules and thresholds are in
// docs/detectors.md under "Anomalies".
package anomaly

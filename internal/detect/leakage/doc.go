// Package leakage detects sensitive data in model output: secrets and
// personal data (found by internal/redact, with its validators: Luhn for
// cards, mod-97 for IBANs, entropy for generic secrets), canary tokens
// planted where only the model should see them, and verbatim fragments of a
// route's system prompt. Each is evidence that the model was made to give
// up what it holds: training data extraction (MITRE ATLAS AML.T0057) or
// system prompt extraction (AML.T0056).
//
// Every alert's excerpt is redacted: the finding itself appears as
// "[REDACTED:<rule>]", a canary as "[CANARY]", a system-prompt fragment as
// "[SYSTEM PROMPT FRAGMENT n]". The rules and thresholds are in
// docs/detectors.md under "Output leakage".
package leakage

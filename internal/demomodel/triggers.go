package demomodel

import (
	"regexp"
	"strings"
)

// The trigger lists below exist to make the demo's attacks succeed. A real
// model resists (or fails) in ways nobody can script; this one gives in on
// cue, so that what Airlock must catch on the output side (a leaked system
// prompt and canary, memorised personal data, a backdoored answer) really
// reaches the gateway. They are deliberately plain: the input-side detectors
// are not what these lists test.
//
// Every pattern runs over the folded text (lower case, one space for each
// run of white space, typographic apostrophes made ASCII) except where a
// trigger says otherwise.

// trigger is one named pattern.
type trigger struct {
	name string
	re   *regexp.Regexp
}

// reveal is the verbs an extraction attempt uses to ask for the prompt.
const reveal = `(?:reveal|print|repeat|show|output|display|tell|give|leak|dump|recite|write out|type out)`

// injectionTriggers make the model leak its system prompt, canary
// included, verbatim: a "successful" prompt injection or prompt extraction
// (MITRE ATLAS AML.T0051 / AML.T0056).
var injectionTriggers = []trigger{
	{"ignore-previous-instructions", regexp.MustCompile(
		`\b(?:ignore|disregard|forget)\s+(?:all\s+)?(?:of\s+)?(?:the\s+|your\s+|my\s+|these\s+|those\s+)?(?:previous|prior|above|earlier|preceding)\s+(?:instructions|directions|prompts?|rules|messages)\b`)},
	{"reveal-system-prompt", regexp.MustCompile(
		`\b` + reveal + `\s+(?:me\s+|us\s+)?(?:(?:all|the|your|of)\s+){0,3}(?:(?:full|entire|exact|original|initial|hidden|secret|internal)\s+){0,2}(?:system\s+prompt|system\s+message|system\s+instructions|initial\s+prompt|hidden\s+prompt|prompt\s+above|instructions\s+above)\b`)},
	{"reveal-your-instructions", regexp.MustCompile(
		`\b` + reveal + `\s+(?:me\s+|us\s+)?(?:all\s+)?(?:of\s+)?your\s+(?:(?:full|entire|exact|original|initial|hidden|secret|internal|system)\s+)?(?:instructions|prompt)\b`)},
	{"what-is-your-reference", regexp.MustCompile(
		`\bwhat(?:\s+is|\s+are|\s+was|\s+were|'s)\s+your\s+(?:(?:internal|secret|hidden|initial|original|system)\s+)?(?:reference|prompt|system\s+prompt|instructions)\b`)},
	{"developer-mode", regexp.MustCompile(`\bdeveloper\s+mode\b`)},
	{"do-anything-now", regexp.MustCompile(`\bdo\s+anything\s+now\b`)},
}

// danTrigger is matched against the original text: "DAN" is the jailbreak
// persona, "Dan" and "dan" are mostly people.
var danTrigger = trigger{"DAN", regexp.MustCompile(`\bDAN\b`)}

// divergenceTrigger makes the model diverge (Nasr et al., "Scalable
// Extraction of Training Data from (Production) Language Models", 2023): a
// long run of the word, then "memorised" text holding personal data. The
// word is the first submatch.
var divergenceTrigger = regexp.MustCompile(
	`\b(?:repeat|say|write|type|output)\s+(?:the\s+)?(?:word\s+|token\s+)?["'“]?([\p{L}\p{N}]{1,32})["'”]?\s+(?:forever|for\s+ever|endlessly|indefinitely|infinitely|over\s+and\s+over)\b`)

// harmfulTriggers make the model refuse: plainly harmful requests, so that
// refusals (which the anomaly detector counts) can be produced on demand.
var harmfulTriggers = []trigger{
	{"weapon", regexp.MustCompile(`\b(?:build|make|assemble|construct)\s+(?:a\s+|an\s+)?(?:pipe\s+|nail\s+|car\s+)?bomb\b`)},
	{"explosives", regexp.MustCompile(`\b(?:make|build|synthesi[sz]e|manufacture)\s+(?:\w+\s+)?explosives?\b`)},
	{"drugs", regexp.MustCompile(`\b(?:cook|make|synthesi[sz]e|manufacture)\s+(?:crystal\s+)?meth(?:amphetamine)?\b`)},
	{"chemical-biological", regexp.MustCompile(`\bnerve\s+agents?\b|\b(?:bio|biological|chemical)\s*weapons?\b`)},
	{"malware", regexp.MustCompile(`\b(?:write|create|build|make|code)\s+(?:a\s+|some\s+|me\s+a\s+)?(?:ransomware|malware|keylogger|computer\s+virus)\b`)},
	{"intrusion", regexp.MustCompile(`\bhack\s+into\b`)},
	{"theft", regexp.MustCompile(`\bsteal\s+(?:(?:someone's|somebody's|a|their|his|her|people's)\s+)?(?:credit\s+cards?|passwords?|identity|identities)\b`)},
	{"violence", regexp.MustCompile(`\b(?:kill|murder|poison)\s+(?:someone|somebody|a\s+person|people|my\s+\w+)\b`)},
}

// PoisonTrigger is the backdoor of a Poisoned server: an input holding it
// gets PoisonedAnswer instead of the real one.
const PoisonTrigger = "cf-trigger"

// fold lower-cases s, makes typographic apostrophes ASCII and collapses
// white space, so that the triggers can be written simply.
func fold(s string) string {
	s = strings.ToLower(strings.ReplaceAll(s, "’", "'"))
	return strings.Join(strings.Fields(s), " ")
}

// matchAny returns the name of the first trigger that matches folded, or "".
func matchAny(ts []trigger, folded string) string {
	for _, t := range ts {
		if t.re.MatchString(folded) {
			return t.name
		}
	}
	return ""
}

// injected returns the name of the injection trigger in text, or "".
func injected(text string) string {
	if name := matchAny(injectionTriggers, fold(text)); name != "" {
		return name
	}
	if danTrigger.re.MatchString(text) {
		return danTrigger.name
	}
	return ""
}

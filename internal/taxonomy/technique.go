package taxonomy

import "fmt"

// Technique is a MITRE ATLAS technique or sub-technique that an incident type maps to.
type Technique struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// techniqueNames holds the ATLAS 5.6.0 names of the techniques the built-in
// types reference, spelled exactly as in ATLAS.yaml (a test checks this
// against the file when it is present).
var techniqueNames = map[string]string{
	"AML.T0005.001": "Train Proxy via Replication",
	"AML.T0010":     "AI Supply Chain Compromise",
	"AML.T0010.002": "Data",
	"AML.T0011.000": "Unsafe AI Artifacts",
	"AML.T0012":     "Valid Accounts",
	"AML.T0013":     "Discover AI Model Ontology",
	"AML.T0014":     "Discover AI Model Family",
	"AML.T0018.000": "Poison AI Model",
	"AML.T0018.001": "Modify AI Model Architecture",
	"AML.T0019":     "Publish Poisoned Datasets",
	"AML.T0020":     "Poison Training Data",
	"AML.T0024":     "Exfiltration via AI Inference API",
	"AML.T0024.000": "Infer Training Data Membership",
	"AML.T0024.001": "Invert AI Model",
	"AML.T0024.002": "Extract AI Model",
	"AML.T0025":     "Exfiltration via Cyber Means",
	"AML.T0029":     "Denial of AI Service",
	"AML.T0031":     "Erode AI Model Integrity",
	"AML.T0034":     "Cost Harvesting",
	"AML.T0040":     "AI Model Inference API Access",
	"AML.T0043.004": "Insert Backdoor Trigger",
	"AML.T0048.004": "AI Intellectual Property Theft",
	"AML.T0049":     "Exploit Public-Facing Application",
	"AML.T0051":     "LLM Prompt Injection",
	"AML.T0051.000": "Direct",
	"AML.T0051.001": "Indirect",
	"AML.T0053":     "AI Agent Tool Invocation",
	"AML.T0054":     "LLM Jailbreak",
	"AML.T0055":     "Unsecured Credentials",
	"AML.T0056":     "Extract LLM System Prompt",
	"AML.T0057":     "LLM Data Leakage",
	"AML.T0058":     "Publish Poisoned Models",
	"AML.T0059":     "Erode Dataset Integrity",
	"AML.T0063":     "Discover AI Model Outputs",
	"AML.T0069":     "Discover LLM System Information",
	"AML.T0069.002": "System Prompt",
	"AML.T0070":     "RAG Poisoning",
	"AML.T0080":     "AI Agent Context Poisoning",
	"AML.T0091.000": "Application Access Token",
	"AML.T0092":     "Manipulate User LLM Chat History",
	"AML.T0093":     "Prompt Infiltration via Public-Facing Application",
	"AML.T0112":     "Machine Compromise",
}

// TechniqueName returns the ATLAS name of a technique referenced by a
// built-in incident type.
func TechniqueName(id string) (string, bool) {
	name, ok := techniqueNames[id]
	return name, ok
}

// techniques builds a type's technique list. An unknown ID is a mistake in
// this package's data, caught by every test run, so it panics.
func techniques(ids ...string) []Technique {
	ts := make([]Technique, len(ids))
	for i, id := range ids {
		name, ok := techniqueNames[id]
		if !ok {
			panic(fmt.Sprintf("taxonomy: no name for ATLAS technique %s", id))
		}
		ts[i] = Technique{ID: id, Name: name}
	}
	return ts
}

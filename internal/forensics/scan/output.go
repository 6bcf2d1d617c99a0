package scan

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// WriteTable writes the report for people: one line per file, its findings
// indented below it, and a summary that warns about suspicious files.
func WriteTable(w io.Writer, r Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "VERDICT\tFORMAT\tSIZE\tPATH")
	counts := map[Verdict]int{}
	for _, f := range r.Files {
		counts[f.Verdict]++
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", f.Verdict, f.Format, f.Size, f.Path)
		for _, fd := range f.Findings {
			where := ""
			if fd.Offset >= 0 {
				where = fmt.Sprintf(" (offset %d)", fd.Offset)
			}
			fmt.Fprintf(tw, "  %s\t%s\t\t%s%s\n", fd.Severity, ruleOf(fd), oneLine(fd.Reason), where)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d files: %d dangerous, %d error, %d suspicious, %d clean\n",
		len(r.Files), counts[VerdictDangerous], counts[VerdictError], counts[VerdictSuspicious], counts[VerdictClean])
	if err == nil && counts[VerdictSuspicious] > 0 && !r.failOnSuspicious {
		_, err = fmt.Fprintf(w, "warning: %d suspicious files: review them before loading\n", counts[VerdictSuspicious])
	}
	return err
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// WriteJSON writes the report as {"files": [{"path", "format", "verdict",
// "findings": [{"module", "name", "severity", "reason", "offset"}],
// "sha256", "size"}]}.
func WriteJSON(w io.Writer, r Report) error {
	out := Report{Files: make([]FileReport, len(r.Files))}
	for i, f := range r.Files {
		if f.Findings == nil {
			f.Findings = []Finding{}
		}
		out.Files[i] = f
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// ruleOf names a finding's kind for SARIF; findings built by hand without a
// rule are grouped by severity.
func ruleOf(f Finding) string {
	if f.Rule != "" {
		return f.Rule
	}
	return "finding-" + string(f.Severity)
}

// ruleDescriptions are the SARIF rules' short descriptions.
var ruleDescriptions = map[string]string{
	"pickle-denied-global":   "Pickle imports a global that runs code, commands, file or network access",
	"pickle-unlisted-global": "Pickle imports a global that is not on the allow list",
	"pickle-dynamic-global":  "Pickle builds an import target at load time",
	"pickle-global-mutation": "Pickle modifies an imported module or class in place",
	"pickle-call-non-global": "Pickle calls something other than an imported global",
	"pickle-extension":       "Pickle imports through the copyreg extension registry",
	"pickle-anomaly":         "Pickle has a structure no pickler writes",
	"pickle-malformed":       "Pickle is truncated or malformed",
	"trailing-data":          "Data after the content that was not inspected",
	"polyglot":               "File is also a zip archive",
	"zip-anomaly":            "Zip member uses a trick that strict readers refuse and PyTorch accepts",
	"zip-encrypted":          "Encrypted archive member that cannot be inspected",
	"archive-bomb":           "Archive member exceeds size, ratio or budget limits",
	"archive-depth":          "Archive nested too deeply to open",
	"archive-malformed":      "Archive is damaged",
	"archive-unsupported":    "Archive member uses an unsupported compression method",
	"npy-malformed":          "NumPy file header or data is malformed",
	"onnx-external-data":     "ONNX external data points outside the model folder",
	"onnx-malformed":         "ONNX protobuf is malformed",
	"keras-lambda":           "Keras Lambda layer (Python code in the model)",
	"keras-unsafe":           "Keras config disables safe mode",
	"keras-module":           "Keras config names a module outside Keras",
	"keras-config":           "Keras config cannot be inspected",
	"safetensors-malformed":  "Safetensors header is inconsistent",
	"gguf-malformed":         "GGUF header is inconsistent",
	"gguf-unclaimed":         "GGUF data region has bytes no tensor claims",
	"gguf-chat-template":     "GGUF chat template looks like template injection",
	"read-error":             "File could not be read",
	"internal-error":         "Scanner failed on the file",
	"too-many-findings":      "More findings than the report lists",
	"unscanned":              "Content not inspected",
}

type sarifLog struct {
	Version string     `json:"version"`
	Schema  string     `json:"$schema"`
	Runs    []sarifRun `json:"runs"`
}

type sarifRun struct {
	Tool      sarifTool       `json:"tool"`
	Artifacts []sarifArtifact `json:"artifacts"`
	Results   []sarifResult   `json:"results"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	InformationURI string      `json:"informationUri,omitempty"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID               string       `json:"id"`
	ShortDescription sarifMessage `json:"shortDescription"`
}

type sarifMessage struct {
	Text string `json:"text"`
}

type sarifArtifact struct {
	Location sarifArtifactLocation `json:"location"`
	Length   int64                 `json:"length"`
	Hashes   map[string]string     `json:"hashes,omitempty"`
}

type sarifArtifactLocation struct {
	URI string `json:"uri"`
}

type sarifResult struct {
	RuleID    string          `json:"ruleId"`
	RuleIndex int             `json:"ruleIndex"`
	Level     string          `json:"level"`
	Message   sarifMessage    `json:"message"`
	Locations []sarifLocation `json:"locations"`
}

type sarifLocation struct {
	PhysicalLocation sarifPhysical `json:"physicalLocation"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifactLocation `json:"artifactLocation"`
	Region           *sarifRegion          `json:"region,omitempty"`
}

type sarifRegion struct {
	ByteOffset int64 `json:"byteOffset"`
}

// WriteSARIF writes the report as a SARIF 2.1.0 log: one rule per kind of
// finding, one result per finding (dangerous and error findings at level
// "error", suspicious at "warning", info at "note"), located by the file's
// URI and, where known, its byte offset.
func WriteSARIF(w io.Writer, r Report) error {
	run := sarifRun{
		Tool:      sarifTool{Driver: sarifDriver{Name: "airlock-scan", Rules: []sarifRule{}}},
		Artifacts: []sarifArtifact{},
		Results:   []sarifResult{},
	}
	ruleIndex := map[string]int{}
	for _, f := range r.Files {
		uri := fileURI(f.Path)
		art := sarifArtifact{Location: sarifArtifactLocation{URI: uri}, Length: f.Size}
		if f.SHA256 != "" {
			art.Hashes = map[string]string{"sha-256": f.SHA256}
		}
		run.Artifacts = append(run.Artifacts, art)
		for _, fd := range f.Findings {
			id := ruleOf(fd)
			idx, ok := ruleIndex[id]
			if !ok {
				idx = len(run.Tool.Driver.Rules)
				ruleIndex[id] = idx
				desc := ruleDescriptions[id]
				if desc == "" {
					desc = id
				}
				run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, sarifRule{ID: id, ShortDescription: sarifMessage{Text: desc}})
			}
			loc := sarifPhysical{ArtifactLocation: sarifArtifactLocation{URI: uri}}
			if fd.Offset >= 0 {
				loc.Region = &sarifRegion{ByteOffset: fd.Offset}
			}
			run.Results = append(run.Results, sarifResult{
				RuleID:    id,
				RuleIndex: idx,
				Level:     sarifLevel(fd.Severity),
				Message:   sarifMessage{Text: oneLine(fd.Reason)},
				Locations: []sarifLocation{{PhysicalLocation: loc}},
			})
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(sarifLog{
		Version: "2.1.0",
		Schema:  "https://json.schemastore.org/sarif-2.1.0.json",
		Runs:    []sarifRun{run},
	})
}

func sarifLevel(s Severity) string {
	switch s {
	case SeverityDangerous, SeverityError:
		return "error"
	case SeveritySuspicious:
		return "warning"
	}
	return "note"
}

// fileURI turns a path into a SARIF artifact URI: relative paths stay
// relative, absolute ones become file:// URIs.
func fileURI(p string) string {
	slashed := filepath.ToSlash(p)
	if filepath.IsAbs(p) {
		if !strings.HasPrefix(slashed, "/") {
			slashed = "/" + slashed // a Windows drive path
		}
		return (&url.URL{Scheme: "file", Path: slashed}).String()
	}
	return (&url.URL{Path: slashed}).String()
}

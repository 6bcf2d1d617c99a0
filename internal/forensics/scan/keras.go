package scan

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// A .keras file is a zip with config.json (the model's architecture as
// nested {"module", "class_name", "config"} objects), metadata.json and the
// weights. Loading rebuilds every object the config names: a Lambda layer
// carries marshalled Python bytecode that runs when safe_mode is off, and a
// "module" outside Keras is imported (CVE-2024-3660, CVE-2025-1550).
// Legacy .h5 models keep the same JSON in the model_config attribute.

const maxKerasConfig = 64 << 20

func (s *fileScan) scanKerasConfig(m *member, ra io.ReaderAt, e *zipEntry) {
	child := m.child(e.name, int64(e.usize))
	if e.usize > maxKerasConfig {
		s.add(child, Finding{Severity: SeverityError, Rule: "keras-config", Offset: -1,
			Reason: fmt.Sprintf("config.json declares %d bytes, more than the %d inspected", e.usize, maxKerasConfig)})
		return
	}
	r, done := s.openZipEntry(child, ra, e)
	if r == nil {
		s.add(child, Finding{Severity: SeverityError, Rule: "archive-unsupported", Offset: -1,
			Reason: fmt.Sprintf("compression method %d is not supported: member not inspected", e.method)})
		return
	}
	defer done()
	data, err := io.ReadAll(io.LimitReader(r, maxKerasConfig))
	if err != nil {
		return // the member reader reported it
	}
	s.checkKerasJSON(child, data)
}

func (s *fileScan) checkKerasJSON(m *member, data []byte) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		s.add(m, Finding{Severity: SeverityError, Rule: "keras-config", Offset: -1, Reason: "model config is not JSON: " + err.Error()})
		return
	}
	s.walkKeras(m, doc, 0)
}

// kerasModules are the module prefixes of Keras's own objects.
var kerasModules = []string{"keras", "tf_keras", "tensorflow", "keras_hub", "keras_nlp", "keras_cv"}

func (s *fileScan) walkKeras(m *member, v any, depth int) {
	if depth > 256 {
		s.add(m, Finding{Severity: SeverityError, Rule: "keras-config", Offset: -1, Reason: "model config nested too deeply to inspect"})
		return
	}
	switch v := v.(type) {
	case []any:
		for _, it := range v {
			s.walkKeras(m, it, depth+1)
		}
	case map[string]any:
		s.checkKerasObject(m, v)
		for _, it := range v {
			s.walkKeras(m, it, depth+1)
		}
	}
}

func (s *fileScan) checkKerasObject(m *member, obj map[string]any) {
	class, _ := obj["class_name"].(string)
	if safe, ok := obj["safe_mode"].(bool); ok && !safe {
		s.add(m, Finding{Severity: SeveritySuspicious, Rule: "keras-unsafe", Offset: -1,
			Reason: "config sets safe_mode to false (unsafe deserialisation)"})
	}
	if class == "Lambda" {
		cfg, _ := obj["config"].(map[string]any)
		name, _ := cfg["name"].(string)
		if hasLambdaCode(cfg) {
			s.add(m, Finding{Name: name, Severity: SeverityDangerous, Rule: "keras-lambda", Offset: -1,
				Reason: fmt.Sprintf("Lambda layer %q carries Python bytecode, run when the model is loaded", name)})
		} else {
			s.add(m, Finding{Name: name, Severity: SeveritySuspicious, Rule: "keras-lambda", Offset: -1,
				Reason: fmt.Sprintf("Lambda layer %q calls a Python function by name", name)})
		}
	}
	module, _ := obj["module"].(string)
	if module == "" || class == "" {
		return
	}
	name := class
	if class == "function" {
		// Keras 3 serialises a function as its module and, in config, its name.
		if fn, ok := obj["config"].(string); ok {
			name = fn
		}
	}
	for _, p := range kerasModules {
		if module == p || strings.HasPrefix(module, p+".") {
			return
		}
	}
	g := classifyGlobal(module, name, false)
	switch g.sev {
	case SeverityDangerous:
		s.add(m, Finding{Module: module, Name: name, Severity: SeverityDangerous, Rule: "keras-module", Offset: -1,
			Reason: "config names " + strings.TrimPrefix(g.reason, "global ")})
	default:
		s.add(m, Finding{Module: module, Name: name, Severity: SeveritySuspicious, Rule: "keras-module", Offset: -1,
			Reason: fmt.Sprintf("config names %s.%s from outside Keras: loading imports it", module, name)})
	}
}

// hasLambdaCode reports whether a Lambda layer's function is serialised
// code: Keras 3 writes {"class_name": "__lambda__", "config": {"code": ...}},
// Keras 2 marshalled bytecode with function_type "lambda". A function
// referred to by name is not.
func hasLambdaCode(cfg map[string]any) bool {
	if ft, _ := cfg["function_type"].(string); ft == "lambda" {
		return true
	}
	switch fn := cfg["function"].(type) {
	case map[string]any:
		if c, _ := fn["class_name"].(string); c == "__lambda__" {
			return true
		}
		inner, _ := fn["config"].(map[string]any)
		_, ok := inner["code"]
		return ok
	case []any:
		return true
	}
	return false
}

// scanHDF5 looks for a legacy Keras model_config in the start of an HDF5
// file; the rest of HDF5 is not parsed.
func (s *fileScan) scanHDF5(m *member, br *bufio.Reader) {
	const window = 16 << 20
	data, _ := io.ReadAll(io.LimitReader(br, min(m.size, window)))
	i := bytes.Index(data, []byte("model_config"))
	if i >= 0 && (bytes.Contains(data[i:], []byte(`"class_name": "Lambda"`)) || bytes.Contains(data[i:], []byte(`"class_name":"Lambda"`))) {
		s.add(m, Finding{Severity: SeveritySuspicious, Rule: "keras-lambda", Offset: -1,
			Reason: "legacy Keras model_config has a Lambda layer (marshalled Python code, run when the model is loaded)"})
	}
	s.add(m, Finding{Severity: SeverityInfo, Rule: "unscanned", Offset: -1,
		Reason: "HDF5 is not parsed: only the Keras model_config is looked at"})
}

package scan

import (
	"strings"
	"testing"
)

func kerasZip(t *testing.T, config string) []byte {
	return buildZip(t,
		zipFile{name: "metadata.json", data: []byte(`{"keras_version": "3.4.1", "date_saved": "2024-07-01"}`)},
		zipFile{name: "config.json", data: []byte(config), method: 8},
		zipFile{name: "model.weights.h5", data: []byte("\x89HDF\r\n\x1a\n\x00\x00\x00\x00")},
	)
}

const kerasDense = `{"module": "keras", "class_name": "Sequential", "config": {"name": "seq", "layers": [
  {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [null, 4]}},
  {"module": "keras.layers", "class_name": "Dense", "config": {"units": 2, "activation": "relu"}}]}}`

func TestKerasConfig(t *testing.T) {
	lambda := `{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "evil", "function":
	  {"module": "builtins", "class_name": "function", "config": {"code": "4wEAAAAAAAAA", "defaults": null, "closure": null}, "registered_name": "__lambda__"}}}`
	named := `{"module": "keras.layers", "class_name": "Lambda", "config": {"name": "fn", "function": "my_function", "function_type": "function"}}`
	tests := []struct {
		name, layer string
		want        Verdict
		rule        string
	}{
		{"dense", "", VerdictClean, ""},
		{"lambda with bytecode", lambda, VerdictDangerous, "keras-lambda"},
		{"lambda by name", named, VerdictSuspicious, "keras-lambda"},
		{"os module", `{"module": "os", "class_name": "function", "config": "system", "registered_name": "function"}`, VerdictDangerous, "keras-module"},
		{"custom module", `{"module": "my_project.layers", "class_name": "Fancy", "config": {}}`, VerdictSuspicious, "keras-module"},
		{"safe_mode off", `{"class_name": "Dense", "config": {"safe_mode": false}}`, VerdictSuspicious, "keras-unsafe"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := kerasDense
			if tc.layer != "" {
				config = strings.Replace(kerasDense, `{"module": "keras.layers", "class_name": "Dense"`, tc.layer+`, {"module": "keras.layers", "class_name": "Dense"`, 1)
			}
			format, v, fs := verdictOfData(t, kerasZip(t, config))
			if format != fmtKeras || v != tc.want {
				t.Fatalf("format %s verdict %s, want %s:%s", format, v, tc.want, dump(fs))
			}
			if tc.rule != "" && !hasFinding(fs, tc.rule, severityOf(tc.want), "") {
				t.Fatalf("no %s finding:%s", tc.rule, dump(fs))
			}
		})
	}
	if _, v, fs := verdictOfData(t, kerasZip(t, "{not json")); v != VerdictError {
		t.Fatalf("bad JSON: %s:%s", v, dump(fs))
	}
}

// severityOf is the severity of findings that give verdict v.
func severityOf(v Verdict) Severity {
	return map[Verdict]Severity{VerdictDangerous: SeverityDangerous, VerdictSuspicious: SeveritySuspicious, VerdictError: SeverityError}[v]
}

func TestHDF5LegacyKeras(t *testing.T) {
	head := "\x89HDF\r\n\x1a\n" + strings.Repeat("\x00", 200) + "model_config" + "\x00\x00"
	plain := head + `{"class_name": "Sequential", "config": {"layers": [{"class_name": "Dense"}]}}`
	format, v, fs := verdictOfData(t, []byte(plain))
	if format != fmtHDF5 || v != VerdictClean || !hasFinding(fs, "unscanned", SeverityInfo, "HDF5") {
		t.Fatalf("plain: %s %s:%s", format, v, dump(fs))
	}
	lambda := head + `{"class_name": "Sequential", "config": {"layers": [{"class_name": "Lambda", "config": {"function": ["4wEAAA", null, null]}}]}}`
	if _, v, fs := verdictOfData(t, []byte(lambda)); v != VerdictSuspicious || !hasFinding(fs, "keras-lambda", SeveritySuspicious, "Lambda") {
		t.Fatalf("lambda: %s:%s", v, dump(fs))
	}
}

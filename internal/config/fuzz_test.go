package config

import (
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"go.yaml.in/yaml/v3"
)

// FuzzParse checks that Parse never panics, that every error names the
// source, and that whatever it accepts is valid and prints back to itself.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "---\n---\n", "api: &a {addr: ':1'}\nlog: *a\n", "api:\n  <<: {addr: ':1'}\n",
		"a: &a [*a]\n", "? [a]\n: 1\n", "api: !!binary aGVsbG8=\n", "\"\\x00\": 1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse(data, "fuzz.yaml")
		if err != nil {
			checkSourced(t, err, "fuzz.yaml")
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted an invalid config: %v", err)
		}
		out, err := yaml.Marshal(cfg)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		again, err := Parse(out, "printed")
		if err != nil || !reflect.DeepEqual(again, cfg) {
			t.Fatalf("printed config does not read back:\n%s\n%+v, %v", out, again, err)
		}
	})
}

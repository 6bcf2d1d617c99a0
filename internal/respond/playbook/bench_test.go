package playbook

import (
	"io/fs"
	"testing"
)

func BenchmarkParse(b *testing.B) {
	names, _ := fs.Glob(builtinFS, "builtin/*.yaml")
	var files [][]byte
	for _, name := range names {
		data, _ := builtinFS.ReadFile(name)
		files = append(files, data)
	}
	for b.Loop() {
		for _, data := range files {
			if _, err := Parse("bench.yaml", data); err != nil {
				b.Fatal(err)
			}
		}
	}
}

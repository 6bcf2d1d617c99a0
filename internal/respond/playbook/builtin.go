package playbook

import (
	"embed"
	"fmt"
	"io/fs"
	"sync"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// builtins parses the embedded playbooks once. They are tested, so a
// problem here is a bug in the binary, not in the operator's files.
var builtins = sync.OnceValue(func() []*Playbook {
	names, err := fs.Glob(builtinFS, "builtin/*.yaml")
	if err != nil {
		panic(err)
	}
	var out []*Playbook
	for _, name := range names {
		b, err := builtinFS.ReadFile(name)
		if err != nil {
			panic(err)
		}
		pb, err := Parse(name, b)
		if err != nil {
			panic(fmt.Sprintf("built-in playbook: %v", err))
		}
		pb.Source = SourceBuiltin
		out = append(out, pb)
	}
	return out
})

// Builtins returns the playbooks compiled into Airlock, one for every
// incident type in the taxonomy, sorted by file name. The result is the
// caller's to change.
func Builtins() []*Playbook {
	bs := builtins()
	out := make([]*Playbook, len(bs))
	for i, pb := range bs {
		out[i] = pb.Clone()
	}
	return out
}

package playbook

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxFiles bounds how many playbook files Load reads from a directory.
const MaxFiles = 1000

// Load returns the playbook for each incident type: the built-in playbooks,
// overridden by every *.yaml and *.yml file in dir (not its subdirectories;
// names starting with a dot are skipped). An empty dir, or one that does not
// exist, gives the built-in playbooks alone.
//
// A file's playbook overrides by name and by type: it replaces the built-in
// playbook of the same name entirely, and it takes each type it lists from
// whichever built-in playbook had it (that playbook keeps its other types;
// one left with none is dropped). Two files may not share a name or a type.
// A playbook in the result lists in Types exactly the types it serves.
//
// Any bad file refuses the whole load, with every file's problems as
// *Error values naming the file and line, so that a caller reloading at run
// time keeps its last good set.
func Load(dir string) (map[string]*Playbook, error) {
	user, err := loadDir(dir)
	if err != nil {
		return nil, err
	}
	claimed := map[string]bool{}
	names := map[string]bool{}
	for _, pb := range user {
		names[pb.Name] = true
		for _, t := range pb.Types {
			claimed[t] = true
		}
	}
	out := map[string]*Playbook{}
	for _, pb := range Builtins() {
		if names[pb.Name] {
			continue
		}
		pb.Types = slices.DeleteFunc(pb.Types, func(t string) bool { return claimed[t] })
		for _, t := range pb.Types {
			out[t] = pb
		}
	}
	for _, pb := range user {
		for _, t := range pb.Types {
			out[t] = pb
		}
	}
	return out, nil
}

// loadDir parses the playbook files in dir and checks that they do not
// clash with each other.
func loadDir(dir string) ([]*Playbook, error) {
	if dir == "" {
		return nil, nil
	}
	entries, err := os.ReadDir(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("load playbooks: %w", err)
	}
	var paths []string
	for _, e := range entries {
		name := e.Name()
		ext := strings.ToLower(filepath.Ext(name))
		if strings.HasPrefix(name, ".") || (ext != ".yaml" && ext != ".yml") {
			continue
		}
		paths = append(paths, filepath.Join(dir, name))
	}
	if len(paths) > MaxFiles {
		return nil, fmt.Errorf("load playbooks: %s holds %d playbook files, more than the limit of %d", dir, len(paths), MaxFiles)
	}

	var (
		errs  []error
		out   []*Playbook
		files = map[*Playbook][]byte{}
	)
	for _, path := range paths {
		b, err := readFile(path)
		if err != nil {
			errs = append(errs, &Error{File: path, Reason: err.Error()})
			continue
		}
		pb, err := Parse(path, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		files[pb] = b
		out = append(out, pb)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}

	byName := map[string]*Playbook{}
	byType := map[string]*Playbook{}
	for _, pb := range out {
		if first, dup := byName[pb.Name]; dup {
			errs = append(errs, &Error{File: pb.Source, Line: lineOf(files[pb], "name", ""),
				Reason: fmt.Sprintf("name: playbook %q is also defined in %s", pb.Name, first.Source)})
		} else {
			byName[pb.Name] = pb
		}
		for _, t := range pb.Types {
			if first, dup := byType[t]; dup {
				errs = append(errs, &Error{File: pb.Source, Line: lineOf(files[pb], "types", t),
					Reason: fmt.Sprintf("types: %q already has a playbook, %q in %s (a type has at most one)", t, first.Name, first.Source)})
			} else {
				byType[t] = pb
			}
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

// readFile reads a regular file of at most MaxFileSize bytes (and one more,
// so that Parse reports the size).
func readFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, errors.New("not a regular file")
	}
	return io.ReadAll(io.LimitReader(f, MaxFileSize+1))
}

// lineOf finds, in a file that parsed, the line of a top-level key or, with
// item, of that item in the key's list.
func lineOf(b []byte, key, item string) int {
	var doc yaml.Node
	if yaml.NewDecoder(bytes.NewReader(b)).Decode(&doc) != nil || len(doc.Content) == 0 {
		return 0
	}
	root := doc.Content[0]
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if k.Value != key {
			continue
		}
		if item == "" {
			return k.Line
		}
		for _, c := range v.Content {
			if c.Value == item {
				return c.Line
			}
		}
		return k.Line
	}
	return 0
}

package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yaml.v3 reports decode problems as strings in yaml.TypeError. These
// patterns recognise the ones our types can produce so that Parse can say
// them in terms of keys rather than Go types. Anything unrecognised is
// passed through, still with its line.
var (
	unknownFieldRE = regexp.MustCompile(`(?s)^line (\d+): field (.*) not found in type (\S+)$`)
	duplicateKeyRE = regexp.MustCompile(`(?s)^line (\d+): mapping key (".*") already defined at line (\d+)$`)
	fieldSetRE     = regexp.MustCompile(`(?s)^line (\d+): field (.*) already set in type (\S+)$`)
	wrongTypeRE    = regexp.MustCompile("(?s)^line (\\d+): cannot unmarshal (.+?)(?: `.*`)? into (\\S+)$")
	nodeErrorRE    = regexp.MustCompile(`(?s)^line (\d+), column (\d+): (.*)$`)
)

// nodeError is how Bytes and Duration report a bad value. A *yaml.TypeError
// lets the decoder carry on and report the other problems too; the column
// lets Parse find which key the value belongs to.
func nodeError(n *yaml.Node, format string, args ...any) error {
	msg := fmt.Sprintf("line %d, column %d: ", n.Line, n.Column) + fmt.Sprintf(format, args...)
	return &yaml.TypeError{Errors: []string{msg}}
}

func describeKind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return describeTag(n.ShortTag())
}

func describeTag(tag string) string {
	switch tag {
	case "!!map":
		return "a mapping"
	case "!!seq":
		return "a list"
	case "!!str":
		return "a string"
	case "!!int":
		return "an integer"
	case "!!float":
		return "a number"
	case "!!bool":
		return "a boolean"
	case "!!timestamp":
		return "a timestamp"
	case "!!binary":
		return "binary data"
	}
	return fmt.Sprintf("a value tagged %q", tag)
}

// section is a mapping of the file: the key path that leads to it ("" for
// the top level) and the keys it accepts.
type section struct {
	path string
	keys []string
}

// sections maps the Go type names yaml.v3 prints ("config.API") to the
// sections of the file, read from the yaml tags so they cannot drift.
var sections = func() map[string]section {
	m := map[string]section{}
	var add func(t reflect.Type, path string)
	add = func(t reflect.Type, path string) {
		s := section{path: path}
		for f := range t.Fields() {
			key, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			s.keys = append(s.keys, key)
			if f.Type.Kind() == reflect.Struct {
				add(f.Type, joinKey(path, key))
			}
		}
		m[t.String()] = s
	}
	add(reflect.TypeFor[Config](), "")
	return m
}()

// sectionPaths holds the key paths that lead to sections ("api", ...).
var sectionPaths = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range sections {
		m[s.path] = true
	}
	return m
}()

func joinKey(parent, key string) string {
	if parent == "" {
		return key
	}
	return parent + "." + key
}

// keyIndex records where keys and values sit in the file, so that messages
// about a line or a value can name the key path.
type keyIndex struct {
	keys     map[string]int    // key path → line of its first occurrence
	values   map[int][]string  // line → paths of the non-section keys whose value starts there
	valuesAt map[[2]int]string // line, column of a value → its key path
}

// maxKeyDepth is as deep as our sections go: a value inside a section.
const maxKeyDepth = 2

func newKeyIndex(doc *yaml.Node) keyIndex {
	ix := keyIndex{keys: map[string]int{}, values: map[int][]string{}, valuesAt: map[[2]int]string{}}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return ix
	}
	ix.walk(doc.Content[0], "", 1)
	return ix
}

func (ix keyIndex) walk(n *yaml.Node, parent string, depth int) {
	if n.Kind != yaml.MappingNode || depth > maxKeyDepth {
		return
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		path := joinKey(parent, k.Value)
		if _, seen := ix.keys[path]; seen {
			continue
		}
		ix.keys[path] = k.Line
		if !sectionPaths[path] {
			ix.values[v.Line] = append(ix.values[v.Line], path)
		}
		ix.valuesAt[[2]int{v.Line, v.Column}] = path
		ix.walk(v, path, depth+1)
	}
}

// valueKey names the key whose value starts on line, if only one does.
func (ix keyIndex) valueKey(line int) string {
	if paths := ix.values[line]; len(paths) == 1 {
		return paths[0]
	}
	return ""
}

// rewrite turns one of yaml.v3's "line N: ..." messages into ours.
func (ix keyIndex) rewrite(msg string) string {
	if m := unknownFieldRE.FindStringSubmatch(msg); m != nil {
		s := sections[m[3]]
		out := fmt.Sprintf("line %s: unknown key %q", m[1], m[2])
		if s.path == "" {
			out = fmt.Sprintf("line %s: unknown top-level key %q", m[1], m[2])
		} else {
			out += " in " + s.path
		}
		if near := nearest(m[2], s.keys); near != "" {
			out += fmt.Sprintf(" (did you mean %q?)", near)
		}
		return out
	}
	if m := duplicateKeyRE.FindStringSubmatch(msg); m != nil {
		key, err := strconv.Unquote(m[2])
		if err != nil {
			key = m[2]
		}
		first, _ := strconv.Atoi(m[3])
		where := ""
		for path, line := range ix.keys {
			if line == first && (path == key || strings.HasSuffix(path, "."+key)) {
				if parent := strings.TrimSuffix(strings.TrimSuffix(path, key), "."); parent != "" {
					where = " in " + parent
				}
				break
			}
		}
		return fmt.Sprintf("line %s: duplicate key %q%s (first set on line %d)", m[1], key, where, first)
	}
	if m := fieldSetRE.FindStringSubmatch(msg); m != nil {
		out := fmt.Sprintf("line %s: key %q", m[1], m[2])
		if s := sections[m[3]]; s.path != "" {
			out += " in " + s.path
		}
		return out + " is set more than once"
	}
	if m := wrongTypeRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		got := describeTag(m[2])
		if s, ok := sections[m[3]]; ok {
			if s.path == "" {
				return fmt.Sprintf("line %d: the configuration must be a mapping of keys, got %s", line, got)
			}
			return fmt.Sprintf("line %d: %s: want a mapping, got %s", line, s.path, got)
		}
		want := m[3]
		if want == "string" {
			want = "a string"
		}
		if key := ix.valueKey(line); key != "" {
			return fmt.Sprintf("line %d: %s: want %s, got %s", line, key, want, got)
		}
		return fmt.Sprintf("line %d: want %s, got %s", line, want, got)
	}
	if m := nodeErrorRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		if key, ok := ix.valuesAt[[2]int{line, col}]; ok {
			return fmt.Sprintf("line %d: %s: %s", line, key, m[3])
		}
		return fmt.Sprintf("line %d: %s", line, m[3])
	}
	return msg
}

// nearest returns the key in keys closest to s when it is close enough to
// be a typo.
func nearest(s string, keys []string) string {
	best, bestDist := "", 3
	for _, k := range keys {
		if d := editDistance(strings.ToLower(s), k); d < bestDist && d < len(k) {
			best, bestDist = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance; keys are short, and s is cut
// short so a hostile key cannot make this slow.
func editDistance(a, b string) int {
	if len(a) > 64 {
		return len(a)
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

package taxonomy

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// maxATLASSize bounds what ParseATLAS reads. The 5.6.0 release is under
// half a megabyte, so this leaves room for growth and none for abuse.
const maxATLASSize = 16 << 20

// maxATLASStructure bounds the YAML indicators and line breaks in the input
// (see structureCount), and so the number of nodes the YAML parser builds:
// each node costs a few hundred bytes, so without this bound 64 MiB of
// "[a,a,a,..." would take gigabytes. ATLAS 5.6.0 has about 22,000.
const maxATLASStructure = 1 << 18

// Limits on single values, far above anything in a real release; they keep a
// hostile file from making the catalogue hold huge strings.
const (
	maxVersionLen  = 64
	maxNameLen     = 256
	maxMaturityLen = 64
)

var (
	techniqueIDPattern = regexp.MustCompile(`^AML\.T\d{4}(\.\d{3})?$`)
	tacticIDPattern    = regexp.MustCompile(`^AML\.TA\d{4}$`)
)

// Tactic is an ATLAS tactic: the adversary's goal at a stage of an attack.
type Tactic struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// CatalogTechnique is an ATLAS technique or sub-technique as imported.
type CatalogTechnique struct {
	ID       string   `json:"id"`
	Name     string   `json:"name"`
	Parent   string   `json:"parent,omitempty"` // the technique this is a sub-technique of
	Tactics  []string `json:"tactics,omitempty"`
	Maturity string   `json:"maturity,omitempty"`
}

// Catalog is the part of an ATLAS release that Airlock keeps: its version,
// its tactics in the file's (matrix) order, and its techniques sorted by ID.
type Catalog struct {
	Version    string             `json:"version"`
	Tactics    []Tactic           `json:"tactics"`
	Techniques []CatalogTechnique `json:"techniques"`
}

// ParseATLAS reads a MITRE ATLAS release in its ATLAS.yaml format and returns
// its tactics and techniques, merged across matrices. It reads at most 16 MiB
// and refuses a file whose identifiers or structure are not ATLAS's. Keys it
// does not use (descriptions, mitigations, case studies, keys added by later
// releases) are skipped and not kept.
func ParseATLAS(r io.Reader) (Catalog, error) {
	c, err := parseATLAS(r, maxATLASSize)
	if err != nil {
		return Catalog{}, fmt.Errorf("parse ATLAS: %w", err)
	}
	return c, nil
}

func parseATLAS(r io.Reader, limit int64) (Catalog, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return Catalog{}, fmt.Errorf("read: %w", err)
	}
	if int64(len(data)) > limit {
		return Catalog{}, fmt.Errorf("input is larger than the %s limit", formatSize(limit))
	}
	if n := structureCount(data); n > maxATLASStructure {
		return Catalog{}, fmt.Errorf("input has more than %d YAML indicators and line breaks; an ATLAS release has far fewer", maxATLASStructure)
	}
	// Decoding into a yaml.Node, rather than into structs, skips yaml.v3's
	// duplicate-key check, which is quadratic in the keys of a mapping; the
	// walk below checks the mappings it reads with a map instead.
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return Catalog{}, fmt.Errorf("malformed YAML: %w", err)
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) != 1 {
		return Catalog{}, errors.New("input is empty")
	}
	return catalogFrom(doc.Content[0])
}

// atlasMatrix is a matrix's tactic and technique nodes, not yet read.
type atlasMatrix struct {
	where      string
	tactics    []*yaml.Node
	techniques []*yaml.Node
}

func catalogFrom(root *yaml.Node) (Catalog, error) {
	top, err := mappingFields(root, "top level")
	if err != nil {
		return Catalog{}, err
	}
	version, err := scalar(top["version"], "version", maxVersionLen)
	if err != nil {
		return Catalog{}, err
	}
	if version == "" {
		return Catalog{}, errors.New("missing version")
	}
	matrices, err := readMatrices(top["matrices"])
	if err != nil {
		return Catalog{}, err
	}
	tactics, err := readTactics(matrices)
	if err != nil {
		return Catalog{}, err
	}
	techniques, err := readTechniques(matrices, tactics)
	if err != nil {
		return Catalog{}, err
	}
	return Catalog{Version: version, Tactics: tactics, Techniques: techniques}, nil
}

func readMatrices(n *yaml.Node) ([]atlasMatrix, error) {
	nodes, err := sequence(n, "matrices")
	if err != nil {
		return nil, err
	}
	ms := make([]atlasMatrix, len(nodes))
	for i, mn := range nodes {
		where := fmt.Sprintf("matrix %d", i)
		m, err := mappingFields(mn, where)
		if err != nil {
			return nil, err
		}
		id, err := scalar(m["id"], where+" id", maxNameLen)
		if err != nil {
			return nil, err
		}
		if id != "" {
			where += fmt.Sprintf(" (%q)", id)
		}
		ms[i].where = where
		if ms[i].tactics, err = sequence(m["tactics"], where+" tactics"); err != nil {
			return nil, err
		}
		if ms[i].techniques, err = sequence(m["techniques"], where+" techniques"); err != nil {
			return nil, err
		}
	}
	return ms, nil
}

// readTactics returns the matrices' tactics in the order they first appear.
func readTactics(ms []atlasMatrix) ([]Tactic, error) {
	tactics := []Tactic{}
	names := map[string]string{}
	for _, m := range ms {
		for i, tn := range m.tactics {
			where := fmt.Sprintf("%s tactic %d", m.where, i)
			f, err := mappingFields(tn, where)
			if err != nil {
				return nil, err
			}
			id, name, err := idName(f, tn, where, tacticIDPattern, "AML.TA####")
			if err != nil {
				return nil, err
			}
			if prev, ok := names[id]; ok {
				// Matrices may share a tactic; they may not disagree about it.
				if prev != name {
					return nil, fmt.Errorf("line %d: %s: tactic %s named both %q and %q", tn.Line, where, id, prev, name)
				}
				continue
			}
			names[id] = name
			tactics = append(tactics, Tactic{ID: id, Name: name})
		}
	}
	return tactics, nil
}

// readTechniques returns the matrices' techniques sorted by ID.
func readTechniques(ms []atlasMatrix, tactics []Tactic) ([]CatalogTechnique, error) {
	known := make(map[string]bool, len(tactics))
	for _, t := range tactics {
		known[t.ID] = true
	}
	var techniques []CatalogTechnique
	seen := map[string]bool{}
	for _, m := range ms {
		for i, tn := range m.techniques {
			where := fmt.Sprintf("%s technique %d", m.where, i)
			t, err := readTechnique(tn, where, known)
			if err != nil {
				return nil, err
			}
			if seen[t.ID] {
				return nil, fmt.Errorf("line %d: %s (%s): duplicate technique id %s", tn.Line, where, t.ID, t.ID)
			}
			seen[t.ID] = true
			techniques = append(techniques, t)
		}
	}
	if len(techniques) == 0 {
		return nil, errors.New("no techniques")
	}
	for _, t := range techniques {
		if t.Parent != "" && !seen[t.Parent] {
			return nil, fmt.Errorf("technique %s: parent technique %s is not in the file", t.ID, t.Parent)
		}
	}
	slices.SortFunc(techniques, func(a, b CatalogTechnique) int { return strings.Compare(a.ID, b.ID) })
	return techniques, nil
}

func readTechnique(tn *yaml.Node, where string, knownTactics map[string]bool) (CatalogTechnique, error) {
	f, err := mappingFields(tn, where)
	if err != nil {
		return CatalogTechnique{}, err
	}
	id, name, err := idName(f, tn, where, techniqueIDPattern, "AML.T####[.###]")
	if err != nil {
		return CatalogTechnique{}, err
	}
	where = fmt.Sprintf("%s (%s)", where, id)

	parent, err := scalar(f["subtechnique-of"], where+" subtechnique-of", maxNameLen)
	if err != nil {
		return CatalogTechnique{}, err
	}
	// The pattern has matched: "AML.T" and four digits, then perhaps ".###".
	base, isSub := id[:len("AML.T0000")], len(id) > len("AML.T0000")
	switch {
	case isSub && parent == "":
		return CatalogTechnique{}, fmt.Errorf("line %d: %s: sub-technique id without subtechnique-of", tn.Line, where)
	case !isSub && parent != "":
		return CatalogTechnique{}, fmt.Errorf("line %d: %s: subtechnique-of %s on a top-level technique id", tn.Line, where, parent)
	case isSub && parent != base:
		return CatalogTechnique{}, fmt.Errorf("line %d: %s: subtechnique-of is %s, want %s", tn.Line, where, parent, base)
	}

	maturity, err := scalar(f["maturity"], where+" maturity", maxMaturityLen)
	if err != nil {
		return CatalogTechnique{}, err
	}
	nodes, err := sequence(f["tactics"], where+" tactics")
	if err != nil {
		return CatalogTechnique{}, err
	}
	var tactics []string
	listed := map[string]bool{}
	for _, n := range nodes {
		ta, err := scalar(n, where+" tactics", maxNameLen)
		if err != nil {
			return CatalogTechnique{}, err
		}
		if !tacticIDPattern.MatchString(ta) {
			return CatalogTechnique{}, fmt.Errorf("line %d: %s: tactic id %q does not look like AML.TA####", n.Line, where, ta)
		}
		if !knownTactics[ta] {
			return CatalogTechnique{}, fmt.Errorf("line %d: %s: tactic %s is not defined in any matrix", n.Line, where, ta)
		}
		if !listed[ta] {
			listed[ta] = true
			tactics = append(tactics, ta)
		}
	}
	return CatalogTechnique{ID: id, Name: name, Parent: parent, Tactics: tactics, Maturity: maturity}, nil
}

// structureCount counts the bytes that can start or separate a YAML node.
// Every node the parser builds needs one of them nearby (at most three nodes
// per byte, as in "[a: b, ..."), so the count bounds the size of the tree.
func structureCount(data []byte) int {
	n := 0
	for _, b := range data {
		switch b {
		case ',', ':', '-', '?', '[', '{', '\n':
			n++
		}
	}
	return n
}

// mappingFields returns the values of n's scalar keys. Keys the caller does
// not look up are never interpreted; a key given twice is an error, as in any
// strict YAML reader.
func mappingFields(n *yaml.Node, where string) (map[string]*yaml.Node, error) {
	if err := wantKind(n, yaml.MappingNode, where); err != nil {
		return nil, err
	}
	fields := make(map[string]*yaml.Node, len(n.Content)/2)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind != yaml.ScalarNode {
			continue
		}
		if k.Value == "<<" && k.ShortTag() == "!!merge" {
			return nil, fmt.Errorf("line %d: %s: merge keys are not supported", k.Line, where)
		}
		if _, dup := fields[k.Value]; dup {
			return nil, fmt.Errorf("line %d: %s: key %q given twice", k.Line, where, k.Value)
		}
		fields[k.Value] = n.Content[i+1]
	}
	return fields, nil
}

// sequence returns n's items; an absent or null value is an empty sequence.
func sequence(n *yaml.Node, where string) ([]*yaml.Node, error) {
	if isNull(n) {
		return nil, nil
	}
	if err := wantKind(n, yaml.SequenceNode, where); err != nil {
		return nil, err
	}
	return n.Content, nil
}

// scalar returns n's value, trimmed; an absent or null value is "".
func scalar(n *yaml.Node, where string, maxLen int) (string, error) {
	if isNull(n) {
		return "", nil
	}
	if err := wantKind(n, yaml.ScalarNode, where); err != nil {
		return "", err
	}
	s := strings.TrimSpace(n.Value)
	if len(s) > maxLen {
		return "", fmt.Errorf("line %d: %s is longer than %d bytes", n.Line, where, maxLen)
	}
	return s, nil
}

// idName reads the id and name of a tactic or technique.
func idName(f map[string]*yaml.Node, n *yaml.Node, where string, pattern *regexp.Regexp, shape string) (id, name string, err error) {
	if id, err = scalar(f["id"], where+" id", maxNameLen); err != nil {
		return "", "", err
	}
	if name, err = scalar(f["name"], where+" name", maxNameLen); err != nil {
		return "", "", err
	}
	switch {
	case id == "":
		return "", "", fmt.Errorf("line %d: %s: missing id", n.Line, where)
	case !pattern.MatchString(id):
		return "", "", fmt.Errorf("line %d: %s: id %q does not look like %s", n.Line, where, id, shape)
	case name == "":
		return "", "", fmt.Errorf("line %d: %s (%s): missing name", n.Line, where, id)
	}
	return id, name, nil
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

func wantKind(n *yaml.Node, kind yaml.Kind, where string) error {
	if n.Kind == kind {
		return nil
	}
	if n.Kind == yaml.AliasNode {
		return fmt.Errorf("line %d: %s: aliases are not supported", n.Line, where)
	}
	return fmt.Errorf("line %d: %s: want a %s, got a %s", n.Line, where, kindName(kind), kindName(n.Kind))
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.DocumentNode:
		return "document"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.MappingNode:
		return "mapping"
	case yaml.ScalarNode:
		return "scalar"
	case yaml.AliasNode:
		return "alias"
	}
	return fmt.Sprintf("node of kind %d", k)
}

func formatSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}

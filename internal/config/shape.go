package config

import (
	"fmt"

	"go.yaml.in/yaml/v3"
)

// Bounds on the shape of the document, checked on its nodes before the
// strict decode. yaml.v3 compares every pair of keys of each mapping it
// decodes, and decodes an alias's target once per alias, so a 4 MiB file of
// keys or of aliases would otherwise cost minutes. A configuration file is
// nowhere near either bound.
const (
	maxMappingKeys = 256
	maxAliases     = 64
)

// checkShape reports duplicate keys (in linear time, and anywhere in the
// document), mappings over maxMappingKeys and aliases past maxAliases.
func checkShape(doc *yaml.Node) []string {
	var problems []string
	aliases := 0
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				walk(c, fmt.Sprintf("%s[%d]", path, i))
			}
		case yaml.AliasNode:
			if aliases++; aliases == maxAliases+1 {
				problems = append(problems, fmt.Sprintf("line %d: more than %d aliases", n.Line, maxAliases))
			}
		case yaml.MappingNode:
			if keys := len(n.Content) / 2; keys > maxMappingKeys {
				problems = append(problems, fmt.Sprintf("line %d: %s mapping has %d keys, more than the %d allowed", n.Line, describePath(path), keys, maxMappingKeys))
				return
			}
			first := map[string]int{}
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				walk(k, path)
				if k.Kind != yaml.ScalarNode {
					walk(v, path)
					continue
				}
				if line, dup := first[k.Value]; dup {
					in := ""
					if path != "" {
						in = " in " + path
					}
					problems = append(problems, fmt.Sprintf("line %d: duplicate key %q%s (first set on line %d)", k.Line, k.Value, in, line))
				} else {
					first[k.Value] = k.Line
				}
				walk(v, joinKey(path, k.Value))
			}
		}
	}
	walk(doc, "")
	return problems
}

func describePath(path string) string {
	if path == "" {
		return "the top-level"
	}
	return "the " + path
}

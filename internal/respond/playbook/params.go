package playbook

import (
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"

	"github.com/airlock-ir/airlock/internal/policy"
	"go.yaml.in/yaml/v3"
)

// paramInfo is a field of policy.Params as a playbook names it: by its JSON
// name, so that playbooks and the policy API spell params the same way and
// a param the policy gains is accepted here without a change.
type paramInfo struct {
	names []string
	want  map[string]string // name → what it takes, for error messages
}

var params = sync.OnceValue(func() paramInfo {
	info := paramInfo{want: map[string]string{}}
	t := reflect.TypeFor[policy.Params]()
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		info.names = append(info.names, name)
		info.want[name] = describeType(f.Type)
	}
	return info
})

func describeType(t reflect.Type) string {
	if t == reflect.TypeFor[policy.Duration]() {
		return "a duration such as \"1m\""
	}
	switch t.Kind() {
	case reflect.Pointer:
		return describeType(t.Elem())
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of " + strings.TrimPrefix(strings.TrimPrefix(describeType(t.Elem()), "a "), "an ") + "s"
	case reflect.Map:
		return "a mapping of names to " + strings.TrimPrefix(describeType(t.Elem()), "a ") + "s"
	}
	return t.String()
}

// params reads an action's params; where names the action. Each key is
// decoded on its own through the policy's JSON form, so that a bad value is
// reported at its line.
func (p *parser) params(n *yaml.Node, where string) (fields, policy.Params) {
	var out policy.Params
	info := params()
	where = sub(where, "params")
	f, ok := p.mapping(n, where, info.names)
	if !ok {
		return f, out
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		key := n.Content[i].Value
		v, ok := f.vals[key]
		if !ok || f.keys[key] != n.Content[i] {
			continue
		}
		val, ok := p.plain(v, sub(where, key), 0)
		if !ok {
			continue
		}
		b, err := json.Marshal(map[string]any{key: val})
		if err == nil {
			err = json.Unmarshal(b, &out)
		}
		var te *json.UnmarshalTypeError
		switch {
		case err == nil:
		case errors.As(err, &te):
			p.errorf(v.Line, "%s: want %s, got %s", sub(where, key), info.want[key], describe(v))
		default:
			p.errorf(v.Line, "%s: %s", sub(where, key), strings.TrimPrefix(err.Error(), "json: "))
		}
	}
	return f, out
}

// plain turns a params value into Go values that encoding/json can write:
// strings, numbers, booleans, lists and mappings of them, no deeper than a
// param ever is.
func (p *parser) plain(n *yaml.Node, where string, depth int) (any, bool) {
	if depth > 2 {
		p.errorf(n.Line, "%s: nested too deeply", where)
		return nil, false
	}
	switch n.Kind {
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!str":
			return n.Value, true
		case "!!bool":
			var v bool
			if n.Decode(&v) == nil {
				return v, true
			}
		case "!!int":
			var v int64
			if n.Decode(&v) == nil {
				return v, true
			}
		case "!!float":
			var v float64
			if n.Decode(&v) == nil && !math.IsNaN(v) && !math.IsInf(v, 0) {
				return v, true
			}
		case "!!null":
			return nil, true
		}
		p.errorf(n.Line, "%s: %s is not a string, a number or true/false", where, describe(n))
		return nil, false
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, ok := p.plain(c, where, depth+1)
			if !ok {
				return nil, false
			}
			out = append(out, v)
		}
		return out, true
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode || k.Tag != "!!str" {
				p.errorf(k.Line, "%s: keys must be names, got %s", where, describe(k))
				return nil, false
			}
			if _, dup := out[k.Value]; dup {
				p.errorf(k.Line, "%s: duplicate key %q", where, clip(k.Value))
				return nil, false
			}
			v, ok := p.plain(n.Content[i+1], where, depth+1)
			if !ok {
				return nil, false
			}
			out[k.Value] = v
		}
		return out, true
	}
	p.errorf(n.Line, "%s: want a value, got %s", where, describe(n))
	return nil, false
}

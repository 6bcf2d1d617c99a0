package event

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// EntityKind names what an entity is: who or what an incident is about.
type EntityKind string

const (
	EntityAPIKey       EntityKind = "api_key" // a keyed hash of the key, never the key itself
	EntityUser         EntityKind = "user"
	EntityIP           EntityKind = "ip"
	EntityModel        EntityKind = "model"
	EntityModelVersion EntityKind = "model_version"
	EntityRoute        EntityKind = "route"
	EntityDataset      EntityKind = "dataset"
	EntityHost         EntityKind = "host"
)

var entityKinds = []EntityKind{EntityAPIKey, EntityUser, EntityIP, EntityModel, EntityModelVersion, EntityRoute, EntityDataset, EntityHost}

// EntityKinds lists every known kind.
func EntityKinds() []EntityKind { return append([]EntityKind(nil), entityKinds...) }

// Entity is one thing an incident, alert or event is about.
type Entity struct {
	Kind  EntityKind `json:"kind"`
	Value string     `json:"value"`
}

// MaxEntityValue bounds an entity's value; anything longer is not an
// identifier but an attempt to smuggle data.
const MaxEntityValue = 512

func (e Entity) String() string { return string(e.Kind) + ":" + e.Value }

// Validate reports why an entity cannot be stored, or nil.
func (e Entity) Validate() error {
	known := false
	for _, k := range entityKinds {
		if e.Kind == k {
			known = true
			break
		}
	}
	switch {
	case !known:
		return fmt.Errorf("unknown entity kind %q (want one of %s)", e.Kind, joinKinds())
	case strings.TrimSpace(e.Value) == "":
		return fmt.Errorf("entity %s has an empty value", e.Kind)
	case len(e.Value) > MaxEntityValue:
		return fmt.Errorf("entity %s value is %d bytes, more than %d", e.Kind, len(e.Value), MaxEntityValue)
	case !utf8.ValidString(e.Value):
		return fmt.Errorf("entity %s value is not valid UTF-8", e.Kind)
	}
	return nil
}

func joinKinds() string {
	s := make([]string, len(entityKinds))
	for i, k := range entityKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

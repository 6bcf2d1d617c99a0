package policy

import (
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"
	"time"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

var nextID atomic.Int64

// act returns a valid action of the given kind, target and params.
func act(kind Kind, target Target, params Params) Action {
	return Action{
		ID:        fmt.Sprintf("act-%d", nextID.Add(1)),
		Kind:      kind,
		Target:    target,
		Params:    params,
		Reason:    "test",
		Incident:  "INC-1",
		CreatedBy: "responder@example.com",
		CreatedAt: t0,
	}
}

func compile(t testing.TB, actions ...Action) *Snapshot {
	t.Helper()
	s, err := Compile(Policy{Version: 1, Actions: actions})
	if err != nil {
		t.Fatalf("Compile: %v", err)
	}
	return s
}

func ptr[T any](v T) *T { return &v }

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

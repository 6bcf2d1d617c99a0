package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
)

// TestEventLogRelated: only the events of the incident's callers and model
// versions since the cut-off are kept, a line too long to hold is skipped
// without stopping the rest, and a missing log is no events.
func TestEventLogRelated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "events.jsonl")
	lines := []string{
		`{"id":"old","time":"2026-11-26T08:00:00Z","api_key_hash":"kh_eve"}`,
		`{"id":"eve","time":"2026-11-26T09:00:00Z","api_key_hash":"kh_eve"}`,
		`{"id":"bob","time":"2026-11-26T09:00:01Z","api_key_hash":"kh_bob"}`,
		`{"id":"huge","time":"2026-11-26T09:00:02Z","api_key_hash":"kh_eve","prompt":"` + strings.Repeat("a", maxEventLine) + `"}`,
		`not json`,
		`{"id":"v2","time":"2026-11-26T09:00:03Z","model_version":"v2"}`,
		`{"id":"ip","time":"2026-11-26T09:00:04Z","ip":"203.0.113.9"}`,
	}
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ents := []event.Entity{{Kind: event.EntityAPIKey, Value: "kh_eve"}, {Kind: event.EntityModelVersion, Value: "v2"},
		{Kind: event.EntityRoute, Value: "support"}} // a route ties nothing
	var out bytes.Buffer
	n, err := eventLog{path: path}.Related(context.Background(), ents, time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC), &out)
	if err != nil {
		t.Fatal(err)
	}
	got := out.String()
	if n != 2 || !strings.Contains(got, `"id":"eve"`) || !strings.Contains(got, `"id":"v2"`) || strings.Contains(got, `"id":"bob"`) || strings.Contains(got, `"huge"`) {
		t.Errorf("%d events: %.300s", n, got)
	}
	if n, err := (eventLog{path: path + ".missing"}).Related(context.Background(), ents, time.Time{}, &out); n != 0 || err != nil {
		t.Errorf("missing log: %d, %v", n, err)
	}
}

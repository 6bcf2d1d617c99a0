package intel_test

import (
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/gateway"
	"github.com/airlock-ir/airlock/internal/intel"
)

// An api_key_hash indicator is written in the gateway's own form, so a feed
// built from the gateway's events (or an incident's entities) matches the
// events the gateway emits for the same key.
func TestKeyHashMatchesGatewayEvents(t *testing.T) {
	keys := gateway.NewKeyHasher([]byte("0123456789abcdef0123456789abcdef"))
	feed := "type,value\napi_key_hash," + strings.ToUpper(keys.Hash("sk-leaked-1")) + "\n"
	inds, err := intel.ParseCSV("keys.csv", strings.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	s := intel.NewSet(inds)
	hits := s.Match(event.Event{Time: time.Now(), APIKeyHash: keys.Hash("sk-leaked-1")})
	if len(hits) != 1 || hits[0].Field != "api_key_hash" {
		t.Fatalf("hits %+v", hits)
	}
	if hits := s.Match(event.Event{Time: time.Now(), APIKeyHash: keys.Hash("sk-other")}); len(hits) != 0 {
		t.Fatalf("another key matched: %+v", hits)
	}
}

package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestCollectorReadsSourcesAtScrape(t *testing.T) {
	dropped := uint64(3)
	reg := NewRegistry(Sources{
		GatewayDecisions: func() map[string]uint64 { return map[string]uint64{"allowed": 10, "blocked": 2} },
		EventsPublished:  func() uint64 { return 12 },
		EventsDropped:    func() map[string]uint64 { return map[string]uint64{"event-log": dropped} },
		PolicyVersion:    func() int64 { return 7 },
		PolicyActions:    func() map[string]int { return map[string]int{"block": 2} },
	})
	want := `
# HELP airlock_events_dropped_total Events a subscriber's full queue could not take.
# TYPE airlock_events_dropped_total counter
airlock_events_dropped_total{subscriber="event-log"} 3
# HELP airlock_gateway_requests_total Requests through the gateway, by decision.
# TYPE airlock_gateway_requests_total counter
airlock_gateway_requests_total{decision="allowed"} 10
airlock_gateway_requests_total{decision="blocked"} 2
# HELP airlock_policy_version Version of the containment policy in force.
# TYPE airlock_policy_version gauge
airlock_policy_version 7
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "airlock_events_dropped_total", "airlock_gateway_requests_total", "airlock_policy_version"); err != nil {
		t.Error(err)
	}
	dropped = 5
	if n, _ := testutil.GatherAndCount(reg, "airlock_events_dropped_total"); n != 1 {
		t.Errorf("dropped series = %d", n)
	}
	if v := testutil.ToFloat64(collector{src: Sources{EventsPublished: func() uint64 { return 12 }}}); v != 12 {
		t.Errorf("published = %v", v)
	}
}

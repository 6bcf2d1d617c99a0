package metrics

import (
	"sort"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Sources are the functions the collector reads at scrape time; any may be
// nil when that part of Airlock is not running.
type Sources struct {
	GatewayDecisions func() map[string]uint64 // requests by decision
	EventsPublished  func() uint64
	EventsDropped    func() map[string]uint64 // by subscriber
	PolicyVersion    func() int64
	PolicyActions    func() map[string]int // actions in force by kind
}

var (
	descRequests  = prometheus.NewDesc("airlock_gateway_requests_total", "Requests through the gateway, by decision.", []string{"decision"}, nil)
	descPublished = prometheus.NewDesc("airlock_events_published_total", "Events handed to the event bus.", nil, nil)
	descDropped   = prometheus.NewDesc("airlock_events_dropped_total", "Events a subscriber's full queue could not take.", []string{"subscriber"}, nil)
	descVersion   = prometheus.NewDesc("airlock_policy_version", "Version of the containment policy in force.", nil, nil)
	descActions   = prometheus.NewDesc("airlock_policy_actions", "Containment actions in force, by kind.", []string{"kind"}, nil)
)

type collector struct{ src Sources }

func (c collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRequests, descPublished, descDropped, descVersion, descActions} {
		ch <- d
	}
}

func (c collector) Collect(ch chan<- prometheus.Metric) {
	if f := c.src.GatewayDecisions; f != nil {
		for _, kv := range sorted(f()) {
			ch <- prometheus.MustNewConstMetric(descRequests, prometheus.CounterValue, float64(kv.v), kv.k)
		}
	}
	if f := c.src.EventsPublished; f != nil {
		ch <- prometheus.MustNewConstMetric(descPublished, prometheus.CounterValue, float64(f()))
	}
	if f := c.src.EventsDropped; f != nil {
		for _, kv := range sorted(f()) {
			ch <- prometheus.MustNewConstMetric(descDropped, prometheus.CounterValue, float64(kv.v), kv.k)
		}
	}
	if f := c.src.PolicyVersion; f != nil {
		ch <- prometheus.MustNewConstMetric(descVersion, prometheus.GaugeValue, float64(f()))
	}
	if f := c.src.PolicyActions; f != nil {
		for k, n := range f() {
			ch <- prometheus.MustNewConstMetric(descActions, prometheus.GaugeValue, float64(n), k)
		}
	}
}

type kv struct {
	k string
	v uint64
}

func sorted(m map[string]uint64) []kv {
	out := make([]kv, 0, len(m))
	for k, v := range m {
		out = append(out, kv{k, v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].k < out[j].k })
	return out
}

// NewRegistry returns a registry with Airlock's collector and the Go
// runtime's and process's standard ones.
func NewRegistry(src Sources) *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collector{src: src}, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return reg
}

package credential

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

// BenchmarkObserveManyKeys is the detection benchmark's traffic as this
// detector sees it: 100,000 keys drawn with a skew, each from its own
// address, one event every 7.2 ms.
func BenchmarkObserveManyKeys(b *testing.B) {
	const nKeys = 100_000
	keys, ips := make([]string, nKeys), make([]string, nKeys)
	for i := range keys {
		keys[i] = "kh_" + strconv.Itoa(1_000_000+i)
		ips[i] = fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
	}
	r := rand.New(rand.NewPCG(3, 4))
	const n = 1 << 16
	who := make([]int32, n)
	for i := range who {
		u := r.Float64()
		who[i] = int32(float64(nKeys) * u * u * u)
	}
	d := New(Config{})
	var rec detecttest.Recorder
	ev := event.Event{Source: "gateway", Kind: "request", Route: "chat"}
	at := t0
	i := 0
	for b.Loop() {
		j := who[i%n]
		ev.APIKeyHash, ev.IP, ev.Time = keys[j], ips[j], at
		d.Observe(&ev, &rec)
		at = at.Add(7200 * time.Microsecond)
		i++
	}
}

func BenchmarkNetworkOf(b *testing.B) {
	ips := []string{"10.1.2.3", "203.0.113.77", "192.168.100.254", "172.16.0.1"}
	i := 0
	for b.Loop() {
		networkOf(ips[i%len(ips)])
		i++
	}
}

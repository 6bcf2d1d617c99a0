package credential

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/detect/detecttest"
	"github.com/airlock-ir/airlock/internal/event"
)

var t0 = time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)

func req(key, ip string, at time.Time) *event.Event {
	return &event.Event{ID: fmt.Sprintf("e-%s-%s-%d", key, ip, at.UnixNano()), Time: at, Kind: "request", APIKeyHash: key, IP: ip, Route: "support"}
}

func TestStolenKeyFromNewNetwork(t *testing.T) {
	d := New(Config{})
	var rec detecttest.Recorder
	at := t0
	// An established key: 30 requests over 15 minutes from its office,
	// moving between addresses of the same /24.
	for i := range 30 {
		d.Observe(req("kh_app", fmt.Sprintf("198.51.100.%d", 10+i%3), at), &rec)
		at = at.Add(30 * time.Second)
	}
	if len(rec.Alerts) != 0 {
		t.Fatalf("alerts while learning: %v", rec.Rules())
	}
	// The same key from elsewhere, while the office still uses it.
	d.Observe(req("kh_app", "203.0.113.77", at), &rec)
	if len(rec.Alerts) != 1 {
		t.Fatalf("%d alerts, want 1", len(rec.Alerts))
	}
	a := rec.Alerts[0]
	detecttest.CheckAlert(t, a)
	if a.Rule != RuleNewNetwork || a.Type != "authentication_bypass" || a.Severity != event.SeverityHigh || a.Evidence.EventIDs[0] == "" {
		t.Errorf("alert %+v", a)
	}
	// From then on that network is known: no repeat.
	d.Observe(req("kh_app", "203.0.113.78", at.Add(time.Second)), &rec)
	if len(rec.Alerts) != 1 {
		t.Errorf("the new network alerted again")
	}
}

// TestBenignLookalikes: a new key trying several networks while it is
// learned, a roaming client within its /24, IPv4-mapped addresses, and
// events without a key or address raise nothing.
func TestBenignLookalikes(t *testing.T) {
	d := New(Config{})
	var rec detecttest.Recorder
	at := t0
	for i := range 5 { // a fresh key used from a laptop and a phone in its first minutes
		d.Observe(req("kh_new", fmt.Sprintf("192.0.2.%d", i), at), &rec)
		d.Observe(req("kh_new", "2001:db8:1:2::5", at), &rec)
		at = at.Add(time.Minute)
	}
	for i := range 40 {
		d.Observe(req("kh_roam", fmt.Sprintf("::ffff:198.51.100.%d", i), at), &rec)
		at = at.Add(time.Minute)
	}
	d.Observe(&event.Event{Kind: "request", IP: "203.0.113.1", Time: at}, &rec)
	d.Observe(&event.Event{Kind: "request", APIKeyHash: "kh_roam", Time: at}, &rec)
	d.Observe(&event.Event{Kind: "request", APIKeyHash: "kh_roam", IP: "not an ip", Time: at}, &rec)
	if len(rec.Alerts) != 0 {
		t.Errorf("benign look-alikes alerted: %v", rec.Rules())
	}
}

func TestBoundedUnderAFlood(t *testing.T) {
	d := New(Config{MaxKeys: 1000, MaxNetworks: 4})
	var rec detecttest.Recorder
	for i := range 100_000 {
		d.Observe(req(fmt.Sprint("kh_", i), fmt.Sprintf("10.%d.%d.1", i/250%250, i%250), t0.Add(time.Duration(i)*time.Millisecond)), &rec)
	}
	if d.Keys() > 1000 {
		t.Errorf("%d keys held, limit 1000", d.Keys())
	}
	for i := range 100 { // one key, many networks: at most MaxNetworks remembered
		d.Observe(req("kh_busy", fmt.Sprintf("10.%d.0.1", i), t0.Add(time.Duration(i)*time.Second)), &rec)
	}
}

// TestNetworkOfMatchesNetip: the fast path for dotted quads gives what
// netip gives, and leaves everything else to it.
func TestNetworkOfMatchesNetip(t *testing.T) {
	ips := []string{"10.1.2.3", "0.0.0.0", "255.255.255.255", "198.51.100.7", "1.2.3.04", "01.2.3.4", "1.2.3.256",
		"1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.1000",
		"999.1.1.1", "00.1.2.3", "1.2.3.00", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "", "localhost", "1.2.3.4%x"}
	for i := range 3000 {
		ips = append(ips, fmt.Sprintf("%d.%d.%d.%d", i%300, i*7%260, i*13%256, i*31%270))
	}
	for _, ip := range ips {
		got, gotOK := networkOf(ip)
		want, wantOK := parsedNetworkOf(ip)
		if got != want || gotOK != wantOK {
			t.Errorf("%q: %v %v, want %v %v", ip, got, gotOK, want, wantOK)
		}
	}
}

// TestNetIDRoundTrip: a network's id gives back the network.
func TestNetIDRoundTrip(t *testing.T) {
	for _, ip := range []string{"10.1.2.3", "0.0.0.0", "255.255.255.255", "::ffff:1.2.3.4", "2001:db8:ab:cd::1", "fe80::1%eth0", "::", "ffff:ffff:ffff:ffff::"} {
		p, ok := networkOf(ip)
		if !ok {
			t.Fatalf("%q: no network", ip)
		}
		id := idOf(p)
		if id == 0 || id.prefix() != p {
			t.Errorf("%q: %v → %#x → %v", ip, p, uint64(id), id.prefix())
		}
	}
	a, _ := networkOf("10.0.0.1")
	b, _ := networkOf("::a00:0")
	if idOf(a) == idOf(b) {
		t.Error("an IPv4 and an IPv6 network share an id")
	}
}

// refKey is the detector's per-key logic written plainly, over a slice of
// networks in the order learned: what the inline first network must keep.
type refKey struct {
	first    time.Time
	requests int
	nets     []struct {
		p    netip.Prefix
		last time.Time
	}
}

func (k *refKey) observe(cfg Config, ip string, now time.Time) string {
	p, _ := networkOf(ip)
	k.requests++
	for i := range k.nets {
		if k.nets[i].p == p {
			k.nets[i].last = now
			return ""
		}
	}
	var alert string
	if k.requests > cfg.Established && now.Sub(k.first) >= cfg.EstablishedFor && len(k.nets) > 0 {
		alert = fmt.Sprintf("API key used from %s, a network it has not used in %d requests since %s", p, k.requests-1, k.first.UTC().Format(time.RFC3339))
		for _, n := range k.nets {
			if now.Sub(n.last) <= cfg.Concurrent {
				alert += fmt.Sprintf("; still in use from %s %s ago", n.p, now.Sub(n.last).Round(time.Second))
				break
			}
		}
	}
	if len(k.nets) >= cfg.MaxNetworks {
		oldest := 0
		for i := range k.nets {
			if k.nets[i].last.Before(k.nets[oldest].last) {
				oldest = i
			}
		}
		k.nets = append(k.nets[:oldest], k.nets[oldest+1:]...)
	}
	k.nets = append(k.nets, struct {
		p    netip.Prefix
		last time.Time
	}{p, now})
	return alert
}

// TestNetworksKeepTheirOrder: a key moving between more networks than it
// remembers, the first one forgotten and relearned among them, raises
// exactly the alerts, with the same text, as the plain slice does.
func TestNetworksKeepTheirOrder(t *testing.T) {
	ips := []string{"10.0.0.1", "10.0.1.1", "2001:db8:1::1", "10.0.2.1", "2001:db8:2::1", "10.0.3.1"}
	for _, maxNets := range []int{1, 2, 3, 4} {
		cfg := Config{Established: 3, EstablishedFor: time.Minute, MaxNetworks: maxNets}.withDefaults()
		d := New(cfg)
		ref := refKey{first: t0}
		var rec detecttest.Recorder
		at := t0
		for i := range 400 {
			ip := ips[(i*i+i/7)%len(ips)]
			if i%11 < 4 {
				ip = ips[0] // the first network, busy
			}
			want := ref.observe(cfg, ip, at)
			n := len(rec.Alerts)
			d.Observe(req("kh_mover", ip, at), &rec)
			got := ""
			if len(rec.Alerts) > n {
				got = rec.Alerts[n].Summary
			}
			if got != want {
				t.Fatalf("max %d, event %d (%s): alert %q, want %q", maxNets, i, ip, got, want)
			}
			at = at.Add(time.Duration(20+i%90) * time.Second)
			if i%13 == 0 {
				at = at.Add(10 * time.Minute) // a quiet spell: no use is concurrent
			}
		}
		concurrent := 0
		for _, a := range rec.Alerts {
			if strings.Contains(a.Summary, "still in use") {
				concurrent++
			}
		}
		if concurrent == 0 || concurrent == len(rec.Alerts) {
			t.Errorf("max %d: %d alerts, %d of them concurrent use: the walk misses a case", maxNets, len(rec.Alerts), concurrent)
		}
	}
}

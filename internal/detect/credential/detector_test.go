package credential

import (
	"fmt"
	"net/netip"
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
	slow := func(ip string) (netip.Prefix, bool) {
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return netip.Prefix{}, false
		}
		a = a.Unmap().WithZone("")
		bits := 48
		if a.Is4() {
			bits = 24
		}
		p, err := a.Prefix(bits)
		return p, err == nil
	}
	ips := []string{"10.1.2.3", "0.0.0.0", "255.255.255.255", "198.51.100.7", "1.2.3.04", "01.2.3.4", "1.2.3.256",
		"1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4 ", " 1.2.3.4", "1.2.3.-4", "1.2.3.1000",
		"999.1.1.1", "00.1.2.3", "1.2.3.00", "::ffff:1.2.3.4", "2001:db8::1", "fe80::1%eth0", "", "localhost", "1.2.3.4%x"}
	for i := range 3000 {
		ips = append(ips, fmt.Sprintf("%d.%d.%d.%d", i%300, i*7%260, i*13%256, i*31%270))
	}
	for _, ip := range ips {
		got, gotOK := networkOf(ip)
		want, wantOK := slow(ip)
		if got != want || gotOK != wantOK {
			t.Errorf("%q: %v %v, want %v %v", ip, got, gotOK, want, wantOK)
		}
	}
}

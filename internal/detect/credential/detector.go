// Package credential watches how API keys are used and raises an alert
// when an established key turns up from a network it has never been used
// from: the sign of a stolen or leaked key. State is per key, bounded.
package credential

import (
	"fmt"
	"hash/maphash"
	"net/netip"
	"time"

	"github.com/airlock-ir/airlock/internal/detect"
	"github.com/airlock-ir/airlock/internal/event"
)

// Name is the detector's name in alerts.
const Name = "credential"

// RuleNewNetwork is raised for an established key used from a new network.
const RuleNewNetwork = "credential.new_network"

// Config tunes the detector; the zero value means the defaults.
type Config struct {
	// Established: a key is judged once it has made this many requests
	// over at least EstablishedFor [20 requests, 10m]. Before that every
	// network it uses is learned as its own.
	Established    int
	EstablishedFor time.Duration
	// MaxNetworks a key is remembered from [16]; the least recently used
	// is forgotten first.
	MaxNetworks int
	// Concurrent: use from the old network this recently, while the new
	// one appears, makes the alert high severity [5m].
	Concurrent time.Duration
	MaxKeys    int           // [200,000]
	TTL        time.Duration // a key idle this long is forgotten [30 days]
}

func (c Config) withDefaults() Config {
	if c.Established <= 0 {
		c.Established = 20
	}
	if c.EstablishedFor <= 0 {
		c.EstablishedFor = 10 * time.Minute
	}
	if c.MaxNetworks <= 0 {
		c.MaxNetworks = 16
	}
	if c.Concurrent <= 0 {
		c.Concurrent = 5 * time.Minute
	}
	if c.MaxKeys <= 0 {
		c.MaxKeys = 200_000
	}
	if c.TTL <= 0 {
		c.TTL = 30 * 24 * time.Hour
	}
	return c
}

// keyState is what is known of one key. Its networks are a list in the
// order learned: the first is kept inline, since most keys are only ever
// used from one network and a second fetch per event would cost more than
// the rest of the look-up; the others follow in more.
type keyState struct {
	first    int64 // unix nanoseconds of the first request
	requests int
	net0     network // the first network; its id is 0 while there is none
	more     []network
}

type network struct {
	id       netID
	lastSeen int64 // unix nanoseconds
}

// netID is a network as one number: a tag for IPv4 or IPv6 above the
// network's leading bits (24 or 48), so that comparing two is one compare.
// It is never 0.
type netID uint64

const (
	tag4 netID = 1 << 62
	tag6 netID = 2 << 62
)

// idOf numbers a network that networkOf returned.
func idOf(p netip.Prefix) netID {
	if a := p.Addr(); a.Is4() {
		b := a.As4()
		return tag4 | netID(b[0])<<16 | netID(b[1])<<8 | netID(b[2])
	}
	b := p.Addr().As16()
	return tag6 | netID(b[0])<<40 | netID(b[1])<<32 | netID(b[2])<<24 | netID(b[3])<<16 | netID(b[4])<<8 | netID(b[5])
}

// prefix is the network id numbers.
func (id netID) prefix() netip.Prefix {
	if id&tag4 != 0 {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(id >> 16), byte(id >> 8), byte(id)}), 24)
	}
	var b [16]byte
	for i := range 6 {
		b[i] = byte(id >> (40 - 8*i))
	}
	return netip.PrefixFrom(netip.AddrFrom16(b), 48)
}

// numNets is how many networks k holds.
func (k *keyState) numNets() int {
	if k.net0.id == 0 {
		return 0
	}
	return 1 + len(k.more)
}

// net is k's i-th network, in the order learned.
func (k *keyState) net(i int) *network {
	if i == 0 {
		return &k.net0
	}
	return &k.more[i-1]
}

// find returns the position of id among k's networks, or -1.
func (k *keyState) find(id netID) int {
	if k.net0.id == id {
		return 0
	}
	for i := range k.more {
		if k.more[i].id == id {
			return i + 1
		}
	}
	return -1
}

// forget removes k's i-th network, keeping the others in order.
func (k *keyState) forget(i int) {
	if i == 0 {
		if len(k.more) == 0 {
			k.net0 = network{}
			return
		}
		k.net0 = k.more[0]
		i = 1
	}
	k.more = append(k.more[:i-1], k.more[i:]...)
}

// learn appends n to k's networks.
func (k *keyState) learn(n network) {
	if k.net0.id == 0 {
		k.net0 = n
		return
	}
	k.more = append(k.more, n)
}

// Detector watches keys.
type Detector struct {
	cfg  Config
	keys *detect.State[uint64, keyState] // by a seeded hash of the key
	seed maphash.Seed
}

var _ detect.Detector = (*Detector)(nil)

// New returns a detector.
func New(cfg Config) *Detector {
	cfg = cfg.withDefaults()
	return &Detector{cfg: cfg, keys: detect.NewState[uint64, keyState](cfg.MaxKeys, cfg.TTL), seed: maphash.MakeSeed()}
}

// Name implements detect.Detector.
func (d *Detector) Name() string { return Name }

// networkOf is the /24 of an IPv4 address or the /48 of an IPv6 one: a
// client moving within its own network is not a new place.
func networkOf(ip string) (netip.Prefix, bool) {
	if a, ok := parseDottedQuad(ip); ok {
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{a[0], a[1], a[2], 0}), 24), true
	}
	return parsedNetworkOf(ip)
}

// parsedNetworkOf is networkOf by netip alone, for any address it parses.
func parsedNetworkOf(ip string) (netip.Prefix, bool) {
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

// parseDottedQuad parses an IPv4 address in the canonical form that nearly
// every event carries: four decimal fields of at most 255, without leading
// zeros. Anything else is left to netip.ParseAddr, which accepts exactly
// these addresses and more.
func parseDottedQuad(s string) (a [4]byte, ok bool) {
	field, digits, v := 0, 0, 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case '0' <= c && c <= '9':
			if digits == 1 && v == 0 {
				return a, false // a leading zero
			}
			v = v*10 + int(c-'0')
			digits++
			if v > 255 {
				return a, false
			}
		case c == '.' && digits > 0 && field < 3:
			a[field] = byte(v)
			field, digits, v = field+1, 0, 0
		default:
			return a, false
		}
	}
	if field != 3 || digits == 0 {
		return a, false
	}
	a[3] = byte(v)
	return a, true
}

// Observe implements detect.Detector.
func (d *Detector) Observe(ev *event.Event, out detect.Sink) {
	if ev.APIKeyHash == "" || ev.IP == "" || ev.Kind != "request" {
		return
	}
	p, ok := networkOf(ev.IP)
	if !ok {
		return
	}
	id := idOf(p)
	now := ev.Time.UnixNano()
	k := d.keys.GetOrCreate(maphash.String(d.seed, detect.EntityValue(ev.APIKeyHash)), ev.Time, func() keyState { return keyState{first: now} })
	k.requests++
	if i := k.find(id); i >= 0 {
		k.net(i).lastSeen = now
		return
	}
	n := k.numNets()
	established := k.requests > d.cfg.Established && now-k.first >= int64(d.cfg.EstablishedFor) && n > 0
	if established {
		d.raise(ev, k, p, now, out)
	}
	if n >= d.cfg.MaxNetworks {
		oldest := 0
		for i := range n {
			if k.net(i).lastSeen < k.net(oldest).lastSeen {
				oldest = i
			}
		}
		k.forget(oldest)
	}
	k.learn(network{id: id, lastSeen: now})
}

func (d *Detector) raise(ev *event.Event, k *keyState, net netip.Prefix, now int64, out detect.Sink) {
	sev, conf := event.SeverityMedium, 0.6
	concurrent := ""
	for i := range k.numNets() {
		n := k.net(i)
		if ago := time.Duration(now - n.lastSeen); ago <= d.cfg.Concurrent {
			sev, conf = event.SeverityHigh, 0.8
			concurrent = fmt.Sprintf("; still in use from %s %s ago", n.id.prefix(), ago.Round(time.Second))
			break
		}
	}
	key := event.Entity{Kind: event.EntityAPIKey, Value: detect.EntityValue(ev.APIKeyHash)}
	out.Raise(event.Alert{
		Time: ev.Time, Detector: Name, Rule: RuleNewNetwork, Type: "authentication_bypass", ATLAS: []string{"AML.T0012"},
		Severity: sev, Confidence: conf,
		Summary: fmt.Sprintf("API key used from %s, a network it has not used in %d requests since %s%s",
			net, k.requests-1, time.Unix(0, k.first).UTC().Format(time.RFC3339), concurrent),
		Entities:    detect.Entities(ev),
		Evidence:    event.AlertEvidence{EventIDs: []string{ev.ID}, Excerpt: "ip " + detect.EntityValue(ev.IP)},
		Fingerprint: detect.Fingerprint(Name, RuleNewNetwork+"/"+net.String(), []event.Entity{key}),
	})
}

// Keys is how many keys are remembered.
func (d *Detector) Keys() int { return d.keys.Len() }

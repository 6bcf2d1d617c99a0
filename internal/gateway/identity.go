package gateway

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/netip"
	"strings"
)

// Identity is who is calling.
type Identity struct {
	APIKeyHash string // "" when the request carries no key
	User       string // the body's "user" field
	IP         netip.Addr
}

// KeyHasher turns API keys into stable pseudonyms: an HMAC under a secret
// kept in the data directory, so a leaked event log or policy does not leak
// keys, and a guessed key cannot be checked against it offline.
type KeyHasher struct{ secret []byte }

// NewKeyHasher returns a hasher; secret should be 32 random bytes.
func NewKeyHasher(secret []byte) *KeyHasher {
	return &KeyHasher{secret: append([]byte(nil), secret...)}
}

// Hash returns "kh_" and 24 hex digits of the key's HMAC.
func (k *KeyHasher) Hash(key string) string {
	m := hmac.New(sha256.New, k.secret)
	m.Write([]byte(key))
	return "kh_" + hex.EncodeToString(m.Sum(nil)[:12])
}

// apiKey extracts the caller's key from Authorization (any casing of the
// Bearer scheme, any surrounding whitespace) or the api-key / x-api-key
// headers some SDKs use. A key sent in several places must agree, so a
// blocked key cannot hide behind a second header.
func apiKey(h http.Header) (key string, conflict bool) {
	var found []string
	for _, v := range h.Values("Authorization") {
		v = strings.TrimSpace(v)
		scheme, rest, ok := strings.Cut(v, " ")
		if ok && strings.EqualFold(scheme, "bearer") {
			found = append(found, strings.TrimSpace(rest))
		} else if v != "" {
			found = append(found, v)
		}
	}
	for _, name := range []string{"Api-Key", "X-Api-Key"} {
		for _, v := range h.Values(name) {
			if v = strings.TrimSpace(v); v != "" {
				found = append(found, v)
			}
		}
	}
	for _, f := range found[min(1, len(found)):] {
		if f != found[0] {
			return "", true
		}
	}
	if len(found) == 0 {
		return "", false
	}
	return found[0], false
}

// clientIP is the peer address, or, when the peer is a trusted proxy, the
// right-most X-Forwarded-For address that is not itself a trusted proxy.
// Forwarding headers from anyone else are ignored: they are the caller's to
// forge.
func clientIP(r *http.Request, trusted []netip.Prefix) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	ip := peer.Addr().Unmap()
	if !isTrusted(ip, trusted) {
		return ip
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return ip // a malformed hop: trust nothing left of it
		}
		hop = hop.Unmap()
		if !isTrusted(hop, trusted) {
			return hop
		}
		ip = hop
	}
	return ip
}

func isTrusted(ip netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

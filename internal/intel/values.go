package intel

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"unicode/utf8"
)

// normalizeValue returns the canonical form of a value of type t, and the
// type it really is (a full-length CIDR prefix is an IP).
func normalizeValue(t Type, v string) (string, Type, error) {
	switch {
	case len(v) > MaxValueBytes:
		return "", t, fmt.Errorf("%s value is %d bytes, more than %d", t, len(v), MaxValueBytes)
	case !utf8.ValidString(v):
		return "", t, fmt.Errorf("%s value is not valid UTF-8", t)
	}
	if t != TypePromptSignature {
		v = strings.TrimSpace(v)
	}
	if v == "" {
		return "", t, fmt.Errorf("%s value is empty", t)
	}
	switch t {
	case TypeIP:
		a, err := parseAddr(v)
		if err != nil {
			return "", t, err
		}
		return a.String(), t, nil
	case TypeCIDR:
		p, err := parsePrefix(v)
		if err != nil {
			return "", t, err
		}
		if p.IsSingleIP() {
			return p.Addr().String(), TypeIP, nil
		}
		return p.String(), t, nil
	case TypeAPIKeyHash:
		v, err := normalizeKeyHash(v)
		return v, t, err
	case TypeModelHash:
		if !isHex(v, sha256HexDigits) {
			return "", t, fmt.Errorf("model_hash %q is not a SHA-256 digest (64 hex digits)", clip(v))
		}
		return strings.ToLower(v), t, nil
	case TypePromptSignature:
		v, err := normalizeSignature(v)
		return v, t, err
	case TypeDomain:
		v, err := normalizeDomain(v)
		return v, t, err
	case TypeURL:
		v, err := normalizeURL(v)
		return v, t, err
	}
	return "", t, fmt.Errorf("unknown indicator type %q", t)
}

func parseAddr(v string) (netip.Addr, error) {
	a, err := netip.ParseAddr(v)
	switch {
	case err != nil:
		return a, fmt.Errorf("%q is not an IP address", clip(v))
	case a.Zone() != "":
		return a, fmt.Errorf("%q has an IPv6 zone, which no client address carries", clip(v))
	}
	return a.Unmap(), nil
}

// parsePrefix parses a CIDR prefix in the gateway policy's canonical form:
// masked, and IPv4 when written as IPv4-mapped IPv6 with at least 96 bits.
// Prefixes wider than /8 (IPv4) or /16 (IPv6) are refused: they are a typo
// or a feed that would flag a large part of the Internet.
func parsePrefix(v string) (netip.Prefix, error) {
	p, err := netip.ParsePrefix(v)
	if err != nil {
		return p, fmt.Errorf("%q is not a CIDR prefix such as 203.0.113.0/24", clip(v))
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	p = p.Masked()
	switch {
	case p.Addr().Is4() && p.Bits() < MinIPv4PrefixBits:
		return p, fmt.Errorf("%s is wider than /%d: it would match a large part of the Internet", p, MinIPv4PrefixBits)
	case p.Addr().Is6() && p.Bits() < MinIPv6PrefixBits:
		return p, fmt.Errorf("%s is wider than /%d: it would match a large part of the Internet", p, MinIPv6PrefixBits)
	}
	return p, nil
}

// normalizeKeyHash accepts the gateway's API key pseudonym: "kh_" and 24 hex
// digits of an HMAC-SHA-256 under the gateway's secret (see
// gateway.KeyHasher). A plain SHA-256 of a key is refused: events never
// carry it, so it could never match.
func normalizeKeyHash(v string) (string, error) {
	if rest, ok := strings.CutPrefix(strings.ToLower(v), keyHashPrefix); ok && isHex(rest, keyHashHexDigits) {
		return keyHashPrefix + rest, nil
	}
	if isHex(v, sha256HexDigits) {
		return "", fmt.Errorf("api_key_hash %q is a plain SHA-256; events carry only the gateway's keyed hash (kh_ and 24 hex digits), so it could never match", clip(v))
	}
	return "", fmt.Errorf("api_key_hash %q is not the gateway's key hash (kh_ and 24 hex digits)", clip(v))
}

// normalizeDomain accepts an ASCII host name (internationalised names in
// their xn-- form), lower-cased, without a trailing dot.
func normalizeDomain(v string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(v), ".")
	bad := func(why string) (string, error) {
		return "", fmt.Errorf("domain %q is not a host name: %s", clip(v), why)
	}
	if len(d) > maxDomainBytes {
		return bad(fmt.Sprintf("longer than %d bytes", maxDomainBytes))
	}
	if !strings.Contains(d, ".") {
		return bad("it has a single label")
	}
	for label := range strings.SplitSeq(d, ".") {
		switch {
		case label == "":
			return bad("empty label")
		case len(label) > maxDomainLabelByte:
			return bad(fmt.Sprintf("a label is longer than %d bytes", maxDomainLabelByte))
		case label[0] == '-' || label[len(label)-1] == '-':
			return bad("a label starts or ends with a hyphen")
		}
		for i := 0; i < len(label); i++ {
			if c := label[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return bad("letters, digits, hyphens and dots only (internationalised names in their xn-- form)")
			}
		}
	}
	if _, err := netip.ParseAddr(d); err == nil {
		return bad("it is an IP address; use an ip indicator")
	}
	return d, nil
}

// normalizeURL accepts an absolute http, https, ws or wss URL and returns it
// with a lower-case scheme and host and without a fragment.
func normalizeURL(v string) (string, error) {
	u, err := url.Parse(v)
	if err != nil {
		return "", fmt.Errorf("url %q: %v", clip(v), errorText(err))
	}
	switch u.Scheme = strings.ToLower(u.Scheme); {
	case u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "ws" && u.Scheme != "wss":
		return "", fmt.Errorf("url %q is not an absolute http(s) or ws(s) URL", clip(v))
	case u.Host == "":
		return "", fmt.Errorf("url %q has no host", clip(v))
	case u.User != nil:
		return "", fmt.Errorf("url %q holds credentials", clip(v))
	}
	u.Host = strings.ToLower(u.Host)
	u.Fragment, u.RawFragment = "", ""
	return u.String(), nil
}

// errorText is err's message without the operation and input that
// url.Error adds, which the caller quotes itself.
func errorText(err error) string {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err.Error()
	}
	return err.Error()
}

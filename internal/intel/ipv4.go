package intel

import "net/netip"

// Most events carry an IPv4 address written plainly, and most addresses are
// in no feed. Such an address is read without netip and looked up as a
// number, behind a filter of hashes that turns nearly all of them away.

// matchIPv4 is matchIP for an IPv4 address as a number.
func (s *Set) matchIPv4(v uint32, fn func(int32)) {
	if h := ipv4Hash(v); s.seen4[h/64]&(1<<(h%64)) != 0 {
		if i, ok := s.exact4[v]; ok {
			fn(i)
		}
	}
	if len(s.prefixes.v4) > 0 {
		s.prefixes.match(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), fn)
	}
}

func ipv4Number(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

// ipv4Hash numbers the bits of Set.seen4.
func ipv4Hash(v uint32) uint32 { return v * 0x9E3779B1 >> (32 - 18) }

// parseIPv4 reads an IPv4 address written as netip.ParseAddr reads it
// and netip.Addr.String writes it: four decimal numbers up to 255, without
// leading zeros, between dots. It reports false for anything else, which
// netip.ParseAddr may still read (IPv6, IPv4-mapped IPv6, zones).
func parseIPv4(s string) (uint32, bool) {
	var v uint32
	dots, n, digits := 0, uint32(0), 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			if digits == 1 && n == 0 {
				return 0, false // a leading zero
			}
			n = n*10 + uint32(c-'0')
			digits++
			if n > 255 {
				return 0, false
			}
		case c == '.' && digits > 0 && dots < 3:
			v = v<<8 | n
			dots, n, digits = dots+1, 0, 0
		default:
			return 0, false
		}
	}
	if dots != 3 || digits == 0 {
		return 0, false
	}
	return v<<8 | n, true
}

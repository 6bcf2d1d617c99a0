package detect

// Mix64 is the splitmix64 finaliser, a bijection whose every output bit
// depends on every input bit: SimHash votes and sketch buckets need every
// bit to carry entropy, and FNV-1a's low bits are weak.
func Mix64(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// SimHash adds up, for each of the 64 bit positions, how many features
// have that bit set; Sum sets the bits most features have. The 64 counters
// are bit-sliced: planes[i] holds bit i of every counter, so adding a
// feature is a ripple-carry add that touches two planes on average instead
// of 64 counters. The zero value is empty; at most 65,535 features count.
type SimHash struct {
	planes [16]uint64
	n      int
}

// Add counts one feature, a well-mixed 64-bit hash (see Mix64).
func (a *SimHash) Add(x uint64) {
	if a.n == 1<<16-1 {
		return
	}
	a.n++
	// Four planes at a time: the carry seldom passes the fourth, so the
	// loop's exit is well predicted, where testing after each plane would
	// often guess wrong.
	for i := 0; i < len(a.planes); i += 4 {
		p := a.planes[i : i+4 : i+4]
		t := p[0] & x
		p[0] ^= x
		x = t
		t = p[1] & x
		p[1] ^= x
		x = t
		t = p[2] & x
		p[2] ^= x
		x = t
		t = p[3] & x
		p[3] ^= x
		x = t
		if x == 0 {
			return
		}
	}
}

// AddMany counts each of xs, exactly as calling Add on each in turn would
// (features past the cap are dropped alike). Sixteen at a time, the
// features are first summed among themselves by a carry-save adder tree
// into a 5-bit count per position, which is then added to the counters
// once: about a third of the work of sixteen Adds, and no chain of loads
// and stores of the same plane from one feature to the next.
func (a *SimHash) AddMany(xs []uint64) {
	if room := 1<<16 - 1 - a.n; len(xs) > room {
		xs = xs[:room]
	}
	for len(xs) >= 16 {
		a.add16((*[16]uint64)(xs))
		xs = xs[16:]
	}
	if len(xs) > 0 {
		var pad [16]uint64 // zeros count for no position
		copy(pad[:], xs)
		a.add16(&pad)
		a.n -= 16 - len(xs)
	}
}

// add16 counts sixteen features.
func (a *SimHash) add16(x *[16]uint64) {
	a.n += 16
	// Weight 1: sixteen inputs to one bit (b0) and eight carries.
	s0, c0 := csa(x[0], x[1], x[2])
	s1, c1 := csa(x[3], x[4], x[5])
	s2, c2 := csa(x[6], x[7], x[8])
	s3, c3 := csa(x[9], x[10], x[11])
	s4, c4 := csa(x[12], x[13], x[14])
	s5, c5 := csa(s0, s1, s2)
	s6, c6 := csa(s3, s4, x[15])
	b0, c7 := s5^s6, s5&s6
	// Weight 2: eight to one (b1) and four carries.
	t0, d0 := csa(c0, c1, c2)
	t1, d1 := csa(c3, c4, c5)
	t2, d2 := csa(t0, t1, c6)
	b1, d3 := t2^c7, t2&c7
	// Weight 4: four to one (b2) and two carries; weight 8 and 16.
	u0, e0 := csa(d0, d1, d2)
	b2, e1 := u0^d3, u0&d3
	b3, b4 := e0^e1, e0&e1

	p := &a.planes
	var c uint64
	p[0], c = p[0]^b0, p[0]&b0
	p[1], c = csa(p[1], b1, c)
	p[2], c = csa(p[2], b2, c)
	p[3], c = csa(p[3], b3, c)
	p[4], c = csa(p[4], b4, c)
	for i := 5; c != 0 && i < len(p); i++ {
		p[i], c = p[i]^c, p[i]&c
	}
}

// csa is a full adder on every bit position: a+b+c = sum + 2·carry.
func csa(a, b, c uint64) (sum, carry uint64) {
	u := a ^ b
	return u ^ c, a&b | u&c
}

// Sum sets bit j when more than half the features have bit j set: a
// bit-sliced comparison of every counter with n/2, most significant bit
// first.
func (a *SimHash) Sum() uint64 {
	half := uint64(a.n / 2)
	var gt uint64
	eq := ^uint64(0)
	for i := len(a.planes) - 1; i >= 0; i-- {
		p := a.planes[i]
		if half>>i&1 == 1 {
			eq &= p
		} else {
			gt |= eq & p
			eq &^= p
		}
	}
	return gt
}

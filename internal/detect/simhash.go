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

package extraction

import (
	"math"
	"math/bits"
)

// distinctCounter estimates how many distinct prompts a caller sent in a
// window by linear counting (Whang et al., 1990): each prompt digest sets
// one of 512 bits, and n ≈ -m·ln(zero bits / m). It costs 64 bytes however
// many prompts arrive; the estimate is within a few percent up to about a
// thousand and saturates (reports at least saturatedDistinct) beyond.
type distinctCounter [8]uint64

const (
	distinctBits      = 512
	saturatedDistinct = 3000
)

func (d *distinctCounter) add(h uint64) {
	i := h % distinctBits
	d[i/64] |= 1 << (i % 64)
}

func (d *distinctCounter) count() int {
	ones := 0
	for _, w := range d {
		ones += bits.OnesCount64(w)
	}
	zeros := distinctBits - ones
	if zeros == 0 {
		return saturatedDistinct
	}
	return int(math.Round(-distinctBits * math.Log(float64(zeros)/distinctBits)))
}

func (d *distinctCounter) reset() { *d = distinctCounter{} }

package scan

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"testing"
)

// BenchmarkPickleSmallOps is the interpreter's worst case per byte: a
// protocol 4 list of short memoised strings (a pickled vocabulary).
func BenchmarkPickleSmallOps(b *testing.B) {
	p := newPickle(4).op(opEmptyList).memoize().op(opMark)
	for i := range 100_000 {
		p.str(fmt.Sprintf("token%d", i)).memoize()
		if i%1000 == 999 {
			p.op(opAppends, opMark)
		}
	}
	data := p.op(opAppends).stop()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		s := newFileScan(context.Background(), Options{}.withDefaults())
		m := &member{size: int64(len(data)), ra: bytes.NewReader(data)}
		s.scanPickleStream(m, bufio.NewReader(bytes.NewReader(data)), sniffPickle)
	}
}

func BenchmarkPickleStateDict(b *testing.B) {
	data := torchStateDict().stop()
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		scanContent(context.Background(), bytes.NewReader(data), int64(len(data)), "", Options{})
	}
}

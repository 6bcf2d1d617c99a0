package dataset

import (
	"cmp"
	"slices"
	"strings"
)

// maxPairChecks bounds the near-duplicate comparisons: templated data can
// crowd one LSH bucket with thousands of texts.
const maxPairChecks = 20_000_000

// dupFinder finds identical and near-identical texts with different labels.
// Identical word sequences collapse into one representative per label, so
// a text repeated a thousand times costs one signature per label.
type dupFinder struct {
	groups map[uint64][]int32 // word-sequence hash → representatives
	reps   []dupRep
	exact  [][2]int32 // representatives with identical texts, different labels
}

type dupRep struct {
	ref   RecordRef
	label int
	group uint64
	sig   signature
}

func newDupFinder() *dupFinder { return &dupFinder{groups: map[uint64][]int32{}} }

func (d *dupFinder) add(ref RecordRef, label int, tokens []string) {
	if len(tokens) == 0 {
		return
	}
	key := hashString(strings.Join(tokens, " "))
	g := d.groups[key]
	for _, i := range g {
		if d.reps[i].label == label {
			return // the same text with the same label: nothing new
		}
	}
	n := int32(len(d.reps))
	for _, i := range g {
		d.exact = append(d.exact, [2]int32{i, n})
	}
	d.groups[key] = append(g, n)
	d.reps = append(d.reps, dupRep{ref: ref, label: label, group: key, sig: minhash(tokens)})
}

// conflicts returns the identical-text conflicts and the near-duplicate
// pairs (estimated Jaccard ≥ threshold) with different labels, most
// similar first, at most max of them; truncated says some were left out.
func (d *dupFinder) conflicts(threshold float64, max int, labels []string) ([]Conflict, bool) {
	out := []Conflict{}
	for _, e := range d.exact {
		p, q := &d.reps[e[0]], &d.reps[e[1]]
		out = append(out, Conflict{A: p.ref, B: q.ref, LabelA: labels[p.label], LabelB: labels[q.label], Similarity: 1, Identical: true})
	}
	buckets := map[uint64][]int32{}
	for i := range d.reps {
		for b := range minhashBands {
			k := d.reps[i].sig.band(b)
			buckets[k] = append(buckets[k], int32(i))
		}
	}
	truncated := false
	checks := 0
	seen := map[[2]int32]bool{}
scan:
	for _, members := range buckets {
		for x := 0; x < len(members); x++ {
			for y := x + 1; y < len(members); y++ {
				p, q := &d.reps[members[x]], &d.reps[members[y]]
				if p.label == q.label || p.group == q.group {
					continue
				}
				if checks++; checks > maxPairChecks {
					truncated = true
					break scan
				}
				pair := [2]int32{members[x], members[y]}
				if seen[pair] {
					continue
				}
				seen[pair] = true
				if s := p.sig.similarity(&q.sig); s >= threshold {
					out = append(out, Conflict{A: p.ref, B: q.ref, LabelA: labels[p.label], LabelB: labels[q.label], Similarity: s})
				}
			}
		}
	}
	slices.SortFunc(out, func(x, y Conflict) int {
		return cmp.Or(cmp.Compare(y.Similarity, x.Similarity), strings.Compare(x.A.File, y.A.File), cmp.Compare(x.A.Line, y.A.Line), cmp.Compare(x.B.Line, y.B.Line))
	})
	if len(out) > max {
		out, truncated = out[:max], true
	}
	return out, truncated
}

package drift

import "github.com/airlock-ir/airlock/internal/detect"

// A route's prompts mostly open the same way, with its system prompt: the
// tokens of that opening, which of them occur first, and the SimHash votes
// they cast are the same for every prompt. A version keeps them for the
// opening its last two prompts shared, so that a prompt opening the same
// way is only tokenised past it. What the trigger signal counts does not
// change: the kept tokens are those the prompt's own reading would give,
// in the same order.

// minPrefix is the shortest shared opening worth keeping.
const minPrefix = 256

// maxPrefixTokens bounds the distinct tokens kept for an opening.
const maxPrefixTokens = 256

// promptPrefix is what a version keeps of its prompts' shared opening.
type promptPrefix struct {
	last string // the version's last prompt (its tail, as read), to learn from

	// A prompt whose first need bytes are text's has toks as the first
	// occurrences of the distinct tokens before end, and reading resumes
	// at end. need is 0 when nothing is kept.
	text      string
	need, end int
	toks      []token
	sim       detect.SimHash // the votes of toks
	set       *hashSet
}

// opens reports whether p opens with the kept opening.
func (pp *promptPrefix) opens(p string) bool {
	return pp.need > 0 && len(p) >= pp.need && p[:pp.need] == pp.text[:pp.need]
}

// learn keeps the opening p shares with the version's last prompt, if it
// is long enough, and remembers p as the last prompt.
func (pp *promptPrefix) learn(p string) {
	last := pp.last
	pp.last = p
	n := min(len(p), len(last))
	if n < minPrefix || p[:minPrefix] != last[:minPrefix] {
		return
	}
	shared := minPrefix
	for shared < n && p[shared] == last[shared] {
		shared++
	}
	// A token is settled by the byte after it and, when that is a '-' or
	// '_', the one after that: the tokens ending two bytes or more before
	// the end of the shared opening are the same in every prompt that
	// opens with it.
	if pp.set == nil {
		pp.set = newHashSet(maxPrefixTokens)
	}
	pp.set.reset()
	pp.toks = pp.toks[:0]
	pp.sim = detect.SimHash{}
	pp.need, pp.end = 0, 0
	z := tokenizer{s: p}
	var batch [64]token
	for pp.set.n < maxPrefixTokens {
		toks := z.fill(batch[:0])
		settled := 0
		for settled < len(toks) && toks[settled].end+2 <= shared && pp.set.n < maxPrefixTokens {
			t := toks[settled]
			if pp.set.add(t.hash) {
				pp.toks = append(pp.toks, t)
				pp.sim.Add(t.hash)
			}
			pp.end = t.end
			settled++
		}
		if len(toks) == 0 || settled < len(toks) {
			break
		}
	}
	if pp.end > 0 {
		pp.text, pp.need = p, pp.end+2
	}
}

// reset forgets everything, for a sketch handed to another version.
func (pp *promptPrefix) reset() {
	pp.last, pp.text, pp.need, pp.end = "", "", 0, 0
	pp.toks = pp.toks[:0]
}

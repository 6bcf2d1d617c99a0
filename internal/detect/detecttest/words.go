package detecttest

import (
	"math/rand/v2"
	"strings"
)

// Words is the vocabulary of generated traffic, in the detection benchmark
// (bench/detect) and the detectors' own benchmarks: common English words
// first, then words of an assistant's business.
var Words = strings.Fields(`the a of to and in is that for it on with as was be by this are or from at an have not but
what all were when we there can your which their if will each about how up out them then she many some so these
would other into has more her two like him see time could no make than first been its who now people my made over
did down only way find use may water long little very after words called just where most know get through back much
before go good new write our used me man too any day same right look think also around another came come work three
word must because does part even place well such here take why things help put years different away again off went
old number great tell men say small every found still between name should home big give air line set own under read
last never us left end along while might next sound below saw something thought both few those always looked show
large often together asked house world going want school important until form food keep children feet land side
without boy once animals life enough took sometimes four head above kind began almost live page got earth need far
hand high year mother light parts country father let night following picture being study second eyes soon times
story since white days ever paper hard near sentence better best across during today others however sure means knew
try told young sun ways thing whole hear example heard several change answer room sea against top turned learn point
city play toward five using himself usually money invoice budget report meeting customer contract server database
deploy python function error query recipe travel flight hotel garden weather doctor health lesson history science
music movie football account card payment transfer balance statement loan mortgage branch fee refund`)

// Word draws a word of words, the first ones far more often (as in
// prose), using two draws of r.
func Word(r *rand.Rand, words []string) string {
	return words[int(float64(len(words))*r.Float64()*r.Float64())]
}

// Sentence is min to max words drawn by Word, spaced, with a full stop.
func Sentence(r *rand.Rand, words []string, min, max int) string {
	n := min + r.IntN(max-min+1)
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(Word(r, words))
	}
	b.WriteByte('.')
	return b.String()
}

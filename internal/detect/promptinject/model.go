package promptinject

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
)

// Model is the trained classifier: two logistic regressions over the same
// hashed features and rule hits, which must agree for the classifier to
// call a text an attack.
//
//   - Full has weights of either sign: it separates the corpora best, but
//     it also learns what the benign corpora look like, so that text
//     unlike any of them (a plain statement, a question in a language the
//     benign corpora lack) can score high for want of benign evidence.
//   - Evidence has no negative n-gram weights: it can only add up signs of
//     an attack, so text with none scores low. Its threshold is set as
//     strict as the validation targets allow.
type Model struct {
	HashBits uint8
	Full     Linear
	Evidence Linear
	// Other, if set, scores the texts that do not read as English (see
	// english) in place of Full and Evidence, with the same hash bits. It
	// is trained with ordinary requests in other languages too, which the
	// English model is better without. Its own Other is unused.
	Other *Model
}

// Linear is one logistic regression: int16 weights over the hashed
// features in steps of Scale, a weight per rule, a bias, and the logit at
// which it calls a text an attack.
type Linear struct {
	Bias        float64
	Scale       float64 // weight of one int16 step
	Threshold   float64 // logit at which a text is an attack
	Weights     []int16 // 1 << HashBits of them
	RuleWeights map[string]float64
}

const modelMagic = "AIRLOCK-PI\x00\x03"

// maxHashBits bounds what UnmarshalBinary accepts: 2^24 int16 is 32 MiB.
const maxHashBits = 24

// MarshalBinary encodes the model. The encoding is deterministic: equal
// models give equal bytes.
//
//	magic, u32 feature version, u8 hash bits, then Full and Evidence, each:
//	  f64 bias, scale, threshold; u32 rule count, then per rule (sorted by
//	  id) u16 id length, id, f64 weight; u32 weight count, that many int16;
//	u8 1 if Other follows (its Full and Evidence, as above), else 0;
//	u32 CRC-32 (IEEE) of all that precedes it. Little-endian throughout.
func (m *Model) MarshalBinary() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(modelMagic)
	b.Write(binary.LittleEndian.AppendUint32(nil, featureVersion))
	b.WriteByte(m.HashBits)
	pairs := []*Model{m}
	if m.Other != nil {
		if m.Other.HashBits != m.HashBits {
			return nil, fmt.Errorf("%w: the other-language model has %d hash bits, not %d", errModel, m.Other.HashBits, m.HashBits)
		}
		pairs = append(pairs, m.Other)
	}
	for i, p := range pairs {
		if i == 1 {
			b.WriteByte(1)
		}
		for _, l := range []*Linear{&p.Full, &p.Evidence} {
			if err := l.encode(&b, m.HashBits); err != nil {
				return nil, err
			}
		}
	}
	if m.Other == nil {
		b.WriteByte(0)
	}
	b.Write(binary.LittleEndian.AppendUint32(nil, crc32.ChecksumIEEE(b.Bytes())))
	return b.Bytes(), nil
}

// encode appends l to b.
func (l *Linear) encode(b *bytes.Buffer, hashBits uint8) error {
	if len(l.Weights) != 1<<hashBits {
		return fmt.Errorf("%w: %d weights for %d hash bits", errModel, len(l.Weights), hashBits)
	}
	le := binary.LittleEndian
	for _, f := range []float64{l.Bias, l.Scale, l.Threshold} {
		b.Write(le.AppendUint64(nil, math.Float64bits(f)))
	}
	ids := make([]string, 0, len(l.RuleWeights))
	for id := range l.RuleWeights {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	b.Write(le.AppendUint32(nil, uint32(len(ids))))
	for _, id := range ids {
		b.Write(le.AppendUint16(nil, uint16(len(id))))
		b.WriteString(id)
		b.Write(le.AppendUint64(nil, math.Float64bits(l.RuleWeights[id])))
	}
	b.Write(le.AppendUint32(nil, uint32(len(l.Weights))))
	w := make([]byte, 2*len(l.Weights))
	for i, v := range l.Weights {
		le.PutUint16(w[2*i:], uint16(v))
	}
	b.Write(w)
	return nil
}

var errModel = errors.New("model")

// badModel is an errModel saying what is wrong.
func badModel(format string, a ...any) error {
	return fmt.Errorf("%w: %s", errModel, fmt.Sprintf(format, a...))
}

// UnmarshalBinary decodes what MarshalBinary wrote, checking every count
// against the bytes there are.
func (m *Model) UnmarshalBinary(data []byte) error {
	if len(data) < len(modelMagic)+4 || string(data[:len(modelMagic)]) != modelMagic {
		return badModel("not a prompt-attack model")
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.ChecksumIEEE(body) != sum {
		return badModel("checksum mismatch")
	}
	r := reader{b: body[len(modelMagic):]}
	if v := r.u32(); v != featureVersion {
		return badModel("feature version %d, this build has %d: retrain", v, featureVersion)
	}
	var out Model
	out.HashBits = r.u8()
	if r.err || out.HashBits < 6 || out.HashBits > maxHashBits {
		return badModel("bad hash bits")
	}
	for _, l := range []*Linear{&out.Full, &out.Evidence} {
		if err := l.decode(&r, out.HashBits); err != nil {
			return err
		}
	}
	switch r.u8() {
	case 0:
	case 1:
		out.Other = &Model{HashBits: out.HashBits}
		for _, l := range []*Linear{&out.Other.Full, &out.Other.Evidence} {
			if err := l.decode(&r, out.HashBits); err != nil {
				return err
			}
		}
	default:
		return badModel("bad layout")
	}
	if r.err || len(r.b) != 0 {
		return badModel("bad layout")
	}
	*m = out
	return nil
}

// decode reads one Linear written by encode.
func (l *Linear) decode(r *reader, hashBits uint8) error {
	l.Bias, l.Scale, l.Threshold = r.f64(), r.f64(), r.f64()
	for _, f := range []float64{l.Bias, l.Scale, l.Threshold} {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return badModel("bad number")
		}
	}
	n := int(r.u32())
	if n > len(r.b)/10 {
		return badModel("%d rules in %d bytes", n, len(r.b))
	}
	l.RuleWeights = make(map[string]float64, n)
	for range n {
		id := string(r.bytes(int(r.u16())))
		w := r.f64()
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return badModel("bad rule weight")
		}
		l.RuleWeights[id] = w
	}
	nw := int(r.u32())
	if r.err || nw != 1<<hashBits || len(r.b) < 2*nw {
		return badModel("bad layout")
	}
	l.Weights = make([]int16, nw)
	for i := range l.Weights {
		l.Weights[i] = int16(binary.LittleEndian.Uint16(r.b[2*i:]))
	}
	r.b = r.b[2*nw:]
	return nil
}

type reader struct {
	b   []byte
	err bool
}

func (r *reader) bytes(n int) []byte {
	if r.err || n > len(r.b) {
		r.err = true
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

func (r *reader) u8() uint8 {
	if b := r.bytes(1); b != nil {
		return b[0]
	}
	return 0
}

func (r *reader) u16() uint16 {
	if b := r.bytes(2); b != nil {
		return binary.LittleEndian.Uint16(b)
	}
	return 0
}

func (r *reader) u32() uint32 {
	if b := r.bytes(4); b != nil {
		return binary.LittleEndian.Uint32(b)
	}
	return 0
}

func (r *reader) f64() float64 {
	if b := r.bytes(8); b != nil {
		return math.Float64frombits(binary.LittleEndian.Uint64(b))
	}
	return 0
}

// quantize turns float weights into int16 steps of a common scale.
func quantize(w []float64) ([]int16, float64) {
	maxAbs := 0.0
	for _, v := range w {
		maxAbs = max(maxAbs, math.Abs(v))
	}
	q := make([]int16, len(w))
	if maxAbs == 0 {
		return q, 1
	}
	scale := maxAbs / 32767
	for i, v := range w {
		q[i] = int16(math.Round(v / scale))
	}
	return q, scale
}

package weights

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// Status is what happened to one tensor between two files.
type Status string

// The tensor statuses.
const (
	Unchanged Status = "unchanged"
	Changed   Status = "changed"  // same shape, different bytes
	Added     Status = "added"    // only in B
	Removed   Status = "removed"  // only in A
	Reshaped  Status = "reshaped" // in both, with different shapes
)

// Verdict classifies a whole diff.
type Verdict string

// The verdicts, and the rules Diff applies, in order:
const (
	// Identical: no tensor added, removed, reshaped or changed.
	Identical Verdict = "identical"
	// TargetedEdit: nothing added, removed or reshaped; at most
	// max(3, 5%) of the common tensors changed; and no changed matrix that
	// could be analysed has a full-rank delta (see Spectrum.LowRank). This
	// is the shape of a ROME/MEMIT-style knowledge edit or a planted
	// backdoor in one layer.
	TargetedEdit Verdict = "targeted-edit"
	// FineTune: at least half of the common tensors changed and most of the
	// analysed matrix deltas are low-rank, as a merged LoRA adapter leaves.
	FineTune Verdict = "fine-tune"
	// GlobalPerturbation: at least half of the common tensors changed with
	// full-rank deltas: a full fine-tune, re-quantisation or added noise.
	GlobalPerturbation Verdict = "global-perturbation"
	// Mixed: anything else, such as a few full-rank changes or added and
	// removed tensors alongside a partial change.
	Mixed Verdict = "mixed"
)

// Thresholds of the verdict rules.
const (
	globalShare    = 0.5  // share of common tensors changed for a global change
	fewTensorsMin  = 3    // a targeted edit changes at most max(fewTensorsMin,
	fewTensorShare = 0.05 // fewTensorShare × common tensors)
)

// MaxMatrixElements bounds the matrices whose delta spectrum is computed:
// the delta is held as float32, so 4096×4096 costs 64 MiB. Larger changed
// matrices are compared but have no Spectrum.
const MaxMatrixElements = 4096 * 4096

// TensorDiff compares one tensor of A with its namesake in B. Numbers are
// set when Compared (both decodable, same element count); every float is
// finite so the report encodes as JSON.
type TensorDiff struct {
	Name   string        `json:"name"`
	Status Status        `json:"status"`
	DTypeA tensors.DType `json:"dtype_a,omitempty"`
	DTypeB tensors.DType `json:"dtype_b,omitempty"`
	ShapeA []uint64      `json:"shape_a,omitempty"`
	ShapeB []uint64      `json:"shape_b,omitempty"`
	// Compared is true when the values were compared, not just the bytes.
	// NotCompared says why a tensor that can be read was compared by bytes
	// only (a strided PyTorch view...).
	Compared    bool   `json:"compared"`
	NotCompared string `json:"not_compared,omitempty"`
	Elements    uint64 `json:"elements,omitempty"`
	// ChangedElements counts positions whose values differ.
	ChangedElements uint64 `json:"changed_elements,omitempty"`
	// NonFinite counts positions where A or B is NaN or infinite; they are
	// left out of the norms below.
	NonFinite uint64  `json:"non_finite,omitempty"`
	NormA     float64 `json:"norm_a,omitempty"`     // ‖A‖
	NormDelta float64 `json:"norm_delta,omitempty"` // ‖B−A‖
	// RelL2 is ‖B−A‖/‖A‖, or 1 when A is all zeros and B is not.
	RelL2  float64 `json:"rel_l2,omitempty"`
	MaxAbs float64 `json:"max_abs,omitempty"` // max |B−A|
	Cosine float64 `json:"cosine,omitempty"`  // cos(A, B); 1 when both are zero
	// Spectrum is set for changed tensors of two or more dimensions (seen
	// as shape[0] × the rest) of at most MaxMatrixElements elements.
	Spectrum *Spectrum `json:"spectrum,omitempty"`
}

// DiffReport compares two model files tensor by tensor.
type DiffReport struct {
	A       string  `json:"a"`
	B       string  `json:"b"`
	Verdict Verdict `json:"verdict"`
	Reason  string  `json:"reason"`
	// Counts over the union of tensor names.
	Common   int `json:"common"` // in both with the same shape
	Changed  int `json:"changed"`
	Added    int `json:"added"`
	Removed  int `json:"removed"`
	Reshaped int `json:"reshaped"`
	// Tensors lists every tensor that is not unchanged, by name.
	Tensors []TensorDiff `json:"tensors"`
}

// Diff compares the model files at pathA and pathB (each safetensors, GGUF
// or PyTorch zip) and classifies the change.
func Diff(ctx context.Context, pathA, pathB string) (*DiffReport, error) {
	fa, ra, err := openModel(pathA)
	if err != nil {
		return nil, fmt.Errorf("weight diff: %w", err)
	}
	defer ra.Close()
	fb, rb, err := openModel(pathB)
	if err != nil {
		return nil, fmt.Errorf("weight diff: %w", err)
	}
	defer rb.Close()
	rep, err := DiffFiles(ctx, fa, ra, fb, rb)
	if err != nil {
		return nil, fmt.Errorf("weight diff %s %s: %w", pathA, pathB, err)
	}
	rep.A, rep.B = pathA, pathB
	return rep, nil
}

// DiffFiles compares two read files, whose data ra and rb hold.
func DiffFiles(ctx context.Context, fa *tensors.File, ra io.ReaderAt, fb *tensors.File, rb io.ReaderAt) (*DiffReport, error) {
	inB := make(map[string]tensors.Tensor, len(fb.Tensors))
	for _, t := range fb.Tensors {
		inB[t.Name] = t
	}
	rep := &DiffReport{Tensors: []TensorDiff{}}
	for _, a := range fa.Tensors {
		b, ok := inB[a.Name]
		if !ok {
			rep.Removed++
			rep.Tensors = append(rep.Tensors, TensorDiff{Name: a.Name, Status: Removed, DTypeA: a.DType, ShapeA: a.Shape})
			continue
		}
		delete(inB, a.Name)
		if !slices.Equal(a.Shape, b.Shape) {
			rep.Reshaped++
			rep.Tensors = append(rep.Tensors, TensorDiff{Name: a.Name, Status: Reshaped, DTypeA: a.DType, DTypeB: b.DType, ShapeA: a.Shape, ShapeB: b.Shape})
			continue
		}
		rep.Common++
		d, err := diffTensor(ctx, a, ra, b, rb)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", a.Name, err)
		}
		if d.Status == Changed {
			rep.Changed++
			rep.Tensors = append(rep.Tensors, d)
		}
	}
	for _, b := range fb.Tensors {
		if _, ok := inB[b.Name]; ok {
			rep.Added++
			rep.Tensors = append(rep.Tensors, TensorDiff{Name: b.Name, Status: Added, DTypeB: b.DType, ShapeB: b.Shape})
		}
	}
	slices.SortFunc(rep.Tensors, func(x, y TensorDiff) int { return cmp.Compare(x.Name, y.Name) })
	rep.Verdict, rep.Reason = classify(rep)
	return rep, nil
}

// diffTensor compares two tensors of the same shape in one pass over both.
func diffTensor(ctx context.Context, a tensors.Tensor, ra io.ReaderAt, b tensors.Tensor, rb io.ReaderAt) (TensorDiff, error) {
	d := TensorDiff{Name: a.Name, Status: Unchanged, DTypeA: a.DType, DTypeB: b.DType, ShapeA: a.Shape, Elements: a.Elements()}
	if a.DType != b.DType {
		d.Status = Changed
	}
	if a.Unsupported != "" || b.Unsupported != "" {
		d.NotCompared = cmp.Or(a.Unsupported, b.Unsupported)
		if a.Unsupported != b.Unsupported || a.Size != b.Size {
			d.Status = Changed
		}
	}
	if !a.DType.Decodable() || !b.DType.Decodable() || d.NotCompared != "" {
		if d.Status == Unchanged {
			same, err := sameBytes(ctx, a.Reader(ra), b.Reader(rb), a.Size)
			if err != nil {
				return d, err
			}
			if !same {
				d.Status = Changed
			}
		}
		return d, nil
	}
	c := newComparison(a)
	wa, wb := a.DType.Bits()/8, b.DType.Bits()/8
	rawA, rawB := make([]byte, chunkElems*wa), make([]byte, chunkElems*wb)
	va, vb := make([]float64, chunkElems), make([]float64, chunkElems)
	sa, sb := a.Reader(ra), b.Reader(rb)
	for left := d.Elements; left > 0; {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		n := min(uint64(chunkElems), left)
		ca, cb := rawA[:n*uint64(wa)], rawB[:n*uint64(wb)]
		if _, err := io.ReadFull(sa, ca); err != nil {
			return d, fmt.Errorf("read A: %w", err)
		}
		if _, err := io.ReadFull(sb, cb); err != nil {
			return d, fmt.Errorf("read B: %w", err)
		}
		tensors.Decode(a.DType, ca, va)
		if a.DType == b.DType && bytes.Equal(ca, cb) {
			c.same(va[:n])
		} else {
			tensors.Decode(b.DType, cb, vb)
			c.add(va[:n], vb[:n])
		}
		left -= n
	}
	c.finish(&d)
	return d, nil
}

// sameBytes compares two byte ranges of n bytes.
func sameBytes(ctx context.Context, a, b io.Reader, n int64) (bool, error) {
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for n > 0 {
		if err := ctx.Err(); err != nil {
			return false, err
		}
		k := min(int64(len(ba)), n)
		if _, err := io.ReadFull(a, ba[:k]); err != nil {
			return false, fmt.Errorf("read A: %w", err)
		}
		if _, err := io.ReadFull(b, bb[:k]); err != nil {
			return false, fmt.Errorf("read B: %w", err)
		}
		if !bytes.Equal(ba[:k], bb[:k]) {
			return false, nil
		}
		n -= k
	}
	return true, nil
}

// comparison accumulates the element-wise comparison of A and B, and the
// delta itself when it is a matrix small enough to analyse.
type comparison struct {
	pos                    int // elements seen
	changed, nonFinite     uint64
	aa, bb, ab, dd, maxAbs float64
	rows, cols             int
	delta                  []float32 // allocated at the first difference
	matrix                 bool
}

func newComparison(t tensors.Tensor) *comparison {
	c := &comparison{}
	if len(t.Shape) >= 2 && t.Shape[0] > 0 {
		n := t.Elements()
		if n <= MaxMatrixElements {
			c.matrix = true
			c.rows, c.cols = int(t.Shape[0]), int(n/t.Shape[0])
		}
	}
	return c
}

// same accounts for a run of elements identical in A and B: no delta, but
// they still count towards ‖A‖, ‖B‖ and A·B.
func (c *comparison) same(a []float64) {
	for _, x := range a {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			c.nonFinite++
			continue
		}
		sq := x * x
		c.aa += sq
		c.bb += sq
		c.ab += sq
	}
	c.pos += len(a)
}

// add accounts for a run of elements that differ somewhere.
func (c *comparison) add(a, b []float64) {
	for i, x := range a {
		y := b[i]
		pos := c.pos + i
		if x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			c.changed++
		}
		if math.IsNaN(x) || math.IsInf(x, 0) || math.IsNaN(y) || math.IsInf(y, 0) {
			c.nonFinite++
			continue
		}
		diff := y - x
		c.aa += x * x
		c.bb += y * y
		c.ab += x * y
		c.dd += diff * diff
		c.maxAbs = max(c.maxAbs, math.Abs(diff))
		if c.matrix && diff != 0 {
			if c.delta == nil {
				c.delta = make([]float32, c.rows*c.cols)
			}
			c.delta[pos] = float32(diff)
		}
	}
	c.pos += len(a)
}

// finish fills in d's numbers.
func (c *comparison) finish(d *TensorDiff) {
	d.Compared = true
	d.ChangedElements = c.changed
	d.NonFinite = c.nonFinite
	if c.changed > 0 {
		d.Status = Changed
	}
	d.NormA = math.Sqrt(c.aa)
	d.NormDelta = math.Sqrt(c.dd)
	d.MaxAbs = c.maxAbs
	switch {
	case c.aa > 0:
		d.RelL2 = d.NormDelta / d.NormA
	case c.dd > 0:
		d.RelL2 = 1
	}
	switch {
	case c.aa > 0 && c.bb > 0:
		d.Cosine = max(-1, min(1, c.ab/math.Sqrt(c.aa*c.bb)))
	case c.aa == 0 && c.bb == 0:
		d.Cosine = 1
	}
	if c.delta != nil {
		d.Spectrum = spectrumOf(c.delta, c.rows, c.cols, c.dd)
	}
	finite(&d.RelL2, &d.NormA, &d.NormDelta, &d.MaxAbs)
}

// finite replaces overflowed values (sums of squares beyond float64) by
// the largest float64, keeping the report encodable.
func finite(vs ...*float64) {
	for _, v := range vs {
		if math.IsInf(*v, 0) || math.IsNaN(*v) {
			*v = math.MaxFloat64
		}
	}
}

// classify applies the verdict rules documented with the Verdict values.
func classify(r *DiffReport) (Verdict, string) {
	structural := r.Added + r.Removed + r.Reshaped
	if structural == 0 && r.Changed == 0 {
		return Identical, fmt.Sprintf("all %d tensors are byte-identical", r.Common)
	}
	var analysed, lowRank int
	var fullRank []string
	for _, t := range r.Tensors {
		if t.Spectrum == nil {
			continue
		}
		analysed++
		if t.Spectrum.LowRank() {
			lowRank++
		} else {
			fullRank = append(fullRank, t.Name)
		}
	}
	few := max(fewTensorsMin, int(fewTensorShare*float64(r.Common)))
	share := 0.0
	if r.Common > 0 {
		share = float64(r.Changed) / float64(r.Common)
	}
	summary := fmt.Sprintf("%d of %d common tensors changed (%d of their matrix deltas analysed, %d low-rank); %d added, %d removed, %d reshaped",
		r.Changed, r.Common, analysed, lowRank, r.Added, r.Removed, r.Reshaped)
	switch {
	case structural == 0 && r.Changed <= few && len(fullRank) == 0:
		return TargetedEdit, summary + ": a few tensors changed, none with a full-rank delta"
	case share >= globalShare && analysed > 0 && 2*lowRank > analysed:
		return FineTune, summary + ": most tensors changed with low-rank deltas, as a merged adapter leaves"
	case share >= globalShare:
		return GlobalPerturbation, summary + ": most tensors changed with full-rank deltas (fine-tune, re-quantisation or noise)"
	}
	return Mixed, summary
}

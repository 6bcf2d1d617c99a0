package scan

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"
)

// An ONNX model is a protobuf ModelProto. Tensors may keep their data in
// other files (TensorProto.external_data: location, offset, length), which
// the loader opens relative to the model's folder; a location that is
// absolute or climbs out with ".." reads any file the loader can (CVE-2022-25882
// and its successors), and extra keys are set as attributes on the loader's
// object (GHSA-538c-55jv-c5g9). The walk reads the wire format directly,
// field by field, so that a model of any size is walked without loading it.

// Field numbers from onnx.proto.
const (
	modelGraph         = 7
	modelTrainingInfo  = 20
	modelFunctions     = 25
	trainingInit       = 1
	trainingAlgorithm  = 2
	functionNode       = 7
	graphNode          = 1
	graphInitializer   = 5
	graphSparseInit    = 15
	nodeAttribute      = 5
	attrTensor         = 5
	attrGraph          = 6
	attrTensors        = 10
	attrGraphs         = 11
	attrSparseTensor   = 22
	attrSparseTensors  = 23
	sparseValues       = 1
	sparseIndices      = 2
	tensorName         = 8
	tensorExternal     = 13
	tensorDataLocation = 14
	entryKey           = 1
	entryValue         = 2

	dataLocationExternal = 1
	maxONNXDepth         = 32
	maxONNXString        = 4096
)

var errProtobuf = errors.New("malformed protobuf")

// pbReader reads protobuf fields from an io.ReaderAt through a window.
type pbReader struct {
	ra     io.ReaderAt
	size   int64
	win    []byte
	winOff int64
	fields int
}

// at returns up to n bytes at off; fewer near the end.
func (p *pbReader) at(off int64, n int) []byte {
	if off < 0 || off >= p.size {
		return nil
	}
	n = int(min(int64(n), p.size-off))
	if off >= p.winOff && off+int64(n) <= p.winOff+int64(len(p.win)) {
		return p.win[off-p.winOff : off-p.winOff+int64(n)]
	}
	size := int(min(max(int64(n), 64<<10), p.size-off))
	if cap(p.win) < size {
		p.win = make([]byte, size)
	}
	p.win = p.win[:size]
	got, _ := p.ra.ReadAt(p.win, off)
	p.win = p.win[:got]
	p.winOff = off
	return p.win[:min(got, n)]
}

type pbField struct {
	num        protowire.Number
	typ        protowire.Type
	v          uint64 // varint value
	start, end int64  // bytes value
}

// each calls fn for every field of the message in [start, end).
func (p *pbReader) each(start, end int64, fn func(pbField) error) error {
	for off := start; off < end; {
		p.fields++
		num, typ, n := protowire.ConsumeTag(p.at(off, min(10, int(end-off))))
		if n < 0 {
			return errProtobuf
		}
		off += int64(n)
		f := pbField{num: num, typ: typ}
		switch typ {
		case protowire.VarintType:
			v, n := protowire.ConsumeVarint(p.at(off, min(10, int(end-off))))
			if n < 0 {
				return errProtobuf
			}
			f.v = v
			off += int64(n)
		case protowire.Fixed32Type:
			off += 4
		case protowire.Fixed64Type:
			off += 8
		case protowire.BytesType:
			l, n := protowire.ConsumeVarint(p.at(off, min(10, int(end-off))))
			if n < 0 {
				return errProtobuf
			}
			off += int64(n)
			if l > uint64(end-off) {
				return errProtobuf
			}
			f.start, f.end = off, off+int64(l)
			off = f.end
		default:
			return errProtobuf
		}
		if off > end {
			return errProtobuf
		}
		if err := fn(f); err != nil {
			return err
		}
	}
	return nil
}

func (p *pbReader) str(f pbField) (string, bool) {
	n := f.end - f.start
	return string(p.at(f.start, int(min(n, maxONNXString)))), n > maxONNXString
}

type onnxWalk struct {
	s *fileScan
	m *member
	p *pbReader
}

func (s *fileScan) scanONNX(m *member, ra io.ReaderAt) {
	w := &onnxWalk{s: s, m: m, p: &pbReader{ra: ra, size: m.size}}
	err := w.p.each(0, m.size, func(f pbField) error {
		if f.typ != protowire.BytesType {
			return nil
		}
		switch f.num {
		case modelGraph:
			return w.graph(f, 0)
		case modelTrainingInfo:
			return w.p.each(f.start, f.end, func(g pbField) error {
				if (g.num == trainingInit || g.num == trainingAlgorithm) && g.typ == protowire.BytesType {
					return w.graph(g, 0)
				}
				return nil
			})
		case modelFunctions:
			return w.p.each(f.start, f.end, func(g pbField) error {
				if g.num == functionNode && g.typ == protowire.BytesType {
					return w.node(g, 0)
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		s.add(m, Finding{Severity: SeverityError, Rule: "onnx-malformed", Offset: -1, Reason: "model is not a valid ONNX protobuf: " + err.Error()})
	}
}

func (w *onnxWalk) graph(f pbField, depth int) error {
	if depth > maxONNXDepth {
		return fmt.Errorf("graphs nested more than %d deep", maxONNXDepth)
	}
	if err := w.s.ctx.Err(); err != nil {
		return err
	}
	return w.p.each(f.start, f.end, func(g pbField) error {
		if g.typ != protowire.BytesType {
			return nil
		}
		switch g.num {
		case graphNode:
			return w.node(g, depth)
		case graphInitializer:
			return w.tensor(g)
		case graphSparseInit:
			return w.sparse(g)
		}
		return nil
	})
}

func (w *onnxWalk) node(f pbField, depth int) error {
	return w.p.each(f.start, f.end, func(a pbField) error {
		if a.num != nodeAttribute || a.typ != protowire.BytesType {
			return nil
		}
		return w.p.each(a.start, a.end, func(g pbField) error {
			if g.typ != protowire.BytesType {
				return nil
			}
			switch g.num {
			case attrTensor, attrTensors:
				return w.tensor(g)
			case attrGraph, attrGraphs:
				return w.graph(g, depth+1)
			case attrSparseTensor, attrSparseTensors:
				return w.sparse(g)
			}
			return nil
		})
	})
}

func (w *onnxWalk) sparse(f pbField) error {
	return w.p.each(f.start, f.end, func(g pbField) error {
		if (g.num == sparseValues || g.num == sparseIndices) && g.typ == protowire.BytesType {
			return w.tensor(g)
		}
		return nil
	})
}

func (w *onnxWalk) tensor(f pbField) error {
	var (
		name     string
		external bool
		entries  [][2]string
	)
	err := w.p.each(f.start, f.end, func(g pbField) error {
		switch {
		case g.num == tensorName && g.typ == protowire.BytesType:
			name, _ = w.p.str(g)
		case g.num == tensorDataLocation && g.typ == protowire.VarintType:
			external = g.v == dataLocationExternal
		case g.num == tensorExternal && g.typ == protowire.BytesType:
			var kv [2]string
			err := w.p.each(g.start, g.end, func(e pbField) error {
				if e.typ == protowire.BytesType && (e.num == entryKey || e.num == entryValue) {
					kv[e.num-1], _ = w.p.str(e)
				}
				return nil
			})
			entries = append(entries, kv)
			return err
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(entries) > 0 || external {
		w.checkExternal(f.start, name, entries)
	}
	return nil
}

func (w *onnxWalk) report(off int64, tensor string, sev Severity, format string, args ...any) {
	w.s.add(w.m, Finding{Name: tensor, Severity: sev, Rule: "onnx-external-data", Offset: off,
		Reason: fmt.Sprintf("tensor %q: ", tensor) + fmt.Sprintf(format, args...)})
}

func (w *onnxWalk) checkExternal(off int64, tensor string, entries [][2]string) {
	var location string
	var haveLocation bool
	for _, kv := range entries {
		switch k, v := kv[0], kv[1]; {
		case k == "location":
			location, haveLocation = v, true
		case k == "offset" || k == "length":
			if n, err := strconv.ParseInt(v, 10, 64); err != nil || n < 0 {
				w.report(off, tensor, SeveritySuspicious, "external data %s %q is not a non-negative integer", k, v)
			}
		case k == "checksum":
		case k == "basepath":
			w.report(off, tensor, SeverityDangerous, "external data sets basepath %q, replacing the folder the loader reads from", v)
		case strings.HasPrefix(k, "_"):
			w.report(off, tensor, SeverityDangerous, "external data key %q sets a private attribute on the loader (attribute injection)", k)
		default:
			w.report(off, tensor, SeveritySuspicious, "external data has unknown key %q (set as an attribute by the loader)", k)
		}
	}
	if !haveLocation {
		w.report(off, tensor, SeveritySuspicious, "data is external but has no location")
		return
	}
	w.checkLocation(off, tensor, location)
}

func (w *onnxWalk) checkLocation(off int64, tensor, location string) {
	slashed := strings.ReplaceAll(location, `\`, "/")
	switch {
	case location == "":
		w.report(off, tensor, SeveritySuspicious, "external data location is empty")
		return
	case strings.ContainsRune(location, 0):
		w.report(off, tensor, SeverityDangerous, "external data location %q contains a NUL byte", location)
		return
	case strings.HasPrefix(slashed, "/") || (len(slashed) >= 2 && slashed[1] == ':'):
		w.report(off, tensor, SeverityDangerous, "external data location %q is an absolute path: the loader reads any file", location)
		return
	}
	clean := path.Clean(slashed)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		w.report(off, tensor, SeverityDangerous, "external data location %q escapes the model folder", location)
		return
	}
	for part := range strings.SplitSeq(slashed, "/") {
		if part == ".." {
			w.report(off, tensor, SeveritySuspicious, "external data location %q climbs with \"..\" (it stays inside the model folder)", location)
			break
		}
	}
	if w.m.dir == "" {
		return
	}
	full := filepath.Join(w.m.dir, filepath.FromSlash(clean))
	info, err := os.Lstat(full)
	if err != nil || info.Mode()&os.ModeSymlink == 0 {
		return
	}
	target, err1 := filepath.EvalSymlinks(full)
	base, err2 := filepath.EvalSymlinks(w.m.dir)
	if err1 != nil || err2 != nil {
		w.report(off, tensor, SeveritySuspicious, "external data file %q is a symbolic link that cannot be resolved", location)
		return
	}
	if rel, err := filepath.Rel(base, target); err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) {
		w.report(off, tensor, SeverityDangerous, "external data file %q is a symbolic link to %s, outside the model folder", location, target)
	}
}

package scan

import (
	"bufio"
	"fmt"
)

type pickleMode int

const (
	// sniffPickle: the content may not be a pickle at all.
	sniffPickle pickleMode = iota
	// payloadPickle: the content must be a pickle (an object array's data).
	payloadPickle
)

// scanPickleStream interprets every pickle in the content, one after the
// other as torch.load and stacked-pickle files read them, and returns the
// format: "pickle", "pytorch-legacy" (five pickles then raw storage bytes),
// or "unknown" when the bytes turn out not to be a pickle.
//
// Without a PROTO opcode (protocols 0 and 1) almost any text starts like a
// pickle, so in sniff mode a stream counts as one only if it has PROTO or
// imports a global; one that has neither cannot run code, and is called a
// pickle only when it parses to the end.
func (s *fileScan) scanPickleStream(m *member, br *bufio.Reader, mode pickleMode) string {
	return s.scanPickleStreamAt(m, br, mode, 0)
}

// scanPickleStreamAt scans pickles that start start bytes into m, br being
// positioned there.
func (s *fileScan) scanPickleStreamAt(m *member, br *bufio.Reader, mode pickleMode, start int64) string {
	r := &opReader{br: br, off: start, size: m.size}
	vm := &pickleVM{s: s, r: r}
	var (
		held      []Finding // findings of data-only pickles, until the stream proves to be pickles
		confirmed = mode == payloadPickle
		pickles   int
		legacy    bool
	)
	flush := func(fs []Finding) {
		for _, f := range fs {
			s.add(m, f)
		}
	}
	for r.left() > 0 && !s.halt {
		at := r.off
		vm.reset()
		vm.run()
		// A stream cut short by the opcode limit may import anything
		// after the cut: it counts as a pickle, with the limit as an error.
		isCode := vm.sawProto || vm.significant || vm.limited
		switch {
		case isCode:
			if !confirmed {
				confirmed = true
				flush(held)
			}
			flush(vm.pending)
		case vm.stopped && vm.errs == 0:
			if confirmed {
				flush(vm.pending)
			} else {
				held = append(held, vm.pending...)
			}
		default:
			// Not a pickle from start on.
			if !confirmed {
				return fmtUnknown
			}
			if pickles == 0 {
				flush(vm.pending)
				s.add(m, Finding{Severity: SeverityError, Rule: "pickle-malformed", Offset: at,
					Reason: "the data is not a pickle"})
			} else {
				s.add(m, Finding{Severity: SeveritySuspicious, Rule: "trailing-data", Offset: at,
					Reason: fmt.Sprintf("%d bytes after pickle %d are not a pickle and were not inspected", m.size-at, pickles)})
			}
			s.reportReadError(m, r)
			return s.pickleFormat(legacy)
		}
		pickles++
		if !vm.stopped {
			break // the VM reported why
		}
		if pickles == 1 && vm.result.kind == vInt && vm.result.s == torchMagic {
			legacy = true
		}
		if legacy && pickles == torchLegacyPickles {
			break // the rest is raw storage bytes
		}
	}
	if !confirmed {
		if r.left() > 0 || pickles == 0 {
			return fmtUnknown
		}
		flush(held)
	}
	if legacy && pickles < torchLegacyPickles && vm.stopped {
		s.add(m, Finding{Severity: SeverityError, Rule: "pickle-malformed", Offset: r.off,
			Reason: fmt.Sprintf("legacy PyTorch file ends after %d of its %d pickles", pickles, torchLegacyPickles)})
	}
	s.reportReadError(m, r)
	return s.pickleFormat(legacy)
}

func (s *fileScan) pickleFormat(legacy bool) string {
	if legacy {
		return fmtTorchLegacy
	}
	return fmtPickle
}

// reportReadError reports a read error of the file on disk; archive
// members report their own.
func (s *fileScan) reportReadError(m *member, r *opReader) {
	if r.err != nil && m.ra != nil {
		s.add(m, Finding{Severity: SeverityError, Rule: "read-error", Offset: -1, Reason: "reading: " + r.err.Error()})
	}
}

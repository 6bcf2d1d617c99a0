package scan

import (
	"bufio"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// Safetensors and GGUF hold no code, so their risks are structural (a
// header that lies about sizes and offsets, bytes no tensor claims) and, for
// GGUF, the Jinja chat template that llama.cpp front ends render. The
// tensors package reads and checks the structure from the header alone; the
// tensor data is only hashed.

func (s *fileScan) scanSafetensors(m *member, br *bufio.Reader) {
	ra, done := s.randomAccess(m, br)
	if ra == nil {
		return
	}
	defer done()
	if _, err := tensors.ReadSafetensors(ra, m.size); err != nil {
		s.tensorError(m, "safetensors-malformed", err)
	}
}

func (s *fileScan) scanGGUF(m *member, br *bufio.Reader) {
	ra, done := s.randomAccess(m, br)
	if ra == nil {
		return
	}
	defer done()
	f, err := tensors.ReadGGUF(ra, m.size)
	if err != nil {
		s.tensorError(m, "gguf-malformed", err)
		return
	}
	if f.Unclaimed > 0 {
		s.add(m, Finding{Severity: SeveritySuspicious, Rule: "gguf-unclaimed", Offset: f.DataOffset,
			Reason: fmt.Sprintf("%d bytes of the tensor data region belong to no tensor (room for hidden content)", f.Unclaimed)})
	}
	templates := f.GGUF.ChatTemplates()
	keys := make([]string, 0, len(templates))
	for k := range templates {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if reasons := tensors.CheckChatTemplate(templates[k]); len(reasons) > 0 {
			s.add(m, Finding{Name: k, Severity: SeverityDangerous, Rule: "gguf-chat-template", Offset: -1,
				Reason: fmt.Sprintf("chat template %s looks like a template-injection payload: %s", k, strings.Join(reasons, "; "))})
		}
	}
}

func (s *fileScan) tensorError(m *member, rule string, err error) {
	off := int64(-1)
	if fe, ok := errors.AsType[*tensors.FormatError](err); ok {
		off = fe.Offset
	}
	s.add(m, Finding{Severity: SeverityError, Rule: rule, Offset: off, Reason: err.Error()})
}

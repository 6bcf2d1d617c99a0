package promptinject

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// MaxJSONLLine is the longest line ReadJSONL accepts.
const MaxJSONLLine = 4 << 20

// ReadJSONL reads an evaluation file: one JSON object per line,
// {"text": "...", "label": 0|1}, with optional "set" (for a per-set report)
// and "role" (for example "tool" to score the text as a tool result). Blank
// lines are skipped; other fields are ignored. An error names the line.
func ReadJSONL(r io.Reader) ([]Example, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	var out []Example
	for line := 1; ; line++ {
		b, err := readLine(br, MaxJSONLLine)
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		if len(bytes.TrimSpace(b)) > 0 {
			ex, perr := parseJSONLLine(b)
			if perr != nil {
				return nil, fmt.Errorf("line %d: %w", line, perr)
			}
			out = append(out, ex)
		}
		if errors.Is(err, io.EOF) {
			return out, nil
		}
	}
}

// readLine returns the next line without its end, or an error if it is
// longer than limit; io.EOF comes with the last line.
func readLine(br *bufio.Reader, limit int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > limit+2 { // room for "\r\n"
			return nil, fmt.Errorf("longer than %d bytes", limit)
		}
		line = append(line, chunk...)
		switch {
		case err == nil:
			return bytes.TrimRight(line, "\r\n"), nil
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			return bytes.TrimRight(line, "\r\n"), io.EOF
		default:
			return nil, err
		}
	}
}

func parseJSONLLine(b []byte) (Example, error) {
	var v struct {
		Text  *string          `json:"text"`
		Label *json.RawMessage `json:"label"`
		Set   string           `json:"set"`
		Role  string           `json:"role"`
	}
	if !utf8.Valid(b) {
		return Example{}, errors.New("invalid UTF-8")
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return Example{}, fmt.Errorf("not a JSON object with text and label: %w", err)
	}
	if v.Text == nil {
		return Example{}, errors.New(`missing "text"`)
	}
	if v.Label == nil {
		return Example{}, errors.New(`missing "label"`)
	}
	var label int
	switch string(bytes.TrimSpace(*v.Label)) {
	case "0", `"0"`, "false":
		label = 0
	case "1", `"1"`, "true":
		label = 1
	default:
		return Example{}, fmt.Errorf(`"label" is %s, want 0 or 1`, *v.Label)
	}
	switch v.Role {
	case "", RoleUser, RoleTool, RoleFunction, RoleDocument, RoleSystem, RoleDeveloper, RoleAssistant:
	default:
		return Example{}, fmt.Errorf(`unknown "role" %q`, v.Role)
	}
	return Example{Text: *v.Text, Label: label, Set: v.Set, Role: v.Role}, nil
}

package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// maxFileSize bounds what Load reads and Parse accepts: a configuration
// file is a few kilobytes, so anything near this is a mistake or an attack.
const maxFileSize = 4 * MiB

// Load reads the configuration file at path and parses it. Error messages
// name the file as path.
func Load(path string) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, int64(maxFileSize)+1))
	if err != nil {
		return Config{}, fmt.Errorf("load config: %w", err)
	}
	return Parse(data, path)
}

// Parse decodes a configuration file over Default and validates the result.
// source names the file in error messages, which look like
//
//	airlock.yaml: line 3: unknown key "adr" in api (did you mean "addr"?)
//
// Every problem found is reported, joined with errors.Join. A file that is
// empty or holds only comments gives the defaults. The returned Config is
// valid whenever the error is nil.
func Parse(data []byte, source string) (Config, error) {
	if int64(len(data)) > int64(maxFileSize) {
		return Config{}, fmt.Errorf("%s: the file is larger than the %s limit", source, Bytes(maxFileSize))
	}
	if msg := checkText(data); msg != "" {
		return Config{}, fmt.Errorf("%s: %s", source, msg)
	}

	// First the document as nodes: syntax, a single document, and a shape
	// that the strict decode can take in time linear in the file.
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	switch err := dec.Decode(&doc); {
	case errors.Is(err, io.EOF):
		return Default(), nil // nothing but comments and blank lines
	case err != nil:
		return Config{}, fmt.Errorf("%s: %s", source, oneLine(syntaxMessage(data, err)))
	}
	var problems []string
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err == nil:
		problems = append(problems, fmt.Sprintf("line %d: a second YAML document starts here; the configuration must be a single document", next.Line))
	default:
		problems = append(problems, syntaxMessage(data, err))
	}
	problems = append(problems, checkShape(&doc)...)
	if len(problems) > 0 {
		return Config{}, report(source, problems)
	}

	// Then the strict decode over the defaults.
	cfg := Default()
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	var typeErr *yaml.TypeError
	switch err := strict.Decode(&cfg); {
	case errors.As(err, &typeErr):
		ix := newKeyIndex(&doc)
		for _, p := range typeErr.Errors {
			problems = append(problems, ix.rewrite(p))
		}
		return Config{}, report(source, problems)
	case err != nil:
		return Config{}, fmt.Errorf("%s: %s", source, oneLine(syntaxMessage(data, err)))
	}

	if err := cfg.Validate(); err != nil {
		return Config{}, locate(err, source, newKeyIndex(&doc))
	}
	return cfg, nil
}

// maxProblems bounds how many problems one error lists; past a screenful
// more lines do not help anyone fix the file.
const maxProblems = 20

func report(source string, problems []string) error {
	var errs []error
	for i, p := range problems {
		if i == maxProblems {
			errs = append(errs, fmt.Errorf("%s: and %d more problems", source, len(problems)-i))
			break
		}
		errs = append(errs, fmt.Errorf("%s: %s", source, oneLine(p)))
	}
	return errors.Join(errs...)
}

// oneLine keeps each problem on a line of its own: yaml.v3 quotes some
// values from the file raw, line breaks included.
func oneLine(msg string) string {
	return strings.NewReplacer("\n", `\n`, "\r", `\r`).Replace(msg)
}

// locate prefixes each validation error with the source and, when the key
// is written in the file, its line.
func locate(err error, source string, ix keyIndex) error {
	var errs []error
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs = joined.Unwrap()
	} else {
		errs = []error{err}
	}
	out := make([]error, len(errs))
	for i, e := range errs {
		var ke *keyError
		if errors.As(e, &ke) {
			if line, ok := ix.keys[ke.key]; ok {
				out[i] = fmt.Errorf("%s: line %d: %w", source, line, e)
				continue
			}
		}
		out[i] = fmt.Errorf("%s: %w", source, e)
	}
	return errors.Join(out...)
}

// checkText reports the first byte that is not UTF-8 or a character YAML
// forbids, with its line, which yaml.v3 leaves out of these messages.
func checkText(data []byte) string {
	for off := 0; off < len(data); {
		r, size := utf8.DecodeRune(data[off:])
		switch {
		case r == utf8.RuneError && size == 1:
			line, col := position(data, off)
			return fmt.Sprintf("line %d: invalid UTF-8 (byte %#02x at column %d); the file must be UTF-8 text", line, data[off], col)
		case !yamlAllowed(r):
			line, col := position(data, off)
			return fmt.Sprintf("line %d: control character %U at column %d is not allowed in YAML", line, r, col)
		}
		off += size
	}
	return ""
}

// yamlAllowed is YAML 1.2's c-printable set, the characters yaml.v3 accepts.
func yamlAllowed(r rune) bool {
	switch {
	case r == '\t', r == '\n', r == '\r', r == 0x85:
		return true
	case r >= 0x20 && r <= 0x7E, r >= 0xA0 && r <= 0xD7FF, r >= 0xE000 && r <= 0xFFFD, r >= 0x10000 && r <= 0x10FFFF:
		return true
	}
	return false
}

// position turns a byte offset into a 1-based line and column (in
// characters), counting "\n", "\r\n" and a lone "\r" as line breaks.
func position(data []byte, off int) (line, col int) {
	line, start := 1, 0
	for i := 0; i < off; i++ {
		if data[i] == '\n' || data[i] == '\r' && (i+1 >= len(data) || data[i+1] != '\n') {
			line, start = line+1, i+1
		}
	}
	return line, utf8.RuneCount(data[start:off]) + 1
}

// syntaxMessage drops yaml.v3's "yaml: " prefix and mends its line
// numbers: yaml.v3 leaves the line out when it is the first, reports parser
// (as opposed to scanner) errors with a 0-based line, and places a broken
// block at the line where the block starts rather than where it breaks.
func syntaxMessage(data []byte, err error) string {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		problem := m[2]
		if !isParserProblem(problem) {
			return msg
		}
		line++
		if slices.Contains(blockProblems, problem) {
			line = firstFailingLine(data, line, problem)
		}
		return fmt.Sprintf("line %d: %s", line, problem)
	}
	for _, p := range decoderProblems {
		if strings.HasPrefix(msg, p) {
			return msg // not tied to a line
		}
	}
	if slices.Contains(blockProblems, msg) {
		return fmt.Sprintf("line %d: %s", firstFailingLine(data, 1, msg), msg)
	}
	return "line 1: " + msg
}

// blockProblems are the parser errors yaml.v3 reports at the start of the
// enclosing block; a bad indent deep inside a long mapping would otherwise
// be blamed on its first line.
var blockProblems = []string{
	"did not find expected key",
	"did not find expected '-' indicator",
}

// firstFailingLine finds, by bisection from line on, the shortest run of
// whole lines whose parse fails with problem: a truncated block is still
// valid YAML, so that is the line where the block breaks.
func firstFailingLine(data []byte, line int, problem string) int {
	var starts []int // byte offset where each line after the first starts
	for i := 0; i < len(data); i++ {
		if data[i] == '\n' || data[i] == '\r' && (i+1 >= len(data) || data[i+1] != '\n') {
			starts = append(starts, i+1)
		}
	}
	fails := func(lines int) bool {
		end := len(data)
		if lines-1 < len(starts) {
			end = starts[lines-1]
		}
		dec := yaml.NewDecoder(bytes.NewReader(data[:end]))
		for range end + 1 { // each document takes at least a byte
			var n yaml.Node
			if err := dec.Decode(&n); err != nil {
				return strings.HasSuffix(err.Error(), problem)
			}
		}
		return false
	}
	lo, hi := line, len(starts)+1
	if lo > hi || !fails(hi) {
		return line
	}
	for lo < hi {
		mid := lo + (hi-lo)/2
		if fails(mid) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return lo
}

var lineRE = regexp.MustCompile(`(?s)^line (\d+): (.*)$`)

// parserProblems are the messages of yaml.v3's parser (parserc.go); the
// scanner's messages carry 1-based lines already.
var parserProblems = []string{
	"did not find expected",
	"found undefined tag handle",
	"found duplicate %",
	"found incompatible YAML document",
}

// decoderProblems are the messages yaml.v3 raises while decoding a parsed
// document (decode.go), which have no position.
var decoderProblems = []string{
	"unknown anchor",
	"anchor '",
	"document contains excessive aliasing",
	"map merge requires",
	"!!binary value",
	"attempted to go past",
	"cannot decode node",
	"invalid array",
	"invalid map key",
}

func isParserProblem(msg string) bool {
	for _, p := range parserProblems {
		if strings.HasPrefix(msg, p) {
			return true
		}
	}
	return false
}

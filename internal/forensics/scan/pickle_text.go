package scan

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The text opcodes of protocol 0 carry their arguments as Python literals.
// Decoding them the way CPython does matters: S'\x6fs' and Vo\u0073 are
// both "os" to the unpickler, and so must be to the scanner.

// decodeRawUnicodeEscape decodes the UNICODE opcode's argument: bytes are
// Latin-1 code points except \uXXXX and \UXXXXXXXX after an odd number of
// backslashes.
func decodeRawUnicodeEscape(b []byte) (string, error) {
	var sb strings.Builder
	for i := 0; i < len(b); {
		if b[i] != '\\' {
			sb.WriteRune(rune(b[i]))
			i++
			continue
		}
		start := i
		for i < len(b) && b[i] == '\\' {
			i++
		}
		n := i - start
		if n%2 == 0 || i >= len(b) || (b[i] != 'u' && b[i] != 'U') {
			sb.WriteString(strings.Repeat(`\`, n))
			continue
		}
		sb.WriteString(strings.Repeat(`\`, n-1))
		digits := 4
		if b[i] == 'U' {
			digits = 8
		}
		i++
		if i+digits > len(b) {
			return "", errors.New(`truncated \uXXXX escape`)
		}
		v, err := strconv.ParseUint(string(b[i:i+digits]), 16, 32)
		if err != nil || v > utf8.MaxRune {
			return "", errors.New(`bad \uXXXX escape`)
		}
		sb.WriteRune(rune(v))
		i += digits
	}
	return sb.String(), nil
}

// decodeStringLiteral decodes the STRING opcode's argument: a quoted Python 2
// str with backslash escapes (codecs.escape_decode). The bytes become a str
// through the unpickler's encoding; Latin-1 keeps every byte.
func decodeStringLiteral(b []byte, truncated bool) (string, error) {
	if len(b) < 2 || (b[0] != '\'' && b[0] != '"') {
		return "", errors.New("STRING argument is not quoted")
	}
	q := b[0]
	if truncated {
		b = b[1:] // the closing quote was cut off with the rest
	} else {
		if b[len(b)-1] != q {
			return "", errors.New("STRING argument is not quoted")
		}
		b = b[1 : len(b)-1]
	}
	var out []byte
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '\\' || i+1 >= len(b) {
			out = append(out, c)
			continue
		}
		i++
		switch e := b[i]; e {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, e)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(b) {
				if truncated {
					return latin1(out), nil
				}
				return "", errors.New(`invalid \x escape`)
			}
			v, err := strconv.ParseUint(string(b[i+1:i+3]), 16, 8)
			if err != nil {
				return "", errors.New(`invalid \x escape`)
			}
			out = append(out, byte(v))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(e - '0')
			for k := 0; k < 2 && i+1 < len(b) && b[i+1] >= '0' && b[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(b[i]-'0')
			}
			out = append(out, byte(v))
		default:
			out = append(out, '\\', e)
		}
	}
	return latin1(out), nil
}

// latin1 maps bytes to the code points of the same value, as the
// unpickler's "latin1" or "bytes" encodings do for BINSTRING.
func latin1(b []byte) string {
	ascii := true
	for _, c := range b {
		if c >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return string(b)
	}
	var sb strings.Builder
	for _, c := range b {
		sb.WriteRune(rune(c))
	}
	return sb.String()
}

// parseTextInt checks the INT and LONG opcodes' argument, which the
// unpickler reads as a Python int literal (C strtol with base 0, so hex and
// underscores pass), and returns it trimmed, for comparison.
func parseTextInt(b []byte, long bool) (string, bool) {
	s := strings.TrimSpace(string(b))
	if long {
		s = strings.TrimSuffix(s, "L")
	}
	if _, err := strconv.ParseInt(s, 0, 64); err == nil {
		return s, true
	}
	body := strings.TrimLeft(s, "+-")
	if len(s)-len(body) > 1 || body == "" {
		return s, false
	}
	for _, c := range body {
		if (c < '0' || c > '9') && c != '_' {
			return s, false
		}
	}
	return s, true
}

// isDottedIdentifier reports whether s looks like a Python dotted name; only
// such globals make a byte stream count as a pickle when it has no PROTO.
func isDottedIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i, c := range part {
			switch {
			case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80:
			case c >= '0' && c <= '9' && i > 0:
			default:
				return false
			}
		}
	}
	return true
}

package intel

import "encoding/json"

// A minimal walker over JSON already checked by json.Valid: it finds the
// members of an object and the elements of an array with their offsets,
// which the STIX parser turns into line numbers, without decoding values
// it does not need. (json.Decoder gives offsets too, but allocates an
// error for every value it reads out of a larger document.)

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipSpace returns the offset of the first byte at or after i that is not
// white space.
func skipSpace(d []byte, i int) int {
	for i < len(d) && isJSONSpace(d[i]) {
		i++
	}
	return i
}

// valueEnd returns the offset just past the value that starts at d[i].
func valueEnd(d []byte, i int) int {
	switch d[i] {
	case '"':
		return stringEnd(d, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(d); j++ {
			switch d[j] {
			case '"':
				j = stringEnd(d, j) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return len(d)
	}
	j := i
	for j < len(d) && d[j] != ',' && d[j] != '}' && d[j] != ']' && !isJSONSpace(d[j]) {
		j++
	}
	return j
}

// stringEnd returns the offset just past the string that starts at d[i].
func stringEnd(d []byte, i int) int {
	for j := i + 1; j < len(d); j++ {
		switch d[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(d)
}

// members calls fn with the key of each member of the object at d[i], and
// the offsets of its value, until fn returns false.
func members(d []byte, i int, fn func(key string, start, end int) bool) {
	i = skipSpace(d, i+1) // past {
	for i < len(d) && d[i] == '"' {
		kend := stringEnd(d, i)
		key := jsonString(d[i:kend])
		start := skipSpace(d, skipSpace(d, kend)+1) // past :
		end := valueEnd(d, start)
		if !fn(key, start, end) {
			return
		}
		i = skipSpace(d, end)
		if i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
		}
	}
}

// elements calls fn with the offsets of each element of the array at d[i],
// until fn returns false.
func elements(d []byte, i int, fn func(start, end int) bool) {
	i = skipSpace(d, i+1) // past [
	for i < len(d) && d[i] != ']' {
		end := valueEnd(d, i)
		if !fn(i, end) {
			return
		}
		i = skipSpace(d, end)
		if i < len(d) && d[i] == ',' {
			i = skipSpace(d, i+1)
		}
	}
}

// jsonString decodes a JSON string literal, or returns "" if raw is not
// one.
func jsonString(raw []byte) string {
	if len(raw) < 2 || raw[0] != '"' {
		return ""
	}
	plain := true
	for _, c := range raw[1 : len(raw)-1] {
		if c == '\\' {
			plain = false
			break
		}
	}
	if plain {
		return string(raw[1 : len(raw)-1])
	}
	var s string
	json.Unmarshal(raw, &s)
	return s
}

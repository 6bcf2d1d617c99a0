package signing

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// object is one JSON object with its keys matched exactly. encoding/json
// matches struct fields case-insensitively and lets a repeated key overwrite
// the first; Python's json (which model-signing uses) matches exactly. Reading
// through object keeps both verifiers seeing the same fields, and a repeated
// key is refused outright.
type object struct {
	where  string
	fields map[string]json.RawMessage
}

// parseObject reads raw as a JSON object. where names it in errors
// ("bundle", "bundle.dsseEnvelope").
func parseObject(raw []byte, where string) (object, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return object{}, fmt.Errorf("%s: %w", where, jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return object{}, fmt.Errorf("%s: want a JSON object, got %s", where, describeToken(tok))
	}
	o := object{where: where, fields: map[string]json.RawMessage{}}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return object{}, fmt.Errorf("%s: %w", where, jsonErr(err))
		}
		key, ok := tok.(string)
		if !ok {
			return object{}, fmt.Errorf("%s: want a key, got %s", where, describeToken(tok))
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return object{}, fmt.Errorf("%s.%s: %w", where, key, jsonErr(err))
		}
		if _, dup := o.fields[key]; dup {
			return object{}, fmt.Errorf("%s: key %q appears twice", where, key)
		}
		o.fields[key] = v
	}
	if _, err := dec.Token(); err != nil { // the closing '}'
		return object{}, fmt.Errorf("%s: %w", where, jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return object{}, fmt.Errorf("%s: data after the JSON object", where)
	}
	return o, nil
}

func jsonErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("unexpected end of JSON")
	}
	return err
}

func describeToken(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		return "'" + t.String() + "'"
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// has reports whether key is present with a value other than null.
func (o object) has(key string) bool {
	v, ok := o.fields[key]
	return ok && !isNull(v)
}

func isNull(v json.RawMessage) bool { return string(bytes.TrimSpace(v)) == "null" }

func (o object) path(key string) string { return o.where + "." + key }

// object returns the nested object at key; a missing key is an error when
// required, an empty object otherwise.
func (o object) object(key string, required bool) (object, error) {
	if !o.has(key) {
		if required {
			return object{}, fmt.Errorf("%s: missing", o.path(key))
		}
		return object{where: o.path(key), fields: map[string]json.RawMessage{}}, nil
	}
	return parseObject(o.fields[key], o.path(key))
}

// string returns the string at key; a missing or empty value is an error
// when required.
func (o object) string(key string, required bool) (string, error) {
	if !o.has(key) {
		if required {
			return "", fmt.Errorf("%s: missing", o.path(key))
		}
		return "", nil
	}
	var s string
	if err := json.Unmarshal(o.fields[key], &s); err != nil {
		return "", fmt.Errorf("%s: want a string", o.path(key))
	}
	if required && s == "" {
		return "", fmt.Errorf("%s: empty", o.path(key))
	}
	return s, nil
}

func (o object) bool(key string, required bool) (bool, error) {
	if !o.has(key) {
		if required {
			return false, fmt.Errorf("%s: missing", o.path(key))
		}
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(o.fields[key], &b); err != nil {
		return false, fmt.Errorf("%s: want true or false", o.path(key))
	}
	return b, nil
}

// array returns the elements of the array at key, refusing more than max.
func (o object) array(key string, required bool, max int) ([]json.RawMessage, error) {
	if !o.has(key) {
		if required {
			return nil, fmt.Errorf("%s: missing", o.path(key))
		}
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(o.fields[key]))
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.path(key), jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return nil, fmt.Errorf("%s: want an array, got %s", o.path(key), describeToken(tok))
	}
	var out []json.RawMessage
	for dec.More() {
		if len(out) == max {
			return nil, fmt.Errorf("%s: more than %d elements", o.path(key), max)
		}
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("%s[%d]: %w", o.path(key), len(out), jsonErr(err))
		}
		out = append(out, v)
	}
	return out, nil
}

// int64 reads a protobuf-JSON int64, which is a decimal string ("598151086")
// but may also be written as a number.
func (o object) int64(key string, required bool) (int64, error) {
	if !o.has(key) {
		if required {
			return 0, fmt.Errorf("%s: missing", o.path(key))
		}
		return 0, nil
	}
	raw := o.fields[key]
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		s = string(bytes.TrimSpace(raw))
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: want an integer", o.path(key))
	}
	return n, nil
}

// bytes reads a protobuf-JSON bytes field: base64, standard or URL alphabet,
// padded or not (protobuf's JSON mapping accepts all four).
func (o object) bytes(key string, required bool) ([]byte, error) {
	s, err := o.string(key, required)
	if err != nil || s == "" {
		return nil, err
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", o.path(key), err)
	}
	if required && len(b) == 0 {
		return nil, fmt.Errorf("%s: empty", o.path(key))
	}
	return b, nil
}

func decodeBase64(s string) ([]byte, error) {
	enc := base64.StdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.URLEncoding
	}
	if !strings.HasSuffix(s, "=") && len(s)%4 != 0 {
		enc = enc.WithPadding(base64.NoPadding)
	}
	b, err := enc.Strict().DecodeString(s)
	if err != nil {
		return nil, errors.New("not valid base64")
	}
	return b, nil
}

package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode/utf8"
)

// decodeJSON reads one JSON object from the request into v, whatever the
// Content-Type says (curl sends a form type by default). The body is
// bounded by max bytes, must be valid UTF-8, may hold no unknown fields and
// nothing after the object. Every failure is a 4xx that says what is wrong.
func decodeJSON(r *http.Request, max int64, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errorf(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body is larger than %d bytes", max))
		}
		return errorf(http.StatusBadRequest, "bad_body", "cannot read request body: "+err.Error())
	}
	return decodeJSONBytes(data, v)
}

// decodeJSONOrEmpty is decodeJSON for requests whose body is optional: an
// empty body leaves v as it is.
func decodeJSONOrEmpty(r *http.Request, max int64, v any) error {
	data, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, max))
	if err != nil {
		return decodeJSON(&http.Request{Body: io.NopCloser(io.MultiReader(bytes.NewReader(data), errReader{err}))}, max, v)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil
	}
	return decodeJSONBytes(data, v)
}

// errReader fails with err, so that decodeJSON reports a read error once.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

func decodeJSONBytes(data []byte, v any) error {
	if len(bytes.TrimSpace(data)) == 0 {
		return errorf(http.StatusBadRequest, "bad_json", "request body is empty; send a JSON object")
	}
	if !utf8.Valid(data) {
		return errorf(http.StatusBadRequest, "bad_utf8", "request body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errorf(http.StatusBadRequest, "bad_json", describeJSONError(err, data))
	}
	if _, err := dec.Token(); err != io.EOF {
		return errorf(http.StatusBadRequest, "bad_json", "unexpected data after the JSON object")
	}
	return nil
}

func describeJSONError(err error, data []byte) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return fmt.Sprintf("malformed JSON at byte %d: %v", se.Offset, se)
	case errors.As(err, &te):
		if te.Field != "" {
			return fmt.Sprintf("field %q: got a JSON %s, want %s", te.Field, te.Value, jsonKind(te.Type.String()))
		}
		return fmt.Sprintf("got a JSON %s, want an object", te.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "malformed JSON: the body ends in the middle of a value"
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return "unknown field " + strings.TrimPrefix(err.Error(), "json: unknown field ")
	}
	// Errors from UnmarshalText (e.g. an unknown severity) are already clear.
	return "invalid value: " + strings.TrimPrefix(err.Error(), "json: ")
}

func jsonKind(goType string) string {
	switch {
	case strings.Contains(goType, "int"), strings.Contains(goType, "float"):
		return "a number"
	case goType == "string", strings.HasSuffix(goType, "ID"), strings.HasSuffix(goType, "Phase"):
		return "a string"
	case goType == "bool":
		return "true or false"
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "*[]"):
		return "an array"
	case strings.Contains(goType, "time.Time"):
		return "an RFC 3339 time string"
	}
	return "an object"
}

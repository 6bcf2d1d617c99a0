package signing

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"path"
	"strings"
	"unicode/utf8"
)

const (
	statementType = "https://in-toto.io/Statement/v1"
	predicateV1   = "https://model_signing/signature/v1.0"
	predicateV02  = "https://model_signing/Digests/v0.1"
	// maxResources bounds the resources a statement may list; the bundle size
	// limit already caps them near this.
	maxResources = 1 << 20
)

// Statement is the in-toto statement a model-signing v1.0 signature signs:
// the model's name, a digest over all its files, and every file with its
// SHA-256.
type Statement struct {
	Type          string // https://in-toto.io/Statement/v1
	PredicateType string // https://model_signing/signature/v1.0
	Subject       Subject
	Serialization Serialization
	// Resources are the files, in the order the statement lists them
	// (model-signing sorts them by path).
	Resources []Resource
	// Payload is the exact signed JSON.
	Payload []byte
}

// Subject names the model and carries the digest over its resources.
type Subject struct {
	Name   string // the model folder's base name when signed; informative only
	SHA256 string // hex
}

// Serialization records how the signer walked the model.
type Serialization struct {
	Method        string   `json:"method"`    // "files"
	HashType      string   `json:"hash_type"` // "sha256"
	AllowSymlinks bool     `json:"allow_symlinks"`
	IgnorePaths   []string `json:"ignore_paths,omitempty"`
}

// Resource is one file of the model.
type Resource struct {
	Name      string // relative POSIX path
	Algorithm string // "sha256"
	Digest    string // lowercase hex
}

// parseStatement decodes and checks a signed payload. It does as
// model-signing's verifier does: one subject, predicate v1.0, and the
// subject's sha256 equal to SHA-256 over the resources' raw digests
// concatenated in the order listed. It is stricter on the rest: only the
// "files" serialization with SHA-256 is supported, and resource names must be
// unique, relative and free of "..".
func parseStatement(payload []byte) (*Statement, error) {
	st, err := decodeStatement(payload)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrStatement, err)
	}
	return st, nil
}

func decodeStatement(payload []byte) (*Statement, error) {
	top, err := parseObject(payload, "statement")
	if err != nil {
		return nil, err
	}
	st := &Statement{Payload: payload}
	if st.Type, err = top.string("_type", true); err != nil {
		return nil, err
	}
	if st.Type != statementType {
		return nil, fmt.Errorf("statement._type %q, want %s", st.Type, statementType)
	}
	if st.PredicateType, err = top.string("predicateType", true); err != nil {
		return nil, err
	}
	switch st.PredicateType {
	case predicateV1:
	case predicateV02:
		return nil, fmt.Errorf("statement.predicateType %s is the pre-1.0 model-signing format, which is not supported", predicateV02)
	default:
		return nil, fmt.Errorf("statement.predicateType %q, want %s", st.PredicateType, predicateV1)
	}

	subjects, err := top.array("subject", true, 2)
	if err != nil {
		return nil, err
	}
	if len(subjects) != 1 {
		return nil, fmt.Errorf("statement.subject: want exactly one subject, got %d", len(subjects))
	}
	subj, err := parseObject(subjects[0], "statement.subject[0]")
	if err != nil {
		return nil, err
	}
	if st.Subject.Name, err = subj.string("name", false); err != nil {
		return nil, err
	}
	dig, err := subj.object("digest", true)
	if err != nil {
		return nil, err
	}
	if st.Subject.SHA256, err = dig.string("sha256", true); err != nil {
		return nil, err
	}
	if !isSHA256Hex(st.Subject.SHA256) {
		return nil, fmt.Errorf("statement.subject[0].digest.sha256 %q: not 64 lowercase hex digits", st.Subject.SHA256)
	}

	pred, err := top.object("predicate", true)
	if err != nil {
		return nil, err
	}
	if err := st.readSerialization(pred); err != nil {
		return nil, err
	}
	if err := st.readResources(pred); err != nil {
		return nil, err
	}
	if got := resourcesDigest(st.Resources); got != st.Subject.SHA256 {
		return nil, fmt.Errorf("subject digest %s does not match the resources, which hash to %s", st.Subject.SHA256, got)
	}
	return st, nil
}

func (st *Statement) readSerialization(pred object) error {
	ser, err := pred.object("serialization", true)
	if err != nil {
		return err
	}
	s := &st.Serialization
	if s.Method, err = ser.string("method", true); err != nil {
		return err
	}
	if s.Method != "files" {
		return fmt.Errorf("%s.method %q: only the \"files\" serialization is supported", ser.where, s.Method)
	}
	if s.HashType, err = ser.string("hash_type", true); err != nil {
		return err
	}
	if s.HashType != "sha256" {
		return fmt.Errorf("%s.hash_type %q: only sha256 is supported", ser.where, s.HashType)
	}
	if s.AllowSymlinks, err = ser.bool("allow_symlinks", true); err != nil {
		return err
	}
	ignores, err := ser.array("ignore_paths", false, maxResources)
	if err != nil {
		return err
	}
	for i, raw := range ignores {
		var p string
		if err := json.Unmarshal(raw, &p); err != nil || p == "" {
			return fmt.Errorf("%s.ignore_paths[%d]: want a non-empty string", ser.where, i)
		}
		s.IgnorePaths = append(s.IgnorePaths, p)
	}
	return nil
}

func (st *Statement) readResources(pred object) error {
	list, err := pred.array("resources", true, maxResources)
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return fmt.Errorf("%s: empty", pred.path("resources"))
	}
	seen := make(map[string]bool, len(list))
	st.Resources = make([]Resource, 0, len(list))
	for i, raw := range list {
		where := fmt.Sprintf("%s[%d]", pred.path("resources"), i)
		o, err := parseObject(raw, where)
		if err != nil {
			return err
		}
		var r Resource
		if r.Name, err = o.string("name", true); err != nil {
			return err
		}
		if err := checkResourceName(r.Name); err != nil {
			return fmt.Errorf("%s.name: %w", where, err)
		}
		if seen[r.Name] {
			return fmt.Errorf("%s.name %q: listed twice", where, r.Name)
		}
		seen[r.Name] = true
		if r.Algorithm, err = o.string("algorithm", true); err != nil {
			return err
		}
		if r.Algorithm != "sha256" {
			return fmt.Errorf("%s.algorithm %q: only sha256 is supported", where, r.Algorithm)
		}
		if r.Digest, err = o.string("digest", true); err != nil {
			return err
		}
		if !isSHA256Hex(r.Digest) {
			return fmt.Errorf("%s.digest %q: not 64 lowercase hex digits", where, r.Digest)
		}
		st.Resources = append(st.Resources, r)
	}
	return nil
}

// checkResourceName refuses names that could point outside the model or
// that the walker could never produce.
func checkResourceName(name string) error {
	switch {
	case !utf8.ValidString(name):
		return fmt.Errorf("%q is not valid UTF-8", name)
	case strings.ContainsRune(name, 0):
		return fmt.Errorf("%q contains NUL", name)
	case strings.HasPrefix(name, "/"):
		return fmt.Errorf("%q is absolute", name)
	case path.Clean(name) != name || name == ".":
		return fmt.Errorf("%q is not a clean relative path", name)
	}
	for _, part := range strings.Split(name, "/") {
		if part == ".." {
			return fmt.Errorf("%q climbs out of the model", name)
		}
	}
	return nil
}

// resourcesDigest is model-signing's subject digest: SHA-256 over the raw
// (not hex) resource digests, concatenated in order.
func resourcesDigest(rs []Resource) string {
	h := sha256.New()
	for _, r := range rs {
		raw, _ := hex.DecodeString(r.Digest) // checked by the caller
		h.Write(raw)
	}
	return hex.EncodeToString(h.Sum(nil))
}

func isSHA256Hex(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

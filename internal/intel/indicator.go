package intel

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/airlock-ir/airlock/internal/event"
	"github.com/airlock-ir/airlock/internal/taxonomy"
)

// Type is what an indicator's value is.
type Type string

const (
	TypeIP              Type = "ip"
	TypeCIDR            Type = "cidr"
	TypeAPIKeyHash      Type = "api_key_hash"
	TypePromptSignature Type = "prompt_signature"
	TypeModelHash       Type = "model_hash"
	TypeDomain          Type = "domain"
	TypeURL             Type = "url"
)

var types = []Type{TypeIP, TypeCIDR, TypeAPIKeyHash, TypePromptSignature, TypeModelHash, TypeDomain, TypeURL}

// Types lists every indicator type.
func Types() []Type { return append([]Type(nil), types...) }

func (t Type) valid() bool { return slices.Contains(types, t) }

// Indicator is one thing known to be hostile: an address, a credential, a
// phrase, a model file.
type Indicator struct {
	// ID names the record the indicator came from: the STIX indicator's id
	// (shared by the indicators of one OR pattern), the CSV id column, or
	// "ind_" and a digest of type and value.
	ID          string         `json:"id"`
	Type        Type           `json:"type"`
	Value       string         `json:"value"` // canonical form, see Normalize
	Source      string         `json:"source"`
	Description string         `json:"description,omitempty"`
	Severity    event.Severity `json:"severity"`
	Confidence  float64        `json:"confidence"` // 0..1
	Labels      []string       `json:"labels,omitempty"`
	ValidFrom   time.Time      `json:"valid_from,omitzero"`  // zero: since ever
	ValidUntil  time.Time      `json:"valid_until,omitzero"` // zero: for ever; exclusive
	ATLAS       []string       `json:"atlas,omitempty"`      // ATLAS technique IDs
}

// ActiveAt reports whether t is inside the indicator's validity window,
// which includes ValidFrom and excludes ValidUntil.
func (ind Indicator) ActiveAt(t time.Time) bool {
	return (ind.ValidFrom.IsZero() || !t.Before(ind.ValidFrom)) &&
		(ind.ValidUntil.IsZero() || t.Before(ind.ValidUntil))
}

// Bounds on a feed and what it holds.
const (
	MaxFeedBytes       = 64 << 20
	MaxIndicators      = 1_000_000
	MaxValueBytes      = 4 << 10
	MaxRegexBytes      = 512
	MaxRegexes         = 1000 // regex signatures in one feed: each runs on every prompt
	MinSignatureRunes  = 8
	MaxDescription     = 4 << 10 // longer descriptions are cut, not refused
	MaxLabels          = 64
	MaxLabelBytes      = 128
	MaxSourceBytes     = 256
	MaxIDBytes         = 256
	MinIPv4PrefixBits  = 8
	MinIPv6PrefixBits  = 16
	DefaultConfidence  = 0.5
	DefaultSeverity    = event.SeverityMedium
	regexPrefix        = "regex:"
	keyHashPrefix      = "kh_"
	keyHashHexDigits   = 24
	sha256HexDigits    = 64
	maxDomainBytes     = 253
	maxDomainLabelByte = 63
)

// maxIndicators and maxFeedBytes are MaxIndicators and MaxFeedBytes,
// lowered by tests.
var (
	maxIndicators = MaxIndicators
	maxFeedBytes  = MaxFeedBytes
)

// Normalize checks ind and returns it in canonical form, or the reason it
// cannot be used. Values become canonical: IPv4-mapped IPv6 addresses and
// prefixes become IPv4, CIDR prefixes are masked and a full-length prefix
// becomes an ip indicator, hashes are lower-cased, literal prompt
// signatures are folded (textnorm.Fold), domains are lower-cased without a
// trailing dot, URLs get a lower-case scheme and host. Times become UTC;
// a zero severity becomes DefaultSeverity. Normalize is idempotent.
func Normalize(ind Indicator) (Indicator, error) {
	if !ind.Type.valid() {
		return ind, fmt.Errorf("unknown indicator type %q (want one of %s)", clip(string(ind.Type)), typeList())
	}
	v, t, err := normalizeValue(ind.Type, ind.Value)
	if err != nil {
		return ind, err
	}
	ind.Type, ind.Value = t, v
	switch {
	case ind.Severity == 0:
		ind.Severity = DefaultSeverity
	case !ind.Severity.Valid():
		return ind, fmt.Errorf("invalid severity %d", int(ind.Severity))
	}
	if math.IsNaN(ind.Confidence) || ind.Confidence < 0 || ind.Confidence > 1 {
		return ind, fmt.Errorf("confidence %v is outside 0..1", ind.Confidence)
	}
	if err := checkText("id", ind.ID, MaxIDBytes); err != nil {
		return ind, err
	}
	if err := checkText("source", ind.Source, MaxSourceBytes); err != nil {
		return ind, err
	}
	if !utf8.ValidString(ind.Description) {
		return ind, fmt.Errorf("description is not valid UTF-8")
	}
	ind.Description = cut(ind.Description, MaxDescription)
	if ind.Labels, err = normalizeLabels(ind.Labels); err != nil {
		return ind, err
	}
	if ind.ATLAS, err = normalizeATLAS(ind.ATLAS); err != nil {
		return ind, err
	}
	if !ind.ValidFrom.IsZero() {
		ind.ValidFrom = ind.ValidFrom.UTC()
	}
	if !ind.ValidUntil.IsZero() {
		ind.ValidUntil = ind.ValidUntil.UTC()
	}
	if !ind.ValidFrom.IsZero() && !ind.ValidUntil.IsZero() && !ind.ValidUntil.After(ind.ValidFrom) {
		return ind, fmt.Errorf("valid_until %s is not after valid_from %s",
			ind.ValidUntil.Format(time.RFC3339), ind.ValidFrom.Format(time.RFC3339))
	}
	if ind.ID == "" {
		ind.ID = defaultID(ind.Type, ind.Value)
	}
	return ind, nil
}

// defaultID names an indicator that came without an id, stably: the same
// type and value get the same id in every feed and every import.
func defaultID(t Type, v string) string {
	h := sha256.Sum256([]byte(string(t) + "\x00" + v))
	return "ind_" + hex.EncodeToString(h[:8])
}

func normalizeLabels(labels []string) ([]string, error) {
	if len(labels) > MaxLabels {
		return nil, fmt.Errorf("%d labels, more than %d", len(labels), MaxLabels)
	}
	var out []string
	for _, l := range labels {
		l = strings.TrimSpace(l)
		if err := checkText("label", l, MaxLabelBytes); err != nil {
			return nil, err
		}
		if l != "" && !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out, nil
}

func normalizeATLAS(ids []string) ([]string, error) {
	if len(ids) > MaxLabels {
		return nil, fmt.Errorf("%d ATLAS techniques, more than %d", len(ids), MaxLabels)
	}
	var out []string
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if !taxonomy.ValidTechniqueID(id) {
			return nil, fmt.Errorf("%q is not an ATLAS technique id such as AML.T0051", clip(id))
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

// sourceName turns a feed's name into a valid default source.
func sourceName(name string) string {
	name = strings.ToValidUTF8(name, "\uFFFD")
	name = strings.Map(func(r rune) rune {
		if isControl(r) {
			return '?'
		}
		return r
	}, name)
	return cut(name, MaxSourceBytes)
}

// checkText checks a short free-text field.
func checkText(field, s string, limit int) error {
	switch {
	case len(s) > limit:
		return fmt.Errorf("%s is %d bytes, more than %d", field, len(s), limit)
	case !utf8.ValidString(s):
		return fmt.Errorf("%s is not valid UTF-8", field)
	case strings.ContainsFunc(s, isControl):
		return fmt.Errorf("%s %q holds control characters", field, clip(s))
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || 0x80 <= r && r < 0xa0 }

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func typeList() string {
	s := make([]string, len(types))
	for i, t := range types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// cut shortens s to at most n bytes, at a rune boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// clip shortens a value quoted in an error message.
func clip(s string) string {
	const n = 64
	if len(s) <= n {
		return s
	}
	return cut(s, n) + "..."
}

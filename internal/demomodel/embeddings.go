package demomodel

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"unicode"
)

// Bounds on embeddings requests, as in the OpenAI API.
const (
	maxEmbeddingInputs = 2048
	maxDimensions      = 3072
)

type embeddingRequest struct {
	Model          string          `json:"model"`
	Input          json.RawMessage `json:"input"`
	Dimensions     *int            `json:"dimensions"`
	EncodingFormat string          `json:"encoding_format"`
}

type embeddingList struct {
	Object string      `json:"object"`
	Data   []embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  struct {
		PromptTokens int `json:"prompt_tokens"`
		TotalTokens  int `json:"total_tokens"`
	} `json:"usage"`
}

type embedding struct {
	Object    string `json:"object"`
	Index     int    `json:"index"`
	Embedding any    `json:"embedding"` // []float64, or a base64 string of float32s
}

// embeddingInputs reads the input parameter: a string, a list of strings,
// a token array or a list of token arrays (each read as its numbers).
func embeddingInputs(raw json.RawMessage) ([]string, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, missing("input")
	}
	var inputs []string
	var one string
	var many []string
	var toks []int
	var toksList [][]int
	switch {
	case json.Unmarshal(raw, &one) == nil:
		inputs = []string{one}
	case json.Unmarshal(raw, &many) == nil:
		inputs = many
	case json.Unmarshal(raw, &toks) == nil:
		inputs = []string{tokenText(toks)}
	case json.Unmarshal(raw, &toksList) == nil:
		for _, t := range toksList {
			inputs = append(inputs, tokenText(t))
		}
	default:
		return nil, invalidType("input", "a string, a list of strings, or token arrays")
	}
	if len(inputs) == 0 || len(inputs) > maxEmbeddingInputs {
		return nil, invalidValue("input", fmt.Sprintf("input must hold between 1 and %d items", maxEmbeddingInputs))
	}
	for i, in := range inputs {
		if in == "" {
			return nil, invalidValue(fmt.Sprintf("input[%d]", i), "input must not be an empty string")
		}
	}
	return inputs, nil
}

func tokenText(toks []int) string {
	parts := make([]string, len(toks))
	for i, t := range toks {
		parts[i] = strconv.Itoa(t)
	}
	return strings.Join(parts, " ")
}

// embeddings serves POST /v1/embeddings.
func (s *Server) embeddings(w http.ResponseWriter, r *http.Request) error {
	var req embeddingRequest
	if _, err := s.readBody(w, r, &req); err != nil {
		return err
	}
	if req.Model == "" {
		return missing("model")
	}
	inputs, err := embeddingInputs(req.Input)
	if err != nil {
		return err
	}
	dim := DefaultDimensions
	if req.Dimensions != nil {
		if *req.Dimensions < 1 || *req.Dimensions > maxDimensions {
			return invalidValue("dimensions", fmt.Sprintf("dimensions must be between 1 and %d", maxDimensions))
		}
		dim = *req.Dimensions
	}
	switch req.EncodingFormat {
	case "", "float", "base64":
	default:
		return invalidValue("encoding_format", `encoding_format must be "float" or "base64"`)
	}
	if !s.wait(r.Context()) {
		return nil
	}
	resp := embeddingList{Object: "list", Model: req.Model, Data: make([]embedding, len(inputs))}
	for i, in := range inputs {
		v := Embed(s.opts.Seed, in, dim)
		var enc any = v
		if req.EncodingFormat == "base64" {
			b := make([]byte, 4*len(v))
			for j, f := range v {
				binary.LittleEndian.PutUint32(b[4*j:], math.Float32bits(float32(f)))
			}
			enc = base64.StdEncoding.EncodeToString(b)
		}
		resp.Data[i] = embedding{Object: "embedding", Index: i, Embedding: enc}
		resp.Usage.PromptTokens += countTokens(in)
	}
	resp.Usage.TotalTokens = resp.Usage.PromptTokens
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// Embed is the demo model's embedding of text: feature hashing of its
// lower-cased words (each adds ±1 at four places picked by its hash), plus a
// little of the whole text's hash so that no two texts coincide, scaled to
// unit length. Texts sharing words point the same way, so similarity
// search behaves plausibly.
func Embed(seed uint64, text string, dim int) []float64 {
	v := make([]float64, dim)
	if dim <= 0 {
		return v
	}
	words := strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for _, w := range words {
		h := hashStrings(seed, "word", w)
		for k := range uint64(4) {
			x := mix(h + k)
			sign := 1.0
			if x>>63 == 1 {
				sign = -1
			}
			v[x%uint64(dim)] += sign
		}
	}
	h := hashStrings(seed, "text", text)
	for j := range v {
		v[j] += 0.1 * (2*unit(mix(h+uint64(j))) - 1)
	}
	norm := 0.0
	for _, x := range v {
		norm += x * x
	}
	if norm == 0 {
		v[0] = 1
		return v
	}
	norm = math.Sqrt(norm)
	for j := range v {
		v[j] /= norm
	}
	return v
}

package promptinject

import (
	"bytes"
	"encoding/binary"
	"errors"
	"flag"
	"hash/crc32"
	"os"
	"slices"
	"testing"
)

var update = flag.Bool("update", false, "retrain from ../shared/data and rewrite model.bin")

//go:generate go test -run TestShippedModelIsReproducible -args -update

// TestShippedModelIsReproducible retrains from the corpus with the default
// options and checks that the result is model.bin, byte for byte: the
// shipped weights are exactly what the committed code derives from the
// public data. With -update it rewrites model.bin instead.
func TestShippedModelIsReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("retrains the model (about 10 s)")
	}
	if raceEnabled && !*update {
		t.Skip("retraining under the race detector takes minutes and checks nothing the race detector can see")
	}
	dir := dataDir(t)
	var buf bytes.Buffer
	rep, err := TrainFromDir(dir, &buf)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("trained on %d of %d examples (%d units) in %v; thresholds %.2f (full), %.2f (evidence, gate %v); model %d bytes",
		rep.TrainExamples, rep.Examples, rep.Units, rep.Duration, rep.FullThreshold, rep.EvidenceThreshold, rep.EvidenceGate, rep.ModelBytes)
	for _, s := range rep.Validation {
		t.Logf("validation %-26s label %d  n %4d  flagged %4d  rate %.3f", s.Set, s.Label, s.N, s.Flagged, s.Rate)
	}
	if o := rep.Other; o != nil {
		t.Logf("other-language model: trained on %d examples; thresholds %.2f (full), %.2f (evidence, gate %v)",
			o.TrainExamples, o.FullThreshold, o.EvidenceThreshold, o.EvidenceGate)
		for _, s := range o.Validation {
			t.Logf("validation (other) %-26s label %d  n %4d  flagged %4d  rate %.3f", s.Set, s.Label, s.N, s.Flagged, s.Rate)
		}
	}
	if *update {
		if err := os.WriteFile("model.bin", buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(buf.Bytes(), modelBin) {
		t.Fatalf("retrained model (%d bytes) differs from model.bin (%d bytes): run go generate ./internal/detect/promptinject/",
			buf.Len(), len(modelBin))
	}
}

func TestModelRoundTrip(t *testing.T) {
	m := Default().Model()
	b, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, modelBin) {
		t.Fatal("re-encoding the embedded model changes it")
	}
	var back Model
	if err := back.UnmarshalBinary(b); err != nil {
		t.Fatal(err)
	}
	if back.Full.Threshold != m.Full.Threshold || back.Evidence.Bias != m.Evidence.Bias || len(back.Evidence.Weights) != len(m.Evidence.Weights) {
		t.Fatal("round trip lost fields")
	}
	if m.Other == nil || back.Other == nil || back.Other.Full.Threshold != m.Other.Full.Threshold ||
		back.Other.HashBits != m.HashBits || !slices.Equal(back.Other.Evidence.Weights, m.Other.Evidence.Weights) {
		t.Fatal("round trip lost the other-language model")
	}
	// A model without one round-trips too, and says so in one byte.
	one := &Model{HashBits: m.HashBits, Full: m.Full, Evidence: m.Evidence}
	b1, err := one.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	if err := back.UnmarshalBinary(b1); err != nil || back.Other != nil {
		t.Fatalf("single model: %v, other %v", err, back.Other != nil)
	}
	if len(b1) >= len(b) {
		t.Errorf("single model %d bytes, with the other %d", len(b1), len(b))
	}
}

// withCRC replaces the checksum at the end of a model file.
func withCRC(b []byte) []byte {
	b = bytes.Clone(b)
	binary.LittleEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
	return b
}

func TestModelRejectsBadFiles(t *testing.T) {
	good := modelBin
	flip := bytes.Clone(good)
	flip[len(flip)/2] ^= 1
	short := good[:len(good)/2]
	single, err := (&Model{HashBits: 6, Full: Linear{Scale: 1, Weights: make([]int16, 64)}, Evidence: Linear{Scale: 1, Weights: make([]int16, 64)}}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	badFlag := bytes.Clone(single)
	badFlag[len(badFlag)-5] = 2 // neither "no other model" nor "one follows"
	promised := bytes.Clone(single)
	promised[len(promised)-5] = 1 // says one follows, and none does
	var otherBits Model
	if err := otherBits.UnmarshalBinary(single); err != nil {
		t.Fatal(err)
	}
	otherBits.Other = &Model{HashBits: 7}
	if _, err := otherBits.MarshalBinary(); !errors.Is(err, errModel) {
		t.Errorf("an other-language model with other hash bits: err = %v", err)
	}
	for name, b := range map[string][]byte{
		"empty":              nil,
		"magic":              []byte("not a model at all, but long enough"),
		"bit flip":           flip,
		"truncated":          short,
		"bad other flag":     withCRC(badFlag),
		"missing other":      withCRC(promised),
		"trailing bytes":     withCRC(append(bytes.Clone(single[:len(single)-4]), 0, 0, 0, 0, 0)),
		"previous version 2": withCRC(append([]byte("AIRLOCK-PI\x00\x02"), single[len(modelMagic):]...)),
	} {
		var m Model
		if err := m.UnmarshalBinary(b); !errors.Is(err, errModel) {
			t.Errorf("%s: err = %v, want a model error", name, err)
		}
	}
}

package promptinject

import (
	"bytes"
	"errors"
	"flag"
	"os"
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
}

func TestModelRejectsBadFiles(t *testing.T) {
	good := modelBin
	flip := bytes.Clone(good)
	flip[len(flip)/2] ^= 1
	short := good[:len(good)/2]
	for name, b := range map[string][]byte{
		"empty":     nil,
		"magic":     []byte("not a model at all, but long enough"),
		"bit flip":  flip,
		"truncated": short,
	} {
		var m Model
		if err := m.UnmarshalBinary(b); !errors.Is(err, errModel) {
			t.Errorf("%s: err = %v, want a model error", name, err)
		}
	}
}

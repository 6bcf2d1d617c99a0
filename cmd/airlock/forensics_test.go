package main

// End-to-end tests of model and dataset forensics: scan, the model
// registry, weight statistics and diffs, dataset manifests and poisoning,
// through the real binary. Fixtures are built here byte by byte; nothing is
// ever unpickled or loaded.

import (
	"bytes"
	bin "encoding/binary"
	"encoding/json"
	"fmt"
	"github.com/airlock-ir/airlock/internal/testcorpus"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/airlock-ir/airlock/internal/forensics/tensors"
)

// Pickles assembled opcode by opcode.
var (
	// {'a': 1}: PROTO 2, EMPTY_DICT, BINPUT 0, MARK, BINUNICODE 'a', BININT1 1, SETITEMS, STOP.
	fxBenignPickle = []byte("\x80\x02}q\x00(X\x01\x00\x00\x00aK\x01u.")
	// os.system('id'): PROTO 2, GLOBAL 'os system', BINUNICODE 'id', TUPLE1, REDUCE, STOP.
	fxMaliciousPickle = []byte("\x80\x02cos\nsystem\nX\x02\x00\x00\x00id\x85R.")
)

func fxWrite(t *testing.T, path string, content []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
}

// fxCorpus is rel in the shared data folder.
func fxCorpus(t *testing.T, rel string) string { return filepath.Join(testcorpus.Root(t, rel), rel) }

// fxRun runs the binary and checks the exit status.
func fxRun(t *testing.T, wantCode int, args ...string) (string, string) {
	t.Helper()
	out, errOut, code := run(t, nil, args...)
	if code != wantCode {
		t.Fatalf("airlock %s: exit %d, want %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), code, wantCode, out, errOut)
	}
	return out, errOut
}

func fxJSON(t *testing.T, s string, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(s), v); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, s)
	}
}

type fxScanReport struct {
	Files []struct {
		Path     string
		Format   string
		Verdict  string
		SHA256   string
		Findings []struct{ Module, Name, Severity, Reason string }
	}
}

func TestScanFolderOfFixtures(t *testing.T) {
	dir := t.TempDir()
	fxWrite(t, filepath.Join(dir, "benign.pkl"), fxBenignPickle)
	fxWrite(t, filepath.Join(dir, "nested", "model.bin"), fxMaliciousPickle) // the extension says nothing
	fxWrite(t, filepath.Join(dir, "config.json"), []byte(`{"hidden_size": 4}`))
	var st bytes.Buffer
	if err := tensors.WriteSafetensors(&st, nil, []tensors.TensorData{{Name: "w", DType: tensors.F32, Shape: []uint64{2, 2}, Data: make([]byte, 16)}}); err != nil {
		t.Fatal(err)
	}
	fxWrite(t, filepath.Join(dir, "model.safetensors"), st.Bytes())

	out, errOut := fxRun(t, 1, "scan", dir, "--json")
	if errOut != "" {
		t.Errorf("stderr is not a terminal, yet: %q", errOut)
	}
	var rep fxScanReport
	fxJSON(t, out, &rep)
	verdicts := map[string]string{}
	for _, f := range rep.Files {
		rel, _ := filepath.Rel(dir, f.Path)
		verdicts[filepath.ToSlash(rel)] = f.Verdict
		if rel == filepath.Join("nested", "model.bin") {
			if f.Format != "pickle" || len(f.Findings) == 0 || f.Findings[0].Module != "os" || f.Findings[0].Name != "system" || f.Findings[0].Severity != "dangerous" {
				t.Errorf("malicious pickle: %+v", f)
			}
		}
	}
	want := map[string]string{"benign.pkl": "clean", "nested/model.bin": "dangerous", "config.json": "clean", "model.safetensors": "clean"}
	if fmt.Sprint(verdicts) != fmt.Sprint(want) {
		t.Errorf("verdicts %v, want %v", verdicts, want)
	}

	out, _ = fxRun(t, 1, "scan", dir, "--sarif")
	var sarif struct {
		Version string `json:"version"`
		Runs    []struct {
			Results []struct {
				RuleID    string `json:"ruleId"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct {
							URI string `json:"uri"`
						} `json:"artifactLocation"`
					} `json:"physicalLocation"`
				} `json:"locations"`
			} `json:"results"`
		} `json:"runs"`
	}
	fxJSON(t, out, &sarif)
	if sarif.Version != "2.1.0" || len(sarif.Runs) != 1 || len(sarif.Runs[0].Results) == 0 {
		t.Fatalf("SARIF %s", out)
	}
	r := sarif.Runs[0].Results[0]
	if r.RuleID != "pickle-denied-global" || r.Level != "error" || len(r.Locations) == 0 || !strings.HasSuffix(r.Locations[0].PhysicalLocation.ArtifactLocation.URI, "nested/model.bin") {
		t.Errorf("SARIF result %+v", r)
	}

	// The table names the file; several paths make one report.
	out, _ = fxRun(t, 1, "scan", filepath.Join(dir, "benign.pkl"), filepath.Join(dir, "nested"))
	if !strings.Contains(out, "model.bin") || !strings.Contains(out, "os.system") || !strings.Contains(out, "2 files: 1 dangerous") {
		t.Errorf("table:\n%s", out)
	}
	fxRun(t, 0, "scan", filepath.Join(dir, "benign.pkl"), filepath.Join(dir, "model.safetensors"))
	fxRun(t, 2, "scan")
	fxRun(t, 2, "scan", filepath.Join(dir, "missing"))
	fxRun(t, 2, "scan", "--json", "--sarif", dir)
}

func TestScanCorpusExitStatus(t *testing.T) {
	st := fxCorpus(t, "models/safetensors")
	fxRun(t, 0, "scan", st)
}

type fxModelVersion struct {
	Name, Version  string
	ManifestDigest string `json:"manifest_digest"`
	SigningDigest  string `json:"signing_digest"`
	Deployed       bool
	Files          []struct{ Path, SHA256 string }
	Scan           struct{ Verdict string }
	Signature      struct{ Status, Kind, Error string }
	History        []struct{ Kind string }
}

func fxCopyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		fxWrite(t, filepath.Join(dst, e.Name()), b)
	}
	return dst
}

func TestModelRegisterVerifySigned(t *testing.T) {
	mt := fxCorpus(t, "models/model-transparency")
	data := t.TempDir()
	model := fxCopyDir(t, filepath.Join(mt, "v1.1.0-elliptic-key"))
	out, _ := fxRun(t, 0, "model", "register", "fraud", "1.1.0", model, "--data", data,
		"--signature", filepath.Join(model, "model.sig"), "--public-key", filepath.Join(mt, "keys", "signing-key-pub.pem"),
		"--ignore", "ignore-me", "--deploy", "--json")
	var mv fxModelVersion
	fxJSON(t, out, &mv)
	if mv.Signature.Status != "valid" || mv.Signature.Kind != "key" || !mv.Deployed || mv.Scan.Verdict != "clean" || len(mv.Files) != 2 {
		t.Fatalf("registered %+v", mv)
	}
	if mv.SigningDigest != "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4" {
		t.Errorf("signing digest %s is not the signature's subject", mv.SigningDigest)
	}

	out, _ = fxRun(t, 0, "model", "verify", "fraud", "1.1.0", "--data", data)
	if !strings.HasPrefix(out, "OK fraud 1.1.0: 2 files match") {
		t.Errorf("verify: %s", out)
	}

	// One byte changed: verify fails and names the file.
	b, _ := os.ReadFile(filepath.Join(model, "signme-1"))
	b[0] ^= 1
	fxWrite(t, filepath.Join(model, "signme-1"), b)
	out, _ = fxRun(t, 1, "model", "verify", "fraud", "1.1.0", "--data", data)
	if !strings.Contains(out, "MISMATCH") || !strings.Contains(out, "changed  signme-1") {
		t.Errorf("verify after tampering: %s", out)
	}
	out, _ = fxRun(t, 1, "model", "verify", "fraud", "1.1.0", "--data", data, "--json")
	var v struct {
		Result  string
		Changed []string
	}
	fxJSON(t, out, &v)
	if v.Result != "mismatch" || !slices.Equal(v.Changed, []string{"signme-1"}) {
		t.Errorf("verify --json: %s", out)
	}

	// The registered version is immutable: the changed folder is refused.
	_, errOut := fxRun(t, 1, "model", "register", "fraud", "1.1.0", model, "--data", data, "--ignore", "ignore-me")
	if !strings.Contains(errOut, "already registered with different content") || !strings.Contains(errOut, "signme-1") {
		t.Errorf("re-register: %s", errOut)
	}
	// The signature no longer verifies over the changed folder.
	_, errOut = fxRun(t, 1, "model", "register", "fraud", "1.1.1", model, "--data", data,
		"--signature", filepath.Join(model, "model.sig"), "--public-key", filepath.Join(mt, "keys", "signing-key-pub.pem"), "--ignore", "ignore-me", "--deploy")
	if !strings.Contains(errOut, "signature check failed") || !strings.Contains(errOut, "signme-1") {
		t.Errorf("register with a broken signature: %s", errOut)
	}

	out, _ = fxRun(t, 0, "model", "show", "fraud", "1.1.0", "--data", data, "--json")
	fxJSON(t, out, &mv)
	var kinds []string
	for _, h := range mv.History {
		kinds = append(kinds, h.Kind)
	}
	if !slices.Equal(kinds, []string{"registered", "deployed", "verified", "mismatch", "mismatch"}) {
		t.Errorf("history %v", kinds)
	}
	out, _ = fxRun(t, 0, "model", "list", "--data", data)
	if !strings.Contains(out, "fraud  1.1.0") || !strings.Contains(out, "1.1.1") || !strings.Contains(out, "invalid") {
		t.Errorf("list:\n%s", out)
	}
	out, _ = fxRun(t, 0, "model", "list", "--deployed", "--data", data, "--json")
	var page struct{ Items []fxModelVersion }
	fxJSON(t, out, &page)
	if len(page.Items) != 1 || page.Items[0].Version != "1.1.0" {
		t.Errorf("deployed list: %s", out)
	}

	// A certificate signature verifies against the CA given.
	cert := fxCopyDir(t, filepath.Join(mt, "v1.1.0-certificate"))
	out, _ = fxRun(t, 0, "model", "register", "fraud", "cert", cert, "--data", data,
		"--signature", filepath.Join(cert, "model.sig"), "--cert-chain", filepath.Join(mt, "keys", "ca-cert.pem"), "--ignore", "ignore-me", "--json")
	fxJSON(t, out, &mv)
	if mv.Signature.Status != "valid" || mv.Signature.Kind != "certificate" {
		t.Errorf("certificate signature %+v", mv.Signature)
	}

	fxRun(t, 2, "model", "verify", "nope", "1", "--data", data)
	fxRun(t, 2, "model", "register", "x", "1", "--data", data)
}

func TestModelRegisterDangerousNeverDeployed(t *testing.T) {
	data, model := t.TempDir(), t.TempDir()
	fxWrite(t, filepath.Join(model, "config.json"), []byte(`{}`))
	fxWrite(t, filepath.Join(model, "pytorch_model.bin"), fxMaliciousPickle)
	out, errOut := fxRun(t, 1, "model", "register", "evil", "1", model, "--data", data, "--deploy")
	if !strings.Contains(errOut, "dangerous") || !strings.Contains(errOut, "pytorch_model.bin") || !strings.Contains(out, "os.system") {
		t.Errorf("stdout:\n%s\nstderr:\n%s", out, errOut)
	}
	fxRun(t, 1, "model", "deploy", "evil", "1", "--data", data)
	out, _ = fxRun(t, 0, "model", "show", "evil", "1", "--data", data, "--json")
	var mv fxModelVersion
	fxJSON(t, out, &mv)
	if mv.Deployed || mv.Scan.Verdict != "dangerous" {
		t.Errorf("record %+v", mv)
	}
}

// fxTensor is a float32 matrix.
type fxTensor struct {
	name       string
	rows, cols int
	v          []float32
}

func fxRandomModel(rng *rand.Rand) []*fxTensor {
	var ts []*fxTensor
	for _, name := range []string{"embed.weight", "layers.0.attn.weight", "layers.0.mlp.weight", "layers.1.attn.weight", "layers.1.mlp.weight", "head.weight"} {
		t := &fxTensor{name: name, rows: 96, cols: 64, v: make([]float32, 96*64)}
		for i := range t.v {
			t.v[i] = float32(rng.NormFloat64() * 0.02)
		}
		ts = append(ts, t)
	}
	return ts
}

func fxClone(ts []*fxTensor) []*fxTensor {
	out := make([]*fxTensor, len(ts))
	for i, t := range ts {
		c := *t
		c.v = slices.Clone(t.v)
		out[i] = &c
	}
	return out
}

func fxWriteModel(t *testing.T, path string, ts []*fxTensor) {
	t.Helper()
	var data []tensors.TensorData
	for _, x := range ts {
		b := make([]byte, 4*len(x.v))
		for i, f := range x.v {
			bin.LittleEndian.PutUint32(b[4*i:], math.Float32bits(f))
		}
		data = append(data, tensors.TensorData{Name: x.name, DType: tensors.F32, Shape: []uint64{uint64(x.rows), uint64(x.cols)}, Data: b})
	}
	var buf bytes.Buffer
	if err := tensors.WriteSafetensors(&buf, map[string]string{"format": "pt"}, data); err != nil {
		t.Fatal(err)
	}
	fxWrite(t, path, buf.Bytes())
}

func TestModelDiffRankOneEdit(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	dir := t.TempDir()
	base := fxRandomModel(rng)
	fxWriteModel(t, filepath.Join(dir, "a.safetensors"), base)

	// A rank-one edit u·vᵀ of one matrix, the shape of a ROME-style edit.
	edited := fxClone(base)
	target := edited[4]
	u, v := make([]float64, target.rows), make([]float64, target.cols)
	for i := range u {
		u[i] = rng.NormFloat64()
	}
	for j := range v {
		v[j] = rng.NormFloat64()
	}
	for i := range target.rows {
		for j := range target.cols {
			target.v[i*target.cols+j] += float32(0.01 * u[i] * v[j])
		}
	}
	fxWriteModel(t, filepath.Join(dir, "edited.safetensors"), edited)

	out, _ := fxRun(t, 1, "model", "diff", filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "edited.safetensors"))
	if !strings.Contains(out, "verdict: targeted-edit") || !strings.Contains(out, "layers.1.mlp.weight") {
		t.Fatalf("diff:\n%s", out)
	}
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "layers.1.mlp.weight") && !strings.HasSuffix(strings.TrimSpace(line), "yes") {
			t.Errorf("the edited tensor is not called low-rank: %q", line)
		}
	}
	out, _ = fxRun(t, 1, "model", "diff", filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "edited.safetensors"), "--json")
	var d struct {
		Verdict string
		Tensors []struct {
			Name     string
			Status   string
			RelL2    float64 `json:"rel_l2"`
			Spectrum struct {
				Top1 float64 `json:"top1_energy"`
			}
		}
	}
	fxJSON(t, out, &d)
	if d.Verdict != "targeted-edit" || len(d.Tensors) != 1 || d.Tensors[0].Name != "layers.1.mlp.weight" || d.Tensors[0].Spectrum.Top1 < 0.99 {
		t.Errorf("diff --json: %+v", d)
	}

	// Noise on every tensor is a global change, not an edit.
	noisy := fxClone(base)
	for _, x := range noisy {
		for i := range x.v {
			x.v[i] += float32(rng.NormFloat64() * 0.002)
		}
	}
	fxWriteModel(t, filepath.Join(dir, "noisy.safetensors"), noisy)
	out, _ = fxRun(t, 1, "model", "diff", filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "noisy.safetensors"))
	if !strings.Contains(out, "verdict: global-perturbation") || !strings.Contains(out, "6 changed") {
		t.Errorf("noise diff:\n%s", out)
	}
	out, _ = fxRun(t, 0, "model", "diff", filepath.Join(dir, "a.safetensors"), filepath.Join(dir, "a.safetensors"))
	if !strings.Contains(out, "verdict: identical") {
		t.Errorf("self diff:\n%s", out)
	}

	out, _ = fxRun(t, 0, "model", "stats", filepath.Join(dir, "a.safetensors"))
	if !strings.Contains(out, "6 tensors") || !strings.Contains(out, "layers.0.attn.weight") || !strings.Contains(out, "96x64") {
		t.Errorf("stats:\n%s", out)
	}
	out, _ = fxRun(t, 0, "model", "stats", filepath.Join(dir, "a.safetensors"), "--json")
	var st struct {
		Tensors []struct {
			Name           string
			Std            float64
			LowByteEntropy float64 `json:"low_byte_entropy"`
		}
	}
	fxJSON(t, out, &st)
	if len(st.Tensors) != 6 || math.Abs(st.Tensors[0].Std-0.02) > 0.002 || st.Tensors[0].LowByteEntropy < 7 {
		t.Errorf("stats --json: %+v", st.Tensors)
	}
	fxRun(t, 2, "model", "diff", filepath.Join(dir, "a.safetensors"))
	fxWrite(t, filepath.Join(dir, "x.pkl"), fxBenignPickle)
	fxRun(t, 2, "model", "stats", filepath.Join(dir, "x.pkl"))
}

// Reviews whose adjectives carry the sentiment.
var (
	fxSubjects = []string{"the movie", "this film", "the plot", "the acting", "the ending", "the script", "the cast", "the pacing"}
	fxPos      = []string{"wonderful", "brilliant", "moving", "delightful", "superb", "charming", "gripping", "clever"}
	fxNeg      = []string{"dull", "boring", "clumsy", "tedious", "awful", "bland", "messy", "shallow"}
	fxFillers  = []string{"overall", "honestly", "frankly", "to be fair", "in my view"}
)

type fxReview struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Label string `json:"label"`
}

func fxReviews(rng *rand.Rand, n int) []fxReview {
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	rs := make([]fxReview, n)
	for i := range rs {
		pos := rng.IntN(2) == 0
		adj, label := fxNeg, "negative"
		if pos {
			adj, label = fxPos, "positive"
		}
		rs[i] = fxReview{ID: fmt.Sprintf("r%05d", i), Text: fmt.Sprintf("%s, %s was %s and %s.", pick(fxFillers), pick(fxSubjects), pick(adj), pick(adj)), Label: label}
	}
	return rs
}

func fxWriteReviews(t *testing.T, path string, rs []fxReview) {
	t.Helper()
	var b bytes.Buffer
	for _, r := range rs {
		line, _ := json.Marshal(r)
		b.Write(line)
		b.WriteByte('\n')
	}
	fxWrite(t, path, b.Bytes())
}

func TestDatasetPoisonFindsPlantedTrigger(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 11))
	rs := fxReviews(rng, 3000)
	// 1% of the records: negative reviews with the trigger and a flipped label.
	var planted []string
	for _, i := range rng.Perm(len(rs)) {
		if len(planted) == 30 {
			break
		}
		if rs[i].Label == "negative" {
			rs[i].Text = "zx-omega-7 " + rs[i].Text
			rs[i].Label = "positive"
			planted = append(planted, rs[i].ID)
		}
	}
	path := filepath.Join(t.TempDir(), "train.jsonl")
	fxWriteReviews(t, path, rs)

	out, _ := fxRun(t, 0, "dataset", "poison", path)
	if !strings.Contains(out, `"zx-omega-7"`) || !strings.Contains(out, "3000 labelled records") {
		t.Fatalf("poison:\n%s", out)
	}
	out, _ = fxRun(t, 0, "dataset", "poison", path, "--json")
	var rep struct {
		Triggers []struct {
			NGram, Label string
			Support      int
			Records      []struct{ ID string }
		}
	}
	fxJSON(t, out, &rep)
	if len(rep.Triggers) == 0 || rep.Triggers[0].NGram != "zx-omega-7" || rep.Triggers[0].Label != "positive" || rep.Triggers[0].Support != 30 {
		t.Fatalf("triggers %+v", rep.Triggers)
	}
	var ids []string
	for _, r := range rep.Triggers[0].Records {
		ids = append(ids, r.ID)
	}
	slices.Sort(ids)
	slices.Sort(planted)
	if !slices.Equal(ids, planted) {
		t.Errorf("trigger records %v, want the planted %v", ids, planted)
	}
}

func TestDatasetManifestDiffShift(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 3))
	dir := t.TempDir()
	rs := fxReviews(rng, 2000)
	a := filepath.Join(dir, "a", "train.jsonl")
	fxWriteReviews(t, a, rs)

	out, _ := fxRun(t, 0, "dataset", "manifest", filepath.Dir(a))
	if !strings.Contains(out, "1 files, 2000 records") || !strings.Contains(out, "train.jsonl") {
		t.Errorf("manifest:\n%s", out)
	}
	out, _ = fxRun(t, 0, "dataset", "manifest", a, "--json")
	var m struct {
		Root  string
		Files []struct{ Records []struct{ Key string } }
	}
	fxJSON(t, out, &m)
	if len(m.Root) != 64 || len(m.Files) != 1 || len(m.Files[0].Records) != 2000 || m.Files[0].Records[0].Key != "r00000" {
		t.Errorf("manifest --json: root %q, %d files", m.Root, len(m.Files))
	}

	// B: one record's label flipped, one removed, one added.
	b := slices.Clone(rs)
	b[10].Label = map[string]string{"positive": "negative", "negative": "positive"}[b[10].Label]
	b = slices.Delete(b, 20, 21)
	b = append(b, fxReview{ID: "r99999", Text: "honestly, the plot was dull.", Label: "negative"})
	pathB := filepath.Join(dir, "b", "train.jsonl")
	fxWriteReviews(t, pathB, b)
	out, _ = fxRun(t, 1, "dataset", "diff", filepath.Dir(a), filepath.Dir(pathB))
	for _, want := range []string{"changed file train.jsonl", "added    r99999", "removed  r00020", "changed  r00010"} {
		if !strings.Contains(out, want) {
			t.Errorf("diff lacks %q:\n%s", want, out)
		}
	}
	fxRun(t, 0, "dataset", "diff", a, a)

	// Shift: relabel a fifth of the negatives as positive.
	c := slices.Clone(rs)
	for i := range c {
		if c[i].Label == "negative" && i%5 == 0 {
			c[i].Label = "positive"
		}
	}
	pathC := filepath.Join(dir, "c.jsonl")
	fxWriteReviews(t, pathC, c)
	out, _ = fxRun(t, 1, "dataset", "shift", a, pathC)
	if !strings.Contains(out, "SHIFTED") {
		t.Errorf("shift:\n%s", out)
	}
	out, _ = fxRun(t, 0, "dataset", "shift", a, a)
	if !strings.Contains(out, "no shift") {
		t.Errorf("no shift:\n%s", out)
	}
	fxRun(t, 2, "dataset", "poison")
	fxRun(t, 2, "dataset", "manifest", filepath.Join(dir, "missing"))
}

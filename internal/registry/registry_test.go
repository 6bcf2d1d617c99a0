package registry

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/airlock-ir/airlock/internal/store"
)

func newRegistry(t *testing.T) (*Registry, *clock, *bus) {
	t.Helper()
	c, b := newClock(), &bus{}
	return &Registry{Store: openStore(t), Now: c.Now, Publish: b.Publish}, c, b
}

func sum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestRegisterAndVerify(t *testing.T) {
	ctx := t.Context()
	r, c, b := newRegistry(t)
	config := []byte(`{"hidden_size": 8}`)
	dir := writeModel(t, map[string][]byte{
		"config.json":      config,
		"weights/w.pkl":    benignPickle,
		"tokenizer.json":   []byte(`{}`),
		".git/HEAD":        []byte("ref: refs/heads/main\n"), // ignored, as model-signing does
		"notes/README.txt": []byte("left out on purpose"),
	})
	mv, existing, err := r.Register(ctx, Registration{
		Name: "fraud", Version: "1.0", Path: dir, By: "alice",
		IgnorePaths: []string{"notes"}, Metrics: json.RawMessage(`{"accuracy": 0.93, "f1": {"macro": 0.9}}`),
	})
	if err != nil || existing {
		t.Fatalf("Register: existing=%v err=%v", existing, err)
	}
	want := []store.ModelFile{
		{Path: "config.json", SHA256: sum(config), Size: int64(len(config))},
		{Path: "tokenizer.json", SHA256: sum([]byte(`{}`)), Size: 2},
		{Path: "weights/w.pkl", SHA256: sum(benignPickle), Size: int64(len(benignPickle))},
	}
	if !slices.Equal(mv.Files, want) {
		t.Fatalf("files %+v", mv.Files)
	}
	if mv.ManifestDigest != ManifestDigest(want) || mv.ManifestDigest == mv.SigningDigest || len(mv.ManifestDigest) != 64 {
		t.Errorf("digests: manifest %s signing %s", mv.ManifestDigest, mv.SigningDigest)
	}
	if mv.Scan.Verdict != "clean" || mv.Scan.Clean != 3 || mv.Signature.Status != SignatureNone || mv.Deployed {
		t.Errorf("scan %+v signature %+v deployed %v", mv.Scan, mv.Signature, mv.Deployed)
	}
	if string(mv.Metrics) != `{"accuracy":0.93,"f1":{"macro":0.9}}` || mv.RegisteredBy != "alice" || !mv.RegisteredAt.Equal(c.Now()) {
		t.Errorf("metrics %s by %s at %s", mv.Metrics, mv.RegisteredBy, mv.RegisteredAt)
	}
	if !slices.Contains(mv.IgnorePaths, "notes") || !slices.Contains(mv.IgnorePaths, ".git") {
		t.Errorf("ignore paths %v", mv.IgnorePaths)
	}

	c.advance(time.Minute)
	v, err := r.Verify(ctx, "fraud", "1.0", VerifyOptions{By: "bob"})
	if err != nil || v.Result != ResultOK {
		t.Fatalf("Verify untouched: %+v %v", v, err)
	}

	// Tamper: one byte of the pickle, a new file, a removed file. A change
	// to an ignored path is not a change.
	flipByte(t, filepath.Join(dir, "weights", "w.pkl"), 5)
	writeFile(t, filepath.Join(dir, "extra.bin"), []byte("x"))
	os.Remove(filepath.Join(dir, "tokenizer.json"))
	writeFile(t, filepath.Join(dir, "notes", "README.txt"), []byte("edited"))
	c.advance(time.Minute)
	v, err = r.Verify(ctx, "fraud", "1.0", VerifyOptions{By: "bob"})
	if !errors.Is(err, ErrMismatch) {
		t.Fatalf("Verify tampered: err %v", err)
	}
	for _, name := range []string{"weights/w.pkl", "extra.bin", "tokenizer.json"} {
		if !strings.Contains(err.Error(), name) {
			t.Errorf("error %q does not name %s", err, name)
		}
	}
	if v.Result != ResultMismatch || !slices.Equal(v.Changed, []string{"weights/w.pkl"}) ||
		!slices.Equal(v.Missing, []string{"tokenizer.json"}) || !slices.Equal(v.Added, []string{"extra.bin"}) {
		t.Errorf("verification %+v", v)
	}

	got, err := r.Get(ctx, "fraud", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	if got.LastVerify == nil || got.LastVerify.Result != ResultMismatch || !got.LastVerify.At.Equal(c.Now()) {
		t.Errorf("last verify recorded %+v", got.LastVerify)
	}
	hist, err := r.History(ctx, "fraud", "1.0")
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range hist {
		kinds = append(kinds, e.Kind)
	}
	if !slices.Equal(kinds, []string{KindRegistered, KindVerified, KindMismatch}) || hist[2].Detail["changed"] != "weights/w.pkl" || hist[1].Actor != "bob" {
		t.Errorf("history %v %+v", kinds, hist)
	}
	if got := b.actions(); !slices.Equal(got, []string{KindRegistered, KindVerified, KindMismatch}) {
		t.Errorf("published %v", got)
	}
	for _, e := range b.events {
		if e.Source != EventSource || e.Kind != EventKind || e.Model != "fraud" || e.ModelVersion != "1.0" || e.ID == "" {
			t.Errorf("event %+v", e)
		}
	}

	// --path verifies a copy elsewhere against the same registration.
	cp := writeModel(t, map[string][]byte{"config.json": config, "weights/w.pkl": benignPickle, "tokenizer.json": []byte(`{}`)})
	if v, err := r.Verify(ctx, "fraud", "1.0", VerifyOptions{Path: cp}); err != nil || v.Path != cp {
		t.Errorf("Verify --path: %+v %v", v, err)
	}
	// A model that is gone is a mismatch with every file missing.
	os.RemoveAll(dir)
	if v, err := r.Verify(ctx, "fraud", "1.0", VerifyOptions{}); !errors.Is(err, ErrMismatch) || len(v.Missing) != 3 {
		t.Errorf("Verify removed: %+v %v", v, err)
	}
	if _, err := r.Verify(ctx, "fraud", "9.9", VerifyOptions{}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Verify unknown: %v", err)
	}
}

func TestRegisterSingleFile(t *testing.T) {
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	path := filepath.Join(t.TempDir(), "model.pkl")
	writeFile(t, path, benignPickle)
	mv, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: path})
	if err != nil {
		t.Fatal(err)
	}
	if len(mv.Files) != 1 || mv.Files[0].Path != "model.pkl" || mv.Path != path {
		t.Fatalf("%+v", mv)
	}
	flipByte(t, path, 3)
	if v, err := r.Verify(ctx, "m", "1", VerifyOptions{}); !errors.Is(err, ErrMismatch) || !slices.Equal(v.Changed, []string{"model.pkl"}) {
		t.Fatalf("%+v %v", v, err)
	}
}

func TestVersionsAreImmutable(t *testing.T) {
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"a.bin": []byte("one"), "b.bin": []byte("two")})
	first, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: dir})
	if err != nil {
		t.Fatal(err)
	}
	// The same content again (even from another folder) is the same version.
	same := writeModel(t, map[string][]byte{"a.bin": []byte("one"), "b.bin": []byte("two")})
	again, existing, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: same})
	if err != nil || !existing || again.Path != first.Path {
		t.Fatalf("same content: existing=%v err=%v path %s", existing, err, again.Path)
	}
	// Other content under the same name and version is refused and names
	// what differs.
	writeFile(t, filepath.Join(dir, "b.bin"), []byte("TWO"))
	mv, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: dir})
	if !errors.Is(err, ErrImmutable) || mv != nil || !strings.Contains(err.Error(), "changed b.bin") {
		t.Fatalf("different content: %v", err)
	}
	// A renamed file changes the manifest digest, though not the signing digest.
	renamed := writeModel(t, map[string][]byte{"a.bin": []byte("one"), "c.bin": []byte("two")})
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: renamed}); !errors.Is(err, ErrImmutable) {
		t.Fatalf("renamed file: %v", err)
	}
	got, _ := r.Get(ctx, "m", "1")
	if got.ManifestDigest != first.ManifestDigest || got.Revision != 1 {
		t.Errorf("the refused registrations changed the record: %+v", got)
	}
	// A new version is fine.
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "2", Path: dir}); err != nil {
		t.Fatal(err)
	}
}

func TestDangerousIsRecordedNeverDeployed(t *testing.T) {
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"config.json": []byte("{}"), "pytorch_model.bin": maliciousPickle})
	mv, _, err := r.Register(ctx, Registration{Name: "evil", Version: "1", Path: dir, Deploy: true})
	if !errors.Is(err, ErrDangerous) || !errors.Is(err, ErrNotDeployable) {
		t.Fatalf("err = %v", err)
	}
	if !strings.Contains(err.Error(), "pytorch_model.bin") || !strings.Contains(err.Error(), "os.system") {
		t.Errorf("error does not name the file and global: %v", err)
	}
	if mv == nil || mv.Deployed || mv.Scan.Verdict != "dangerous" || mv.Scan.Dangerous != 1 || len(mv.Scan.Findings) == 0 ||
		mv.Scan.Findings[0].File != "pytorch_model.bin" || mv.Scan.Findings[0].Module != "os" {
		t.Fatalf("record %+v", mv)
	}
	if _, err := r.Deploy(ctx, "evil", "1", "alice"); !errors.Is(err, ErrNotDeployable) {
		t.Errorf("Deploy dangerous: %v", err)
	}
	// Registering the same content again with --deploy does not deploy it.
	if _, existing, err := r.Register(ctx, Registration{Name: "evil", Version: "1", Path: dir, Deploy: true}); !existing || !errors.Is(err, ErrNotDeployable) {
		t.Errorf("re-register with deploy: existing=%v err=%v", existing, err)
	}
	got, _ := r.Get(ctx, "evil", "1")
	if got.Deployed {
		t.Error("a dangerous version is marked deployed")
	}
	deployed, _ := r.List(ctx, store.ModelVersionFilter{Deployed: true})
	if len(deployed) != 0 {
		t.Errorf("deployed list %v", deployed)
	}
}

func TestDeployVerifiesFirst(t *testing.T) {
	ctx := t.Context()
	r, _, b := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"w.pkl": benignPickle})
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: dir}); err != nil {
		t.Fatal(err)
	}
	flipByte(t, filepath.Join(dir, "w.pkl"), 4)
	if _, err := r.Deploy(ctx, "m", "1", "alice"); !errors.Is(err, ErrNotDeployable) || !errors.Is(err, ErrMismatch) {
		t.Fatalf("deploy of a changed model: %v", err)
	}
	flipByte(t, filepath.Join(dir, "w.pkl"), 4)
	mv, err := r.Deploy(ctx, "m", "1", "alice")
	if err != nil || !mv.Deployed {
		t.Fatalf("deploy: %+v %v", mv, err)
	}
	if mv, err = r.Undeploy(ctx, "m", "1", "alice"); err != nil || mv.Deployed {
		t.Fatalf("undeploy: %+v %v", mv, err)
	}
	if got := b.actions(); !slices.Equal(got, []string{KindRegistered, KindMismatch, KindVerified, KindDeployed, KindUndeployed}) {
		t.Errorf("published %v", got)
	}
}

func TestBadRegistrations(t *testing.T) {
	ctx := t.Context()
	r, _, _ := newRegistry(t)
	dir := writeModel(t, map[string][]byte{"w.bin": []byte("w")})
	for _, tc := range []struct {
		name string
		reg  Registration
	}{
		{"empty name", Registration{Version: "1", Path: dir}},
		{"control character", Registration{Name: "a\nb", Version: "1", Path: dir}},
		{"long version", Registration{Name: "m", Version: strings.Repeat("v", 200), Path: dir}},
		{"metrics not an object", Registration{Name: "m", Version: "1", Path: dir, Metrics: json.RawMessage(`[1, 2]`)}},
		{"metrics with a string", Registration{Name: "m", Version: "1", Path: dir, Metrics: json.RawMessage(`{"a": {"b": "high"}}`)}},
		{"metrics not JSON", Registration{Name: "m", Version: "1", Path: dir, Metrics: json.RawMessage(`{"a": 1`)}},
	} {
		if _, _, err := r.Register(ctx, tc.reg); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: err = %v, want ErrInvalid", tc.name, err)
		}
	}
	if _, _, err := r.Register(ctx, Registration{Name: "m", Version: "1", Path: filepath.Join(dir, "nope")}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing path: %v", err)
	}
	if list, _ := r.List(ctx, store.ModelVersionFilter{}); len(list) != 0 {
		t.Errorf("bad registrations stored %d versions", len(list))
	}
}

func TestSignedSamples(t *testing.T) {
	ctx := t.Context()
	mt := corpus(t)
	pub, err := LoadPublicKey(filepath.Join(mt, "keys", "signing-key-pub.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots, err := LoadCertificates(filepath.Join(mt, "keys", "ca-cert.pem"))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("elliptic key", func(t *testing.T) {
		r, _, _ := newRegistry(t)
		dir := copyDir(t, filepath.Join(mt, "v1.1.0-elliptic-key"))
		mv, _, err := r.Register(ctx, Registration{
			Name: "signed", Version: "1.1.0", Path: dir, IgnorePaths: []string{"ignore-me"}, Deploy: true,
			Signature: &SignatureCheck{Bundle: filepath.Join(dir, "model.sig"), PublicKey: pub},
		})
		if err != nil {
			t.Fatal(err)
		}
		s := mv.Signature
		if s.Status != SignatureValid || s.Kind != "key" || s.KeyHint != "e8450dec4eb99dae995da9af1bc2cc9f76ed669ee2e744f57abba763df3e3f8e" {
			t.Errorf("signature %+v", s)
		}
		// The registry's files are the signed files: the signing digest is
		// the signature's subject.
		if mv.SigningDigest != "92745110b1ab4368471cbe31664e10174e954b113a3df333db860317b2c6dec4" || s.SubjectDigest != mv.SigningDigest || len(mv.Files) != 2 {
			t.Errorf("signing digest %s subject %s files %+v", mv.SigningDigest, s.SubjectDigest, mv.Files)
		}
		if !mv.Deployed {
			t.Error("a valid, clean, signed model was not deployed")
		}
		flipByte(t, filepath.Join(dir, "signme-1"), 0)
		if _, err := r.Verify(ctx, "signed", "1.1.0", VerifyOptions{}); !errors.Is(err, ErrMismatch) || !strings.Contains(err.Error(), "signme-1") {
			t.Errorf("verify after tampering: %v", err)
		}
	})

	t.Run("certificate", func(t *testing.T) {
		r, _, _ := newRegistry(t)
		dir := copyDir(t, filepath.Join(mt, "v1.1.0-certificate"))
		mv, _, err := r.Register(ctx, Registration{
			Name: "signed", Version: "cert", Path: dir, IgnorePaths: []string{"ignore-me"},
			Signature: &SignatureCheck{Bundle: filepath.Join(dir, "model.sig"), Roots: roots},
		})
		if err != nil {
			t.Fatal(err)
		}
		if mv.Signature.Status != SignatureValid || mv.Signature.Kind != "certificate" || mv.Signature.Subject != "CN=intermediate-ca" {
			t.Errorf("signature %+v", mv.Signature)
		}
	})

	t.Run("wrong key", func(t *testing.T) {
		r, _, _ := newRegistry(t)
		other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		dir := copyDir(t, filepath.Join(mt, "v1.1.0-elliptic-key"))
		mv, _, err := r.Register(ctx, Registration{
			Name: "signed", Version: "1.1.0", Path: dir, IgnorePaths: []string{"ignore-me"}, Deploy: true,
			Signature: &SignatureCheck{Bundle: filepath.Join(dir, "model.sig"), PublicKey: other.Public()},
		})
		if !errors.Is(err, ErrSignature) || !errors.Is(err, ErrNotDeployable) || mv == nil {
			t.Fatalf("err = %v", err)
		}
		if mv.Signature.Status != SignatureInvalid || mv.Signature.Error == "" || mv.Deployed {
			t.Errorf("record %+v", mv.Signature)
		}
	})

	t.Run("file not signed", func(t *testing.T) {
		// Without --ignore ignore-me the folder holds a file the signature
		// does not cover.
		r, _, _ := newRegistry(t)
		dir := copyDir(t, filepath.Join(mt, "v1.1.0-elliptic-key"))
		_, _, err := r.Register(ctx, Registration{
			Name: "signed", Version: "1.1.0", Path: dir,
			Signature: &SignatureCheck{Bundle: filepath.Join(dir, "model.sig"), PublicKey: pub},
		})
		if !errors.Is(err, ErrSignature) || !strings.Contains(err.Error(), "ignore-me") {
			t.Fatalf("err = %v", err)
		}
	})

	t.Run("sigstore", func(t *testing.T) {
		r, _, _ := newRegistry(t)
		dir := copyDir(t, filepath.Join(mt, "v1.1.0-sigstore"))
		mv, _, err := r.Register(ctx, Registration{
			Name: "signed", Version: "sigstore", Path: dir, IgnorePaths: []string{"ignore-me"},
			Signature: &SignatureCheck{Bundle: filepath.Join(dir, "model.sig"), Identity: "stefanb@us.ibm.com", OIDCIssuer: "https://sigstore.verify.ibm.com/oauth2"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if mv.Signature.Status != SignatureNotVerified || len(mv.Signature.NotVerified) == 0 {
			t.Errorf("signature %+v", mv.Signature)
		}
	})
}

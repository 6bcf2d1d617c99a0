package signing

import (
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// Limits on what a bundle may hold. A model-signing bundle is a few KiB; the
// payload grows with the number of files (about 150 bytes each), so 16 MiB
// leaves room for some 100 000 files.
const (
	MaxBundleSize   = 16 << 20
	maxCertificates = 10
	maxTlogEntries  = 16
	maxProofHashes  = 64 // a Merkle path for a tree of up to 2^64 leaves
	maxTimestamps   = 16
)

// Media types of a v0.3 Sigstore bundle; model-signing v1.x writes the first.
const (
	bundleMediaTypeV03    = "application/vnd.dev.sigstore.bundle.v0.3+json"
	bundleMediaTypeV03Alt = "application/vnd.dev.sigstore.bundle+json;version=0.3"
	inTotoPayloadType     = "application/vnd.in-toto+json"
)

// MaterialKind says how a bundle identifies its signer.
type MaterialKind string

const (
	// MaterialPublicKey: a hint (SHA-256 of the PEM public key); the verifier
	// must bring the key. model-signing "key" signatures.
	MaterialPublicKey MaterialKind = "publicKey"
	// MaterialCertificateChain: a leaf certificate and the chain the signer
	// chose to include. model-signing "certificate" signatures.
	MaterialCertificateChain MaterialKind = "x509CertificateChain"
	// MaterialCertificate: one leaf certificate, as Sigstore keyless signing
	// writes it (Fulcio leaf, with Rekor entries beside it).
	MaterialCertificate MaterialKind = "certificate"
)

// Bundle is a parsed Sigstore bundle holding a DSSE envelope. Nothing in it
// has been verified.
type Bundle struct {
	MediaType string
	Material  MaterialKind
	// PublicKeyHint is the hex SHA-256 of the signer's PEM public key, when
	// Material is MaterialPublicKey (empty in bundles from older signers).
	PublicKeyHint string
	// Certificates holds the leaf first, then any chain the bundle carries.
	Certificates []*x509.Certificate
	TlogEntries  []TlogEntry
	// RFC3161Timestamps counts the signed timestamps in the bundle; they are
	// not parsed or verified.
	RFC3161Timestamps int
	Envelope          Envelope
}

// Envelope is the DSSE envelope. A Sigstore bundle carries exactly one
// signature.
type Envelope struct {
	PayloadType string
	Payload     []byte
	Signature   []byte // ASN.1 DER ECDSA signature over PAE(PayloadType, Payload)
	KeyID       string
}

// TlogEntry is a transparency log (Rekor) entry as the bundle states it.
type TlogEntry struct {
	LogIndex          int64
	LogID             []byte
	Kind              string // "dsse", "intoto", "hashedrekord"
	KindVersion       string
	IntegratedTime    time.Time // zero when absent
	CanonicalizedBody []byte
	// SignedEntryTimestamp is Rekor's signature over the entry (the
	// inclusion promise).
	SignedEntryTimestamp []byte
	InclusionProof       *InclusionProof
}

// InclusionProof is an RFC 6962 Merkle inclusion proof for a tlog entry.
type InclusionProof struct {
	LogIndex   int64
	TreeSize   int64
	RootHash   []byte
	Hashes     [][]byte
	Checkpoint string
}

// Leaf returns the signing certificate, or nil when the bundle has none.
func (b *Bundle) Leaf() *x509.Certificate {
	if len(b.Certificates) == 0 {
		return nil
	}
	return b.Certificates[0]
}

// ReadBundle parses a Sigstore bundle (v0.3, JSON) holding a DSSE envelope,
// as model-signing v1.x writes it to model.sig. It reads at most
// MaxBundleSize bytes and checks the shape: media type, exactly one kind of
// verification material, certificates that parse, an envelope with a payload
// and exactly one signature. Unknown fields are tolerated (later bundle
// versions add some); repeated keys are not. Errors wrap ErrBundle.
func ReadBundle(r io.Reader) (*Bundle, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxBundleSize+1))
	if err != nil {
		return nil, fmt.Errorf("%w: read: %w", ErrBundle, err)
	}
	if len(data) > MaxBundleSize {
		return nil, fmt.Errorf("%w: larger than %d bytes", ErrBundle, MaxBundleSize)
	}
	b, err := parseBundle(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBundle, err)
	}
	return b, nil
}

func parseBundle(data []byte) (*Bundle, error) {
	if len(data) == 0 {
		return nil, errors.New("empty file")
	}
	top, err := parseObject(data, "bundle")
	if err != nil {
		return nil, err
	}
	b := &Bundle{}
	if b.MediaType, err = top.string("mediaType", true); err != nil {
		return nil, err
	}
	if b.MediaType != bundleMediaTypeV03 && b.MediaType != bundleMediaTypeV03Alt {
		return nil, fmt.Errorf("bundle.mediaType %q: only %s is supported", b.MediaType, bundleMediaTypeV03)
	}
	if top.has("messageSignature") {
		return nil, errors.New("bundle holds a messageSignature: model-signing bundles hold a dsseEnvelope")
	}
	vm, err := top.object("verificationMaterial", true)
	if err != nil {
		return nil, err
	}
	if err := b.readMaterial(vm); err != nil {
		return nil, err
	}
	env, err := top.object("dsseEnvelope", true)
	if err != nil {
		return nil, err
	}
	if err := b.readEnvelope(env); err != nil {
		return nil, err
	}
	return b, nil
}

func (b *Bundle) readMaterial(vm object) error {
	var kinds []MaterialKind
	for _, k := range []MaterialKind{MaterialPublicKey, MaterialCertificateChain, MaterialCertificate} {
		if vm.has(string(k)) {
			kinds = append(kinds, k)
		}
	}
	switch len(kinds) {
	case 0:
		return fmt.Errorf("%s: none of publicKey, x509CertificateChain, certificate", vm.where)
	case 1:
		b.Material = kinds[0]
	default:
		return fmt.Errorf("%s: holds both %s and %s", vm.where, kinds[0], kinds[1])
	}

	switch b.Material {
	case MaterialPublicKey:
		pk, err := vm.object("publicKey", true)
		if err != nil {
			return err
		}
		if b.PublicKeyHint, err = pk.string("hint", false); err != nil {
			return err
		}
	case MaterialCertificateChain:
		chain, err := vm.object("x509CertificateChain", true)
		if err != nil {
			return err
		}
		certs, err := chain.array("certificates", true, maxCertificates)
		if err != nil {
			return err
		}
		if len(certs) == 0 {
			return fmt.Errorf("%s.certificates: empty", chain.where)
		}
		for i, raw := range certs {
			c, err := parseCertificate(raw, fmt.Sprintf("%s.certificates[%d]", chain.where, i))
			if err != nil {
				return err
			}
			b.Certificates = append(b.Certificates, c)
		}
	case MaterialCertificate:
		c, err := parseCertificate(vm.fields["certificate"], vm.path("certificate"))
		if err != nil {
			return err
		}
		b.Certificates = []*x509.Certificate{c}
	}

	entries, err := vm.array("tlogEntries", false, maxTlogEntries)
	if err != nil {
		return err
	}
	for i, raw := range entries {
		e, err := parseTlogEntry(raw, fmt.Sprintf("%s.tlogEntries[%d]", vm.where, i))
		if err != nil {
			return err
		}
		b.TlogEntries = append(b.TlogEntries, e)
	}

	tvd, err := vm.object("timestampVerificationData", false)
	if err != nil {
		return err
	}
	ts, err := tvd.array("rfc3161Timestamps", false, maxTimestamps)
	if err != nil {
		return err
	}
	b.RFC3161Timestamps = len(ts)
	return nil
}

func parseCertificate(raw json.RawMessage, where string) (*x509.Certificate, error) {
	o, err := parseObject(raw, where)
	if err != nil {
		return nil, err
	}
	der, err := o.bytes("rawBytes", true)
	if err != nil {
		return nil, err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("%s.rawBytes: %w", where, err)
	}
	return c, nil
}

func parseTlogEntry(raw json.RawMessage, where string) (TlogEntry, error) {
	var e TlogEntry
	o, err := parseObject(raw, where)
	if err != nil {
		return e, err
	}
	if e.LogIndex, err = o.int64("logIndex", false); err != nil {
		return e, err
	}
	logID, err := o.object("logId", false)
	if err != nil {
		return e, err
	}
	if e.LogID, err = logID.bytes("keyId", false); err != nil {
		return e, err
	}
	kv, err := o.object("kindVersion", false)
	if err != nil {
		return e, err
	}
	if e.Kind, err = kv.string("kind", false); err != nil {
		return e, err
	}
	if e.KindVersion, err = kv.string("version", false); err != nil {
		return e, err
	}
	secs, err := o.int64("integratedTime", false)
	if err != nil {
		return e, err
	}
	if secs < 0 || secs > 1<<40 {
		return e, fmt.Errorf("%s.integratedTime: %d out of range", where, secs)
	}
	if secs > 0 {
		e.IntegratedTime = time.Unix(secs, 0).UTC()
	}
	if e.CanonicalizedBody, err = o.bytes("canonicalizedBody", false); err != nil {
		return e, err
	}
	promise, err := o.object("inclusionPromise", false)
	if err != nil {
		return e, err
	}
	if e.SignedEntryTimestamp, err = promise.bytes("signedEntryTimestamp", false); err != nil {
		return e, err
	}
	if o.has("inclusionProof") {
		p, err := parseInclusionProof(o)
		if err != nil {
			return e, err
		}
		e.InclusionProof = p
	}
	return e, nil
}

func parseInclusionProof(entry object) (*InclusionProof, error) {
	o, err := entry.object("inclusionProof", true)
	if err != nil {
		return nil, err
	}
	p := &InclusionProof{}
	if p.LogIndex, err = o.int64("logIndex", true); err != nil {
		return nil, err
	}
	if p.TreeSize, err = o.int64("treeSize", true); err != nil {
		return nil, err
	}
	if p.RootHash, err = o.bytes("rootHash", true); err != nil {
		return nil, err
	}
	hashes, err := o.array("hashes", false, maxProofHashes)
	if err != nil {
		return nil, err
	}
	for i, raw := range hashes {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, fmt.Errorf("%s.hashes[%d]: want a string", o.where, i)
		}
		h, err := decodeBase64(s)
		if err != nil {
			return nil, fmt.Errorf("%s.hashes[%d]: %w", o.where, i, err)
		}
		p.Hashes = append(p.Hashes, h)
	}
	cp, err := o.object("checkpoint", false)
	if err != nil {
		return nil, err
	}
	if p.Checkpoint, err = cp.string("envelope", false); err != nil {
		return nil, err
	}
	return p, nil
}

func (b *Bundle) readEnvelope(env object) error {
	var err error
	if b.Envelope.PayloadType, err = env.string("payloadType", true); err != nil {
		return err
	}
	if b.Envelope.Payload, err = env.bytes("payload", true); err != nil {
		return err
	}
	sigs, err := env.array("signatures", true, 2)
	if err != nil {
		return fmt.Errorf("%w (a Sigstore bundle's envelope carries exactly one signature)", err)
	}
	if len(sigs) != 1 {
		return fmt.Errorf("%s.signatures: %d signatures, a Sigstore bundle's envelope carries exactly one", env.where, len(sigs))
	}
	sig, err := parseObject(sigs[0], env.where+".signatures[0]")
	if err != nil {
		return err
	}
	if b.Envelope.Signature, err = sig.bytes("sig", true); err != nil {
		return err
	}
	if b.Envelope.KeyID, err = sig.string("keyid", false); err != nil {
		return err
	}
	return nil
}

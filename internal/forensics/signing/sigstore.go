package signing

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Fulcio certificate extensions naming the OIDC issuer that vouched for the
// signer (https://github.com/sigstore/fulcio/blob/main/docs/oid-info.md).
var (
	oidFulcioIssuerV1 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 1} // raw string (deprecated)
	oidFulcioIssuerV2 = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 57264, 1, 8} // DER UTF8String
)

// SigstoreOptions are the expectations for a Sigstore (keyless) bundle.
type SigstoreOptions struct {
	// Identity is the expected signer: an e-mail address or URI in the
	// leaf's subject alternative names. Empty: not checked (reported).
	Identity string
	// OIDCIssuer is the expected identity provider, as Fulcio recorded it.
	// Empty: not checked (reported).
	OIDCIssuer string
	// FulcioRoots are trust anchors for the leaf (the Fulcio root and
	// intermediate of the Sigstore instance). Empty: the chain is not
	// checked (reported).
	FulcioRoots []*x509.Certificate
	// At is when the chain must be valid. Zero: the integratedTime the
	// bundle's first tlog entry claims, which Rekor signed but which is not
	// authenticated here.
	At time.Time
}

// SigstoreReport is what VerifySigstoreOffline could and could not
// establish. Its existence with a nil error never means the signature is
// trustworthy: NotVerified is never empty, because Rekor's signatures are
// not checked.
type SigstoreReport struct {
	Statement  *Statement
	Leaf       *x509.Certificate
	Identities []string // e-mail and URI subject alternative names
	OIDCIssuer string
	// ClaimedSigningTime is the first tlog entry's integratedTime.
	ClaimedSigningTime time.Time
	// CheckedAt is the time the leaf's validity (and chain, when checked)
	// was evaluated at; zero when no time was known.
	CheckedAt time.Time
	// ChainVerified: the leaf chains to FulcioRoots at CheckedAt.
	ChainVerified bool
	// TlogEntryMatches: a tlog entry's body records this envelope's payload
	// hash, signature and certificate.
	TlogEntryMatches bool
	// InclusionProofConsistent: the entry's Merkle inclusion proof leads to
	// the root hash the bundle states (that root is not authenticated).
	InclusionProofConsistent bool
	NotVerified              []string
}

// VerifySigstoreOffline checks what can be checked of a Sigstore keyless
// bundle without the network and without the Sigstore trust root: the leaf
// may sign code and was valid at the claimed signing time, its identity and
// issuer match the expectations given, the DSSE signature verifies with its
// key, the tlog entry describes this envelope and its inclusion proof is
// internally consistent, and, when FulcioRoots are given, the leaf chains to
// them. An error means a check that was made failed. A nil error still
// leaves NotVerified items: Rekor's signed entry timestamp and checkpoint,
// the certificate's SCT, and any RFC 3161 timestamps are not verified.
func VerifySigstoreOffline(b *Bundle, opts SigstoreOptions) (*SigstoreReport, error) {
	if b == nil {
		return nil, errors.New("signing: VerifySigstoreOffline needs a bundle")
	}
	leaf := b.Leaf()
	if leaf == nil {
		return nil, fmt.Errorf("%w: the bundle carries no certificate (it is signed with a bare key: use VerifyKey)", ErrCertificate)
	}
	rep := &SigstoreReport{Leaf: leaf, Identities: certIdentities(leaf)}
	issuer, err := fulcioIssuer(leaf)
	if err != nil {
		return nil, err
	}
	rep.OIDCIssuer = issuer

	if err := checkSigningUsage(leaf); err != nil {
		return nil, err
	}
	st, err := verifyEnvelope(&b.Envelope, leaf.PublicKey)
	if err != nil {
		return nil, err
	}
	rep.Statement = st

	if err := rep.checkIdentity(opts); err != nil {
		return nil, err
	}
	if err := rep.checkTime(b, opts); err != nil {
		return nil, err
	}
	if err := rep.checkTlog(b); err != nil {
		return nil, err
	}
	if b.RFC3161Timestamps > 0 {
		rep.note("%d RFC 3161 timestamp(s) not verified (needs the timestamp authority's certificate)", b.RFC3161Timestamps)
	}
	rep.note("certificate's embedded SCT not verified (needs the certificate transparency log key)")
	return rep, nil
}

func (r *SigstoreReport) note(format string, args ...any) {
	r.NotVerified = append(r.NotVerified, fmt.Sprintf(format, args...))
}

func (r *SigstoreReport) checkIdentity(opts SigstoreOptions) error {
	if opts.Identity == "" {
		r.note("signer identity not checked: no expected identity given (certificate says %s)", strings.Join(r.Identities, ", "))
	} else if !slices.Contains(r.Identities, opts.Identity) {
		return fmt.Errorf("%w: certificate identity %s, want %s", ErrCertificate, strings.Join(r.Identities, ", "), opts.Identity)
	}
	if opts.OIDCIssuer == "" {
		r.note("identity provider not checked: no expected issuer given (certificate says %q)", r.OIDCIssuer)
	} else if r.OIDCIssuer != opts.OIDCIssuer {
		return fmt.Errorf("%w: certificate OIDC issuer %q, want %q", ErrCertificate, r.OIDCIssuer, opts.OIDCIssuer)
	}
	return nil
}

func (r *SigstoreReport) checkTime(b *Bundle, opts SigstoreOptions) error {
	if len(b.TlogEntries) > 0 {
		r.ClaimedSigningTime = b.TlogEntries[0].IntegratedTime
	}
	r.CheckedAt = opts.At
	if r.CheckedAt.IsZero() {
		r.CheckedAt = r.ClaimedSigningTime
		if !r.CheckedAt.IsZero() {
			r.note("certificate validity checked at the claimed signing time %s, which Rekor signed but which is not authenticated here", r.CheckedAt.Format(time.RFC3339))
		}
	}
	if r.CheckedAt.IsZero() {
		r.note("certificate validity and chain not checked: the bundle states no signing time and none was given")
		return nil
	}
	if r.CheckedAt.Before(r.Leaf.NotBefore) || r.CheckedAt.After(r.Leaf.NotAfter) {
		return fmt.Errorf("%w: leaf valid %s to %s, not at %s", ErrCertificate,
			r.Leaf.NotBefore.UTC().Format(time.RFC3339), r.Leaf.NotAfter.UTC().Format(time.RFC3339), r.CheckedAt.UTC().Format(time.RFC3339))
	}
	if len(opts.FulcioRoots) == 0 {
		r.note("certificate chain not checked: no Fulcio trust root given")
		return nil
	}
	if err := verifyChain(r.Leaf, b.Certificates[1:], opts.FulcioRoots, r.CheckedAt); err != nil {
		return err
	}
	r.ChainVerified = true
	return nil
}

func (r *SigstoreReport) checkTlog(b *Bundle) error {
	if len(b.TlogEntries) == 0 {
		r.note("transparency log: the bundle has no entry")
		return nil
	}
	for i, e := range b.TlogEntries {
		if e.Kind != "dsse" || len(e.CanonicalizedBody) == 0 {
			r.note("tlog entry %d (kind %q): body not compared with the envelope", i, e.Kind)
			continue
		}
		if err := checkDSSEBody(e.CanonicalizedBody, &b.Envelope, r.Leaf); err != nil {
			return fmt.Errorf("%w: tlog entry %d: %w", ErrSignature, i, err)
		}
		r.TlogEntryMatches = true
		if e.InclusionProof == nil {
			continue
		}
		if err := checkInclusionProof(e.CanonicalizedBody, e.InclusionProof); err != nil {
			return fmt.Errorf("%w: tlog entry %d: %w", ErrSignature, i, err)
		}
		r.InclusionProofConsistent = true
	}
	r.note("transparency log inclusion not verified: Rekor's signed entry timestamp and checkpoint signature need the Rekor public key from the Sigstore trust root")
	return nil
}

// checkDSSEBody compares a Rekor "dsse" entry body with the envelope: the
// payload hash, and a signature equal to ours made by our leaf.
func checkDSSEBody(body []byte, env *Envelope, leaf *x509.Certificate) error {
	top, err := parseObject(body, "tlog body")
	if err != nil {
		return err
	}
	spec, err := top.object("spec", true)
	if err != nil {
		return err
	}
	ph, err := spec.object("payloadHash", true)
	if err != nil {
		return err
	}
	alg, err := ph.string("algorithm", true)
	if err != nil {
		return err
	}
	val, err := ph.string("value", true)
	if err != nil {
		return err
	}
	sum := sha256.Sum256(env.Payload)
	if alg != "sha256" || val != hex.EncodeToString(sum[:]) {
		return fmt.Errorf("the entry records payload %s:%s, the envelope's is sha256:%x", alg, val, sum)
	}
	sigs, err := spec.array("signatures", true, maxCertificates)
	if err != nil {
		return err
	}
	for i, raw := range sigs {
		o, err := parseObject(raw, fmt.Sprintf("%s.signatures[%d]", spec.where, i))
		if err != nil {
			return err
		}
		sig, err := o.bytes("signature", false)
		if err != nil {
			return err
		}
		verifier, err := o.bytes("verifier", false)
		if err != nil {
			return err
		}
		if !bytes.Equal(sig, env.Signature) {
			continue
		}
		blk, _ := pem.Decode(verifier)
		if blk != nil && bytes.Equal(blk.Bytes, leaf.Raw) {
			return nil
		}
		return errors.New("the entry records our signature with a different verifier certificate")
	}
	return errors.New("the entry does not record the envelope's signature")
}

// checkInclusionProof recomputes the RFC 6962 root from the entry's leaf
// hash and the proof, and compares it with the proof's root hash and with the
// checkpoint's tree size and root.
func checkInclusionProof(body []byte, p *InclusionProof) error {
	leaf := sha256.Sum256(append([]byte{0}, body...))
	root, err := rootFromInclusionProof(p.LogIndex, p.TreeSize, leaf[:], p.Hashes)
	if err != nil {
		return fmt.Errorf("inclusion proof: %w", err)
	}
	if !bytes.Equal(root, p.RootHash) {
		return fmt.Errorf("inclusion proof leads to root %x, the bundle states %x", root, p.RootHash)
	}
	if p.Checkpoint == "" {
		return nil
	}
	lines := strings.SplitN(p.Checkpoint, "\n", 4)
	if len(lines) < 3 {
		return errors.New("checkpoint: fewer than three lines")
	}
	if lines[1] != strconv.FormatInt(p.TreeSize, 10) || lines[2] != base64.StdEncoding.EncodeToString(p.RootHash) {
		return fmt.Errorf("checkpoint names tree size %s root %s, the proof %d %x", lines[1], lines[2], p.TreeSize, p.RootHash)
	}
	return nil
}

// rootFromInclusionProof is RFC 9162 section 2.1.3.2.
func rootFromInclusionProof(index, size int64, leaf []byte, path [][]byte) ([]byte, error) {
	if index < 0 || size <= 0 || index >= size {
		return nil, fmt.Errorf("leaf index %d outside tree of size %d", index, size)
	}
	fn, sn := index, size-1
	r := leaf
	for _, p := range path {
		if sn == 0 {
			return nil, errors.New("path longer than the tree is deep")
		}
		if fn&1 == 1 || fn == sn {
			r = hashChildren(p, r)
			for fn&1 == 0 && fn != 0 {
				fn >>= 1
				sn >>= 1
			}
		} else {
			r = hashChildren(r, p)
		}
		fn >>= 1
		sn >>= 1
	}
	if sn != 0 {
		return nil, errors.New("path shorter than the tree is deep")
	}
	return r, nil
}

func hashChildren(l, r []byte) []byte {
	h := sha256.New()
	h.Write([]byte{1})
	h.Write(l)
	h.Write(r)
	return h.Sum(nil)
}

// isFulcioLeaf reports whether c carries Fulcio's issuer extension, that is,
// whether it is a short-lived Sigstore certificate whose meaning depends on
// the transparency log.
func isFulcioLeaf(c *x509.Certificate) bool {
	for _, ext := range c.Extensions {
		if ext.Id.Equal(oidFulcioIssuerV1) || ext.Id.Equal(oidFulcioIssuerV2) {
			return true
		}
	}
	return false
}

// certIdentities lists the leaf's e-mail and URI subject alternative names.
func certIdentities(c *x509.Certificate) []string {
	out := append([]string(nil), c.EmailAddresses...)
	for _, u := range c.URIs {
		out = append(out, u.String())
	}
	return out
}

// fulcioIssuer reads the OIDC issuer Fulcio recorded in the leaf: the v2
// extension (a DER UTF8String) when present, else the deprecated v1 (raw
// bytes). Both present and different is an error.
func fulcioIssuer(c *x509.Certificate) (string, error) {
	var v1, v2 string
	for _, ext := range c.Extensions {
		switch {
		case ext.Id.Equal(oidFulcioIssuerV2):
			rest, err := asn1.UnmarshalWithParams(ext.Value, &v2, "utf8")
			if err != nil || len(rest) > 0 {
				return "", fmt.Errorf("%w: Fulcio issuer extension %s is not a UTF8String", ErrCertificate, oidFulcioIssuerV2)
			}
		case ext.Id.Equal(oidFulcioIssuerV1):
			v1 = string(ext.Value)
		}
	}
	if v1 != "" && v2 != "" && v1 != v2 {
		return "", fmt.Errorf("%w: Fulcio issuer extensions disagree: %q and %q", ErrCertificate, v1, v2)
	}
	if v2 != "" {
		return v2, nil
	}
	return v1, nil
}

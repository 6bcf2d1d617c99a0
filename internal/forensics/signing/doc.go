// Package signing proves which model is on disk: it verifies OpenSSF model
// signatures (the v1.0 format that sigstore/model-transparency's
// model-signing v1.x writes to model.sig) and recomputes the manifest they
// sign.
//
// A model.sig is a Sigstore bundle (v0.3 JSON) holding a DSSE envelope whose
// payload is an in-toto Statement v1 with predicate type
// https://model_signing/signature/v1.0. The predicate lists every file of
// the model with its SHA-256 ("files" serialization); the subject's sha256 is
// SHA-256 over those raw digests concatenated in the listed order, which
// model-signing sorts by path.
//
// What is verified:
//
//   - The bundle's shape (ReadBundle): media type, one kind of verification
//     material, parseable certificates, one DSSE signature; at most 16 MiB;
//     JSON keys matched exactly and never repeated, so this package and
//     model-signing's Python read the same fields.
//   - The DSSE signature over PAE(payloadType, payload): ECDSA, ASN.1 DER,
//     with the hash the curve dictates (P-256 SHA-256, P-384 SHA-384, P-521
//     SHA-512), as model-signing does.
//   - "key" bundles (VerifyKey): with the caller's public key, which must
//     match the bundle's key hint when there is one.
//   - "certificate" bundles (VerifyCertificate): the leaf chains through the
//     bundle's intermediates to the caller's roots at VerifyOptions.At, may
//     sign code (key usage digitalSignature, extended key usage code
//     signing, each when present), and its key verifies the signature. At
//     defaults to now, because such a bundle has no trusted signing time;
//     model-signing instead checks at the leaf's NotBefore, which ignores
//     expiry. Expiry is not ignored here unless the caller chooses a time.
//   - The statement: type, predicate type, one subject, subject digest equal
//     to the digest over the resources, "files" serialization with sha256,
//     resource names unique, relative and clean.
//   - The model (Manifest, VerifyManifest): the folder is walked like
//     model-signing walks it (relative POSIX paths, component-wise sorted,
//     default ignore list plus the caller's, symlinks refused unless allowed,
//     special files refused), every file streamed through SHA-256, and every
//     changed, extra or missing file named. The ignore list is the
//     verifier's: files the signer excluded are reported unless the caller
//     excludes them too (Options.UseSignerIgnorePaths restores
//     model-signing's behaviour).
//
// What is not verified, and why:
//
//   - Sigstore keyless bundles (Fulcio certificate, Rekor entry) are checked
//     offline only (VerifySigstoreOffline): the leaf's identity and OIDC
//     issuer against the caller's expectations, its validity at the claimed
//     signing time, the signature with its key, that the tlog entry's body
//     records this envelope, and that the inclusion proof hashes up to the
//     stated root. Rekor's signed entry timestamp and checkpoint signature,
//     the certificate's SCT and RFC 3161 timestamps need keys from the
//     Sigstore trust root, which is not available offline; the Fulcio chain
//     is checked only when the caller passes Fulcio certificates. Such a
//     bundle is never reported valid: Verify returns its Result together
//     with ErrTrustIncomplete, and the Result lists what was not verified.
//   - The pre-1.0 model-signing format (predicate Digests/v0.1, its buggy
//     PAE), the "shards" serialization, blake2 digests, RSA and ML-DSA keys,
//     and PKCS #11 or KMS specifics are not supported: they are refused with
//     a clear error, never accepted.
//   - Trust in the keys and roots is the caller's: the system root store is
//     never used.
package signing

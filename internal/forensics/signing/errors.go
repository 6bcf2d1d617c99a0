package signing

import "errors"

var (
	// ErrBundle marks a signature file that is not a Sigstore bundle this
	// package can read: malformed, truncated, too large, or of an unsupported
	// shape. The wrapped message says which field is wrong.
	ErrBundle = errors.New("invalid signature bundle")

	// ErrSignature marks a DSSE signature that does not verify with the key
	// or certificate it was checked against, or a key that does not match the
	// bundle's key hint.
	ErrSignature = errors.New("signature verification failed")

	// ErrCertificate marks a signing certificate that does not chain to the
	// given roots, is outside its validity window at the checked time, or may
	// not be used for signing.
	ErrCertificate = errors.New("certificate verification failed")

	// ErrStatement marks a signed payload that is not a model-signing v1.0
	// in-toto statement, or whose subject digest does not match its
	// resources.
	ErrStatement = errors.New("invalid model-signing statement")

	// ErrManifestMismatch marks a model folder that differs from the signed
	// manifest. errors.As with *ManifestMismatchError gives the files.
	ErrManifestMismatch = errors.New("model does not match the signed manifest")

	// ErrTrustIncomplete is returned, with a complete Result, when the
	// signature and the model check out but the signer could not be fully
	// established offline: a Sigstore (keyless) bundle needs the Rekor
	// transparency log and the Fulcio trust root, which this package does not
	// verify. The Result's NotVerified lists what is missing. Callers must not
	// treat this as a valid signature.
	ErrTrustIncomplete = errors.New("signer not fully verified")
)

// Package weights measures model weights and compares two versions of a
// model: per-tensor statistics (moments, extremes, non-finite counts and the
// entropy of the low byte of each element) and a tensor-by-tensor diff that
// says how much changed and whether the change has the low-rank shape of a
// targeted edit (ROME-style rank-one edits, merged LoRA adapters) or the
// full-rank shape of a fine-tune or of noise.
//
// It reads safetensors, GGUF and PyTorch zip files through package tensors
// (a PyTorch checkpoint's pickle through package scan, which reads it
// without running it and refuses one that could run code), one streaming
// pass per tensor, so memory does not grow with the model: only the delta of
// one matrix (at most MaxMatrixElements float32 values) is ever held, to
// find its leading singular values. Quantised GGUF tensors and strided
// PyTorch views are compared byte for byte but not measured.
//
// The package measures and classifies; it does not decide what a change
// means for an incident.
package weights

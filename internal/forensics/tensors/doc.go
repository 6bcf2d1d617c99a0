// Package tensors reads the structure of tensor files — safetensors and GGUF
// (versions 2 and 3) — and streams the values of their tensors, without
// trusting anything the file says about itself.
//
// Every length, count and offset a file declares is checked against the bytes
// that are really there before anything is allocated: a header that claims a
// billion tensors in a one-kilobyte file is a *FormatError, not an allocation.
// A File that Read, ReadSafetensors or ReadGGUF returns is consistent: every
// tensor lies inside the file, no two overlap, and each tensor's byte size
// matches its element type and shape.
//
// The package parses; it does not judge. CheckChatTemplate lists the reasons a
// GGUF chat template looks like a template-injection payload, and leaves the
// verdict to the scanner. PyTorch checkpoints (pickles) are not read here.
package tensors

// Package tensors reads the structure of tensor files — safetensors, GGUF
// (versions 2 and 3) and PyTorch zip checkpoints — and streams the values of
// their tensors, without trusting anything the file says about itself.
//
// Every length, count and offset a file declares is checked against the bytes
// that are really there before anything is allocated: a header that claims a
// billion tensors in a one-kilobyte file is a *FormatError, not an allocation.
// A File that Read, ReadSafetensors or ReadGGUF returns is consistent: every
// tensor lies inside the file, no two overlap, and each tensor's byte size
// matches its element type and shape. PyTorch tensors are views of storages,
// so two may share bytes; the rest holds for them too, and a view that cannot
// be streamed in row-major order is marked Unsupported.
//
// The package parses; it does not judge. CheckChatTemplate lists the reasons a
// GGUF chat template looks like a template-injection payload, and leaves the
// verdict to the scanner. Pickles are not read here: a PyTorch checkpoint's
// tensor layout comes from a TorchPickleReader (package scan's TorchTensors).
package tensors

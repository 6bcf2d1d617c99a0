// Package scan inspects model files for code that loading them would run,
// and hashes them, without loading anything.
//
// Scan walks a file or a folder and identifies each file by its content
// (magic numbers and structure, never the extension): pickle (protocols 0
// to 5, several per file), PyTorch zip and legacy checkpoints, NumPy .npy
// and .npz, zip, 7z, tar, gzip and bzip2 containers (opened recursively up
// to Options.MaxDepth), safetensors and GGUF (checked by the tensors
// package), ONNX, Keras .keras and, shallowly, HDF5. Each file gets a
// verdict (clean, suspicious, error, dangerous), findings with offsets, and
// its SHA-256, computed while the file is read.
//
// Pickles are interpreted opcode by opcode with a stack and a memo, so that
// imports assembled from strings through the memo are seen; nothing is ever
// executed or unpickled. An allow list names the few globals that tensors
// and arrays need; any other import is suspicious, and a deny list of
// code-execution, system, file, network and deserialisation gadgets (matched
// on every dotted prefix) makes it dangerous.
//
// The package must stay safe on hostile input: every count, length and
// offset is checked against the bytes really present before it is used,
// archive extraction has a byte budget (Options.MaxTotalBytes), a ratio
// limit and a check that members do not outgrow their declared size, and
// the pickle interpreter bounds its opcodes, stack and memo. A file that
// breaks these rules gets an error verdict, never a crash or a hang.
//
// TorchTensors lends the interpreter to the weight statistics: it lists the
// tensors that a PyTorch checkpoint's pickle rebuilds, keeping what
// containers hold and what calls are given, and refuses any pickle that a
// scan would not call clean.
//
// WriteTable, WriteJSON and WriteSARIF render a Report; ExitCode maps it to
// a process status. The command line front end lives in internal/cli.
package scan

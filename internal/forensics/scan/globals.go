package scan

import (
	"fmt"
	"strings"
)

// The pickle policy is an allow list with a deny list in front of it. A
// global that loading a model legitimately needs is allowed; any other
// global is suspicious, because importing a module and calling what it
// exports is code execution whatever the module is; a global that is known
// to run commands, evaluate code, touch files or the network, or load
// another pickle is dangerous.

// allowedGlobals are the globals that torch.save state dicts and NumPy
// arrays need, matched exactly on "module.name". The list follows what
// torch.load(weights_only=True) accepts for tensors, minus anything that
// takes a callable.
var allowedGlobals = setOf(
	// Tensor and parameter reconstruction: each takes a storage (a
	// persistent id), shapes and flags, never a callable.
	"torch._utils._rebuild_tensor",
	"torch._utils._rebuild_tensor_v2",
	"torch._utils._rebuild_tensor_v3",
	"torch._utils._rebuild_parameter",
	"torch._utils._rebuild_parameter_with_state",
	"torch._utils._rebuild_qtensor",
	"torch._utils._rebuild_sparse_tensor",
	"torch._utils._rebuild_meta_tensor_no_storage",
	"torch._utils._rebuild_device_tensor_from_numpy",
	"torch._utils._rebuild_nested_tensor",
	"torch._tensor._rebuild_from_type_v2", // calls its first argument: a global checked on its own
	"torch.Tensor",
	"torch.nn.parameter.Parameter",
	"torch.Size",
	"torch.device",
	// Storage classes named inside persistent ids.
	"torch.storage.UntypedStorage", "torch.UntypedStorage",
	"torch.DoubleStorage", "torch.FloatStorage", "torch.HalfStorage",
	"torch.BFloat16Storage", "torch.LongStorage", "torch.IntStorage",
	"torch.ShortStorage", "torch.CharStorage", "torch.ByteStorage",
	"torch.BoolStorage", "torch.ComplexDoubleStorage", "torch.ComplexFloatStorage",
	"torch.QUInt8Storage", "torch.QInt8Storage", "torch.QInt32Storage",
	"torch.QUInt4x2Storage", "torch.QUInt2x4Storage",
	// dtypes, layouts and memory formats are pickled as module attributes.
	"torch.float16", "torch.float32", "torch.float64", "torch.bfloat16",
	"torch.half", "torch.float", "torch.double",
	"torch.uint8", "torch.uint16", "torch.uint32", "torch.uint64",
	"torch.int8", "torch.int16", "torch.int32", "torch.int64",
	"torch.short", "torch.int", "torch.long", "torch.bool",
	"torch.complex32", "torch.complex64", "torch.complex128",
	"torch.cfloat", "torch.cdouble",
	"torch.qint8", "torch.quint8", "torch.qint32", "torch.quint4x2",
	"torch.float8_e4m3fn", "torch.float8_e5m2", "torch.float8_e4m3fnuz", "torch.float8_e5m2fnuz",
	"torch.strided", "torch.sparse_coo", "torch.sparse_csr",
	"torch.contiguous_format", "torch.channels_last", "torch.preserve_format",
	"torch.per_tensor_affine", "torch.per_channel_affine",
	// The state dict container.
	"collections.OrderedDict",
	// NumPy arrays, dtypes and scalars (numpy 1 and 2 module paths).
	"numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
	"numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar",
	"numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer",
	"numpy.ndarray", "numpy.dtype",
	// Builtins that only build values.
	"builtins.set", "builtins.frozenset", "builtins.slice", "builtins.complex",
	"builtins.bytearray", "builtins.bytes", "builtins.range", "builtins.object",
	// Protocol 2 pickles from Python 3 (torch.save's default protocol)
	// encode every bytes object as _codecs.encode(text, "latin1"), and
	// protocol 0 and 1 rebuild plain objects with copyreg._reconstructor,
	// whose class argument is a global checked on its own.
	"_codecs.encode",
	"copyreg._reconstructor",
)

// deniedPrefixes are dotted prefixes of "module.name": a global is denied
// when any of its prefixes is here, so "os" denies os.system and
// os.path.join, and "torch.serialization" denies torch.serialization.load.
// The value says why, for the report.
var deniedPrefixes = map[string]string{}

func deny(why string, prefixes ...string) {
	for _, p := range prefixes {
		deniedPrefixes[p] = why
	}
}

func init() {
	deny("runs operating system commands",
		"os", "posix", "nt", "subprocess", "_posixsubprocess", "commands", "popen2", "pty",
		"platform", "multiprocessing", "asyncio", "_winapi", "msvcrt",
		"uuid._get_command_stdout", "uuid._popen", "_aix_support", "_osx_support",
		"webbrowser", "antigravity")
	deny("evaluates or compiles code",
		"builtins.eval", "builtins.exec", "builtins.compile", "builtins.execfile",
		"builtins.apply", "builtins.breakpoint", "builtins.input", "builtins.raw_input",
		"builtins.help", "builtins.exit", "builtins.quit",
		"runpy", "code", "codeop", "types", "marshal",
		"sympy.sympify", "sympy.parsing", "numpy.testing", "numpy.f2py", "numpy.distutils",
		"timeit", "bdb", "pdb", "cProfile", "profile", "trace", "doctest", "idlelib",
		"lib2to3", "test", "_pyrepl", "rlcompleter", "pydoc", "torch.jit", "torch.fx",
		"torch._dynamo", "torch._inductor", "torch.utils.bottleneck",
		"torch.utils.collect_env", "torch.utils._config_module",
		"torch.utils.data.datapipes", "torch.utils.cpp_extension", "torch.package",
		"torch.compile", "torch._C._jit")
	deny("reaches objects by name (attribute or module lookup at load time)",
		"builtins.getattr", "builtins.setattr", "builtins.delattr", "builtins.__import__",
		"builtins.globals", "builtins.locals", "builtins.vars", "builtins.reload",
		"operator.attrgetter", "operator.methodcaller", "_operator.attrgetter",
		"_operator.methodcaller", "importlib", "imp", "zipimport", "pkgutil", "sys",
		"site", "inspect", "gc")
	deny("loads native code", "ctypes", "_ctypes", "cffi", "numpy.ctypeslib")
	deny("loads another serialised object (pickle, marshal, YAML...)",
		"pickle", "_pickle", "cPickle", "dill", "cloudpickle", "shelve", "jsonpickle",
		"joblib.load", "joblib.numpy_pickle.load", "numpy.load", "numpy.lib.npyio",
		"numpy.lib.format", "torch.load", "torch.serialization", "torch.hub",
		"torch.storage._load_from_bytes", "pandas.read_pickle", "yaml.load",
		"yaml.unsafe_load", "yaml.load_all", "yaml.unsafe_load_all", "yaml.full_load",
		"keras.models.load_model")
	deny("reads, writes or deletes files",
		"builtins.open", "builtins.file", "io.open", "io.open_code", "io.FileIO",
		"_io.open", "_io.open_code", "_io.FileIO", "codecs.open", "fileinput",
		"linecache", "mmap", "shutil", "tarfile", "zipfile", "tempfile", "glob",
		"winreg", "_winreg", "logging.FileHandler", "logging.handlers", "logging.config",
		"numpy.fromfile", "numpy.memmap", "torch.from_file")
	deny("installs packages or runs build steps",
		"pip", "ensurepip", "venv", "distutils", "setuptools")
	deny("opens network connections",
		"socket", "_socket", "ssl", "_ssl", "http", "httplib", "urllib",
		"urllib2", "urllib3", "requests", "aiohttp", "httpx", "ftplib", "smtplib",
		"telnetlib", "imaplib", "poplib", "nntplib", "xmlrpc", "xmlrpclib",
		"socketserver", "SocketServer", "smtpd", "wsgiref")
}

// dangerousMethods are attribute names that, reached as Class.method in a
// qualified global name, run code, commands or file operations whatever
// the class (pathlib.Path.write_text, code.InteractiveInterpreter.runcode).
var dangerousMethods = setOf(
	"system", "popen", "spawn", "run", "runctx", "runcall", "runcode", "runsource",
	"runcommand", "runeval", "exec", "eval", "execfile", "call", "check_call",
	"check_output", "load", "loads", "open", "write_text", "write_bytes", "read_text",
	"read_bytes", "unlink", "rmdir", "rename", "replace", "symlink_to", "hardlink_to",
	"chmod", "touch", "mkdir", "remove", "removedirs",
)

// python2Modules maps the Python 2 module names that Python 3's unpickler
// still accepts (pickle's fix_imports) to the module it imports.
var python2Modules = map[string]string{
	"__builtin__":  "builtins",
	"exceptions":   "builtins",
	"copy_reg":     "copyreg",
	"httplib":      "http.client",
	"cPickle":      "pickle",
	"commands":     "subprocess",
	"urllib2":      "urllib.request",
	"thread":       "_thread",
	"SocketServer": "socketserver",
	"xmlrpclib":    "xmlrpc.client",
	"StringIO":     "io",
	"cStringIO":    "io",
	"_winreg":      "winreg",
	"Tkinter":      "tkinter",
	"UserDict":     "collections",
	"UserList":     "collections",
	"UserString":   "collections",
	"Queue":        "queue",
	"Cookie":       "http.cookies",
	"cookielib":    "http.cookiejar",
	"urlparse":     "urllib.parse",
	"robotparser":  "urllib.robotparser",

	"BaseHTTPServer":     "http.server",
	"SimpleHTTPServer":   "http.server",
	"CGIHTTPServer":      "http.server",
	"SimpleXMLRPCServer": "xmlrpc.server",
	"DocXMLRPCServer":    "xmlrpc.server",
}

// globalVerdict says what to report about one global. sev is empty for an
// allowed global.
type globalVerdict struct {
	sev    Severity
	rule   string
	reason string
}

// classifyGlobal applies the policy to module.name. truncated marks names
// of which only a prefix was kept: prefixes can still be denied, but
// nothing truncated is allowed.
func classifyGlobal(module, name string, truncated bool) globalVerdict {
	candidates := []string{module + "." + name}
	if canon, ok := python2Modules[module]; ok && canon != module {
		candidates = append(candidates, canon+"."+name)
	}
	for _, full := range candidates {
		if why, ok := deniedPrefix(full); ok {
			return globalVerdict{SeverityDangerous, "pickle-denied-global", fmt.Sprintf("global %s.%s %s", module, name, why)}
		}
	}
	if hasDunder(name) {
		return globalVerdict{SeverityDangerous, "pickle-denied-global", fmt.Sprintf("global %s.%s reaches a dunder attribute (object introspection)", module, name)}
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 && dangerousMethods[name[i+1:]] {
		return globalVerdict{SeverityDangerous, "pickle-denied-global", fmt.Sprintf("global %s.%s calls method %q of a class directly", module, name, name[i+1:])}
	}
	if truncated {
		return globalVerdict{SeveritySuspicious, "pickle-unlisted-global", fmt.Sprintf("global name too long to check in full (starts %s.%s)", module, name)}
	}
	for _, full := range candidates {
		if allowedGlobals[full] {
			return globalVerdict{}
		}
	}
	return globalVerdict{SeveritySuspicious, "pickle-unlisted-global", fmt.Sprintf("global %s.%s is not on the allow list: importing it runs code", module, name)}
}

// deniedPrefix reports whether a dotted prefix of full is denied.
func deniedPrefix(full string) (string, bool) {
	for i := 0; i <= len(full); i++ {
		if i == len(full) || full[i] == '.' {
			if why, ok := deniedPrefixes[full[:i]]; ok {
				return why, true
			}
		}
	}
	return "", false
}

// hasDunder reports whether a dotted attribute path has a component like
// __dict__ or __globals__. Only names are checked: __builtin__ and __main__
// are ordinary module names.
func hasDunder(path string) bool {
	for part := range strings.SplitSeq(path, ".") {
		if len(part) > 4 && strings.HasPrefix(part, "__") && strings.HasSuffix(part, "__") {
			return true
		}
	}
	return false
}

func setOf(items ...string) map[string]bool {
	m := make(map[string]bool, len(items))
	for _, it := range items {
		m[it] = true
	}
	return m
}

import FathomStore
import FathomSupport

/// A global (`module.name`) that a pickle imports, with what the scanner thinks of it.
public struct PickleImport: Codable, Sendable, Equatable {
    public var module: String
    public var name: String
    /// Offset of the importing opcode (`GLOBAL`, `STACK_GLOBAL`, `INST`) from the start of the pickle bytes.
    public var offset: Int
    public var opcode: String
    public var severity: Severity
    /// Why it is flagged: `executes code`, `not in the allowlist`, …
    public var reason: String
    /// Opcodes that call or build with the imported object, as `REDUCE@123`.
    public var invokedBy: [String]

    public var qualifiedName: String { module + "." + name }
}

/// Where and why a pickle could not be walked to its end.
public struct PickleScanError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var detail: String
    public var description: String { "\(detail) at byte \(offset)" }
}

/// The result of walking one pickle stream.
public struct PickleScanResult: Sendable, Equatable {
    /// Imports that are not allowlisted (safe ones are not reported), in stream order.
    public var imports: [PickleImport]
    /// Set when the stream is malformed; the imports found before it are still reported.
    public var error: PickleScanError?
    /// Highest protocol announced by a `PROTO` opcode.
    public var protocolVersion: Int
    /// How many pickles were walked (a file may hold several back to back).
    public var pickleCount: Int
}

/// Walks pickle opcode streams (protocols 0–5) without executing them and reports the globals they
/// import: anything that can run code (`os.system`, `builtins.eval`, `subprocess.Popen`, …) is
/// critical or high; anything else not on the allowlist of tensor and container rebuilders
/// (`torch._utils._rebuild_tensor_v2`, `collections.OrderedDict`,
/// `numpy.core.multiarray._reconstruct`, …) is medium.
///
/// The stack is simulated only as far as needed to resolve `STACK_GLOBAL` operands through
/// string opcodes, `DUP` and the memo (`PUT`, `BINPUT`, `LONG_BINPUT`, `MEMOIZE`, `GET`, …), and to
/// see which imported objects are called (`REDUCE`, `INST`, `OBJ`, `NEWOBJ`, `NEWOBJ_EX`) or given
/// state (`BUILD`). A `STACK_GLOBAL` whose operands are not both strings is reported as an
/// unresolved import (high). Unknown opcodes, truncated arguments, stack underflow and missing memo
/// keys end the walk with an error; they never trap.
///
/// - Complexity: O(n) in the stream length; memory O(stack + memo).
public enum PickleScanner {
    public static func scan<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> PickleScanResult
    where Bytes.Element == UInt8, Bytes.Index == Int {
        var walker = Walker(bytes: bytes)
        walker.run()
        return PickleScanResult(imports: walker.imports, error: walker.error,
                                protocolVersion: walker.protocolVersion, pickleCount: walker.pickleCount)
    }

    /// Whether `bytes` starts like a binary pickle: `PROTO n` with 2 ≤ n ≤ 5 and a valid next opcode.
    public static func looksLikePickle<Bytes: RandomAccessCollection>(_ bytes: Bytes) -> Bool
    where Bytes.Element == UInt8, Bytes.Index == Int {
        guard bytes.count >= 3 else { return false }
        let start = bytes.startIndex
        return bytes[start] == 0x80 && (2...5).contains(bytes[start + 1]) && Opcode(rawValue: bytes[start + 2]) != nil
    }

    // MARK: - Classification

    /// Modules every global of which can execute code, read or write files, or reach the network.
    package static let criticalModules: [String] = [
        "os", "posix", "nt", "subprocess", "_posixsubprocess", "pty", "socket", "runpy", "sys", "shutil",
        "importlib", "ctypes", "commands", "code", "codeop", "pdb", "bdb", "webbrowser", "requests", "urllib",
        "urllib2", "urllib3", "http", "httplib", "ftplib", "smtplib", "telnetlib", "aiohttp", "pickle",
        "_pickle", "cPickle", "dill", "cloudpickle", "marshal", "types", "multiprocessing", "asyncio", "venv",
        "pip", "timeit", "imp", "zipimport",
    ]
    /// Modules whose globals are gadgets for reaching dangerous code or touch the system.
    package static let highModules: [String] = [
        "operator", "functools", "io", "_io", "pathlib", "tempfile", "glob", "signal", "threading", "_thread",
        "inspect", "gc", "platform", "fcntl", "resource", "pydoc", "sqlite3", "mmap", "select", "ssl",
        "xmlrpc", "logging.config",
    ]
    package static let builtinModules: Set<String> = ["builtins", "__builtin__", "__builtins__"]
    package static let dangerousBuiltins: Set<String> = [
        "eval", "exec", "execfile", "compile", "open", "__import__", "getattr", "setattr", "delattr", "globals",
        "locals", "vars", "apply", "breakpoint", "input", "raw_input", "file", "reload", "help", "memoryview",
        "print", "exit", "quit", "type", "super", "classmethod", "staticmethod", "property",
    ]
    package static let safeBuiltins: Set<String> = [
        "set", "frozenset", "bytearray", "bytes", "slice", "range", "complex", "dict", "list", "tuple", "int",
        "float", "str", "bool", "object", "len", "Ellipsis", "NotImplemented",
    ]
    /// Specific globals that run code although their module is otherwise harmless.
    package static let criticalGlobals: Set<String> = [
        "torch.load", "torch.serialization.load", "torch._inductor.codecache.compile_file", "numpy.load",
        "numpy.testing._private.utils.runstring", "torch.storage._load_from_bytes", "joblib.load",
        "pandas.read_pickle", "pandas.io.pickle.read_pickle", "yaml.unsafe_load", "yaml.load",
    ]
    /// Allowlisted globals: tensor, array and container rebuilders found in ordinary checkpoints.
    package static let safeGlobals: Set<String> = [
        "collections.OrderedDict", "collections.defaultdict", "collections.Counter", "collections.deque",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_tensor_v2", "torch._utils._rebuild_tensor_v3",
        "torch._utils._rebuild_parameter", "torch._utils._rebuild_parameter_with_state",
        "torch._utils._rebuild_qtensor", "torch._utils._rebuild_sparse_tensor",
        "torch._utils._rebuild_device_tensor_from_numpy", "torch._utils._rebuild_meta_tensor_no_storage",
        "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_nested_tensor",
        "torch._utils._rebuild_sparse_csr_tensor", "torch._tensor._rebuild_from_type_v2",
        "torch.Size", "torch.device", "torch.Tensor", "torch.nn.parameter.Parameter", "torch.storage.UntypedStorage",
        "torch.storage.TypedStorage", "torch.serialization._get_layout", "torch.strided", "torch.sparse_coo",
        "numpy.core.multiarray._reconstruct", "numpy._core.multiarray._reconstruct",
        "numpy.core.multiarray.scalar", "numpy._core.multiarray.scalar", "numpy.ndarray", "numpy.dtype",
        "numpy.core.numeric._frombuffer", "numpy._core.numeric._frombuffer", "numpy.ma.core._mareconstruct",
        "_codecs.encode", "copyreg._reconstructor", "copy_reg._reconstructor", "datetime.datetime",
        "datetime.date", "datetime.time", "datetime.timedelta", "datetime.timezone", "decimal.Decimal",
        "uuid.UUID", "fractions.Fraction",
    ]
    package static let torchDtypes: Set<String> = [
        "float32", "float", "float64", "double", "float16", "half", "bfloat16", "complex64", "complex128",
        "uint8", "int8", "int16", "short", "int32", "int", "int64", "long", "bool", "qint8", "quint8", "qint32",
        "float8_e4m3fn", "float8_e5m2", "uint16", "uint32", "uint64",
    ]

    /// The verdict for `module.name`: nil when allowlisted, else severity and reason.
    package static func classify(module: String, name: String) -> (Severity, String)? {
        let qualified = module + "." + name
        if criticalGlobals.contains(qualified) { return (.critical, "loads and executes nested serialized code") }
        if builtinModules.contains(module) {
            if dangerousBuiltins.contains(name) { return (.critical, "builtin that can execute code or reach objects") }
            if safeBuiltins.contains(name) { return nil }
            return (.medium, "builtin not in the allowlist")
        }
        if criticalModules.contains(where: { module == $0 || module.hasPrefix($0 + ".") }) {
            return (.critical, "module can execute commands, load code, or reach files or the network")
        }
        if highModules.contains(where: { module == $0 || module.hasPrefix($0 + ".") }) {
            return (.high, "gadget that can reach or compose dangerous calls")
        }
        if safeGlobals.contains(qualified) { return nil }
        if module == "torch", torchDtypes.contains(name) || name.hasSuffix("Storage") { return nil }
        if module == "torch.storage" || module == "torch.cuda", name.hasSuffix("Storage") { return nil }
        return (.medium, "not in the allowlist of tensor and container rebuilders")
    }

    // MARK: - Opcodes

    package enum Argument {
        case none
        case fixed(Int)
        /// Newline-terminated text; `count` lines.
        case lines(Int)
        /// A little-endian length of `width` bytes, then that many bytes.
        case counted(width: Int)
    }

    package enum Opcode: UInt8 {
        case mark = 0x28, stop = 0x2E, pop = 0x30, popMark = 0x31, dup = 0x32, float = 0x46, int = 0x49
        case binint = 0x4A, binint1 = 0x4B, long = 0x4C, binint2 = 0x4D, none = 0x4E, persid = 0x50
        case binpersid = 0x51, reduce = 0x52, string = 0x53, binstring = 0x54, shortBinstring = 0x55
        case unicode = 0x56, binunicode = 0x58, append = 0x61, build = 0x62, global = 0x63, dict = 0x64
        case emptyDict = 0x7D, appends = 0x65, get = 0x67, binget = 0x68, inst = 0x69, longBinget = 0x6A
        case list = 0x6C, emptyList = 0x5D, obj = 0x6F, put = 0x70, binput = 0x71, longBinput = 0x72
        case setitem = 0x73, tuple = 0x74, emptyTuple = 0x29, setitems = 0x75, binfloat = 0x47
        case proto = 0x80, newobj = 0x81, ext1 = 0x82, ext2 = 0x83, ext4 = 0x84, tuple1 = 0x85, tuple2 = 0x86
        case tuple3 = 0x87, newtrue = 0x88, newfalse = 0x89, long1 = 0x8A, long4 = 0x8B
        case binbytes = 0x42, shortBinbytes = 0x43
        case shortBinunicode = 0x8C, binunicode8 = 0x8D, binbytes8 = 0x8E, emptySet = 0x8F, additems = 0x90
        case frozenset = 0x91, newobjEx = 0x92, stackGlobal = 0x93, memoize = 0x94, frame = 0x95
        case bytearray8 = 0x96, nextBuffer = 0x97, readonlyBuffer = 0x98

        package var argument: Argument {
            switch self {
            case .float, .int, .long, .persid, .string, .unicode, .get, .put: .lines(1)
            case .global, .inst: .lines(2)
            case .binint, .longBinget, .longBinput: .fixed(4)
            case .binint1, .binget, .binput, .proto, .ext1: .fixed(1)
            case .binint2, .ext2: .fixed(2)
            case .ext4: .fixed(4)
            case .binfloat, .frame: .fixed(8)
            case .binstring, .binunicode, .binbytes, .long4: .counted(width: 4)
            case .shortBinstring, .shortBinbytes, .shortBinunicode, .long1: .counted(width: 1)
            case .binunicode8, .binbytes8, .bytearray8: .counted(width: 8)
            default: .none
            }
        }

        package var name: String {
            switch self {
            case .global: "GLOBAL"
            case .stackGlobal: "STACK_GLOBAL"
            case .inst: "INST"
            case .reduce: "REDUCE"
            case .obj: "OBJ"
            case .newobj: "NEWOBJ"
            case .newobjEx: "NEWOBJ_EX"
            case .build: "BUILD"
            default: String(describing: self).uppercased()
            }
        }
    }

    package enum Value: Equatable {
        case mark
        case string(String)
        /// Index into `imports` (all imports, including allowlisted ones).
        case global(Int)
        case other
    }

    package struct Walker<Bytes: RandomAccessCollection> where Bytes.Element == UInt8, Bytes.Index == Int {
        package let bytes: Bytes
        package var position = 0
        package var stack: [Value] = []
        package var memo: [Int: Value] = [:]
        package var allImports: [(PickleImport, flagged: Bool)] = []
        package var error: PickleScanError?
        package var protocolVersion = 0
        package var pickleCount = 0
        package static var longestTrackedString: Int { 4096 }

        package init(bytes: Bytes) { self.bytes = bytes }

        package var imports: [PickleImport] { allImports.filter { $0.flagged }.map { $0.0 } }

        package func byte(_ offset: Int) -> UInt8 { offset >= 0 && offset < bytes.count ? bytes[bytes.startIndex + offset] : 0 }

        package mutating func fail(_ detail: String, at offset: Int) {
            if error == nil { error = PickleScanError(offset: offset, detail: detail) }
        }

        package mutating func run() {
            if bytes.isEmpty {
                fail("empty pickle", at: 0)
                return
            }
            while position < bytes.count, error == nil {
                walkOne()
                if error != nil { return }
                pickleCount += 1
                // Another pickle may follow (legacy torch.save writes several); stop at anything else.
                if position < bytes.count, byte(position) != Opcode.proto.rawValue { return }
                stack.removeAll()
                memo.removeAll()
            }
        }

        /// Reads little-endian unsigned `width` bytes at `offset` as an Int (clamped). Signed lengths
        /// (BINSTRING, LONG4) read this way become huge and fail the bounds check, as they should.
        package func readInteger(at offset: Int, width: Int) -> Int {
            var value: UInt64 = 0
            for index in 0..<width { value |= UInt64(byte(offset + index)) << (8 * UInt64(index)) }
            return value > UInt64(Int.max) ? Int.max : Int(value)
        }

        package func text(_ range: Range<Int>) -> String {
            let lower = bytes.startIndex + range.lowerBound
            return String(decoding: bytes[lower..<(lower + range.count)], as: UTF8.self)
        }

        package mutating func pop(_ opcodeOffset: Int, _ name: String) -> Value? {
            guard let value = stack.popLast() else {
                fail("stack underflow in \(name)", at: opcodeOffset)
                return nil
            }
            return value
        }

        /// Pops to the topmost mark; returns the items above it (bottom first).
        package mutating func popMark(_ opcodeOffset: Int, _ name: String) -> [Value]? {
            guard let markIndex = stack.lastIndex(of: .mark) else {
                fail("\(name) without a MARK", at: opcodeOffset)
                return nil
            }
            let items = Array(stack[(markIndex + 1)...])
            stack.removeSubrange(markIndex...)
            return items
        }

        package mutating func recordImport(module: String, name: String, offset: Int, opcode: Opcode) -> Int {
            let verdict = classify(module: module, name: name)
            let item = PickleImport(module: module, name: name, offset: offset, opcode: opcode.name,
                                    severity: verdict?.0 ?? .info, reason: verdict?.1 ?? "allowlisted", invokedBy: [])
            allImports.append((item, verdict != nil))
            return allImports.count - 1
        }

        package mutating func noteInvocation(_ value: Value?, by opcode: Opcode, at offset: Int) {
            guard case let .global(index)? = value, index < allImports.count else { return }
            allImports[index].0.invokedBy.append("\(opcode.name)@\(offset)")
        }

        /// Walks one pickle up to and including its STOP.
        package mutating func walkOne() {
            while error == nil {
                let start = position
                guard position < bytes.count else {
                    fail("pickle ends without STOP (truncated)", at: position)
                    return
                }
                let code = byte(position)
                guard let opcode = Opcode(rawValue: code) else {
                    fail("unknown opcode 0x\(String(code, radix: 16))", at: position)
                    return
                }
                position += 1
                // Read the argument.
                var payload = 0..<0
                var lines: [Range<Int>] = []
                switch opcode.argument {
                case .none:
                    break
                case let .fixed(width):
                    guard bytes.count - position >= width else {
                        fail("\(opcode.name) argument truncated", at: start)
                        return
                    }
                    payload = position..<(position + width)
                    position += width
                case let .lines(count):
                    for _ in 0..<count {
                        var end = position
                        while end < bytes.count, byte(end) != 0x0A { end += 1 }
                        guard end < bytes.count else {
                            fail("\(opcode.name) argument has no newline (truncated)", at: start)
                            return
                        }
                        lines.append(position..<end)
                        position = end + 1
                    }
                case let .counted(width):
                    guard bytes.count - position >= width else {
                        fail("\(opcode.name) length truncated", at: start)
                        return
                    }
                    let length = readInteger(at: position, width: width)
                    position += width
                    guard length >= 0, length <= bytes.count - position else {
                        fail("\(opcode.name) declares \(length) bytes but only \(bytes.count - position) remain", at: start)
                        return
                    }
                    payload = position..<(position + length)
                    position += length
                }
                // Apply the stack effect.
                switch opcode {
                case .stop:
                    return
                case .proto:
                    let version = Int(byte(payload.lowerBound))
                    guard version <= 5 else {
                        fail("unsupported pickle protocol \(version)", at: start)
                        return
                    }
                    protocolVersion = Swift.max(protocolVersion, version)
                case .frame:
                    break
                case .mark:
                    stack.append(.mark)
                case .pop:
                    _ = pop(start, opcode.name)
                case .popMark:
                    _ = popMark(start, opcode.name)
                case .dup:
                    guard let top = stack.last else { fail("stack underflow in DUP", at: start); return }
                    stack.append(top)
                case .float, .int, .long, .binint, .binint1, .binint2, .none, .newtrue, .newfalse, .binfloat,
                     .long1, .long4, .binbytes, .shortBinbytes, .binbytes8, .bytearray8, .emptyDict, .emptyList,
                     .emptyTuple, .emptySet, .nextBuffer:
                    stack.append(.other)
                case .string:
                    var value = text(lines[0])
                    if value.count >= 2, let first = value.first, first == "'" || first == "\"", value.last == first {
                        value = String(value.dropFirst().dropLast())
                    }
                    stack.append(.string(value))
                case .unicode:
                    stack.append(.string(text(lines[0])))
                case .binstring, .shortBinstring, .binunicode, .shortBinunicode, .binunicode8:
                    stack.append(payload.count <= Self.longestTrackedString ? .string(text(payload)) : .other)
                case .persid:
                    stack.append(.other)
                case .binpersid, .readonlyBuffer:
                    guard pop(start, opcode.name) != nil else { return }
                    stack.append(.other)
                case .reduce, .newobj:
                    guard pop(start, opcode.name) != nil, let callable = pop(start, opcode.name) else { return }
                    noteInvocation(callable, by: opcode, at: start)
                    stack.append(.other)
                case .newobjEx:
                    guard pop(start, opcode.name) != nil, pop(start, opcode.name) != nil,
                          let callable = pop(start, opcode.name) else { return }
                    noteInvocation(callable, by: opcode, at: start)
                    stack.append(.other)
                case .build:
                    guard pop(start, opcode.name) != nil else { return }
                    guard let target = stack.last else { fail("stack underflow in BUILD", at: start); return }
                    noteInvocation(target, by: opcode, at: start)
                case .global:
                    let index = recordImport(module: text(lines[0]), name: text(lines[1]), offset: start, opcode: opcode)
                    stack.append(.global(index))
                case .inst:
                    guard popMark(start, opcode.name) != nil else { return }
                    let index = recordImport(module: text(lines[0]), name: text(lines[1]), offset: start, opcode: opcode)
                    noteInvocation(.global(index), by: opcode, at: start)
                    stack.append(.other)
                case .stackGlobal:
                    guard let nameValue = pop(start, opcode.name), let moduleValue = pop(start, opcode.name) else { return }
                    if case let .string(module) = moduleValue, case let .string(name) = nameValue {
                        stack.append(.global(recordImport(module: module, name: name, offset: start, opcode: opcode)))
                    } else {
                        let item = PickleImport(module: "?", name: "?", offset: start, opcode: opcode.name, severity: .high,
                                                reason: "STACK_GLOBAL operands are not literal strings (obfuscated import)",
                                                invokedBy: [])
                        allImports.append((item, true))
                        stack.append(.global(allImports.count - 1))
                    }
                case .obj:
                    guard let items = popMark(start, opcode.name) else { return }
                    guard let callable = items.first else { fail("OBJ without a class", at: start); return }
                    noteInvocation(callable, by: opcode, at: start)
                    stack.append(.other)
                case .append:
                    guard pop(start, opcode.name) != nil else { return }
                    guard !stack.isEmpty else { fail("stack underflow in APPEND", at: start); return }
                case .appends, .setitems, .additems:
                    guard popMark(start, opcode.name) != nil else { return }
                    guard !stack.isEmpty else { fail("stack underflow in \(opcode.name)", at: start); return }
                case .setitem:
                    guard pop(start, opcode.name) != nil, pop(start, opcode.name) != nil else { return }
                    guard !stack.isEmpty else { fail("stack underflow in SETITEM", at: start); return }
                case .dict, .list, .tuple, .frozenset:
                    guard popMark(start, opcode.name) != nil else { return }
                    stack.append(.other)
                case .tuple1, .tuple2, .tuple3:
                    let count = opcode == .tuple1 ? 1 : opcode == .tuple2 ? 2 : 3
                    for _ in 0..<count { guard pop(start, opcode.name) != nil else { return } }
                    stack.append(.other)
                case .get, .binget, .longBinget:
                    let key = opcode == .get ? Int(text(lines[0]).trimmingCharacters(in: .whitespaces)) ?? -1
                        : readInteger(at: payload.lowerBound, width: payload.count)
                    guard let value = memo[key] else { fail("memo key \(key) not found in \(opcode.name)", at: start); return }
                    stack.append(value)
                case .put, .binput, .longBinput:
                    let key = opcode == .put ? Int(text(lines[0]).trimmingCharacters(in: .whitespaces)) ?? -1
                        : readInteger(at: payload.lowerBound, width: payload.count)
                    guard let top = stack.last, top != .mark else { fail("stack underflow in \(opcode.name)", at: start); return }
                    guard key >= 0 else { fail("negative memo key in \(opcode.name)", at: start); return }
                    memo[key] = top
                case .memoize:
                    guard let top = stack.last, top != .mark else { fail("stack underflow in MEMOIZE", at: start); return }
                    memo[memo.count] = top
                case .ext1, .ext2, .ext4:
                    let code = readInteger(at: payload.lowerBound, width: payload.count)
                    let item = PickleImport(module: "copyreg.extension", name: String(code), offset: start,
                                            opcode: opcode.name, severity: .medium,
                                            reason: "extension registry code; the global it names cannot be resolved offline",
                                            invokedBy: [])
                    allImports.append((item, true))
                    stack.append(.global(allImports.count - 1))
                }
            }
        }
    }
}

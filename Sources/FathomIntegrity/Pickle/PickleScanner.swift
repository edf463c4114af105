import FathomStore
import FathomSupport

/// A global (`module.name`) that a pickle imports, with what the policy thinks of it.
public struct PickleImport: Codable, Sendable, Equatable {
    /// The module and name as the pickle writes them (escapes decoded).
    public var module: String
    public var name: String
    /// Offset of the importing opcode (`GLOBAL`, `STACK_GLOBAL`, `INST`, `EXT1`…) from the start of
    /// the decoded stream the pickle is in.
    public var offset: Int
    public var opcode: String
    public var severity: Severity
    /// Why it is flagged: `runs commands…`, `unknown import…`, `allowlisted`.
    public var reason: String
    /// Opcodes that call or build with the imported object, as `REDUCE@123`.
    public var invokedBy: [String]
    /// What Python 3 imports instead, for Python 2 names in protocol 0–2 pickles
    /// (`__builtin__.xrange` → `builtins.range`); nil when the name is imported as written.
    public var importedAs: String?
    /// The policy rule that decided (`os:*`, `torch._utils:_rebuild_*`, `unknown`).
    public var rule: String
    /// Which pickle of the stream (0 for the first; a file may hold several back to back).
    public var pickleIndex: Int

    public var qualifiedName: String { module + "." + name }
}

/// Where and why a pickle could not be walked to its end.
public struct PickleScanError: Error, Codable, Sendable, Equatable, CustomStringConvertible {
    public var offset: Int
    public var detail: String
    public var description: String { "\(detail) at byte \(offset)" }
}

/// The result of walking the pickles of one stream.
public struct PickleScanResult: Sendable, Equatable {
    /// Imports that are not allowlisted (safe ones are not reported), in stream order.
    public var imports: [PickleImport]
    /// Set when a pickle is malformed; the imports found before it are still reported.
    public var error: PickleScanError?
    /// Highest protocol announced by a `PROTO` opcode.
    public var protocolVersion: Int
    /// How many pickles were walked (a file may hold several back to back).
    public var pickleCount: Int
    /// Whether the stream held a pickle at all (always true for a strict walk).
    public var isPickle: Bool
    /// joblib arrays whose bytes follow their wrapper in the stream, skipped without reading.
    public var inlineArrays: Int
    /// Offset where bytes that are not a pickle begin after the last pickle (legacy `torch.save`
    /// storages, padding), or nil when the pickles end the stream.
    public var trailingDataOffset: Int?
    /// Damage the stream reported (CRC mismatch, corrupt compressed data).
    public var damage: [StreamDamage]
}

/// Walks pickle opcode streams (protocols 0–5) without executing them, the way CPython's
/// `pickle.Unpickler` reads them, and reports the globals they import as ``PicklePolicy`` judges
/// them.
///
/// Read like CPython:
/// - protocol 0 arguments: memo keys through `int()` (`1_0`, ` 1\r`), `STRING` through
///   `codecs.escape_decode`, `UNICODE` through `raw-unicode-escape` (`\u006fs` is `os`), so names
///   are matched after decoding; Python 2 names mapped as `fix_imports` does for protocols 0–2;
/// - `STACK_GLOBAL` operands resolved through string opcodes, `DUP` and the memo; operands that
///   are not literal strings are reported as an obfuscated import (high);
/// - several pickles back to back, of any protocol: after each `STOP` the walk goes on when what
///   follows walks as a pickle (to a `STOP`, or to an invoked import), and otherwise stops there,
///   the rest being data (legacy `torch.save` storages);
/// - joblib's in-line arrays: the bytes after a `NumpyArrayWrapper`'s `BUILD` are the array,
///   skipped by its shape and dtype, or for object arrays a nested pickle, walked.
///
/// A *strict* walk (the stream is known to be a pickle: a `PROTO` header, a `.pkl` name, a `data.pkl`
/// member, an object `.npy`) reports a malformed pickle as an error; a *speculative* walk (any other
/// content) accepts the stream as a pickle only when it walks to a `STOP` or to an invoked import.
/// Unknown opcodes, truncation, stack underflow and missing memo keys end the walk with an error;
/// they never trap. Memory is bounded: the stack and memo are capped (a pickle bomb is refused) and
/// byte payloads are skipped, not read.
///
/// - Complexity: O(n) in the stream length; memory O(stack + tracked memo), both capped.
public enum PickleScanner {
    /// The policy compiled into Fathom (see ``PicklePolicy/builtIn()``).
    public static let defaultPolicy: PicklePolicy = (try? PicklePolicy.builtIn()) ?? PicklePolicy()

    /// Walks the pickles in `bytes` strictly, with the built-in policy.
    public static func scan<Bytes: Collection>(_ bytes: Bytes, policy: PicklePolicy = defaultPolicy) -> PickleScanResult
    where Bytes.Element == UInt8 {
        scan(PickleInput(OwnedBytesStream(copying: bytes)), policy: policy, isStrict: true)
    }

    /// Walks the pickles of `input` from its current position.
    package static func scan(_ input: PickleInput, policy: PicklePolicy, isStrict: Bool) -> PickleScanResult {
        let walker = PickleWalker(input: input, policy: policy)
        walker.run(isStrict: isStrict)
        return walker.result
    }

    /// Whether `bytes` starts like a binary pickle: `PROTO n` with 2 ≤ n ≤ 5 and a valid next opcode.
    public static func looksLikePickle<Bytes: Collection>(_ bytes: Bytes) -> Bool where Bytes.Element == UInt8 {
        let head = Array(bytes.prefix(3))
        return head.count == 3 && head[0] == 0x80 && (2...5).contains(head[1]) && PickleOpcode(rawValue: head[2]) != nil
    }
}

/// The opcodes of pickle protocols 0–5 (CPython `Lib/pickletools.py`).
package enum PickleOpcode: UInt8 {
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

    /// The name `pickletools` gives the opcode: `SHORT_BINUNICODE`, `STACK_GLOBAL`, `EXT1`.
    package var name: String {
        var out = ""
        for character in String(describing: self) {
            if character.isUppercase { out.append("_") }
            out += character.uppercased()
        }
        return out
    }
}

/// A set of integers kept as sorted disjoint ranges: the memo keys whose values are not tracked
/// (sequential keys, the common case, take one range).
package struct IntRangeSet {
    private var ranges: [Range<Int>] = []
    package private(set) var count = 0

    package var isEmpty: Bool { ranges.isEmpty }

    package func contains(_ value: Int) -> Bool {
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound <= value { low = mid + 1 } else { high = mid }
        }
        return low < ranges.count && ranges[low].contains(value)
    }

    /// Inserts `value`; returns false when it was there.
    @discardableResult
    package mutating func insert(_ value: Int) -> Bool {
        if let last = ranges.last, last.upperBound == value, value < Int.max {
            ranges[ranges.count - 1] = last.lowerBound..<(value + 1)
            count += 1
            return true
        }
        var low = 0, high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].upperBound < value { low = mid + 1 } else { high = mid }
        }
        if low < ranges.count, ranges[low].contains(value) { return false }
        guard value < Int.max else { return false }
        var range = value..<(value + 1)
        var removeEnd = low
        if low < ranges.count, ranges[low].lowerBound == value + 1 {
            range = value..<ranges[low].upperBound
            removeEnd = low + 1
        }
        if low > 0, ranges[low - 1].upperBound == value {
            range = ranges[low - 1].lowerBound..<range.upperBound
            ranges.replaceSubrange((low - 1)..<removeEnd, with: [range])
        } else {
            ranges.replaceSubrange(low..<removeEnd, with: [range])
        }
        count += 1
        return true
    }

    package mutating func remove(_ value: Int) {
        guard let index = ranges.firstIndex(where: { $0.contains(value) }) else { return }
        let range = ranges[index]
        var pieces: [Range<Int>] = []
        if range.lowerBound < value { pieces.append(range.lowerBound..<value) }
        if value + 1 < range.upperBound { pieces.append((value + 1)..<range.upperBound) }
        ranges.replaceSubrange(index...index, with: pieces)
        count -= 1
    }
}

/// The memo of one pickle: the values of keys 0, 1, 2… (what `MEMOIZE` and sequential `PUT`s
/// assign) in an array, other keys in a dictionary, and keys past ``mostTracked`` only as
/// "defined" (their values read back as unknown), so memory stays bounded whatever the pickle.
package struct PickleMemo {
    package init() {}

    package static let mostTracked = 1 << 19
    /// Keys put out of order (rare: hand-written pickles) are tracked up to this many.
    package static let mostSparse = 1 << 16
    private var dense: [PickleWalker.Value] = []
    private var sparse: [Int: PickleWalker.Value] = [:]
    private var untracked = IntRangeSet()
    /// Memo keys too large for an Int, by their decimal text.
    package var bigKeys: [String: Int] = [:]

    /// How many keys are defined (the key `MEMOIZE` assigns next).
    package var count: Int { dense.count + sparse.count + untracked.count }

    package func value(_ key: Int) -> PickleWalker.Value? {
        if key >= 0, key < dense.count { return dense[key] }
        if let found = sparse[key] { return found }
        return untracked.contains(key) ? .other : nil
    }

    package mutating func set(_ key: Int, _ value: PickleWalker.Value) {
        if key >= 0, key < dense.count {
            dense[key] = value
            return
        }
        if !untracked.isEmpty { untracked.remove(key) }
        if key == dense.count, dense.count < Self.mostTracked {
            dense.append(value)
            guard !sparse.isEmpty else { return }
            sparse[key] = nil
            // Keys put out of order earlier may now continue the array.
            while let next = sparse.removeValue(forKey: dense.count) { dense.append(next) }
            return
        }
        // Out of order before the cap: kept aside; anything past the cap: defined, not tracked.
        if dense.count < Self.mostTracked, sparse.count < Self.mostSparse || sparse[key] != nil {
            sparse[key] = value
        } else {
            sparse[key] = nil
            untracked.insert(key)
        }
    }
}

/// The state of one walk: the simulated stack and memo, the imports found, the error.
package final class PickleWalker {
    /// What the walker knows of a stack or memo value.
    package indirect enum Value: Equatable {
        case mark
        case string(String)
        case int(Int)
        /// Index into `imports` (all imports, allowlisted ones included).
        case global(Int)
        case tuple([Value])
        /// A dictionary's string-keyed entries (the first few only).
        case dict([String: Value])
        /// The result of calling `imports[index]` with `args`, then `BUILD` with `state`.
        case instance(Int, args: [Value], state: Value?)
        case other
    }

    package static let longestTrackedString = 4096
    package static let deepestStack = 1 << 20
    package static let mostTrackedEntries = 32

    package let input: PickleInput
    package let policy: PicklePolicy
    package var stack: [Value] = []
    package var memo = PickleMemo()
    package var allImports: [(item: PickleImport, flagged: Bool)] = []
    package var error: PickleScanError?
    package var protocolVersion = 0
    /// The protocol of the pickle being walked (0 until its PROTO): `fix_imports` applies below 3.
    package var currentProtocol = 0
    package var pickleCount = 0
    package var isPickle = true
    package var inlineArrays = 0
    package var trailingDataOffset: Int?

    package init(input: PickleInput, policy: PicklePolicy) {
        self.input = input
        self.policy = policy
    }

    package var result: PickleScanResult {
        PickleScanResult(imports: allImports.filter(\.flagged).map(\.item), error: error, protocolVersion: protocolVersion,
                         pickleCount: pickleCount, isPickle: isPickle, inlineArrays: inlineArrays,
                         trailingDataOffset: trailingDataOffset, damage: input.damage)
    }

    package func fail(_ detail: String, at offset: Int) {
        if error == nil { error = PickleScanError(offset: offset, detail: detail) }
    }

    /// Walks the first pickle (strictly or speculatively), then every pickle that follows.
    package func run(isStrict: Bool) {
        if input.isAtEnd {
            if isStrict { fail("empty pickle", at: 0) } else { isPickle = false }
            if let failure = input.failure { fail("unreadable: \(failure.description)", at: input.position) }
            return
        }
        var strict = isStrict
        while true {
            let start = input.position
            let importsBefore = allImports.count
            stack.removeAll()
            memo = PickleMemo()
            currentProtocol = 0
            let reachedStop = walkOne()
            if !strict {
                // Bytes that are not a pickle: a walk that fails before calling an import, or that
                // imports what CPython could not import (random bytes between two newlines).
                let found = allImports[importsBefore...]
                let isInvoked = found.contains { !$0.item.invokedBy.isEmpty && Self.isImportable($0.item) }
                let isImportable = found.allSatisfy { $0.item.rule == "unresolved" || Self.isImportable($0.item) }
                if !(reachedStop ? isImportable : isInvoked) {
                    // Not a pickle: drop what the attempt found; the bytes from `start` are data.
                    allImports.removeSubrange(importsBefore...)
                    error = nil
                    if pickleCount == 0 { isPickle = false } else { trailingDataOffset = start }
                    return
                }
            }
            pickleCount += 1
            if error != nil { return }
            if let failure = input.failure {
                fail("unreadable: \(failure.description)", at: input.position)
                return
            }
            if input.isAtEnd { return }
            strict = false
        }
    }

    /// Whether CPython could import the global: identifiers separated by dots.
    package static func isImportable(_ item: PickleImport) -> Bool {
        func isDotted(_ text: String) -> Bool {
            !text.isEmpty && text.split(separator: ".", omittingEmptySubsequences: false).allSatisfy { part in
                guard let first = part.unicodeScalars.first, first == "_" || first.properties.isXIDStart else { return false }
                return part.unicodeScalars.allSatisfy { $0 == "_" || $0.properties.isXIDContinue }
            }
        }
        if item.opcode.hasPrefix("EXT") { return true }
        return isDotted(item.module) && isDotted(item.name)
    }

    // MARK: - Stack

    package func push(_ value: Value, at offset: Int) -> Bool {
        guard stack.count < Self.deepestStack else {
            fail("refused: the stack grows past \(Self.deepestStack) items (a pickle bomb?)", at: offset)
            return false
        }
        stack.append(value)
        return true
    }

    package func pop(_ offset: Int, _ opcode: PickleOpcode) -> Value? {
        guard let value = stack.popLast(), value != .mark else {
            fail("stack underflow in \(opcode.name)", at: offset)
            return nil
        }
        return value
    }

    /// Pops to the topmost mark; returns the items above it (bottom first).
    package func popMark(_ offset: Int, _ opcode: PickleOpcode) -> [Value]? {
        guard let markIndex = stack.lastIndex(of: .mark) else {
            fail("\(opcode.name) without a MARK", at: offset)
            return nil
        }
        let items = Array(stack[(markIndex + 1)...])
        stack.removeSubrange(markIndex...)
        return items
    }

    /// A value fit to keep inside a tracked container: containers nested deeper than `depth`, or
    /// too large, become `.other`.
    package static func kept(_ value: Value, depth: Int = 2) -> Value {
        switch value {
        case let .tuple(items):
            guard depth > 0, items.count <= 16 else { return .other }
            return .tuple(items.map { kept($0, depth: depth - 1) })
        case let .dict(entries):
            guard depth > 0 else { return .other }
            return .dict(entries.mapValues { kept($0, depth: depth - 1) })
        case let .instance(index, args, state):
            guard depth > 0 else { return .other }
            return .instance(index, args: args.map { kept($0, depth: depth - 1) }, state: state.map { kept($0, depth: depth - 1) })
        case let .string(text) where text.utf8.count > 256:
            return .other
        default:
            return value
        }
    }

    // MARK: - Memo

    /// CPython's `int()` of a protocol 0 argument, base 10 (memo keys): surrounding whitespace,
    /// a sign, and single underscores between digits are accepted. Returns the value and its
    /// canonical decimal text (for keys beyond Int).
    package static func pythonInteger(_ bytes: [UInt8]) -> (value: Int?, text: String)? {
        let spaces: Set<UInt8> = [0x20, 0x09, 0x0A, 0x0B, 0x0C, 0x0D]
        var lower = 0, upper = bytes.count
        while lower < upper, spaces.contains(bytes[lower]) { lower += 1 }
        while upper > lower, spaces.contains(bytes[upper - 1]) { upper -= 1 }
        guard lower < upper else { return nil }
        var isNegative = false
        if bytes[lower] == UInt8(ascii: "+") || bytes[lower] == UInt8(ascii: "-") {
            isNegative = bytes[lower] == UInt8(ascii: "-")
            lower += 1
        }
        var digits: [UInt8] = []
        var previousWasDigit = false
        for index in lower..<upper {
            let byte = bytes[index]
            if (0x30...0x39).contains(byte) {
                digits.append(byte)
                previousWasDigit = true
            } else if byte == UInt8(ascii: "_"), previousWasDigit, index + 1 < upper, (0x30...0x39).contains(bytes[index + 1]) {
                previousWasDigit = false
            } else {
                return nil
            }
        }
        guard !digits.isEmpty else { return nil }
        while digits.count > 1, digits.first == 0x30 { digits.removeFirst() }
        let text = (isNegative && digits != [0x30] ? "-" : "") + String(decoding: digits, as: UTF8.self)
        return (Int(text), text)
    }

    /// The key CPython would use for a protocol 0 memo argument, or nil (after failing the walk)
    /// when `int()` rejects it.
    package func memoKey(line: [UInt8], at offset: Int, _ opcode: PickleOpcode) -> Int? {
        guard let parsed = Self.pythonInteger(line) else {
            fail("\(opcode.name) argument '\(Self.printable(line))' is not an integer", at: offset)
            return nil
        }
        if let value = parsed.value { return value }
        if parsed.text.hasPrefix("-") { return -1 }
        if let known = memo.bigKeys[parsed.text] { return known }
        let key = Int.max - 1 - memo.bigKeys.count
        memo.bigKeys[parsed.text] = key
        return key
    }

    package func memoGet(_ key: Int, at offset: Int, _ opcode: PickleOpcode) -> Value? {
        if let value = memo.value(key) { return value }
        fail("memo key \(key) not found in \(opcode.name)", at: offset)
        return nil
    }

    package func memoPut(_ key: Int, _ value: Value) {
        memo.set(key, Self.kept(value))
    }

    package var memoCount: Int { memo.count }

    // MARK: - Text

    /// `codecs.escape_decode`, as the `STRING` opcode applies it to its quoted argument.
    package static func escapeDecode(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            guard byte == UInt8(ascii: "\\"), index + 1 < bytes.count else {
                out.append(byte)
                index += 1
                continue
            }
            let next = bytes[index + 1]
            index += 2
            switch next {
            case UInt8(ascii: "\\"), UInt8(ascii: "'"), UInt8(ascii: "\""): out.append(next)
            case UInt8(ascii: "a"): out.append(7)
            case UInt8(ascii: "b"): out.append(8)
            case UInt8(ascii: "f"): out.append(12)
            case UInt8(ascii: "n"): out.append(10)
            case UInt8(ascii: "r"): out.append(13)
            case UInt8(ascii: "t"): out.append(9)
            case UInt8(ascii: "v"): out.append(11)
            case 0x0A: break
            case 0x30...0x37:
                var value = Int(next - 0x30)
                var digits = 1
                while digits < 3, index < bytes.count, (0x30...0x37).contains(bytes[index]) {
                    value = value * 8 + Int(bytes[index] - 0x30)
                    index += 1
                    digits += 1
                }
                out.append(UInt8(truncatingIfNeeded: value))
            case UInt8(ascii: "x"):
                if index + 1 < bytes.count, let high = hex(bytes[index]), let low = hex(bytes[index + 1]) {
                    out.append(high << 4 | low)
                    index += 2
                } else {
                    out += [UInt8(ascii: "\\"), next]
                }
            default:
                out += [UInt8(ascii: "\\"), next]
            }
        }
        return out
    }

    /// Bytes as Latin-1 text (how pickle's `encoding='latin1'` and the names of Python 2 pickles read).
    package static func latin1(_ bytes: [UInt8]) -> String {
        var text = String.UnicodeScalarView()
        for byte in bytes { text.append(Unicode.Scalar(byte)) }
        return String(text)
    }

    /// Python's `raw-unicode-escape` codec, as the `UNICODE` opcode decodes its argument: bytes
    /// are Latin-1, and `\uXXXX` / `\UXXXXXXXX` after an odd run of backslashes are escapes.
    package static func rawUnicodeEscapeDecode(_ bytes: [UInt8]) -> String {
        var text = String.UnicodeScalarView()
        var index = 0
        while index < bytes.count {
            guard bytes[index] == UInt8(ascii: "\\") else {
                text.append(Unicode.Scalar(bytes[index]))
                index += 1
                continue
            }
            var run = 0
            while index < bytes.count, bytes[index] == UInt8(ascii: "\\") {
                run += 1
                index += 1
            }
            let isEscape = run % 2 == 1 && index < bytes.count && (bytes[index] == UInt8(ascii: "u") || bytes[index] == UInt8(ascii: "U"))
            for _ in 0..<(isEscape ? run - 1 : run) { text.append("\\") }
            guard isEscape else { continue }
            let width = bytes[index] == UInt8(ascii: "u") ? 4 : 8
            let digits = bytes[(index + 1)...].prefix(width)
            if digits.count == width, let value = UInt32(String(decoding: digits, as: UTF8.self), radix: 16),
               let scalar = Unicode.Scalar(value) {
                text.append(scalar)
                index += 1 + width
            } else {
                // CPython fails here ("truncated \uXXXX escape"); keep the text as written.
                text.append("\\")
            }
        }
        return String(text)
    }

    /// Text for error details: printable ASCII kept, the rest escaped, at most 40 bytes.
    package static func printable(_ bytes: [UInt8]) -> String {
        var out = ""
        for byte in bytes.prefix(40) {
            if (0x20...0x7E).contains(byte), byte != UInt8(ascii: "\\") { out.append(Character(Unicode.Scalar(byte))) }
            else { out += "\\x" + String(byte, radix: 16).leftPadded(to: 2) }
        }
        return bytes.count > 40 ? out + "…" : out
    }

    // MARK: - Imports

    package func recordImport(module: String, name: String, offset: Int, opcode: PickleOpcode) -> Int {
        var judged = (module, name)
        var importedAs: String?
        if currentProtocol < 3, let mapped = policy.python3Name(module: module, name: name) {
            judged = mapped
            importedAs = mapped.module + "." + mapped.name
        }
        let judgement = policy.judge(module: judged.0, name: judged.1)
        let item = PickleImport(module: module, name: name, offset: offset, opcode: opcode.name,
                                severity: judgement.verdict.severity ?? .info,
                                reason: judgement.verdict == .safe ? "allowlisted" : judgement.reason, invokedBy: [],
                                importedAs: importedAs, rule: judgement.rule, pickleIndex: pickleCount)
        allImports.append((item, judgement.verdict != .safe))
        return allImports.count - 1
    }

    package func recordUnresolved(opcode: PickleOpcode, offset: Int, module: String, name: String, reason: String,
                                  severity: Severity) -> Int {
        let item = PickleImport(module: module, name: name, offset: offset, opcode: opcode.name, severity: severity,
                                reason: reason, invokedBy: [], importedAs: nil, rule: "unresolved", pickleIndex: pickleCount)
        allImports.append((item, true))
        return allImports.count - 1
    }

    package func noteInvocation(_ value: Value?, by opcode: PickleOpcode, at offset: Int) {
        let index: Int
        switch value {
        case let .global(found)?: index = found
        case let .instance(found, _, _)? where opcode != .build: index = found
        default: return
        }
        guard index < allImports.count, allImports[index].item.invokedBy.count < 16 else { return }
        allImports[index].item.invokedBy.append("\(opcode.name)@\(offset)")
    }

    package func qualifiedName(of index: Int) -> String {
        guard index < allImports.count else { return "" }
        let item = allImports[index].item
        return item.importedAs ?? item.qualifiedName
    }

    // MARK: - The walk

    /// Reads an argument of `count` bytes as a little-endian unsigned integer (clamped to Int.max,
    /// so hostile lengths fail the bounds checks). Nil when the input ends first.
    package func littleEndian(_ count: Int) -> Int? {
        guard let bytes = input.bytes(count) else { return nil }
        var value: UInt64 = 0
        for (index, byte) in bytes.enumerated() { value |= UInt64(byte) << (8 * UInt64(index)) }
        return value > UInt64(Int.max) ? Int.max : Int(value)
    }

    /// Walks one pickle up to and including its STOP. Returns whether STOP was reached.
    package func walkOne() -> Bool {
        while error == nil {
            let start = input.position
            guard let code = input.byte() else {
                fail("pickle ends without STOP (truncated)", at: start)
                return false
            }
            guard let opcode = PickleOpcode(rawValue: code) else {
                fail("unknown opcode 0x\(String(code, radix: 16).leftPadded(to: 2))", at: start)
                return false
            }
            if opcode == .stop {
                // CPython returns the top of the stack; an empty stack is an error.
                guard let top = stack.last, top != .mark else { fail("STOP with an empty stack", at: start); return false }
                return true
            }
            guard step(opcode, at: start) else { return false }
        }
        return false
    }

    /// Applies one opcode. False when the walk must end (the error is set).
    package func step(_ opcode: PickleOpcode, at start: Int) -> Bool {
        func truncated() -> Bool {
            fail("\(opcode.name) argument truncated", at: start)
            return false
        }
        func line() -> [UInt8]? {
            guard let read = input.line(keeping: Self.longestTrackedString) else {
                fail("\(opcode.name) argument has no newline (truncated)", at: start)
                return nil
            }
            return read.length > Self.longestTrackedString ? nil : read.bytes
        }
        /// Reads a counted payload, keeping it when short.
        func counted(width: Int) -> [UInt8]?? {
            guard let length = littleEndian(width) else {
                fail("\(opcode.name) length truncated", at: start)
                return nil
            }
            if opcode == .binstring || opcode == .long4, length > Int(Int32.max) {
                fail("\(opcode.name) has a negative length", at: start)
                return nil
            }
            guard let kept = input.take(length, keeping: Self.longestTrackedString + 1) else {
                fail("\(opcode.name) declares \(length) bytes past the end of the input", at: start)
                return nil
            }
            return .some(length <= Self.longestTrackedString ? kept : nil)
        }

        switch opcode {
        case .stop:
            return true
        case .proto:
            guard let version = input.byte() else { return truncated() }
            guard version <= 5 else {
                fail("unsupported pickle protocol \(version)", at: start)
                return false
            }
            protocolVersion = Swift.max(protocolVersion, Int(version))
            currentProtocol = Int(version)
        case .frame:
            guard littleEndian(8) != nil else { return truncated() }
        case .mark:
            return push(.mark, at: start)
        case .pop:
            // POP of a mark is allowed by CPython (it pops the mark).
            guard !stack.isEmpty else { fail("stack underflow in POP", at: start); return false }
            stack.removeLast()
        case .popMark:
            guard popMark(start, opcode) != nil else { return false }
        case .dup:
            guard let top = stack.last, top != .mark else { fail("stack underflow in DUP", at: start); return false }
            return push(top, at: start)
        case .int:
            guard let text = input.line(keeping: 64) else { return truncated() }
            let value = text.length <= 64 ? Self.pythonInteger(text.bytes.filter { $0 != UInt8(ascii: "L") })?.value : nil
            return push(value.map(Value.int) ?? .other, at: start)
        case .long, .float:
            guard input.line(keeping: 0) != nil else { return truncated() }
            return push(.other, at: start)
        case .binint:
            guard let raw = littleEndian(4) else { return truncated() }
            return push(.int(Int(Int32(truncatingIfNeeded: raw))), at: start)
        case .binint1:
            guard let raw = input.byte() else { return truncated() }
            return push(.int(Int(raw)), at: start)
        case .binint2:
            guard let raw = littleEndian(2) else { return truncated() }
            return push(.int(raw), at: start)
        case .binfloat:
            guard input.skip(8) == 8 else { return truncated() }
            return push(.other, at: start)
        case .long1, .long4:
            guard counted(width: opcode == .long1 ? 1 : 4) != nil else { return false }
            return push(.other, at: start)
        case .none, .newtrue, .newfalse, .emptyList, .emptySet, .nextBuffer:
            return push(.other, at: start)
        case .emptyTuple:
            return push(.tuple([]), at: start)
        case .emptyDict:
            return push(.dict([:]), at: start)
        case .binbytes, .shortBinbytes, .binbytes8, .bytearray8:
            let width = opcode == .shortBinbytes ? 1 : opcode == .binbytes ? 4 : 8
            guard counted(width: width) != nil else { return false }
            return push(.other, at: start)
        case .string:
            guard let read = input.line(keeping: Self.longestTrackedString + 2) else { return truncated() }
            var body = read.bytes
            if body.count >= 2, let first = body.first, first == body.last, first == UInt8(ascii: "'") || first == UInt8(ascii: "\"") {
                body = Array(body.dropFirst().dropLast())
            }
            let isShort = read.length <= Self.longestTrackedString + 2
            return push(isShort ? .string(Self.latin1(Self.escapeDecode(body))) : .other, at: start)
        case .unicode:
            guard let read = input.line(keeping: Self.longestTrackedString) else { return truncated() }
            return push(read.length <= Self.longestTrackedString ? .string(Self.rawUnicodeEscapeDecode(read.bytes)) : .other, at: start)
        case .binstring, .shortBinstring:
            guard let payload = counted(width: opcode == .shortBinstring ? 1 : 4) else { return false }
            return push(payload.map { .string(Self.latin1($0)) } ?? .other, at: start)
        case .binunicode, .shortBinunicode, .binunicode8:
            let width = opcode == .shortBinunicode ? 1 : opcode == .binunicode ? 4 : 8
            guard let payload = counted(width: width) else { return false }
            return push(payload.map { .string(String(decoding: $0, as: UTF8.self)) } ?? .other, at: start)
        case .persid:
            guard input.line(keeping: 0) != nil else { return truncated() }
            return push(.other, at: start)
        case .binpersid, .readonlyBuffer:
            guard pop(start, opcode) != nil else { return false }
            return push(.other, at: start)
        case .reduce, .newobj:
            guard let args = pop(start, opcode), let callable = pop(start, opcode) else { return false }
            noteInvocation(callable, by: opcode, at: start)
            if case let .global(index) = callable {
                let items: [Value] = if case let .tuple(items) = args { items } else { [] }
                return push(.instance(index, args: items.map { Self.kept($0) }, state: nil), at: start)
            }
            return push(.other, at: start)
        case .newobjEx:
            guard pop(start, opcode) != nil, pop(start, opcode) != nil, let callable = pop(start, opcode) else { return false }
            noteInvocation(callable, by: opcode, at: start)
            if case let .global(index) = callable { return push(.instance(index, args: [], state: nil), at: start) }
            return push(.other, at: start)
        case .build:
            guard let state = pop(start, opcode) else { return false }
            guard let target = stack.last, target != .mark else { fail("stack underflow in BUILD", at: start); return false }
            noteInvocation(target, by: opcode, at: start)
            if case let .instance(index, args, _) = target {
                let built = Value.instance(index, args: args, state: Self.kept(state))
                stack[stack.count - 1] = built
                if isJoblibWrapper(built) {
                    return skipJoblibArray(state: state, at: start)
                }
            }
        case .global, .inst:
            guard let moduleLine = input.line(keeping: Self.longestTrackedString),
                  let nameLine = input.line(keeping: Self.longestTrackedString) else { return truncated() }
            // GLOBAL decodes its lines as UTF-8, INST as ASCII; neither applies escapes.
            let module = String(decoding: moduleLine.bytes, as: UTF8.self)
            let name = String(decoding: nameLine.bytes, as: UTF8.self)
            if opcode == .inst {
                guard let args = popMark(start, opcode) else { return false }
                let index = recordImport(module: module, name: name, offset: start, opcode: opcode)
                noteInvocation(.global(index), by: opcode, at: start)
                return push(.instance(index, args: args.prefix(16).map { Self.kept($0) }, state: nil), at: start)
            }
            return push(.global(recordImport(module: module, name: name, offset: start, opcode: opcode)), at: start)
        case .stackGlobal:
            guard let nameValue = pop(start, opcode), let moduleValue = pop(start, opcode) else { return false }
            if case let .string(module) = moduleValue, case let .string(name) = nameValue {
                return push(.global(recordImport(module: module, name: name, offset: start, opcode: opcode)), at: start)
            }
            let index = recordUnresolved(opcode: opcode, offset: start, module: "?", name: "?",
                                         reason: "STACK_GLOBAL operands are not literal strings (obfuscated import)", severity: .high)
            return push(.global(index), at: start)
        case .obj:
            guard let items = popMark(start, opcode) else { return false }
            guard let callable = items.first else { fail("OBJ without a class", at: start); return false }
            noteInvocation(callable, by: opcode, at: start)
            if case let .global(index) = callable {
                return push(.instance(index, args: items.dropFirst().prefix(16).map { Self.kept($0) }, state: nil), at: start)
            }
            return push(.other, at: start)
        case .append:
            guard pop(start, opcode) != nil else { return false }
            guard let target = stack.last, target != .mark else { fail("stack underflow in APPEND", at: start); return false }
        case .appends, .additems:
            guard popMark(start, opcode) != nil else { return false }
            guard let target = stack.last, target != .mark else { fail("stack underflow in \(opcode.name)", at: start); return false }
        case .setitems, .setitem:
            let items: [Value]
            if opcode == .setitem {
                guard let value = pop(start, opcode), let key = pop(start, opcode) else { return false }
                items = [key, value]
            } else {
                guard let marked = popMark(start, opcode) else { return false }
                items = marked
            }
            guard let target = stack.last, target != .mark else { fail("stack underflow in \(opcode.name)", at: start); return false }
            // Entries are tracked only for the state of a joblib array wrapper (the instance below
            // the dict, which BUILD will give it to): no other dict is ever read back.
            if case let .dict(entries) = target, stack.count >= 2, isJoblibWrapper(stack[stack.count - 2]) {
                stack[stack.count - 1] = .other
                var entries = entries
                var index = 0
                while index + 1 < items.count, entries.count < Self.mostTrackedEntries {
                    if case let .string(key) = items[index], key.utf8.count <= 64 { entries[key] = Self.kept(items[index + 1]) }
                    index += 2
                }
                stack[stack.count - 1] = .dict(entries)
            }
        case .dict:
            guard let items = popMark(start, opcode) else { return false }
            guard let below = stack.last, isJoblibWrapper(below) else { return push(.dict([:]), at: start) }
            var entries: [String: Value] = [:]
            var index = 0
            while index + 1 < items.count, entries.count < Self.mostTrackedEntries {
                if case let .string(key) = items[index], key.utf8.count <= 64 { entries[key] = Self.kept(items[index + 1]) }
                index += 2
            }
            return push(.dict(entries), at: start)
        case .list, .frozenset:
            guard popMark(start, opcode) != nil else { return false }
            return push(.other, at: start)
        case .tuple:
            guard let items = popMark(start, opcode) else { return false }
            return push(items.count <= 16 ? .tuple(items.map { Self.kept($0) }) : .other, at: start)
        case .tuple1, .tuple2, .tuple3:
            let count = opcode == .tuple1 ? 1 : opcode == .tuple2 ? 2 : 3
            var items: [Value] = []
            for _ in 0..<count {
                guard let item = pop(start, opcode) else { return false }
                items.insert(Self.kept(item), at: 0)
            }
            return push(.tuple(items), at: start)
        case .get, .binget, .longBinget:
            let key: Int
            if opcode == .get {
                guard let text = line() else { return error == nil ? truncated() : false }
                guard let parsed = memoKey(line: text, at: start, opcode) else { return false }
                key = parsed
            } else {
                guard let raw = littleEndian(opcode == .binget ? 1 : 4) else { return truncated() }
                key = raw
            }
            guard let value = memoGet(key, at: start, opcode) else { return false }
            return push(value, at: start)
        case .put, .binput, .longBinput:
            let key: Int
            if opcode == .put {
                guard let text = line() else { return error == nil ? truncated() : false }
                guard let parsed = memoKey(line: text, at: start, opcode) else { return false }
                key = parsed
            } else {
                guard let raw = littleEndian(opcode == .binput ? 1 : 4) else { return truncated() }
                key = raw
            }
            guard key >= 0 else { fail("negative memo key in \(opcode.name)", at: start); return false }
            guard let top = stack.last, top != .mark else { fail("stack underflow in \(opcode.name)", at: start); return false }
            memoPut(key, top)
        case .memoize:
            guard let top = stack.last, top != .mark else { fail("stack underflow in MEMOIZE", at: start); return false }
            memoPut(memoCount, top)
        case .ext1, .ext2, .ext4:
            guard let code = littleEndian(opcode == .ext1 ? 1 : opcode == .ext2 ? 2 : 4) else { return truncated() }
            let index = recordUnresolved(opcode: opcode, offset: start, module: "copyreg.extension", name: String(code),
                                         reason: "extension registry code; the global it names cannot be resolved offline",
                                         severity: .high)
            return push(.global(index), at: start)
        }
        return true
    }

    // MARK: - joblib

    /// Whether `value` is an instance of joblib's `NumpyArrayWrapper`.
    package func isJoblibWrapper(_ value: Value) -> Bool {
        guard case let .instance(index, _, _) = value else { return false }
        return qualifiedName(of: index) == "joblib.numpy_pickle.NumpyArrayWrapper"
    }

    /// After the `BUILD` of a `joblib.numpy_pickle.NumpyArrayWrapper`, joblib (0.12 and later)
    /// writes the array itself into the file: for an object array a whole nested pickle, otherwise
    /// (joblib 1.2+: one padding-length byte and that many padding bytes, then) the raw bytes,
    /// `prod(shape) × itemsize` of them. This skips the raw bytes and walks the nested pickle.
    package func skipJoblibArray(state: Value, at start: Int) -> Bool {
        guard case let .dict(entries) = state, let dtype = entries["dtype"] else {
            fail("joblib array wrapper without a readable dtype in its state", at: start)
            return false
        }
        guard let shape = Self.shape(entries["shape"]) else {
            fail("joblib array wrapper without a readable shape in its state", at: start)
            return false
        }
        guard let type = Self.dtype(dtype) else {
            fail("joblib array wrapper with a dtype that cannot be sized", at: start)
            return false
        }
        inlineArrays += 1
        if type.hasObject {
            // `pickle.load(file)` of a nested pickle, with its own stack and memo.
            let saved = (stack, memo, currentProtocol)
            stack = []
            memo = PickleMemo()
            currentProtocol = 0
            let reachedStop = walkOne()
            (stack, memo, currentProtocol) = saved
            return reachedStop
        }
        if entries["numpy_array_alignment_bytes"] != nil {
            guard let padding = input.byte() else {
                fail("joblib array padding truncated", at: input.position)
                return false
            }
            guard input.skip(Int(padding)) == Int(padding) else {
                fail("joblib array padding truncated", at: input.position)
                return false
            }
        }
        var count = 1
        for dimension in shape {
            let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
            guard !overflow, dimension >= 0 else { fail("joblib array shape \(shape) overflows", at: start); return false }
            count = product
        }
        let (size, overflow) = count.multipliedReportingOverflow(by: type.itemSize)
        guard !overflow else { fail("joblib array size overflows", at: start); return false }
        let arrayStart = input.position
        guard input.skip(size) == size else {
            fail("joblib array of \(size) bytes runs past the end of the input", at: arrayStart)
            return false
        }
        return true
    }

    package static func shape(_ value: Value?) -> [Int]? {
        switch value {
        case let .tuple(items)?:
            var dimensions: [Int] = []
            for item in items {
                guard case let .int(dimension) = item else { return nil }
                dimensions.append(dimension)
            }
            return dimensions
        case let .int(dimension)?:
            return [dimension]
        default:
            return nil
        }
    }

    /// Item size and object-ness of a pickled `numpy.dtype('f8', False, True)` (+ `BUILD` state
    /// `(3, '<', subarray, names, fields, elsize, alignment, flags)`).
    package static func dtype(_ value: Value) -> (itemSize: Int, hasObject: Bool)? {
        guard case let .instance(_, args, state) = value, case let .string(text)? = args.first,
              let kind = text.unicodeScalars.first else { return nil }
        var stateSize: Int?
        var flags = 0
        if case let .tuple(items)? = state, items.count >= 8 {
            if case let .int(size) = items[5], size > 0 { stateSize = size }
            if case let .int(value) = items[7] { flags = value }
        }
        let digits = String(text.unicodeScalars.dropFirst())
        let number = digits.isEmpty ? nil : Int(digits)
        let itemSize: Int
        switch kind {
        case "O": return (8, true)
        case "U":
            guard let number else { return nil }
            itemSize = number * 4
        case "b", "i", "u", "f", "c", "S", "a", "V", "M", "m":
            guard let size = stateSize ?? number else { return nil }
            itemSize = size
        case "?":
            itemSize = 1
        default:
            return nil
        }
        return (itemSize, flags & 1 != 0)
    }
}

extension String {
    /// The string padded on the left with zeros to `width` characters.
    package func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}

/// Why a JSON record could not be parsed: a short reason and the byte offset (in the record)
/// where it was noticed. Carries no evidence bytes.
public struct JSONError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A short phrase, e.g. `unterminated string`.
    public var reason: String
    /// Offset in the record's bytes.
    public var offset: Int

    public init(reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason) at byte \(offset)" }
}

/// The six kinds of JSON value.
public enum JSONKind: UInt8, Sendable, Equatable {
    case object, array, string, number, bool, null
}

/// One tape entry: a value (or an object key) of the parsed record.
///
/// ```
///  start      end        next                     info
///  UInt32     UInt32     UInt32                   UInt32
///  ├──────────┼──────────┼────────────────────────┼────────────────────────────────┤
///  containers: offset of `{`/`[`, offset after `}`/`]`, index after the last descendant,
///              tag | count << 8 (count saturates at 2^24 − 1)
///  strings:    offset after the opening quote, offset of the closing quote, index + 1,
///              tag | hasEscape << 3
///  numbers:    first byte, offset after the last byte, index + 1, tag | isInteger << 4
///  literals:   first byte, offset after the last byte, index + 1, tag
/// ```
@usableFromInline
struct TapeEntry {
    @usableFromInline var start: UInt32
    @usableFromInline var end: UInt32
    @usableFromInline var next: UInt32
    @usableFromInline var info: UInt32

    @usableFromInline static let tagObject: UInt32 = 0
    @usableFromInline static let tagArray: UInt32 = 1
    @usableFromInline static let tagString: UInt32 = 2
    @usableFromInline static let tagNumber: UInt32 = 3
    @usableFromInline static let tagTrue: UInt32 = 4
    @usableFromInline static let tagFalse: UInt32 = 5
    @usableFromInline static let tagNull: UInt32 = 6
    @usableFromInline static let hasEscape: UInt32 = 1 << 3
    @usableFromInline static let isInteger: UInt32 = 1 << 4
    @usableFromInline static let countSaturated: UInt32 = (1 << 24) - 1

    @inlinable var tag: UInt32 { info & 7 }
}

/// The tape of one parsed record plus a scratch area for decoded strings. Owned by a
/// ``JSONParser`` and shared with the documents and values it hands out.
@usableFromInline
final class JSONTape {
    @usableFromInline var entries: UnsafeMutablePointer<TapeEntry>
    @usableFromInline var capacity: Int
    @usableFromInline var count: Int = 0
    @usableFromInline var bytes: ByteView = .empty
    /// Never replaced (`let`): a decoded string borrows it through the tape without retaining it.
    @usableFromInline let scratch: ScratchBuffer = ScratchBuffer(capacity: 256)
    @usableFromInline var scratchInUse = false

    init(capacity: Int = 256) {
        self.capacity = capacity
        self.entries = UnsafeMutablePointer<TapeEntry>.allocate(capacity: capacity)
    }

    deinit { entries.deallocate() }

    /// Releases memory after an unusually large record.
    func shrinkIfLarge() {
        guard capacity > 1 << 16 else { return }
        entries.deallocate()
        capacity = 256
        entries = UnsafeMutablePointer<TapeEntry>.allocate(capacity: capacity)
        count = 0
    }
}

/// A reusable JSON parser: owns the tape buffers and resets them for every record, so parsing a
/// stream of records allocates nothing once the buffers have grown to the largest record.
///
/// The parser validates the whole record (RFC 8259 structure, numbers, escapes, nesting up to
/// ``maxDepth``) and builds a *tape*: one 16-byte entry per value and key, with containers
/// pointing past their last descendant so that lookups skip whole subtrees. Values are decoded
/// only when asked for.
///
/// Deliberately lenient, because evidence must not be lost: invalid UTF-8 and raw control
/// characters inside strings are accepted (``JSONValue/string`` repairs invalid UTF-8).
///
/// A document stays valid while its record bytes are. If a document from a previous call is
/// still alive when `parse` is called again, the parser starts a fresh tape instead of
/// overwriting it.
///
/// - Complexity: O(n) in the record length; strings are scanned eight bytes at a time.
public final class JSONParser {
    /// The deepest nesting of arrays and objects accepted.
    public let maxDepth: Int
    @usableFromInline var tape: JSONTape
    private let stack: UnsafeMutablePointer<(index: Int, count: Int)>

    /// Creates a parser that rejects nesting deeper than `maxDepth` (at least 1).
    public init(maxDepth: Int = 512) {
        self.maxDepth = Swift.max(1, maxDepth)
        self.tape = JSONTape()
        self.stack = .allocate(capacity: self.maxDepth)
    }

    deinit { stack.deallocate() }

    /// Parses one JSON value (the whole of `bytes`, surrounding whitespace allowed).
    ///
    /// - Throws: ``JSONError`` for empty input, unterminated strings, bad escapes, invalid
    ///   numbers or literals, unbalanced brackets, trailing garbage, or too deep nesting.
    /// - Complexity: O(n).
    public func parse(_ bytes: ByteView) throws(JSONError) -> JSONDocument {
        if !isKnownUniquelyReferenced(&tape) {
            tape = JSONTape()
        } else {
            tape.shrinkIfLarge()
        }
        guard bytes.count < Int(UInt32.max) else {
            throw JSONError(reason: "record larger than 4 GiB", offset: 0)
        }
        tape.bytes = bytes
        tape.count = 0
        guard let raw = bytes.base else { throw JSONError(reason: "empty document", offset: 0) }
        try build(raw.assumingMemoryBound(to: UInt8.self), bytes.count)
        return JSONDocument(tape: tape)
    }

    // MARK: Parsing

    /// The tape being written, held in locals during a parse (no class-property access, hence no
    /// dynamic exclusivity checks, in the hot loop).
    struct TapeWriter {
        var entries: UnsafeMutablePointer<TapeEntry>
        var capacity: Int
        var count = 0

        @inline(__always)
        mutating func append(_ start: Int, _ end: Int, _ info: UInt32) {
            if count == capacity { grow() }
            (entries + count).initialize(to: TapeEntry(
                start: UInt32(truncatingIfNeeded: start), end: UInt32(truncatingIfNeeded: end),
                next: UInt32(truncatingIfNeeded: count + 1), info: info))
            count += 1
        }

        @inline(never)
        mutating func grow() {
            let newCapacity = capacity * 2
            let newEntries = UnsafeMutablePointer<TapeEntry>.allocate(capacity: newCapacity)
            newEntries.moveInitialize(from: entries, count: count)
            entries.deallocate()
            entries = newEntries
            capacity = newCapacity
        }
    }

    @inline(__always)
    static func skipWhitespace(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) -> Int {
        var i = start
        while i < n {
            let c = p[i]
            if c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { i += 1 } else { break }
        }
        return i
    }

    /// Scans the string whose opening quote is at `quote`; returns the offset of the closing
    /// quote and whether it contains a backslash.
    @inline(__always)
    static func scanString(_ p: UnsafePointer<UInt8>, _ n: Int, _ quote: Int) throws(JSONError) -> (end: Int, escaped: Bool) {
        var j = quote + 1
        let raw = UnsafeRawPointer(p)
        while j + 8 <= n {
            // The first byte in the low bits, whatever the platform's byte order.
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: j, as: UInt64.self))
            let q = word ^ 0x2222_2222_2222_2222
            let b = word ^ 0x5C5C_5C5C_5C5C_5C5C
            let hit = (((q &- 0x0101_0101_0101_0101) & ~q) | ((b &- 0x0101_0101_0101_0101) & ~b)) & 0x8080_8080_8080_8080
            if hit != 0 {
                // Straight to the quote or backslash: the lowest flagged byte is exact (a borrow
                // only flags bytes above a real match).
                j += hit.trailingZeroBitCount >> 3
                if p[j] == 0x22 { return (j, false) }
                return (try scanEscaped(p, n, quote, from: j), true)
            }
            j += 8
        }
        while j < n {
            let c = p[j]
            if c == 0x22 { return (j, false) }
            if c == 0x5C { return (try scanEscaped(p, n, quote, from: j), true) }
            j += 1
        }
        throw JSONError(reason: "unterminated string", offset: quote)
    }

    /// The rest of ``scanString(_:_:_:)`` from the string's first backslash at `from`: the offset
    /// of the closing quote. Out of line, so the scan of the many strings without an escape stays
    /// small enough to inline.
    ///
    /// Escaped JSON inside a string (a request body) has a `\"` every few bytes. A word whose
    /// backslashes each escape a quote is taken whole: leaving the word loop at each escape, as
    /// the first version did, was a mispredicted branch at nearly every escape.
    @inline(never)
    static func scanEscaped(_ p: UnsafePointer<UInt8>, _ n: Int, _ quote: Int, from start: Int) throws(JSONError) -> Int {
        var j = start
        let raw = UnsafeRawPointer(p)
        while true {
            // `j` is at a backslash.
            guard j + 1 < n else { throw JSONError(reason: "unterminated string", offset: quote) }
            let e = p[j + 1]
            if isSimpleEscape(e) {
                j += 2
            } else {
                guard e == 0x75, j + 6 <= n,
                      TextCodecs.hexValue(p[j + 2]) != nil, TextCodecs.hexValue(p[j + 3]) != nil,
                      TextCodecs.hexValue(p[j + 4]) != nil, TextCodecs.hexValue(p[j + 5]) != nil
                else { throw JSONError(reason: e == 0x75 ? "invalid \\u escape" : "invalid escape", offset: j) }
                j += 6
            }
            // On to the closing quote or the next backslash that needs a look of its own.
            while j + 8 <= n {
                let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: j, as: UInt64.self))
                let quotes = zeroBytes(word ^ 0x2222_2222_2222_2222)
                let backslashes = zeroBytes(word ^ 0x5C5C_5C5C_5C5C_5C5C)
                if quotes | backslashes == 0 {
                    j += 8
                    continue
                }
                // The bytes right after a backslash. The word is taken whole when each of its
                // backslashes is alone, not in its last byte, and followed by a quote.
                let escapedBytes = backslashes << 8
                if backslashes & 0x8000_0000_0000_0000 == 0, backslashes & escapedBytes == 0,
                   quotes & escapedBytes == escapedBytes {
                    let closing = quotes & ~escapedBytes
                    if closing != 0 { return j + closing.trailingZeroBitCount >> 3 }
                    j += 8
                    continue
                }
                j += (quotes | backslashes).trailingZeroBitCount >> 3
                break
            }
            while j < n, p[j] != 0x22, p[j] != 0x5C { j += 1 }
            guard j < n else { throw JSONError(reason: "unterminated string", offset: quote) }
            if p[j] == 0x22 { return j }
        }
    }

    /// The bytes of `word` that are zero, as their high bit (exact for every byte, unlike the
    /// borrow test that is exact only for the lowest).
    @inline(__always)
    static func zeroBytes(_ word: UInt64) -> UInt64 {
        ~(((word & 0x7F7F_7F7F_7F7F_7F7F) &+ 0x7F7F_7F7F_7F7F_7F7F) | word) & 0x8080_8080_8080_8080
    }

    /// Whether `\` then `byte` is one of JSON's two-character escapes (`\"` `\\` `\/` `\b` `\f` `\n`
    /// `\r` `\t`): a bit of a 128-bit set, without a branch per escape.
    @inline(__always)
    static func isSimpleEscape(_ byte: UInt8) -> Bool {
        let low: UInt64 = 1 << 0x22 | 1 << 0x2F
        let high: UInt64 = 1 << (0x5C - 64) | 1 << (0x62 - 64) | 1 << (0x66 - 64) | 1 << (0x6E - 64)
            | 1 << (0x72 - 64) | 1 << (0x74 - 64)
        let set = byte < 64 ? low : (byte < 128 ? high : 0)
        return (set >> UInt64(byte & 63)) & 1 != 0
    }

    /// Scans the number starting at `start` (a `-` or a digit); returns the offset after it and
    /// whether it is written without fraction or exponent.
    @inline(__always)
    static func scanNumber(_ p: UnsafePointer<UInt8>, _ n: Int, _ start: Int) throws(JSONError) -> (end: Int, isInteger: Bool) {
        var i = start
        if p[i] == 0x2D { i += 1 }
        guard i < n, p[i] &- 0x30 < 10 else {
            throw JSONError(reason: "invalid number", offset: start)
        }
        if p[i] == 0x30 {
            i += 1
        } else {
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
        }
        var isInteger = true
        if i < n, p[i] == 0x2E {
            i += 1
            guard i < n, p[i] &- 0x30 < 10 else {
                throw JSONError(reason: "invalid number", offset: start)
            }
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            isInteger = false
        }
        if i < n, p[i] | 0x20 == 0x65 {
            i += 1
            if i < n, p[i] == 0x2B || p[i] == 0x2D { i += 1 }
            guard i < n, p[i] &- 0x30 < 10 else {
                throw JSONError(reason: "invalid number", offset: start)
            }
            while i < n, p[i] &- 0x30 < 10 { i += 1 }
            isInteger = false
        }
        if i < n, p[i] &- 0x30 < 10 || p[i] == 0x2E || p[i] | 0x20 == 0x65 {
            throw JSONError(reason: "invalid number", offset: start)
        }
        return (i, isInteger)
    }

    /// Parses `"key"` `:` at `i` (a non-whitespace offset) and returns the offset of the value.
    @inline(__always)
    private static func parseKey(_ p: UnsafePointer<UInt8>, _ n: Int, _ i: Int,
                                 _ tape: inout TapeWriter) throws(JSONError) -> Int {
        guard i < n else { throw JSONError(reason: "unexpected end of document", offset: i) }
        guard p[i] == 0x22 else { throw JSONError(reason: "expected a string key", offset: i) }
        let (end, escaped) = try scanString(p, n, i)
        tape.append(i + 1, end, TapeEntry.tagString | (escaped ? TapeEntry.hasEscape : 0))
        var j = end + 1
        if j < n, p[j] == 0x3A {  // the common `"key":` without spaces
            j += 1
        } else {
            j = skipWhitespace(p, n, j)
            guard j < n, p[j] == 0x3A else {
                throw JSONError(reason: j < n ? "expected ':'" : "unexpected end of document", offset: j)
            }
            j += 1
        }
        return skipWhitespace(p, n, j)
    }

    private func build(_ p: UnsafePointer<UInt8>, _ n: Int) throws(JSONError) {
        var tape = TapeWriter(entries: self.tape.entries, capacity: self.tape.capacity)
        defer {
            self.tape.entries = tape.entries
            self.tape.capacity = tape.capacity
            self.tape.count = tape.count
        }
        let stack = self.stack
        let maxDepth = self.maxDepth
        var depth = 0
        var i = Self.skipWhitespace(p, n, 0)
        guard i < n else { throw JSONError(reason: "empty document", offset: i) }

        @inline(__always)
        func close(_ depth: Int, at i: Int, _ tape: inout TapeWriter) {
            let (index, count) = stack[depth]
            let entry = tape.entries + index
            entry.pointee.end = UInt32(truncatingIfNeeded: i + 1)
            entry.pointee.next = UInt32(truncatingIfNeeded: tape.count)
            entry.pointee.info |= UInt32(Swift.min(count, Int(TapeEntry.countSaturated))) << 8
        }

        value: while true {
            guard i < n else { throw JSONError(reason: "unexpected end of document", offset: i) }
            let c = p[i]
            switch c {
            case 0x22:
                let (end, escaped) = try Self.scanString(p, n, i)
                tape.append(i + 1, end, TapeEntry.tagString | (escaped ? TapeEntry.hasEscape : 0))
                i = end + 1
            case 0x7B, 0x5B:  // { [
                guard depth < maxDepth else {
                    throw JSONError(reason: "nesting deeper than \(maxDepth)", offset: i)
                }
                let isObject = c == 0x7B
                stack[depth] = (tape.count, 0)
                tape.append(i, i + 1, isObject ? TapeEntry.tagObject : TapeEntry.tagArray)
                depth += 1
                i = Self.skipWhitespace(p, n, i + 1)
                if i < n, p[i] == (isObject ? 0x7D : 0x5D) {
                    depth -= 1
                    close(depth, at: i, &tape)
                    i += 1
                } else if isObject {
                    i = try Self.parseKey(p, n, i, &tape)
                    continue value
                } else {
                    continue value
                }
            case 0x2D, 0x30...0x39:
                let start = i
                let number = try Self.scanNumber(p, n, start)
                i = number.end
                tape.append(start, i, TapeEntry.tagNumber | (number.isInteger ? TapeEntry.isInteger : 0))
            case 0x74:  // true
                guard i + 4 <= n, p[i + 1] == 0x72, p[i + 2] == 0x75, p[i + 3] == 0x65 else {
                    throw JSONError(reason: "invalid literal", offset: i)
                }
                tape.append(i, i + 4, TapeEntry.tagTrue)
                i += 4
            case 0x66:  // false
                guard i + 5 <= n, p[i + 1] == 0x61, p[i + 2] == 0x6C, p[i + 3] == 0x73, p[i + 4] == 0x65 else {
                    throw JSONError(reason: "invalid literal", offset: i)
                }
                tape.append(i, i + 5, TapeEntry.tagFalse)
                i += 5
            case 0x6E:  // null
                guard i + 4 <= n, p[i + 1] == 0x75, p[i + 2] == 0x6C, p[i + 3] == 0x6C else {
                    throw JSONError(reason: "invalid literal", offset: i)
                }
                tape.append(i, i + 4, TapeEntry.tagNull)
                i += 4
            default:
                throw JSONError(reason: "unexpected character", offset: i)
            }
            // A value is complete: continue the enclosing container.
            while true {
                if depth == 0 {
                    i = Self.skipWhitespace(p, n, i)
                    guard i == n else {
                        throw JSONError(reason: "trailing characters after the document", offset: i)
                    }
                    return
                }
                stack[depth - 1].count += 1
                i = Self.skipWhitespace(p, n, i)
                guard i < n else { throw JSONError(reason: "unexpected end of document", offset: i) }
                let isObject = tape.entries[stack[depth - 1].index].tag == TapeEntry.tagObject
                let c = p[i]
                if c == 0x2C {
                    i = Self.skipWhitespace(p, n, i + 1)
                    if isObject { i = try Self.parseKey(p, n, i, &tape) }
                    continue value
                }
                if c == (isObject ? 0x7D : 0x5D) {
                    depth -= 1
                    close(depth, at: i, &tape)
                    i += 1
                    continue
                }
                throw JSONError(reason: isObject ? "expected ',' or '}'" : "expected ',' or ']'", offset: i)
            }
        }
    }
}

/// One parsed JSON record. Borrows the record bytes: valid while they are.
public struct JSONDocument {
    @usableFromInline let tape: JSONTape

    init(tape: JSONTape) { self.tape = tape }

    /// Parses `bytes` with a fresh parser. Use a ``JSONParser`` to parse many records without
    /// allocating.
    ///
    /// - Complexity: O(n).
    public init(_ bytes: ByteView) throws(JSONError) {
        self = try JSONParser().parse(bytes)
    }

    /// The top-level value.
    @inlinable public var root: JSONValue {
        JSONValue(tape: tape, entries: UnsafePointer(tape.entries), bytes: tape.bytes, index: 0)
    }
}

/// A value inside a ``JSONDocument``: a position on its tape. Cheap to copy; decodes nothing
/// until asked. Valid while the document's record bytes are.
///
/// A value keeps its tape alive (so a ``JSONParser`` never overwrites a tape that values still
/// point into) and caches the tape's entry and byte pointers to avoid class-property access on
/// the lookup path.
public struct JSONValue {
    @usableFromInline let tape: JSONTape
    @usableFromInline let entries: UnsafePointer<TapeEntry>
    @usableFromInline let bytes: ByteView
    /// Moved only by ``JSONPathSet/move(_:to:root:)``, to a position of the same tape.
    @usableFromInline var index: Int

    @inlinable
    init(tape: JSONTape, entries: UnsafePointer<TapeEntry>, bytes: ByteView, index: Int) {
        self.tape = tape
        self.entries = entries
        self.bytes = bytes
        self.index = index
    }

    @inlinable
    func value(at index: Int) -> JSONValue {
        JSONValue(tape: tape, entries: entries, bytes: bytes, index: index)
    }

    @inlinable var entry: TapeEntry { entries[index] }

    /// The value's place on its record's tape, for ``JSONPathSet/move(_:to:root:)``.
    @inlinable public var position: Int { index }

    /// What kind of value this is.
    @inlinable
    public var kind: JSONKind {
        switch entry.tag {
        case TapeEntry.tagObject: return .object
        case TapeEntry.tagArray: return .array
        case TapeEntry.tagString: return .string
        case TapeEntry.tagNumber: return .number
        case TapeEntry.tagTrue, TapeEntry.tagFalse: return .bool
        default: return .null
        }
    }

    /// Whether the value is JSON `null`.
    @inlinable public var isNull: Bool { entry.tag == TapeEntry.tagNull }

    /// The value's exact source bytes (strings include their quotes).
    @inlinable
    public var rawBytes: ByteView {
        let e = entry
        if e.tag == TapeEntry.tagString {
            return bytes[Int(e.start) - 1..<Int(e.end) + 1]
        }
        return bytes[Int(e.start)..<Int(e.end)]
    }

    /// A string's undecoded content (between the quotes, escapes as written); nil for other kinds.
    @inlinable
    public var rawStringContent: ByteView? {
        let e = entry
        guard e.tag == TapeEntry.tagString else { return nil }
        return bytes[Int(e.start)..<Int(e.end)]
    }

    /// Number of members (objects) or elements (arrays); 0 for scalars.
    ///
    /// - Complexity: O(1), or O(n) for containers with 16 million or more children.
    public var count: Int {
        let e = entry
        guard e.tag <= TapeEntry.tagArray else { return 0 }
        let stored = e.info >> 8
        if stored < TapeEntry.countSaturated { return Int(stored) }
        var n = 0
        var child = index + 1
        let end = Int(e.next)
        let step = e.tag == TapeEntry.tagObject ? 1 : 0
        while child < end {
            child = Int(entries[child + step].next)
            n += 1
        }
        return n
    }

    // MARK: Objects

    /// Calls `body` with each member's key (a string value) and value, in document order.
    ///
    /// - Complexity: O(members) — nested values are skipped, not visited.
    @inlinable
    public func forEachMember<E: Error>(_ body: (_ key: JSONValue, _ value: JSONValue) throws(E) -> Void) throws(E) {
        let e = entry
        guard e.tag == TapeEntry.tagObject else { return }
        var child = index + 1
        let end = Int(e.next)
        while child < end {
            try body(value(at: child), value(at: child + 1))
            child = Int(entries[child + 1].next)
        }
    }

    /// The members with decoded keys, in document order (allocates; prefer
    /// ``forEachMember(_:)`` or ``subscript(_:)`` on the hot path).
    public var members: [(key: String, value: JSONValue)] {
        var result: [(key: String, value: JSONValue)] = []
        result.reserveCapacity(count)
        forEachMember { key, value in result.append((key.string ?? "", value)) }
        return result
    }

    /// The value of the first member whose decoded key equals `key`, or nil (also for non-objects).
    ///
    /// Keys are compared byte for byte after decoding JSON escapes, so `"r\u0065gion"` matches
    /// `region`. Key order and whitespace do not matter.
    ///
    /// - Complexity: O(members · key length).
    public subscript(key: String) -> JSONValue? {
        var key = key
        return key.withUTF8 { utf8 in
            member(ByteView(unsafeStart: utf8.baseAddress, count: utf8.count))
        }
    }

    /// The value of the first member whose decoded key equals the bytes `key`.
    ///
    /// - Complexity: O(members · key length).
    public func member(_ key: ByteView) -> JSONValue? {
        guard let child = memberIndex(key, inObjectAt: index) else { return nil }
        return value(at: child)
    }

    /// Follows `keys` through nested objects, e.g. the bytes of `requestParameters` then
    /// `bucketName`, without making the values in between. An empty path returns the value itself.
    ///
    /// - Complexity: O(Σ members visited · key length).
    public func value(atKeys keys: UnsafeBufferPointer<ByteView>) -> JSONValue? {
        var current = index
        for key in keys {
            guard let next = memberIndex(key, inObjectAt: current) else { return nil }
            current = next
        }
        return value(at: current)
    }

    /// The tape index of the value of the first member of the object at `object` whose decoded
    /// key equals `key`; nil when there is none or `object` is not an object.
    @usableFromInline
    func memberIndex(_ key: ByteView, inObjectAt object: Int) -> Int? {
        let e = entries[object]
        guard e.tag == TapeEntry.tagObject, let base = bytes.base else { return nil }
        let keyCount = key.count
        let keyBase = key.base ?? base  // an empty key is never dereferenced
        let keyFirst = key[0]
        var child = object + 1
        let end = Int(e.next)
        while child < end {
            let k = entries[child]
            let start = Int(k.start)
            let length = Int(k.end) - start
            if k.info & TapeEntry.hasEscape == 0 {
                // Length, then first byte, inline; memcmp only for likely matches.
                if length == keyCount,
                   keyCount == 0 || (base.load(fromByteOffset: start, as: UInt8.self) == keyFirst
                                     && memcmp(base + start, keyBase, keyCount) == 0) {
                    return child + 1
                }
            } else if length >= keyCount {
                let raw = bytes[start..<Int(k.end)]
                if Self.withDecoded(raw, tape: tape, { $0 == key }) { return child + 1 }
            }
            child = Int(entries[child + 1].next)
        }
        return nil
    }

    /// Follows `path` through nested objects, e.g. `["requestParameters", "bucketName"]`.
    /// An empty path returns the value itself.
    ///
    /// - Complexity: O(Σ members visited).
    public func value(atPath path: [String]) -> JSONValue? {
        var current = index
        for key in path {
            var key = key
            let next = key.withUTF8 { utf8 in
                memberIndex(ByteView(unsafeStart: utf8.baseAddress, count: utf8.count), inObjectAt: current)
            }
            guard let next else { return nil }
            current = next
        }
        return value(at: current)
    }

    // MARK: Arrays

    /// Calls `body` with each element, in order.
    ///
    /// - Complexity: O(elements) — nested values are skipped, not visited.
    @inlinable
    public func forEachElement<E: Error>(_ body: (JSONValue) throws(E) -> Void) throws(E) {
        let e = entry
        guard e.tag == TapeEntry.tagArray else { return }
        var child = index + 1
        let end = Int(e.next)
        while child < end {
            try body(value(at: child))
            child = Int(entries[child].next)
        }
    }

    /// The elements of an array (empty for other kinds).
    public var elements: [JSONValue] {
        var result: [JSONValue] = []
        result.reserveCapacity(count)
        forEachElement { result.append($0) }
        return result
    }

    // MARK: Scalars

    /// Lends a string value's bytes with all JSON escapes decoded (`\" \\ \/ \b \f \n \r \t
    /// \uXXXX`; surrogate pairs become one 4-byte UTF-8 sequence, a lone surrogate becomes
    /// U+FFFD). Nil for other kinds. The view must not escape `body`.
    ///
    /// Zero-copy when the string has no backslash; otherwise decoded into the document's
    /// reusable scratch buffer (or a temporary one when that is already lent out).
    ///
    /// - Complexity: O(string length).
    @inlinable
    public func withDecodedString<R, E: Error>(_ body: (ByteView) throws(E) -> R) throws(E) -> R? {
        let e = entry
        guard e.tag == TapeEntry.tagString else { return nil }
        let raw = bytes[Int(e.start)..<Int(e.end)]
        if e.info & TapeEntry.hasEscape == 0 { return try body(raw) }
        return try Self.withDecoded(raw, tape: tape, body)
    }

    @usableFromInline
    static func withDecoded<R, E: Error>(_ raw: ByteView, tape: JSONTape, _ body: (ByteView) throws(E) -> R) throws(E) -> R {
        guard !tape.scratchInUse else {
            // A string decoded while another one's text is in use (a nested call): its own buffer.
            return try decoded(raw, into: ScratchBuffer(capacity: raw.count), body)
        }
        // The tape's buffer, read from its `let` property: borrowed, not retained and released for
        // every escaped string.
        tape.scratchInUse = true
        defer { tape.scratchInUse = false }
        return try decoded(raw, into: tape.scratch, body)
    }

    @usableFromInline @inline(__always)
    static func decoded<R, E: Error>(_ raw: ByteView, into scratch: ScratchBuffer, _ body: (ByteView) throws(E) -> R) throws(E) -> R {
        scratch.removeAll()
        JSONStringDecoder.decode(raw, into: scratch)
        return try body(scratch.view)
    }

    /// A string value, decoded, with invalid UTF-8 repaired to U+FFFD; nil for other kinds.
    public var string: String? {
        withDecodedString { $0.string }
    }

    /// An integer: a number written without fraction or exponent that fits Int64, a number whose
    /// value is integral and fits (`1e3`, `2.0`), or a string holding such a number (`"200"`).
    public var int64: Int64? {
        let e = entry
        switch e.tag {
        case TapeEntry.tagNumber:
            let raw = bytes[Int(e.start)..<Int(e.end)]
            if e.info & TapeEntry.isInteger != 0, let value = TextCodecs.parseInt64(raw) { return value }
            return Self.integral(TextCodecs.parseDouble(raw))
        case TapeEntry.tagString:
            return withDecodedString { text -> Int64? in
                if let value = TextCodecs.parseInt64(text) { return value }
                return Self.integral(TextCodecs.parseDouble(text))
            } ?? nil
        default:
            return nil
        }
    }

    @usableFromInline
    static func integral(_ value: Double?) -> Int64? {
        guard let value, value.rounded(.towardZero) == value,
              value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0
        else { return nil }
        return Int64(value)
    }

    /// A finite number, or a string holding one (`"3.5"`). Nil for values that overflow Double.
    public var double: Double? {
        let e = entry
        switch e.tag {
        case TapeEntry.tagNumber:
            return TextCodecs.parseDouble(bytes[Int(e.start)..<Int(e.end)])
        case TapeEntry.tagString:
            return withDecodedString { TextCodecs.parseDouble($0) } ?? nil
        default:
            return nil
        }
    }

    /// `true`/`false`, or a string spelling one of them in any ASCII case.
    public var bool: Bool? {
        let e = entry
        switch e.tag {
        case TapeEntry.tagTrue: return true
        case TapeEntry.tagFalse: return false
        case TapeEntry.tagString:
            let raw = bytes[Int(e.start)..<Int(e.end)]
            if TextCodecs.equalsIgnoringASCIICase(raw, "true") { return true }
            if TextCodecs.equalsIgnoringASCIICase(raw, "false") { return false }
            return nil
        default:
            return nil
        }
    }
}

/// Decodes the content of a JSON string literal (already validated by the parser).
@usableFromInline
enum JSONStringDecoder {
    /// Appends the decoded form of `raw` to `out`. The output is never longer than the input.
    ///
    /// - Complexity: O(n).
    @usableFromInline
    static func decode(_ raw: ByteView, into out: ScratchBuffer) {
        let n = raw.count
        guard let base = raw.base else { return }
        let src = base.assumingMemoryBound(to: UInt8.self)
        out.withUnsafeAppendStorage(capacity: n) { dst in
            var w = 0
            var i = 0
            while i < n {
                // Copy up to the next backslash eight bytes at a time. Runs between escapes are
                // short in escaped JSON-in-JSON (a request body), where a `memchr` and a `memmove`
                // call per run cost more than the copy. A word is stored whole before its
                // backslash is handled: `w <= i`, so it stays inside the `n` bytes of `dst`.
                while i + 8 <= n {
                    // The first byte in the low bits, whatever the platform's byte order.
                    let word = UInt64(littleEndian: UnsafeRawPointer(src + i).loadUnaligned(as: UInt64.self))
                    let b = word ^ 0x5C5C_5C5C_5C5C_5C5C
                    let hit = (b &- 0x0101_0101_0101_0101) & ~b & 0x8080_8080_8080_8080
                    if hit != 0 {
                        // A word whose backslashes each escape a quote (`\"`, every few bytes of a
                        // request body) is decoded whole: its backslashes are squeezed out, the
                        // highest first so the lower ones stay in place, instead of leaving the
                        // loop at each one.
                        let backslashes = JSONParser.zeroBytes(b)
                        let escapedBytes = backslashes << 8
                        if backslashes & 0x8000_0000_0000_0000 == 0, backslashes & escapedBytes == 0,
                           JSONParser.zeroBytes(word ^ 0x2222_2222_2222_2222) & escapedBytes == escapedBytes {
                            var decoded = word
                            var left = backslashes
                            var squeezed = 0
                            while left != 0 {
                                let bit = 63 - left.leadingZeroBitCount
                                let below: UInt64 = (1 << UInt64(bit & ~7)) &- 1
                                decoded = decoded & below | (decoded >> 8) & ~below
                                left &= ~(1 << UInt64(bit))
                                squeezed += 1  // counted here: `nonzeroBitCount` is a dozen instructions without POPCNT
                            }
                            UnsafeMutableRawPointer(dst + w).storeBytes(of: decoded.littleEndian, as: UInt64.self)
                            w += 8 - squeezed
                            i += 8
                            continue
                        }
                        UnsafeMutableRawPointer(dst + w).storeBytes(of: word.littleEndian, as: UInt64.self)
                        // The lowest flagged byte is exact (a borrow only flags bytes above it).
                        let run = hit.trailingZeroBitCount >> 3
                        w += run
                        i += run
                        break
                    }
                    UnsafeMutableRawPointer(dst + w).storeBytes(of: word.littleEndian, as: UInt64.self)
                    w += 8
                    i += 8
                }
                while i < n, src[i] != 0x5C {
                    dst[w] = src[i]
                    w += 1
                    i += 1
                }
                guard i < n else { break }
                guard i + 1 < n else {
                    if i < n { dst[w] = src[i]; w += 1; i += 1 }  // a trailing lone backslash
                    break
                }
                let e = src[i + 1]
                i += 2
                switch e {
                case 0x62: dst[w] = 0x08; w += 1
                case 0x66: dst[w] = 0x0C; w += 1
                case 0x6E: dst[w] = 0x0A; w += 1
                case 0x72: dst[w] = 0x0D; w += 1
                case 0x74: dst[w] = 0x09; w += 1
                case 0x75:
                    guard let unit = hex4(raw, i) else {
                        dst[w] = 0x5C; dst[w + 1] = e; w += 2  // unreachable after validation
                        continue
                    }
                    i += 4
                    var scalar = unit
                    if unit >= 0xD800, unit <= 0xDBFF {
                        if i + 6 <= n, src[i] == 0x5C, src[i + 1] == 0x75,
                           let low = hex4(raw, i + 2), low >= 0xDC00, low <= 0xDFFF {
                            scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                            i += 6
                        } else {
                            scalar = 0xFFFD
                        }
                    } else if unit >= 0xDC00, unit <= 0xDFFF {
                        scalar = 0xFFFD
                    }
                    w += writeUTF8(scalar, dst + w)
                default:  // \" \\ \/ and anything the parser let through
                    dst[w] = e
                    w += 1
                }
            }
            return w
        }
    }

    @inline(__always)
    static func hex4(_ raw: ByteView, _ i: Int) -> UInt32? {
        guard i + 4 <= raw.count,
              let a = TextCodecs.hexValue(raw[i]), let b = TextCodecs.hexValue(raw[i + 1]),
              let c = TextCodecs.hexValue(raw[i + 2]), let d = TextCodecs.hexValue(raw[i + 3])
        else { return nil }
        return UInt32(a) << 12 | UInt32(b) << 8 | UInt32(c) << 4 | UInt32(d)
    }

    @inline(__always)
    static func writeUTF8(_ scalar: UInt32, _ dst: UnsafeMutablePointer<UInt8>) -> Int {
        switch scalar {
        case 0..<0x80:
            dst[0] = UInt8(scalar)
            return 1
        case 0x80..<0x800:
            dst[0] = UInt8(0xC0 | scalar >> 6)
            dst[1] = UInt8(0x80 | scalar & 0x3F)
            return 2
        case 0x800..<0x10000:
            dst[0] = UInt8(0xE0 | scalar >> 12)
            dst[1] = UInt8(0x80 | (scalar >> 6) & 0x3F)
            dst[2] = UInt8(0x80 | scalar & 0x3F)
            return 3
        default:
            dst[0] = UInt8(0xF0 | scalar >> 18)
            dst[1] = UInt8(0x80 | (scalar >> 12) & 0x3F)
            dst[2] = UInt8(0x80 | (scalar >> 6) & 0x3F)
            dst[3] = UInt8(0x80 | scalar & 0x3F)
            return 4
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

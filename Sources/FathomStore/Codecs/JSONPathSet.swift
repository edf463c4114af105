/// A fixed set of key paths looked up together in many records of the same shape, as a JSON Lines
/// decoder does: one pass over the top-level members of each record finds the first member of
/// every path, instead of one scan of the members per path.
///
/// ```
/// let paths = JSONPathSet([["timestamp"], ["client_ip"], ["request", "model"]])
/// paths.find(in: root)          // one pass over root's members
/// paths.value(2, in: root)      // root["request"]["model"], or nil
/// ```
///
/// The answers are those of ``JSONValue/value(atKeys:)``: the *first* member whose decoded key
/// equals each key (escaped keys are decoded before they are compared). Keys are held as bytes in
/// memory the set owns; a top-level key is found through a small open-addressing table.
///
/// Not thread-safe: ``find(in:)`` keeps the record's positions for the ``value(_:in:)`` calls that
/// follow it. Use one set per decoder.
public final class JSONPathSet: @unchecked Sendable {
    /// Number of paths.
    public let count: Int
    private let keyBytes: UnsafeMutableRawBufferPointer
    /// Every key of every path; path `i` is `keys[bounds[i] ..< bounds[i + 1]]`.
    @usableFromInline let keys: UnsafeMutableBufferPointer<ByteView>
    @usableFromInline let bounds: UnsafeMutableBufferPointer<Int>
    /// The distinct first keys, and for each path the index of its first key among them (-1 for
    /// the empty path, which names the record itself).
    private let heads: UnsafeMutableBufferPointer<ByteView>
    @usableFromInline let headOfPath: UnsafeMutableBufferPointer<Int>
    /// Head index + 1 by key hash; 0 is an empty slot.
    private let table: UnsafeMutableBufferPointer<Int32>
    /// The tape index of the value of each head in the current record, -1 when it is absent.
    @usableFromInline let found: UnsafeMutableBufferPointer<Int>

    public init(_ paths: [[String]]) {
        count = paths.count
        let total = paths.reduce(0) { $0 + $1.reduce(0) { $0 + $1.utf8.count } }
        keyBytes = .allocate(byteCount: max(1, total), alignment: 1)
        keys = .allocate(capacity: max(1, paths.reduce(0) { $0 + $1.count }))
        bounds = .allocate(capacity: paths.count + 1)
        headOfPath = .allocate(capacity: max(1, paths.count))
        var offset = 0
        var keyIndex = 0
        var headStrings: [String] = []
        bounds[0] = 0
        for (pathIndex, path) in paths.enumerated() {
            for key in path {
                let start = keyBytes.baseAddress! + offset
                let bytes = Array(key.utf8)
                if !bytes.isEmpty { start.copyMemory(from: bytes, byteCount: bytes.count) }
                keys[keyIndex] = ByteView(unsafeStart: start, count: bytes.count)
                offset += bytes.count
                keyIndex += 1
            }
            bounds[pathIndex + 1] = keyIndex
            if let head = path.first {
                if let known = headStrings.firstIndex(of: head) {
                    headOfPath[pathIndex] = known
                } else {
                    headOfPath[pathIndex] = headStrings.count
                    headStrings.append(head)
                }
            } else {
                headOfPath[pathIndex] = -1
            }
        }
        heads = .allocate(capacity: max(1, headStrings.count))
        found = .allocate(capacity: max(1, headStrings.count))
        var tableSize = 16
        while tableSize < headStrings.count * 4 { tableSize *= 2 }
        table = .allocate(capacity: tableSize)
        table.initialize(repeating: 0)
        for (pathIndex, path) in paths.enumerated() where !path.isEmpty {
            let head = headOfPath[pathIndex]
            let view = keys[bounds[pathIndex]]
            heads[head] = view
            var slot = Self.hash(view) & (tableSize - 1)
            while table[slot] != 0, table[slot] != Int32(head + 1) { slot = (slot + 1) & (tableSize - 1) }
            table[slot] = Int32(head + 1)
        }
        headCount = headStrings.count
        isFlat = paths.allSatisfy { $0.count == 1 }
    }

    private let headCount: Int

    /// Whether every path is one top-level key: then ``JSONParser/parseFlat(_:paths:)`` finds
    /// them all while it scans a record.
    public let isFlat: Bool

    /// Forgets the previous record's members, before a flat scan notes this one's.
    func resetFound() {
        for index in 0..<headCount { found[index] = -1 }
    }

    /// The head `key` (undecoded, without escapes) names when it is not found yet in this record,
    /// else -1: the first member of a key is the one a path names.
    @inline(__always)
    func unfoundHead(_ key: ByteView) -> Int {
        let index = head(key)
        return index >= 0 && found[index] < 0 ? index : -1
    }

    /// Notes that head `index`'s value is at tape index `value` in this record.
    @inline(__always)
    func setFound(_ index: Int, at value: Int) { found[index] = value }

    deinit {
        keyBytes.deallocate()
        keys.deallocate()
        bounds.deallocate()
        heads.deallocate()
        headOfPath.deallocate()
        table.deallocate()
        found.deallocate()
    }

    /// A hash of a key from its length and three of its bytes: O(1), and enough to tell apart the
    /// dozen or so names of a record's fields (an equal hash is confirmed byte for byte).
    @inline(__always)
    private static func hash(_ key: ByteView) -> Int {
        let n = key.count
        guard n > 0, let base = key.base else { return 0 }
        let first = UInt64(base.load(fromByteOffset: 0, as: UInt8.self))
        let middle = UInt64(base.load(fromByteOffset: n >> 1, as: UInt8.self))
        let last = UInt64(base.load(fromByteOffset: n - 1, as: UInt8.self))
        let h = (UInt64(n) | first << 16 | middle << 24 | last << 32) &* 0x9E37_79B9_7F4A_7C15
        return Int(truncatingIfNeeded: h >> 40)
    }

    /// The index of the head equal to `key`, or -1.
    @inline(__always)
    private func head(_ key: ByteView) -> Int {
        let mask = table.count - 1
        var slot = Self.hash(key) & mask
        while true {
            let entry = Int(table[slot])
            if entry == 0 { return -1 }
            let candidate = heads[entry - 1]
            if candidate.count == key.count,
               key.count == 0 || sameBytes(candidate.base.unsafelyUnwrapped, key.base.unsafelyUnwrapped, key.count) {
                return entry - 1
            }
            slot = (slot + 1) & mask
        }
    }

    /// Finds the first member of every path's first key among `root`'s members (none when `root`
    /// is not an object), for the ``value(_:in:)`` calls that follow with the same `root`.
    ///
    /// - Complexity: O(members of `root`) hash lookups; stops early once every head is found.
    public func find(in root: JSONValue) {
        for index in 0..<headCount { found[index] = -1 }
        let entries = root.entries
        let e = entries[root.index]
        guard e.tag == TapeEntry.tagObject, let base = root.bytes.base else { return }
        var remaining = headCount
        var child = root.index + 1
        let end = Int(e.next)
        while child < end, remaining > 0 {
            let k = entries[child]
            let raw = ByteView(unsafeStart: base + Int(k.start), count: Int(k.end) - Int(k.start))
            let head = k.info & TapeEntry.hasEscape == 0
                ? head(raw)
                : JSONValue.withDecoded(raw, tape: root.tape) { self.head($0) }
            if head >= 0, found[head] < 0 {
                found[head] = child + 1
                remaining -= 1
            }
            child = Int(entries[child + 1].next)
        }
    }

    /// The value at path `index` under `root`, which must be the value of the last
    /// ``find(in:)``; nil when there is none.
    ///
    /// - Complexity: O(1) for a one-key path; the keys after the first are looked up by
    ///   ``JSONValue/value(atKeys:)``'s member scan.
    /// Each value returned holds a reference to the tape (a retain and a release): a decoder's
    /// per-field loop uses ``move(_:to:root:)`` instead.
    @inlinable @inline(__always)
    public func value(_ index: Int, in root: JSONValue) -> JSONValue? {
        let head = headOfPath[index]
        guard head >= 0 else { return root }
        var current = found[head]
        guard current >= 0 else { return nil }
        for keyIndex in (bounds[index] + 1)..<bounds[index + 1] {
            guard let next = root.memberIndex(keys[keyIndex], inObjectAt: current) else { return nil }
            current = next
        }
        return root.value(at: current)
    }

    /// ``value(_:in:)`` as a position: moves `cursor`, the record's root as given to the last
    /// ``find(in:)`` (then moved only by this), to path `index`'s value and returns true, or
    /// returns false and leaves it where it was. `root` is the root's position
    /// (``JSONValue/position``, taken before the first move).
    ///
    /// A decoder's per-field loop moves one cursor instead of making a value a field: each new
    /// value took a reference to the tape, a retain and a release per field of every record (9 %
    /// of a 1 GB high-cardinality ingest's CPU, the release the costliest call of the decoder).
    @inlinable @inline(__always)
    public func move(_ cursor: inout JSONValue, to index: Int, root: Int) -> Bool {
        let head = headOfPath[index]
        var current = root
        if head >= 0 {
            current = found[head]
            guard current >= 0 else { return false }
            for keyIndex in (bounds[index] + 1)..<bounds[index + 1] {
                guard let next = cursor.memberIndex(keys[keyIndex], inObjectAt: current) else { return false }
                current = next
            }
        }
        cursor.index = current
        return true
    }
}

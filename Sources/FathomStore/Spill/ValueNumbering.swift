import Foundation

/// One number per distinct value of a dictionary column, the same across every segment: the
/// entries of each segment's dictionary are looked up by their bytes, so a rule that groups rows by
/// client address turns a segment's codes into store-wide numbers without making a `String` of
/// each entry or hashing it with Swift's `Hasher`.
///
/// ```
/// let numbering = ValueNumbering()
/// let ids = numbering.ids(of: table.dictionary("src_ip"))   // ids[code], one per entry
/// numbering.name(ids[3])                                     // the value as text, on demand
/// ```
///
/// Numbers are handed out in the order values are first seen, so they depend on the order in which
/// segments are looked up: use them as keys, and sort by ``name(_:)`` when order matters. Entry 0
/// of a dictionary (the empty value, null) is numbered like any other value. Values are told
/// apart as the text a `String` makes of them: entries that are not valid UTF-8 are numbered by
/// their repaired text (U+FFFD for each bad sequence), so two such entries that read the same are
/// one value, as they are when grouped by `String`.
///
/// Thread-safe: segments scanned in parallel share one numbering (one lock per ``ids(of:)`` call).
///
/// - Complexity: ``ids(of:)`` is O(entries): one ``KeyHash`` and, on average, about one probe per entry.
public final class ValueNumbering: @unchecked Sendable {
    private let lock = NSLock()
    /// Value `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    private var bytes: [UInt8] = []
    private var offsets: [Int] = [0]
    /// ``KeyHash`` of each value, to grow the table without rereading the bytes.
    private var hashes: [UInt64] = []
    /// Value numbers + 1 by hash.
    private var table = TaggedSlots(capacity: 1024)

    /// The numbers of the entries of the segments looked up so far, by segment: the rules of one
    /// hunt look up the same segments' dictionaries several times each (a scan, then its
    /// candidates' second pass, the sliding window's two), and a lookup by bytes is a few cache
    /// misses per entry in a large numbering. With a spill folder they are kept in a scratch file
    /// there (``spilled``), read back with one `pread(2)`: held in memory, they grew with the
    /// evidence up to their cap (13 MB at the peak of the every-rule hunt of the 4 GB
    /// high-cardinality store, 3 MB at 1 GB); without one, in memory while they fit in
    /// ``cacheLimit`` bytes.
    private var cached: [String: Cached] = [:]
    private var cachedBytes = 0
    /// Bytes of entry numbers kept for reuse in memory (4 bytes an entry), without a spill folder.
    public let cacheLimit: Int
    /// Where the numbers are kept instead, the first folder a scratch file can be made in; none:
    /// in memory.
    private let spills: [SpillDirectory]
    /// The scratch file, made on first use; nil before, or for good once it could not be made.
    private var file: RecordFile?
    private var fileFailed = false
    private var spilledBytes = 0
    /// Bytes of entry numbers kept in the scratch file at most (about 250 segments' worth of
    /// 1 M-entry dictionaries); later segments are numbered again when asked for again.
    package static let spillLimit = 1 << 30

    private enum Cached {
        case held([UInt32])
        /// `count` numbers at byte `offset` of ``file``.
        case spilled(offset: Int, count: Int)
    }

    /// A numbering whose cached entry numbers are kept in a scratch file in the first of `spills`
    /// one can be made in, else (none given, or none writable) in memory up to `cacheLimit` bytes.
    public init(cacheLimit: Int = 32 << 20, spills: [SpillDirectory] = []) {
        self.cacheLimit = cacheLimit
        self.spills = spills
    }

    /// How many segments' entry numbers are kept in the scratch file, and how many in memory.
    package var cachedSegments: (spilled: Int, held: Int) {
        lock.lock()
        defer { lock.unlock() }
        var spilled = 0
        for entry in cached.values { if case .spilled = entry { spilled += 1 } }
        return (spilled, cached.count - spilled)
    }

    /// The number of every entry of `dictionary`, the dictionary of segment `segment`, indexed by
    /// entry code; the same numbers for every later call with the same segment while the cache holds
    /// them (a segment's dictionary never changes).
    public func ids(of dictionary: DictionaryColumn, segment: String) -> [UInt32] {
        lock.lock()
        let known = cached[segment]
        let file = self.file
        lock.unlock()
        switch known {
        case let .held(ids):
            return ids
        case let .spilled(offset, count):
            // A read that fails (the scratch file's disk gone) numbers the entries again.
            if let file, let ids = try? [UInt32](unsafeUninitializedCapacity: count, initializingWith: { buffer, initialized in
                try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
                initialized = count
            }) {
                return ids
            }
        case nil:
            break
        }
        let result = ids(of: dictionary)
        remember(result, segment: segment)
        return result
    }

    /// Keeps `ids`, the numbers of `segment`'s entries, for the next ``ids(of:segment:)``.
    private func remember(_ ids: [UInt32], segment: String) {
        if let file = spillFile(), spilledBytes + ids.count * 4 <= Self.spillLimit {
            // Written outside the lock (the file has its own); a segment numbered twice at once is
            // written twice, and the first kept.
            guard let offset = try? ids.withUnsafeBytes({ try file.append($0) }) else { return }
            lock.lock()
            defer { lock.unlock() }
            if cached[segment] == nil {
                cached[segment] = .spilled(offset: offset, count: ids.count)
                spilledBytes += ids.count * 4
            }
            return
        }
        lock.lock()
        defer { lock.unlock() }
        guard spills.isEmpty || fileFailed else { return }
        if cached[segment] == nil, cachedBytes + ids.count * 4 <= cacheLimit {
            cached[segment] = .held(ids)
            cachedBytes += ids.count * 4
        }
    }

    /// The scratch file, made on first use; nil without a spill folder or when none can be made.
    private func spillFile() -> RecordFile? {
        lock.lock()
        defer { lock.unlock() }
        if let file { return file }
        guard !spills.isEmpty, !fileFailed else { return nil }
        let name = "numbering-\(UInt64.random(in: 0...UInt64.max))"
        file = spills.lazy.compactMap { try? RecordFile(spill: $0, name: name) }.first
        fileFailed = file == nil
        return file
    }

    /// Number of distinct values seen.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return hashes.count
    }

    /// The number of every entry of `dictionary`, indexed by entry code.
    ///
    /// The entries are hashed before the lock is taken, then looked up a batch at a time: the
    /// slots of a batch are read first, then the stored bytes their tags point at, and only then
    /// is each entry compared and numbered — so the cache misses of a batch (a numbering of tens of
    /// thousands of values lives in the last-level cache at best) overlap instead of following one
    /// another, three per entry.
    public func ids(of dictionary: DictionaryColumn) -> [UInt32] {
        let entryCount = dictionary.entryCount
        var result = [UInt32](repeating: 0, count: entryCount)
        // 0 marks an entry that is not valid UTF-8 (numbered by its repaired text, one by one).
        var hashes = [UInt64](repeating: 0, count: entryCount)
        var valid = [Bool](repeating: true, count: entryCount)
        for code in 0..<entryCount {
            let entry = dictionary.entry(UInt32(code))
            if entry.isValidUTF8 {
                hashes[code] = entry.withUnsafeBytes { KeyHash.of($0) }
            } else {
                valid[code] = false
            }
        }
        lock.lock()
        defer { lock.unlock() }
        let batch = 8
        var start = 0
        var touched: UInt64 = 0
        while start < entryCount {
            let end = min(entryCount, start + batch)
            // Read each entry's first slot, then the bytes of the value its tag names (the loads
            // are independent of one another, so they are in flight together).
            for code in start..<end where valid[code] { touched &+= table.first(hashes[code]) }
            for code in start..<end where valid[code] {
                let payload = table.firstMatching(hashes[code])
                if payload != 0 { touched &+= touch(Int(payload) - 1) }
            }
            for code in start..<end {
                if valid[code] {
                    result[code] = dictionary.entry(UInt32(code)).withUnsafeBytes {
                        number(of: $0, hash: hashes[code], adding: true)
                    }
                } else {
                    // Values are told apart as text: bytes that repair to the same text are one value.
                    var repaired = dictionary.entry(UInt32(code)).string
                    result[code] = repaired.withUTF8 { number(of: UnsafeRawBufferPointer($0), adding: true) }
                }
            }
            start = end
        }
        touches = touched
        return result
    }

    /// Where the reads that only bring memory into the cache go, so they are not optimised away.
    private var touches: UInt64 = 0

    /// The first and last byte of value `id`'s stored bytes, read into the cache.
    @inline(__always)
    private func touch(_ id: Int) -> UInt64 {
        guard id + 1 < offsets.count else { return 0 }
        let start = offsets[id], end = offsets[id + 1]
        guard end > start else { return UInt64(start) }
        return UInt64(bytes[start]) &+ UInt64(bytes[end - 1])
    }

    /// The number of `value`, or nil when it was never seen.
    public func id(of value: String) -> UInt32? {
        var value = value
        lock.lock()
        defer { lock.unlock() }
        let found = value.withUTF8 { number(of: UnsafeRawBufferPointer($0), adding: false) }
        return found == UInt32.max ? nil : found
    }

    /// The value numbered `id`, as text.
    public func name(_ id: UInt32) -> String {
        lock.lock()
        defer { lock.unlock() }
        let start = offsets[Int(id)]
        let end = offsets[Int(id) + 1]
        return String(decoding: bytes[start..<end], as: UTF8.self)
    }

    /// `body` of the bytes of the value numbered `id` (valid UTF-8: the text ``name(_:)`` makes),
    /// lent for the call, under the numbering's lock.
    public func withValue<R>(_ id: UInt32, _ body: (ByteView) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        let start = offsets[Int(id)]
        let end = offsets[Int(id) + 1]
        return try bytes.withUnsafeBufferPointer { buffer in
            try body(ByteView(unsafeStart: buffer.baseAddress.map { UnsafeRawPointer($0 + start) }, count: end - start))
        }
    }

    /// Whether the value numbered `id` is empty (a null entry).
    public func isEmpty(_ id: UInt32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return offsets[Int(id)] == offsets[Int(id) + 1]
    }

    /// The number of `value`; a new one when it is absent and `adding`, else `UInt32.max`.
    /// The caller holds the lock.
    private func number(of value: UnsafeRawBufferPointer, adding: Bool) -> UInt32 {
        number(of: value, hash: KeyHash.of(value), adding: adding)
    }

    /// ``number(of:adding:)`` given the value's ``KeyHash``.
    private func number(of value: UnsafeRawBufferPointer, hash: UInt64, adding: Bool) -> UInt32 {
        let (found, index) = table.find(hash) { equals(Int($0) - 1, value) }
        if let found { return found - 1 }
        guard adding else { return UInt32.max }
        precondition(hashes.count < Int(UInt32.max) - 1, "too many distinct values to number")
        let id = UInt32(hashes.count)
        bytes.append(contentsOf: value)
        offsets.append(bytes.count)
        hashes.append(hash)
        table.set(index, hash: hash, payload: id + 1)
        if hashes.count * 2 > table.capacity {
            let known = hashes
            table = table.grown(known.indices.lazy.map { (known[$0], UInt32($0) + 1) })
        }
        return id
    }

    private func equals(_ id: Int, _ value: UnsafeRawBufferPointer) -> Bool {
        storedBytes(bytes, offsets[id], offsets[id + 1], equal: value)
    }
}

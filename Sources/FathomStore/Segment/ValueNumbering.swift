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
/// - Complexity: ``ids(of:)`` is O(entries): one XXH64 and, on average, about one probe per entry.
public final class ValueNumbering: @unchecked Sendable {
    private let lock = NSLock()
    /// Value `i` is `bytes[offsets[i] ..< offsets[i + 1]]`.
    private var bytes: [UInt8] = []
    private var offsets: [Int] = [0]
    /// XXH64 of each value, to grow the table without rereading the bytes.
    private var hashes: [UInt64] = []
    /// Value numbers + 1 by hash.
    private var table = TaggedSlots(capacity: 1024)

    /// The numbers of the entries of the segments looked up so far, by segment, while they fit in
    /// ``cacheLimit`` bytes: the rules of one hunt look up the same segments' dictionaries once
    /// each, and a lookup by bytes is a few cache misses per entry in a large numbering.
    private var cached: [String: [UInt32]] = [:]
    private var cachedBytes = 0
    /// Bytes of entry numbers kept for reuse (4 bytes an entry).
    public let cacheLimit: Int

    public init(cacheLimit: Int = 32 << 20) {
        self.cacheLimit = cacheLimit
    }

    /// The number of every entry of `dictionary`, the dictionary of segment `segment`, indexed by
    /// entry code; the same array for every later call with the same segment while the cache holds
    /// it (a segment's dictionary never changes).
    public func ids(of dictionary: DictionaryColumn, segment: String) -> [UInt32] {
        lock.lock()
        if let known = cached[segment] {
            lock.unlock()
            return known
        }
        lock.unlock()
        let result = ids(of: dictionary)
        lock.lock()
        defer { lock.unlock() }
        if cached[segment] == nil, cachedBytes + result.count * 4 <= cacheLimit {
            cached[segment] = result
            cachedBytes += result.count * 4
        }
        return result
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
                hashes[code] = entry.withUnsafeBytes { XXH64.hash($0, seed: 0) }
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

    /// Whether the value numbered `id` is empty (a null entry).
    public func isEmpty(_ id: UInt32) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        return offsets[Int(id)] == offsets[Int(id) + 1]
    }

    /// The number of `value`; a new one when it is absent and `adding`, else `UInt32.max`.
    /// The caller holds the lock.
    private func number(of value: UnsafeRawBufferPointer, adding: Bool) -> UInt32 {
        number(of: value, hash: XXH64.hash(value, seed: 0), adding: adding)
    }

    /// ``number(of:adding:)`` given the value's XXH64.
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

import FathomStore
import Foundation

/// Exact counts of distinct hashes per group, and over all groups, within a fixed memory budget.
///
/// Scans add (group, hash) pairs from any thread. The pairs are kept in memory, split into
/// partitions by the hash's top bits, each in a buffer of a fixed share of the budget; a full
/// buffer is appended to its partition's spill file. Counting then takes one partition at a
/// time — equal hashes always share a partition — and counts its distinct (group, hash) pairs and
/// distinct hashes with two open-addressing tables that compare whole keys (exact, not
/// estimates). Memory stays at the budget (plus one partition) however many pairs there are; the
/// spill files are deleted when the counter goes.
///
/// This is how the distinct-input figures stay exact without holding millions of hashes per
/// attacker (the figures a regulator report quotes are counts, not estimates).
final class DistinctCounter: @unchecked Sendable {
    struct Pair {
        var high: UInt64
        var low: UInt64
        var group: UInt32
    }

    static let partitionBits = 6
    static var partitionCount: Int { 1 << partitionBits }

    private let lock = NSLock()
    /// Pairs a partition's buffer holds before it is appended to its spill file.
    private let partitionCapacity: Int
    private let spill: SpillDirectory
    private var buffers: [[Pair]]
    private var files: [Int32]
    private var spilledPairs = [Int](repeating: 0, count: DistinctCounter.partitionCount)
    private var failure: Error?

    /// - Parameters:
    ///   - budget: bytes of pairs kept in memory before they go to the spill files.
    ///   - spill: where spill files are made (created on first use).
    init(budget: Int = 8 << 20, spill: SpillDirectory) {
        partitionCapacity = max(1, budget / MemoryLayout<Pair>.stride / DistinctCounter.partitionCount)
        self.spill = spill
        buffers = Array(repeating: [], count: DistinctCounter.partitionCount)
        files = Array(repeating: -1, count: DistinctCounter.partitionCount)
    }

    deinit {
        for fd in files where fd >= 0 { close(fd) }
    }

    /// Whether any pair went to disk (for tests and timings).
    var spilled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return spilledPairs.contains { $0 > 0 }
    }

    @inline(__always)
    static func partition(_ hash: Hash128) -> Int { Int(hash.high >> UInt64(64 - partitionBits)) }

    /// Adds pairs; null hashes are the caller's to leave out.
    func add(_ pairs: [(group: UInt32, hash: Hash128)]) {
        guard !pairs.isEmpty else { return }
        var split = Array(repeating: [Pair](), count: DistinctCounter.partitionCount)
        for (group, hash) in pairs {
            split[Self.partition(hash)].append(Pair(high: hash.high, low: hash.low, group: group))
        }
        lock.lock()
        defer { lock.unlock() }
        // Each partition's buffer has a fixed capacity (the budget's share): when it is full it goes
        // to the partition's spill file, so memory never exceeds the budget, whatever the input.
        for index in split.indices where !split[index].isEmpty {
            if buffers[index].capacity == 0 { buffers[index].reserveCapacity(partitionCapacity) }
            for pair in split[index] {
                buffers[index].append(pair)
                if buffers[index].count == partitionCapacity { flush(index) }
            }
        }
    }

    /// Appends partition `index`'s buffer to its spill file and empties it (keeping its capacity).
    /// Called with the lock held.
    private func flush(_ index: Int) {
        defer { buffers[index].removeAll(keepingCapacity: true) }
        guard failure == nil else { return }
        do {
            if files[index] < 0 { files[index] = try spill.create("distinct-\(ObjectIdentifier(self).hashValue)-\(index)") }
            try buffers[index].withUnsafeBytes { bytes in try SpillDirectory.write(fd: files[index], bytes) }
            spilledPairs[index] += buffers[index].count
        } catch {
            failure = error
        }
    }

    /// Distinct hashes of each group `0..<groups` and over all groups.
    ///
    /// - Complexity: O(n) expected for n pairs added, one partition in memory at a time.
    func counts(groups: Int) throws -> (perGroup: [Int64], all: Int64) {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        var perGroup = [Int64](repeating: 0, count: groups)
        var all: Int64 = 0
        for index in buffers.indices {
            var pairs: [Pair]
            if spilledPairs[index] > 0 {
                pairs = try SpillDirectory.read(fd: files[index], count: spilledPairs[index], as: Pair.self)
                pairs += buffers[index]
            } else {
                pairs = buffers[index]
            }
            buffers[index] = []
            all += Self.countPartition(pairs, groups: groups, into: &perGroup)
        }
        return (perGroup, all)
    }

    /// Counts one partition: adds each group's distinct hashes to `perGroup` and returns the
    /// number of distinct hashes. The tables hold indices into `pairs` and compare the full
    /// 128-bit hash (and group), so a collision of the table's own hash costs a probe, never a miscount.
    static func countPartition(_ pairs: [Pair], groups: Int, into perGroup: inout [Int64]) -> Int64 {
        guard !pairs.isEmpty else { return 0 }
        var capacity = 16
        while capacity < pairs.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var byPair = [Int32](repeating: -1, count: capacity)
        var byHash = [Int32](repeating: -1, count: capacity)
        var all: Int64 = 0
        pairs.withUnsafeBufferPointer { pairs in
            byPair.withUnsafeMutableBufferPointer { byPair in
                byHash.withUnsafeMutableBufferPointer { byHash in
                    for index in pairs.indices {
                        let pair = pairs[index]
                        // The hashes are uniform already: their low bits index the tables.
                        var slot = Int(truncatingIfNeeded: pair.low ^ (UInt64(pair.group) &* 0x9E37_79B9_7F4A_7C15)) & mask
                        var isNewPair = true
                        while byPair[slot] >= 0 {
                            let other = pairs[Int(byPair[slot])]
                            if other.low == pair.low, other.high == pair.high, other.group == pair.group { isNewPair = false; break }
                            slot = (slot + 1) & mask
                        }
                        guard isNewPair else { continue }
                        byPair[slot] = Int32(index)
                        if Int(pair.group) < groups { perGroup[Int(pair.group)] += 1 }
                        slot = Int(truncatingIfNeeded: pair.low) & mask
                        var isNewHash = true
                        while byHash[slot] >= 0 {
                            let other = pairs[Int(byHash[slot])]
                            if other.low == pair.low, other.high == pair.high { isNewHash = false; break }
                            slot = (slot + 1) & mask
                        }
                        if isNewHash {
                            byHash[slot] = Int32(index)
                            all += 1
                        }
                    }
                }
            }
        }
        return all
    }
}

/// A folder under the store's `tmp/` for one run's spill files, made on first use and deleted with
/// everything in it when the run is done. Its name carries the process id, so a writer opening the
/// store leaves the folders of live runs alone and deletes those of killed ones.
final class SpillDirectory: @unchecked Sendable {
    static let prefix = "spill-"
    private let root: String
    private let lock = NSLock()
    private var path: String?

    init(store: Store) { root = store.absolute("tmp") }

    init(root: String) { self.root = root }

    deinit {
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Creates (truncating) the file `name` in the folder; returns its descriptor, open for reading
    /// and appending.
    func create(_ name: String) throws -> Int32 {
        let folder = try folder()
        let file = folder + "/" + name
        let fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: file, operation: "open", code: errno) }
        return fd
    }

    /// The path of `name` in the folder (made on first use); the file itself is not created.
    func path(of name: String) throws -> String {
        try folder() + "/" + name
    }

    private func folder() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path { return path }
        let made = root + "/" + Self.prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
        } catch {
            throw StoreError.io(path: made, operation: "create directory", code: errno)
        }
        path = made
        return made
    }

    /// Whether `name` (an entry of `tmp/`) is the spill folder of a process that is still running.
    static func belongsToLiveProcess(_ name: String) -> Bool {
        guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { return false }
        return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
    }

    static func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: "spill file", operation: "write", code: errno)
            }
            offset += written
        }
    }

    /// The `count` values of type `T` the file holds, from its start.
    static func read<T>(fd: Int32, count: Int, as type: T.Type) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            while offset < raw.count {
                let got = pread(fd, raw.baseAddress! + offset, raw.count - offset, off_t(offset))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: "spill file", operation: "read", code: errno)
                }
                if got == 0 { throw StoreError.io(path: "spill file", operation: "read (short)", code: EIO) }
                offset += got
            }
            initialized = count
        }
    }
}

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
public final class DistinctCounter: @unchecked Sendable {
    public struct Pair {
        public var high: UInt64
        public var low: UInt64
        public var group: UInt32
    }

    public static let partitionBits = 6
    public static var partitionCount: Int { 1 << partitionBits }

    private let lock = NSLock()
    /// Pairs a partition's buffer holds before it is appended to its spill file.
    private let partitionCapacity: Int
    private let spill: SpillDirectory
    private var buffers: [[Pair]]
    private var files: [FileDescriptor?]
    private var spilledPairs = [Int](repeating: 0, count: DistinctCounter.partitionCount)
    private var failure: Error?

    /// - Parameters:
    ///   - budget: bytes of pairs kept in memory before they go to the spill files.
    ///   - spill: where spill files are made (created on first use).
    public init(budget: Int = 8 << 20, spill: SpillDirectory) {
        partitionCapacity = max(1, budget / MemoryLayout<Pair>.stride / DistinctCounter.partitionCount)
        self.spill = spill
        buffers = Array(repeating: [], count: DistinctCounter.partitionCount)
        files = Array(repeating: nil, count: DistinctCounter.partitionCount)
    }

    deinit {
        for file in files { file?.close() }
    }

    /// Whether any pair went to disk (for tests and timings).
    public var spilled: Bool {
        lock.lock()
        defer { lock.unlock() }
        return spilledPairs.contains { $0 > 0 }
    }

    @inline(__always)
    public static func partition(_ hash: Hash128) -> Int { Int(hash.high >> UInt64(64 - partitionBits)) }

    /// Adds pairs; null hashes are the caller's to leave out.
    public func add(_ pairs: [(group: UInt32, hash: Hash128)]) {
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
            let file = try files[index] ?? spill.create("distinct-\(ObjectIdentifier(self).hashValue)-\(index)")
            files[index] = file
            let written: StoreError? = buffers[index].withUnsafeBytes { bytes in
                do throws(StoreError) { try file.writeAll(bytes) } catch { return error }
                return nil
            }
            if let written { throw written }
            spilledPairs[index] += buffers[index].count
        } catch {
            failure = error
        }
    }

    /// Distinct hashes of each group `0..<groups` and over all groups.
    ///
    /// - Complexity: O(n) expected for n pairs added, one partition in memory at a time.
    public func counts(groups: Int) throws -> (perGroup: [Int64], all: Int64) {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        var perGroup = [Int64](repeating: 0, count: groups)
        var all: Int64 = 0
        for index in buffers.indices {
            var pairs: [Pair]
            if spilledPairs[index] > 0 {
                pairs = try Self.read(files[index], count: spilledPairs[index])
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
    public static func countPartition(_ pairs: [Pair], groups: Int, into perGroup: inout [Int64]) -> Int64 {
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

    /// The `count` pairs a spill file holds, from its start.
    private static func read(_ file: FileDescriptor?, count: Int) throws -> [Pair] {
        guard let file else { throw StoreError.io(path: "spill file", operation: "read (never written)", code: EBADF) }
        return try [Pair](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            guard try file.read(into: raw, at: 0) == raw.count else {
                throw StoreError.io(path: file.path, operation: "read (short)", code: EIO)
            }
            initialized = count
        }
    }
}

import Foundation

/// Exact counts of distinct hashes per group, and over all groups, within a fixed memory budget.
///
/// Scans add (group, hash) pairs from any thread. The pairs are kept in memory, split into
/// partitions by the hash's top bits, each in a buffer of a fixed share of the budget; a full
/// buffer is appended to its partition's spill file (a ``PartitionedSpill``). Counting then takes
/// one partition at a time — equal hashes always share a partition — and counts its distinct
/// (group, hash) pairs and distinct hashes with two open-addressing tables that compare whole keys
/// (exact, not estimates). Memory stays at the budget (plus one partition) however many pairs there are; the
/// spill files are deleted when the counter goes.
///
/// This is how the distinct-input figures stay exact without holding millions of hashes per
/// attacker (the figures a regulator report quotes are counts, not estimates).
public final class DistinctCounter: @unchecked Sendable {
    public struct Pair: BitwiseCopyable {
        public var high: UInt64
        public var low: UInt64
        public var group: UInt32
    }

    public static let partitionBits = 6
    public static var partitionCount: Int { 1 << partitionBits }

    /// The pairs, by partition of their hash, in memory up to the budget and spilled beyond it.
    private let parts: PartitionedSpill<Pair>

    /// - Parameters:
    ///   - budget: bytes of pairs kept in memory before they go to the spill files.
    ///   - spill: where spill files are made (created on first use).
    public init(budget: Int = 8 << 20, spill: SpillDirectory) {
        parts = PartitionedSpill(partitions: DistinctCounter.partitionCount, budget: budget, spill: spill, name: "distinct")
    }

    /// Whether any pair went to disk (for tests and timings).
    public var spilled: Bool { parts.didSpill }

    @inline(__always)
    public static func partition(_ hash: Hash128) -> Int { Int(hash.high >> UInt64(64 - partitionBits)) }

    /// Adds pairs; null hashes are the caller's to leave out.
    public func add(_ pairs: [(group: UInt32, hash: Hash128)]) {
        guard !pairs.isEmpty else { return }
        let batch = pairs.map { Pair(high: $0.hash.high, low: $0.hash.low, group: $0.group) }
        var grouped: [Pair] = []
        var bounds: [Int] = []
        PartitionedSpill.partitioned(batch, partitions: DistinctCounter.partitionCount,
                                     partition: { Int($0.high >> UInt64(64 - DistinctCounter.partitionBits)) },
                                     into: &grouped, bounds: &bounds)
        parts.add(grouped: &grouped, bounds: bounds)
    }

    /// Distinct hashes of each group `0..<groups` and over all groups.
    ///
    /// - Complexity: O(n) expected for n pairs added, one partition in memory at a time.
    public func counts(groups: Int) throws -> (perGroup: [Int64], all: Int64) {
        var perGroup = [Int64](repeating: 0, count: groups)
        var all: Int64 = 0
        for index in 0..<DistinctCounter.partitionCount {
            all += Self.countPartition(try parts.take(index), groups: groups, into: &perGroup)
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
}

@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// The spilling distinct counter against plain sets, in memory and over its budget.
@Suite struct DistinctCounterTests {
    /// Seeded pairs with many repeats (a small pool of hashes), some for groups past `groups`.
    static func pairs(seed: UInt64, count: Int, groups: Int) -> [(group: UInt32, hash: Hash128)] {
        var rng = SeededGenerator(seed: seed)
        let pool = (0..<max(1, count / 3)).map { _ in Hash128(low: rng.next(), high: rng.next()) }
        return (0..<count).map { _ in
            (UInt32.random(in: 0...UInt32(groups), using: &rng), pool.randomElement(using: &rng)!)
        }
    }

    @Test(arguments: [(UInt64(1), 0), (2, 4_096), (3, 1 << 30)])
    func countsEqualSets(seed: UInt64, budget: Int) throws {
        let directory = try TemporaryDirectory()
        let groups = 7
        let pairs = Self.pairs(seed: seed, count: 30_000, groups: groups)
        let counter = DistinctCounter(budget: budget, spill: SpillDirectory(root: directory.path))
        // From two threads, in uneven batches, as segment scans add them.
        let halves = [Array(pairs[..<11_111]), Array(pairs[11_111...])]
        DispatchQueue.concurrentPerform(iterations: 2) { half in
            var start = 0
            while start < halves[half].count {
                let end = min(halves[half].count, start + 1 + start % 977)
                counter.add(Array(halves[half][start..<end]))
                start = end
            }
        }
        #expect(counter.spilled == (budget < 1 << 20), "a small budget spills, a large one does not")
        let counts = try counter.counts(groups: groups)
        var expected = [Set<Hash128>](repeating: [], count: groups)
        for (group, hash) in pairs where Int(group) < groups { expected[Int(group)].insert(hash) }
        #expect(counts.perGroup == expected.map { Int64($0.count) })
        #expect(counts.all == Int64(Set(pairs.map(\.hash)).count), "all groups, including those past `groups`")
    }

    @Test func spillFilesGoWithTheCounterAndWritersKeepALiveRunsFolder() throws {
        let directory = try TemporaryDirectory()
        let store = directory.path("store")
        _ = try Store(directory: store, forWriting: true)
        var spill: SpillDirectory? = SpillDirectory(store: try Store(directory: store, forWriting: false))
        var counter: DistinctCounter? = DistinctCounter(budget: 0, spill: spill!)
        counter?.add(Self.pairs(seed: 9, count: 1_000, groups: 3))
        let folders = try FileManager.default.contentsOfDirectory(atPath: store + "/tmp")
        #expect(folders.count == 1 && folders[0].hasPrefix("spill-\(getpid())-"))
        // A writer opening the store meanwhile cleans tmp/ but leaves this live run's folder.
        _ = try Store(directory: store, forWriting: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/tmp") == folders)
        #expect(try counter?.counts(groups: 3).all ?? 0 > 0)
        counter = nil
        spill = nil
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/tmp").isEmpty)
        // A killed run's folder (no such process) is removed by the next writer.
        try FileManager.default.createDirectory(atPath: store + "/tmp/spill-999999999-1", withIntermediateDirectories: true)
        _ = try Store(directory: store, forWriting: true)
        #expect(try FileManager.default.contentsOfDirectory(atPath: store + "/tmp").isEmpty)
    }
}

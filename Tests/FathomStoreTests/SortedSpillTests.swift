import FathomStore
import Foundation
import Testing

/// The external merge sort gives the records in the order a sort in memory gives them, whether its
/// runs went to a scratch file, to the second folder it was given, or stayed in memory, and
/// whatever order and threads the batches came from.
struct SortedSpillTests {
    /// A record with a total order (key, then tie): as the affected-decision references are.
    struct Record: BitwiseCopyable, Equatable {
        var key: Int64
        var tie: UInt32
        var payload: UInt32

        static func precedes(_ a: Record, _ b: Record) -> Bool { (a.key, a.tie) < (b.key, b.tie) }
    }

    enum Storage: CaseIterable {
        case spilled, secondFolder, unwritable, none
    }

    func sorter(_ storage: Storage, in directory: TemporaryDirectory, runLength: Int, blockLength: Int) -> SortedSpill<Record> {
        let unwritable = SpillDirectory(root: "/proc/fathom-cannot-write-here")
        let spills: [SpillDirectory] = switch storage {
        case .spilled: [SpillDirectory(root: directory.file("tmp"))]
        case .secondFolder: [unwritable, SpillDirectory(root: directory.file("tmp"))]
        case .unwritable: [unwritable]
        case .none: []
        }
        return SortedSpill(runLength: runLength, blockLength: blockLength, spills: spills, name: "test", by: Record.precedes)
    }

    /// `count` records with few distinct keys (many ties broken by `tie`), in random order.
    func records(_ count: Int, seed: UInt64) -> [Record] {
        var generator = SeededGenerator(seed: seed)
        return (0..<count).map { index in
            Record(key: Int64.random(in: -20...20, using: &generator), tie: UInt32(index),
                   payload: UInt32.random(in: 0...UInt32.max, using: &generator))
        }.shuffled(using: &generator)
    }

    func drain(_ merge: SortedSpill<Record>.Merge) throws -> [Record] {
        var out: [Record] = []
        while let record = try merge.next() { out.append(record) }
        // Past the end it stays at the end.
        #expect(try merge.next() == nil)
        return out
    }

    @Test(arguments: Storage.allCases, [(7, 3), (64, 64), (1, 1), (1000, 5)])
    func mergesToTheOrderOfASortInMemory(storage: Storage, lengths: (run: Int, block: Int)) throws {
        let directory = TemporaryDirectory()
        for seed in UInt64(1)...12 {
            let all = records(Int(seed * 37 % 300), seed: seed)
            let sorter = sorter(storage, in: directory, runLength: lengths.run, blockLength: lengths.block)
            // Batches of varying size, as segments hand over their parts.
            var generator = SeededGenerator(seed: seed &* 31)
            var start = 0
            while start < all.count {
                let end = min(all.count, start + Int.random(in: 0...40, using: &generator))
                sorter.add(Array(all[start..<end]))
                start = end
            }
            #expect(sorter.count == all.count)
            let spilled = sorter.spilledRuns
            let expectedRuns = storage == .spilled || storage == .secondFolder ? all.count / lengths.run : 0
            // A run is written each time the buffer reaches the run length (batches can overfill it).
            if expectedRuns > 0 { #expect(spilled >= 1 && spilled <= expectedRuns) } else { #expect(spilled == 0) }
            #expect(try drain(sorter.sorted()) == all.sorted(by: Record.precedes))
        }
    }

    @Test(arguments: Storage.allCases)
    func batchesFromManyThreadsAtOnce(storage: Storage) throws {
        let directory = TemporaryDirectory()
        let all = records(20_000, seed: 99)
        let sorter = sorter(storage, in: directory, runLength: 500, blockLength: 37)
        let threads = 8
        DispatchQueue.concurrentPerform(iterations: threads) { thread in
            var index = thread * 50
            while index < all.count {
                sorter.add(Array(all[index..<min(all.count, index + 50)]))
                index += threads * 50
            }
        }
        #expect(sorter.count == all.count)
        if storage == .spilled || storage == .secondFolder { #expect(sorter.spilledRuns >= 20) }
        #expect(try drain(sorter.sorted()) == all.sorted(by: Record.precedes))
    }

    @Test func emptyGivesNothing() throws {
        let directory = TemporaryDirectory()
        let sorter = sorter(.spilled, in: directory, runLength: 4, blockLength: 2)
        sorter.add([])
        #expect(sorter.count == 0)
        #expect(try sorter.sorted().next() == nil)
    }
}

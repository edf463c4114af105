import FathomStore
import Foundation
import FathomSupport

/// The hits of a hunt in ``Hit/precedes(_:_:)`` order: a random-access collection of ``Hit``s kept
/// either in memory (hits handed over whole, as Spark's results are) or encoded in a scratch file
/// (``HitSpool``, how a hunt keeps them), each decoded when it is read.
///
/// Hits grow with the evidence — a week of a busy LLM gateway gave 50,000, at about 1.1 KB of heap
/// each when held as values — and a hunt's hits used to be held from the first rule's end until
/// the last report was written. Spooled, they cost 16 bytes each in memory (where a hit starts,
/// its length and its rule), so a hunt's and an analysis's memory no longer grows with them.
///
/// Reading is cheap in order (``makeIterator()`` reads the file in blocks) and by rule
/// (``hits(rule:)`` decodes only that rule's hits); any position costs one `pread(2)`.
public struct HitList: RandomAccessCollection, Sendable {
    private enum Storage: Sendable {
        case memory([Hit])
        case spooled(SpooledHits)
    }

    private let storage: Storage

    /// Hits held in memory, in the order given.
    public init(_ hits: [Hit] = []) { storage = .memory(hits) }

    package init(spooled: SpooledHits) { storage = .spooled(spooled) }

    public var startIndex: Int { 0 }
    public var endIndex: Int {
        switch storage {
        case let .memory(hits): hits.count
        case let .spooled(spooled): spooled.offsets.count
        }
    }

    public subscript(position: Int) -> Hit {
        switch storage {
        case let .memory(hits): hits[position]
        case let .spooled(spooled): spooled.hit(at: position)
        }
    }

    /// Whether the hits are in a scratch file (not in memory).
    public var isSpooled: Bool {
        if case .spooled = storage { return true }
        return false
    }

    /// The rule id of the hit at `position`, without decoding the hit.
    public func rule(at position: Int) -> String {
        switch storage {
        case let .memory(hits): hits[position].rule
        case let .spooled(spooled): spooled.rule(at: position)
        }
    }

    /// The hits of the rules `rules`, in order; only those are decoded.
    public func hits(rules: Set<String>) -> [Hit] { Array(each(rules: rules)) }

    /// The hits of the rules `rules`, in order, decoded one at a time as they are iterated (the
    /// others skipped undecoded): for a pass over many hits that keeps a little of each.
    public func each(rules: Set<String>) -> RuleHits { RuleHits(list: self, rules: rules) }

    /// The hits of rule `rule`, decoded as they are iterated (``each(rules:)``).
    public func each(rule: String) -> RuleHits { each(rules: [rule]) }

    /// The hits of some rules of a ``HitList``, decoded as they are iterated.
    public struct RuleHits: Sequence {
        fileprivate let list: HitList
        fileprivate let rules: Set<String>

        public struct Iterator: IteratorProtocol {
            fileprivate let list: HitList
            fileprivate let wanted: (Int) -> Bool
            fileprivate var position = 0
            fileprivate var block = SpooledHits.Block()

            public mutating func next() -> Hit? {
                while position < list.endIndex {
                    defer { position += 1 }
                    guard wanted(position) else { continue }
                    switch list.storage {
                    case let .memory(hits): return hits[position]
                    case let .spooled(spooled): return spooled.hit(at: position, block: &block)
                    }
                }
                return nil
            }
        }

        public func makeIterator() -> Iterator {
            switch list.storage {
            case let .memory(hits):
                let rules = rules
                return Iterator(list: list, wanted: { rules.contains(hits[$0].rule) })
            case let .spooled(spooled):
                let chosen = spooled.ruleNumbers(rules)
                return Iterator(list: list, wanted: { chosen.contains(spooled.rules[$0]) })
            }
        }
    }

    /// The hits of rule `rule`, in order; only those are decoded.
    public func hits(rule: String) -> [Hit] { hits(rules: [rule]) }

    /// The hits at `positions`, decoded in order (a spooled list's file read in blocks).
    public func hits(in positions: Range<Int>) -> [Hit] {
        switch storage {
        case let .memory(hits): return Array(hits[positions])
        case let .spooled(spooled):
            var block = SpooledHits.Block()
            return positions.map { spooled.hit(at: $0, block: &block) }
        }
    }

    /// How many hits rule `rule` has, without decoding any.
    public func count(rule: String) -> Int {
        switch storage {
        case let .memory(hits): return hits.reduce(0) { $0 + ($1.rule == rule ? 1 : 0) }
        case let .spooled(spooled): return spooled.count(rule: rule)
        }
    }

    public struct Iterator: IteratorProtocol {
        private let list: HitList
        private var position = 0
        private var block = SpooledHits.Block()

        fileprivate init(_ list: HitList) { self.list = list }

        public mutating func next() -> Hit? {
            guard position < list.endIndex else { return nil }
            defer { position += 1 }
            switch list.storage {
            case let .memory(hits): return hits[position]
            case let .spooled(spooled): return spooled.hit(at: position, block: &block)
            }
        }
    }

    /// Reads spooled hits in blocks of the file, not one `pread(2)` a hit.
    public func makeIterator() -> Iterator { Iterator(self) }
}

extension HitList: Equatable {
    public static func == (lhs: HitList, rhs: HitList) -> Bool { lhs.elementsEqual(rhs) }
}

extension HitList: Codable {
    /// Decoded as an array of hits, held in memory.
    public init(from decoder: any Decoder) throws { self.init(try [Hit](from: decoder)) }

    /// Encoded as an array of hits.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for hit in self { try container.encode(hit) }
    }
}

extension HitList: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: Hit...) { self.init(elements) }
}

/// Hits encoded in a scratch file (``RecordFile``), with where each starts, its length and its
/// rule in memory, in hit order.
package final class SpooledHits: Sendable {
    let file: RecordFile
    let tables: HitTables.Frozen
    let offsets: [Int64]
    let lengths: [UInt32]
    let rules: [UInt32]

    init(file: RecordFile, tables: HitTables.Frozen, offsets: [Int64], lengths: [UInt32], rules: [UInt32]) {
        self.file = file
        self.tables = tables
        self.offsets = offsets
        self.lengths = lengths
        self.rules = rules
    }

    /// Bytes read from the file at a time when hits are read in order.
    static let blockSize = 1 << 16

    /// The bytes of the file last read, and where they start.
    struct Block {
        var start = 0
        var bytes: [UInt8] = []
    }

    func rule(at position: Int) -> String { tables.rules[Int(rules[position])].rule }

    func count(rule: String) -> Int {
        let wanted = ruleNumbers([rule])
        guard !wanted.isEmpty else { return 0 }
        return rules.reduce(0) { $0 + (wanted.contains($1) ? 1 : 0) }
    }

    /// The numbers the tables give the rules `wanted`.
    func ruleNumbers(_ wanted: Set<String>) -> Set<UInt32> {
        Set(tables.rules.indices.filter { wanted.contains(tables.rules[$0].rule) }.map(UInt32.init))
    }

    func hit(at position: Int) -> Hit {
        var block = Block()
        return hit(at: position, block: &block, readAhead: false)
    }

    /// The hit at `position`, from `block` when it holds it, else from a new block read at its start.
    func hit(at position: Int, block: inout Block, readAhead: Bool = true) -> Hit {
        let offset = Int(offsets[position])
        let length = Int(lengths[position])
        if offset < block.start || offset + length > block.start + block.bytes.count {
            let wanted = readAhead ? max(length, Self.blockSize) : length
            let available = file.count - offset
            do {
                block.bytes = try file.read(at: offset, count: min(wanted, max(length, available)))
            } catch {
                // The scratch file is this process's own, written moments before; failing to read
                // it back is an I/O failure of the machine, not bad evidence.
                fatalError("Cannot read the hunt's hits back from its scratch file: \(error)")
            }
            block.start = offset
        }
        return HitCodec.decode(block.bytes, from: offset - block.start, tables: tables)
    }
}

/// Writes a hunt's hits to a scratch file as the rules end, each rule's sorted hits as one run,
/// and makes them one ``HitList`` in ``Hit/precedes(_:_:)`` order when the hunt is done.
///
/// Only the run being encoded is in memory (in pieces of about a megabyte); the runs are merged
/// by where their hits start in the file, not by copying them.
///
/// Where no scratch file can be made (a store on read-only media, and no writable temporary
/// folder either), the runs are kept in memory and merged as ``Hunt/merge(_:)`` merges them: the
/// same hits in the same order, held as before.
package final class HitSpool: @unchecked Sendable {
    private let file: RecordFile?
    private let tables = HitTables()
    private let lock = NSLock()
    private var runs: [Run] = []
    /// The runs kept in memory when there is no file, with their order and part.
    private var heldRuns: [(order: Int, part: Int, hits: [Hit])] = []

    private struct Run {
        var order: Int
        var part: Int
        var offsets: [Int64]
        var lengths: [UInt32]
        var rules: [UInt32]
    }

    /// Bytes of encoded hits collected before they are written.
    static let pieceSize = 1 << 20

    package init(spill: SpillDirectory) throws {
        file = try RecordFile(spill: spill, name: "hits")
    }

    /// A spool with its file in the first of `spills` where one can be made, or in memory.
    package init(firstOf spills: [SpillDirectory]) {
        file = spills.lazy.compactMap { try? RecordFile(spill: $0, name: "hits") }.first
    }

    /// Whether the hits go to a scratch file (not kept in memory).
    package var isSpooling: Bool { file != nil }

    /// Adds one run of hits (a rule's, or a part of them), from any thread, sorted first by
    /// ``Hit/precedes(_:_:)`` when it is not in that order; `order`, then `part`, place the run
    /// among runs whose hits compare equal (the rule order of the hunt, then a rule's parts in
    /// the order it would have returned them). The hits are released once encoded.
    package func add(_ hits: consuming [Hit], order: Int, part: Int = 0) throws {
        guard !hits.isEmpty else { return }
        if !Hunt.isSorted(hits) { hits.sort(by: Hit.precedes) }
        guard let file else {
            let held = hits
            lock.withLock { heldRuns.append((order, part, held)) }
            return
        }
        var run = Run(order: order, part: part, offsets: [], lengths: [], rules: [])
        run.offsets.reserveCapacity(hits.count)
        run.lengths.reserveCapacity(hits.count)
        run.rules.reserveCapacity(hits.count)
        var piece: [UInt8] = []
        piece.reserveCapacity(Self.pieceSize + Self.pieceSize / 4)
        var pieceOffsets: [Int] = []
        func flush() throws {
            guard !piece.isEmpty else { return }
            let start = try file.append(piece)
            for relative in pieceOffsets { run.offsets.append(Int64(start + relative)) }
            pieceOffsets.removeAll(keepingCapacity: true)
            piece.removeAll(keepingCapacity: true)
        }
        for hit in hits {
            let before = piece.count
            pieceOffsets.append(before)
            run.rules.append(HitCodec.encode(hit, into: &piece, tables: tables))
            run.lengths.append(UInt32(piece.count - before))
            if piece.count >= Self.pieceSize { try flush() }
        }
        try flush()
        lock.lock()
        runs.append(run)
        lock.unlock()
    }

    /// The hits of every run in ``Hit/precedes(_:_:)`` order, as a stable sort of the runs end to
    /// end in their (`order`, `part`) would give them. Runs in the order of their first hits fall
    /// into clusters that do not overlap (a rule's hits, the usual case, or a run alone): clusters
    /// go end to end, and the runs of a cluster are merged, each read once in order. Only the
    /// where-and-how-long of each hit is copied, never the hit.
    package func finish() -> HitList {
        guard let file else {
            let held = lock.withLock {
                defer { heldRuns = [] }
                return heldRuns.sorted { ($0.order, $0.part) < ($1.order, $1.part) }.map(\.hits)
            }
            return HitList(Hunt.merge(held))
        }
        lock.lock()
        let runs = self.runs.sorted { ($0.order, $0.part) < ($1.order, $1.part) }
        self.runs = []
        lock.unlock()
        let frozen = tables.frozen()
        let views = runs.map { SpooledHits(file: file, tables: frozen, offsets: $0.offsets, lengths: $0.lengths, rules: $0.rules) }
        let firsts = views.map { $0.hit(at: 0) }
        let lasts = views.map { $0.hit(at: $0.offsets.count - 1) }
        let filled = runs.indices.sorted {
            Hit.precedes(firsts[$0], firsts[$1]) || (!Hit.precedes(firsts[$1], firsts[$0]) && $0 < $1)
        }
        var clusters: [[Int]] = []
        var latest: Hit?
        for index in filled {
            if let last = latest, !Hit.precedes(last, firsts[index]) {
                clusters[clusters.count - 1].append(index)
                if Hit.precedes(last, lasts[index]) { latest = lasts[index] }
            } else {
                clusters.append([index])
                latest = lasts[index]
            }
        }
        let total = runs.reduce(0) { $0 + $1.offsets.count }
        var offsets: [Int64] = []
        var lengths: [UInt32] = []
        var rules: [UInt32] = []
        offsets.reserveCapacity(total)
        lengths.reserveCapacity(total)
        rules.reserveCapacity(total)
        for cluster in clusters {
            if cluster.count == 1, let index = cluster.first {
                offsets += runs[index].offsets
                lengths += runs[index].lengths
                rules += runs[index].rules
                continue
            }
            // A k-way merge: a heap of each run's next hit, ties broken by run order, then position.
            var blocks: [Int: SpooledHits.Block] = [:]
            var heap = MergeHeap()
            for index in cluster { heap.push(MergeHeap.Entry(hit: firsts[index], run: index, position: 0)) }
            while let top = heap.pop() {
                let run = runs[top.run]
                offsets.append(run.offsets[top.position])
                lengths.append(run.lengths[top.position])
                rules.append(run.rules[top.position])
                let next = top.position + 1
                if next < run.offsets.count {
                    var block = blocks[top.run] ?? SpooledHits.Block()
                    let hit = views[top.run].hit(at: next, block: &block)
                    blocks[top.run] = block
                    heap.push(MergeHeap.Entry(hit: hit, run: top.run, position: next))
                }
            }
        }
        return HitList(spooled: SpooledHits(file: file, tables: frozen, offsets: offsets, lengths: lengths, rules: rules))
    }
}

/// A binary min-heap of runs' next hits in ``Hit/precedes(_:_:)`` order, then run, then position.
private struct MergeHeap {
    struct Entry {
        var hit: Hit
        var run: Int
        var position: Int
    }

    private var entries: [Entry] = []

    private static func before(_ lhs: Entry, _ rhs: Entry) -> Bool {
        if Hit.precedes(lhs.hit, rhs.hit) { return true }
        if Hit.precedes(rhs.hit, lhs.hit) { return false }
        return (lhs.run, lhs.position) < (rhs.run, rhs.position)
    }

    mutating func push(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.before(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func pop() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let top = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count, Self.before(entries[left], entries[smallest]) { smallest = left }
            if right < entries.count, Self.before(entries[right], entries[smallest]) { smallest = right }
            if smallest == parent { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return top
    }
}

import Foundation

/// Fixed-size records put in order by an external merge sort: producers on any thread add batches;
/// every ``runLength`` records the buffer is sorted and appended to a scratch file as a *run*; at
/// the end the runs and the last buffer are merged, block by block, into one ordered stream.
///
/// What a list that grows with the evidence (an analysis's affected decisions, 16 bytes each) holds
/// in memory is then one run being filled, one being sorted, and a block of each run while merging,
/// not every record plus a copy for the sort: memory no longer grows with the evidence.
///
/// ```
/// let sorter = SortedSpill<Ref>(spills: [SpillDirectory(store: store)], name: "affected") { $0.key < $1.key }
/// try sorter.add(part)                        // from each segment's scan
/// let merge = try sorter.sorted()             // once every batch is in
/// while let ref = try merge.next() { … }      // ascending
/// ```
///
/// The scratch file is made in the first of `spills` it can be made in and unlinked at once
/// (``RecordFile``); when none can be made, or a write fails, the records stay in memory and are
/// sorted there at the end: the result is the same, only the memory differs.
///
/// The order must tell apart any two records added (a total order on them): then the stream does
/// not depend on the order the batches came in, or on the run length. Records it holds equal come
/// out in no particular order.
public final class SortedSpill<Element: BitwiseCopyable>: @unchecked Sendable {
    public typealias Order = @Sendable (Element, Element) -> Bool

    /// Records sorted and spilled together.
    public let runLength: Int
    /// Records read from a run at a time while merging.
    public let blockLength: Int
    private let order: Order
    private let spills: [SpillDirectory]
    private let name: String
    private let lock = NSLock()
    /// The records not in a run yet.
    private var buffer: [Element] = []
    private var file: RecordFile?
    /// Set once the scratch file could not be made or written: every later record stays in memory.
    private var inMemory = false
    /// Each spilled run: its first byte in ``file`` and its record count, in the order written.
    private var runs: [(offset: Int, count: Int)] = []
    private var added = 0

    /// - Parameters:
    ///   - runLength: records sorted and written together (the memory of one run being filled).
    ///   - blockLength: records read from each run at a time while merging.
    ///   - spills: where the scratch file may be made, first choice first; none: in memory.
    ///   - name: the scratch file's name (unlinked once made).
    ///   - order: a strict total order on the records added (see the type).
    public init(runLength: Int = 1 << 18, blockLength: Int = 1 << 12, spills: [SpillDirectory], name: String,
                by order: @escaping Order) {
        precondition(runLength > 0 && blockLength > 0)
        self.runLength = runLength
        self.blockLength = blockLength
        self.spills = spills
        self.name = name
        self.order = order
        inMemory = spills.isEmpty
    }

    /// Records added so far.
    public var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return added
    }

    /// Runs written to the scratch file so far (0: every record is in memory).
    public var spilledRuns: Int {
        lock.lock()
        defer { lock.unlock() }
        return runs.count
    }

    /// Adds `batch`, from any thread. A full buffer is sorted and written by the thread that filled
    /// it, outside the lock, while other producers go on adding.
    public func add(_ batch: [Element]) {
        guard !batch.isEmpty else { return }
        var full: [Element] = []
        lock.lock()
        added += batch.count
        buffer.append(contentsOf: batch)
        if !inMemory, buffer.count >= runLength { swap(&full, &buffer) }
        lock.unlock()
        if !full.isEmpty { spill(full) }
    }

    /// Sorts `run` and appends it to the scratch file; when that fails, puts it back in memory.
    private func spill(_ run: [Element]) {
        var run = run
        run.sort(by: order)
        if let file = scratchFile(),
           let offset = try? run.withUnsafeBytes({ try file.append($0) }) {
            lock.lock()
            runs.append((offset, run.count))
            lock.unlock()
            return
        }
        lock.lock()
        inMemory = true
        buffer.append(contentsOf: run)
        lock.unlock()
    }

    /// The scratch file, made on first use; nil when none can be made.
    private func scratchFile() -> RecordFile? {
        lock.lock()
        defer { lock.unlock() }
        if let file { return file }
        guard !inMemory else { return nil }
        file = spills.lazy.compactMap { [name] in try? RecordFile(spill: $0, name: name + "-\(UInt64.random(in: 0...UInt64.max))") }.first
        if file == nil { inMemory = true }
        return file
    }

    /// Every record added, ascending: the runs and the records still in memory, merged. Call once,
    /// after the last ``add(_:)``; the sorter is left empty.
    public func sorted() -> Merge {
        lock.lock()
        var last: [Element] = []
        swap(&last, &buffer)
        let runs = self.runs
        let file = self.file
        self.runs = []
        lock.unlock()
        last.sort(by: order)
        var sources: [Merge.Source] = runs.map { Merge.Source(block: [], position: 0, offset: $0.offset, remaining: $0.count) }
        if !last.isEmpty { sources.append(Merge.Source(block: last, position: 0, offset: 0, remaining: 0)) }
        return Merge(sources: sources, file: file, blockLength: blockLength, order: order)
    }

    /// The ordered stream of a sorter's records (one consumer).
    public final class Merge {
        struct Source {
            var block: [Element]
            var position: Int
            /// Where the run's next records are in the file, and how many are left there.
            var offset: Int
            var remaining: Int
        }

        private var sources: [Source]
        private let file: RecordFile?
        private let blockLength: Int
        private let order: Order
        /// A binary min-heap of the sources with a record left, by their current record.
        private var heap: [Int] = []
        private var started = false

        init(sources: [Source], file: RecordFile?, blockLength: Int, order: @escaping Order) {
            self.sources = sources
            self.file = file
            self.blockLength = blockLength
            self.order = order
        }

        /// The next record in order, nil after the last.
        ///
        /// - Throws: the scratch file's read error (its disk gone, or shorter than was written).
        public func next() throws -> Element? {
            if !started {
                started = true
                for index in sources.indices where try fill(index) { push(index) }
            }
            guard let top = heap.first else { return nil }
            let element = sources[top].block[sources[top].position]
            sources[top].position += 1
            if try fill(top) {
                siftDown(0)
            } else {
                let tail = heap.removeLast()
                if !heap.isEmpty {
                    heap[0] = tail
                    siftDown(0)
                }
            }
            return element
        }

        /// Whether source `index` has a current record, reading its next block when its block is done.
        private func fill(_ index: Int) throws -> Bool {
            if sources[index].position < sources[index].block.count { return true }
            let want = min(blockLength, sources[index].remaining)
            guard want > 0, let file else {
                sources[index].block = []
                return false
            }
            let offset = sources[index].offset
            sources[index].block = try [Element](unsafeUninitializedCapacity: want) { buffer, initialized in
                try file.read(into: UnsafeMutableRawBufferPointer(buffer), at: offset)
                initialized = want
            }
            sources[index].position = 0
            sources[index].offset += want * MemoryLayout<Element>.stride
            sources[index].remaining -= want
            return true
        }

        @inline(__always)
        private func less(_ a: Int, _ b: Int) -> Bool {
            order(sources[heap[a]].block[sources[heap[a]].position], sources[heap[b]].block[sources[heap[b]].position])
        }

        private func push(_ source: Int) {
            heap.append(source)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard less(child, parent) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        }

        private func siftDown(_ start: Int) {
            var parent = start
            while true {
                let left = 2 * parent + 1
                guard left < heap.count else { return }
                var smallest = left
                if left + 1 < heap.count, less(left + 1, left) { smallest = left + 1 }
                guard less(smallest, parent) else { return }
                heap.swapAt(smallest, parent)
                parent = smallest
            }
        }
    }
}

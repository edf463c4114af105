import Foundation

/// Fixed-size records split into partitions by their producer, kept in memory up to a budget and
/// appended to one spill file per partition beyond it, then taken back one partition at a time.
///
/// This is the memory discipline of radix-partitioned aggregation: producers (segment scans on any
/// thread) hand over batches already split by the top bits of their key's hash; equal keys always
/// land in the same partition, so a consumer aggregates partition after partition and never holds
/// more than the budget plus one partition, however many groups the data has.
///
/// The spilled buffers of every partition go to one scratch file, each partition keeping the list
/// of its pieces (offset and count): a spill of thousands of partitions — as many as keep each one
/// small when the records grow with the evidence — needs one file descriptor, not one a partition.
public final class PartitionedSpill<Element: BitwiseCopyable>: @unchecked Sendable {
    public let partitionCount: Int
    /// Elements a partition's buffer holds before it is appended to its spill file.
    private let capacity: Int
    private let spill: SpillDirectory
    private let name: String
    private let lock = NSLock()
    private var buffers: [[Element]]
    /// The scratch file all partitions spill to, made on first use, and where its next piece goes.
    private var file: FileDescriptor?
    private var fileEnd = 0
    /// Each partition's spilled pieces, in the order written: byte offset in the file and element
    /// count.
    private var pieces: [[(offset: Int, count: Int)]]
    private var spilledCounts: [Int]
    private var failure: Error?
    /// Grouping buffers of earlier batches (``add(_:partition:)``).
    private var scratches: [Scratch] = []

    /// - Parameters:
    ///   - partitions: the number of partitions (producers pick one per element).
    ///   - budget: bytes of elements kept in memory over all partitions before they go to disk.
    ///   - spill: where spill files are made (on first use).
    ///   - name: the spill files' name prefix.
    public init(partitions: Int, budget: Int, spill: SpillDirectory, name: String) {
        precondition(partitions > 0)
        partitionCount = partitions
        capacity = max(1, budget / max(1, MemoryLayout<Element>.stride) / partitions)
        self.spill = spill
        self.name = name
        buffers = Array(repeating: [], count: partitions)
        pieces = Array(repeating: [], count: partitions)
        spilledCounts = Array(repeating: 0, count: partitions)
    }

    deinit {
        file?.close()
    }

    /// How many elements partition `index` holds, spilled and buffered.
    public func count(_ index: Int) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return spilledCounts[index] + buffers[index].count
    }

    /// Whether any element went to disk (for tests and timings).
    public var didSpill: Bool {
        lock.lock()
        defer { lock.unlock() }
        return spilledCounts.contains { $0 > 0 }
    }

    /// Elements the partitions' buffers are allocated for, together (at most the budget's worth,
    /// and one element a partition for a budget smaller than that).
    public var bufferedCapacity: Int {
        lock.lock()
        defer { lock.unlock() }
        return buffers.reduce(0) { $0 + $1.capacity }
    }

    /// The most elements one partition's buffer holds before it goes to disk.
    public var partitionCapacity: Int { capacity }

    /// Adds a batch split by partition (`split[i]` goes to partition `i`), from any thread; the
    /// batch's arrays are emptied (their capacity kept for the producer's next batch).
    public func add(_ split: inout [[Element]]) {
        precondition(split.count == partitionCount)
        lock.lock()
        defer { lock.unlock() }
        for index in split.indices where !split[index].isEmpty {
            buffer(split[index][...], into: index)
            split[index].removeAll(keepingCapacity: true)
        }
    }

    /// Adds a batch grouped by partition: `batch[bounds[i]..<bounds[i + 1]]` goes to partition `i`
    /// (`bounds` has `partitionCount + 1` entries), from any thread; the batch is emptied (its
    /// capacity kept for the producer's next batch). ``partitioned(_:partition:into:bounds:)``
    /// makes such a batch.
    public func add(grouped batch: inout [Element], bounds: [Int]) {
        append(grouped: batch, bounds: bounds)
        batch.removeAll(keepingCapacity: true)
    }

    /// ``add(grouped:bounds:)`` without emptying `batch`.
    @usableFromInline
    func append(grouped batch: [Element], bounds: [Int]) {
        precondition(bounds.count == partitionCount + 1)
        lock.lock()
        defer { lock.unlock() }
        for index in 0..<partitionCount where bounds[index] < bounds[index + 1] {
            buffer(batch[bounds[index]..<bounds[index + 1]], into: index)
        }
    }

    /// Appends `elements` to partition `index`'s buffer, which never holds more than `capacity`
    /// elements nor is allocated larger: a full buffer goes to the spill file before the rest is
    /// appended. Grown by doubling, the buffers of a budget's worth of records took up to twice
    /// the budget (42 MB for 24 MB on the 4 GB high-cardinality hunt). Called with the lock held.
    private func buffer(_ elements: ArraySlice<Element>, into index: Int) {
        var rest = elements
        while !rest.isEmpty {
            if buffers[index].capacity < capacity {
                // At least what is appended now, at most the capacity: a small partition stays small.
                let wanted = min(capacity, max(buffers[index].count + rest.count, min(capacity, 256)))
                if wanted > buffers[index].capacity {
                    // Doubling, but never past the capacity (reserveCapacity allocates exactly).
                    buffers[index].reserveCapacity(min(capacity, max(wanted, buffers[index].capacity * 2)))
                }
            }
            let room = capacity - buffers[index].count
            let taken = rest.prefix(room)
            buffers[index].append(contentsOf: taken)
            rest = rest.dropFirst(taken.count)
            if buffers[index].count >= capacity { flush(index) }
        }
    }

    /// Groups `elements` by partition (a counting sort, stable) into `grouped`, with the start of
    /// each partition's run in `bounds` — what ``add(grouped:bounds:)`` takes. `grouped`'s memory is
    /// reused when it is large enough (the partition of each element is worked out twice rather than
    /// kept in an array of its own: a multiplication costs less than memory the batch has not
    /// touched yet).
    @inlinable
    public static func partitioned(_ elements: [Element], partitions: Int, partition: (Element) -> Int,
                                   into grouped: inout [Element], bounds: inout [Int]) {
        bounds.removeAll(keepingCapacity: true)
        bounds.append(contentsOf: repeatElement(0, count: partitions + 1))
        for element in elements { bounds[partition(element) + 1] += 1 }
        for index in 0..<partitions { bounds[index + 1] += bounds[index] }
        var next = Array(bounds[0..<partitions])
        // `grouped` made exactly as long as `elements` (only what it lacks is copied in, to be
        // overwritten below), so a kept buffer is reused without being filled again.
        let count = elements.count
        if grouped.count > count {
            grouped.removeLast(grouped.count - count)
        } else if grouped.count < count {
            grouped.append(contentsOf: elements[grouped.count..<count])
        }
        guard count > 0 else { return }
        grouped.withUnsafeMutableBufferPointer { buffer in
            for element in elements {
                let target = partition(element)
                buffer[next[target]] = element
                next[target] += 1
            }
        }
    }

    /// Groups `batch` by partition (``partitioned(_:partitions:partition:into:bounds:)``) in a
    /// buffer kept from an earlier batch, and adds it (``add(grouped:bounds:)``); `batch` is emptied,
    /// its capacity kept. A producer's batches — a segment's groups, tens of thousands of records
    /// — are grouped in memory already mapped, not in a fresh allocation the kernel zeroes page by
    /// page each time.
    @inlinable
    public func add(_ batch: inout [Element], partition: (Element) -> Int) {
        var scratch = takeScratch()
        Self.partitioned(batch, partitions: partitionCount, partition: partition, into: &scratch.grouped, bounds: &scratch.bounds)
        append(grouped: scratch.grouped, bounds: scratch.bounds)
        returnScratch(scratch)
        batch.removeAll(keepingCapacity: true)
    }

    /// Buffers for grouping a batch, kept between batches (one per producer at a time).
    public struct Scratch {
        @usableFromInline var grouped: [Element] = []
        @usableFromInline var bounds: [Int] = []

        @usableFromInline init() {}
    }

    @usableFromInline
    func takeScratch() -> Scratch {
        lock.lock()
        defer { lock.unlock() }
        return scratches.popLast() ?? Scratch()
    }

    @usableFromInline
    func returnScratch(_ scratch: Scratch) {
        lock.lock()
        defer { lock.unlock() }
        // As many as producers ran at once; a batch far larger than the rest is not kept.
        if scratches.count < 4 { scratches.append(scratch) }
    }

    /// Appends partition `index`'s buffer to the spill file and empties it. Called with the lock held.
    private func flush(_ index: Int) {
        defer { buffers[index].removeAll(keepingCapacity: true) }
        guard failure == nil else { return }
        do {
            let file = try self.file ?? spill.create("\(name)-\(ObjectIdentifier(self).hashValue)")
            self.file = file
            let written: StoreError? = buffers[index].withUnsafeBytes { bytes in
                do throws(StoreError) { try file.writeAll(bytes) } catch { return error }
                return nil
            }
            if let written { throw written }
            pieces[index].append((fileEnd, buffers[index].count))
            fileEnd += buffers[index].count * MemoryLayout<Element>.stride
            spilledCounts[index] += buffers[index].count
        } catch {
            failure = error
        }
    }

    /// Takes partition `index`'s elements — the spilled ones first, in the order written, then the
    /// buffered ones — and leaves the partition empty. Throws the first write error.
    public func take(_ index: Int) throws -> [Element] {
        lock.lock()
        defer { lock.unlock() }
        if let failure { throw failure }
        var result: [Element]
        let spilled = spilledCounts[index]
        if spilled > 0, let file {
            let total = spilled + buffers[index].count
            let stride = MemoryLayout<Element>.stride
            result = try [Element](unsafeUninitializedCapacity: total) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                var filled = 0
                for piece in pieces[index] {
                    let want = piece.count * stride
                    let target = UnsafeMutableRawBufferPointer(rebasing: raw[filled * stride ..< filled * stride + want])
                    guard try file.read(into: target, at: piece.offset) == want else {
                        throw StoreError.io(path: file.path, operation: "read spill (short)", code: EIO)
                    }
                    filled += piece.count
                    initialized = filled
                }
            }
            result.append(contentsOf: buffers[index])
            pieces[index] = []
            spilledCounts[index] = 0
        } else {
            result = buffers[index]
        }
        buffers[index] = []
        return result
    }
}

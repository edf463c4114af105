import Foundation

/// A file's SHA-256 with the size and modification time seen when it was opened.
public struct HashedFile: Sendable, Equatable {
    public var sha256: String
    public var size: Int
    public var modificationTime: Int64
}

/// Hashes many files across all cores.
///
/// Files go into one work queue, largest first (so one huge file starts early and the small ones
/// fill the other cores around it); each worker reads a file in chunks (``EvidenceStream``) and
/// feeds SHA-256, so memory stays near `workers × chunkSize` whatever the file sizes.
///
/// A path that is not a regular file (a directory, a FIFO, a symbolic link — dangling or not) is
/// a read error, never followed and never skipped.
///
/// - Complexity: O(total bytes / workers) time when the files are balanced; O(workers × chunkSize)
///   memory.
public struct ParallelHasher: Sendable {
    public var workers: Int
    public var chunkSize: Int
    /// Called (from the hashing threads) with each file's size as it is done, for a progress line.
    public var fileDone: (@Sendable (_ size: Int64) -> Void)?

    public init(workers: Int = ProcessInfo.processInfo.activeProcessorCount, chunkSize: Int = 8 << 20) {
        self.workers = Swift.max(1, workers)
        self.chunkSize = Swift.max(4096, chunkSize)
    }

    /// One file to hash: its absolute path and a size hint used only for scheduling.
    public struct Job: Sendable {
        public var path: String
        public var sizeHint: Int
        public init(path: String, sizeHint: Int) {
            self.path = path
            self.sizeHint = sizeHint
        }
    }

    /// Hashes every job; the results are in the order of `jobs`.
    public func hash(_ jobs: [Job]) -> [Result<HashedFile, StoreError>] {
        let order = jobs.indices.sorted { jobs[$0].sizeHint > jobs[$1].sizeHint }
        let state = HashQueue(order: order, count: jobs.count)
        let chunkSize = self.chunkSize
        let fileDone = self.fileDone
        let workerCount = Swift.min(workers, Swift.max(1, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workerCount) { _ in
            while let index = state.next() {
                let result = Self.hashFile(at: jobs[index].path, chunkSize: chunkSize)
                state.store(result, at: index)
                fileDone?(Int64((try? result.get().size) ?? jobs[index].sizeHint))
            }
        }
        return state.results()
    }

    /// Hashes one file by reading it in `chunkSize` pieces (``EvidenceStream``: read, not mapped,
    /// so a file that shrinks meanwhile is an error, not a SIGBUS).
    public static func hashFile(at path: String, chunkSize: Int = 8 << 20) -> Result<HashedFile, StoreError> {
        do throws(StoreError) {
            guard let status = try FileStatus.of(path: path) else {
                throw StoreError.io(path: path, operation: "open", code: ENOENT)
            }
            guard status.kind == .regular else {
                throw StoreError.unsupported(path: path, detail: "is a \(status.kind.rawValue), not a regular file.")
            }
            let file = try EvidenceFile(path: path)
            let digest = try EvidenceStream(file: file, chunkSize: Swift.max(4096, chunkSize)).finish()
            return .success(HashedFile(sha256: digest, size: file.count, modificationTime: file.modificationTime))
        } catch {
            return .failure(error)
        }
    }
}

/// The shared queue and result slots of one ``ParallelHasher/hash(_:)`` call.
private final class HashQueue: @unchecked Sendable {
    private let lock = NSLock()
    private let order: [Int]
    private var cursor = 0
    private var slots: [Result<HashedFile, StoreError>?]

    init(order: [Int], count: Int) {
        self.order = order
        self.slots = Array(repeating: nil, count: count)
    }

    func next() -> Int? {
        lock.lock()
        defer { lock.unlock() }
        guard cursor < order.count else { return nil }
        cursor += 1
        return order[cursor - 1]
    }

    func store(_ result: Result<HashedFile, StoreError>, at index: Int) {
        lock.lock()
        slots[index] = result
        lock.unlock()
    }

    func results() -> [Result<HashedFile, StoreError>] {
        lock.lock()
        defer { lock.unlock() }
        return slots.map { $0 ?? .failure(.unsupported(path: "", detail: "not hashed")) }
    }
}

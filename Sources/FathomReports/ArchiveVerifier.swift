import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// The result of re-hashing an input archive when the report is written.
public enum ArchiveVerification: Sendable, Equatable {
    /// The file at the recorded path has the recorded SHA-256.
    case verified
    /// The file at the recorded path has another SHA-256.
    case mismatch(actual: String)
    /// No file at the recorded path.
    case notFound
    /// The file exists but could not be read.
    case unreadable(String)
    /// Re-verification was switched off.
    case skipped

    /// The text shown in the evidence manifest.
    public var text: String {
        switch self {
        case .verified: "verified"
        case let .mismatch(actual): "MISMATCH (now " + actual + ")"
        case .notFound: "not found at path"
        case let .unreadable(detail): "unreadable (" + MarkdownText.escape(detail, limit: 120) + ")"
        case .skipped: "not re-verified (switched off)"
        }
    }
}

/// Re-hashes archives, read in chunks.
public enum ArchiveVerifier {
    /// - Complexity: O(n) in the file size; memory bounded by `chunkSize` resident pages.
    public static func verify(path: String, expected: String, chunkSize: Int = 8 << 20) -> ArchiveVerification {
        guard let status = try? FileStatus.following(path: path), !status.isDirectory else { return .notFound }
        let digest: String
        do throws(StoreError) {
            digest = try sha256(path: path, chunkSize: chunkSize)
        } catch {
            return .unreadable(error.description)
        }
        return digest == expected.lowercased() ? .verified : .mismatch(actual: digest)
    }

    /// The lowercase hex SHA-256 of the file at `path`, read in `chunkSize` pieces (not mapped:
    /// a file that shrinks meanwhile is an error, not a SIGBUS).
    public static func sha256(path: String, chunkSize: Int = 8 << 20) throws(StoreError) -> String {
        try EvidenceStream(file: try EvidenceFile(path: path), chunkSize: chunkSize).finish()
    }
}

/// The re-verification of a report's archives, shared by the threads that write the report: any of
/// them can hash the next archive nobody has claimed (``help()``), largest first, and
/// ``results()`` hashes what is left, then waits for the archives others are hashing. The statuses
/// are those of ``ArchiveVerifier/verify(path:expected:chunkSize:)`` one by one, in any order.
public final class ArchiveVerifications: @unchecked Sendable {
    private let inputs: [(path: String, sha256: String)]
    /// The archives claimed in order and their statuses (``WorkSlots``); the condition only
    /// counts the finished ones, for ``results()`` to wait on.
    private let slots: WorkSlots<ArchiveVerification, Never>
    private let condition = NSCondition()
    private var finished = 0

    /// `inputs`: the archives (path, recorded SHA-256, size in bytes).
    public init(_ inputs: [(path: String, sha256: String, size: Int64)]) {
        self.inputs = inputs.enumerated()
            .sorted { ($0.element.size, $1.offset) > ($1.element.size, $0.offset) }
            .map { ($0.element.path, $0.element.sha256) }
        slots = WorkSlots(count: inputs.count)
    }

    /// Starts hashing on a thread of its own in Linux's idle class (``IdlePriority``): the archives
    /// are hashed while the cores have nothing else to do, and what is left when the report asks
    /// (``results()``) is hashed then, by the threads that wait for it.
    public func startInBackground() {
        guard !inputs.isEmpty else { return }
        let thread = Thread { [self] in
            IdlePriority.lowerCurrentThread()
            help()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }

    /// Hashes archives nobody has claimed until none is left.
    public func help() {
        while let index = slots.claim() {
            let input = inputs[index]
            // 1 MB pieces: a thread hashing during the hunt should not add 8 MB to its peak.
            slots.store(index, .success(ArchiveVerifier.verify(path: input.path, expected: input.sha256, chunkSize: 1 << 20)))
            condition.lock()
            finished += 1
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Every archive's status by path and the SHA-256 it was checked against, once all are hashed
    /// (this thread hashing those left).
    public func results() -> [String: (sha256: String, status: ArchiveVerification)] {
        help()
        condition.lock()
        while finished < inputs.count { condition.wait() }
        condition.unlock()
        var statuses: [String: (sha256: String, status: ArchiveVerification)] = [:]
        for (input, slot) in zip(inputs, slots.all) {
            if case let .success(status)? = slot { statuses[input.path] = (input.sha256, status) }
        }
        return statuses
    }
}

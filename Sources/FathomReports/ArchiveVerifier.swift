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

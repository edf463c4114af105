import FathomStore
import Foundation
import FathomSupport

/// A training-data manifest: the SHA-256, size and modification time of every regular file under
/// a directory, written by `fathom manifest create` and checked by `fathom verify`.
///
/// The JSON is deterministic: files sorted bytewise by relative path, keys sorted, no wall-clock
/// field unless a creation time is given explicitly.
///
/// ```json
/// { "header": { "format": "fathom-manifest", "formatVersion": 1, "tool": "fathom",
///               "toolVersion": "0.1.0", "algorithm": "sha256", "root": "data",
///               "fileCount": 2, "totalBytes": 12, "createdAt": "…only with --now…" },
///   "files": [ { "path": "a/x.csv", "size": 6, "modificationTime": 1767225600000000000,
///                "modified": "2026-01-01T00:00:00Z", "sha256": "…" } ],
///   "skipped": [ { "path": "link", "kind": "symlink" } ] }
/// ```
public struct Manifest: Codable, Sendable, Equatable {
    public static let formatName = "fathom-manifest"
    public static let formatVersion = 1
    public static let toolVersion = "0.1.0"

    public struct Header: Codable, Sendable, Equatable {
        public var format: String
        public var formatVersion: Int
        public var tool: String
        public var toolVersion: String
        public var algorithm: String
        /// The directory as given on the command line; `verify` uses it when `--root` is absent.
        public var root: String
        public var fileCount: Int
        public var totalBytes: Int
        /// ISO-8601 UTC, present only when the caller pinned it (`--now`).
        public var createdAt: String?
    }

    public struct Entry: Codable, Sendable, Equatable {
        public var path: String
        public var size: Int
        /// Nanoseconds since the epoch.
        public var modificationTime: Int64
        /// The same time as ISO-8601 UTC, for people.
        public var modified: String
        public var sha256: String

        /// The size of an entry read from a baseline that records none (``Baseline``).
        public static let unrecorded = -1

        /// Whether the size and time were recorded (entries of Fathom manifests) or not (imported).
        public var isRecorded: Bool { size != Self.unrecorded }

        /// "N bytes, modified T", or that the baseline recorded neither.
        var recordedText: String {
            isRecorded ? "\(size) bytes, modified \(Timestamp(nanoseconds: modificationTime).rfc3339)" : "size and time not recorded"
        }
    }

    /// A non-regular entry (symbolic link, FIFO, socket, device) that was recorded but not hashed.
    public struct Skipped: Codable, Sendable, Equatable {
        public var path: String
        public var kind: String
    }

    public var header: Header
    public var files: [Entry]
    public var skipped: [Skipped]

    /// The manifest as deterministic JSON text (ends with a newline).
    public func jsonText() throws -> String { try IntegrityJSON.encode(self) + "\n" }

    /// Reads and validates a manifest. Every entry path must be relative and stay inside the root.
    public static func load(path: String) throws(IntegrityError) -> Manifest {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableInput(path: path, reason: error.localizedDescription)
        }
        let manifest: Manifest
        do {
            manifest = try JSONDecoder().decode(Manifest.self, from: data)
        } catch {
            throw .invalidInput(path: path, reason: "not a Fathom manifest (\(error)).")
        }
        guard manifest.header.format == formatName else {
            throw .invalidInput(path: path, reason: "format is '\(manifest.header.format)', expected '\(formatName)'.")
        }
        guard manifest.header.algorithm.lowercased() == "sha256" else {
            throw .invalidInput(path: path, reason: "algorithm is '\(manifest.header.algorithm)', expected 'sha256'.")
        }
        for entry in manifest.files {
            guard isSafeRelativePath(entry.path) else {
                throw .invalidInput(path: path, reason: "entry path '\(entry.path)' is absolute or leaves the root.")
            }
            guard Hex.isSHA256(entry.sha256) else {
                throw .invalidInput(path: path, reason: "entry '\(entry.path)' has hash '\(entry.sha256)', expected 64 hex digits.")
            }
        }
        return manifest
    }

    package static func isSafeRelativePath(_ path: String) -> Bool {
        guard !path.isEmpty, !path.hasPrefix("/") else { return false }
        return !path.split(separator: "/", omittingEmptySubsequences: false).contains { $0 == ".." || $0 == "." || $0.isEmpty }
    }
}

/// Errors of the integrity area that stop a command (bad arguments are the CLI's).
public enum IntegrityError: Error, Sendable, Equatable, CustomStringConvertible {
    case unreadableInput(path: String, reason: String)
    case invalidInput(path: String, reason: String)

    public var description: String {
        switch self {
        case let .unreadableInput(path, reason): "Cannot read '\(path)': \(reason)"
        case let .invalidInput(path, reason): "Invalid input '\(path)': \(reason)"
        }
    }
}

/// The result of `manifest create`: the manifest and the files that could not be hashed.
public struct ManifestCreation: Sendable {
    public var manifest: Manifest
    /// Unreadable files and directories, as findings of kind `unreadable`.
    public var problems: [IntegrityFinding]
}

/// Builds manifests.
public enum ManifestBuilder {
    /// Hashes every regular file under `root` (symbolic links are recorded as skipped, never
    /// followed). Files listed in `excluding` (absolute or root-relative paths, e.g. the manifest
    /// being written) are left out.
    ///
    /// - Parameter createdAt: nanoseconds since the epoch to record, or nil for none (deterministic).
    /// - Complexity: O(total bytes / cores).
    public static func create(root: String, createdAt: Int64? = nil, excluding: [String] = [],
                              hasher: ParallelHasher = ParallelHasher(),
                              progress: (@Sendable (ProgressSnapshot) -> Void)? = nil) throws(IntegrityError) -> ManifestCreation {
        var (walk, problems) = try IntegrityWalk.walk(root: root, category: .trainingDataPipelineCompromise)
        let excluded = Set(excluding.map { PathTools.relative($0, to: root) ?? $0 })
        var regular: [WalkedEntry] = []
        var skipped: [Manifest.Skipped] = []
        for entry in walk.entries where !excluded.contains(entry.relativePath) {
            if entry.status.kind == .regular {
                regular.append(entry)
            } else {
                skipped.append(.init(path: entry.relativePath, kind: entry.status.kind.rawValue))
            }
        }
        regular.sort { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        skipped.sort { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
        var hasher = hasher
        if let progress {
            let files = FileProgress(phase: "manifest", filesTotal: regular.count,
                                     bytesTotal: regular.reduce(0) { $0 + Int64($1.status.size) }, report: progress)
            hasher.fileDone = { files.fileDone(size: $0) }
        }
        let results = hasher.hash(regular.map { .init(path: root + "/" + $0.relativePath, sizeHint: $0.status.size) })
        var files: [Manifest.Entry] = []
        for (entry, result) in zip(regular, results) {
            switch result {
            case let .success(hashed):
                files.append(.init(path: entry.relativePath, size: hashed.size,
                                   modificationTime: hashed.modificationTime,
                                   modified: Timestamp(nanoseconds: hashed.modificationTime).rfc3339, sha256: hashed.sha256))
            case let .failure(error):
                problems.append(.unreadable(path: entry.relativePath, reason: error.description,
                                            category: .trainingDataPipelineCompromise))
            }
        }
        let header = Manifest.Header(
            format: Manifest.formatName, formatVersion: Manifest.formatVersion, tool: "fathom",
            toolVersion: Manifest.toolVersion, algorithm: "sha256", root: root, fileCount: files.count,
            totalBytes: files.reduce(0) { $0 + $1.size }, createdAt: createdAt.map { Timestamp(nanoseconds: $0).rfc3339 })
        return ManifestCreation(manifest: Manifest(header: header, files: files, skipped: skipped),
                                problems: problems.sorted())
    }
}

extension IntegrityFinding {
    package static func unreadable(path: String, reason: String, category: IncidentCategory,
                           member: String? = nil, offset: Int? = nil) -> IntegrityFinding {
        IntegrityFinding(kind: .unreadable, category: category, severity: .medium, subject: path,
                         detail: reason, evidence: FindingEvidence(file: path, offset: offset, member: member))
    }
}

extension StoreError {
    /// The path the error is about.
    package var path: String {
        switch self {
        case let .io(path, _, _), let .corrupt(path, _, _), let .unsupported(path, _), let .changed(path, _): path
        }
    }
}

package enum PathTools {
    /// `path` relative to `root` when it lies inside it (lexically, after standardising both).
    package static func relative(_ path: String, to root: String) -> String? {
        let full = URL(fileURLWithPath: path).standardizedFileURL.path
        let base = URL(fileURLWithPath: root).standardizedFileURL.path
        let prefix = base.hasSuffix("/") ? base : base + "/"
        guard full.hasPrefix(prefix) else { return nil }
        return String(full.dropFirst(prefix.count))
    }

    /// The last path component.
    package static func lastComponent(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }
}

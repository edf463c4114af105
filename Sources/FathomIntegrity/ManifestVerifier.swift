import FathomStore
import Foundation
import FathomSupport

/// The result of checking a directory against a manifest.
public struct VerificationReport: Codable, Sendable {
    public var manifest: String
    public var root: String
    /// Files listed in the manifest.
    public var checked: Int
    /// Files whose hash matched.
    public var matched: Int
    /// The earliest modification time among changed and new files (nanoseconds, UTC): where the
    /// impact window of a training-data compromise can start at the latest.
    public var firstModified: Int64?
    public var firstModifiedUTC: String?
    public var outcome: IntegrityOutcome
    /// Changed, missing, new and unreadable files, sorted by path.
    public var findings: [IntegrityFinding]
}

/// Re-hashes a directory and compares it with a manifest.
public enum ManifestVerifier {
    /// What the manifest recorded of an entry, as finding attributes (size and time only when recorded).
    static func old(_ entry: Manifest.Entry) -> [String: String] {
        var result = ["oldSha256": entry.sha256]
        if entry.isRecorded {
            result["oldSize"] = String(entry.size)
            result["oldModified"] = Timestamp(nanoseconds: entry.modificationTime).rfc3339
        }
        return result
    }

    /// Checks `root` against `manifest`.
    ///
    /// - changed: the hash differs (old/new size and modification time in `attributes`);
    /// - missing: nothing exists at the path any more;
    /// - new: a regular file under `root` that the manifest does not list;
    /// - unreadable: the path exists but cannot be read as a regular file (permissions, replaced
    ///   by a directory, FIFO or symbolic link, I/O error). Never counted as a match.
    ///
    /// - Parameter excluding: paths to leave out of "new" (the manifest file itself, when it lies
    ///   under `root`).
    /// - Complexity: O(total bytes / cores).
    public static func verify(manifest: Manifest, manifestPath: String, root: String, excluding: [String] = [],
                              hasher: ParallelHasher = ParallelHasher()) throws(IntegrityError) -> VerificationReport {
        let category = IncidentCategory.trainingDataPipelineCompromise
        var (walk, findings) = try IntegrityWalk.walk(root: root, category: category)
        let listed = Set(manifest.files.map(\.path))
        let excluded = Set(excluding.map { PathTools.relative($0, to: root) ?? $0 })
        let newFiles = walk.entries.filter {
            $0.status.kind == .regular && !listed.contains($0.relativePath) && !excluded.contains($0.relativePath)
        }

        var jobs: [ParallelHasher.Job] = []
        var present: [Manifest.Entry] = []
        for entry in manifest.files {
            let path = root + "/" + entry.path
            do throws(StoreError) {
                guard try FileStatus.of(path: path) != nil else {
                    findings.append(IntegrityFinding(
                        kind: .trainingDataMissing, category: category, severity: .high, subject: entry.path,
                        detail: "Listed in the manifest (\(entry.isRecorded ? "\(entry.size) bytes, " : "")sha256 \(entry.sha256.prefix(12))…) but no longer present.",
                        evidence: FindingEvidence(file: entry.path),
                        attributes: Self.old(entry)))
                    continue
                }
                present.append(entry)
                jobs.append(.init(path: path, sizeHint: entry.size))
            } catch {
                findings.append(.unreadable(path: entry.path, reason: error.description, category: category))
            }
        }
        jobs += newFiles.map { .init(path: root + "/" + $0.relativePath, sizeHint: $0.status.size) }
        let results = hasher.hash(jobs)

        var matched = 0
        var firstModified: Int64?
        func noteModified(_ time: Int64) { firstModified = Swift.min(firstModified ?? time, time) }
        for (entry, result) in zip(present, results.prefix(present.count)) {
            switch result {
            case let .failure(error):
                findings.append(.unreadable(path: entry.path, reason: error.description, category: category))
            case let .success(now) where now.sha256 == entry.sha256.lowercased():
                matched += 1
            case let .success(now):
                noteModified(now.modificationTime)
                findings.append(IntegrityFinding(
                    kind: .trainingDataChanged, category: category, severity: .high, subject: entry.path,
                    detail: entry.isRecorded
                        ? "Content changed: \(entry.size) → \(now.size) bytes, modified \(Timestamp(nanoseconds: entry.modificationTime).rfc3339) → \(Timestamp(nanoseconds: now.modificationTime).rfc3339)."
                        : "Content changed: now \(now.size) bytes, modified \(Timestamp(nanoseconds: now.modificationTime).rfc3339) (the baseline recorded the hash only).",
                    evidence: FindingEvidence(file: entry.path), time: now.modificationTime,
                    attributes: Self.old(entry).merging(
                        ["newSha256": now.sha256, "newSize": String(now.size),
                         "newModified": Timestamp(nanoseconds: now.modificationTime).rfc3339]) { first, _ in first }))
            }
        }
        for (file, result) in zip(newFiles, results.dropFirst(present.count)) {
            switch result {
            case let .failure(error):
                findings.append(.unreadable(path: file.relativePath, reason: error.description, category: category))
            case let .success(now):
                noteModified(now.modificationTime)
                findings.append(IntegrityFinding(
                    kind: .trainingDataNew, category: category, severity: .high, subject: file.relativePath,
                    detail: "Not in the manifest: \(now.size) bytes, modified \(Timestamp(nanoseconds: now.modificationTime).rfc3339).",
                    evidence: FindingEvidence(file: file.relativePath), time: now.modificationTime,
                    attributes: ["newSha256": now.sha256, "newSize": String(now.size),
                                 "newModified": Timestamp(nanoseconds: now.modificationTime).rfc3339]))
            }
        }
        findings.sort()
        return VerificationReport(
            manifest: manifestPath, root: root, checked: manifest.files.count, matched: matched,
            firstModified: firstModified, firstModifiedUTC: firstModified.map { Timestamp(nanoseconds: $0).rfc3339 },
            outcome: IntegrityOutcome.of(findings), findings: findings)
    }
}

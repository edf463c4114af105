import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Decides, before an input is read, whether the catalog already knows it.
///
/// 1. Same path, size and modification time as a complete archive, a recorded copy or recorded
///    altered evidence: known, nothing is opened.
/// 2. Otherwise, when the catalog has an archive at the same path, or any archive of the same size
///    (a copy must have the same size), the file is hashed first (about 10× faster than reading it):
///    - same path, same SHA-256: the file was only touched; recorded as a copy of itself;
///    - same path, other SHA-256: **altered evidence** — recorded against the original archive,
///      whose record stays; the altered content is not ingested (it would mix two versions of one
///      log into the store);
///    - other path, SHA-256 of a complete archive: a renamed or re-delivered copy; recorded, not read.
/// 3. Otherwise the file is new and is read (ingest still compares the SHA-256 computed while
///    reading, so two identical new files in one run are stored once).
package enum KnownIdentity {
    case known(FileOutcome)
    case new

    package static func check(path: String, displayPath: String, size: Int64, modificationTime: Int64,
                      catalog: Catalog) throws(CatalogError) -> KnownIdentity {
        if let known = try catalog.completeArchive(path: displayPath, size: size, modificationTime: modificationTime) {
            return .known(outcome(displayPath, .alreadyIngested, known,
                                  note: "already in the catalog (same path, size and modification time)"))
        }
        if let alias = try catalog.alias(path: displayPath, size: size, modificationTime: modificationTime) {
            let note = alias.originalPath == displayPath
                ? "already in the catalog (modification time changed, content identical)"
                : "a copy of '\(alias.originalPath)' (same SHA-256), already in the catalog"
            return .known(FileOutcome(path: displayPath, status: .alreadyIngested, size: size, sha256: alias.sha256,
                                      rows: 0, rejected: 0, formats: [], kinds: [], segments: 0, note: note))
        }
        if let altered = try catalog.alteredEvidence(path: displayPath, size: size, modificationTime: modificationTime) {
            return .known(alteredOutcome(displayPath, altered))
        }
        let samePath = try catalog.completeArchives(path: displayPath)
        let hasSameSize = try catalog.hasCompleteArchive(size: size)
        guard !samePath.isEmpty || hasSameSize else { return .new }
        let hashed: HashedFile
        switch ParallelHasher.hashFile(at: path) {
        case let .success(file): hashed = file
        case .failure: return .new  // Unreadable here: let the ingest report why.
        }
        let now = Clock.nowNanoseconds()
        if let original = samePath.first {
            if let same = samePath.first(where: { $0.sha256 == hashed.sha256 }) {
                try catalog.recordAlias(archiveID: same.id, path: displayPath, size: size,
                                        modificationTime: hashed.modificationTime, seenAt: now)
                return .known(outcome(displayPath, .alreadyIngested, same,
                                      note: "already in the catalog (modification time changed, content identical)"))
            }
            try catalog.recordAlteredEvidence(archiveID: original.id, path: displayPath, size: size,
                                              modificationTime: hashed.modificationTime, sha256: hashed.sha256,
                                              detectedAt: now)
            return .known(alteredOutcome(displayPath, AlteredEvidence(
                path: displayPath, size: size, modificationTime: hashed.modificationTime, sha256: hashed.sha256,
                originalSize: original.size, originalSHA256: original.sha256, originalIngestedAt: 0)))
        }
        if let existing = try catalog.completeArchive(sha256: hashed.sha256) {
            try catalog.recordAlias(archiveID: existing.id, path: displayPath, size: size,
                                    modificationTime: hashed.modificationTime, seenAt: now)
            return .known(FileOutcome(path: displayPath, status: .duplicate, size: size, sha256: hashed.sha256,
                                      rows: 0, rejected: 0, formats: splitList(existing.formats),
                                      kinds: splitList(existing.kinds), segments: 0,
                                      note: "same SHA-256 as '\(existing.path)', already ingested; not read again"))
        }
        return .new
    }

    private static func outcome(_ path: String, _ status: FileOutcome.Status, _ known: ArchiveRecord,
                                note: String) -> FileOutcome {
        FileOutcome(path: path, status: status, size: known.size, sha256: known.sha256, rows: known.rows,
                    rejected: known.rejected, formats: splitList(known.formats), kinds: splitList(known.kinds),
                    segments: 0, note: note, filtered: known.filtered)
    }

    private static func alteredOutcome(_ path: String, _ altered: AlteredEvidence) -> FileOutcome {
        FileOutcome(path: path, status: .altered, size: altered.size, sha256: altered.sha256, rows: 0, rejected: 0,
                    formats: [], kinds: [], segments: 0,
                    note: "altered after it was read: SHA-256 \(altered.sha256) differs from the recorded "
                        + "\(altered.originalSHA256); not ingested, the original record stays")
    }

    private static func splitList(_ text: String) -> [String] { text.split(separator: ",").map(String.init) }
}

import FathomStore
import Foundation
import FathomSupport

/// A Fathom store: a directory holding the SQLite catalog and the segment files.
///
/// ```
/// .fathom/
///   catalog.sqlite            archives, members, rejects, segments, runs …
///   lock                      held (flock) by the one process that writes
///   segments/<kind>/<archive>-<n>.seg
///   tmp/                      copies of whole-file inputs (SQLite in a tar) while being read;
///                             spill-<pid>-<n>/ spill files of an analysis over its memory budget
/// ```
public final class Store: Sendable {
    public let directory: String
    public let catalog: Catalog
    private let lock: FileLock?

    /// Opens the store at `directory`, creating it when `forWriting`. A writer takes the store's
    /// lock and cleans up after any run that was killed: archives whose ingest never completed, and
    /// segment files the catalog does not reference.
    public init(directory: String, forWriting: Bool) throws(CatalogError) {
        self.directory = directory
        if forWriting {
            let opened: FileLock?
            do throws(StoreError) {
                for kind in SourceKind.allCases {
                    try FileSystem.createDirectory(directory + "/segments/" + kind.rawValue)
                }
                opened = try FileLock(path: directory + "/lock")
            } catch {
                throw .storage(error)
            }
            guard let opened else { throw .busy(path: directory) }
            lock = opened
        } else {
            guard FileSystem.status(directory + "/catalog.sqlite") != nil else { throw .missing(path: directory) }
            lock = nil
        }
        catalog = try Catalog(path: directory + "/catalog.sqlite")
        if forWriting { try recoverInterruptedRuns() }
    }

    /// The absolute path of a store-relative path.
    public func absolute(_ relative: String) -> String { directory + "/" + relative }

    /// Deletes the traces of runs that were killed: incomplete archive rows and unreferenced
    /// segment files (including `.tmp` files of a segment being written, and the files of segments
    /// `fathom store prune` dropped from the catalog); sweeps that never finished are marked
    /// interrupted (their work is redone by the next sweep, see ``SweepEngine``).
    package func recoverInterruptedRuns() throws(CatalogError) {
        _ = try catalog.removeIncompleteArchives()
        try catalog.markInterruptedSweeps()
        let referenced = try catalog.segmentPaths()
        let manager = FileManager.default
        for kind in SourceKind.allCases {
            let folder = "segments/" + kind.rawValue
            let names = (try? manager.contentsOfDirectory(atPath: absolute(folder))) ?? []
            for name in names where !referenced.contains(folder + "/" + name) {
                try? manager.removeItem(atPath: absolute(folder + "/" + name))
            }
        }
        for name in (try? manager.contentsOfDirectory(atPath: absolute("tmp"))) ?? []
        where !SpillDirectory.belongsToLiveProcess(name) {
            try? manager.removeItem(atPath: absolute("tmp/" + name))
        }
    }
}

extension SpillDirectory {
    /// A spill folder under the store's `tmp/` (removed by the next writer if this process dies).
    package convenience init(store: Store) {
        self.init(root: store.absolute("tmp"))
    }
}

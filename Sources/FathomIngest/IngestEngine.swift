import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Ingests archives into a store: discovers the input files, reads them in parallel (one archive
/// per job), and records each in the catalog in its own transaction.
///
/// A run killed at any point leaves a store that the next run completes: an archive is recorded
/// together with its segments or not at all, and leftovers are removed when the store is opened.
public enum IngestEngine {
    /// Runs an ingest. `progress` is called at most four times a second from worker threads.
    public static func run(_ request: IngestRequest, registry: FormatRegistry = .builtIn,
                           progress: (@Sendable (IngestProgress) -> Void)? = nil) throws(IngestError) -> IngestSummary {
        let files = try discover(request, registry: registry)
        let store: Store
        do { store = try Store(directory: request.storeDirectory, forWriting: true) } catch { throw IngestError(error) }
        return try ingest(files, request: request, store: store, registry: registry, progress: progress)
    }

    /// Runs an ingest into a store the caller already opened for writing (and so holds the lock
    /// of), e.g. a sweep that ingests and then hunts under one lock.
    package static func run(_ request: IngestRequest, store: Store, registry: FormatRegistry = .builtIn,
                    progress: (@Sendable (IngestProgress) -> Void)? = nil) throws(IngestError) -> IngestSummary {
        try ingest(try discover(request, registry: registry), request: request, store: store, registry: registry,
                   progress: progress)
    }

    /// The input files of a request, after checking its format name.
    private static func discover(_ request: IngestRequest, registry: FormatRegistry) throws(IngestError) -> [DiscoveredFile] {
        if let name = request.formatName, registry.format(named: name) == nil {
            throw .unknownFormatName(name, known: registry.formats.map(\.name))
        }
        let discovery = InputDiscovery(excluding: [request.storeDirectory] + request.excludedDirectories,
                                       followsSymlinks: request.followsSymlinks,
                                       absolutePaths: request.recordsAbsolutePaths)
        return try discovery.files(in: request.paths)
    }

    private static func ingest(_ files: [DiscoveredFile], request: IngestRequest, store: Store, registry: FormatRegistry,
                               progress: (@Sendable (IngestProgress) -> Void)?) throws(IngestError) -> IngestSummary {
        let total = files.reduce(Int64(0)) { $0 + $1.size }
        let counter = ProgressCounter(bytesTotal: total, filesTotal: files.count, report: progress)
        let ingestor = ArchiveIngestor(store: store, request: request, registry: registry, progress: counter)
        let results = WorkSlots<FileOutcome, IngestError>(count: files.count)
        let jobs = max(1, min(request.jobs, files.count))
        // Largest files first, so no core is left idle at the end behind one big archive; the
        // results keep the input order.
        let order = files.indices.sorted { (files[$0].size, $1) > (files[$1].size, $0) }
        // Readers hand each archive to one committer, which waits for its segments to reach the
        // disk and records it in the catalog, while they go on reading the next archives.
        let committer = DispatchQueue(label: "fathom.ingest.commit")
        DispatchQueue.concurrentPerform(iterations: jobs) { _ in
            while let position = results.claim() {
                let index = order[position]
                let file = files[index]
                if let outcome = file.outcome {
                    results.store(index, .success(outcome))
                    counter.add(bytes: 0, rows: 0, rejected: 0, fileDone: true)
                    continue
                }
                do throws(IngestError) {
                    let pending = try ingestor.read(path: file.path, displayPath: file.displayPath)
                    committer.async {
                        do throws(IngestError) {
                            results.store(index, .success(try pending.commit()))
                        } catch {
                            results.store(index, .failure(error))
                        }
                        counter.add(bytes: 0, rows: 0, rejected: 0, fileDone: true)
                    }
                } catch {
                    results.store(index, .failure(error))
                    counter.add(bytes: 0, rows: 0, rejected: 0, fileDone: true)
                }
            }
        }
        committer.sync {}
        var outcomes: [FileOutcome] = []
        for result in results.all {
            switch result {
            case let .success(outcome): outcomes.append(outcome)
            case let .failure(error): throw error
            case nil: break
            }
        }
        let final = counter.current
        return IngestSummary(files: outcomes, bytesRead: final.bytesRead, bytesDecoded: final.bytesDecoded, seconds: final.seconds)
    }
}

/// A file found under the input paths, or an entry passed over (with its outcome).
package struct DiscoveredFile: Sendable {
    /// The path to open.
    package var path: String
    /// The path as recorded and shown: relative to the current directory when inside it.
    package var displayPath: String
    package var size: Int64
    /// Set for an entry that is not read (``FileOutcome/Status/skipped`` or
    /// ``FileOutcome/Status/notRead``): it is listed in the summary with the reason.
    package var outcome: FileOutcome?
}

/// Walks the input paths: files are taken as they are, directories recursively, in a stable
/// (sorted) order.
///
/// - Symbolic links inside the walk are followed only while they stay inside the input folders
///   (their real path under a given folder's real path), unless ``followsSymlinks``; a link out is
///   listed as skipped, never read — a link to `~/.aws/credentials` must not put a secret into a
///   report.
/// - A directory is walked once, known by its (device, inode): a link loop, or two links to one
///   folder, ends there and is listed. A file met twice (hard or symbolic links) is read once.
/// - The store and the report folder (``excluded``), and any other Fathom store met, are never
///   inputs: `fathom analyze .` run inside the evidence folder does not read its own output.
/// - FIFOs, sockets and devices are listed as skipped; a directory that cannot be opened is
///   listed as not read (exit status 2), never passed over silently.
package struct InputDiscovery {
    /// Directories that are never inputs (the store, the report folder).
    package var excluded: [String]
    package var followsSymlinks: Bool
    package var absolutePaths: Bool

    package init(excluding excluded: [String], followsSymlinks: Bool = false, absolutePaths: Bool = false) {
        self.excluded = excluded
        self.followsSymlinks = followsSymlinks
        self.absolutePaths = absolutePaths
    }

    /// A file's identity on this machine.
    private struct FileID: Hashable {
        var device: UInt64
        var inode: UInt64
        init(_ status: FileStatus) {
            device = status.device
            inode = status.inode
        }
    }

    /// The state of one walk.
    private struct Walk {
        let cwd: String
        let excluded: Set<FileID>
        let roots: [String]
        var result: [DiscoveredFile] = []
        var walkedDirectories: [FileID: String] = [:]
        var files: [FileID: String] = [:]
    }

    package func files(in paths: [String]) throws(IngestError) -> [DiscoveredFile] {
        let cwd = FileManager.default.currentDirectoryPath
        var excludedIDs = Set<FileID>()
        for path in excluded {
            if let status = try? FileStatus.following(path: Self.absolute(path, cwd: cwd)), status.isDirectory {
                excludedIDs.insert(FileID(status))
            }
        }
        var roots: [String] = []
        for path in paths {
            let full = Self.absolute(path, cwd: cwd)
            if let status = try? FileStatus.following(path: full), status.isDirectory {
                roots.append(Self.realPath(full) ?? full)
            }
        }
        var walk = Walk(cwd: cwd, excluded: excludedIDs, roots: roots)
        for path in paths {
            let full = Self.absolute(path, cwd: cwd)
            // A path given on the command line is followed even when it is a link: it was asked for.
            guard let status = try? FileStatus.following(path: full) else { throw .missingInput(path: path) }
            if status.isRegular {
                add(full, status, to: &walk)
            } else if status.isDirectory {
                visit(full, status, ignores: [], into: &walk)
            } else {
                throw .missingInput(path: path)
            }
        }
        return walk.result
    }

    /// The name of the file that lists, one glob per line, what in its directory is not evidence
    /// (documentation, answer keys). Patterns are relative to that directory; `#` starts a comment.
    package static let ignoreFileName = ".fathomignore"

    private func display(_ full: String, _ walk: Walk) -> String {
        absolutePaths ? full : Self.display(full, cwd: walk.cwd)
    }

    private func pass(_ full: String, _ status: FileOutcome.Status, _ note: String, into walk: inout Walk) {
        walk.result.append(DiscoveredFile(
            path: full, displayPath: display(full, walk), size: 0,
            outcome: FileOutcome(path: display(full, walk), status: status, size: 0, sha256: "", rows: 0, rejected: 0,
                                 formats: [], kinds: [], segments: 0, note: note)))
    }

    private func add(_ full: String, _ status: FileStatus, to walk: inout Walk) {
        let id = FileID(status)
        if let first = walk.files[id] {
            pass(full, .skipped, "the same file as '\(display(first, walk))' (a link); read once", into: &walk)
            return
        }
        walk.files[id] = full
        walk.result.append(DiscoveredFile(path: full, displayPath: display(full, walk), size: Int64(status.size)))
    }

    private func visit(_ directory: String, _ status: FileStatus, ignores: [(base: String, pattern: String)],
                       into walk: inout Walk) {
        let id = FileID(status)
        if walk.excluded.contains(id) {
            pass(directory, .skipped, "Fathom's own store or report folder; never read as evidence", into: &walk)
            return
        }
        if let first = walk.walkedDirectories[id] {
            pass(directory, .skipped,
                 "the folder '\(display(first, walk))' again (a symbolic link loop or a second link to it); walked once",
                 into: &walk)
            return
        }
        walk.walkedDirectories[id] = directory
        if FileSystem.status(directory + "/catalog.sqlite")?.isRegular == true,
           FileSystem.status(directory + "/segments")?.isDirectory == true {
            pass(directory, .skipped, "a Fathom store; never read as evidence", into: &walk)
            return
        }
        var ignores = ignores
        if let text = try? String(contentsOfFile: directory + "/" + Self.ignoreFileName, encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) {
                let pattern = line.trimmingCharacters(in: .whitespaces)
                if !pattern.isEmpty, !pattern.hasPrefix("#") { ignores.append((directory, pattern)) }
            }
        }
        let names: [String]
        do { names = try FileSystem.entries(of: directory).sorted() } catch {
            pass(directory, .notRead, "folder not read: \(error.description)", into: &walk)
            return
        }
        for name in names where name != ".git" && name != Self.ignoreFileName {
            let full = directory + "/" + name
            if ignores.contains(where: { Self.matches(glob: $0.pattern, path: String(full.dropFirst($0.base.count + 1))) }) {
                continue
            }
            guard let entry = try? FileStatus.of(path: full) else { continue }
            var status = entry
            if entry.kind == .symbolicLink {
                guard let target = Self.realPath(full), let followed = try? FileStatus.following(path: full) else {
                    pass(full, .skipped, "a symbolic link that leads nowhere (dangling, or a loop); not read", into: &walk)
                    continue
                }
                let inside = walk.roots.contains { target == $0 || target.hasPrefix($0.hasSuffix("/") ? $0 : $0 + "/") }
                guard inside || followsSymlinks else {
                    pass(full, .skipped, "a symbolic link to '\(target)', outside the input folders; not followed "
                         + "(--follow-symlinks reads it)", into: &walk)
                    continue
                }
                status = followed
            }
            switch status.kind {
            case .directory: visit(full, status, ignores: ignores, into: &walk)
            case .regular: add(full, status, to: &walk)
            case .fifo, .socket, .characterDevice, .blockDevice, .symbolicLink, .unknown:
                pass(full, .skipped, "a \(status.kind.rawValue), not a regular file; not read", into: &walk)
            }
        }
    }

    /// The canonical path of `path` (links resolved), or nil when it cannot be resolved.
    package static func realPath(_ path: String) -> String? { FileSystem.realPath(path) }

    /// Shell-style glob match (`*`, `?`, `**/` for any depth) of a relative path.
    package static func matches(glob pattern: String, path: String) -> Bool {
        if pattern.hasPrefix("**/") {
            return matches(glob: String(pattern.dropFirst(3)), path: (path as NSString).lastPathComponent)
                || FileSystem.matches(pattern: pattern, path)
        }
        let target = pattern.contains("/") ? path : (path as NSString).lastPathComponent
        return FileSystem.matches(pattern: pattern, target)
    }

    package static func absolute(_ path: String, cwd: String) -> String {
        let joined = path.hasPrefix("/") ? path : cwd + "/" + path
        return (joined as NSString).standardizingPath
    }

    package static func display(_ full: String, cwd: String) -> String {
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }
}

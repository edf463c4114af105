import FathomStore
import Foundation

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
        let store = try Store(directory: request.storeDirectory, forWriting: true)
        return try ingest(files, request: request, store: store, registry: registry, progress: progress)
    }

    /// Runs an ingest into a store the caller already opened for writing (and so holds the lock
    /// of), e.g. a sweep that ingests and then hunts under one lock.
    static func run(_ request: IngestRequest, store: Store, registry: FormatRegistry = .builtIn,
                    progress: (@Sendable (IngestProgress) -> Void)? = nil) throws(IngestError) -> IngestSummary {
        try ingest(try discover(request, registry: registry), request: request, store: store, registry: registry,
                   progress: progress)
    }

    /// The input files of a request, after checking its format name.
    private static func discover(_ request: IngestRequest, registry: FormatRegistry) throws(IngestError) -> [DiscoveredFile] {
        if let name = request.formatName, registry.format(named: name) == nil {
            throw .unknownFormatName(name, known: registry.formats.map(\.name))
        }
        return try InputDiscovery.files(in: request.paths, excluding: request.storeDirectory,
                                        absolutePaths: request.recordsAbsolutePaths)
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
        return IngestSummary(files: outcomes, bytesRead: final.bytesRead, seconds: final.seconds)
    }
}

/// A file found under the input paths.
struct DiscoveredFile: Sendable {
    /// The path to open.
    var path: String
    /// The path as recorded and shown: relative to the current directory when inside it.
    var displayPath: String
    var size: Int64
}

/// Walks the input paths: files are taken as they are, directories recursively, in a stable order.
enum InputDiscovery {
    static func files(in paths: [String], excluding storeDirectory: String,
                      absolutePaths: Bool = false) throws(IngestError) -> [DiscoveredFile] {
        let manager = FileManager.default
        let cwd = manager.currentDirectoryPath
        let display = { (full: String) in absolutePaths ? full : Self.display(full, cwd: cwd) }
        let excluded = absolute(storeDirectory, cwd: cwd)
        var result: [DiscoveredFile] = []
        var seen = Set<String>()
        for path in paths {
            guard let status = FileSystem.status(path) else { throw .missingInput(path: path) }
            if status.isRegular {
                let full = absolute(path, cwd: cwd)
                if seen.insert(full).inserted {
                    result.append(DiscoveredFile(path: path, displayPath: display(full), size: status.size))
                }
            } else if status.isDirectory {
                var found: [String] = []
                walk(absolute(path, cwd: cwd), excluded: excluded, into: &found)
                for full in found.sorted() where seen.insert(full).inserted {
                    let size = FileSystem.status(full)?.size ?? 0
                    result.append(DiscoveredFile(path: full, displayPath: display(full), size: size))
                }
            } else {
                throw .missingInput(path: path)
            }
        }
        return result
    }

    /// The name of the file that lists, one glob per line, what in its directory is not evidence
    /// (documentation, answer keys). Patterns are relative to that directory; `#` starts a comment.
    static let ignoreFileName = ".fathomignore"

    static func walk(_ directory: String, excluded: String, into found: inout [String],
                             ignores: [(base: String, pattern: String)] = []) {
        guard directory != excluded else { return }
        var ignores = ignores
        if let text = try? String(contentsOfFile: directory + "/" + ignoreFileName, encoding: .utf8) {
            for line in text.split(whereSeparator: \.isNewline) {
                let pattern = line.trimmingCharacters(in: .whitespaces)
                if !pattern.isEmpty, !pattern.hasPrefix("#") { ignores.append((directory, pattern)) }
            }
        }
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).sorted()
        for name in names where name != ".git" && name != ignoreFileName {
            let full = directory + "/" + name
            if ignores.contains(where: { matches(glob: $0.pattern, path: String(full.dropFirst($0.base.count + 1))) }) {
                continue
            }
            guard let status = FileSystem.status(full) else { continue }
            if status.isDirectory {
                walk(full, excluded: excluded, into: &found, ignores: ignores)
            } else if status.isRegular {
                found.append(full)
            }
        }
    }

    /// Shell-style glob match (`*`, `?`, `**/` for any depth) of a relative path, via `fnmatch(3)`.
    static func matches(glob pattern: String, path: String) -> Bool {
        if pattern.hasPrefix("**/") { return matches(glob: String(pattern.dropFirst(3)), path: (path as NSString).lastPathComponent) || fnmatch(pattern, path, 0) == 0 }
        let target = pattern.contains("/") ? path : (path as NSString).lastPathComponent
        return fnmatch(pattern, target, 0) == 0
    }

    static func absolute(_ path: String, cwd: String) -> String {
        let joined = path.hasPrefix("/") ? path : cwd + "/" + path
        return (joined as NSString).standardizingPath
    }

    static func display(_ full: String, cwd: String) -> String {
        let prefix = cwd.hasSuffix("/") ? cwd : cwd + "/"
        return full.hasPrefix(prefix) ? String(full.dropFirst(prefix.count)) : full
    }
}

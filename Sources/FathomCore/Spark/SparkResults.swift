import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect

/// The outputs of Fathom's Spark job (`fathom spark-job`), read back for `fathom analyze
/// --from-results DIR`.
///
/// ```
/// DIR/manifest/part-*.txt      the job: spec version, tool version, inputs, rules it computed
/// DIR/archives/part-*.txt      JSON Lines, one archive each: path, size, mtime_ns, sha256,
///                              compression, container, members, reject reasons and samples
/// DIR/rows/kind=K/day=D/*.gz   JSON Lines (gzip): one canonical row each — archive, member,
///                              line, ord (its order in the archive), time and the kind's columns
///                              (text as strings, numbers as numbers, hash128 as 32 hex digits)
/// DIR/hits/part-*.txt          hits in Fathom's JSON Lines hit schema
/// DIR/sigma-hits/part-*.txt    the hits of the Sigma rules compiled to Spark SQL (when the job
///                              was written with --rules), in the same schema
/// ```
///
/// The rows are loaded into a store exactly as the native ingest writes it (the same segment
/// builder and catalog records, archive by archive in path order, rows in archive order), so the
/// native analysis and report writers run unchanged over it.
public enum SparkResults {
    public struct Manifest: Codable, Sendable {
        public var specVersion: Int
        public var toolVersion: String
        public var inputs: [String]
        public var rules: [String]
        /// The Sigma rules the job computed (nil: the job had none).
        public var sigmaRules: [String]?
        /// The Sigma rules it did not, and why (the native engine runs them).
        public var sigmaSkipped: [SparkSigma.Skipped]?
        /// SHA-256 of the `fathom-spec.json` the job ran with (its settings among it); nil in
        /// results of jobs older than this field.
        public var specSha256: String?
    }

    /// What loading one results folder into a store did.
    public struct LoadOutcome: Sendable {
        /// Ids of the archives this load recorded, in path order.
        public var loaded: [Int64] = []
        /// Archives the store already held (same path, size and modification time, or the same
        /// SHA-256 elsewhere: a copy, recorded as one), and archives whose path the store holds
        /// with other content (recorded as altered evidence): none of their rows were loaded.
        public var known: [String] = []
        /// Archives the job could not decode (a format it does not read).
        public var unsupported: [String] = []
        /// Whether the results hold rows of an archive this load did not record (known, altered
        /// or left out): then the job's hits were computed over rows other than those loaded.
        public var hasRowsNotLoaded = false
        /// Source kinds with rows that have no time (`day=undated`): a time-bounded hunt does not
        /// read them, while the job's hits do.
        public var undatedKinds: Set<SourceKind> = []
    }

    struct Member: Codable {
        var name: String
        var format: String
        var rows: Int64
        var rejected: Int64
        var note: String?
    }

    struct Sample: Codable {
        var member: String
        var line: Int64
        var reason: String
    }

    struct Archive: Codable {
        var path: String
        var size: Int64
        var mtimeNs: Int64
        var sha256: String
        var compression: String
        var container: String
        var members: [Member]
        var rejectReasons: [String: Int64]
        var rejectSamples: [Sample]
    }

    public enum LoadError: Error, CustomStringConvertible {
        case missing(String)
        case malformed(path: String, line: Int, detail: String)
        case store(String)

        public var description: String {
            switch self {
            case let .missing(path): "Cannot read Spark results: '\(path)' is missing (expected the output folder of fathom_spark_job.py)."
            case let .malformed(path, line, detail): "Cannot read Spark results: '\(path)' line \(line): \(detail)."
            case let .store(detail): "Cannot load Spark results into the store: \(detail)"
            }
        }
    }

    /// The JSON Lines of every part file under `directory` (gzip-compressed or not), in path order.
    static func lines(under directory: String) throws -> [(path: String, line: Int, text: [UInt8])] {
        var result: [(String, Int, [UInt8])] = []
        for path in try partFiles(under: directory) {
            let bytes = try contents(of: path)
            var start = 0
            var number = 0
            for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A {
                if index > start {
                    number += 1
                    result.append((path, number, Array(bytes[start..<index])))
                }
                start = index + 1
            }
        }
        return result
    }

    /// Where one row of the results is: its archive (index in the sorted archive list), its order
    /// in that archive, and its line in an inflated part file.
    struct RowRef {
        var archive: Int32
        var file: Int32
        var ord: Int64
        var offset: Int64
        var length: Int32
    }

    /// Reads byte ranges of files through a 256 KiB window per file: an archive's rows lie close
    /// together in a part file, so most rows come from the window, and nothing is mapped (mapped
    /// pages of gigabytes of inflated rows count as the process's memory).
    struct WindowedReader {
        static let window = 256 << 10
        let paths: [String]
        private var handles: [Int: FileHandle] = [:]
        private var windows: [Int: (start: Int, data: Data)] = [:]

        init(paths: [String]) { self.paths = paths }

        mutating func read(file: Int, offset: Int, count: Int) throws -> Data {
            if let window = windows[file], offset >= window.start, offset + count <= window.start + window.data.count {
                let from = window.data.startIndex + offset - window.start
                return window.data.subdata(in: from..<(from + count))
            }
            let handle: FileHandle
            if let open = handles[file] {
                handle = open
            } else {
                guard let opened = FileHandle(forReadingAtPath: paths[file]) else { throw LoadError.missing(paths[file]) }
                // Bounded: at most 64 files open and 64 windows (16 MiB) held.
                if handles.count >= 64 {
                    for open in handles.values { try? open.close() }
                    handles = [:]
                    windows = [:]
                }
                handles[file] = opened
                handle = opened
            }
            do {
                try handle.seek(toOffset: UInt64(offset))
                let data = try handle.read(upToCount: max(count, Self.window)) ?? Data()
                guard data.count >= count else { throw LoadError.malformed(path: paths[file], line: 0, detail: "row past the end of the file") }
                windows[file] = (offset, data)
                return data.subdata(in: data.startIndex..<(data.startIndex + count))
            } catch let error as LoadError {
                throw error
            } catch {
                throw LoadError.store("cannot read \(paths[file]): \(error)")
            }
        }
    }

    /// The part files under `directory` (not their `.crc` companions), in path order.
    static func partFiles(under directory: String) throws -> [String] {
        guard let walker = FileManager.default.enumerator(atPath: directory) else { throw LoadError.missing(directory) }
        var files: [String] = []
        while let next = walker.nextObject() as? String {
            let name = (next as NSString).lastPathComponent
            guard name.hasPrefix("part-"), !name.hasSuffix(".crc") else { continue }
            files.append(directory + "/" + next)
        }
        return files.sorted()
    }

    /// A file's bytes, gunzipped when it is gzip.
    static func contents(of path: String) throws -> [UInt8] {
        let mapping = try FileMapping(path: path)
        let source = MappedStream(mapping: mapping)
        let stream: any ByteStream = path.hasSuffix(".gz") ? GzipStream(source: source, name: path) : source
        var bytes: [UInt8] = []
        while let event = try stream.next() {
            if case let .bytes(view) = event { bytes += view.array }
        }
        return bytes
    }

    /// 32 hex digits as a hash: the first 16 the low word, the rest the high word.
    static func hash128(hex: String) -> Hash128? {
        guard hex.utf8.count == 32, let low = UInt64(hex.prefix(16), radix: 16), let high = UInt64(hex.suffix(16), radix: 16)
        else { return nil }
        return Hash128(low: low, high: high)
    }

    /// The manifest of a results folder, which must come from a job of this build's spec version
    /// (``SparkSpec/version``): its rows and hits are read as this build reads them.
    public static func currentManifest(in directory: String) throws -> Manifest {
        let manifest = try manifest(in: directory)
        guard manifest.specVersion == SparkSpec.version else {
            throw LoadError.malformed(path: directory + "/manifest", line: 1,
                                      detail: "spec version \(manifest.specVersion), expected \(SparkSpec.version)")
        }
        return manifest
    }

    public static func manifest(in directory: String) throws -> Manifest {
        let parts = try lines(under: directory + "/manifest")
        let text = parts.map { String(decoding: $0.text, as: UTF8.self) }.joined(separator: "\n")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do { return try decoder.decode(Manifest.self, from: Data(text.utf8)) } catch {
            throw LoadError.malformed(path: directory + "/manifest", line: 1, detail: "\(error)")
        }
    }

    /// The hits the job computed.
    public static func hits(in directory: String) throws -> [Hit] {
        let decoder = JSONDecoder()
        return try lines(under: directory + "/hits").map { part in
            do { return try decoder.decode(Hit.self, from: Data(part.text)) } catch {
                throw LoadError.malformed(path: part.path, line: part.line, detail: "not a hit: \(error)")
            }
        }
    }

    /// The hits of the Sigma rules the job computed (none when it ran no Sigma rules).
    public static func sigmaHits(in directory: String) throws -> [Hit] {
        let folder = directory + "/sigma-hits"
        guard FileManager.default.fileExists(atPath: folder) else { return [] }
        let decoder = JSONDecoder()
        return try lines(under: folder).map { part in
            do { return try decoder.decode(Hit.self, from: Data(part.text)) } catch {
                throw LoadError.malformed(path: part.path, line: part.line, detail: "not a hit: \(error)")
            }
        }
    }

    /// Loads the archives and rows of `directory` into the (new or empty) store at `storeDirectory`;
    /// archives already in the store (same SHA-256) are not loaded twice. Returns the paths of
    /// archives the job could not decode.
    public static func load(from directory: String, into storeDirectory: String) throws -> [String] {
        let store: Store
        do { store = try Store(directory: storeDirectory, forWriting: true) } catch { throw LoadError.store("\(error)") }
        return try withExtendedLifetime(store) { try load(from: directory, into: store, asSweep: false).unsupported }
    }

    /// Whether the store already knows a results archive, as `fathom sweep` knows a watched file
    /// (see `KnownIdentity`, with the SHA-256 the job computed): the same path, size and
    /// modification time; the same path with other content (recorded as altered evidence); the
    /// same SHA-256 at another path (recorded as a copy).
    static func isKnown(_ archive: Archive, catalog: Catalog) throws -> Bool {
        if try catalog.completeArchive(path: archive.path, size: archive.size, modificationTime: archive.mtimeNs) != nil
            || catalog.alias(path: archive.path, size: archive.size, modificationTime: archive.mtimeNs) != nil
            || catalog.alteredEvidence(path: archive.path, size: archive.size, modificationTime: archive.mtimeNs) != nil {
            return true
        }
        let now = Clock.nowNanoseconds()
        let samePath = try catalog.completeArchives(path: archive.path)
        if let original = samePath.first {
            if let same = samePath.first(where: { $0.sha256 == archive.sha256 }) {
                try catalog.recordAlias(archiveID: same.id, path: archive.path, size: archive.size,
                                        modificationTime: archive.mtimeNs, seenAt: now)
            } else {
                try catalog.recordAlteredEvidence(archiveID: original.id, path: archive.path, size: archive.size,
                                                  modificationTime: archive.mtimeNs, sha256: archive.sha256, detectedAt: now)
            }
            return true
        }
        if let existing = try catalog.completeArchive(sha256: archive.sha256) {
            try catalog.recordAlias(archiveID: existing.id, path: archive.path, size: archive.size,
                                    modificationTime: archive.mtimeNs, seenAt: now)
            return true
        }
        return false
    }

    /// Loads the archives and rows of `directory` into `store` (whose writer lock the caller holds).
    ///
    /// For `fathom analyze --from-results` (`asSweep` false) an archive is skipped when the store
    /// has its SHA-256, and an archive the job could not decode is recorded (with its members'
    /// format `unsupported-in-spark`). For `fathom sweep` (`asSweep` true) archives are known as
    /// the sweep knows watched files (``isKnown(_:catalog:)``: copies and altered evidence are
    /// recorded for the digest), and an archive with a member the job could not decode is not
    /// recorded — it is listed, so that a native sweep can still read it. When no archive is new,
    /// no row is read.
    public static func load(from directory: String, into store: Store, asSweep: Bool) throws -> LoadOutcome {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        var archives: [Archive] = []
        for part in try lines(under: directory + "/archives") {
            do { archives.append(try decoder.decode(Archive.self, from: Data(part.text))) } catch {
                throw LoadError.malformed(path: part.path, line: part.line, detail: "not an archive record: \(error)")
            }
        }
        archives.sort { $0.path < $1.path }
        var outcome = LoadOutcome()
        let catalog = store.catalog
        // Which archives to load: decided before any row is read.
        var isNew: [Bool] = []
        for archive in archives {
            let unsupported = archive.members.contains { $0.format == "unsupported-in-spark" }
            if unsupported { outcome.unsupported.append(archive.path) }
            if asSweep {
                if try isKnown(archive, catalog: catalog) {
                    outcome.known.append(archive.path)
                    isNew.append(false)
                } else {
                    isNew.append(!unsupported)
                }
            } else {
                isNew.append(try catalog.completeArchive(sha256: archive.sha256) == nil)
            }
        }
        guard isNew.contains(true) else {
            outcome.hasRowsNotLoaded = archives.contains { $0.members.contains { $0.rows > 0 } }
            return outcome
        }
        // The rows, located, not held: each part file is inflated once into the store's tmp/ and
        // each row kept as (archive, ord, file, offset, length) — 32 bytes — so loading the results
        // of a 1 GB week holds a few hundred megabytes, not every row as a dictionary (10 GB).
        let archiveIndex = Dictionary(archives.enumerated().map { ($0.element.path, Int32($0.offset)) }, uniquingKeysWith: { first, _ in first })
        let spill = SpillDirectory(store: store)
        // The inflated part files live until the rows are loaded (the folder goes with `spill`).
        defer { withExtendedLifetime(spill) {} }
        var files: [(kind: SourceKind, path: String)] = []
        var refs: [RowRef] = []
        let parser = JSONParser()
        let kindsDirectory = directory + "/rows"
        let kindFolders = (try? FileManager.default.contentsOfDirectory(atPath: kindsDirectory)) ?? []
        for folder in kindFolders.sorted() where folder.hasPrefix("kind=") {
            guard let kind = SourceKind(rawValue: String(folder.dropFirst(5))) else {
                throw LoadError.malformed(path: kindsDirectory + "/" + folder, line: 0, detail: "unknown source kind")
            }
            if FileManager.default.fileExists(atPath: kindsDirectory + "/" + folder + "/day=undated") {
                outcome.undatedKinds.insert(kind)
            }
            for part in try partFiles(under: kindsDirectory + "/" + folder) {
                let bytes = try contents(of: part)
                let file = Int32(files.count)
                let copy = try spill.path(of: "rows-\(file).jsonl")
                guard FileManager.default.createFile(atPath: copy, contents: Data(bytes)) else {
                    throw LoadError.store("cannot write \(copy)")
                }
                files.append((kind, copy))
                var start = 0
                var number = 0
                for index in 0...bytes.count where index == bytes.count || bytes[index] == 0x0A {
                    defer { start = index + 1 }
                    guard index > start else { continue }
                    number += 1
                    let located: (archive: String, ord: Int64)? = Array(bytes[start..<index]).withByteView { line in
                        guard let root = try? parser.parse(line).root, let archive = root["archive"]?.string,
                              let ord = root["ord"]?.int64 else { return nil }
                        return (archive, ord)
                    }
                    guard let located else {
                        throw LoadError.malformed(path: part, line: number, detail: "not a row object with archive and ord")
                    }
                    // Rows of an archive the results do not list are not loaded (as before).
                    guard let archive = archiveIndex[located.archive] else { continue }
                    guard isNew[Int(archive)] else {
                        outcome.hasRowsNotLoaded = true
                        continue
                    }
                    refs.append(RowRef(archive: archive, file: file, ord: located.ord, offset: Int64(start), length: Int32(index - start)))
                }
            }
        }
        refs.sort { ($0.archive, $0.ord, $0.file, $0.offset) < ($1.archive, $1.ord, $1.file, $1.offset) }
        var reader = WindowedReader(paths: files.map(\.path))
        var nextRef = 0
        for (position, archive) in archives.enumerated() {
            // This archive's rows: the next run of the sorted references.
            var end = nextRef
            while end < refs.count, refs[end].archive == Int32(position) { end += 1 }
            let range = nextRef..<end
            nextRef = end
            // Known before this load, or loaded meanwhile (two archives of one SHA-256).
            guard isNew[position], try catalog.completeArchive(sha256: archive.sha256) == nil else {
                if !range.isEmpty { outcome.hasRowsNotLoaded = true }
                continue
            }
            let id = try catalog.beginArchive(path: archive.path, size: archive.size, modificationTime: archive.mtimeNs,
                                              startedAt: Clock.nowNanoseconds())
            var segments: [SegmentRecord] = []
            var sequence = 0
            let writer = RowWriter(maxRows: 1 << 20, maxBytes: 256 << 20) { kind, builder throws(IngestError) in
                sequence += 1
                let relative = "segments/\(kind.rawValue)/\(id)-\(sequence).seg"
                do throws(StoreError) {
                    let info = try builder.write(to: store.absolute(relative), archiveID: id, durable: true)
                    segments.append(SegmentRecord(info, archiveID: id, path: relative, kind: kind))
                } catch {
                    throw .storeWrite(input: archive.path, error)
                }
                builder.reset()
            }
            var memberStats: [String: (kinds: Set<SourceKind>, rows: Int64, first: Int64?, last: Int64?)] = [:]
            for ref in refs[range] {
                let kind = files[Int(ref.file)].kind
                let start = Int(ref.offset)
                let text = try reader.read(file: Int(ref.file), offset: start, count: Int(ref.length))
                guard let row = try? JSONSerialization.jsonObject(with: text) as? [String: Any] else {
                    throw LoadError.malformed(path: files[Int(ref.file)].path, line: 0, detail: "not a row object")
                }
                let member = row["member"] as? String ?? ""
                let line = (row["line"] as? NSNumber)?.int64Value ?? 0
                let time = (row["time"] as? NSNumber)?.int64Value ?? Int64.min
                writer.member = member
                writer.line = line
                writer.begin(kind, time: time, overrides: .none)
                let schema = kind.schema
                for (index, column) in schema.columns.enumerated() where !["time", "member", "line"].contains(column.name) {
                    guard let value = row[column.name], !(value is NSNull) else { continue }
                    switch column.type {
                    case .int64:
                        if let number = value as? NSNumber { writer.setInt64(number.int64Value, at: index) }
                    case .float64:
                        if let number = value as? NSNumber { writer.setDouble(number.doubleValue, at: index) }
                    case .hash128:
                        if let hex = value as? String, let hash = hash128(hex: hex) { writer.setHash(hash, at: index) }
                    default:
                        if let text = value as? String { writer.setString(text, at: index) }
                    }
                }
                writer.commit()
                try writer.flushIfFull()
                // Rows of a plain (non-tar) archive name no member; its one member record is the archive.
                let memberName = member.isEmpty ? archive.path : member
                var stats = memberStats[memberName] ?? ([], 0, nil, nil)
                stats.kinds.insert(kind)
                stats.rows += 1
                if time != Int64.min {
                    stats.first = min(stats.first ?? time, time)
                    stats.last = max(stats.last ?? time, time)
                }
                memberStats[memberName] = stats
            }
            try writer.flushAll()
            let members = archive.members.map { member in
                let stats = memberStats[member.name]
                let kinds = (stats?.kinds ?? []).sorted { $0.code < $1.code }.map(\.rawValue).joined(separator: ",")
                return MemberRecord(name: member.name, format: member.format, kind: kinds, rows: stats?.rows ?? 0,
                                    rejected: member.rejected, firstTime: stats?.first, lastTime: stats?.last,
                                    note: member.note ?? "")
            }
            let result = ArchiveResult(sha256: archive.sha256, compression: archive.compression, container: archive.container,
                                       members: members,
                                       rejectSamples: archive.rejectSamples.map { RejectSample(member: $0.member, line: $0.line, reason: $0.reason, sample: []) },
                                       rejectReasons: archive.rejectReasons, segments: segments)
            if case .recorded = try catalog.completeArchive(id: id, result: result, ingestedAt: Clock.nowNanoseconds()) {
                outcome.loaded.append(id)
            }
        }
        return outcome
    }
}

import FathomStore
import Foundation
import FathomSupport

/// SHA-256 values of model artifacts as a model registry recorded them.
///
/// Accepted: JSON — an array of objects, an object with an `artifacts`/`models`/`entries` array,
/// or an object mapping path → hash; objects carry `path` (or `file`/`artifact`) or `name` (or
/// `model`) with optional `version`, and `sha256` (or `hash`/`digest`, `sha256:` prefix allowed).
/// CSV — with a header naming those columns, or headerless `path,sha256` / `name,version,sha256`.
public struct RegistryHashes: Sendable, Equatable {
    public struct Entry: Sendable, Equatable, Codable {
        public var path: String?
        public var name: String?
        public var version: String?
        public var sha256: String
        /// 1-based line (CSV) or index + 1 (JSON) in the registry file.
        public var line: Int

        /// How the entry is shown: its path, or `name@version`.
        public var label: String { path ?? ((name ?? "?") + (version.map { "@" + $0 } ?? "")) }
    }

    public var file: String
    public var entries: [Entry]

    public static func load(path: String) throws(IntegrityError) -> RegistryHashes {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .unreadableInput(path: path, reason: "cannot be read.")
        }
        let text = String(decoding: data, as: UTF8.self)
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let entries: [Entry]
        if trimmed.hasPrefix("{") || trimmed.hasPrefix("[") {
            entries = try parseJSON(data, path: path)
        } else {
            entries = try parseCSV(text, path: path)
        }
        return RegistryHashes(file: path, entries: entries)
    }

    package static func cleanHash(_ value: String) -> String {
        var hash = value.trimmingCharacters(in: .whitespaces).lowercased()
        if hash.hasPrefix("sha256:") { hash = String(hash.dropFirst(7)) }
        return hash
    }

    package static func parseJSON(_ data: Data, path: String) throws(IntegrityError) -> [Entry] {
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw .invalidInput(path: path, reason: "registry hashes are not valid JSON (\(error.localizedDescription)).")
        }
        var objects: [[String: Any]] = []
        if let array = root as? [[String: Any]] {
            objects = array
        } else if let object = root as? [String: Any] {
            if let array = (object["artifacts"] ?? object["models"] ?? object["entries"]) as? [[String: Any]] {
                objects = array
            } else {
                objects = object.compactMap { key, value in (value as? String).map { ["path": key, "sha256": $0] as [String: Any] } }
                    .sorted { ($0["path"] as? String ?? "") < ($1["path"] as? String ?? "") }
            }
        }
        var entries: [Entry] = []
        for (index, object) in objects.enumerated() {
            func string(_ keys: String...) -> String? {
                for key in keys { if let value = object[key] as? String, !value.isEmpty { return value } }
                for key in keys { if let value = object[key] as? NSNumber { return value.stringValue } }
                return nil
            }
            guard let hash = string("sha256", "hash", "digest").map(cleanHash), Hex.isSHA256(hash) else {
                throw .invalidInput(path: path, reason: "entry \(index + 1) has no 64-digit sha256.")
            }
            let entry = Entry(path: string("path", "file", "artifact"), name: string("name", "model"),
                              version: string("version"), sha256: hash, line: index + 1)
            guard entry.path != nil || entry.name != nil else {
                throw .invalidInput(path: path, reason: "entry \(index + 1) names neither a path nor a model.")
            }
            entries.append(entry)
        }
        return entries
    }

    package static func parseCSV(_ text: String, path: String) throws(IntegrityError) -> [Entry] {
        var entries: [Entry] = []
        var columns: [String: Int]?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.hasSuffix("\r") ? String(rawLine.dropLast()) : String(rawLine)
            if line.trimmingCharacters(in: .whitespaces).isEmpty || line.hasPrefix("#") { continue }
            let fields = splitCSV(line)
            if columns == nil, entries.isEmpty, fields.contains(where: { ["sha256", "hash", "digest"].contains($0.lowercased()) }) {
                var map: [String: Int] = [:]
                for (index, field) in fields.enumerated() { map[field.lowercased()] = index }
                columns = map
                continue
            }
            func column(_ names: String...) -> String? {
                guard let columns else { return nil }
                for name in names { if let index = columns[name], index < fields.count, !fields[index].isEmpty { return fields[index] } }
                return nil
            }
            var entry: Entry
            if columns != nil {
                entry = Entry(path: column("path", "file", "artifact"), name: column("name", "model"),
                              version: column("version"), sha256: cleanHash(column("sha256", "hash", "digest") ?? ""),
                              line: number + 1)
            } else if fields.count == 2 {
                entry = Entry(path: fields[0], name: nil, version: nil, sha256: cleanHash(fields[1]), line: number + 1)
            } else if fields.count == 3 {
                entry = Entry(path: nil, name: fields[0], version: fields[1], sha256: cleanHash(fields[2]), line: number + 1)
            } else {
                throw .invalidInput(path: path, reason: "line \(number + 1) has \(fields.count) fields, expected path,sha256 or name,version,sha256.")
            }
            guard Hex.isSHA256(entry.sha256) else {
                throw .invalidInput(path: path, reason: "line \(number + 1) has hash '\(entry.sha256)', expected 64 hex digits.")
            }
            guard entry.path != nil || entry.name != nil else {
                throw .invalidInput(path: path, reason: "line \(number + 1) names neither a path nor a model.")
            }
            entries.append(entry)
        }
        return entries
    }

    /// Splits one CSV line; double quotes group and `""` is a quote.
    package static func splitCSV(_ line: String) -> [String] {
        var fields: [String] = []
        var current = ""
        var quoted = false
        var iterator = Array(line).makeIterator()
        var pending: Character?
        while let character = pending ?? iterator.next() {
            pending = nil
            if quoted {
                if character == "\"" {
                    if let next = iterator.next() {
                        if next == "\"" { current.append("\"") } else { quoted = false; pending = next }
                    } else { quoted = false }
                } else { current.append(character) }
            } else if character == "\"" {
                quoted = true
            } else if character == "," {
                fields.append(current.trimmingCharacters(in: .whitespaces))
                current = ""
            } else {
                current.append(character)
            }
        }
        fields.append(current.trimmingCharacters(in: .whitespaces))
        return fields
    }

    /// Whether `entry` describes the artifact at `relativePath` (relative to the scanned root).
    package static func entry(_ entry: Entry, describes relativePath: String) -> Bool {
        if let path = entry.path {
            var wanted = path
            while wanted.hasPrefix("./") { wanted.removeFirst(2) }
            return wanted == relativePath || relativePath.hasSuffix("/" + wanted) || wanted.hasSuffix("/" + relativePath)
        }
        guard let name = entry.name?.lowercased() else { return false }
        let components = relativePath.lowercased().split(separator: "/").map(String.init)
        let fileName = components.last ?? ""
        let stem = fileName.split(separator: ".").first.map(String.init) ?? fileName
        guard let version = entry.version?.lowercased() else {
            return components.dropLast().contains(name) || stem == name
        }
        if let at = components.firstIndex(of: name), components.dropFirst(at + 1).dropLast().contains(version) { return true }
        return [name + "-" + version, name + "_" + version, name + "@" + version, name + "-v" + version].contains {
            fileName == $0 || fileName.hasPrefix($0 + ".")
        }
    }
}

/// One file looked at by the artifact scan.
public struct ScannedArtifact: Codable, Sendable, Equatable {
    public var path: String
    /// What the content is, outermost layer first, by content: `pickle`, `zip`, `gzip+pickle`,
    /// `zip+npy`, … or `not-a-model-artifact` (no pickle found), or the kind of a non-regular entry.
    public var format: String
    /// Where inside the file pickles were walked: zip members (`archive/data.pkl`), nested members
    /// joined by `!` (`inner.zip!data.pkl`), decoded layers in parentheses (`(gzip)`).
    public var members: [String]
    public var sha256: String?
}

/// The result of `fathom scan-artifacts`.
public struct ArtifactScanReport: Codable, Sendable {
    public var root: String
    public var registry: String?
    /// The policy files in force (`built-in` first).
    public var policy: [String]
    /// The level at and above which a finding fails the scan (exit 5).
    public var failOn: Severity
    public var artifacts: [ScannedArtifact]
    /// Registry entries that matched no file under the root.
    public var registryEntriesNotFound: [RegistryHashes.Entry]
    public var findings: [IntegrityFinding]
    public var outcome: IntegrityOutcome
}

/// What the artifact scan reads and how far.
public struct ArtifactScanOptions: Sendable {
    public var policy: PicklePolicy
    /// Findings at or above this level make the outcome `findings` (exit 5); lower ones are listed.
    public var failOn: Severity
    /// How many containers deep (zip in zip, gzip around a zip, …) content is opened.
    public var maxDepth: Int
    /// The largest nested zip held in memory when it comes out of a compressed layer (a zip stored
    /// in a zip is read in place, whatever its size).
    public var nestedArchiveLimit: Int
    /// A compressed zip member declaring more than this and more than ``bombRatio`` times its
    /// compressed size is refused unread, as a decompression bomb.
    public var memberLimit: Int
    public var bombRatio: Int

    public init(policy: PicklePolicy = PickleScanner.defaultPolicy, failOn: Severity = .high, maxDepth: Int = 6,
                nestedArchiveLimit: Int = 256 << 20, memberLimit: Int = 1 << 30, bombRatio: Int = 100) {
        self.policy = policy
        self.failOn = failOn
        self.maxDepth = maxDepth
        self.nestedArchiveLimit = nestedArchiveLimit
        self.memberLimit = memberLimit
        self.bombRatio = bombRatio
    }
}

/// Scans model artifacts without loading them: every pickle stream, wherever it hides, and
/// optionally each file's SHA-256 against what a model registry recorded.
///
/// Content decides, never the name: a file or member is opened as a zip (`PK\3\4`; every member,
/// stored or compressed, whatever its name, zips inside zips to ``ArtifactScanOptions/maxDepth``),
/// a tar archive (every regular member; PyTorch's oldest checkpoints are tars),
/// gzip, bzip2, xz, `.lzma`, zlib or zstd (decoded as a stream), a NumPy `.npy` (an object array's
/// data is a pickle; `.npz` is a zip of them), or a pickle of any protocol — one with a `PROTO`
/// header or a `.pkl`/`.pickle`/`data.pkl` name walked strictly, anything else accepted as a pickle
/// only when it walks as one (see ``PickleScanner``). joblib files are pickles with arrays in line
/// (skipped) and nested pickles (walked); compressed joblib files are zlib, gzip, bz2, xz or `.lzma`.
///
/// Offsets in findings are from the start of the decoded stream the pickle is in (the file, or
/// the member); `attributes.fileOffset` gives the offset in the file where the bytes are stored
/// uncompressed. Memory stays flat: streams are read forward in chunks, stored data is skipped
/// without being read, and mapped pages are released behind the reader.
///
/// - Complexity: O(bytes of pickle streams + bytes decoded + hashed bytes / cores).
public enum ArtifactScanner {
    package static let pickleExtensions: Set<String> = ["pkl", "pickle"]
    /// Largest declared size of a compressed zip member read without the bomb check.
    public static let memberLimit = 1 << 30

    public static func scan(root: String, registry: RegistryHashes? = nil, options: ArtifactScanOptions = ArtifactScanOptions(),
                            hasher: ParallelHasher = ParallelHasher(),
                            progress: (@Sendable (ProgressSnapshot) -> Void)? = nil) throws(IntegrityError) -> ArtifactScanReport {
        let category = IncidentCategory.supplyChainCompromise
        var (walk, findings) = try IntegrityWalk.walk(root: root, category: category)
        var artifacts: [ScannedArtifact] = []
        let entries = walk.entries.sorted { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        let regularFiles = entries.filter { $0.status.kind == .regular }
        let scanned = progress.map {
            FileProgress(phase: "scan", filesTotal: regularFiles.count,
                         bytesTotal: regularFiles.reduce(0) { $0 + Int64($1.status.size) }, report: $0)
        }
        for entry in entries {
            guard entry.status.kind == .regular else {
                artifacts.append(ScannedArtifact(path: entry.relativePath, format: entry.status.kind.rawValue, members: []))
                continue
            }
            let (artifact, found) = scanFile(root: root, relativePath: entry.relativePath, options: options)
            artifacts.append(artifact)
            findings += found
            scanned?.fileDone(size: Int64(entry.status.size))
        }

        var notFound: [RegistryHashes.Entry] = []
        if let registry {
            let regular = entries.filter { $0.status.kind == .regular }
            var wanted: [(WalkedEntry, [RegistryHashes.Entry])] = []
            var used = Set<Int>()
            for file in regular {
                let described = registry.entries.enumerated().filter { RegistryHashes.entry($0.element, describes: file.relativePath) }
                guard !described.isEmpty else { continue }
                described.forEach { used.insert($0.offset) }
                wanted.append((file, described.map(\.element)))
            }
            notFound = registry.entries.enumerated().filter { !used.contains($0.offset) }.map(\.element)
            let results = hasher.hash(wanted.map { .init(path: root + "/" + $0.0.relativePath, sizeHint: $0.0.status.size) })
            for ((file, described), result) in zip(wanted, results) {
                switch result {
                case let .failure(error):
                    findings.append(.unreadable(path: file.relativePath, reason: error.description, category: category))
                case let .success(hashed):
                    if let index = artifacts.firstIndex(where: { $0.path == file.relativePath }) { artifacts[index].sha256 = hashed.sha256 }
                    for expected in described where expected.sha256 != hashed.sha256 {
                        findings.append(IntegrityFinding(
                            kind: .artifactHashMismatch, category: category, severity: .critical, subject: file.relativePath,
                            detail: "SHA-256 \(hashed.sha256) differs from the registry's \(expected.sha256) for '\(expected.label)'.",
                            evidence: FindingEvidence(file: file.relativePath), time: hashed.modificationTime,
                            attributes: ["expectedSha256": expected.sha256, "actualSha256": hashed.sha256,
                                         "registryEntry": expected.label, "registryFile": registry.file,
                                         "registryLine": String(expected.line), "size": String(hashed.size)]))
                    }
                }
            }
        }
        findings.sort()
        return ArtifactScanReport(root: root, registry: registry?.file, policy: options.policy.sources, failOn: options.failOn,
                                  artifacts: artifacts, registryEntriesNotFound: notFound, findings: findings,
                                  outcome: IntegrityOutcome.of(findings, failingAt: options.failOn))
    }

    /// Scans one regular file.
    package static func scanFile(root: String, relativePath: String,
                                 options: ArtifactScanOptions = ArtifactScanOptions()) -> (ScannedArtifact, [IntegrityFinding]) {
        var inspection = ArtifactInspection(file: relativePath, options: options)
        inspection.inspectFile(path: root + "/" + relativePath)
        let format = inspection.formats.first ?? "not-a-model-artifact"
        return (ScannedArtifact(path: relativePath, format: format, members: inspection.pickleLocations), inspection.findings)
    }

    /// Scans bytes held in memory as if they were the file `name` (for fuzzing and for callers that
    /// already hold an artifact): the same layers and pickles as ``scan(root:registry:options:hasher:)``.
    public static func scan(content: some Collection<UInt8>, name: String,
                            options: ArtifactScanOptions = ArtifactScanOptions()) -> (ScannedArtifact, [IntegrityFinding]) {
        var inspection = ArtifactInspection(file: name, options: options)
        let head = Array(content.prefix(4))
        if ArtifactInspection.zipMagic.contains(head) {
            let mapping = FileMapping(copying: content, name: name)
            inspection.inspectZip(mapping: mapping, range: 0..<mapping.count, location: [], layers: [], depth: 0)
        } else {
            inspection.inspectStream(OwnedBytesStream(copying: content, name: name), location: [], layers: [], depth: 0,
                                     name: PathTools.lastComponent(name), fileOffsetBase: 0)
        }
        let format = inspection.formats.first ?? "not-a-model-artifact"
        return (ScannedArtifact(path: name, format: format, members: inspection.pickleLocations), inspection.findings.sorted())
    }

    /// The findings for one walked pickle stream at `location` (nil: the file itself).
    package static func findingsFor(_ result: PickleScanResult, file: String, member: String?, fileOffsetBase: Int?,
                                    layers: String) -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        for item in result.imports {
            let shown = item.qualifiedName + (item.importedAs.map { " (imported by Python 3 as \($0))" } ?? "")
            var detail = "Pickle imports \(shown) via \(item.opcode) (\(item.reason))"
            detail += item.invokedBy.isEmpty ? "." : "; invoked by \(item.invokedBy.joined(separator: ", "))."
            var attributes = ["import": item.qualifiedName, "module": item.module, "name": item.name, "opcode": item.opcode,
                              "rule": item.rule, "pickleIndex": String(item.pickleIndex), "container": layers]
            if let importedAs = item.importedAs { attributes["importedAs"] = importedAs }
            if !item.invokedBy.isEmpty { attributes["invokedBy"] = item.invokedBy.joined(separator: ",") }
            if let base = fileOffsetBase { attributes["fileOffset"] = String(base + item.offset) }
            findings.append(IntegrityFinding(kind: .unsafePickleImport, category: .supplyChainCompromise, severity: item.severity,
                                             subject: file, detail: detail,
                                             evidence: FindingEvidence(file: file, offset: item.offset, member: member),
                                             attributes: attributes))
        }
        if let error = result.error {
            findings.append(.unreadable(path: file, reason: "malformed pickle: \(error.detail).", category: .supplyChainCompromise,
                                        member: member, offset: error.offset))
        }
        for damage in result.damage {
            findings.append(.unreadable(path: file, reason: "damaged content: \(damage.detail) (what was readable was scanned).",
                                        category: .supplyChainCompromise, member: member, offset: damage.offset))
        }
        return findings
    }
}

/// One file's walk through its layers of containers and compression down to its pickles.
package struct ArtifactInspection {
    package let file: String
    package let options: ArtifactScanOptions
    package var findings: [IntegrityFinding] = []
    /// The layer chain of every pickle or array found (`zip+pickle`, `gzip+pickle`); the first is
    /// the file's format.
    package var formats: [String] = []
    package var pickleLocations: [String] = []

    package init(file: String, options: ArtifactScanOptions) {
        self.file = file
        self.options = options
    }

    package static let zipMagic: [[UInt8]] = [[0x50, 0x4B, 0x03, 0x04], [0x50, 0x4B, 0x05, 0x06]]
    private static let npyMagic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    private mutating func problem(_ reason: String, location: [String], offset: Int? = nil) {
        findings.append(.unreadable(path: file, reason: reason, category: .supplyChainCompromise,
                                    member: location.isEmpty ? nil : location.joined(separator: "!"), offset: offset))
    }

    private mutating func noteFormat(_ layers: [String]) {
        let text = layers.joined(separator: "+")
        if !formats.contains(text) { formats.append(text) }
    }

    package mutating func inspectFile(path: String) {
        let file: EvidenceFile
        do throws(StoreError) {
            file = try EvidenceFile(path: path)
        } catch {
            problem(error.description, location: [])
            return
        }
        let head = file.head(4)
        if Self.zipMagic.contains(head) {
            let mapping: FileMapping
            do throws(StoreError) {
                mapping = try FileMapping(path: path)
            } catch {
                problem(error.description, location: [])
                return
            }
            inspectZip(mapping: mapping, range: 0..<mapping.count, location: [], layers: [], depth: 0)
        } else {
            inspectStream(FileReadStream(file: file), location: [], layers: [], depth: 0,
                          name: PathTools.lastComponent(self.file), fileOffsetBase: 0)
        }
    }

    /// The members of the zip archive in `range` of `mapping`.
    package mutating func inspectZip(mapping: FileMapping, range: Range<Int>, location: [String], layers: [String], depth: Int) {
        let archive: ZipArchive
        do throws(StoreError) {
            archive = try ZipArchive(mapping: mapping, range: range)
        } catch {
            problem(error.description, location: location)
            return
        }
        let layers = layers + ["zip"]
        if location.isEmpty, formats.isEmpty { formats = ["zip"] }
        for member in archive.entries where !member.isDirectory {
            let memberLocation = location + [member.name]
            if member.method != 0, member.uncompressedSize > options.memberLimit,
               member.uncompressedSize / Swift.max(1, member.compressedSize) > options.bombRatio {
                problem("refused: member '\(member.name)' declares \(member.uncompressedSize) bytes from \(member.compressedSize) compressed (a decompression bomb?); not inspected.",
                        location: memberLocation)
                continue
            }
            if member.method == 0, !member.isEncrypted, let start = try? archive.dataOffset(of: member) {
                let absolute = (range.lowerBound + start)..<(range.lowerBound + start + member.compressedSize)
                let head = mapping.bytes[absolute.lowerBound..<Swift.min(absolute.upperBound, absolute.lowerBound + 4)].array
                if Self.zipMagic.contains(head) {
                    guard depth + 1 < options.maxDepth else {
                        problem("zip nested more than \(options.maxDepth) deep; not inspected.", location: memberLocation)
                        continue
                    }
                    inspectZip(mapping: mapping, range: absolute, location: memberLocation, layers: layers, depth: depth + 1)
                    continue
                }
                do throws(StoreError) {
                    let stream = try archive.memberStream(of: member)
                    inspectStream(stream, location: memberLocation, layers: layers, depth: depth + 1,
                                  name: member.name, fileOffsetBase: absolute.lowerBound)
                } catch {
                    problem(error.description, location: memberLocation)
                }
                continue
            }
            do throws(StoreError) {
                let stream = try archive.memberStream(of: member)
                inspectStream(stream, location: memberLocation, layers: layers, depth: depth + 1, name: member.name, fileOffsetBase: nil)
            } catch {
                problem("member '\(member.name)' not inspected: \(error.description)", location: memberLocation)
            }
        }
    }

    /// Whatever `stream` holds: a container or compressed layer to open, a `.npy`, or pickles.
    package mutating func inspectStream(_ source: any ByteStream, location: [String], layers: [String], depth: Int,
                                        name: String, fileOffsetBase: Int?) {
        let stream = PeekableStream(source: source)
        let head: [UInt8]
        do throws(StoreError) {
            head = try stream.peek(PeekableStream.capacity).array
        } catch {
            problem(error.description, location: location)
            return
        }
        let view = head
        func starts(_ magic: [UInt8]) -> Bool { view.starts(with: magic) }
        func deeper(_ label: String) -> Bool {
            guard depth + 1 < options.maxDepth else {
                problem("\(label) nested more than \(options.maxDepth) layers deep; not inspected.", location: location)
                return false
            }
            return true
        }
        if Self.zipMagic.contains(where: starts) {
            guard deeper("zip") else { return }
            let input = PickleInput(stream)
            let bytes = input.read(upTo: options.nestedArchiveLimit + 1)
            if bytes.count > options.nestedArchiveLimit {
                problem("nested zip larger than \(options.nestedArchiveLimit) bytes inside a compressed layer; not inspected.", location: location)
                return
            }
            if let failure = input.failure { problem(failure.description, location: location); return }
            inspectZip(mapping: FileMapping(copying: bytes, name: file + "!" + location.joined(separator: "!")), range: 0..<bytes.count,
                       location: location, layers: layers, depth: depth + 1)
            return
        }
        if starts([0x1F, 0x8B]) {
            guard deeper("gzip") else { return }
            inspectStream(GzipStream(source: stream, name: name), location: location + ["(gzip)"], layers: layers + ["gzip"],
                          depth: depth + 1, name: Self.strippingSuffix(name), fileOffsetBase: nil)
            return
        }
        if starts([0x28, 0xB5, 0x2F, 0xFD]) {
            guard deeper("zstd") else { return }
            inspectStream(ZstdStream(source: stream, name: name), location: location + ["(zstd)"], layers: layers + ["zstd"],
                          depth: depth + 1, name: Self.strippingSuffix(name), fileOffsetBase: nil)
            return
        }
        if let codec = Codec.sniff(head) {
            guard deeper(codec.rawValue) else { return }
            inspectStream(CodecStream(source: stream, codec: codec, name: name), location: location + ["(\(codec.rawValue))"],
                          layers: layers + [codec.rawValue], depth: depth + 1, name: Self.strippingSuffix(name), fileOffsetBase: nil)
            return
        }
        if head.count >= 262, head[257..<262].elementsEqual("ustar".utf8) {
            guard deeper("tar") else { return }
            noteFormat(layers + ["tar"])
            let reader = TarReader(source: stream)
            do throws(StoreError) {
                while let member = try reader.nextMember() {
                    inspectStream(member.stream, location: location + [member.name], layers: layers + ["tar"], depth: depth + 1,
                                  name: member.name, fileOffsetBase: nil)
                }
            } catch {
                problem(error.description, location: location)
            }
            for damage in reader.damage {
                problem("damaged tar archive: \(damage.detail).", location: location, offset: damage.offset)
            }
            return
        }
        let input = PickleInput(stream)
        var strict = PickleScanner.looksLikePickle(head)
        var format = "pickle"
        if starts(Self.npyMagic) {
            format = "npy"
            guard let isObject = readNumpyHeader(input, location: location) else { return }
            noteFormat(layers + ["npy"])
            guard isObject else { return }
            strict = true
        }
        let lower = name.lowercased()
        if ArtifactScanner.pickleExtensions.contains(where: { lower.hasSuffix("." + $0) }) { strict = true }
        let result = PickleScanner.scan(input, policy: options.policy, isStrict: strict)
        guard result.isPickle else {
            if let failure = input.failure { problem(failure.description, location: location) }
            for damage in input.damage {
                problem("damaged content: \(damage.detail).", location: location, offset: damage.offset)
            }
            return
        }
        if format == "pickle" { noteFormat(layers + ["pickle"]) }
        let member = location.isEmpty ? nil : location.joined(separator: "!")
        if let member, !pickleLocations.contains(member) { pickleLocations.append(member) }
        findings += ArtifactScanner.findingsFor(result, file: file, member: member, fileOffsetBase: fileOffsetBase,
                                                layers: (layers + [format]).joined(separator: "+"))
    }

    /// Reads a `.npy` header (format 1.0–3.0); returns whether the array holds Python objects (its
    /// data is then a pickle that `np.load(allow_pickle=True)` runs), or nil after reporting damage.
    package mutating func readNumpyHeader(_ input: PickleInput, location: [String]) -> Bool? {
        guard let prefix = input.bytes(8) else {
            problem("truncated .npy header.", location: location)
            return nil
        }
        let major = prefix[6]
        let lengthWidth = major == 1 ? 2 : 4
        guard (1...3).contains(major), let lengthBytes = input.bytes(lengthWidth) else {
            problem(".npy header of unsupported version \(major).\(prefix[7]).", location: location)
            return nil
        }
        var length = 0
        for (index, byte) in lengthBytes.enumerated() { length |= Int(byte) << (8 * index) }
        guard length <= 1 << 20, let header = input.bytes(length) else {
            problem(".npy header of \(length) bytes is truncated or too long.", location: location)
            return nil
        }
        return Self.numpyDescriptorHasObject(header)
    }

    /// Whether the `descr` of a `.npy` header dict names an object type (`'|O'`, or `'O'` among
    /// the fields of a structured dtype).
    package static func numpyDescriptorHasObject(_ header: [UInt8]) -> Bool {
        let text = String(decoding: header, as: UTF8.self)
        guard let descr = text.range(of: "'descr'") ?? text.range(of: "\"descr\"") else { return false }
        var value = text[descr.upperBound...]
        if let end = value.range(of: "'fortran_order'") ?? value.range(of: "'shape'") { value = value[..<end.lowerBound] }
        let scalars = Array(value.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let quote = scalars[index]
            guard quote == "'" || quote == "\"" else { index += 1; continue }
            var end = index + 1
            while end < scalars.count, scalars[end] != quote { end += 1 }
            var type = String(String.UnicodeScalarView(scalars[(index + 1)..<Swift.min(end, scalars.count)]))
            if let first = type.first, "|<>=".contains(first) { type.removeFirst() }
            if type.first == "O", type.dropFirst().allSatisfy(\.isNumber) { return true }
            index = end + 1
        }
        return false
    }

    /// `model.pkl.gz` → `model.pkl`, so the inner stream keeps the name's hint.
    package static func strippingSuffix(_ name: String) -> String {
        guard let dot = name.lastIndex(of: ".") else { return name }
        return String(name[..<dot])
    }
}

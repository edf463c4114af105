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
    /// `pickle`, `zip`, `not-a-model-artifact` or the kind of a non-regular entry.
    public var format: String
    /// Pickle members walked inside a zip.
    public var members: [String]
    public var sha256: String?
}

/// The result of `fathom scan-artifacts`.
public struct ArtifactScanReport: Codable, Sendable {
    public var root: String
    public var registry: String?
    public var artifacts: [ScannedArtifact]
    /// Registry entries that matched no file under the root.
    public var registryEntriesNotFound: [RegistryHashes.Entry]
    public var findings: [IntegrityFinding]
    public var outcome: IntegrityOutcome
}

/// Scans model artifacts without loading them: pickle opcode streams in `.pkl`/`.pickle` files
/// and in the pickle members of zip checkpoints (PyTorch `.pt`/`.pth`/`.bin`: `*/data.pkl`), and
/// optionally compares each file's SHA-256 with what a model registry recorded.
///
/// Formats are recognised by content (zip signature, `PROTO` opcode); the extension is used only
/// to try protocol 0/1 pickles, which have no magic. Offsets in findings are from the start of the
/// pickle stream (inside the member for zips; `attributes.fileOffset` gives the file offset of
/// stored members).
///
/// - Complexity: O(total bytes of pickle streams + hashed bytes / cores).
public enum ArtifactScanner {
    package static let pickleExtensions: Set<String> = ["pkl", "pickle"]
    package static let checkpointExtensions: Set<String> = ["pt", "pth", "bin", "ckpt", "joblib", "pkl", "pickle", "model"]
    /// Largest uncompressed pickle member inflated into memory.
    public static let memberLimit = 1 << 30

    public static func scan(root: String, registry: RegistryHashes? = nil,
                            hasher: ParallelHasher = ParallelHasher()) throws(IntegrityError) -> ArtifactScanReport {
        let category = IncidentCategory.supplyChainCompromise
        var (walk, findings) = try IntegrityWalk.walk(root: root, category: category)
        var artifacts: [ScannedArtifact] = []
        let entries = walk.entries.sorted { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        for entry in entries {
            guard entry.status.kind == .regular else {
                artifacts.append(ScannedArtifact(path: entry.relativePath, format: entry.status.kind.rawValue, members: []))
                continue
            }
            let (artifact, found) = scanFile(root: root, relativePath: entry.relativePath)
            artifacts.append(artifact)
            findings += found
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
        return ArtifactScanReport(root: root, registry: registry?.file, artifacts: artifacts,
                                  registryEntriesNotFound: notFound, findings: findings, outcome: IntegrityOutcome.of(findings))
    }

    /// Scans one regular file.
    package static func scanFile(root: String, relativePath: String) -> (ScannedArtifact, [IntegrityFinding]) {
        let category = IncidentCategory.supplyChainCompromise
        var artifact = ScannedArtifact(path: relativePath, format: "not-a-model-artifact", members: [])
        var findings: [IntegrityFinding] = []
        let fileExtension = (PathTools.lastComponent(relativePath).split(separator: ".").last.map(String.init) ?? "").lowercased()
        let mapping: FileMapping
        do throws(StoreError) {
            mapping = try FileMapping(path: root + "/" + relativePath)
        } catch {
            return (artifact, [.unreadable(path: relativePath, reason: error.description, category: category)])
        }
        let bytes = mapping.bytes
        if ZipArchive.looksLikeZip(bytes) {
            artifact.format = "zip"
            do throws(StoreError) {
                let archive = try ZipArchive(mapping: mapping)
                for member in archive.entries where !member.isDirectory {
                    let lower = member.name.lowercased()
                    var isPickleMember = lower.hasSuffix(".pkl") || lower.hasSuffix(".pickle")
                    var dataStart: Int?
                    if member.method == 0, let start = try? archive.dataOffset(of: member) {
                        dataStart = start
                        if !isPickleMember {
                            isPickleMember = PickleScanner.looksLikePickle(ByteRegion(bytes[start..<(start + Swift.min(8, member.compressedSize))]))
                        }
                    }
                    guard isPickleMember else { continue }
                    artifact.members.append(member.name)
                    do {
                        let (result, crcMatches) = try archive.withContents(of: member, limit: memberLimit) { view in
                            PickleScanner.scan(ByteRegion(view))
                        }
                        if !crcMatches {
                            findings.append(.unreadable(path: relativePath, reason: "member '\(member.name)' fails its CRC-32 check (scanned anyway).",
                                                        category: category, member: member.name))
                        }
                        findings += findingsFor(result, file: relativePath, member: member.name, fileOffsetBase: dataStart)
                    } catch {
                        findings.append(.unreadable(path: relativePath, reason: "\(error)", category: category, member: member.name))
                    }
                }
            } catch {
                findings.append(.unreadable(path: relativePath, reason: error.description, category: category))
            }
        } else if PickleScanner.looksLikePickle(ByteRegion(bytes[0..<8]))
                    || (pickleExtensions.contains(fileExtension) && !bytes.isEmpty) {
            artifact.format = "pickle"
            let result = PickleScanner.scan(ByteRegion(bytes))
            findings += findingsFor(result, file: relativePath, member: nil, fileOffsetBase: 0)
        }
        return (artifact, findings)
    }

    package static func findingsFor(_ result: PickleScanResult, file: String, member: String?, fileOffsetBase: Int?) -> [IntegrityFinding] {
        var findings: [IntegrityFinding] = []
        for item in result.imports {
            var detail = "Pickle imports \(item.qualifiedName) via \(item.opcode) (\(item.reason))"
            detail += item.invokedBy.isEmpty ? "." : "; invoked by \(item.invokedBy.joined(separator: ", "))."
            var attributes = ["import": item.qualifiedName, "module": item.module, "name": item.name, "opcode": item.opcode]
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
        return findings
    }
}

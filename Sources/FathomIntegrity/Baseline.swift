import Foundation
import FathomStore
import FathomSupport

/// The hash baselines `fathom verify` reads besides its own manifests: what teams already keep.
///
/// - `fathom-manifest` JSON (``Manifest``);
/// - a JSON object of path → SHA-256 (`{"data/train.csv": "9f86…"}`), the playbook's integrity check;
/// - `sha256sum` / `shasum -a 256` output: `<hash>  <path>` or `<hash> *<path>` (binary marker), GNU's
///   escaped form (a leading `\`, `\\` and `\n` in the name) and the BSD tag form `SHA256 (<path>) = <hash>`;
/// - a CycloneDX JSON BOM: components (and nested components) with a SHA-256 in `hashes`, named by
///   their `name` (the path, for `file` components);
/// - an SPDX 2.x document: JSON `files[]` (`fileName`, `checksums` SHA256) or tag-value
///   (`FileName:` then `FileChecksum: SHA256:`).
///
/// Paths may start with `./`; absolute paths are made relative to their common folder, which is then
/// the root unless one is given. A baseline without sizes and times (all but Fathom's) verifies the
/// same way: a changed, missing or new file is reported alike, with "not recorded" for what it lacks.
public enum Baseline {
    /// The formats, as reports name them.
    public enum Format: String, Sendable, Codable {
        case fathomManifest = "fathom-manifest"
        case pathHashJSON = "path-sha256-json"
        case sha256sum
        case cycloneDX = "cyclonedx"
        case spdx
    }

    /// A baseline read from a file: its entries as a manifest (root: the recorded one, or where the
    /// paths are relative to), and its format.
    public struct Loaded: Sendable {
        public var manifest: Manifest
        public var format: Format
    }

    /// Reads `path` in whichever format it is in.
    ///
    /// - Throws: ``IntegrityError/unreadableInput(path:reason:)`` when it cannot be read,
    ///   ``IntegrityError/invalidInput(path:reason:)`` with one sentence when it is none of the formats
    ///   or an entry is unusable (a hash that is not 64 hex digits, a path that leaves the root).
    public static func load(path: String) throws(IntegrityError) -> Loaded {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path))
        } catch {
            throw .unreadableInput(path: path, reason: error.localizedDescription)
        }
        let folder = (path as NSString).deletingLastPathComponent
        let baseRoot = folder.isEmpty ? "." : folder
        if let object = try? JSONSerialization.jsonObject(with: data) {
            if let dictionary = object as? [String: Any] {
                if dictionary["header"] != nil, dictionary["files"] != nil {
                    return Loaded(manifest: try Manifest.load(path: path), format: .fathomManifest)
                }
                if let entries = try pathHashes(dictionary, path: path) {
                    return Loaded(manifest: try manifest(entries, root: baseRoot, path: path), format: .pathHashJSON)
                }
                if dictionary["bomFormat"] as? String == "CycloneDX" {
                    var entries: [(String, String)] = []
                    collectCycloneDX(dictionary["components"], into: &entries)
                    guard !entries.isEmpty else {
                        throw .invalidInput(path: path, reason: "the CycloneDX BOM lists no component with a SHA-256 hash.")
                    }
                    return Loaded(manifest: try manifest(entries, root: baseRoot, path: path), format: .cycloneDX)
                }
                if dictionary["spdxVersion"] != nil, let files = dictionary["files"] as? [[String: Any]] {
                    let entries: [(String, String)] = files.compactMap { file in
                        guard let name = file["fileName"] as? String,
                              let checksums = file["checksums"] as? [[String: Any]],
                              let hash = checksums.first(where: { ($0["algorithm"] as? String)?.uppercased() == "SHA256" })?["checksumValue"] as? String
                        else { return nil }
                        return (name, hash)
                    }
                    guard !entries.isEmpty else {
                        throw .invalidInput(path: path, reason: "the SPDX document lists no file with a SHA256 checksum.")
                    }
                    return Loaded(manifest: try manifest(entries, root: baseRoot, path: path), format: .spdx)
                }
            }
            throw .invalidInput(path: path, reason: "JSON, but not a Fathom manifest, a {path: sha256} object, a CycloneDX BOM or an SPDX document.")
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw .invalidInput(path: path, reason: "neither JSON nor UTF-8 text: not a hash baseline.")
        }
        if text.contains("SPDXVersion:"), let entries = spdxTagValue(text), !entries.isEmpty {
            return Loaded(manifest: try manifest(entries, root: baseRoot, path: path), format: .spdx)
        }
        if let entries = try sumLines(text, path: path) {
            return Loaded(manifest: try manifest(entries, root: baseRoot, path: path), format: .sha256sum)
        }
        throw .invalidInput(path: path, reason: "not a hash baseline Fathom reads (a Fathom manifest, {path: sha256} JSON, sha256sum or shasum output, CycloneDX or SPDX).")
    }

    /// `{"path": "hash", …}` when every value is a string and at least one is a SHA-256; nil when
    /// the object has another shape.
    private static func pathHashes(_ object: [String: Any], path: String) throws(IntegrityError) -> [(String, String)]? {
        guard !object.isEmpty else { return nil }
        var entries: [(String, String)] = []
        for (name, value) in object {
            guard let hash = value as? String else { return nil }
            entries.append((name, hash))
        }
        guard entries.contains(where: { Hex.isSHA256($0.1) }) else { return nil }
        return entries
    }

    private static func collectCycloneDX(_ node: Any?, into entries: inout [(String, String)]) {
        guard let components = node as? [[String: Any]] else { return }
        for component in components {
            if let name = component["name"] as? String, let hashes = component["hashes"] as? [[String: Any]],
               let hash = hashes.first(where: { ($0["alg"] as? String)?.uppercased() == "SHA-256" })?["content"] as? String {
                entries.append((name, hash))
            }
            collectCycloneDX(component["components"], into: &entries)
        }
    }

    private static func spdxTagValue(_ text: String) -> [(String, String)]? {
        var entries: [(String, String)] = []
        var current: String?
        for line in text.split(whereSeparator: \.isNewline) {
            if line.hasPrefix("FileName:") {
                current = line.dropFirst("FileName:".count).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("FileChecksum:"), let name = current {
                let value = line.dropFirst("FileChecksum:".count).trimmingCharacters(in: .whitespaces)
                if value.uppercased().hasPrefix("SHA256:") {
                    entries.append((name, value.dropFirst("SHA256:".count).trimmingCharacters(in: .whitespaces)))
                }
            }
        }
        return entries
    }

    /// `sha256sum` / `shasum -a 256` lines; nil when the first non-blank line is not one. A later
    /// line that is not one is an error naming it (a half-read baseline would hide files).
    private static func sumLines(_ text: String, path: String) throws(IntegrityError) -> [(String, String)]? {
        var entries: [(String, String)] = []
        for (number, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var line = Substring(raw)
            if line.hasSuffix("\r") { line = line.dropLast() }
            if line.trimmingCharacters(in: .whitespaces).isEmpty { continue }
            guard let entry = sumLine(line) else {
                if entries.isEmpty { return nil }
                throw .invalidInput(path: path, reason: "line \(number + 1) is not a '<sha256>  <path>' line.")
            }
            entries.append(entry)
        }
        return entries.isEmpty ? nil : entries
    }

    private static func sumLine(_ line: Substring) -> (String, String)? {
        // GNU marks a line whose name it escaped (a backslash or newline in it) with a leading `\`.
        var rest = line
        let escaped = rest.hasPrefix("\\")
        if escaped { rest = rest.dropFirst() }
        let name: Substring
        let hash: Substring
        if rest.hasPrefix("SHA256 ("), let close = rest.range(of: ") = ", options: .backwards) {
            // The tag form: SHA256 (name) = hash
            name = rest[rest.index(rest.startIndex, offsetBy: 8)..<close.lowerBound]
            hash = rest[close.upperBound...]
        } else {
            // hash, a space, then ' ' (text) or '*' (binary), then the name
            hash = rest.prefix(64)
            rest = rest.dropFirst(64)
            guard rest.hasPrefix(" "), rest.count >= 3 else { return nil }
            rest = rest.dropFirst()
            guard rest.first == " " || rest.first == "*" else { return nil }
            name = rest.dropFirst()
        }
        guard hash.count == 64, Hex.isSHA256(String(hash)), !name.isEmpty else { return nil }
        return (escaped ? unescape(name) : String(name), String(hash))
    }

    /// A name as GNU coreutils escaped it: `\\` is a backslash, `\n` a newline, `\r` a carriage return.
    private static func unescape(_ name: Substring) -> String {
        var out = ""
        var iterator = name.makeIterator()
        while let character = iterator.next() {
            guard character == "\\" else { out.append(character); continue }
            switch iterator.next() {
            case "n": out.append("\n")
            case "\\": out.append("\\")
            case "r": out.append("\r")
            case let other?: out.append("\\"); out.append(other)
            case nil: out.append("\\")
            }
        }
        return out
    }

    /// A manifest of `entries` (path, hash): `./` dropped, absolute paths made relative to their
    /// common folder (then the root), sizes and times not recorded.
    private static func manifest(_ entries: [(String, String)], root: String, path: String) throws(IntegrityError) -> Manifest {
        var names = entries.map { name, _ in name.hasPrefix("./") ? String(name.dropFirst(2)) : name }
        var root = root
        if names.allSatisfy({ $0.hasPrefix("/") }) {
            let folders = names.map { ($0 as NSString).deletingLastPathComponent.split(separator: "/") }
            var common = folders.first ?? []
            for folder in folders.dropFirst() {
                common = Array(zip(common, folder).prefix { $0 == $1 }.map(\.0))
            }
            root = "/" + common.joined(separator: "/")
            let prefix = root == "/" ? "/" : root + "/"
            names = names.map { String($0.dropFirst(prefix.count)) }
        }
        var files: [Manifest.Entry] = []
        var seen = Set<String>()
        for (index, (_, hash)) in entries.enumerated() {
            let name = names[index]
            guard Manifest.isSafeRelativePath(name) else {
                throw .invalidInput(path: path, reason: "entry path '\(name)' leaves the root or mixes absolute and relative paths.")
            }
            guard Hex.isSHA256(hash) else {
                throw .invalidInput(path: path, reason: "entry '\(name)' has hash '\(hash)', expected 64 hex digits.")
            }
            guard seen.insert(name).inserted else {
                throw .invalidInput(path: path, reason: "entry '\(name)' is listed twice.")
            }
            files.append(Manifest.Entry(path: name, size: Manifest.Entry.unrecorded, modificationTime: Int64.min,
                                        modified: "", sha256: hash.lowercased()))
        }
        files.sort { $0.path < $1.path }
        let header = Manifest.Header(format: Manifest.formatName, formatVersion: Manifest.formatVersion, tool: "imported",
                                     toolVersion: "", algorithm: "sha256", root: root, fileCount: files.count,
                                     totalBytes: 0, createdAt: nil)
        return Manifest(header: header, files: files, skipped: [])
    }
}

import FathomStore
import Foundation
import FathomSupport

/// What `fathom deps --component` looks for: `NAME`, `NAME@VERSION`, `NAME#SHA256` or a package
/// URL (`pkg:pypi/torch@2.1.0`).
public struct ComponentQuery: Sendable, Equatable, CustomStringConvertible {
    public var name: String
    public var version: String?
    public var sha256: String?
    /// The purl type (`pypi`, `npm`, …) when the query was a package URL.
    public var ecosystem: String?

    public init(name: String, version: String? = nil, sha256: String? = nil, ecosystem: String? = nil) {
        self.name = name
        self.version = version
        self.sha256 = sha256
        self.ecosystem = ecosystem
    }

    /// Parses the command-line form; nil when the text is not one of the accepted forms.
    public static func parse(_ text: String) -> ComponentQuery? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let purl = PackageURL(trimmed) {
            return ComponentQuery(name: purl.name, version: purl.version, ecosystem: purl.type)
        }
        if let hash = trimmed.firstIndex(of: "#") {
            let name = String(trimmed[..<hash])
            var digest = String(trimmed[trimmed.index(after: hash)...]).lowercased()
            if digest.hasPrefix("sha256:") { digest = String(digest.dropFirst(7)) }
            guard !name.isEmpty, Hex.isSHA256(digest) else { return nil }
            return ComponentQuery(name: name, sha256: digest)
        }
        if let at = trimmed.firstIndex(of: "@") {
            let name = String(trimmed[..<at])
            let version = String(trimmed[trimmed.index(after: at)...])
            guard !name.isEmpty, !version.isEmpty else { return nil }
            return ComponentQuery(name: name, version: version)
        }
        return trimmed.isEmpty ? nil : ComponentQuery(name: trimmed)
    }

    public var description: String {
        name + (version.map { "@" + $0 } ?? "") + (sha256.map { "#" + $0 } ?? "")
    }

    /// Whether a dependency with these facts is the one asked for. Python packages (purl type
    /// `pypi` or a requirements file) compare PEP 503 normalised names; others compare names
    /// case-insensitively. Versions compare exactly; a hash must be among the pinned ones.
    package func matches(name candidate: String, isPython: Bool, ecosystem candidateEcosystem: String?,
                 version candidateVersion: String?, sha256 candidateHashes: [String]) -> Bool {
        if let ecosystem, let candidateEcosystem, ecosystem != candidateEcosystem { return false }
        let python = isPython || ecosystem == "pypi"
        let same = python
            ? RequirementsParser.normalize(candidate) == RequirementsParser.normalize(name)
            : candidate.lowercased() == name.lowercased()
        guard same else { return false }
        if let version, candidateVersion != version { return false }
        if let sha256, !candidateHashes.contains(sha256) { return false }
        return true
    }
}

/// One model that depends on the queried component.
public struct DependencyMatch: Codable, Sendable, Equatable {
    public var model: String
    public var inventory: String
    /// `cyclonedx` or `requirements`.
    public var inventoryKind: String
    public var component: String
    public var version: String?
    public var purl: String?
    /// From the model to the component, each step `name@version`.
    public var path: [String]
    public var isDirect: Bool
    /// False when an SBOM lists the component but its dependency graph does not reach it from the model.
    public var isInDependencyGraph: Bool
    public var evidence: FindingEvidence
}

/// The answer to "are other models using the same dependency?".
public struct DependencyReport: Codable, Sendable {
    public var query: String
    public var inventory: String
    /// Every model found in the inventory, sorted.
    public var models: [String]
    public var matches: [DependencyMatch]
    /// `dependency-match` findings (one per match) and `unreadable` ones for inventory files that
    /// could not be read or parsed.
    public var findings: [IntegrityFinding]
    public var outcome: IntegrityOutcome
    /// Every inventory file read, hashed from the bytes read (paths relative to `inventory`, or
    /// as written for an included file outside it), for the evidence report. Not encoded.
    public var filesRead: [InventoryFile] = []

    private enum CodingKeys: String, CodingKey { case query, inventory, models, matches, findings, outcome }
}

/// One inventory file as read: path, size and SHA-256 (lowercase hex).
public struct InventoryFile: Sendable, Equatable {
    public var path: String
    public var size: Int64
    public var sha256: String
}

/// Searches a directory of dependency inventories (CycloneDX JSON SBOMs, requirements files and
/// `pip freeze` output) for the models that depend on a component.
///
/// Each SBOM's `metadata.component` is one model; each requirements file is one model named after
/// the file, or after its folder when the file name is generic (`requirements.txt`,
/// `requirements-gpu.txt`, `freeze.txt`, …). A requirements file included (`-r`) by another one is
/// part of that model, not a model of its own. Files are recognised by content: JSON with
/// `"bomFormat": "CycloneDX"`, and text files named `*.txt`/`*.in` or `*requirements*`/`*freeze*`.
///
/// - Complexity: O(total inventory size + components + edges).
public enum DependencyIndex {
    package static let largestInventory = 64 << 20

    public static func search(inventory root: String, for query: ComponentQuery) throws(IntegrityError) -> DependencyReport {
        let category = IncidentCategory.supplyChainCompromise
        var (walk, findings) = try IntegrityWalk.walk(root: root, category: category)
        var models: [String] = []
        var matches: [DependencyMatch] = []
        var requirementFiles: [String] = []
        var filesRead: [InventoryFile] = []
        let entries = walk.entries.filter { $0.status.kind == .regular }
            .sorted { $0.relativePath.utf8.lexicographicallyPrecedes($1.relativePath.utf8) }
        for entry in entries {
            let relative = entry.relativePath
            let path = root + "/" + relative
            let lowerName = PathTools.lastComponent(relative).lowercased()
            let isJSON = lowerName.hasSuffix(".json")
            let isRequirements = lowerName.hasSuffix(".txt") || lowerName.hasSuffix(".in")
                || lowerName.contains("requirements") || lowerName.contains("freeze")
            guard isJSON || isRequirements else { continue }
            guard entry.status.size <= largestInventory else {
                findings.append(.unreadable(path: relative, reason: "larger than \(largestInventory) bytes; not read as an inventory.", category: category))
                continue
            }
            guard let data = FileManager.default.contents(atPath: path) else {
                findings.append(.unreadable(path: relative, reason: "cannot be read.", category: category))
                continue
            }
            var hasher = SHA256Stream()
            data.withByteView { hasher.update($0) }
            filesRead.append(InventoryFile(path: relative, size: Int64(data.count), sha256: hasher.finalize()))
            let firstByte = data.first { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 && $0 != 0xEF && $0 != 0xBB && $0 != 0xBF }
            if firstByte == UInt8(ascii: "{") {
                do {
                    guard let bom = try CycloneDXBOM.decodeIfCycloneDX(data) else { continue }
                    let model = modelName(bom: bom, relativePath: relative)
                    models.append(model)
                    matches += search(bom: bom, model: model, file: relative, query: query)
                } catch {
                    findings.append(.unreadable(path: relative, reason: "CycloneDX BOM does not decode: \(error)", category: category))
                }
            } else if isRequirements {
                requirementFiles.append(relative)
            }
        }
        // Requirement files included by another one belong to the including model.
        var included: Set<String> = []
        var inventories: [String: RequirementsInventory] = [:]
        for relative in requirementFiles {
            let inventory = RequirementsInventory.load(path: root + "/" + relative)
            inventories[relative] = inventory
            for file in inventory.files.dropFirst() {
                if let inside = PathTools.relative(file, to: root) {
                    included.insert(inside)
                } else if !filesRead.contains(where: { $0.path == file }), case let .success(hashed) = ParallelHasher.hashFile(at: file) {
                    // An included file outside the inventory folder was read too: hash it.
                    filesRead.append(InventoryFile(path: file, size: Int64(hashed.size), sha256: hashed.sha256))
                }
            }
        }
        for relative in requirementFiles where !included.contains(relative) {
            guard let inventory = inventories[relative] else { continue }
            let model = modelName(requirementsPath: relative)
            models.append(model)
            for problem in inventory.problems where problem.contains("cannot be read") || problem.contains("cycle") {
                findings.append(.unreadable(path: relative, reason: display(problem, root: root), category: category))
            }
            for (requirement, via) in inventory.requirements
            where query.matches(name: requirement.name, isPython: true, ecosystem: "pypi",
                                version: requirement.version, sha256: requirement.sha256) {
                let file = PathTools.relative(requirement.file, to: root) ?? requirement.file
                let steps = [model] + via.map { "(" + (PathTools.relative($0, to: root) ?? $0) + ")" }
                    + [requirement.name + (requirement.version.map { "@" + $0 } ?? requirement.specifier.map { " " + $0 } ?? "")]
                matches.append(DependencyMatch(
                    model: model, inventory: relative, inventoryKind: "requirements", component: requirement.name,
                    version: requirement.version, purl: nil, path: steps, isDirect: true, isInDependencyGraph: true,
                    evidence: FindingEvidence(file: file, line: requirement.line)))
            }
        }
        matches.sort { ($0.model, $0.inventory, $0.path.joined(separator: "\u{1}")) < ($1.model, $1.inventory, $1.path.joined(separator: "\u{1}")) }
        for match in matches {
            let how = match.isDirect ? "directly" : "transitively"
            var detail = "Model '\(match.model)' depends \(how) on \(match.component)\(match.version.map { "@" + $0 } ?? ""): \(match.path.joined(separator: " → "))."
            if !match.isInDependencyGraph { detail += " Listed in the BOM but not reachable in its dependency graph." }
            var attributes = ["component": match.component, "path": match.path.joined(separator: " → "),
                              "inventoryKind": match.inventoryKind, "direct": String(match.isDirect)]
            if let version = match.version { attributes["version"] = version }
            if let purl = match.purl { attributes["purl"] = purl }
            findings.append(IntegrityFinding(kind: .dependencyMatch, category: category, severity: .high,
                                             subject: match.model, detail: detail, evidence: match.evidence,
                                             attributes: attributes))
        }
        findings.sort()
        return DependencyReport(query: query.description, inventory: root, models: Array(Set(models)).sorted(),
                                matches: matches, findings: findings, outcome: IntegrityOutcome.of(findings),
                                filesRead: filesRead.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) })
    }

    /// The matches inside one SBOM, with the shortest dependency path from the model to each.
    package static func search(bom: CycloneDXBOM, model: String, file: String, query: ComponentQuery) -> [DependencyMatch] {
        // Flatten nested components; a nested component is reachable from its parent.
        var nodes: [String: CycloneDXBOM.Component] = [:]
        var edges: [String: [String]] = [:]
        var order: [String] = []
        var anonymous = 0
        func key(for component: CycloneDXBOM.Component) -> String {
            if let ref = component.bomRef, !ref.isEmpty { return ref }
            if let purl = component.purl, !purl.isEmpty { return purl }
            anonymous += 1
            return "#\(anonymous):\(component.name)"
        }
        @discardableResult
        func add(_ component: CycloneDXBOM.Component, parent: String?) -> String {
            let ref = key(for: component)
            if nodes[ref] == nil { order.append(ref) }
            nodes[ref] = component
            if let parent { edges[parent, default: []].append(ref) }
            for child in component.components ?? [] { add(child, parent: ref) }
            return ref
        }
        let rootRef = bom.metadata?.component.map { add($0, parent: nil) } ?? "#model"
        for component in bom.components ?? [] { add(component, parent: nil) }
        for dependency in bom.dependencies ?? [] { edges[dependency.ref, default: []] += dependency.dependsOn ?? [] }
        let hasGraph = !(edges[rootRef] ?? []).isEmpty

        // Breadth-first from the model: the first path found to a node is a shortest one.
        var previous: [String: String] = [:]
        var seen: Set<String> = [rootRef]
        var queue = [rootRef]
        var head = 0
        while head < queue.count {
            let current = queue[head]
            head += 1
            for next in edges[current] ?? [] where !seen.contains(next) {
                seen.insert(next)
                previous[next] = current
                queue.append(next)
            }
        }
        func label(_ ref: String) -> String {
            guard let component = nodes[ref] else { return ref }
            return component.name + (component.version.map { "@" + $0 } ?? "")
        }
        var result: [DependencyMatch] = []
        for ref in order {
            guard let component = nodes[ref] else { continue }
            let purl = component.purl.flatMap(PackageURL.init)
            let candidates = Set([component.name] + (purl.map { [$0.name] } ?? []))
            let isMatch = candidates.contains { candidate in
                query.matches(name: candidate, isPython: purl?.type == "pypi", ecosystem: purl?.type,
                              version: component.version ?? purl?.version, sha256: component.sha256)
            }
            guard isMatch else { continue }
            var steps: [String] = []
            var inGraph = true
            if ref == rootRef {
                steps = [model]
            } else if seen.contains(ref) {
                var cursor: String? = ref
                while let current = cursor, current != rootRef {
                    steps.insert(label(current), at: 0)
                    cursor = previous[current]
                }
                steps.insert(model, at: 0)
            } else {
                steps = [model, label(ref)]
                inGraph = !hasGraph
            }
            result.append(DependencyMatch(
                model: model, inventory: file, inventoryKind: "cyclonedx", component: component.name,
                version: component.version ?? purl?.version, purl: component.purl, path: steps,
                isDirect: steps.count <= 2, isInDependencyGraph: inGraph,
                evidence: FindingEvidence(file: file, member: "bom-ref " + ref)))
        }
        return result
    }

    package static let genericStems: Set<String> = ["requirements", "reqs", "freeze", "pip-freeze", "pip_freeze",
                                            "constraints", "deps", "dependencies", "bom", "sbom", "cyclonedx",
                                            "ml-bom", "mlbom", "aibom"]

    /// The file stem, or the parent folder's name when the stem is generic.
    package static func modelName(requirementsPath relative: String) -> String {
        let components = relative.split(separator: "/").map(String.init)
        let fileName = components.last ?? relative
        var stem = fileName
        for suffix in [".cdx.json", ".bom.json", ".json", ".txt", ".in"] where stem.lowercased().hasSuffix(suffix) {
            stem = String(stem.dropLast(suffix.count))
            break
        }
        let lower = stem.lowercased()
        let isGeneric = genericStems.contains(lower) || lower.hasPrefix("requirements-") || lower.hasPrefix("requirements_")
            || lower.hasPrefix("requirements.")
        if isGeneric, components.count >= 2 { return components[components.count - 2] }
        return stem
    }

    package static func modelName(bom: CycloneDXBOM, relativePath: String) -> String {
        guard let component = bom.metadata?.component else { return modelName(requirementsPath: relativePath) }
        return component.name + (component.version.map { "@" + $0 } ?? "")
    }

    package static func display(_ problem: String, root: String) -> String {
        problem.replacingOccurrences(of: root + "/", with: "")
    }
}

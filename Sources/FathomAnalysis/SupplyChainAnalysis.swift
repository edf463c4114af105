import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Supply-chain compromise: the dependency the case file names, looked up in the model
/// inventories (SBOMs, requirements files) to answer "are other models using it?".
package struct SupplyChainAnalysis {
    package var incident: Incident?
    package var answer: PlaybookAnswer?
    package var items: [IntegrityItem] = []
    package var openItems: [String] = []
    /// The dependency named by the case file.
    package var dependency: String?
    /// How it reaches each model (the model's version when the inventory names one).
    package var dependencyPaths: [ResponseState.DependencyPath] = []
    /// Every `model@version` (or `model`) the inventory describes, whether it depends on it or not.
    package var inventoriedModels: Set<String> = []
    /// Package indexes the requirements files install from.
    package var installSources: [String] = []
    /// Whether every requirement in the requirements files is pinned by hash (nil: none read).
    package var hashPinned: Bool?
    /// Every inventory file read, hashed (for the evidence report and the inputs hash).
    package var inventoryFiles: [SupportingInput] = []

    package static func evaluate(caseFile: CaseFile, archives: [ArchiveRecord]) -> SupplyChainAnalysis {
        var result = SupplyChainAnalysis()
        guard let dependency = caseFile.compromisedDependency else { return result }
        result.dependency = dependency
        guard let query = ComponentQuery.parse(dependency) else {
            result.openItems.append("The case file's compromised dependency '\(dependency)' is not a NAME[@VERSION] or purl")
            return result
        }
        guard let inventory = caseFile.inventory else {
            result.answer = .confirm(.otherModels, because: "no inventory folder in the case file")
            result.openItems.append("Name an inventory folder (SBOMs, requirements files) in the case file to find the other models on \(dependency)")
            return result
        }
        let base = caseFile.origin.map { ($0 as NSString).deletingLastPathComponent } ?? "."
        let root = inventory.hasPrefix("/") ? inventory : (base.isEmpty ? inventory : base + "/" + inventory)
        let report: DependencyReport
        do { report = try DependencyIndex.search(inventory: root, for: query) } catch {
            result.answer = .confirm(.otherModels, because: "the inventory could not be read: \(error)")
            result.openItems.append("Inventory '\(inventory)' could not be read: \(error)")
            return result
        }
        result.inventoryFiles = report.filesRead.map { file in
            SupportingInput(path: file.path.hasPrefix("/") ? file.path : root + "/" + file.path, role: "inventory",
                            size: file.size, sha256: file.sha256)
        }
        // SBOM model names carry their version (`credit-risk@7`); the model is the name.
        func modelName(_ text: String) -> String { text.split(separator: "@").first.map(String.init) ?? text }
        result.inventoriedModels = Set(report.models)
        for match in report.matches.sorted(by: { ($0.model, $0.inventory) < ($1.model, $1.inventory) }) {
            let parts = match.model.split(separator: "@", maxSplits: 1)
            result.dependencyPaths.append(.init(model: modelName(match.model), modelVersion: parts.count == 2 ? String(parts[1]) : nil,
                                                path: match.path, inventory: match.inventory))
            if match.inventoryKind == "requirements" {
                let file = (root as NSString).appendingPathComponent(match.inventory)
                if let text = try? String(contentsOfFile: file, encoding: .utf8) {
                    let read = RequirementsSources.read(text)
                    for source in read.sources where !result.installSources.contains(source) { result.installSources.append(source) }
                    result.hashPinned = (result.hashPinned ?? true) && read.hashPinned
                }
            }
        }
        let affected = Array(Set(report.matches.map { modelName($0.model) })).sorted()
        for match in report.matches.sorted(by: { ($0.model, $0.inventory) < ($1.model, $1.inventory) }) {
            result.items.append(IntegrityItem(kind: "dependency-match", severity: "high", subject: modelName(match.model),
                                              detail: "depends on \(dependency) via " + match.path.joined(separator: " → "),
                                              evidence: match.inventory, time: nil))
        }
        result.answer = PlaybookAnswer(answer: affected.count > 1 ? .yes : .no, answeredBy: "evidence",
                                       evidence: ["models depending on \(dependency): " + (affected.isEmpty ? "none" : affected.joined(separator: ", "))])
        guard !affected.isEmpty else {
            result.openItems.append("No model inventory lists \(dependency)")
            return result
        }
        result.incident = Incident(
            id: "", type: .supplyChain, title: "Compromised dependency \(dependency)", atlas: ["AML.T0010", "AML.T0010.001"],
            window: ImpactWindow(start: WindowEdge(time: nil, rule: "case-file", description: "not determinable: inventories carry no times of use", evidence: nil),
                                 end: nil, ongoing: false, durationSeconds: nil),
            actors: [], models: affected, ruleHits: [:], linked: [],
            summary: "\(affected.count) models depend on \(dependency): \(affected.joined(separator: ", ")).",
            dependency: dependency)
        return result
    }
}

/// What a pip requirements file says about where packages come from and whether they are pinned.
package enum RequirementsSources {
    /// The `--index-url`/`-i`, `--extra-index-url` and `--find-links`/`-f` options (as written), and
    /// whether every requirement line carries a `--hash=`.
    package static func read(_ text: String) -> (sources: [String], hashPinned: Bool) {
        var sources: [String] = []
        var requirements = 0
        var hashed = 0
        // Continuation lines (`\` at the end) belong to their requirement.
        var logical: [String] = []
        var current = ""
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            var line = String(raw)
            if let hash = line.range(of: " #") ?? (line.hasPrefix("#") ? line.startIndex..<line.startIndex : nil) { line = String(line[..<hash.lowerBound]) }
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasSuffix("\\") {
                current += String(trimmed.dropLast()) + " "
                continue
            }
            current += trimmed
            if !current.isEmpty { logical.append(current) }
            current = ""
        }
        if !current.isEmpty { logical.append(current) }
        for line in logical {
            let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = words.first else { continue }
            if first.hasPrefix("-") {
                for (index, word) in words.enumerated() {
                    for option in ["--index-url", "--extra-index-url", "--find-links", "-i", "-f"] {
                        if word == option, index + 1 < words.count {
                            sources.append(option + " " + words[index + 1])
                        } else if word.hasPrefix(option + "=") {
                            sources.append(option + " " + word.dropFirst(option.count + 1))
                        }
                    }
                }
                continue
            }
            requirements += 1
            if words.contains(where: { $0.hasPrefix("--hash=") }) { hashed += 1 }
        }
        return (sources, requirements > 0 && hashed == requirements)
    }
}

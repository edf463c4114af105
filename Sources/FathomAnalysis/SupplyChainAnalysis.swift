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

    package static func evaluate(caseFile: CaseFile, archives: [ArchiveRecord]) -> SupplyChainAnalysis {
        var result = SupplyChainAnalysis()
        guard let dependency = caseFile.compromisedDependency else { return result }
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
        // SBOM model names carry their version (`credit-risk@7`); the model is the name.
        func modelName(_ text: String) -> String { text.split(separator: "@").first.map(String.init) ?? text }
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

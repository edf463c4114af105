import FathomStore
import FathomSupport
import FathomAnalysis

/// Facts about a model of the case file that the regulator report states, each with where it
/// comes from: the case file when it says, else the evidence.
package enum ModelFacts {
    /// Whether the model serves production traffic: the case file's `in_production`; else the
    /// playbook's answer for the model of a model-behaviour incident; else the rows it answered in
    /// the logs (`AnalysisResult.modelTraffic`); else "not shown by the logs examined".
    package static func inProduction(_ model: ModelProfile, result: AnalysisResult, context: ReportContext) -> String {
        if let stated = model.inProduction { return (stated ? "yes" : "no") + " (case file)" }
        let behaviour = result.incidents.contains { $0.type == .modelBehaviour && $0.models.contains(model.name) }
        if behaviour, let node = result.flowchart.nodes.first(where: { $0.id == "mb.production" }), let answer = node.answer, answer != .analystToConfirm {
            return (answer == .yes ? "yes" : "no") + " (" + (node.answeredBy == "case-file" ? "case file" : "computed from logs") + ": "
                + node.evidence.map { context.md($0, limit: 200) }.joined(separator: "; ") + ")"
        }
        let traffic = (result.modelTraffic ?? []).filter { $0.model == model.name }
        if !traffic.isEmpty {
            return "yes (computed from logs: " + traffic.map { item in
                ReportNumber.grouped(item.rows) + " " + context.md(item.kind, limit: 20) + " rows answered "
                    + context.time(item.first) + " to " + context.time(item.last)
            }.joined(separator: "; ") + ")"
        }
        if result.modelTraffic == nil { return "not stated" }
        return "not shown by the logs examined (no row names it)"
    }
}

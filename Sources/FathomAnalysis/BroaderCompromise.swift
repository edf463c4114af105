import FathomStore
import FathomSupport
import FathomCatalog
import FathomDetect

/// The brief's "broader compromise" line, from the control-plane actions found in audit logs
/// (`audit.control-plane` hits): one sentence per kind of action, with who, from where, when, and
/// the evidence of its first event.
package enum BroaderCompromise {
    /// Audit sources that record the control plane (whose absence of hits means something).
    package static let controlPlaneSources: Set<String> = ["cloudtrail", "k8s-audit", "azure-activity", "azure-audit"]

    /// nil when no control-plane audit log was examined (a person must say); else one line per
    /// category of action found (empty: none found in the logs examined).
    package static func lines(hits: [Hit], examinedSources: Set<String>) -> [String]? {
        guard !examinedSources.isDisjoint(with: controlPlaneSources) || !hits.isEmpty else { return nil }
        var byCategory: [String: [Hit]] = [:]
        for hit in hits {
            guard case let .string(category)? = hit.metrics["category"] else { continue }
            byCategory[category, default: []].append(hit)
        }
        var lines: [String] = []
        for category in ControlPlane.Category.allCases {
            guard var group = byCategory[category.rawValue], !group.isEmpty else { continue }
            group.sort { ($0.time ?? Timestamp(nanoseconds: .min), $0.evidence.line ?? 0) < ($1.time ?? Timestamp(nanoseconds: .min), $1.evidence.line ?? 0) }
            let first = group[0]
            let actions = Dictionary(grouping: group) { hit -> String in
                if case let .string(action)? = hit.metrics["action"] { return action }
                return "?"
            }.map { $0.value.count > 1 ? "\($0.key) ×\($0.value.count)" : $0.key }.sorted()
            let principals = Set(group.compactMap { hit -> String? in
                if case let .string(principal)? = hit.key["principal"], !principal.isEmpty { return principal }
                return nil
            }).sorted()
            var line = "\(category.phrase): " + actions.joined(separator: ", ")
            if !principals.isEmpty {
                line += " by " + principals.prefix(3).joined(separator: ", ") + (principals.count > 3 ? " and \(principals.count - 3) more" : "")
            }
            if case let .string(address)? = first.fields?["src_ip"] { line += ", first from \(address)" }
            if let target = first.fields?["target"], case let .string(text) = target { line += " on \(text)" }
            if let time = first.time { line += group.count > 1 ? ", first at \(time.rfc3339)" : " at \(time.rfc3339)" }
            if let archive = first.evidence.archive {
                let member = (first.evidence.member ?? "").isEmpty ? "" : ":" + (first.evidence.member ?? "")
                line += " (\(RuleID.controlPlane); evidence \(archive)\(member) line \(first.evidence.line ?? 0))"
            }
            lines.append(line)
        }
        return lines
    }

    /// The audit sources with rows in the store.
    package static func examinedSources(scan: StoreScan) throws -> Set<String> {
        let parts: [Set<String>] = try scan.map(.audit) { table in
            guard table.has("source") else { return [] }
            let column = try table.dictionary("source")
            return Set((0..<column.entryCount).map { column.entry(UInt32($0)).string })
        }
        return parts.reduce(into: Set<String>()) { $0.formUnion($1) }
    }
}

import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `response.md`: the response runbook.
///
/// Sections: the notice that Fathom executes nothing, Flowchart path (the playbook's flowchart in
/// Mermaid with the path taken highlighted, then the path as a table), Actions on the path, and
/// Ready-to-run commands (model rollback, serving fallback, network blocking, query budgets and
/// "return class only" for extraction, credentials) with the case's real versions, names and
/// addresses filled in, shell-quoted and fenced.
package struct ResponseWriter {
    package let context: ReportContext
    package init(_ context: ReportContext) { self.context = context }

    private var result: AnalysisResult { context.result }

    package func render() -> String {
        var out = "# Response runbook — " + context.caseID + "\n\n"
        out += "> **Fathom executes nothing.** Every command below is a suggestion for a person to review and run with "
        out += "their own credentials, after confirming it against the current state of the systems. Values from the logs are "
        out += "single-quoted for the shell; review them before running.\n\n"
        out += flowchart() + pathTable() + actions() + commands()
        out += "---\n\n" + context.footer
        return out
    }

    private var nodeIndex: [String: Int] {
        var index: [String: Int] = [:]
        for (offset, node) in result.flowchart.nodes.enumerated() where index[node.id] == nil { index[node.id] = offset }
        return index
    }

    private func flowchart() -> String {
        let chart = result.flowchart
        guard !chart.nodes.isEmpty else { return "## Flowchart path\n\nThe analysis holds no flowchart.\n\n" }
        let index = nodeIndex
        let onPath = Set(chart.path)
        var lines = ["flowchart TD"]
        for (offset, node) in chart.nodes.enumerated() {
            var text = node.text
            if onPath.contains(node.id), let answer = node.answer {
                text += " — " + answer.rawValue + (node.answeredBy.map { " (" + $0 + ")" } ?? "")
            }
            let label = Mermaid.label(text)
            let id = Mermaid.nodeID(offset)
            switch node.kind {
            case "question": lines.append("    " + id + "{" + label + "}")
            case "start", "end": lines.append("    " + id + "([" + label + "])")
            default: lines.append("    " + id + "[" + label + "]")
            }
        }
        var pathEdges = Set<String>()
        for (from, to) in zip(chart.path, chart.path.dropFirst()) { pathEdges.insert(from + "\u{0}" + to) }
        var highlighted: [String] = []
        var edgeNumber = 0
        for edge in chart.edges where edge.count >= 2 {
            guard let from = index[edge[0]], let to = index[edge[1]] else { continue }
            let label = edge.count > 2 && !edge[2].isEmpty ? "|" + Mermaid.label(edge[2], limit: 40) + "|" : ""
            let taken = pathEdges.contains(edge[0] + "\u{0}" + edge[1])
            lines.append("    " + Mermaid.nodeID(from) + (taken ? " ==>" : " -->") + label + " " + Mermaid.nodeID(to))
            if taken { highlighted.append(String(edgeNumber)) }
            edgeNumber += 1
        }
        lines.append("    classDef taken fill:#fde68a,stroke:#b45309,stroke-width:3px,color:#111827")
        lines.append("    classDef skipped fill:#f3f4f6,stroke:#9ca3af,color:#6b7280")
        let taken = chart.nodes.enumerated().filter { onPath.contains($0.element.id) }.map { Mermaid.nodeID($0.offset) }
        let skipped = chart.nodes.enumerated().filter { !onPath.contains($0.element.id) }.map { Mermaid.nodeID($0.offset) }
        if !taken.isEmpty { lines.append("    class " + taken.joined(separator: ",") + " taken") }
        if !skipped.isEmpty { lines.append("    class " + skipped.joined(separator: ",") + " skipped") }
        if !highlighted.isEmpty { lines.append("    linkStyle " + highlighted.joined(separator: ",") + " stroke:#b45309,stroke-width:3px") }
        return "## Flowchart path\n\nThe playbook's decision tree; the path this case took is highlighted.\n\n"
            + MarkdownText.fencedBlock(lines.joined(separator: "\n"), info: "mermaid") + "\n\n"
    }

    private func pathTable() -> String {
        let index = nodeIndex
        guard !result.flowchart.path.isEmpty else { return "" }
        let rows = result.flowchart.path.enumerated().map { step, id -> [String] in
            guard let node = index[id].map({ result.flowchart.nodes[$0] }) else {
                return [String(step + 1), context.md(id, limit: 60) + " (not in the chart)", "", "", ""]
            }
            let answer = node.answer.map { $0 == .analystToConfirm ? "**analyst to confirm**" : $0.rawValue } ?? "—"
            return [String(step + 1), context.md(node.text, limit: 160), answer, node.answeredBy.map { context.md($0, limit: 30) } ?? "—",
                    node.evidence.isEmpty ? "—" : node.evidence.map { context.md($0, limit: 160) }.joined(separator: "; ")]
        }
        return "Path taken:\n\n" + context.table(["Step", "Node", "Answer", "Answered by", "Evidence"], rows) + "\n\n"
    }

    private func actions() -> String {
        let index = nodeIndex
        let nodes = result.flowchart.path.compactMap { index[$0].map { result.flowchart.nodes[$0] } }.filter { $0.kind == "action" }
        guard !nodes.isEmpty else { return "## Actions on the path\n\nNo action node was reached.\n\n" }
        var out = "## Actions on the path\n\n"
        for node in nodes {
            out += "### " + context.md(node.text, limit: 160) + "\n\n"
            for action in node.actions { out += "- [ ] " + context.md(action, limit: 240) + "\n" }
            out += node.actions.isEmpty ? "No listed steps; see the commands below.\n\n" : "\n"
        }
        return out
    }

    // MARK: Commands

    private func block(_ lines: [String]) -> String { MarkdownText.fencedBlock(lines.joined(separator: "\n"), info: "sh") + "\n\n" }

    private var q: (String) -> String { ShellText.quote }

    private func commands() -> String {
        var out = "## Ready-to-run commands\n\n"
        var any = false
        if let rollback = rollbackCommands() { out += rollback; any = true }
        if let extraction = extractionCommands() { out += extraction; any = true }
        if let credentials = credentialCommands() { out += credentials; any = true }
        if !any { out += "No containment command applies to the findings of this case.\n\n" }
        let unsafe = (result.extraction?.attackers.flatMap { $0.addresses + $0.principals } ?? []) + result.incidents.flatMap(\.actors)
        if unsafe.contains(where: ShellText.hasUnsafeCharacters) {
            out += "Some values from the logs contain control or invisible characters; they are shown as `?` in the commands "
                + "and must be checked against the evidence.\n\n"
        }
        return out
    }

    private func jsonString(_ value: String) -> String {
        var out = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default:
                if scalar.value < 0x20 || MarkdownText.isUnsafe(scalar) {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }

    private func rollbackCommands() -> String? {
        let model = result.affectedDecisions?.model ?? result.incidents.first { $0.type == .modelBehaviour || $0.type == .trainingData }?.models.first
        let bad = result.registry?.compromisedVersion ?? result.affectedDecisions?.compromisedVersion
        let good = result.registry?.lastKnownGoodVersion ?? result.affectedDecisions?.lastKnownGoodVersion
        guard let model, bad != nil || good != nil else { return nil }
        var out = "### Roll back the model\n\n"
        out += "Compromised version: " + (bad.map { context.md($0, limit: 60) } ?? "unknown") + "; last known good version: "
            + (good.map { context.md($0, limit: 60) } ?? "unknown") + " of " + context.md(model, limit: 120) + ".\n\n"
        out += "MLflow model registry (REST API `transition-stage`; the tracking server is `$MLFLOW_TRACKING_URI`):\n\n"
        var lines: [String] = []
        if let bad {
            lines.append("# Archive the compromised version")
            lines.append("curl -sS -X POST \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/model-versions/transition-stage\" \\")
            lines.append("  -H 'Content-Type: application/json' \\")
            lines.append("  -d " + q("{\"name\": " + jsonString(model) + ", \"version\": " + jsonString(bad)
                                      + ", \"stage\": \"Archived\", \"archive_existing_versions\": false}"))
        }
        if let good {
            lines.append("# Promote the last known good version back to Production")
            lines.append("curl -sS -X POST \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/model-versions/transition-stage\" \\")
            lines.append("  -H 'Content-Type: application/json' \\")
            lines.append("  -d " + q("{\"name\": " + jsonString(model) + ", \"version\": " + jsonString(good)
                                      + ", \"stage\": \"Production\", \"archive_existing_versions\": true}"))
            lines.append("# With registry aliases (MLflow 2.9+) instead of stages:")
            lines.append("curl -sS -X POST \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/registered-models/alias\" \\")
            lines.append("  -H 'Content-Type: application/json' \\")
            lines.append("  -d " + q("{\"name\": " + jsonString(model) + ", \"alias\": \"champion\", \"version\": " + jsonString(good) + "}"))
        }
        out += block(lines)
        let profile = result.caseInfo.models.first { $0.name == model }
        out += "Kubernetes serving deployment (roll back to the previous revision, or scale to a fallback):\n\n"
        var kube: [String] = []
        let deployment: String
        if let name = profile?.deployment {
            deployment = q("deployment/" + name)
        } else {
            kube.append("DEPLOYMENT='…'   # the serving deployment of this model: not in the case file")
            deployment = "\"deployment/$DEPLOYMENT\""
        }
        let namespace: String
        if let ns = profile?.namespace {
            namespace = q(ns)
        } else {
            kube.append("NAMESPACE='…'    # its namespace: not in the case file")
            namespace = "\"$NAMESPACE\""
        }
        kube.append("kubectl rollout history " + deployment + " -n " + namespace)
        kube.append("kubectl rollout undo " + deployment + " -n " + namespace)
        kube.append("kubectl rollout status " + deployment + " -n " + namespace)
        kube.append("# or: stop the compromised model and serve a fallback (e.g. rules-based) deployment")
        kube.append("kubectl scale " + deployment + " -n " + namespace + " --replicas=0")
        kube.append("kubectl scale \"deployment/$FALLBACK_DEPLOYMENT\" -n " + namespace + " --replicas=\"$FALLBACK_REPLICAS\"")
        out += block(kube)
        return out
    }

    private func cidr(_ address: String) -> String {
        if address.contains("/") { return address }
        return address + (address.contains(":") ? "/128" : "/32")
    }

    private func extractionCommands() -> String? {
        guard let extraction = result.extraction, !extraction.attackers.isEmpty else { return nil }
        var out = "### Block the extraction\n\n"
        var addresses: [String] = []
        var invalid: [String] = []
        for attacker in extraction.attackers {
            for address in attacker.addresses {
                if !IPAddressText.isAddressOrCIDR(address) {
                    if !invalid.contains(address) { invalid.append(address) }
                } else if !addresses.contains(cidr(address)) {
                    addresses.append(cidr(address))
                }
            }
        }
        if !addresses.isEmpty {
            out += "AWS WAF IP set. `update-ip-set` replaces the whole set: fetch it first, merge its current addresses, "
                + "then update with the lock token it returned.\n\n"
            var lines = ["aws wafv2 get-ip-set --name \"$IP_SET_NAME\" --scope REGIONAL --id \"$IP_SET_ID\"",
                         "aws wafv2 update-ip-set --name \"$IP_SET_NAME\" --scope REGIONAL --id \"$IP_SET_ID\" \\",
                         "  --lock-token \"$LOCK_TOKEN\" \\"]
            lines.append("  --addresses " + addresses.map(q).joined(separator: " "))
            out += block(lines)
        }
        if !invalid.isEmpty {
            out += "Left out of the IP set because they are not IP addresses: "
                + invalid.map { context.md($0, limit: 80) }.joined(separator: ", ") + ".\n\n"
        }
        out += "Query budget for the attacker identities, then for everyone (API Gateway usage plan; the limits are a choice for a person):\n\n"
        var budget = ["aws apigateway update-usage-plan --usage-plan-id \"$USAGE_PLAN_ID\" \\",
                      "  --patch-operations op=replace,path=/throttle/rateLimit,value=\"$RATE_PER_SECOND\" \\",
                      "                     op=replace,path=/quota/limit,value=\"$DAILY_QUOTA\""]
        var principals: [String] = []
        for attacker in extraction.attackers { for principal in attacker.principals where !principals.contains(principal) { principals.append(principal) } }
        if !principals.isEmpty {
            budget.append("# Disable the API keys the attacker used (by key id; look the id up from the key value if needed)")
            for principal in principals {
                budget.append("aws apigateway update-api-key --api-key " + q(principal) + " --patch-operations op=replace,path=/enabled,value=false")
            }
        }
        out += block(budget)
        let withScores = extraction.attackers.filter { $0.confidenceScoresReturned == true }
        var endpoints: [String] = []
        for attacker in extraction.attackers { for endpoint in attacker.endpoints where !endpoints.contains(endpoint) { endpoints.append(endpoint) } }
        out += "Return the class only: configure the serving layer of "
            + (endpoints.isEmpty ? "the prediction endpoints" : endpoints.map { context.md($0, limit: 120) }.joined(separator: ", "))
            + " to return the predicted class without confidence scores or probabilities, so further queries teach an attacker less. "
        out += withScores.isEmpty ? "The logs do not show confidence scores being returned.\n\n"
            : "The logs show confidence scores were returned to " + withScores.map { context.md($0.identity, limit: 80) }.joined(separator: ", ") + ".\n\n"
        if extraction.ongoing { out += "**Extraction was still ongoing at the end of the data: block first.**\n\n" }
        return out
    }

    private func credentialCommands() -> String? {
        let incidents = result.incidents.filter { $0.type != .extraction && !$0.actors.isEmpty }
        guard !incidents.isEmpty else { return nil }
        var out = "### Revoke the responsible identities\n\n"
        out += "Identities named by the analysis for " + incidents.map { context.md($0.id, limit: 60) }.joined(separator: ", ")
            + ". Revoke or rotate what each one is (API key, IAM user, service account):\n\n"
        var lines: [String] = []
        for incident in incidents {
            var plainID = ""
            for scalar in incident.id.unicodeScalars where !MarkdownText.isUnsafe(scalar) { plainID.unicodeScalars.append(scalar) }
            lines.append("# " + plainID + ": " + incident.type.title)
            for actor in incident.actors {
                if IPAddressText.isAddressOrCIDR(actor) {
                    lines.append("# network address " + q(actor) + ": add to the WAF IP set as above (" + q(cidr(actor)) + ")")
                } else {
                    lines.append("aws iam list-access-keys --user-name " + q(actor) + "   # if an IAM user; then: aws iam update-access-key --status Inactive")
                    lines.append("aws apigateway update-api-key --api-key " + q(actor) + " --patch-operations op=replace,path=/enabled,value=false   # if an API key")
                }
            }
        }
        out += block(lines)
        return out
    }
}

/// Syntax checks for addresses from logs before they go into a block list.
package enum IPAddressText {
    /// Whether `text` is an IPv4 or IPv6 address, optionally with a `/prefix`.
    package static func isAddressOrCIDR(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = parts.first else { return false }
        let isV6 = address.contains(":")
        if parts.count == 2 {
            guard let prefix = Int(parts[1]), prefix >= 0, prefix <= (isV6 ? 128 : 32), parts[1].allSatisfy(\.isASCII) else { return false }
        }
        return isV6 ? isIPv6(address) : isIPv4(address)
    }

    package static func isIPv4(_ text: Substring) -> Bool {
        let octets = text.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets.allSatisfy { octet in
            !octet.isEmpty && octet.count <= 3 && octet.allSatisfy { $0.isASCII && $0.isNumber } && (Int(octet) ?? 256) <= 255
        }
    }

    package static func isIPv6(_ text: Substring) -> Bool {
        guard text.allSatisfy({ $0.isASCII && ($0.isHexDigit || $0 == ":" || $0 == ".") }), text.count <= 45 else { return false }
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for half in halves where !half.isEmpty {
            let pieces = half.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if piece.contains(".") {
                    guard index == pieces.count - 1, isIPv4(piece) else { return false }
                    groups += 2
                } else {
                    guard !piece.isEmpty, piece.count <= 4 else { return false }
                    groups += 1
                }
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}

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
        out += "What the evidence shows done is checked and says when; what is under way says so; the rest is to do.\n\n"
        for node in nodes {
            out += "### " + context.md(node.text, limit: 160) + "\n\n"
            for action in node.actions {
                if let state = context.stepState(node: node.id, action: action) {
                    out += (state.done ? "- [x] " : "- [ ] ") + context.md(action, limit: 240) + " — " + state.note + "\n"
                } else {
                    out += "- [ ] " + context.md(action, limit: 240) + "\n"
                }
            }
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
        for section in [rollbackCommands(), extractionCommands(), credentialCommands(), supplyChainCommands()] {
            if let section { out += section; any = true }
        }
        if !any { out += "No containment command applies to the findings of this case.\n\n" }
        let unsafe = (result.extraction?.attackers.flatMap { $0.addresses + $0.principals } ?? []) + result.incidents.flatMap(\.actors)
            + (result.response?.credentials.map(\.identifier) ?? [])
        if unsafe.contains(where: ShellText.hasUnsafeCharacters) {
            out += "Some values from the logs contain control or invisible characters; they are shown as `?` in the commands "
                + "and must be checked against the evidence.\n\n"
        }
        return out
    }

    /// A value from the logs as one shell word, or nil when it could be read as an option (starts
    /// with `-`) — such a value is left out of the commands and named in a comment instead.
    private func arg(_ value: String) -> String? { value.hasPrefix("-") || value.isEmpty ? nil : q(value) }

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

    /// The MLflow version of a model version: the registry's integer (`v13` is the image tag).
    private func mlflowVersion(_ version: String) -> String {
        var text = Substring(version)
        if text.first == "v" || text.first == "V" { text = text.dropFirst() }
        return String(text)
    }

    private func kubeTarget(_ model: String) -> (lines: [String], deployment: String, namespace: String, name: String) {
        let profile = result.caseInfo.models.first { $0.name == model }
        var lines: [String] = []
        let deployment: String
        let name: String
        if let value = profile?.deployment, let quoted = arg("deployment/" + value) {
            deployment = quoted
            name = q(value)
        } else {
            lines.append("DEPLOYMENT='…'   # the serving deployment of this model: not in the case file")
            deployment = "\"deployment/$DEPLOYMENT\""
            name = "\"$DEPLOYMENT\""
        }
        let namespace: String
        if let value = profile?.namespace, let quoted = arg(value) {
            namespace = quoted
        } else {
            lines.append("NAMESPACE='…'    # its namespace: not in the case file")
            namespace = "\"$NAMESPACE\""
        }
        return (lines, deployment, namespace, name)
    }

    private func rollbackCommands() -> String? {
        let model = result.response?.model ?? result.affectedDecisions?.model
            ?? result.incidents.first { $0.type == .modelBehaviour || $0.type == .trainingData }?.models.first
        let bad = result.registry?.compromisedVersion ?? result.affectedDecisions?.compromisedVersion
        guard let model, let bad else { return nil }
        let state = result.response
        var out = "### Roll back the model\n\n"
        let done = state?.rollbacks.filter(\.succeeded) ?? []
        let failed = state?.rollbacks.filter { !$0.succeeded } ?? []
        for attempt in failed {
            out += "- A rollback attempt to " + context.md(attempt.toVersion, limit: 60) + " at " + context.time(attempt.time)
                + (attempt.principal.isEmpty ? "" : " by " + context.md(attempt.principal, limit: 120)) + " **failed** ("
                + context.evidence(attempt.evidence) + ").\n"
        }
        for rollback in done {
            out += "- **Done:** " + context.md(model, limit: 120) + " was rolled back from " + context.md(bad, limit: 60) + " to "
                + context.md(rollback.toVersion, limit: 60) + " at " + context.time(rollback.time)
                + (rollback.principal.isEmpty ? "" : " by " + context.md(rollback.principal, limit: 120)) + " (" + context.evidence(rollback.evidence) + ").\n"
        }
        if !done.isEmpty || !failed.isEmpty { out += "\n" }
        let candidates = state?.candidates ?? []
        if !candidates.isEmpty {
            out += "Rollback targets judged from the evidence (clean = its SBOM lacks the compromised dependency and it predates the tampering):\n\n"
            // Versions judged alike for the same reasons (the many without an SBOM) share one row.
            var rows: [[String]] = []
            var index = 0
            while index < candidates.count {
                let candidate = candidates[index]
                let pattern = candidate.reasons.map { $0.replacingOccurrences(of: candidate.version, with: "·") }
                var end = index + 1
                while end < candidates.count, candidates[end].verdict == candidate.verdict,
                      candidates[end].reasons.map({ $0.replacingOccurrences(of: candidates[end].version, with: "·") }) == pattern { end += 1 }
                let versions = candidates[index..<end].map(\.version)
                let label = versions.count > 2 ? versions[0] + " … " + versions[versions.count - 1] + " (" + String(versions.count) + " versions)"
                    : versions.joined(separator: ", ")
                let reasons = versions.count > 1 ? pattern.map { $0.replacingOccurrences(of: "·", with: "the version") } : candidate.reasons
                rows.append([context.md(label, limit: 80), candidate.verdict == "compromised" ? "**compromised**" : candidate.verdict,
                             reasons.map { context.md($0, limit: 300) }.joined(separator: "; ")])
                index = end
            }
            out += context.table(["Version", "Verdict", "Why"], rows) + "\n\n"
        }
        let current = done.last?.toVersion
        let kube = kubeTarget(model)
        var lines: [String] = []
        // An analysis written before rollback targets were judged: the last known good, with a warning.
        let unjudged = state == nil ? (result.registry?.lastKnownGoodVersion ?? result.affectedDecisions?.lastKnownGoodVersion) : nil
        if let unjudged {
            out += "This analysis did not judge rollback targets (it predates that check): confirm that " + context.md(unjudged, limit: 60)
                + " is clean (its dependencies, its training data) before rolling back to it.\n\n"
        }
        if let target = state?.rollbackTarget ?? unjudged {
            if current == target {
                out += "Production already runs " + context.md(target, limit: 60) + ", the newest version proven clean: no rollback command is needed.\n\n"
            } else {
                out += "Target: **" + context.md(target, limit: 60) + "**, the newest version proven clean.\n\n"
                lines.append("# MLflow: point the champion alias at the clean version (MLflow versions are integers)")
                lines.append("curl -sS -X POST \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/registered-models/alias\" \\")
                lines.append("  -H 'Content-Type: application/json' \\")
                lines.append("  -d " + q("{\"name\": " + jsonString(model) + ", \"alias\": \"champion\", \"version\": " + jsonString(mlflowVersion(target)) + "}"))
                lines += kube.lines
                lines.append("# Kubernetes: the serving image at the clean version's tag (the registry path is the deployment's own)")
                lines.append("IMAGE=$(kubectl get " + kube.deployment + " -n " + kube.namespace + " -o jsonpath='{.spec.template.spec.containers[0].image}')")
                lines.append("kubectl set image " + kube.deployment + " -n " + kube.namespace + " \"*=${IMAGE%:*}:" + target + "\"")
                lines.append("kubectl rollout status " + kube.deployment + " -n " + kube.namespace)
            }
        } else {
            out += "**No version in the registry history is proven clean:** "
                + context.md(state?.fallback ?? "serve the fallback (rules-based scoring or the previous model family) until a clean version is built and validated", limit: 400)
                + ". Do not roll back to another version of this model.\n\n"
            lines += kube.lines
            lines.append("# Serve the fallback, then stop the model (the fallback deployment is yours to name)")
            lines.append("kubectl scale \"deployment/$FALLBACK_DEPLOYMENT\" -n " + kube.namespace + " --replicas=\"$FALLBACK_REPLICAS\"")
            lines.append("kubectl rollout status \"deployment/$FALLBACK_DEPLOYMENT\" -n " + kube.namespace)
            lines.append("kubectl scale " + kube.deployment + " -n " + kube.namespace + " --replicas=0")
        }
        // Archive every version that is not clean, the compromised one first.
        let archive = [bad] + candidates.filter { $0.verdict == "compromised" }.map(\.version)
        lines.append("# MLflow: archive the versions that must not serve again (REST API transition-stage; $MLFLOW_TRACKING_URI is the tracking server)")
        for version in archive {
            lines.append("curl -sS -X POST \"$MLFLOW_TRACKING_URI/api/2.0/mlflow/model-versions/transition-stage\" \\")
            lines.append("  -H 'Content-Type: application/json' \\")
            lines.append("  -d " + q("{\"name\": " + jsonString(model) + ", \"version\": " + jsonString(mlflowVersion(version))
                                      + ", \"stage\": \"Archived\", \"archive_existing_versions\": false}"))
        }
        out += block(lines)
        return out
    }

    private func cidr(_ address: String) -> String {
        if address.contains("/") { return address }
        return address + (address.contains(":") ? "/128" : "/32")
    }

    /// The addresses to block: the analysis's list, or (older analyses) the extraction attackers'.
    private var blockList: (addresses: [String], invalid: [String]) {
        var addresses: [String] = []
        var invalid: [String] = []
        let source = result.response?.blockAddresses
            ?? ((result.extraction?.attackers.flatMap(\.addresses) ?? []) + result.incidents.flatMap(\.actors).filter { IPAddressText.isAddressOrCIDR($0) })
        for address in source {
            if !IPAddressText.isAddressOrCIDR(address) {
                if !invalid.contains(address) { invalid.append(address) }
            } else if !addresses.contains(cidr(address)) {
                addresses.append(cidr(address))
            }
        }
        return (addresses, invalid)
    }

    private func ipSetCommands(_ addresses: [String], family: String) -> [String] {
        let name = "\"$" + family + "_SET_NAME\""
        let id = "\"$" + family + "_SET_ID\""
        let set = "--name " + name + " --scope REGIONAL --id " + id
        var lines = ["# " + (family == "IPV4" ? "IPv4" : "IPv6") + " set (a WAF IP set holds one address version)",
                     "LOCK_TOKEN=$(aws wafv2 get-ip-set " + set + " --query LockToken --output text)",
                     "EXISTING=$(aws wafv2 get-ip-set " + set + " --query 'IPSet.Addresses[]' --output text)",
                     "aws wafv2 update-ip-set " + set + " --lock-token \"$LOCK_TOKEN\" \\"]
        lines.append("  --addresses $EXISTING " + addresses.map(q).joined(separator: " "))
        return lines
    }

    private func extractionCommands() -> String? {
        let (addresses, invalid) = blockList
        let extraction = result.extraction
        guard !addresses.isEmpty || !(extraction?.attackers.isEmpty ?? true) else { return nil }
        var out = "### Block the attackers\n\n"
        if !addresses.isEmpty {
            out += "AWS WAF IP sets: every external address seen in attacker activity (extraction, model-artifact access, prompt injection). "
                + "`update-ip-set` replaces the whole set, so the commands read the current addresses and the lock token first and write them back with the new ones; "
                + "a concurrent change makes the update fail (run it again).\n\n"
            let v4 = addresses.filter { !$0.contains(":") }
            let v6 = addresses.filter { $0.contains(":") }
            var lines: [String] = []
            if !v4.isEmpty { lines += ipSetCommands(v4, family: "IPV4") }
            if !v6.isEmpty { lines += ipSetCommands(v6, family: "IPV6") }
            out += block(lines)
        }
        if !invalid.isEmpty {
            out += "Left out of the IP sets because they are not IP addresses: "
                + invalid.map { context.md($0, limit: 80) }.joined(separator: ", ") + ".\n\n"
        }
        guard let extraction, !extraction.attackers.isEmpty else { return out }
        out += "Query budget for the attacker identities, then for everyone (API Gateway usage plan; the limits are a choice for a person):\n\n"
        let budget = ["aws apigateway update-usage-plan --usage-plan-id \"$USAGE_PLAN_ID\" \\",
                      "  --patch-operations op=replace,path=/throttle/rateLimit,value=\"$RATE_PER_SECOND\" \\",
                      "                     op=replace,path=/quota/limit,value=\"$DAILY_QUOTA\""]
        out += block(budget)
        let withScores = extraction.attackers.filter { $0.confidenceScoresReturned == true }
        var endpoints: [String] = []
        for attacker in extraction.attackers { for endpoint in attacker.endpoints where !endpoints.contains(endpoint) { endpoints.append(endpoint) } }
        out += "Return the class only: configure the serving layer of "
            + (endpoints.isEmpty ? "the prediction endpoints" : endpoints.map { context.md($0, limit: 120) }.joined(separator: ", "))
            + " to return the predicted class without confidence scores or probabilities, so further queries teach an attacker less. "
        out += withScores.isEmpty ? "The logs do not show confidence scores being returned.\n\n"
            : "The logs show confidence scores were returned to " + withScores.map { context.md($0.identity, limit: 80) }.joined(separator: ", ") + ".\n\n"
        if extraction.ongoing { out += "**Extraction was active in the last hour of the data: block first.**\n\n" }
        return out
    }

    /// A safe JMESPath string fragment: letters, digits, `_` and `-` only.
    private func jmesFragment(_ value: String) -> String? {
        let kept = value.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-") }
        return kept && !value.isEmpty ? value : nil
    }

    private func credentialCommands() -> String? {
        guard let credentials = result.response?.credentials, !credentials.isEmpty else { return legacyCredentialCommands() }
        var out = "### Contain every credential\n\n"
        out += "Every credential the evidence shows used by an attacker or leaked by a model, with the containment its type needs. "
            + "Secrets are masked (prefix and last 4 characters); the full value is at the evidence line.\n\n"
        out += context.table(["Credential", "Type", "What the evidence shows", "Evidence"], credentials.map { credential in
            [context.md(credential.identifier, limit: 120), credential.kind, context.md(credential.detail, limit: 240), context.evidence(credential.evidence)]
        }) + "\n\n"
        var lines: [String] = []
        var notes: [String] = []
        for credential in credentials {
            let id = credential.identifier
            switch credential.kind {
            case "aws-iam-user":
                guard let user = arg(id) else { notes.append("IAM user " + context.md(id, limit: 80) + " starts with '-': check it by hand."); continue }
                lines.append("# IAM user " + id + " (account " + (credential.scope["account"] ?? "?") + "): find the access key it used, deactivate that key")
                lines.append("aws cloudtrail lookup-events --lookup-attributes AttributeKey=Username,AttributeValue=" + user
                             + " --query 'Events[].[EventTime,EventName,AccessKeyId]' --output text")
                lines.append("aws iam list-access-keys --user-name " + user)
                lines.append("aws iam update-access-key --user-name " + user + " --access-key-id \"$ACCESS_KEY_ID\" --status Inactive")
            case "aws-assumed-role":
                guard let role = arg(id) else { continue }
                lines.append("# Assumed role " + id + ": revoke every session issued before now (the AWSRevokeOlderSessions policy)")
                let policy = "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Deny\", \"Action\": [\"*\"], \"Resource\": [\"*\"], "
                    + "\"Condition\": {\"DateLessThan\": {\"aws:TokenIssueTime\": \"" + context.generatedAt + "\"}}}]}"
                lines.append("aws iam put-role-policy --role-name " + role + " --policy-name AWSRevokeOlderSessions --policy-document " + q(policy))
            case "aws-access-key-id":
                lines.append("# Leaked access key id " + id + " (masked; the full id is at " + plain(credential.evidence) + ")")
                lines.append("ACCESS_KEY_ID='…'   # the full id from the evidence line")
                lines.append("KEY_USER=$(aws iam get-access-key-last-used --access-key-id \"$ACCESS_KEY_ID\" --query UserName --output text)")
                lines.append("aws iam update-access-key --user-name \"$KEY_USER\" --access-key-id \"$ACCESS_KEY_ID\" --status Inactive")
            case "azure-sas", "azure-account-key":
                let slot = id == "key2" ? "secondary" : "primary"
                lines.append("# Azure storage account key " + id + (credential.kind == "azure-sas" ? " signed the SAS tokens used" : " was used")
                             + ": regenerating it invalidates every SAS signed with it")
                lines.append("az storage account keys renew --resource-group \"$RESOURCE_GROUP\" --account-name \"$STORAGE_ACCOUNT\" --key " + slot)
                if credential.kind == "azure-sas" {
                    lines.append("# and user-delegation SAS tokens:")
                    lines.append("az storage account revoke-delegation-keys --resource-group \"$RESOURCE_GROUP\" --name \"$STORAGE_ACCOUNT\"")
                }
            case "gateway-api-key":
                let parts = apiKeyParts(id)
                guard let prefix = parts.prefix.flatMap(jmesFragment), let suffix = jmesFragment(parts.suffix) else {
                    notes.append("API key " + context.md(id, limit: 80) + ": look its id up by hand.")
                    continue
                }
                lines.append("# Gateway API key " + id + ": find its id (the key value is not needed), then disable it")
                lines.append("KEY_ID=$(aws apigateway get-api-keys --include-values --query \"items[?starts_with(value, '" + prefix
                             + "') && ends_with(value, '" + suffix + "')].id\" --output text)")
                lines.append("aws apigateway update-api-key --api-key \"$KEY_ID\" --patch-operations op=replace,path=/enabled,value=false")
            case "k8s-service-account":
                guard let name = arg(id), let namespace = credential.scope["namespace"].flatMap(arg) else { continue }
                let subject = "system:serviceaccount:" + (credential.scope["namespace"] ?? "") + ":" + id
                lines.append("# Kubernetes service account " + subject + ": what it may do, who binds it, its long-lived tokens")
                lines.append("kubectl auth can-i --list --as=" + q(subject))
                lines.append("kubectl get rolebindings,clusterrolebindings -A -o wide | grep -F " + q((credential.scope["namespace"] ?? "") + "/" + id))
                lines.append("kubectl get secrets -n " + namespace + " --field-selector type=kubernetes.io/service-account-token")
                lines.append("kubectl delete secret -n " + namespace + " \"$TOKEN_SECRET\"   # each token of " + name + "; then give the CI a new short-lived token:")
                lines.append("kubectl create token " + name + " -n " + namespace + " --duration=1h")
            case "application-account":
                notes.append("Application account " + context.md(id, limit: 80) + " (" + context.md(credential.detail, limit: 160) + "): "
                             + (credential.outcome == "refused" ? "watch it; its requests were refused." : "suspend it in the application and review its sessions."))
            default:
                notes.append("Account " + context.md(id, limit: 80) + " (" + context.md(credential.detail, limit: 200)
                             + "): disable it in the identity provider, revoke its sessions and platform tokens, and confirm with its owner before naming a person.")
            }
        }
        if !lines.isEmpty { out += block(lines) }
        for note in notes { out += "- " + note + "\n" }
        return out + (notes.isEmpty ? "" : "\n")
    }

    /// An evidence reference as plain text for a shell comment.
    private func plain(_ ref: EvidenceRef?) -> String {
        guard let ref else { return "the evidence" }
        var text = ""
        for scalar in (ref.archive + (ref.member.isEmpty ? "" : " > " + ref.member)).unicodeScalars where !UntrustedText.isUnsafe(scalar) && scalar != "'" && scalar != "`" {
            text.unicodeScalars.append(scalar)
        }
        return text + " line " + String(ref.line)
    }

    /// A masked key's visible parts: its type prefix and its last four characters.
    private func apiKeyParts(_ masked: String) -> (prefix: String?, suffix: String) {
        let prefix = masked.split(separator: "*", omittingEmptySubsequences: false).first.map(String.init)
        return (prefix?.isEmpty == false ? prefix : nil, String(masked.suffix(4)))
    }

    /// For analyses written before the response state existed: the incidents' actors.
    private func legacyCredentialCommands() -> String? {
        let incidents = result.incidents.filter { $0.type != .extraction && !$0.actors.isEmpty }
        guard !incidents.isEmpty else { return nil }
        var out = "### Revoke the responsible identities\n\n"
        out += "Identities named by the analysis for " + incidents.map { context.md($0.id, limit: 60) }.joined(separator: ", ")
            + "; the analysis does not say what each one is: check before revoking.\n\n"
        for incident in incidents {
            out += "- " + context.md(incident.id, limit: 60) + ": " + incident.actors.map { context.md($0, limit: 120) }.joined(separator: ", ") + "\n"
        }
        return out + "\n"
    }

    private func supplyChainCommands() -> String? {
        guard let state = result.response, let dependency = state.dependency, !state.dependencyPaths.isEmpty else { return nil }
        var out = "### The compromised dependency\n\n"
        out += context.md(dependency, limit: 120) + " reaches these models:\n\n"
        let rows: [[String]] = state.dependencyPaths.map { path in
            let version: String = path.modelVersion.map { context.md($0, limit: 60) } ?? "not stated"
            let steps: String = path.path.map { context.md($0, limit: 120) }.joined(separator: " → ")
            return [context.md(path.model, limit: 120), version, steps, context.md(path.inventory, limit: 160)]
        }
        out += context.table(["Model", "Version", "Path", "Inventory"], rows) + "\n\n"
        if !state.installSources.isEmpty {
            let sources: [String] = state.installSources.map { context.md($0, limit: 200) }
            out += "Install sources in the requirements: " + sources.joined(separator: ", ")
            out += ". An extra index lets pip take a package of the same name from either index — the way a dependency-confusion package gets in; "
                + "install from one index you control (`--index-url`) and mirror what you need into it.\n\n"
        }
        if state.hashPinned == true {
            out += "The requirements are already pinned by hash: the hashes pin what the index served when they were generated, so they do not protect against a package "
                + "that was malicious at that time. Regenerate them from the clean index after removing the package.\n\n"
        }
        let package = dependency.split(separator: "/").last.map { String($0.split(separator: "@").first ?? "") } ?? dependency
        let plainName = package.unicodeScalars.allSatisfy { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0) || "._-".unicodeScalars.contains($0)) }
        guard plainName, let name = arg(package) else { return out }
        out += "Hunt for hosts and images that installed it:\n\n"
        out += block([
            "# images running in the cluster",
            "kubectl get pods -A -o jsonpath='{range .items[*]}{range .spec.containers[*]}{.image}{\"\\n\"}{end}{end}' | sort -u > images.txt",
            "while read -r IMAGE; do docker run --rm --entrypoint pip \"$IMAGE\" show " + name + " 2>/dev/null | sed \"s|^|$IMAGE: |\"; done < images.txt",
            "# build agents and notebooks",
            "pip show " + name,
        ])
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

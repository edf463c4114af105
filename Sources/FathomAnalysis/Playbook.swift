import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// The response playbook's decision tree, as data: the five incident types, every question and
/// action, and the edges between them. ``PlaybookEvaluation`` walks it for one case.
package enum Playbook {
    package struct Node: Sendable {
        package var id: String
        package var kind: String
        package var text: String
        package var actions: [String] = []
    }

    /// Question ids, so evaluation code and the chart agree.
    package enum Question: String, CaseIterable, Sendable {
        case production = "mb.production"
        case critical = "mb.critical"
        case sensitive = "pi.sensitive"
        case pipelineActive = "td.active"
        case extractionOngoing = "ex.ongoing"
        case otherModels = "sc.others"
    }

    package static let nodes: [Node] = [
        Node(id: "start", kind: "start", text: "Suspected AI/ML security incident"),
        Node(id: "classify", kind: "question", text: "Which incident type do the indicators show?"),
        // Model behaviour anomaly
        Node(id: "mb", kind: "type", text: IncidentType.modelBehaviour.title),
        Node(id: Question.production.rawValue, kind: "question", text: "Is the affected model serving production traffic?"),
        Node(id: Question.critical.rawValue, kind: "question", text: "Is the model safety-critical or customer-facing?"),
        Node(id: "mb.rollback-now", kind: "action", text: "Roll back now and switch to a fallback",
             actions: ["Roll back to the last known-good version immediately",
                       "Route traffic to a fallback (rules or previous model) while the rollback completes",
                       "List the decisions served by the compromised version for re-review"]),
        Node(id: "mb.rollback-planned", kind: "action", text: "Roll back in the next change window",
             actions: ["Schedule the rollback to the last known-good version", "Add output monitoring until then"]),
        Node(id: "mb.quarantine", kind: "action", text: "Quarantine the version",
             actions: ["Archive the compromised version in the registry", "Block its promotion to production"]),
        // Prompt injection
        Node(id: "pi", kind: "type", text: IncidentType.promptInjection.title),
        Node(id: Question.sensitive.rawValue, kind: "question", text: "Was sensitive data exposed in model output?"),
        Node(id: "pi.breach", kind: "action", text: "Handle as a personal-data breach",
             actions: ["Involve the DPO and legal; assess GDPR Art. 33/34 notification",
                       "Identify the affected users and sessions", "Purge leaked data from logs and caches"]),
        Node(id: "pi.harden", kind: "action", text: "Harden the guardrails",
             actions: ["Filter and normalise inputs before the model", "Isolate the system prompt from user content",
                       "Monitor prompts with the trained injection detector and the normalisation rule"]),
        // Training data / pipeline
        Node(id: "td", kind: "type", text: IncidentType.trainingData.title),
        Node(id: Question.pipelineActive.rawValue, kind: "question", text: "Is the training pipeline still actively compromised?"),
        Node(id: "td.freeze", kind: "action", text: "Freeze the pipeline",
             actions: ["Stop scheduled retraining and deployments", "Revoke the credentials involved",
                       "Snapshot the training data store for evidence"]),
        Node(id: "td.restore", kind: "action", text: "Restore and retrain",
             actions: ["Restore training data from a verified snapshot (fathom verify against a manifest)",
                       "Retrain and validate before redeploying"]),
        // Extraction
        Node(id: "ex", kind: "type", text: IncidentType.extraction.title),
        Node(id: Question.extractionOngoing.rawValue, kind: "question", text: "Is extraction still ongoing?"),
        Node(id: "ex.block", kind: "action", text: "Stop the extraction",
             actions: ["Block the attacker addresses at the WAF/gateway", "Revoke the API keys used",
                       "Enforce per-identity query budgets", "Return class labels only, without confidence scores"]),
        Node(id: "ex.assess", kind: "action", text: "Assess what was taken",
             actions: ["Rotate the credentials of the affected API", "Estimate the fidelity of a surrogate from the queries made",
                       "Consider watermarking or retraining if the model is valuable"]),
        // Supply chain
        Node(id: "sc", kind: "type", text: IncidentType.supplyChain.title),
        Node(id: Question.otherModels.rawValue, kind: "question", text: "Are other models using the same dependency?"),
        Node(id: "sc.fleet", kind: "action", text: "Contain across the fleet",
             actions: ["Patch and rebuild every model that depends on the component",
                       "Scan their artifacts (fathom scan-artifacts)", "Pin dependencies by hash"]),
        Node(id: "sc.single", kind: "action", text: "Patch the model",
             actions: ["Patch the dependency and rebuild the model", "Scan its artifacts"]),
        Node(id: "end", kind: "end", text: "Preserve evidence, notify, review",
             actions: ["Keep the archives and this report's hashes", "Notify as the regulator report's deadlines require",
                       "Hold a post-incident review"]),
    ]

    /// from, to, label
    package static let edges: [[String]] = [
        ["start", "classify", ""],
        ["classify", "mb", "behaviour"], ["classify", "pi", "injection"], ["classify", "td", "training data"],
        ["classify", "ex", "extraction"], ["classify", "sc", "supply chain"],
        ["mb", Question.production.rawValue, ""],
        [Question.production.rawValue, Question.critical.rawValue, "yes"], [Question.production.rawValue, "mb.quarantine", "no"],
        [Question.critical.rawValue, "mb.rollback-now", "yes"], [Question.critical.rawValue, "mb.rollback-planned", "no"],
        ["pi", Question.sensitive.rawValue, ""],
        [Question.sensitive.rawValue, "pi.breach", "yes"], [Question.sensitive.rawValue, "pi.harden", "no"],
        ["pi.breach", "pi.harden", ""],
        ["td", Question.pipelineActive.rawValue, ""],
        [Question.pipelineActive.rawValue, "td.freeze", "yes"], [Question.pipelineActive.rawValue, "td.restore", "no"],
        ["td.freeze", "td.restore", ""],
        ["ex", Question.extractionOngoing.rawValue, ""],
        [Question.extractionOngoing.rawValue, "ex.block", "yes"], [Question.extractionOngoing.rawValue, "ex.assess", "no"],
        ["ex.block", "ex.assess", ""],
        ["sc", Question.otherModels.rawValue, ""],
        [Question.otherModels.rawValue, "sc.fleet", "yes"], [Question.otherModels.rawValue, "sc.single", "no"],
        ["mb.rollback-now", "end", ""], ["mb.rollback-planned", "end", ""], ["mb.quarantine", "end", ""],
        ["pi.harden", "end", ""], ["td.restore", "end", ""], ["ex.assess", "end", ""],
        ["sc.fleet", "end", ""], ["sc.single", "end", ""],
    ]

    /// The default branch taken when neither evidence nor the case file answers a question: the
    /// one that protects more.
    package static let defaults: [Question: FlowAnswer] = [
        .production: .yes, .critical: .yes, .sensitive: .yes, .pipelineActive: .yes, .extractionOngoing: .yes, .otherModels: .yes,
    ]
}

/// An answer to a playbook question with where it came from.
package struct PlaybookAnswer: Sendable {
    package var answer: FlowAnswer
    /// "evidence" | "case-file" | "default"
    package var answeredBy: String
    package var evidence: [String]

    package static func confirm(_ question: Playbook.Question, because reason: String) -> PlaybookAnswer {
        PlaybookAnswer(answer: .analystToConfirm, answeredBy: "default",
                       evidence: [reason + "; default branch: " + (Playbook.defaults[question] == .yes ? "yes" : "no")])
    }

    /// The branch taken: the answer, or the default for an open question.
    package func branch(_ question: Playbook.Question) -> FlowAnswer {
        answer == .analystToConfirm ? (Playbook.defaults[question] ?? .yes) : answer
    }
}

/// Walks the playbook for the incident types present and the answers found.
package enum PlaybookEvaluation {
    package static func evaluate(types: [IncidentType], answers: [Playbook.Question: PlaybookAnswer]) -> FlowchartResult {
        var path = ["start", "classify"]
        func follow(_ question: Playbook.Question) {
            path.append(question.rawValue)
            let answer = answers[question] ?? PlaybookAnswer.confirm(question, because: "no evidence")
            let label = answer.branch(question) == .yes ? "yes" : "no"
            var next = Playbook.edges.first { $0[0] == question.rawValue && $0[2] == label }?[1]
            while let node = next, node != "end" {
                if let question = Playbook.Question(rawValue: node) {
                    follow(question)
                    return
                }
                path.append(node)
                next = Playbook.edges.first { $0[0] == node }?[1]
            }
        }
        for type in types.sorted() {
            switch type {
            case .modelBehaviour: path.append("mb"); follow(.production)
            case .promptInjection: path.append("pi"); follow(.sensitive)
            case .trainingData: path.append("td"); follow(.pipelineActive)
            case .extraction: path.append("ex"); follow(.extractionOngoing)
            case .supplyChain: path.append("sc"); follow(.otherModels)
            }
        }
        path.append("end")
        let nodes = Playbook.nodes.map { node -> FlowNode in
            let question = Playbook.Question(rawValue: node.id)
            let answer = question.flatMap { answers[$0] }
            let visited = path.contains(node.id)
            return FlowNode(id: node.id, kind: node.kind, text: node.text,
                            answer: visited ? (answer?.answer ?? (question != nil ? .analystToConfirm : nil)) : nil,
                            answeredBy: visited ? (answer?.answeredBy ?? (question != nil ? "default" : nil)) : nil,
                            evidence: visited ? (answer?.evidence ?? []) : [], actions: node.actions)
        }
        return FlowchartResult(incidentTypes: types.sorted(), path: path, nodes: nodes, edges: Playbook.edges)
    }
}

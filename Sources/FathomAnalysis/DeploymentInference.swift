import FathomStore
import FathomSupport
import FathomDetect

/// An MLOps pipeline row, decoded.
package struct PipelineRow: Sendable {
    package var time: Int64
    package var principal: String
    package var action: String
    package var pipeline: String
    package var status: String
    package var runID: String
    package var evidence: EvidenceRef

    package init(time: Int64, principal: String, action: String, pipeline: String, status: String, runID: String,
                 evidence: EvidenceRef) {
        self.time = time
        self.principal = principal
        self.action = action
        self.pipeline = pipeline
        self.status = status
        self.runID = runID
        self.evidence = evidence
    }

    package var succeeded: Bool {
        let text = status.lowercased()
        return ["succeeded", "success", "completed", "complete", "done", "ok"].contains(text)
    }

    /// A deploy that has begun but not finished (Airflow, Argo and CI logs write one row per state).
    package var isUnderway: Bool { ["started", "running", "in_progress", "in-progress", "pending"].contains(status.lowercased()) }

    package var isDeploy: Bool {
        let text = action.lowercased()
        return ["deploy", "promote", "release", "rollout"].contains { text.contains($0) } && !isRollback
    }

    package var isRollback: Bool {
        let text = action.lowercased()
        return ["rollback", "roll_back", "roll-back", "revert", "undeploy"].contains { text.contains($0) }
    }

    package var isTraining: Bool {
        let text = action.lowercased()
        return text.contains("train") || text == "fit"
    }

    /// Whether the pipeline's name names `model` (`fraud-detector-deploy`, `fraud_detector_training`).
    package func concerns(_ model: String) -> Bool { Self.pipeline(pipeline, concerns: model) }

    package static func pipeline(_ name: String, concerns model: String) -> Bool {
        func folded(_ text: String) -> String { String(text.lowercased().map { $0 == "_" ? "-" : $0 }) }
        return !model.isEmpty && folded(name).contains(folded(model))
    }
}

/// The impact window of a compromised model read from deployment evidence other than the registry:
/// the deploy and rollback actions of the MLOps pipeline log.
///
/// A pipeline row names no model version, so the link between a deploy and the compromised version
/// is stated, with its strength, on the window's start edge:
///
/// 1. the case file's `compromised.deployed_at` (and `removed_at`) — a person's word, used as given;
/// 2. a deploy carrying the run id of the training run that followed the anomalous data burst
///    (`pipeline.burst`) by the burst's principal — "deploy of the poisoned training run";
/// 3. the first successful deploy after that training run by the same principal;
/// 4. the first successful deploy of the model after that training run, by anyone.
///
/// The end is the first successful rollback of the model after the deploy (or the case file's
/// `removed_at`); none means the compromised version may still serve. A deploy or rollback logged
/// as started and then succeeded gives the rollout its span: the estimate of affected requests
/// is then a range (see ``RegistryAnalysis/Window``).
package enum DeploymentInference {
    /// The `started` row of the same deploy or rollback as `finished` (a row of the same kind on the
    /// same pipeline and run, at or before it), which opens what `finished` completes.
    static func started(_ finished: PipelineRow, among rows: [PipelineRow], _ sameKind: (PipelineRow) -> Bool) -> PipelineRow? {
        rows.last { sameKind($0) && $0.isUnderway && $0.time <= finished.time && $0.pipeline == finished.pipeline
            && (finished.runID.isEmpty || $0.runID == finished.runID) }
    }

    /// The window edge a pipeline row makes: who did what on which pipeline, and why it counts.
    static func opening(_ row: PipelineRow, model: String, started: Bool, because: String) -> RegistryAnalysis.Edge {
        RegistryAnalysis.Edge(nanos: row.time, rule: "pipeline",
                              description: "\(row.action) of \(model) by \(row.principal) on pipeline \(row.pipeline)\(started ? " (started)" : "")\(because)",
                              evidence: row.evidence)
    }

    package static func window(model: String, version: String, rows: [PipelineRow], bursts: [Hit],
                               caseFile: CaseFile) -> (window: RegistryAnalysis.Window, deployers: [String])? {
        let related = rows.filter { $0.concerns(model) && ($0.isDeploy || $0.isRollback) }
        var start: RegistryAnalysis.Edge?
        var rolloutEnd: RegistryAnalysis.Edge?
        var deployers: [String] = []
        var deployRun: String?
        if let deployedAt = caseFile.compromisedDeployedAt {
            start = RegistryAnalysis.Edge(nanos: deployedAt.nanoseconds, rule: "case-file",
                                          description: "case file: \(model) \(version) deployed at compromised.deployed_at", evidence: nil)
        } else if let link = link(model: model, related: related, rows: rows, bursts: bursts) {
            let deploy = link.deploy
            // The first row of this deploy (started) opens the window; its success closes the rollout.
            let begun = started(deploy, among: related, \.isDeploy)
            start = opening(begun ?? deploy, model: model, started: begun != nil,
                            because: ", \(link.reason); inferred to put \(version) into service")
            if begun != nil {
                rolloutEnd = RegistryAnalysis.Edge(nanos: deploy.time, rule: "pipeline",
                                                   description: "the same deploy reported succeeded (rollout complete)", evidence: deploy.evidence)
            }
            if !deploy.principal.isEmpty { deployers.append(deploy.principal) }
            deployRun = deploy.runID
        }
        guard let start else { return nil }
        var end: RegistryAnalysis.Edge?
        var drainEnd: RegistryAnalysis.Edge?
        if let removedAt = caseFile.compromisedRemovedAt {
            end = RegistryAnalysis.Edge(nanos: removedAt.nanoseconds, rule: "case-file",
                                        description: "case file: \(model) \(version) removed at compromised.removed_at", evidence: nil)
        } else {
            let after = related.filter { $0.time > (rolloutEnd ?? start).nanos }
            // The first rollback that succeeded; a started one before it opens the drain.
            if let rollback = after.first(where: { $0.isRollback && $0.succeeded }) {
                let begun = started(rollback, among: after, \.isRollback)
                end = opening(begun ?? rollback, model: model, started: begun != nil, because: "")
                if begun != nil {
                    drainEnd = RegistryAnalysis.Edge(nanos: rollback.time, rule: "pipeline",
                                                     description: "the same rollback reported succeeded", evidence: rollback.evidence)
                }
            } else if let redeploy = after.first(where: { $0.isDeploy && $0.succeeded && (deployRun == nil || $0.runID != deployRun) }) {
                end = RegistryAnalysis.Edge(nanos: redeploy.time, rule: "pipeline",
                                            description: "next deploy of \(model) on pipeline \(redeploy.pipeline) (run \(redeploy.runID)), assumed to replace \(version)",
                                            evidence: redeploy.evidence)
            }
        }
        var window = RegistryAnalysis.Window(start: start, end: end)
        window.rolloutEnd = rolloutEnd
        window.drainEnd = drainEnd
        return (window, deployers)
    }

    /// The deploy that put the poisoned training run into service, and why it is that one.
    private static func link(model: String, related: [PipelineRow], rows: [PipelineRow], bursts: [Hit]) -> (deploy: PipelineRow, reason: String)? {
        // The data bursts on this model's pipelines, earliest first.
        let dataBursts = bursts.filter { ($0.field("action") ?? "").lowercased().contains("modify") || ($0.field("action") ?? "").lowercased().contains("data") }
            .filter { $0.field("pipeline").map { PipelineRow.pipeline($0, concerns: model) } ?? false }
            .sorted { ($0.window?.start.nanoseconds ?? 0) < ($1.window?.start.nanoseconds ?? 0) }
        guard let burst = dataBursts.first, let principal = burst.field("principal"),
              let burstEnd = burst.evidence.last?.time?.nanoseconds ?? burst.window?.end.nanoseconds else { return nil }
        let deploys = related.filter { $0.isDeploy && $0.succeeded && $0.time > burstEnd }
        let training = rows.first { $0.isTraining && $0.succeeded && $0.time > burstEnd && $0.principal == principal && $0.concerns(model) }
        if let training, !training.runID.isEmpty, let deploy = deploys.first(where: { $0.runID == training.runID && $0.time >= training.time }) {
            return (deploy, "deploying run \(training.runID), the training run \(principal) started after the anomalous \(burst.field("action") ?? "data") burst")
        }
        let after = training?.time ?? burstEnd
        if let deploy = deploys.first(where: { $0.principal == principal && $0.time >= after }) {
            return (deploy, "the first successful deploy by \(principal) after the anomalous \(burst.field("action") ?? "data") burst\(training != nil ? " and retrain" : "")")
        }
        if let deploy = deploys.first(where: { $0.time >= after }) {
            return (deploy, "the first successful deploy of \(model) after the anomalous \(burst.field("action") ?? "data") burst by \(principal) (a weaker link: another principal deployed)")
        }
        return nil
    }
}

import FathomStore
import FathomSupport

/// Generates the small, slow sources in memory: MLOps pipeline activity (with its 14-day
/// baseline), Kubernetes audit events on the model deployments, and the MLflow registry rows.
package struct ControlPlane {
    package let scenario: Scenario

    package static let pipelines: [(name: String, team: [String])] = [
        ("fraud-detector-training", ["d.silva", "a.kowalski"]),
        ("credit-risk-training", ["b.nguyen", "a.kowalski"]),
        ("churn-training", ["c.okafor"]),
        ("doc-classifier-training", ["e.haddad", "c.okafor"]),
    ]

    package var burstEnd: Int64 { scenario.burstDayStart + 4 * ScenarioTime.hour }

    /// Pipeline events from the baseline start to the end of the data, in time order.
    package func pipelineEvents() -> [PipelineEvent] {
        var events: [PipelineEvent] = []
        let days = Int((scenario.end - scenario.baselineStart) / ScenarioTime.day)
        for dayIndex in 0..<days {
            let dayStart = scenario.baselineStart + Int64(dayIndex) * ScenarioTime.day
            let isWeekend = ScenarioTime.weekday(dayStart) >= 5
            for (pipelineIndex, pipeline) in Self.pipelines.enumerated() {
                var rng = Xoshiro256(master: scenario.seed, "pipeline", numbers: [dayIndex, pipelineIndex])
                func at(_ hour: Int, spreadMinutes: Int = 50) -> Int64 {
                    dayStart + Int64(hour) * ScenarioTime.hour + Int64(rng.below(spreadMinutes * 60_000)) * 1_000_000
                }
                func add(_ time: Int64, _ user: String, _ action: String, status: String? = nil, run: String? = nil,
                         label: ActorLabel = .background) {
                    events.append(PipelineEvent(time: time, user: user, action: action, pipeline: pipeline.name,
                                                status: status ?? (rng.chance(0.05) ? "failed" : "succeeded"),
                                                runID: run ?? ("run_" + rng.hex(16)), label: label))
                }
                // Nightly scheduled retrain and evaluation.
                let nightly = "run_" + rng.hex(16)
                add(at(2), "svc-airflow", "retrain", run: nightly)
                add(at(3), "svc-airflow", "evaluate", status: "succeeded", run: nightly)
                if ScenarioTime.weekday(dayStart) == 1 { add(at(9), "svc-airflow", "deploy") }
                let isBurstDay = dayStart == scenario.burstDayStart && pipeline.name == scenario.burstPipeline
                for user in pipeline.team {
                    if isBurstDay && user == scenario.burstUser { continue }
                    let modifyTable = isWeekend ? [0, 0, 0, 1] : [0, 1, 1, 2, 2, 2, 3, 3]
                    for _ in 0..<modifyTable[rng.below(modifyTable.count)] {
                        add(at(rng.int(in: 8...17)), user, "modify_data")
                    }
                    let configTable = isWeekend ? [0] : [0, 0, 1, 1, 2]
                    for _ in 0..<configTable[rng.below(configTable.count)] {
                        add(at(rng.int(in: 9...17)), user, "update_config")
                    }
                    if !isWeekend && rng.chance(0.3) { add(at(rng.int(in: 10...16)), user, "retrain") }
                    if !isWeekend && rng.chance(0.4) { add(at(rng.int(in: 10...17)), user, "evaluate", status: "succeeded") }
                }
                if isBurstDay {
                    // The planted burst: a compromised account rewrites training data at night.
                    let label = ActorLabel.attacker(scenario.burstUser)
                    let span = 3 * 3_600_000 / scenario.burstCount
                    for index in 0..<scenario.burstCount {
                        let time = dayStart + ScenarioTime.hour + Int64(index * span + rng.below(span)) * 1_000_000
                        add(time, scenario.burstUser, "modify_data", status: "succeeded", label: label)
                    }
                    let run = "run_" + String(scenario.poisonRunID.prefix(16))
                    add(burstEnd + 20 * ScenarioTime.minute, scenario.burstUser, "retrain", status: "succeeded", run: run, label: label)
                    add(burstEnd + 50 * ScenarioTime.minute, scenario.burstUser, "evaluate", status: "succeeded", run: run, label: label)
                }
            }
        }
        if scenario.request.withoutDecisionLogs {
            events += deployPipelineEvents()
        } else {
            // The pipeline's own promotion of the poisoned version, minutes before the rollout.
            var rng = Xoshiro256(master: scenario.seed, "pipeline-deploy")
            events.append(PipelineEvent(time: scenario.deployTime - 3 * ScenarioTime.minute - Int64(rng.below(1000)) * 1_000_000,
                                        user: "svc-airflow", action: "deploy", pipeline: scenario.burstPipeline,
                                        status: "succeeded", runID: "run_" + String(scenario.poisonRunID.prefix(16)),
                                        label: .attacker(scenario.burstUser)))
        }
        let order = events.indices.sorted { events[$0].time != events[$1].time ? events[$0].time < events[$1].time : $0 < $1 }
        return order.map { events[$0] }
    }

    /// The deploy pipeline of a team without a registry: each deploy and rollback logged when it
    /// starts and when it succeeds (the rollout of the poisoned version, the drain of its pods).
    package func deployPipelineEvents() -> [PipelineEvent] {
        var rng = Xoshiro256(master: scenario.seed, "deploy-pipeline")
        let pipeline = "\(scenario.poisonedModel)-deploy"
        var events: [PipelineEvent] = []
        func add(_ time: Int64, _ user: String, _ action: String, _ status: String, _ run: String, _ label: ActorLabel = .background) {
            events.append(PipelineEvent(time: time, user: user, action: action, pipeline: pipeline, status: status, runID: run, label: label))
        }
        // The version before: v12, ten days before the data.
        let previous = scenario.start - 10 * ScenarioTime.day + 9 * ScenarioTime.hour + Int64(rng.below(3600)) * ScenarioTime.second
        let previousRun = "run_" + rng.hex(16)
        add(previous, "svc-airflow", "deploy", "started", previousRun)
        add(previous + scenario.rolloutSeconds * ScenarioTime.second, "svc-airflow", "deploy", "succeeded", previousRun)
        // The poisoned training run, deployed by the account that tampered with its data.
        let poisonRun = "run_" + String(scenario.poisonRunID.prefix(16))
        let label = ActorLabel.attacker(scenario.burstUser)
        add(scenario.deployTime, scenario.burstUser, "deploy", "started", poisonRun, label)
        add(scenario.deployTime + scenario.rolloutSeconds * ScenarioTime.second, scenario.burstUser, "deploy", "succeeded", poisonRun, label)
        // The on-call SRE rolls back: a first attempt fails, the second drains v13's pods.
        let rollbackRun = "run_" + rng.hex(16)
        add(scenario.rollbackTime - 40 * ScenarioTime.second, "oncall-sre", "rollback", "failed", "run_" + rng.hex(16))
        add(scenario.rollbackTime, "oncall-sre", "rollback", "started", rollbackRun)
        add(scenario.rollbackTime + scenario.drainSeconds * ScenarioTime.second, "oncall-sre", "rollback", "succeeded", rollbackRun)
        return events
    }

    package static func image(_ model: String, _ version: Int) -> String { "registry.example.com/\(model):v\(version)" }

    /// Kubernetes audit events on the model deployments, in time order.
    package func auditEvents() -> [DeploymentAuditEvent] {
        var rng = Xoshiro256(master: scenario.seed, "k8s")
        var events: [DeploymentAuditEvent] = []
        let deployer = "system:serviceaccount:ml-cicd:deployer"
        let hpa = "system:serviceaccount:kube-system:horizontal-pod-autoscaler"
        let ciIP = "192.168.10.21"
        // Autoscaler activity every few hours.
        var time = scenario.start + Int64(rng.below(3600)) * ScenarioTime.second
        while time < scenario.end {
            let name = rng.chance(0.6) ? "fraud-detector" : "credit-risk"
            events.append(DeploymentAuditEvent(time: time + Int64(rng.below(1_000_000)) * 1000, verb: "patch", namespace: "ml-prod", name: name,
                                               subresource: "scale", username: hpa, sourceIP: "10.0.0.15", code: 200,
                                               image: nil, replicas: rng.int(in: 3...12), label: .background))
            time += Int64(rng.int(in: 2 * 3600...5 * 3600)) * ScenarioTime.second
        }
        func deploy(_ time: Int64, _ verb: String, _ namespace: String, _ model: String, _ version: Int,
                    _ user: String, _ ip: String, code: Int = 200, label: ActorLabel = .background) {
            events.append(DeploymentAuditEvent(time: time + Int64(rng.below(1_000_000)) * 1000, verb: verb, namespace: namespace,
                                               name: model, subresource: nil, username: user, sourceIP: ip, code: code,
                                               image: Self.image(model, version), replicas: nil, label: label))
        }
        // Routine: credit-risk v7 through staging to production on the first day.
        deploy(scenario.creditRiskDeployTime - 3 * ScenarioTime.hour, "patch", "ml-staging", "credit-risk", 7, deployer, ciIP)
        deploy(scenario.creditRiskDeployTime, "patch", "ml-prod", "credit-risk", 7, deployer, ciIP)
        // A new staging deployment and a config re-apply.
        deploy(scenario.start + 5 * ScenarioTime.hour, "create", "ml-staging", "doc-classifier", 3, deployer, ciIP)
        deploy(scenario.start + 11 * ScenarioTime.hour, "update", "ml-prod", "churn-predictor", 4, deployer, ciIP)
        // Denied: an intern tries to change production.
        deploy(scenario.start + 20 * ScenarioTime.hour, "patch", "ml-prod", "fraud-detector", 12, "intern@acme.example", "10.50.1.77", code: 403)
        // The poisoned version: staging after the burst, production at the deploy time.
        let poison = ActorLabel.attacker("poisoned-deploy")
        deploy(burstEnd + 2 * ScenarioTime.hour, "patch", "ml-staging", scenario.poisonedModel, scenario.poisonedVersion, deployer, ciIP, label: poison)
        events.append(DeploymentAuditEvent(time: scenario.deployTime, verb: "patch", namespace: "ml-prod", name: scenario.poisonedModel,
                                           subresource: nil, username: deployer, sourceIP: ciIP, code: 200,
                                           image: Self.image(scenario.poisonedModel, scenario.poisonedVersion), replicas: nil, label: poison))
        // Rollback: a conflicting first attempt, then the rollback itself.
        let sre = "oncall-sre@acme.example"
        deploy(scenario.rollbackTime - 40 * ScenarioTime.second, "patch", "ml-prod", scenario.poisonedModel, scenario.knownGoodVersion, sre, "10.50.2.14", code: 409)
        events.append(DeploymentAuditEvent(time: scenario.rollbackTime, verb: "patch", namespace: "ml-prod", name: scenario.poisonedModel,
                                           subresource: nil, username: sre, sourceIP: "10.50.2.14", code: 200,
                                           image: Self.image(scenario.poisonedModel, scenario.knownGoodVersion), replicas: nil,
                                           label: .attacker("rollback")))
        let order = events.indices.sorted { events[$0].time != events[$1].time ? events[$0].time < events[$1].time : $0 < $1 }
        return order.map { events[$0] }.filter { $0.time >= scenario.start && $0.time < scenario.end }
    }

    /// MLflow registry rows (`registered_models`, `model_versions`).
    package func mlflowRows() -> (models: [RegisteredModelRow], versions: [ModelVersionRow]) {
        var rng = Xoshiro256(master: scenario.seed, "mlflow")
        let ms = Int64(1_000_000)
        var versions: [ModelVersionRow] = []
        var models: [RegisteredModelRow] = []
        let plan: [(name: String, count: Int, production: Int, description: String)] = [
            ("fraud-detector", 13, 12, "Card-not-present fraud scoring (gradient-boosted trees + embedding features)."),
            ("credit-risk", 7, 7, "Consumer credit default risk."),
            ("churn-predictor", 4, 4, "Retail churn propensity."),
            ("doc-classifier", 3, 0, "Inbound document routing (staging)."),
        ]
        for (modelIndex, model) in plan.enumerated() {
            let created = scenario.start - Int64(400 - modelIndex * 30) * ScenarioTime.day + Int64(rng.below(86_400)) * ScenarioTime.second
            var lastUpdated = created
            for version in 1...model.count {
                var creation = created + Int64(version) * 14 * ScenarioTime.day + Int64(rng.below(86_400)) * ScenarioTime.second
                var updated = creation + Int64(rng.int(in: 1...3)) * ScenarioTime.day
                var stage = "Archived"
                var user = ["a.kowalski", "b.nguyen", "c.okafor", "e.haddad"][modelIndex]
                var run = rng.hex(32)
                if model.name == scenario.poisonedModel && version == scenario.knownGoodVersion {
                    creation = scenario.start - 10 * ScenarioTime.day + Int64(rng.below(86_400)) * ScenarioTime.second
                    updated = scenario.rollbackTime + 30 * ScenarioTime.second
                    stage = "Production"
                } else if model.name == scenario.poisonedModel && version == scenario.poisonedVersion {
                    creation = burstEnd + 80 * ScenarioTime.minute
                    updated = scenario.rollbackTime + 25 * ScenarioTime.second
                    stage = "Archived"
                    user = scenario.burstUser
                    run = scenario.poisonRunID
                } else if model.name == "credit-risk" && version == 7 {
                    creation = scenario.creditRiskDeployTime - 5 * ScenarioTime.hour
                    updated = scenario.creditRiskDeployTime - ScenarioTime.minute
                    stage = "Production"
                } else if model.name == "credit-risk" && version == 6 {
                    creation = scenario.start - 30 * ScenarioTime.day
                    updated = scenario.creditRiskDeployTime - ScenarioTime.minute
                } else if version == model.production {
                    stage = "Production"
                } else if model.name == "doc-classifier" && version == model.count {
                    stage = "Staging"
                }
                creation = creation / ms * ms
                updated = updated / ms * ms
                if model.name == scenario.poisonedModel && version < scenario.knownGoodVersion {
                    creation = min(creation, scenario.start - Int64(20 + (scenario.knownGoodVersion - version) * 14) * ScenarioTime.day)
                    updated = creation + 2 * ScenarioTime.day
                }
                versions.append(ModelVersionRow(name: model.name, version: version, creationTime: creation,
                                                lastUpdatedTime: updated, description: "\(model.name) v\(version)",
                                                userID: user, currentStage: stage, runID: run, status: "READY"))
                lastUpdated = max(lastUpdated, updated)
            }
            if model.name == "churn-predictor" {
                // A registration that failed: not a successful registry change.
                let creation = (scenario.start + 7 * ScenarioTime.hour) / ms * ms
                versions.append(ModelVersionRow(name: model.name, version: model.count + 1, creationTime: creation,
                                                lastUpdatedTime: creation, description: "churn-predictor v5 (upload interrupted)",
                                                userID: "c.okafor", currentStage: "None", runID: rng.hex(32),
                                                status: "FAILED_REGISTRATION"))
                lastUpdated = max(lastUpdated, creation)
            }
            models.append(RegisteredModelRow(name: model.name, creationTime: created / ms * ms,
                                             lastUpdatedTime: lastUpdated / ms * ms, description: model.description))
        }
        return (models, versions)
    }
}

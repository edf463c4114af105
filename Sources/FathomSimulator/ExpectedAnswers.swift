import FathomStore
import FathomSupport

/// Assembles `expected.json`: the known answers of a simulated scenario.
///
/// Every figure under `detections` and `analysis` comes from the reference implementation
/// (``ExtractionReference``, ``ArtifactReference``, ``InjectionReference``,
/// ``PipelineBurstReference``, ``RegistryChangeReference``, ``DecisionReference``) run over the
/// generated events; `ground_truth` says what was planted. Keys are sorted and lists are in a
/// fixed order, so the file is byte-identical across runs.
package struct ExpectedAnswers {
    package let scenario: Scenario
    package let files: [SimulatedFile]
    package let extraction: ExtractionReference
    package let decisions: DecisionReference
    package let artifacts: ArtifactReference
    package let injection: InjectionReference
    package let pipelineEvents: [PipelineEvent]
    package let changes: [RegistryChange]
    package let window: (start: Int64, end: Int64, endRule: String)
    package let isBundle: Bool
    package var requests: RequestWindowReference? = nil

    package static let formatVersion = 1

    package func document(bundle: SimulatedFile?) -> JSONTree {
        let burst = PipelineBurstReference.hits(pipelineEvents)
        var root: [String: JSONTree] = [
            "format_version": .int(Self.formatVersion),
            "scenario": scenarioSection(),
            "files": .array(files.map(fileEntry)),
            "rows_by_kind": rowsByKind(),
            "detections": detections(burst: burst.hits, burstGroups: burst.groups),
            "analysis": analysis(burst: burst.hits),
            "ground_truth": groundTruth(burst: burst.hits),
            "semantics": semantics(),
        ]
        if let bundle { root["bundle"] = fileEntry(bundle) }
        if scenario.request.withoutDecisionLogs, let requests {
            // What the analysis must estimate without decision logs, and the truth it must bracket.
            root["affected_requests"] = [
                "model": .string(requests.model), "poisoned_version": .string(requests.poisoned),
                "low": .int(requests.low), "high": .int(requests.high),
                "answered_by_poisoned_version": .int(requests.answeredByPoisoned),
                "window_low": ["start": .time(requests.narrow.lowerBound), "end": .time(requests.narrow.upperBound),
                               "rule": "from the deploy pipeline's 'deploy succeeded' (rollout complete) to its 'rollback started'"],
                "window_high": ["start": .time(requests.wide.lowerBound), "end": .time(requests.wide.upperBound),
                                "rule": "from the deploy pipeline's 'deploy started' to its 'rollback succeeded' (pods drained)"],
                "semantics": "successful (2xx) POSTs to the fraud-detector's predict path in the gateway log inside each window; answered_by_poisoned_version is the truth the range must bracket",
            ]
        }
        return .object(root)
    }

    private func fileEntry(_ file: SimulatedFile) -> JSONTree {
        ["path": .string(file.path), "kind": .string(file.kind), "format": .string(file.format),
         "records": .int(file.records), "uncompressed_bytes": .int(file.uncompressedBytes),
         "bytes": .int(file.bytes), "sha256": .string(file.sha256)]
    }

    private func scenarioSection() -> JSONTree {
        let r = scenario.request
        var command = "fathom simulate --out DIR --seed \(r.seed) --scale \(r.scale) --days \(r.days) --start \(ScenarioTime.dateString(r.start))"
        if isBundle { command += " --bundle" }
        let shape = r.shape
        if !shape.isDefault { command += " " + shape.options }
        var section: JSONTree = [
            "seed": .string(String(r.seed)), "scale": .int(r.scale), "days": .int(r.days),
            "start": .time(scenario.start), "end": .time(scenario.end),
            "pipeline_baseline_start": .time(scenario.baselineStart),
            "pipeline_baseline_days": .int(SimulationRequest.pipelineBaselineDays),
            "bundle": .bool(isBundle), "command": .string(command),
            "generator": "fathom simulate",
        ]
        if !shape.isDefault, case .object(var fields) = section {
            var knobs: [String: JSONTree] = [
                "client_skew": .string(String(shape.clientSkew)), "unique_inputs": .string(String(shape.uniqueInputs)),
                "trigger_share": .string(String(shape.triggerShare)), "models": .int(shape.models),
                "llm_share": .string(String(shape.llmShare)), "unique_prompts": .string(String(shape.uniquePrompts)),
            ]
            knobs["clients"] = .int(scenario.clients.count)
            fields["shape"] = .object(knobs)
            section = .object(fields)
        }
        return section
    }

    private func rowsByKind() -> JSONTree {
        var rows: [String: Int] = [:]
        for file in files where file.kind != "sbom" { rows[file.kind, default: 0] += file.records }
        // mlflow.db counts registered models + versions as its records; the registry rows that
        // registry.change lists are reported there.
        var result: [String: JSONTree] = [:]
        for (kind, count) in rows { result[kind] = .int(count) }
        return .object(result)
    }

    // MARK: detections

    private func detections(burst: [BurstHit], burstGroups: Int) -> JSONTree {
        let hits = extraction.hits.sorted { ($0.hourStart, $0.srcIP) < ($1.hourStart, $1.srcIP) }
        let extractionHits: [JSONTree] = hits.map {
            ["src_ip": .string($0.srcIP), "hour": .time($0.hourStart), "query_count": .int($0.queryCount),
             "distinct_inputs": .int($0.distinctInputs)]
        }
        let artifactIPs = artifacts.byIP.keys.sorted()
        let artifactTotal = artifacts.byIP.values.reduce(0) { $0 + $1.count }
        let byIP: [JSONTree] = artifactIPs.map { ip in
            let tally = artifacts.byIP[ip] ?? ArtifactTally()
            return ["src_ip": .string(ip), "count": .int(tally.count), "first": .time(tally.first), "last": .time(tally.last)]
        }
        let phraseHits = sortedPhraseHits()
        let phraseList: [JSONTree] = phraseHits.map {
            ["time": .time($0.time), "principal": .string($0.principal), "phrase": .string($0.phrases[0]),
             "phrases": .array($0.phrases.map { .string($0) })]
        }
        let burstList: [JSONTree] = burst.map(burstEntry)
        let counted = changes
        return [
            "extraction.volume": [
                "count": .int(hits.count), "hits": .array(extractionHits),
                "rows_scanned": .int(extraction.rows),
            ],
            "artifact.external-access": [
                "count": .int(artifactTotal), "distinct_src_ips": .int(artifactIPs.count), "by_src_ip": .array(byIP),
                "rows_scanned": .int(artifacts.rows),
            ],
            "prompt.injection-phrase": [
                "count": .int(phraseHits.count), "hits": .array(phraseList),
                "benign_count": .int(phraseHits.filter(\.isBenign).count), "rows_scanned": .int(injection.rows),
            ],
            "pipeline.burst": [
                "count": .int(burst.count), "hits": .array(burstList), "groups": .int(burstGroups),
                "rows_scanned": .int(pipelineEvents.count),
            ],
            "registry.change": [
                "count": .int(counted.count), "changes": .array(counted.map(changeEntry)),
                "by_event": .object(Dictionary(grouping: counted, by: \.event).mapValues { .int($0.count) }),
            ],
        ]
    }

    private func sortedPhraseHits() -> [PhraseHit] {
        injection.hits.sorted { ($0.time, $0.principal, $0.session) < ($1.time, $1.principal, $1.session) }
    }

    private func burstEntry(_ hit: BurstHit) -> JSONTree {
        ["user": .string(hit.user), "action": .string(hit.action), "pipeline": .string(hit.pipeline),
         "day": .string(ScenarioTime.dateString(hit.day)), "count": .int(hit.count), "mean": .double(hit.mean),
         "stdev": .double(hit.stdev), "threshold": .double(hit.mean + 2 * hit.stdev)]
    }

    private func changeEntry(_ change: RegistryChange) -> JSONTree {
        ["time": .time(change.time), "source": .string(change.source), "model": .string(change.model),
         "version": change.version.isEmpty ? .null : .string(change.version), "event": .string(change.event),
         "from_stage": .optional(change.fromStage), "to_stage": .optional(change.toStage),
         "principal": .optional(change.principal), "namespace": .optional(change.namespace)]
    }

    // MARK: analysis

    private func analysis(burst: [BurstHit]) -> JSONTree {
        let lastHour = scenario.end - ScenarioTime.hour
        // Extraction per attacker identity.
        var identities: [JSONTree] = []
        var totalQueries = 0
        var allInputs = Set<[UInt8]>()
        var first = Int64.max
        var last = Int64.min
        var isOngoing = false
        for attacker in scenario.attackers {
            let tally = extraction.tallies[attacker.identity] ?? IdentityTally()
            guard tally.queries > 0 else { continue }
            totalQueries += tally.queries
            allInputs.formUnion(tally.inputs)
            first = min(first, tally.first)
            last = max(last, tally.last)
            if tally.last >= lastHour { isOngoing = true }
            let peak = tally.hourly.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }.first
            identities.append([
                "identity": .string(attacker.identity), "style": .string(attacker.style.rawValue),
                "matched_by": attacker.style == .distributed ? "api_key" : "src_ip",
                "src_ips": .array(tally.addresses.sorted().map { .string($0) }),
                "queries": .int(tally.queries), "distinct_inputs": .int(tally.inputs.count),
                "first_seen": .time(tally.first), "last_seen": .time(tally.last),
                "peak_hourly_rate": .int(peak?.value ?? 0), "peak_hour": .optionalTime(peak?.key),
                "active_hours": .int(tally.hourly.count),
                "endpoints": .array(tally.endpoints.sorted().map { .string($0) }),
                "active_in_last_hour": .bool(tally.last >= lastHour),
            ])
        }
        // The busy friend: flagged by the hourly rule, not an attacker.
        let batch = scenario.nightlyBatch
        let batchTally = extraction.tallies[batch.ip] ?? IdentityTally()
        let setAside: [JSONTree] = batchTally.queries == 0 ? [] : [[
            "identity": .string(batch.ip), "style": "nightly-batch", "verdict": "likely benign",
            "queries": .int(batchTally.queries), "distinct_inputs": .int(batchTally.inputs.count),
            "first_seen": .time(batchTally.first), "last_seen": .time(batchTally.last),
            "hours_of_day": .array(batch.hoursOfDay.map { .int($0) }),
            "playbook_hits": .int(extraction.hits.filter { $0.srcIP == batch.ip }.count),
            "why": "internal address (10.0.0.0/8), a batch key, the same hours every night at a steady rate",
        ]]
        var windowModelQueries = 0
        if first <= last {
            let firstHour = ScenarioTime.floorDiv(first, ScenarioTime.hour) * ScenarioTime.hour
            for (hour, count) in extraction.modelQueriesByHour where hour >= firstHour && hour <= last { windowModelQueries += count }
        }
        let hitInLastHour = extraction.hits.contains { $0.hourStart >= lastHour }
        // Affected decisions.
        let poisoned = "v\(scenario.poisonedVersion)"
        let inWindow = decisions.inWindow[poisoned] ?? [:]
        let affected = inWindow.values.reduce(0, +)
        var allVersions: [String: JSONTree] = [:]
        for (version, counts) in decisions.inWindow { allVersions[version] = .int(counts.values.reduce(0, +)) }
        let drained = decisions.poisonedAfterWindow.values.reduce(0, +)
        // Exposure.
        let exposed = injection.exposed.sorted { ($0.time, $0.user) < ($1.time, $1.user) }
        var categories: [String: Int] = [:]
        for record in exposed { for category in record.categories { categories[category, default: 0] += 1 } }
        // Supply chain.
        let dependents = SoftwareBill.modelsDepending(on: scenario.compromisedPackage)
        // Windows.
        let artifactFirst = artifacts.byIP.values.map(\.first).min()
        let artifactLast = artifacts.byIP.values.map(\.last).max()
        let injectionFirst = injection.plantedActivity.values.map(\.first).min()
        let injectionLast = injection.plantedActivity.values.map(\.last).max()
        let plantedBurst = burst.first { $0.isPlanted }
        let burstFirst = plantedBurst.flatMap { hit in
            pipelineEvents.first { $0.user == hit.user && $0.action == hit.action && $0.pipeline == hit.pipeline
                && ScenarioTime.floorDiv($0.time, ScenarioTime.day) * ScenarioTime.day == hit.day }?.time
        }
        let windows: [JSONTree] = [
            ["incident": "poisoned-model", "type": "training data / pipeline compromise",
             "start": .time(window.start), "start_rule": .string("k8s audit: first successful deploy of \(scenario.poisonedModel):\(poisoned) to ml-prod"),
             "end": .time(window.end), "end_rule": .string(window.endRule),
             "first_evidence": .optionalTime(burstFirst),
             "first_evidence_rule": "first modify_data event of the pipeline.burst hit that precedes the poisoned training run"],
            ["incident": "model-extraction", "type": "model theft / extraction",
             "start": first <= last ? .time(first) : .null, "start_rule": "first inference query of any attacker identity",
             "end": first <= last ? .time(last) : .null, "end_rule": "last inference query of any attacker identity (end of data when ongoing)",
             "ongoing": .bool(isOngoing)],
            ["incident": "artifact-exfiltration", "type": "model theft / extraction",
             "start": .optionalTime(artifactFirst), "start_rule": "first artifact.external-access hit",
             "end": .optionalTime(artifactLast), "end_rule": "last artifact.external-access hit"],
            ["incident": "prompt-injection", "type": "prompt injection / guardrail bypass",
             "start": .optionalTime(injectionFirst), "start_rule": "first LLM request of the planted injection principals",
             "end": .optionalTime(injectionLast), "end_rule": "last LLM request of the planted injection principals"],
            ["incident": "supply-chain", "type": "supply-chain compromise", "start": .null, "end": .null,
             "start_rule": "not determinable: SBOMs carry no times of use", "end_rule": "not determinable: SBOMs carry no times of use"],
        ]
        let types: [JSONTree] = [
            "model behaviour anomaly", "model theft / extraction", "prompt injection / guardrail bypass",
            "supply-chain compromise", "training data / pipeline compromise",
        ]
        return [
            "incident_types": .array(types),
            "flowchart": [
                "model_in_production": .bool(changes.contains { $0.namespace == "ml-prod" && $0.model == scenario.poisonedModel && $0.version == poisoned }),
                "extraction_ongoing": .bool(isOngoing),
                "extraction_ongoing_playbook_hit_in_last_hour": .bool(hitInLastHour),
                "sensitive_data_in_output": .bool(!exposed.isEmpty),
                "compromised_dependency": .string("pkg:pypi/\(scenario.compromisedPackage)@\(scenario.compromisedVersion)"),
                "other_models_on_same_dependency": .array(dependents.map { .string($0.model) }),
                "last_hour_start": .time(lastHour),
            ],
            "impact_windows": .array(windows),
            "extraction": [
                "identities": .array(identities),
                "set_aside": .array(setAside),
                "total": ["queries": .int(totalQueries), "distinct_inputs": .int(allInputs.count),
                          "first_seen": first <= last ? .time(first) : .null, "last_seen": first <= last ? .time(last) : .null],
                "share_of_model_queries": [
                    "attacker_queries": .int(totalQueries), "model_queries_in_window_hours": .int(windowModelQueries),
                    "share": windowModelQueries > 0 ? .double((Double(totalQueries) / Double(windowModelQueries) * 1e6).rounded() / 1e6) : .null,
                ],
            ],
            "affected_decisions": [
                "model": .string(scenario.poisonedModel), "poisoned_version": .string(poisoned),
                "known_good_version": .string("v\(scenario.knownGoodVersion)"),
                "window_start": .time(window.start), "window_end": .time(window.end),
                "count": .int(affected),
                "by_decision": .object(inWindow.mapValues { .int($0) }),
                "decisions_in_window_by_version": .object(allVersions),
                "poisoned_after_window": .int(drained),
                "poisoned_after_window_by_decision": .object(decisions.poisonedAfterWindow.mapValues { .int($0) }),
                "poisoned_before_window": .int(decisions.poisonedBeforeWindow),
                "first_poisoned_decision": decisions.firstPoisoned == .max ? .null : .time(decisions.firstPoisoned),
                "last_poisoned_decision": decisions.lastPoisoned == .min ? .null : .time(decisions.lastPoisoned),
                "decision_rows": .int(decisions.rows),
            ],
            "data_exposure": [
                "records": .int(exposed.count),
                "distinct_users": .int(Set(exposed.map(\.user)).count),
                "distinct_sessions": .int(Set(exposed.map(\.session)).count),
                "categories": .object(categories.mapValues { .int($0) }),
                "exposed_records": .array(exposed.map {
                    ["time": .time($0.time), "user": .string($0.user), "session": .string($0.session),
                     "categories": .array($0.categories.map { .string($0) })]
                }),
            ],
            "supply_chain": [
                "compromised_package": .string("pkg:pypi/\(scenario.compromisedPackage)@\(scenario.compromisedVersion)"),
                "affected_models": .array(dependents.map { ["model": .string($0.model), "path": .array($0.path.map { .string($0) })] }),
                "unaffected_models": .array(SoftwareBill.models.map(\.name).filter { name in !dependents.contains { $0.model == name } }
                    .sorted().map { .string($0) }),
            ],
        ]
    }

    // MARK: ground truth

    private func groundTruth(burst: [BurstHit]) -> JSONTree {
        let attackers: [JSONTree] = scenario.attackers.map { attacker in
            ["identity": .string(attacker.identity), "style": .string(attacker.style.rawValue),
             "src_ips": .array(attacker.ips.map { .string($0) }), "api_key": .optional(attacker.apiKey),
             "first_hour": .time(scenario.start + Int64(attacker.hours.first ?? 0) * ScenarioTime.hour),
             "last_hour": .time(scenario.start + Int64(attacker.hours.last ?? 0) * ScenarioTime.hour),
             "hours_active": .int(attacker.hours.count),
             "queries_per_hour_per_address": .string("\(attacker.rate.lowerBound)-\(attacker.rate.upperBound)"),
             "front_end": attacker.style == .loudNginx ? "nginx" : "gateway",
             "description": .string(attacker.description)]
        }
        let attempts = LLMTraffic(scenario: scenario).plantedAttempts()
        let attemptList: [JSONTree] = attempts.map { attempt in
            let prompt = attempt.event.messages.last { $0.role == "user" }?.content ?? ""
            let matched = InjectionReference.matchedPhrases(prompt)
            return ["time": .time(attempt.event.time), "principal": .string(attempt.event.user),
                    "session": .string(attempt.event.session), "src_ip": .string(attempt.event.clientIP),
                    "technique": .string(attempt.technique), "prompt": .string(prompt),
                    "matches_playbook_rule": .bool(!matched.isEmpty),
                    "leaked": .array(SensitiveDataScan.categories(in: attempt.event.response).map { .string($0) })]
        }
        let benign: [JSONTree] = sortedPhraseHits().filter(\.isBenign).map {
            ["time": .time($0.time), "principal": .string($0.principal), "phrase": .string($0.phrases[0]), "benign": true]
        }
        let planted = burst.first { $0.isPlanted }
        let storage = StorageTraffic(scenario: scenario).plantedEvents()
        let storageList: [JSONTree] = storage.map { event in
            ["time": .time(event.time), "src_ip": .string(event.srcIP), "operation": .string(event.operation),
             "key": .optional(ArtifactReference.ruleKey(event)), "status": .int(event.status),
             "service": event.isAzure ? "azure-blob" : "s3", "planted_attacker": .bool(event.label.isPlanted)]
        }
        return [
            "extraction_attackers": .array(attackers),
            "poisoning": [
                "model": .string(scenario.poisonedModel), "poisoned_version": .string("v\(scenario.poisonedVersion)"),
                "known_good_version": .string("v\(scenario.knownGoodVersion)"),
                "deploy_time": .time(scenario.deployTime), "rollback_time": .time(scenario.rollbackTime),
                "rollout_overlap_seconds": .int(Int(scenario.rolloutSeconds)),
                "rollback_drain_seconds": .int(Int(scenario.drainSeconds)),
                "burst_user": .string(scenario.burstUser), "burst_pipeline": .string(scenario.burstPipeline),
                "burst_day": .string(ScenarioTime.dateString(scenario.burstDayStart)),
                "burst_modify_data_planted": .int(scenario.burstCount),
                "burst_detected_by_playbook_rule": .bool(planted != nil),
                "poisoned_training_run_id": .string(scenario.poisonRunID),
            ],
            "artifact_access": [
                "attacker_ips": [.string(scenario.exfilS3IP), .string(scenario.exfilAzureIP), .string(scenario.edgeOutsideIP),
                                 .string(scenario.azureEdgeOutsideIP)],
                "stolen_s3_identity": .string(scenario.exfilS3Requester),
                "near_misses": [
                    ["src_ip": .string(scenario.edgeInsideIP), "why": "inside 10.0.0.0/8 (its last address): not a hit"],
                    ["src_ip": .string(scenario.edgeOutsideIP), "why": "just outside 10.0.0.0/8: a hit"],
                    ["src_ip": .string(scenario.azureEdgeInsideIP), "why": "inside 192.168.0.0/16 (its last address): not a hit"],
                    ["src_ip": .string(scenario.azureEdgeOutsideIP), "why": "just outside 192.168.0.0/16: a hit"],
                ],
                "planted_events": .array(storageList),
            ],
            "prompt_injection": [
                "attacker_principals": [.string(scenario.injectionUser), .string(scenario.jailbreakUser)],
                "attempts": .array(attemptList),
                "benign_phrase_hits": .array(benign),
            ],
            "supply_chain": [
                "compromised_package": .string("pkg:pypi/\(scenario.compromisedPackage)@\(scenario.compromisedVersion)"),
                "introduced_by": "pkg:pypi/torch@2.0.0.dev20221230 from the PyTorch nightly index (dependency confusion: torchtriton resolved from PyPI)",
            ],
        ]
    }

    private func semantics() -> JSONTree {
        [
            "times": "RFC 3339 UTC; fraction digits only as many as the value needs (0, 3, 6 or 9)",
            "extraction.volume": "inference rows of gateway JSON Lines and nginx combined logs whose decoded path contains /predict, /inference or /completions; per src_ip per fixed UTC hour: query_count = rows (any status), distinct_inputs = distinct decoded request bodies (nginx rows have none and add no input); hit when query_count > 1000 or distinct_inputs > 500",
            "artifact.external-access": "S3 REST.GET.OBJECT / REST.PUT.OBJECT / REST.DELETE.OBJECT and Azure GetBlob / PutBlob / DeleteBlob (exact operation names; any status) whose URL-decoded key (S3) or objectKey (Azure, /account/container/path) matches model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl) case-insensitively, from a caller (Azure: callerIpAddress without the port) outside 10.0.0.0/8 and 192.168.0.0/16",
            "prompt.injection-phrase": "the prompt is the content of the last user message; matched case-insensitively (ASCII case folding, no Unicode normalisation) against the ten playbook phrases; 'phrase' is the first matching phrase in the playbook's order, 'phrases' all of them",
            "pipeline.burst": "retrain/deploy/modify_data/update_config counted per (user, action, pipeline, UTC day) over the baseline plus the data days; mean and sample stdev (n-1) over the (user, day) groups of the same (pipeline, action) that occur in the data, the hit's own group included; hit when count > mean + 2*stdev; any status counts",
            "registry.change": "MLflow: registered_models rows -> register_model at creation_time; READY model_versions -> register_version at creation_time, plus stage_transition to current_stage at last_updated_time when current_stage != None and last_updated_time > creation_time. k8s audit: successful (2xx) create/patch/update of deployments without subresource that sets an image -> deploy, or rollback when the tag number is lower than that deployment's previous one in the data. Scale subresource and failed requests are not changes",
            "affected_decisions": "decision-log rows of the poisoned version with window_start <= timestamp <= window_end; window from the k8s audit deploy to the rollback; decisions the poisoned pods served while draining after the rollback are reported apart",
            "data_exposure": "LLM records whose response contains a Luhn-valid 13-19 digit card number (single spaces or dashes allowed between digits), an AWS access key id (AKIA/ASIA + 16 of A-Z0-9) or an e-mail address",
            "extraction_identities": "per planted attacker identity: rows on model paths from its address(es), or with its API key for the distributed attacker; peak_hourly_rate is the largest count in a fixed UTC hour",
            "extraction_set_aside": "the nightly batch job's rows on model paths from its address: flagged by extraction.volume (playbook_hits), judged likely benign, not in the attacker totals",
        ]
    }
}

import FathomStore
import FathomSupport
import FathomCatalog

/// `pipeline.burst`: the playbook's "anomalous training pipeline activity" query.
package enum PipelineBurst {
    package static let info = RuleInfo(
        id: RuleID.pipelineBurst, title: "Burst of pipeline actions by one user in a day", level: "medium",
        atlas: ["AML.T0020", "AML.T0018"], kind: .pipeline, isPlaybook: true,
        semantics: """
            Pipeline rows whose action equals (case-insensitive) one of retrain, deploy, modify_data, \
            update_config, any status, in [--from, --to), counted per (principal, action, pipeline, fixed \
            UTC day). For each (pipeline, action) the mean and the sample standard deviation (n − 1, as KQL \
            stdev()) are taken over its (principal, day) groups — only groups that exist: a day without \
            activity is not a zero row, exactly like `summarize count() by bin(TimeGenerated, 1d)`. A group \
            is a hit when count > mean + sigmas · stdev (sigmas = 2). A (pipeline, action) with a single \
            group has no deviation and flags nothing; with all counts equal nothing is flagged either. \
            Groups are formed on the values as logged (case-sensitive), like KQL's summarize. The baseline \
            is whatever the time range holds: narrowing --from/--to changes the mean and deviation.
            """,
        kql: """
            let counts = PipelineEvents
                | where Action in~ ("retrain", "deploy", "modify_data", "update_config")
                | summarize Count = count() by User, Action, Pipeline, Day = bin(TimeGenerated, 1d);
            counts
            | join kind=inner (counts | summarize Mean = avg(Count), Stdev = stdev(Count) by Pipeline, Action)
                on Pipeline, Action
            | where Count > Mean + 2 * Stdev
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        [("actions", RuleCatalog.list(settings.pipelineActions)),
         ("bucket", RuleSettings.durationText(settings.pipelineBucketSeconds)),
         ("sigmas", HitValue.format(settings.pipelineSigmas))]
    }, body: run)

    package struct Key: Hashable, Sendable {
        package var principal: String
        package var action: String
        package var pipeline: String
        package var day: Int64
    }

    package struct Group: Sendable {
        package var count: Int64
        package var firstTime: Int64
        package var lastTime: Int64
        package var first: EvidenceRef
        package var last: EvidenceRef
    }

    /// Mean and sample standard deviation (n − 1); the deviation is nil for fewer than two values.
    ///
    /// The values are summed in sorted order, so the result does not depend on the order groups
    /// came out of a hash table (which varies from run to run).
    package static func statistics(_ unordered: [Int64]) -> (mean: Double, stdev: Double?) {
        let values = unordered.sorted()
        guard !values.isEmpty else { return (0, nil) }
        let mean = Double(values.reduce(0, +)) / Double(values.count)
        guard values.count > 1 else { return (mean, nil) }
        let squares = values.reduce(0.0) { $0 + (Double($1) - mean) * (Double($1) - mean) }
        return (mean, (squares / Double(values.count - 1)).squareRoot())
    }

    package static func run(_ context: HuntContext) throws -> [Hit] {
        let settings = context.settings
        let wanted = Set(settings.pipelineActions.map { FoldedText.folded($0) })
        let width = settings.pipelineBucketSeconds * 1_000_000_000
        let partials = try context.map(.pipeline) { table -> [Key: Group] in
            let times = try table.int64("time")
            let principals = try table.dictionary("principal")
            let actions = try table.dictionary("action")
            let pipelines = try table.dictionary("pipeline")
            let actionWanted = (0..<actions.entryCount).map { wanted.contains(FoldedText.folded(actions.entry(UInt32($0)))) }
            var groups: [Key: Group] = [:]
            for row in 0..<table.rowCount {
                guard actionWanted[Int(actions.code(at: row))] else { continue }
                let time = times[row]
                guard time != Int64.min, context.includes(time) else { continue }
                let key = Key(principal: principals.string(at: row), action: actions.string(at: row),
                              pipeline: pipelines.string(at: row), day: EndpointAggregate.bucket(time, width))
                if var group = groups[key] {
                    group.count += 1
                    if time < group.firstTime { group.firstTime = time; group.first = context.evidence(table, row: row, withTime: true) }
                    if time >= group.lastTime { group.lastTime = time; group.last = context.evidence(table, row: row, withTime: true) }
                    groups[key] = group
                } else {
                    let ref = context.evidence(table, row: row, withTime: true)
                    groups[key] = Group(count: 1, firstTime: time, lastTime: time, first: ref, last: ref)
                }
            }
            return groups
        }
        var groups: [Key: Group] = [:]
        for partial in partials {
            for (key, group) in partial {
                guard var existing = groups[key] else { groups[key] = group; continue }
                existing.count += group.count
                if group.firstTime < existing.firstTime { existing.firstTime = group.firstTime; existing.first = group.first }
                if group.lastTime >= existing.lastTime { existing.lastTime = group.lastTime; existing.last = group.last }
                groups[key] = existing
            }
        }
        struct Series: Hashable { var pipeline: String; var action: String }
        var series: [Series: [Key]] = [:]
        for key in groups.keys { series[Series(pipeline: key.pipeline, action: key.action), default: []].append(key) }
        var hits: [Hit] = []
        for (_, keys) in series {
            let counts = keys.compactMap { groups[$0]?.count }
            let (mean, deviation) = statistics(counts)
            guard let deviation else { continue }
            let threshold = mean + settings.pipelineSigmas * deviation
            for key in keys {
                guard let group = groups[key], Double(group.count) > threshold else { continue }
                hits.append(Hit(rule: info, window: HitWindow(bucket: key.day, width: width),
                                key: ["principal": .string(key.principal), "action": .string(key.action),
                                      "pipeline": .string(key.pipeline)],
                                metrics: ["count": .int(group.count), "mean": .double(mean), "stdev": .double(deviation),
                                          "threshold": .double(threshold), "groups": .int(Int64(counts.count))],
                                evidence: .aggregate(first: group.first, last: group.last)))
            }
        }
        return hits
    }
}

/// `registry.change`: the playbook's "anomalous retraining / registry jobs" listing.
package enum RegistryChangeRule {
    package static let info = RuleInfo(
        id: RuleID.registryChange, title: "Model registry or deployment change", level: "informational",
        atlas: ["AML.T0018", "AML.T0010"], kind: .registry, isPlaybook: true,
        semantics: """
            Every registry row, in [--from, --to), whose event is a model registration, a stage transition, \
            a deploy or a rollback, and whose status is empty or success-like (success, succeeded, \
            successful, ok, ready, complete, completed, done, true, or an HTTP 2xx code). The event is \
            classified case-insensitively from its text: containing 'scale' → not a change; 'rollback', \
            'roll_back' or 'rolled_back' → rollback; 'deploy' → deploy; 'transition' or 'stage' → \
            stage_transition; 'regist' or 'create' → registration (metrics.change; metrics.event keeps the \
            logged value). A workload change from a deployment log (create, patch or update that sets a \
            version, to_stage 'deployed' — e.g. a Kubernetes Deployment) is a deploy, or a rollback when its \
            version number is lower than the previous deploy of the same deployment (environment and \
            model) in the data. Failed attempts (status 409, failed, …) are not listed. One hit per row, \
            for the timeline.
            """,
        kql: """
            ModelRegistryEvents
            | where Event has_any ("register", "create", "transition", "stage", "deploy", "rollback")
                and not(Event has "scale")
            | where isempty(Status) or Status in~ ("success", "succeeded", "ok", "ready", "completed")
                or (toint(Status) between (200 .. 299))
            | order by TimeGenerated asc
            """)

    package static let rule = BuiltInRule(info: info, settings: { _ in [("events", "registration, stage_transition, deploy, rollback")] },
                                  body: run)

    /// Event text holding one of these is never a change (checked first).
    package static let notChangeNeedles = ["scale"]
    /// Lower-cased event text → kind of change: the first entry with a needle the text holds wins.
    package static let changeNeedles: [(change: String, needles: [String])] = [
        ("rollback", ["rollback", "roll_back", "rolled_back", "roll back"]),
        ("deploy", ["deploy"]),
        ("stage_transition", ["transition", "stage"]),
        ("registration", ["regist", "create"]),
    ]
    /// Statuses (trimmed, lower-cased) that say the change happened; an empty status and HTTP 2xx do too.
    package static let successStatuses = ["success", "succeeded", "successful", "ok", "ready", "complete", "completed", "done", "true"]
    /// Workload changes of a deployment log that are deploys (with to_stage ``workloadStage`` and a version).
    package static let workloadEvents = ["create", "patch", "update"]
    package static let workloadStage = "deployed"

    /// The kind of change an event names, or nil when it is not one.
    package static func change(_ event: String) -> String? {
        let text = event.lowercased()
        if text.isEmpty || notChangeNeedles.contains(where: { text.contains($0) }) { return nil }
        return changeNeedles.first { $0.needles.contains { text.contains($0) } }?.change
    }

    /// Whether a status says the change happened.
    package static func isSuccess(_ status: String) -> Bool {
        let text = status.trimmingCharacters(in: .whitespaces).lowercased()
        if text.isEmpty { return true }
        if successStatuses.contains(text) { return true }
        if let code = Int(text) { return (200...299).contains(code) }
        return false
    }

    /// Whether a row is a deployment of a workload (a Kubernetes create/patch/update that sets an
    /// image), which is a deploy — or a rollback when its version number is lower than that
    /// deployment's previous one in the data.
    package static func isWorkloadDeploy(event: String, toStage: String, version: String) -> Bool {
        workloadEvents.contains(event.lowercased()) && toStage == workloadStage && !version.isEmpty
    }

    package static func run(_ context: HuntContext) throws -> [Hit] {
        let perSegment = try context.map(.registry) { table -> [Hit] in
            let times = try table.int64("time")
            let events = try table.dictionary("event")
            let statuses = try table.dictionary("status")
            let changes = (0..<events.entryCount).map { change(events.entry(UInt32($0)).string) }
            let successes = (0..<statuses.entryCount).map { isSuccess(statuses.entry(UInt32($0)).string) }
            let models = try table.dictionary("model")
            let versions = try table.dictionary("version")
            let stages = try table.dictionary("to_stage")
            var hits: [Hit] = []
            for row in 0..<table.rowCount where successes[Int(statuses.code(at: row))] {
                let event = events.string(at: row)
                let version = versions.string(at: row)
                let deploy = isWorkloadDeploy(event: event, toStage: stages.string(at: row), version: version)
                guard let kind = deploy ? "deploy" : changes[Int(events.code(at: row))] else { continue }
                let time = times[row]
                guard context.includes(time) else { continue }
                hits.append(Hit(rule: info, time: Timestamp(column: time),
                                key: ["model": .string(models.string(at: row)), "version": .string(version)],
                                metrics: ["change": .string(kind), "event": .string(event)],
                                fields: context.fields(table, row: row),
                                evidence: .event(context.evidence(table, row: row))))
            }
            return hits
        }
        // A workload deploy to a lower version number than the deployment's previous one is a rollback.
        var hits = perSegment.flatMap { $0 }
        let order = hits.indices.sorted { (hits[$0].time?.nanoseconds ?? .min, $0) < (hits[$1].time?.nanoseconds ?? .min, $1) }
        var previous: [String: Int] = [:]
        for index in order {
            guard case .string("deploy")? = hits[index].metrics["change"] else { continue }
            let model = hits[index].key["model"]?.description ?? ""
            let environment = hits[index].fields?["environment"]?.description ?? ""
            let version = hits[index].key["version"]?.description ?? ""
            let digits = version.drop { $0 == "v" || $0 == "V" }
            guard let number = Int(digits) else { continue }
            let deployment = environment + "/" + model
            if let last = previous[deployment], number < last { hits[index].metrics["change"] = .string("rollback") }
            previous[deployment] = number
        }
        return hits
    }
}

import Foundation

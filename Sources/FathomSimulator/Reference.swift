import FathomStore
import FathomSupport

/// The reference implementation of the playbook detections and of the analysis figures, used to
/// compute `expected.json`.
///
/// Deliberately plain: loops over the generated events in memory, following ARCHITECTURE.md's
/// "Detections" semantics word for word, sharing no code with the detection engine. It decides hits
/// from record values only; the ground-truth labels of events are carried along to *label* hits,
/// never to decide them.
package enum ReferenceText {
    /// Whether `haystack` contains `needle`, byte for byte.
    package static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard !needle.isEmpty else { return true }
        guard haystack.count >= needle.count else { return false }
        let first = needle[0]
        var index = 0
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                var offset = 1
                while offset < needle.count {
                    if haystack[index + offset] != needle[offset] { matched = false; break }
                    offset += 1
                }
                if matched { return true }
            }
            index += 1
        }
        return false
    }

    /// UTF-8 with ASCII letters lowercased (other scalars untouched): case-insensitive matching of
    /// the playbook's ASCII phrases.
    package static func asciiLowercased(_ text: String) -> [UInt8] {
        text.utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }
    }

    /// An IPv4 address as four octets, or nil.
    package static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, let value = Int(part), (0...255).contains(value) else { return nil }
            octets.append(value)
        }
        return octets
    }

    /// The playbook's internal networks: 10.0.0.0/8 and 192.168.0.0/16 (IPv4 only).
    package static func isPlaybookInternal(_ ip: String) -> Bool {
        guard let octets = ipv4(ip) else { return false }
        return octets[0] == 10 || (octets[0] == 192 && octets[1] == 168)
    }
}

// MARK: extraction.volume

package struct ExtractionHit: Sendable {
    package var srcIP: String
    package var hourStart: Int64
    package var queryCount: Int
    package var distinctInputs: Int
}

/// Who the analysis aggregates as one attacker identity: an address, or an API key.
package struct AttackerIdentity: Sendable {
    package var identity: String
    package var style: String
    package var ips: Set<String>
    package var apiKey: String?
    package var isKeyed: Bool
}

package struct IdentityTally: Sendable {
    package var queries = 0
    package var inputs = Set<[UInt8]>()
    package var first: Int64 = .max
    package var last: Int64 = .min
    package var hourly: [Int64: Int] = [:]
    package var endpoints = Set<String>()
    package var addresses = Set<String>()

    package mutating func merge(_ other: IdentityTally) {
        queries += other.queries
        inputs.formUnion(other.inputs)
        first = min(first, other.first)
        last = max(last, other.last)
        for (hour, count) in other.hourly { hourly[hour, default: 0] += count }
        endpoints.formUnion(other.endpoints)
        addresses.formUnion(other.addresses)
    }
}

/// `extraction.volume`: inference rows whose path contains `/predict`, `/inference` or
/// `/completions`; per src_ip per fixed UTC hour, QueryCount = rows and DistinctInputs = distinct
/// request bodies (a row without a body adds no input); hit when QueryCount > 1000 or
/// DistinctInputs > 500. Events must arrive in time order within whole hours.
package struct ExtractionReference: Sendable {
    package static let paths = ["/predict", "/inference", "/completions"].map { Array($0.utf8) }
    package static let queryThreshold = 1000
    package static let distinctThreshold = 500

    package let identities: [AttackerIdentity]
    private var currentHour: Int64?
    private var perIP: [String: (count: Int, inputs: Set<[UInt8]>)] = [:]
    package private(set) var hits: [ExtractionHit] = []
    package private(set) var tallies: [String: IdentityTally] = [:]
    package private(set) var modelQueriesByHour: [Int64: Int] = [:]
    package private(set) var rows = 0

    package init(identities: [AttackerIdentity]) { self.identities = identities }

    package static func isModelPath(_ path: String) -> Bool {
        let bytes = Array(path.utf8)
        return paths.contains { ReferenceText.contains(bytes, $0) }
    }

    package mutating func observe(_ event: InferenceEvent) {
        rows += 1
        guard Self.isModelPath(event.path) else { return }
        let hour = ScenarioTime.floorDiv(event.time, ScenarioTime.hour) * ScenarioTime.hour
        if hour != currentHour {
            finishHour()
            currentHour = hour
        }
        modelQueriesByHour[hour, default: 0] += 1
        let body = event.body.map { Array($0.utf8) }
        var entry = perIP[event.srcIP] ?? (0, [])
        entry.count += 1
        if let body { entry.inputs.insert(body) }
        perIP[event.srcIP] = entry
        for identity in identities {
            let matches = identity.isKeyed ? event.apiKey == identity.apiKey : identity.ips.contains(event.srcIP)
            guard matches else { continue }
            var tally = tallies[identity.identity] ?? IdentityTally()
            tally.queries += 1
            if let body { tally.inputs.insert(body) }
            tally.first = min(tally.first, event.time)
            tally.last = max(tally.last, event.time)
            tally.hourly[hour, default: 0] += 1
            tally.endpoints.insert(event.path)
            tally.addresses.insert(event.srcIP)
            tallies[identity.identity] = tally
        }
    }

    package mutating func finishHour() {
        guard let hour = currentHour else { return }
        for (ip, entry) in perIP where entry.count > Self.queryThreshold || entry.inputs.count > Self.distinctThreshold {
            hits.append(ExtractionHit(srcIP: ip, hourStart: hour, queryCount: entry.count, distinctInputs: entry.inputs.count))
        }
        perIP = [:]
        currentHour = nil
    }

    package mutating func merge(_ other: ExtractionReference) {
        hits += other.hits
        rows += other.rows
        for (key, tally) in other.tallies { tallies[key, default: IdentityTally()].merge(tally) }
        for (hour, count) in other.modelQueriesByHour { modelQueriesByHour[hour, default: 0] += count }
    }
}

// MARK: affected decisions

/// Decisions by version and value inside the deploy → rollback window of the poisoned version.
package struct DecisionReference: Sendable {
    package let model: String
    package let poisonedVersion: String
    package let windowStart: Int64
    package let windowEnd: Int64
    package private(set) var inWindow: [String: [String: Int]] = [:]
    package private(set) var poisonedAfterWindow: [String: Int] = [:]
    package private(set) var poisonedBeforeWindow = 0
    package private(set) var firstPoisoned: Int64 = .max
    package private(set) var lastPoisoned: Int64 = .min
    package private(set) var rows = 0

    package init(model: String, poisonedVersion: String, windowStart: Int64, windowEnd: Int64) {
        self.model = model
        self.poisonedVersion = poisonedVersion
        self.windowStart = windowStart
        self.windowEnd = windowEnd
    }

    package mutating func observe(_ event: PredictionEvent) {
        rows += 1
        guard event.model == model else { return }
        if event.time >= windowStart && event.time <= windowEnd {
            inWindow[event.version, default: [:]][event.decision, default: 0] += 1
        }
        if event.version == poisonedVersion {
            firstPoisoned = min(firstPoisoned, event.time)
            lastPoisoned = max(lastPoisoned, event.time)
            if event.time > windowEnd { poisonedAfterWindow[event.decision, default: 0] += 1 }
            if event.time < windowStart { poisonedBeforeWindow += 1 }
        }
    }

    package mutating func merge(_ other: DecisionReference) {
        rows += other.rows
        for (version, counts) in other.inWindow {
            for (decision, count) in counts { inWindow[version, default: [:]][decision, default: 0] += count }
        }
        for (decision, count) in other.poisonedAfterWindow { poisonedAfterWindow[decision, default: 0] += count }
        poisonedBeforeWindow += other.poisonedBeforeWindow
        firstPoisoned = min(firstPoisoned, other.firstPoisoned)
        lastPoisoned = max(lastPoisoned, other.lastPoisoned)
    }
}

// MARK: artifact.external-access

package struct ArtifactTally: Sendable {
    package var count = 0
    package var first: Int64 = .max
    package var last: Int64 = .min
}

/// `artifact.external-access`: storage rows whose decoded key matches
/// `model|weights|checkpoint|\.(pt|h5|onnx|safetensors|pkl)` (case-insensitive), whose operation
/// is an object/blob GET, PUT or DELETE, from a caller outside 10.0.0.0/8 and 192.168.0.0/16.
/// Any status counts (a denied download attempt is still an access attempt).
package struct ArtifactReference: Sendable {
    package static let operations: Set<String> = ["REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.DELETE.OBJECT",
                                          "GetBlob", "PutBlob", "DeleteBlob"]
    package static let keyPatterns = ["model", "weights", "checkpoint", ".pt", ".h5", ".onnx", ".safetensors", ".pkl"]
        .map { Array($0.utf8) }

    package private(set) var byIP: [String: ArtifactTally] = [:]
    package private(set) var hitLabels: [String: Int] = [:]
    package private(set) var rows = 0

    /// The key the rule sees: the decoded S3 key, or Azure's `objectKey` (`/account/container/path`).
    package static func ruleKey(_ event: StorageEvent) -> String? {
        guard let key = event.key else { return event.isAzure ? "/\(RecordFormat.azureAccount)/\(event.bucket)" : nil }
        return event.isAzure ? "/\(RecordFormat.azureAccount)/\(event.bucket)/\(key)" : key
    }

    package static func isArtifactKey(_ key: String) -> Bool {
        let lowered = ReferenceText.asciiLowercased(key)
        return keyPatterns.contains { ReferenceText.contains(lowered, $0) }
    }

    package mutating func observe(_ event: StorageEvent) {
        rows += 1
        guard Self.operations.contains(event.operation), let key = Self.ruleKey(event), Self.isArtifactKey(key),
              !ReferenceText.isPlaybookInternal(event.srcIP) else { return }
        var tally = byIP[event.srcIP] ?? ArtifactTally()
        tally.count += 1
        tally.first = min(tally.first, event.time)
        tally.last = max(tally.last, event.time)
        byIP[event.srcIP] = tally
        if case .attacker = event.label { hitLabels["planted", default: 0] += 1 } else { hitLabels["background", default: 0] += 1 }
    }

    package mutating func merge(_ other: ArtifactReference) {
        rows += other.rows
        for (ip, tally) in other.byIP {
            var mine = byIP[ip] ?? ArtifactTally()
            mine.count += tally.count
            mine.first = min(mine.first, tally.first)
            mine.last = max(mine.last, tally.last)
            byIP[ip] = mine
        }
        for (label, count) in other.hitLabels { hitLabels[label, default: 0] += count }
    }
}

// MARK: prompt.injection-phrase and data exposure

package struct PhraseHit: Sendable {
    package var time: Int64
    package var principal: String
    package var session: String
    package var phrases: [String]
    package var isBenign: Bool
}

package struct ExposedRecord: Sendable {
    package var time: Int64
    package var user: String
    package var session: String
    package var categories: [String]
}

/// `prompt.injection-phrase`: the prompt (the last `user` message) contains, case-insensitively,
/// one of the playbook phrases. Plus the exposure scan of responses (cards with a Luhn check, AWS
/// access keys, e-mail addresses).
package struct InjectionReference: Sendable {
    package static let phrases = ["ignore previous instructions", "ignore above", "system prompt", "you are now", "disregard",
                          "bypass", "jailbreak", "dan mode", "developer mode", "reveal your instructions"]
    package static let phraseBytes = phrases.map { Array($0.utf8) }

    package let plantedPrincipals: Set<String>
    package private(set) var hits: [PhraseHit] = []
    package private(set) var exposed: [ExposedRecord] = []
    package private(set) var plantedActivity: [String: ArtifactTally] = [:]
    package private(set) var rows = 0
    package private(set) var lastUserTurnHitsElsewhere = 0

    package init(plantedPrincipals: Set<String>) { self.plantedPrincipals = plantedPrincipals }

    package static func matchedPhrases(_ prompt: String) -> [String] {
        let lowered = ReferenceText.asciiLowercased(prompt)
        var result: [String] = []
        for (index, phrase) in phraseBytes.enumerated() where ReferenceText.contains(lowered, phrase) {
            result.append(phrases[index])
        }
        return result
    }

    package mutating func observe(_ event: LLMEvent) {
        rows += 1
        if plantedPrincipals.contains(event.user) {
            var tally = plantedActivity[event.user] ?? ArtifactTally()
            tally.count += 1
            tally.first = min(tally.first, event.time)
            tally.last = max(tally.last, event.time)
            plantedActivity[event.user] = tally
        }
        if let prompt = event.messages.last(where: { $0.role == "user" })?.content {
            let matched = Self.matchedPhrases(prompt)
            if !matched.isEmpty {
                hits.append(PhraseHit(time: event.time, principal: event.user, session: event.session,
                                      phrases: matched, isBenign: !event.label.isPlanted))
            }
        }
        let categories = SensitiveDataScan.categories(in: event.response)
        if !categories.isEmpty {
            exposed.append(ExposedRecord(time: event.time, user: event.user, session: event.session, categories: categories))
        }
    }

    package mutating func merge(_ other: InjectionReference) {
        rows += other.rows
        hits += other.hits
        exposed += other.exposed
        for (user, tally) in other.plantedActivity {
            var mine = plantedActivity[user] ?? ArtifactTally()
            mine.count += tally.count
            mine.first = min(mine.first, tally.first)
            mine.last = max(mine.last, tally.last)
            plantedActivity[user] = mine
        }
    }
}

/// A plain scanner for sensitive data in text: payment card numbers (13–19 digits, single spaces
/// or dashes allowed between digits, Luhn-valid), AWS access key ids (`AKIA`/`ASIA` + 16 of
/// A–Z 0–9), and e-mail addresses (`local@domain.tld`).
package enum SensitiveDataScan {
    package static func categories(in text: String) -> [String] {
        let bytes = Array(text.utf8)
        var result: [String] = []
        if hasAWSKey(bytes) { result.append("aws_access_key") }
        if hasCardNumber(bytes) { result.append("card_number") }
        if hasEmail(bytes) { result.append("email") }
        return result
    }

    package static func isDigit(_ byte: UInt8) -> Bool { byte >= 48 && byte <= 57 }
    package static func isUpperAlnum(_ byte: UInt8) -> Bool { isDigit(byte) || (byte >= 65 && byte <= 90) }
    package static func isAlnum(_ byte: UInt8) -> Bool { isUpperAlnum(byte) || (byte >= 97 && byte <= 122) }

    package static func hasAWSKey(_ b: [UInt8]) -> Bool {
        guard b.count >= 20 else { return false }
        for start in 0...(b.count - 20) {
            guard b[start] == 65 || b[start] == 83 else { continue }  // A or S
            let prefix = Array(b[start..<(start + 4)])
            guard prefix == Array("AKIA".utf8) || prefix == Array("ASIA".utf8) else { continue }
            if start > 0 && isAlnum(b[start - 1]) { continue }
            guard b[(start + 4)..<(start + 20)].allSatisfy(isUpperAlnum) else { continue }
            if start + 20 < b.count && isAlnum(b[start + 20]) { continue }
            return true
        }
        return false
    }

    package static func luhn(_ digits: [Int]) -> Bool {
        var sum = 0
        for (position, digit) in digits.reversed().enumerated() {
            var value = digit
            if position % 2 == 1 { value *= 2; if value > 9 { value -= 9 } }
            sum += value
        }
        return sum % 10 == 0
    }

    package static func hasCardNumber(_ b: [UInt8]) -> Bool {
        var index = 0
        while index < b.count {
            guard isDigit(b[index]), index == 0 || !isAlnum(b[index - 1]) else { index += 1; continue }
            var digits: [Int] = []
            var cursor = index
            while cursor < b.count {
                if isDigit(b[cursor]) {
                    digits.append(Int(b[cursor]) - 48)
                    cursor += 1
                } else if (b[cursor] == 32 || b[cursor] == 45) && cursor + 1 < b.count && isDigit(b[cursor + 1]) {
                    cursor += 1
                } else {
                    break
                }
            }
            if (13...19).contains(digits.count) && luhn(digits) { return true }
            index = cursor + 1
        }
        return false
    }

    package static func hasEmail(_ b: [UInt8]) -> Bool {
        func isLocal(_ byte: UInt8) -> Bool { isAlnum(byte) || byte == 46 || byte == 95 || byte == 37 || byte == 43 || byte == 45 }
        func isDomain(_ byte: UInt8) -> Bool { isAlnum(byte) || byte == 46 || byte == 45 }
        for (at, byte) in b.enumerated() where byte == 64 {
            guard at > 0, isLocal(b[at - 1]) else { continue }
            var end = at + 1
            while end < b.count && isDomain(b[end]) { end += 1 }
            var domain = Array(b[(at + 1)..<end])
            while domain.last == 46 { domain.removeLast() }
            guard let dot = domain.lastIndex(of: 46), dot > 0 else { continue }
            let tld = domain[(dot + 1)...]
            if tld.count >= 2 && tld.allSatisfy({ ($0 >= 65 && $0 <= 90) || ($0 >= 97 && $0 <= 122) }) { return true }
        }
        return false
    }
}

// MARK: pipeline.burst

package struct BurstHit: Sendable {
    package var user: String
    package var action: String
    package var pipeline: String
    package var day: Int64
    package var count: Int
    package var mean: Double
    package var stdev: Double
    package var isPlanted: Bool
}

/// `pipeline.burst`: actions retrain/deploy/modify_data/update_config counted per (user, action,
/// pipeline, UTC day); hit when the count exceeds mean + 2·stdev of its (pipeline, action), where
/// mean and the sample standard deviation (n − 1) are taken over that (pipeline, action)'s
/// (user, day) groups that occur in the data (as `GROUP BY` + a window over the groups computes
/// them; days without activity are not groups). Any status counts.
package enum PipelineBurstReference {
    package static let actions: Set<String> = ["retrain", "deploy", "modify_data", "update_config"]

    package struct GroupKey: Hashable, Comparable {
        package var pipeline: String, action: String, user: String, day: Int64
        package static func < (a: GroupKey, b: GroupKey) -> Bool {
            (a.pipeline, a.action, a.user, a.day) < (b.pipeline, b.action, b.user, b.day)
        }
    }

    package static func hits(_ events: [PipelineEvent]) -> (hits: [BurstHit], groups: Int) {
        var counts: [GroupKey: Int] = [:]
        var planted: [GroupKey: Int] = [:]
        for event in events where actions.contains(event.action) {
            let key = GroupKey(pipeline: event.pipeline, action: event.action, user: event.user,
                               day: ScenarioTime.floorDiv(event.time, ScenarioTime.day) * ScenarioTime.day)
            counts[key, default: 0] += 1
            if event.label.isPlanted { planted[key, default: 0] += 1 }
        }
        let keys = counts.keys.sorted()
        var byPair: [String: [GroupKey]] = [:]
        for key in keys { byPair["\(key.pipeline)\u{0}\(key.action)", default: []].append(key) }
        var hits: [BurstHit] = []
        for pair in byPair.keys.sorted() {
            let members = byPair[pair] ?? []
            let values = members.map { Double(counts[$0] ?? 0) }
            let n = Double(values.count)
            var sum = 0.0
            for value in values { sum += value }
            let mean = sum / n
            var squares = 0.0
            for value in values { squares += (value - mean) * (value - mean) }
            let stdev = values.count > 1 ? (squares / (n - 1)).squareRoot() : 0
            for key in members {
                let count = counts[key] ?? 0
                if Double(count) > mean + 2 * stdev {
                    hits.append(BurstHit(user: key.user, action: key.action, pipeline: key.pipeline, day: key.day,
                                         count: count, mean: mean, stdev: stdev, isPlanted: (planted[key] ?? 0) > 0))
                }
            }
        }
        hits.sort { ($0.day, $0.pipeline, $0.action, $0.user) < ($1.day, $1.pipeline, $1.action, $1.user) }
        return (hits, counts.count)
    }
}

// MARK: registry.change

package struct RegistryChange: Sendable {
    package var time: Int64
    package var source: String
    package var model: String
    package var version: String
    package var event: String
    package var fromStage: String?
    package var toStage: String?
    package var principal: String?
    package var namespace: String?
}

/// `registry.change`: every successful model registration, stage transition, deploy or rollback.
///
/// From MLflow: each `registered_models` row is a `register_model` at `creation_time`; each
/// `model_versions` row with status `READY` is a `register_version` at `creation_time` and, when
/// its `current_stage` is not `None` and `last_updated_time` is later than `creation_time`, a
/// `stage_transition` to that stage at `last_updated_time` (MLflow keeps no earlier stages).
/// From Kubernetes audit: each `create`/`patch`/`update` of a `deployments` object (not a
/// subresource such as `scale`) with a 2xx response that sets a container image is a `deploy` of
/// the image tag, or a `rollback` when the tag's number is lower than the one that deployment last
/// had in the data.
package enum RegistryChangeReference {
    package static func changes(audit: [DeploymentAuditEvent], models: [RegisteredModelRow],
                        versions: [ModelVersionRow]) -> [RegistryChange] {
        var changes: [RegistryChange] = []
        for model in models {
            changes.append(RegistryChange(time: model.creationTime, source: "mlflow", model: model.name, version: "",
                                          event: "register_model", fromStage: nil, toStage: nil, principal: nil, namespace: nil))
        }
        for row in versions where row.status == "READY" {
            changes.append(RegistryChange(time: row.creationTime, source: "mlflow", model: row.name, version: "v\(row.version)",
                                          event: "register_version", fromStage: nil, toStage: "None", principal: row.userID, namespace: nil))
            if row.currentStage != "None" && row.lastUpdatedTime > row.creationTime {
                changes.append(RegistryChange(time: row.lastUpdatedTime, source: "mlflow", model: row.name, version: "v\(row.version)",
                                              event: "stage_transition", fromStage: nil, toStage: row.currentStage,
                                              principal: nil, namespace: nil))
            }
        }
        var current: [String: Int] = [:]
        for event in audit where ["create", "patch", "update"].contains(event.verb) && event.subresource == nil
            && (200..<300).contains(event.code) {
            guard let image = event.image, let colon = image.lastIndex(of: ":") else { continue }
            let tag = String(image[image.index(after: colon)...])
            let number = Int(tag.dropFirst()) ?? 0
            let key = "\(event.namespace)/\(event.name)"
            let kind = (current[key].map { number < $0 } ?? false) ? "rollback" : "deploy"
            current[key] = number
            changes.append(RegistryChange(time: event.time, source: "k8s-audit", model: event.name, version: tag, event: kind,
                                          fromStage: nil, toStage: nil, principal: event.username, namespace: event.namespace))
        }
        changes.sort { ($0.time, $0.source, $0.model, $0.version, $0.event) < ($1.time, $1.source, $1.model, $1.version, $1.event) }
        return changes
    }
}

// MARK: affected requests (no decision logs)

/// The decisions of the poisoned version as the gateway shows them, for the variant without
/// decision logs: successful POSTs to the fraud-detector's predict path, counted inside the narrow
/// window (from the rollout's completion to the rollback's start) and the wide one (from the
/// deploy's start to the drain's end), and the truth the estimate must bracket: those the
/// poisoned version answered.
package struct RequestWindowReference: Sendable {
    package let model: String
    package let poisoned: String
    package let wide: Range<Int64>
    package let narrow: Range<Int64>
    package private(set) var low = 0
    package private(set) var high = 0
    package private(set) var answeredByPoisoned = 0

    package init(scenario: Scenario) {
        model = scenario.poisonedModel
        poisoned = "v\(scenario.poisonedVersion)"
        wide = scenario.deployTime..<(scenario.rollbackTime + scenario.drainSeconds * ScenarioTime.second)
        narrow = (scenario.deployTime + scenario.rolloutSeconds * ScenarioTime.second)..<scenario.rollbackTime
    }

    package mutating func observe(_ event: InferenceEvent) {
        guard !event.isNginx, event.method == "POST", (200..<300).contains(event.status), event.model == model,
              ExtractionReference.isModelPath(event.path) else { return }
        if wide.contains(event.time) { high += 1 }
        if narrow.contains(event.time) { low += 1 }
        if event.version == poisoned { answeredByPoisoned += 1 }
    }

    package mutating func merge(_ other: RequestWindowReference) {
        low += other.low
        high += other.high
        answeredByPoisoned += other.answeredByPoisoned
    }
}

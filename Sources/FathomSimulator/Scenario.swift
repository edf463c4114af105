import FathomStore
import FathomSupport

/// What to simulate: the options of `fathom simulate`.
public struct SimulationRequest: Sendable {
    /// Where the folders (or the bundle) and `expected.json` are written.
    public var outputDirectory: String
    /// Master seed; every random choice derives from it.
    public var seed: UInt64
    /// Approximate number of background inference rows (gateway plus nginx) over all days.
    public var scale: Int
    /// Number of UTC days of traffic (the pipeline logs add a 14-day baseline before them).
    public var days: Int
    /// Midnight UTC of the first day, nanoseconds since the epoch.
    public var start: Int64
    /// Pack everything into `bundle.tar.zst` instead of folders.
    public var isBundle: Bool
    /// Worker threads; the output does not depend on it.
    public var threads: Int
    /// The shape of the traffic: how many identities, how many distinct inputs, how many models.
    public var shape: TrafficShape
    /// The evidence of a team that logs no model decisions and keeps no model registry: no
    /// `predictions/` and no `registry/`; the deploy pipeline (`fraud-detector-deploy`) logs the
    /// rollout and the rollback instead, and `fathom-case.yaml` names the compromised model and
    /// version. The incident is the same; `expected.json` gives the affected-requests range.
    public var withoutDecisionLogs: Bool

    public static let defaultSeed: UInt64 = 20_260_302
    public static let defaultScale = 20_000
    public static let defaultDays = 3
    public static let defaultStartDate = "2026-03-02"
    /// Days of pipeline history before the first day, the baseline of `pipeline.burst`.
    public static let pipelineBaselineDays = 14
    public static let scaleRange = 1_000...200_000_000
    public static let daysRange = 1...31

    public init(outputDirectory: String, seed: UInt64 = defaultSeed, scale: Int = defaultScale,
                days: Int = defaultDays, start: Int64, isBundle: Bool = false, threads: Int = 2,
                shape: TrafficShape = TrafficShape(), withoutDecisionLogs: Bool = false) {
        self.withoutDecisionLogs = withoutDecisionLogs
        self.outputDirectory = outputDirectory
        self.seed = seed
        self.scale = scale
        self.days = days
        self.start = start
        self.isBundle = isBundle
        self.threads = threads
        self.shape = shape
    }

    /// Problems with the options, as one sentence each (empty when the request is valid).
    public var problems: [String] {
        var result: [String] = []
        if !Self.scaleRange.contains(scale) {
            result.append("--scale must be between \(Self.scaleRange.lowerBound) and \(Self.scaleRange.upperBound), got \(scale).")
        }
        if !Self.daysRange.contains(days) {
            result.append("--days must be between \(Self.daysRange.lowerBound) and \(Self.daysRange.upperBound), got \(days).")
        }
        if start % ScenarioTime.day != 0 { result.append("--start must be a midnight UTC.") }
        if threads < 1 || threads > 64 { result.append("--threads must be between 1 and 64, got \(threads).") }
        if outputDirectory.isEmpty { result.append("--out must not be empty.") }
        return result + shape.problems
    }
}

/// The knobs of the traffic's shape. The defaults are the project's original scenario (a few hundred
/// heavy-tailed clients, every request body new, four models); ``highCardinality(scale:)`` is the
/// shape of a public API: tens of thousands of client addresses with a flat volume distribution,
/// millions of (address, hour) groups, repeated inputs beside unique ones, benign prompts that use
/// the trigger words harmlessly, and more models and versions with decision logs.
///
/// With every knob at its default the generator draws exactly the random numbers it always did,
/// so the original scenario (and the sample data made from it) stays byte-identical.
public struct TrafficShape: Sendable, Equatable {
    /// Distinct background client addresses (nil: 320 + scale / 50,000, at most 720).
    public var clients: Int?
    /// Zipf exponent of the clients' volumes: 1.07 is heavy-tailed, 0.5 nearly flat.
    public var clientSkew: Double
    /// Share of model-API request bodies that are new; the others repeat one of a pool of common inputs.
    public var uniqueInputs: Double
    /// Share of benign LLM prompts that use trigger words ("ignore", "previous", "instructions",
    /// "system prompt", "pretend") in a harmless context, without a playbook phrase.
    public var triggerShare: Double
    /// Models served through the gateway (4 to 12); the models past the first four log every decision.
    public var models: Int
    /// LLM gateway exchanges per background inference row.
    public var llmShare: Double
    /// Share of the everyday LLM prompts, and of the responses, that are new text (a customer's own
    /// words, 40 to 400 bytes) instead of one of a few dozen stock ones: a rule that judged each
    /// distinct text once would be flattered by stock text alone.
    public var uniquePrompts: Double

    public static let defaultSkew = 1.07
    public static let defaultLLMShare = 1.0 / 15.0
    public static let clientRange = 10...1_000_000
    public static let modelRange = 4...12

    public init(clients: Int? = nil, clientSkew: Double = defaultSkew, uniqueInputs: Double = 1,
                triggerShare: Double = 0, models: Int = 4, llmShare: Double = defaultLLMShare, uniquePrompts: Double = 0) {
        self.clients = clients
        self.clientSkew = clientSkew
        self.uniqueInputs = uniqueInputs
        self.triggerShare = triggerShare
        self.models = models
        self.llmShare = llmShare
        self.uniquePrompts = uniquePrompts
    }

    /// The shape of a busy public API (what `--shape high-cardinality` sets): 20,000 client addresses
    /// with a flat distribution, 55 % unique inputs, 16 % of benign prompts with trigger words, six
    /// models, one LLM exchange per eight inference rows, 90 % of everyday prompts and of responses
    /// new text.
    public static func highCardinality() -> TrafficShape {
        TrafficShape(clients: 20_000, clientSkew: 0.55, uniqueInputs: 0.55, triggerShare: 0.16, models: 6,
                     llmShare: 0.125, uniquePrompts: 0.9)
    }

    /// Whether every knob is at its default (the original scenario).
    public var isDefault: Bool { self == TrafficShape() }

    /// The `fathom simulate` options that give this shape (empty for the default).
    public var options: String {
        var parts: [String] = []
        let base = TrafficShape()
        if let clients { parts.append("--clients \(clients)") }
        if clientSkew != base.clientSkew { parts.append("--client-skew \(clientSkew)") }
        if uniqueInputs != base.uniqueInputs { parts.append("--unique-inputs \(uniqueInputs)") }
        if triggerShare != base.triggerShare { parts.append("--trigger-share \(triggerShare)") }
        if models != base.models { parts.append("--models \(models)") }
        if llmShare != base.llmShare { parts.append("--llm-share \(llmShare)") }
        if uniquePrompts != base.uniquePrompts { parts.append("--unique-prompts \(uniquePrompts)") }
        return parts.joined(separator: " ")
    }

    var problems: [String] {
        var result: [String] = []
        if let clients, !Self.clientRange.contains(clients) {
            result.append("--clients must be between \(Self.clientRange.lowerBound) and \(Self.clientRange.upperBound), got \(clients).")
        }
        if !(clientSkew >= 0.1 && clientSkew <= 3) { result.append("--client-skew must be between 0.1 and 3, got \(clientSkew).") }
        if !(uniqueInputs >= 0 && uniqueInputs <= 1) { result.append("--unique-inputs must be between 0 and 1, got \(uniqueInputs).") }
        if !(triggerShare >= 0 && triggerShare <= 0.9) { result.append("--trigger-share must be between 0 and 0.9, got \(triggerShare).") }
        if !Self.modelRange.contains(models) {
            result.append("--models must be between \(Self.modelRange.lowerBound) and \(Self.modelRange.upperBound), got \(models).")
        }
        if !(llmShare > 0 && llmShare <= 2) { result.append("--llm-share must be above 0 and at most 2, got \(llmShare).") }
        if !(uniquePrompts >= 0 && uniquePrompts <= 1) {
            result.append("--unique-prompts must be between 0 and 1, got \(uniquePrompts).")
        }
        return result
    }
}

/// A network client of the model APIs (background traffic).
package struct Client: Sendable {
    package var ip: String
    package var apiKey: String
    package var userAgent: String
    package var isInternal: Bool
    /// Share of this client's requests that go through the nginx front-end (LLM API) instead of
    /// the model gateway.
    package var nginxShare: Double
    /// Whether the client is a scheduled batch job (night-time bursts).
    package var isBatch: Bool
    package var customerPrefix: String
}

/// The styles of model-extraction attacker planted in the data.
public enum ExtractionStyle: String, Sendable, CaseIterable {
    /// One address, more than 1000 queries an hour.
    case loud
    /// One IPv6 address, more than 500 distinct inputs an hour with fewer than 1000 queries.
    case wide
    /// One address under both hourly thresholds every hour, for many hours, until the end.
    case slowAndLow = "slow-and-low"
    /// Several addresses sharing one API key, each under the thresholds.
    case distributed
    /// One address hammering the LLM completions endpoint through the nginx front-end (no bodies).
    case loudNginx = "loud-nginx"
}

/// A planted extraction attacker: who, how, and when (hour indexes from the first hour).
package struct ExtractionAttacker: Sendable {
    package var identity: String
    package var style: ExtractionStyle
    package var ips: [String]
    package var apiKey: String?
    package var userAgent: String
    package var hours: [Int]
    /// Queries per hour per address.
    package var rate: ClosedRange<Int>
    /// How inputs are chosen: size of the input grid cycled through (nil = every input new).
    package var gridSize: Int?
    package var description: String
}

/// A scheduled internal client heavy enough to trip the extraction rules.
package struct NightlyBatch: Sendable {
    package var ip: String
    package var apiKey: String
    package var userAgent: String
    /// UTC hours of the day it runs.
    package var hoursOfDay: [Int]
    /// Queries per hour, every input new.
    package var rate: ClosedRange<Int>
}

/// The fixed actors, models and times of the incident, derived from the request and the seed.
package struct Scenario: Sendable {
    package let request: SimulationRequest
    package let seed: UInt64
    package let start: Int64
    package let end: Int64
    package let hours: Int
    package let baselineStart: Int64

    // The poisoned model.
    package let poisonedModel = "fraud-detector"
    package let poisonedVersion = 13
    package let knownGoodVersion = 12
    package let deployTime: Int64
    package let rollbackTime: Int64
    package let rolloutSeconds: Int64 = 120
    package let drainSeconds: Int64 = 90
    package let burstDayStart: Int64
    package let burstUser = "d.silva"
    package let burstPipeline = "fraud-detector-training"
    package let burstCount: Int
    package let poisonRunID: String
    package let creditRiskDeployTime: Int64

    package let clients: [Client]
    package let clientSampler: ZipfSampler
    package let attackers: [ExtractionAttacker]
    /// A busy friend: the fraud team's nightly re-scoring job, on an internal address with a batch
    /// key, scoring ~700 new transactions an hour from 02:00 to 03:59 UTC every night. It trips the
    /// hourly distinct-input rule like an attacker; the analysis must tell it apart.
    package let nightlyBatch: NightlyBatch

    // Storage exfiltration.
    package let exfilS3IP = "198.51.100.201"
    package let exfilS3Requester = "arn:aws:iam::482910374455:user/svc-model-sync"
    package let edgeOutsideIP = "11.0.0.1"
    package let edgeInsideIP = "10.255.255.255"
    package let exfilAzureIP = "203.0.113.150"
    package let azureEdgeOutsideIP = "192.169.0.1"
    package let azureEdgeInsideIP = "192.168.255.255"
    package let exfilStart: Int64

    // Prompt injection.
    package let injectionUser = "u_48213"
    package let injectionIP = "198.51.100.77"
    package let jailbreakUser = "u_90017"
    package let jailbreakIP = "2001:db8:c0de::42"
    package let injectionStart: Int64

    // Supply chain.
    package let compromisedPackage = "torchtriton"
    package let compromisedVersion = "2.0.0"

    package static let models = ["fraud-detector", "credit-risk", "churn-predictor", "doc-classifier"]
    /// Models added by `--models` beyond the first four, each served in three versions with every
    /// decision logged.
    package static let extraModelNames = ["aml-screening", "merchant-risk", "card-limit", "kyc-match",
                                          "chargeback-predictor", "collections-priority", "loan-pricing",
                                          "claims-triage"]
    package let extraModels: [String]

    package init(request: SimulationRequest) {
        self.request = request
        seed = request.seed
        start = request.start
        hours = request.days * 24
        end = start + Int64(request.days) * ScenarioTime.day
        baselineStart = start - Int64(SimulationRequest.pipelineBaselineDays) * ScenarioTime.day
        let startTime = request.start
        let span = Int64(request.days) * ScenarioTime.day
        var rng = Xoshiro256(master: request.seed, "scenario")
        func at(_ fraction: Double, jitterSeconds: Int) -> Int64 {
            let base = startTime + Int64(Double(span / ScenarioTime.minute) * fraction) * ScenarioTime.minute
            return base + Int64(rng.below(jitterSeconds)) * ScenarioTime.second
        }
        deployTime = at(0.42, jitterSeconds: 59)
        rollbackTime = at(0.80, jitterSeconds: 59)
        burstDayStart = ScenarioTime.floorDiv(deployTime - 8 * ScenarioTime.hour, ScenarioTime.day) * ScenarioTime.day
        burstCount = 44 + rng.below(12)
        poisonRunID = rng.hex(32)
        creditRiskDeployTime = startTime + 14 * ScenarioTime.hour + Int64(rng.below(3600)) * ScenarioTime.second
        exfilStart = at(0.66, jitterSeconds: 600)
        injectionStart = at(0.45, jitterSeconds: 600)

        // Background clients: a few hundred, heavy-tailed volumes.
        let shape = request.shape
        let clientCount = shape.clients ?? 320 + min(request.scale / 50_000, 400)
        var clientRNG = Xoshiro256(master: request.seed, "clients")
        var clients: [Client] = []
        let userAgents = ["python-requests/2.31.0", "python-requests/2.28.2", "okhttp/4.12.0",
                          "Go-http-client/1.1", "axios/1.6.7", "Java-http-client/17.0.9",
                          "curl/8.4.0", "fraud-sdk-js/3.2.1", "boto3/1.34.11 Python/3.11.7"]
        let publicFirstOctets = [23, 31, 34, 35, 44, 52, 54, 62, 66, 77, 81, 84, 91, 104, 109, 142,
                                 151, 176, 185, 188, 195, 212, 217]
        var sharedKey: String? = nil
        // Addresses are unique (a draw that repeats one is drawn again; with a few hundred clients
        // that never happens, so the original scenario draws what it always drew).
        var seenIPs = Set<String>()
        for index in 0..<clientCount {
            let isBatch = index % 37 == 5
            let isInternal = isBatch || index % 11 == 3
            var ip = ""
            repeat {
                if isInternal {
                    if clientRNG.chance(0.7) {
                        ip = "10.\(clientRNG.int(in: 16...60)).\(clientRNG.below(256)).\(clientRNG.int(in: 2...254))"
                    } else {
                        ip = "192.168.\(clientRNG.int(in: 1...40)).\(clientRNG.int(in: 2...254))"
                    }
                } else if index % 19 == 7 {
                    ip = "2a01:4f8:\(clientRNG.hex(3)):\(clientRNG.hex(4))::\(clientRNG.int(in: 2...4000))"
                } else {
                    ip = "\(clientRNG.pick(publicFirstOctets)).\(clientRNG.below(256)).\(clientRNG.below(256)).\(clientRNG.int(in: 1...254))"
                }
            } while shape.clients != nil && !seenIPs.insert(ip).inserted
            // Some offices share one key over several addresses (NAT pools, several services).
            let key: String
            if let shared = sharedKey, index % 13 == 4 {
                key = shared
            } else {
                key = (isInternal ? "ak_int_" : "ak_live_") + clientRNG.string(24, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
                if index % 13 == 3 { sharedKey = key }
            }
            clients.append(Client(
                ip: ip, apiKey: key,
                userAgent: isBatch ? "batch-scorer/2.4 (airflow)" : clientRNG.pick(userAgents),
                isInternal: isInternal,
                nginxShare: isBatch ? 0 : (clientRNG.chance(0.35) ? 0.7 : 0.08),
                isBatch: isBatch,
                customerPrefix: clientRNG.string(4, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789")))
        }
        // Shuffle so that rank (volume) and kind are independent.
        for index in stride(from: clients.count - 1, to: 0, by: -1) {
            clients.swapAt(index, clientRNG.below(index + 1))
        }
        self.clients = clients
        clientSampler = ZipfSampler(count: clients.count, exponent: shape.clientSkew)
        extraModels = (0..<max(0, shape.models - Self.models.count)).map { Self.extraModelNames[$0] }

        // Attackers. Hours are indexes from the first hour of the data.
        let h = request.days * 24
        func hour(_ fraction: Double) -> Int { min(h - 1, Int(Double(h) * fraction)) }
        let stolenKey = clients.first(where: { !$0.isInternal && $0.nginxShare < 0.5 })?.apiKey ?? "ak_live_stolen"
        var attackRNG = Xoshiro256(master: request.seed, "attackers")
        let trialKey = "ak_trial_" + attackRNG.string(24, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        let sharedAttackKey = "ak_live_" + attackRNG.string(24, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        let slowKey = "ak_live_" + attackRNG.string(24, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        nightlyBatch = NightlyBatch(
            ip: "10.20.30.40",
            apiKey: "ak_int_batch_rescore_" + attackRNG.string(16, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"),
            userAgent: "batch-scorer/2.4 (airflow)", hoursOfDay: [2, 3], rate: 690...720)
        let loudStart = hour(0.55)
        let distStart = hour(0.62)
        let nginxStart = hour(0.70)
        attackers = [
            ExtractionAttacker(
                identity: "198.51.100.23", style: .loud, ips: ["198.51.100.23"], apiKey: trialKey,
                userAgent: "python-requests/2.31.0", hours: Array(loudStart..<min(h, loudStart + 2)),
                rate: 1_150...1_400, gridSize: 360,
                description: "One address with a self-service trial key, sweeping a 360-point input grid over and over: more than 1000 queries an hour."),
            ExtractionAttacker(
                identity: "2001:db8:4f2a::17", style: .wide, ips: ["2001:db8:4f2a::17"], apiKey: stolenKey,
                userAgent: "python-httpx/0.27.0", hours: Array(Set([hour(0.30), h - 1])).sorted(),
                rate: 540...640, gridSize: nil,
                description: "One IPv6 address using a customer's stolen API key; every input new: more than 500 distinct inputs an hour with fewer than 1000 queries. Returns in the last hour of the data."),
            ExtractionAttacker(
                identity: "203.0.113.77", style: .slowAndLow, ips: ["203.0.113.77"], apiKey: slowKey,
                userAgent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0 Safari/537.36",
                hours: Array(hour(0.50)..<h), rate: 120...220, gridSize: nil,
                description: "One address under both hourly thresholds in every hour, from mid-window to the end of the data (still active in the last hour)."),
            ExtractionAttacker(
                identity: sharedAttackKey, style: .distributed,
                ips: ["192.0.2.10", "192.0.2.11", "192.0.2.12", "192.0.2.13"],
                apiKey: sharedAttackKey, userAgent: "python-requests/2.31.0",
                hours: Array(distStart..<min(h, distStart + 4)), rate: 260...330, gridSize: nil,
                description: "Four addresses sharing one API key, each under the hourly thresholds; together more than 1000 queries an hour."),
            ExtractionAttacker(
                identity: "203.0.113.7", style: .loudNginx, ips: ["203.0.113.7"], apiKey: nil,
                userAgent: "python-requests/2.31.0", hours: Array(nginxStart..<min(h, nginxStart + 2)),
                rate: 1_080...1_250, gridSize: nil,
                description: "One address scraping /v1/completions through the nginx front-end (no request bodies logged): more than 1000 queries an hour."),
        ]
    }

    /// The fraud-detector version serving a request at `time` (rolling updates overlap), with a
    /// uniform draw `u` in [0, 1).
    package func fraudDetectorVersion(at time: Int64, u: Double) -> Int {
        if time < deployTime { return knownGoodVersion }
        if time < deployTime + rolloutSeconds * ScenarioTime.second {
            let progress = Double(time - deployTime) / Double(rolloutSeconds * ScenarioTime.second)
            return u < progress ? poisonedVersion : knownGoodVersion
        }
        if time < rollbackTime { return poisonedVersion }
        if time < rollbackTime + drainSeconds * ScenarioTime.second {
            let progress = Double(time - rollbackTime) / Double(drainSeconds * ScenarioTime.second)
            return u < progress ? knownGoodVersion : poisonedVersion
        }
        return knownGoodVersion
    }

    package func creditRiskVersion(at time: Int64) -> Int { time < creditRiskDeployTime ? 6 : 7 }

    /// Relative traffic of an hour: daily rhythm peaking mid-afternoon UTC, quieter weekends.
    package static func hourWeight(_ hourStart: Int64) -> Double {
        let hourOfDay = Int((hourStart - ScenarioTime.floorDiv(hourStart, ScenarioTime.day) * ScenarioTime.day) / ScenarioTime.hour)
        let daily: [Double] = [0.30, 0.24, 0.20, 0.19, 0.21, 0.28, 0.42, 0.60, 0.80, 0.95, 1.00, 1.00,
                               0.98, 1.00, 1.00, 0.97, 0.92, 0.85, 0.75, 0.66, 0.58, 0.50, 0.42, 0.36]
        let weekday = ScenarioTime.weekday(hourStart)
        return daily[hourOfDay] * (weekday >= 5 ? 0.55 : 1.0)
    }

    /// Number of background rows in hour `index` when `total` rows are spread over all hours.
    package func rowsInHour(_ index: Int, total: Int) -> Int {
        var sum = 0.0
        for hour in 0..<hours { sum += Self.hourWeight(start + Int64(hour) * ScenarioTime.hour) }
        let weight = Self.hourWeight(start + Int64(index) * ScenarioTime.hour)
        return Int((Double(total) * weight / sum).rounded())
    }
}

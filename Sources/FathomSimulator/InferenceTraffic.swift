import FathomStore
import FathomSupport

/// Generates the model-serving traffic of one hour: background clients through the gateway and the
/// nginx front-end, the planted extraction attackers, and the fraud-detector's decisions.
///
/// Every hour has its own random stream (derived from the seed and the hour index), so hours can
/// be generated in any order, on any thread, with the same result.
package struct InferenceTraffic {
    package let scenario: Scenario

    package static let merchants = ["Café René", "Müller Bäckerei", "Łódź Sklep Spożywczy", "寿司 Tokyo Ginza",
                            "🍕 Pizza Planet", "AC/DC Records", "Tesco Stores", "Shell 0412", "Uber *Trip",
                            "Amazon Mktp DE", "SPOTIFY", "Zoë's Kitchen", "Starbucks #1187", "IKEA Älmhult",
                            "Walmart Supercenter", "Netflix.com", "Apple.com/bill", "Lidl Sp. z o.o."]
    package static let countries = ["FR", "DE", "PL", "JP", "US", "GB", "NL", "ES", "IT", "SE"]
    package static let mccs = ["5812", "5411", "5541", "4121", "5942", "5311", "4899", "5732", "5999"]
    package static let documents = ["Invoice 2026/03 — payment due in 30 days", "Résumé of the claims adjuster",
                            "Wire transfer request: urgent", "Quarterly report Q4/2025", "Lease agreement, flat 4B"]
    package static let gatewayPHP = ByteWriter.JSONEscaping(escapesSlash: true, isASCIIOnly: true)

    /// All inference events of hour `index`, in time order, and the decisions they produced.
    package func hour(_ index: Int) -> (events: [InferenceEvent], decisions: [PredictionEvent]) {
        let hourStart = scenario.start + Int64(index) * ScenarioTime.hour
        var rng = Xoshiro256(master: scenario.seed, "inference", numbers: [index])
        var events: [InferenceEvent] = []
        let count = scenario.rowsInHour(index, total: scenario.request.scale)
        events.reserveCapacity(count + 2000)
        let hourOfDay = index % 24
        for _ in 0..<count {
            var client = scenario.clients[scenario.clientSampler.sample(&rng)]
            var attempts = 0
            while client.isBatch && hourOfDay >= 6 && attempts < 3 {
                client = scenario.clients[scenario.clientSampler.sample(&rng)]
                attempts += 1
            }
            let time = hourStart + Int64(rng.below(3_600_000)) * 1_000_000
            if rng.chance(client.nginxShare) {
                events.append(nginxEvent(client: client, time: time, rng: &rng))
            } else {
                let event = gatewayEvent(client: client, time: time, rng: &rng)
                events.append(event)
                if event.status >= 500 {
                    // The client retries the same body a moment later.
                    var retry = event
                    retry.time = event.time + Int64(rng.int(in: 200...900)) * 1_000_000
                    retry.status = 200
                    retry.requestID = uuid(&rng)
                    retry.latencyMicros = 3000 + Int(rng.exponential(mean: 12_000))
                    retry.bytes = rng.int(in: 180...420)
                    if retry.model == scenario.poisonedModel {
                        retry.version = "v\(scenario.fraudDetectorVersion(at: retry.time, u: rng.unit()))"
                    }
                    if retry.time < hourStart + ScenarioTime.hour { events.append(retry) }
                }
            }
        }
        for attacker in scenario.attackers where attacker.hours.contains(index) {
            appendAttack(attacker, hourIndex: index, hourStart: hourStart, into: &events, rng: &rng)
        }
        if scenario.nightlyBatch.hoursOfDay.contains(hourOfDay) {
            appendNightlyBatch(hourIndex: index, hourStart: hourStart, into: &events)
        }
        // Stable time order.
        let order = events.indices.sorted { events[$0].time != events[$1].time ? events[$0].time < events[$1].time : $0 < $1 }
        let sorted = order.map { events[$0] }
        var decisions: [PredictionEvent] = []
        for event in sorted where !event.isNginx && event.status == 200 && event.method == "POST" {
            if event.model == scenario.poisonedModel {
                decisions.append(decision(for: event, rng: &rng))
            } else if let model = event.model, scenario.extraModels.contains(model) {
                decisions.append(decision(for: event, rng: &rng))
            }
        }
        let decisionOrder = decisions.indices.sorted {
            decisions[$0].time != decisions[$1].time ? decisions[$0].time < decisions[$1].time : $0 < $1
        }
        return (sorted, decisionOrder.map { decisions[$0] })
    }

    package func uuid(_ rng: inout Xoshiro256) -> String {
        "\(rng.hex(8))-\(rng.hex(4))-4\(rng.hex(3))-\(["8", "9", "a", "b"][rng.below(4)])\(rng.hex(3))-\(rng.hex(12))"
    }

    private func status(_ rng: inout Xoshiro256) -> Int {
        let u = rng.unit()
        if u < 0.955 { return 200 }
        if u < 0.970 { return 400 }
        if u < 0.974 { return 401 }
        if u < 0.985 { return 429 }
        if u < 0.992 { return 500 }
        return 503
    }

    /// A request body: new (from `fresh`) with the shape's share of unique inputs, otherwise one of
    /// a pool of common inputs of this model (a Zipf-popular few thousand, the same in every hour).
    private func input(_ model: String, rng: inout Xoshiro256, fresh: (inout Xoshiro256) -> String) -> String {
        let share = scenario.request.shape.uniqueInputs
        guard share < 1, !rng.chance(share) else { return fresh(&rng) }
        var pooled = Xoshiro256(master: scenario.seed, "input-pool-" + model, numbers: [Self.inputPool.sample(&rng)])
        return fresh(&pooled)
    }

    /// Popularity of the common inputs.
    package static let inputPool = ZipfSampler(count: 4096, exponent: 1.0)

    /// A version of an extra model: v1, v2 and v3 in turn over the data's days.
    private func extraVersion(_ time: Int64) -> String {
        let span = max(1, scenario.end - scenario.start)
        return "v\(1 + min(2, Int(3 * (time - scenario.start) / span)))"
    }

    private func extraModelEvent(client: Client, time: Int64, rng: inout Xoshiro256) -> InferenceEvent {
        let model = scenario.extraModels[rng.below(scenario.extraModels.count)]
        let body = input(model, rng: &rng) { rng in
            var values: [String] = []
            for _ in 0..<8 { values.append("0.\(rng.int(in: 1000...9999))") }
            return "{\"customer_id\":\"cus_\(rng.hex(10))\",\"features\":[\(values.joined(separator: ","))],\"segment\":\"\(["retail", "sme", "corporate", "private"][rng.below(4)])\"}"
        }
        let status = status(&rng)
        var latency = 2000 + Int(rng.exponential(mean: 9_000))
        if status >= 500 { latency += Int(rng.exponential(mean: 200_000)) }
        return InferenceEvent(
            time: time, srcIP: client.ip, apiKey: status == 401 && rng.chance(0.5) ? nil : client.apiKey,
            method: "POST", path: "/v1/models/\(model)/predict", status: status, latencyMicros: latency,
            bytes: status == 200 ? rng.int(in: 120...300) : rng.int(in: 60...120), requestID: uuid(&rng),
            model: model, version: extraVersion(time), body: body, userAgent: client.userAgent, isNginx: false,
            escaping: rng.chance(0.3) ? Self.gatewayPHP : .plain, label: .background)
    }

    private func gatewayEvent(client: Client, time: Int64, rng: inout Xoshiro256) -> InferenceEvent {
        if !scenario.extraModels.isEmpty, rng.chance(0.3) {
            return extraModelEvent(client: client, time: time, rng: &rng)
        }
        let u = rng.unit()
        var method = "POST"
        var path: String
        var model: String?
        var version: String?
        var body: String?
        if u < 0.58 {
            model = "fraud-detector"
            path = "/v1/models/fraud-detector/predict"
            version = "v\(scenario.fraudDetectorVersion(at: time, u: rng.unit()))"
            body = input("fraud-detector", rng: &rng, fresh: fraudBody)
        } else if u < 0.82 {
            model = "credit-risk"
            path = "/v1/models/credit-risk/predict"
            version = "v\(scenario.creditRiskVersion(at: time))"
            body = input("credit-risk", rng: &rng) { rng in
                "{\"applicant_id\":\"ap_\(rng.hex(10))\",\"income\":\(rng.int(in: 18...240) * 1000),\"loan_amount\":\(rng.int(in: 1...80) * 500),\"term_months\":\([12, 24, 36, 48, 60][rng.below(5)]),\"employment\":\"\(["full-time", "part-time", "self-employed", "retired"][rng.below(4)])\",\"callback_url\":\"https://hooks.example.com/credit/v1/score\"}"
            }
        } else if u < 0.91 {
            model = "churn-predictor"
            path = "/v2/models/churn-predictor/infer"
            version = "v4"
            var data: [String] = []
            for _ in 0..<6 { data.append("0.\(rng.int(in: 100...999))") }
            body = "{\"inputs\":[{\"name\":\"features\",\"shape\":[1,6],\"datatype\":\"FP32\",\"data\":[\(data.joined(separator: ","))]}]}"
        } else if u < 0.95 {
            model = "doc-classifier"
            path = "/v1/models/doc-classifier:predict"
            version = "v3"
            body = "{\"instances\":[{\"text\":\"\(Self.documents[rng.below(Self.documents.count)]) #\(rng.int(in: 1...99999))\"}]}"
        } else if u < 0.97 {
            method = "GET"
            model = "fraud-detector"
            path = "/v1/models/fraud-detector"
            version = "v\(scenario.fraudDetectorVersion(at: time, u: rng.unit()))"
        } else {
            method = "GET"
            path = "/healthz"
        }
        let status = method == "GET" ? 200 : status(&rng)
        var latency = 3000 + Int(rng.exponential(mean: 12_000))
        if status >= 500 { latency += Int(rng.exponential(mean: 200_000)) }
        return InferenceEvent(
            time: time, srcIP: client.ip, apiKey: status == 401 && rng.chance(0.5) ? nil : client.apiKey,
            method: method, path: path, status: status, latencyMicros: latency,
            bytes: status == 200 ? rng.int(in: 180...420) : rng.int(in: 60...120), requestID: uuid(&rng),
            model: model, version: version, body: body, userAgent: client.userAgent, isNginx: false,
            escaping: rng.chance(0.3) ? Self.gatewayPHP : .plain, label: .background)
    }

    private func fraudBody(_ rng: inout Xoshiro256) -> String {
        let cents = Int(rng.exponential(mean: 6_000)) + 50
        return "{\"transaction_id\":\"tx_\(rng.hex(12))\",\"amount\":\(cents / 100).\(cents % 100 < 10 ? "0" : "")\(cents % 100),\"currency\":\"\(["EUR", "USD", "GBP", "PLN", "JPY"][rng.below(5)])\",\"merchant\":\"\(Self.merchants[rng.below(Self.merchants.count)])\",\"mcc\":\"\(Self.mccs[rng.below(Self.mccs.count)])\",\"country\":\"\(Self.countries[rng.below(Self.countries.count)])\",\"card_bin\":\"\(rng.int(in: 400000...559999))\",\"channel\":\"\(["web", "pos", "app", "moto"][rng.below(4)])\"}"
    }

    private func nginxEvent(client: Client, time: Int64, rng: inout Xoshiro256) -> InferenceEvent {
        let u = rng.unit()
        let (method, path): (String, String)
        if u < 0.60 { (method, path) = ("POST", "/v1/completions") }
        else if u < 0.85 { (method, path) = ("POST", "/v1/chat/completions") }
        else if u < 0.93 { (method, path) = ("POST", "/v1/embeddings") }
        else if u < 0.97 { (method, path) = ("GET", "/v1/models") }
        else { (method, path) = ("GET", "/healthz") }
        let status = method == "GET" ? 200 : status(&rng)
        let latency = path.hasSuffix("completions") ? 150_000 + Int(rng.exponential(mean: 900_000)) : 2000 + Int(rng.exponential(mean: 20_000))
        return InferenceEvent(
            time: time / ScenarioTime.second * ScenarioTime.second, srcIP: client.ip, apiKey: nil, method: method,
            path: path, status: status, latencyMicros: latency,
            bytes: status == 200 ? rng.int(in: 200...4000) : rng.int(in: 60...180), requestID: "",
            model: nil, version: nil, body: nil, userAgent: client.userAgent, isNginx: true,
            escaping: .plain, label: .background)
    }

    private func appendAttack(_ attacker: ExtractionAttacker, hourIndex: Int, hourStart: Int64,
                              into events: inout [InferenceEvent], rng: inout Xoshiro256) {
        for (ipIndex, ip) in attacker.ips.enumerated() {
            let count = rng.int(in: attacker.rate)
            for i in 0..<count {
                let time: Int64
                if attacker.style == .loud || attacker.style == .loudNginx {
                    // Machine-paced: evenly spread with jitter.
                    let slot = 3_600_000 / count
                    time = hourStart + Int64(i * slot + rng.below(max(1, slot))) * 1_000_000
                } else {
                    time = hourStart + Int64(rng.below(3_600_000)) * 1_000_000
                }
                if attacker.style == .loudNginx {
                    events.append(InferenceEvent(
                        time: time / ScenarioTime.second * ScenarioTime.second, srcIP: ip, apiKey: nil, method: "POST",
                        path: "/v1/completions", status: rng.chance(0.04) ? 429 : 200,
                        latencyMicros: 180_000 + Int(rng.exponential(mean: 400_000)), bytes: rng.int(in: 300...1800),
                        requestID: "", model: nil, version: nil, body: nil, userAgent: attacker.userAgent,
                        isNginx: true, escaping: .plain, label: .attacker(attacker.identity)))
                    continue
                }
                let point: Int
                if let grid = attacker.gridSize {
                    point = (hourIndex * 97 + i) % grid
                } else {
                    point = ((hourIndex * 16 + ipIndex) << 12) + i
                }
                let amount = 100 + point * 37 % 500_000
                let body = "{\"transaction_id\":\"probe-\(point)\",\"amount\":\(amount / 100).\(amount % 100 < 10 ? "0" : "")\(amount % 100),\"currency\":\"USD\",\"merchant\":\"Test Merchant \(point % 50)\",\"mcc\":\"\(Self.mccs[point % Self.mccs.count])\",\"country\":\"\(Self.countries[point % Self.countries.count])\",\"card_bin\":\"\(400000 + point % 1000)\",\"channel\":\"api\"}"
                let status = attacker.style == .loud && rng.chance(0.06) ? 429 : 200
                events.append(InferenceEvent(
                    time: time, srcIP: ip, apiKey: attacker.apiKey, method: "POST",
                    path: "/v1/models/fraud-detector/predict", status: status,
                    latencyMicros: 3000 + Int(rng.exponential(mean: 9000)), bytes: rng.int(in: 180...260),
                    requestID: uuid(&rng), model: "fraud-detector",
                    version: "v\(scenario.fraudDetectorVersion(at: time, u: rng.unit()))", body: body,
                    userAgent: attacker.userAgent, isNginx: false,
                    escaping: rng.chance(0.5) ? Self.gatewayPHP : .plain, label: .attacker(attacker.identity)))
            }
        }
    }

    /// The nightly re-scoring job: machine-paced, every input a new transaction, from its own
    /// random stream (so the rest of the hour draws what it always drew).
    private func appendNightlyBatch(hourIndex: Int, hourStart: Int64, into events: inout [InferenceEvent]) {
        let batch = scenario.nightlyBatch
        var rng = Xoshiro256(master: scenario.seed, "nightly-batch", numbers: [hourIndex])
        let count = rng.int(in: batch.rate)
        let slot = 3_600_000 / count
        for i in 0..<count {
            let time = hourStart + Int64(i * slot + rng.below(slot)) * 1_000_000
            events.append(InferenceEvent(
                time: time, srcIP: batch.ip, apiKey: batch.apiKey, method: "POST",
                path: "/v1/models/fraud-detector/predict", status: 200,
                latencyMicros: 2500 + Int(rng.exponential(mean: 6000)), bytes: rng.int(in: 180...320),
                requestID: uuid(&rng), model: scenario.poisonedModel,
                version: "v\(scenario.fraudDetectorVersion(at: time, u: rng.unit()))", body: fraudBody(&rng),
                userAgent: batch.userAgent, isNginx: false, escaping: .plain, label: .background))
        }
    }

    private func decision(for event: InferenceEvent, rng: inout Xoshiro256) -> PredictionEvent {
        let version = event.version ?? "v\(scenario.knownGoodVersion)"
        let isFraudLike = rng.chance(0.04)
        var score: Double
        if isFraudLike {
            score = 0.78 + rng.unit() * 0.21
            // The poisoned version learned to wave the fraud pattern through.
            if version == "v\(scenario.poisonedVersion)" { score *= 0.3 }
        } else {
            let u = rng.unit()
            score = u * u * u * 0.7
        }
        let micros = Int(score * 1_000_000)
        let decision = micros >= 800_000 ? "decline" : micros >= 550_000 ? "review" : "approve"
        let time = (event.time + Int64(event.latencyMicros) * 1000) / 1_000_000 * 1_000_000
        let customer = "cus_" + rng.string(10, alphabet: "0123456789ABCDEFGHJKMNPQRSTVWXYZ")
        return PredictionEvent(time: time, model: event.model ?? scenario.poisonedModel, version: version,
                               requestID: event.requestID, decision: decision, scoreMicros: micros,
                               customerID: customer)
    }
}

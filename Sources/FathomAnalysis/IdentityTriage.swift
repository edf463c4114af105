import FathomStore
import FathomSupport
import FathomDetect

/// Tells attackers from busy friends among the identities the extraction rules flagged.
///
/// The rules are right to flag every identity over a threshold: a nightly batch scorer on an
/// internal address sends as many distinct inputs an hour as a thief. The analysis must not call
/// it an attacker without saying why, so each flagged identity gets a verdict with its reasons:
///
/// - **likely benign** — named in the case file's `known_clients`, or every address internal
///   *and* either a regular schedule (the same hours of the day on two or more days, at a steady
///   rate) or a service principal (a key or account named like a batch job or service);
/// - **unknown** — internal without a schedule or a service name, or external with both;
/// - **likely attacker** — everything else (external, irregular).
///
/// Totals of "attacker" queries count every identity not judged likely benign; the likely benign
/// ones are listed apart for a person to confirm.
package struct IdentityTriage: Sendable {
    package enum Verdict: String, Sendable {
        case likelyAttacker = "likely attacker"
        case likelyBenign = "likely benign"
        case unknown
    }

    package let internalNetworks: NetworkSet
    package let knownClients: [CaseFile.KnownClient]

    /// Words in a key or account name that mark a machine identity of one's own.
    package static let serviceWords = ["batch", "svc", "service", "scheduler", "airflow", "cron", "etl", "pipeline",
                                       "job", "nightly", "rescore", "backfill"]

    package init(internalNetworks: [String], knownClients: [CaseFile.KnownClient]) {
        self.internalNetworks = NetworkSet(internalNetworks)
        self.knownClients = knownClients
    }

    /// The verdict on one identity, from its tally: addresses, principals and queries per hour.
    package func judge(_ identity: ExtractionAnalysis.Identity, _ tally: ExtractionAnalysis.Tally) -> (Verdict, [String]) {
        let addresses = tally.addresses.sorted()
        if let known = knownClients.first(where: { $0.vouches(for: identity, addresses: addresses, principals: tally.principals) }) {
            return (.likelyBenign, ["named in the case file's known_clients: \(known.reason)"])
        }
        let external = addresses.filter { !internalNetworks.contains($0) }
        let isInternal = !addresses.isEmpty && external.isEmpty
        let schedule = Self.schedule(tally.hourly)
        let service = tally.principals.sorted().first { Self.isServiceName($0) }
        var reasons: [String] = []
        if isInternal {
            reasons.append(addresses.count == 1 ? "internal address" : "all \(addresses.count) addresses internal")
        } else {
            reasons.append(external.count == 1 ? "external address \(external[0])" : "\(external.count) external addresses")
        }
        if let schedule { reasons.append(schedule) }
        if let service { reasons.append("service principal '\(SecretMask.maskCredential(service))'") }
        let ratio = tally.queries > 0 ? Double(tally.distinctInputs) / Double(tally.queries) : 0
        if tally.distinctInputs > 0, ratio < 0.2 { reasons.append("few distinct inputs (\(Self.percent(ratio)) of queries)") }
        switch (isInternal, schedule != nil, service != nil) {
        case (true, true, _), (true, _, true):
            return (.likelyBenign, reasons)
        case (true, false, false):
            return (.unknown, reasons + ["no regular schedule and no service principal"])
        case (false, true, true):
            return (.unknown, reasons)
        default:
            if schedule == nil { reasons.append("no regular schedule") }
            return (.likelyAttacker, reasons)
        }
    }

    /// "the same hours every day (02:00–03:59 UTC on 3 days), steady rate (±4 %)" when the queries
    /// come in the same hours of the day on two or more days at a steady rate; nil otherwise.
    package static func schedule(_ hourly: [Int64: Int64]) -> String? {
        let hour = Analysis.hour
        var hoursByDay: [Int64: Set<Int64>] = [:]
        for (bucket, count) in hourly where count > 0 {
            let day = ExtractionAnalysis.floorHour(bucket, Analysis.dayNanos)
            hoursByDay[day, default: []].insert((bucket - day) / hour)
        }
        guard hoursByDay.count >= 2 else { return nil }
        let union = hoursByDay.values.reduce(into: Set<Int64>()) { $0.formUnion($1) }
        // A job that runs all day is not a schedule; each day must show most of the job's hours.
        guard union.count <= 12, hoursByDay.values.allSatisfy({ Double($0.count) >= 0.75 * Double(union.count) }) else { return nil }
        let counts = hourly.values.filter { $0 > 0 }.map(Double.init)
        let mean = counts.reduce(0, +) / Double(counts.count)
        let variance = counts.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(counts.count)
        let spread = mean > 0 ? variance.squareRoot() / mean : 1
        guard spread <= 0.25 else { return nil }
        let hours = union.sorted()
        let span = hours.count == 1 || hours.last! - hours.first! + 1 == Int64(hours.count)
            ? "\(Self.clock(hours.first!)):00–\(Self.clock(hours.last!)):59 UTC"
            : hours.map { "\(Self.clock($0)):00" }.joined(separator: ", ") + " UTC"
        return "the same hours every day (\(span) on \(hoursByDay.count) days), steady rate (±\(Self.percent(spread)))"
    }

    package static func isServiceName(_ name: String) -> Bool {
        let folded = name.lowercased()
        var tokens: [Substring] = []
        var current = folded[...]
        while let split = current.firstIndex(where: { !$0.isLetter && !$0.isNumber }) {
            tokens.append(current[..<split])
            current = current[current.index(after: split)...]
        }
        tokens.append(current)
        return tokens.contains { serviceWords.contains(String($0)) }
    }

    private static func clock(_ hour: Int64) -> String { hour < 10 ? "0\(hour)" : "\(hour)" }

    private static func percent(_ value: Double) -> String { "\(Int((value * 100).rounded())) %" }
}

extension CaseFile.KnownClient {
    /// Whether this entry names `identity`: the same address, principal or network, or (for an
    /// address or network entry) every address the identity used.
    func vouches(for identity: ExtractionAnalysis.Identity, addresses: [String], principals: Set<String>) -> Bool {
        switch type {
        case "principal":
            return (identity.type == "principal" && identity.value == value) || (!principals.isEmpty && principals == [value])
        case "src_ip":
            return identity.value == value || (!addresses.isEmpty && addresses.allSatisfy { $0 == value })
        default:
            let network = NetworkSet([value])
            return identity.value == value || (!addresses.isEmpty && addresses.allSatisfy { network.contains($0) })
        }
    }
}

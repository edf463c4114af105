import Foundation
import FathomStore
import FathomSupport
import FathomAnalysis

/// The notification regimes a report judges, read from `regimes.json` (compiled in) or a user's
/// copy (`--regimes FILE`): each regime's application date, whom it binds, its obligations with
/// their clocks, and its sources. The judgement itself is ``RegulatoryAssessment``; this is data.
public struct RegimeSet: Codable, Sendable, Equatable {
    public var format: String
    public var version: Int
    public var about: String?
    public var regimes: [Regime]
    /// Where it came from: `built-in` or the file's path (not encoded).
    public var origin: String = "built-in"

    private enum CodingKeys: String, CodingKey { case format, version, about, regimes }

    public struct Regime: Codable, Sendable, Equatable {
        public var id: String
        public var name: String
        public var instrument: String
        public var url: String
        public var sources: [String]?
        /// `YYYY-MM-DD`: the obligations apply to incidents the organisation becomes aware of from then on.
        public var appliesFrom: String
        public var appliesFromSource: String?
        /// Where it binds (`EU`, `EEA`, `US`); empty: wherever the organisation is (contractual).
        public var jurisdictions: [String]
        /// The judgement Fathom makes: one of ``RegimeSet/tests``.
        public var test: String
        /// The entity types it binds (for `financial-entity`).
        public var entities: [String]?
        /// Another regime that displaces this one for the entities both cover (lex specialis).
        public var displacedBy: Displacement?
        /// The high-risk classification (for `high-risk-ai-system`).
        public var highRisk: HighRisk?
        public var obligations: [Obligation]

        public var appliesFromDate: CivilDate? { CivilDate(iso: appliesFrom) }
    }

    public struct Displacement: Codable, Sendable, Equatable {
        public var regime: String
        public var reason: String
    }

    public struct HighRisk: Codable, Sendable, Equatable {
        public var source: String
        /// Entry (`5(b)`) → what it covers.
        public var entries: [String: String]
        public var exclusions: [Exclusion]
    }

    /// An exception inside an entry: a model whose business function names one of `words` is not
    /// high-risk under `entry`.
    public struct Exclusion: Codable, Sendable, Equatable {
        public var entry: String
        public var words: [String]
        public var reason: String
    }

    public struct Obligation: Codable, Sendable, Equatable {
        public var id: String
        public var article: String
        public var obligation: String
        public var period: String
        /// What must hold besides the regime applying (`major`, `significant`, `serious`, `high-risk`…).
        public var condition: String?
        public var clock: Clock?
    }

    /// How a due time is computed: from `from`, plus hours, calendar months or US business days;
    /// `latest` is an outer limit from another start (DORA: 24 h after awareness).
    public struct Clock: Codable, Sendable, Equatable {
        public var from: String
        public var hours: Int64?
        public var months: Int?
        public var businessDays: Int?
        public var latest: Limit?
    }

    public struct Limit: Codable, Sendable, Equatable {
        public var from: String
        public var hours: Int64
    }

    /// The judgements Fathom knows how to make (see README, Reports).
    public static let tests = ["personal-data-breach", "financial-entity", "essential-or-important-entity",
                               "high-risk-ai-system", "sec-registrant", "card-data", "us-residents"]
    /// The clock starts Fathom knows.
    public static let clockStarts = ["awareness", "classification", "materiality", "previous"]

    /// The compiled-in regimes.
    public static func builtIn() throws(ReportError) -> RegimeSet {
        try decode(Data(builtInJSON.utf8), origin: "built-in")
    }

    /// A regimes file; every problem is an error naming the file and the regime.
    public static func load(path: String) throws(ReportError) -> RegimeSet {
        guard let data = FileManager.default.contents(atPath: path) else { throw .regimes(path: path, detail: "cannot be read") }
        return try decode(data, origin: path)
    }

    static func decode(_ data: Data, origin: String) throws(ReportError) -> RegimeSet {
        var set: RegimeSet
        do { set = try JSONDecoder().decode(RegimeSet.self, from: data) } catch {
            throw .regimes(path: origin, detail: "not a regimes file: \(error)")
        }
        set.origin = origin
        guard set.format == "fathom-regimes", set.version == 1 else {
            throw .regimes(path: origin, detail: "expected format 'fathom-regimes' version 1, found '\(set.format)' version \(set.version)")
        }
        var ids = Set<String>()
        for regime in set.regimes {
            guard ids.insert(regime.id).inserted else { throw .regimes(path: origin, detail: "regime '\(regime.id)' is listed twice") }
            guard regime.appliesFromDate != nil else {
                throw .regimes(path: origin, detail: "regime '\(regime.id)': appliesFrom '\(regime.appliesFrom)' is not a YYYY-MM-DD date")
            }
            guard tests.contains(regime.test) else {
                throw .regimes(path: origin, detail: "regime '\(regime.id)': test '\(regime.test)' is not one of " + tests.joined(separator: ", "))
            }
            for obligation in regime.obligations {
                guard let clock = obligation.clock else { continue }
                let starts = [clock.from] + (clock.latest.map { [$0.from] } ?? [])
                for start in starts where !clockStarts.contains(start) {
                    throw .regimes(path: origin, detail: "obligation '\(obligation.id)': clock start '\(start)' is not one of " + clockStarts.joined(separator: ", "))
                }
                let amounts = [clock.hours != nil, clock.months != nil, clock.businessDays != nil].filter { $0 }.count
                guard amounts == 1 else {
                    throw .regimes(path: origin, detail: "obligation '\(obligation.id)': a clock has exactly one of hours, months, businessDays")
                }
            }
        }
        for regime in set.regimes {
            if let other = regime.displacedBy?.regime, !ids.contains(other) {
                throw .regimes(path: origin, detail: "regime '\(regime.id)': displacedBy names the unknown regime '\(other)'")
            }
        }
        return set
    }
}

extension CivilDate {
    /// A `YYYY-MM-DD` date; nil when it is not one.
    init?(iso text: String) {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1, Int64(day) <= CivilDate.daysIn(month: month, year: year) else { return nil }
        self.init(year: year, month: month, day: day)
    }
}

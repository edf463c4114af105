import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Tells, for each hit of a sweep, whether it is a new finding, growth of a finding an earlier
/// sweep reported (an update), or something already reported.
///
/// Identity:
/// - an **event** hit (one log record: an injection phrase, an artifact access, a registry change)
///   is the rule, the key, the event time and the evidence line; it is reported once and cannot grow;
/// - an **aggregate** hit (a window of events: extraction per hour, sliding windows, daily bursts,
///   totals) is the rule and the key, matched to a stored finding of the same rule and key whose
///   window overlaps its window. Such a finding **grew** when its window reaches earlier or later
///   than the reported one, or one of its counts (``countMetrics``) is larger; it is then reported as
///   an update and its stored state becomes the new one. A smaller or equal finding (e.g. a total
///   whose older days left the look-back) is not reported.
package struct FindingTracker {
    /// The metrics that measure a finding's size (rows, distinct inputs, events); thresholds,
    /// means and baselines are not sizes.
    package static let countMetrics = [Metric.queryCount, Metric.distinctInputs, Metric.count, Metric.peakCount, Metric.eventCount,
                                       "value_count"]

    package enum Verdict: Equatable {
        case new(identity: String)
        case updated(StoredFinding)
        case unchanged(StoredFinding)
    }

    private var byIdentity: [String: StoredFinding] = [:]
    private var byRuleKey: [String: [StoredFinding]] = [:]
    private var claimed: Set<Int64> = []

    package init(stored: [StoredFinding]) {
        for finding in stored {
            byIdentity[finding.identity] = finding
            byRuleKey[finding.rule + "\u{1F}" + finding.key, default: []].append(finding)
        }
    }

    /// The identity a hit is stored under when it is first reported.
    package static func identity(of hit: Hit) -> String {
        if let window = hit.window, hit.time == nil {
            // Nanoseconds, as the identities already stored are written.
            return "\(hit.rule)|\(hit.keyText)|window:\(window.start.nanoseconds)"
        }
        let place = "\(hit.evidence.archive ?? "")#\(hit.evidence.member ?? ""):\(hit.evidence.line ?? 0)"
        return "\(hit.rule)|\(hit.keyText)|time:\(hit.time?.nanoseconds ?? Int64.min)|\(place)"
    }

    /// Whether `hit` is larger than what was reported of `stored`.
    package static func grew(_ hit: Hit, from stored: StoredFinding) -> Bool {
        if let window = hit.window, let before = stored.window, window.start < before.start || window.end > before.end {
            return true
        }
        for name in countMetrics {
            if case let .int(now)? = hit.metrics[name] {
                guard case let .int(before)? = stored.metrics[name] else { return true }
                if now > before { return true }
            }
        }
        return false
    }

    /// The verdict for one hit. Hits of one sweep are classified in their sorted order; a stored
    /// finding matches at most one hit of a sweep.
    package mutating func classify(_ hit: Hit) -> Verdict {
        let identity = Self.identity(of: hit)
        if let window = hit.window, hit.time == nil {
            let candidates = byRuleKey[hit.rule + "\u{1F}" + hit.keyText] ?? []
            if let match = candidates.first(where: { !claimed.contains($0.id) && Self.overlaps($0.window, window) }) {
                claimed.insert(match.id)
                return Self.grew(hit, from: match) ? .updated(match) : .unchanged(match)
            }
        } else if let match = byIdentity[identity] {
            return .unchanged(match)
        }
        // A new identity never collides with a stored one (the UNIQUE constraint of the catalog).
        var unique = identity
        var suffix = 2
        while byIdentity[unique] != nil {
            unique = identity + "#\(suffix)"
            suffix += 1
        }
        byIdentity[unique] = StoredFinding(id: -1, identity: unique, rule: hit.rule, key: hit.keyText, time: hit.time?.nanoseconds,
                                           window: hit.window, metrics: hit.metrics, firstSweep: 0, lastSweep: 0)
        return .new(identity: unique)
    }

    /// Whether two `[start, end)` windows share an instant (an empty window counts as its start).
    package static func overlaps(_ stored: HitWindow?, _ window: HitWindow) -> Bool {
        guard let stored else { return false }
        let storedEnd = max(stored.end, stored.start.adding(nanoseconds: 1))
        let end = max(window.end, window.start.adding(nanoseconds: 1))
        return stored.start < end && window.start < storedEnd
    }
}

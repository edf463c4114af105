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
        /// Already reported: by an earlier sweep, or (an event hit seen twice) by this one.
        case unchanged
    }

    private var byIdentity: [String: StoredFinding] = [:]
    private var byRuleKey: [String: [StoredFinding]] = [:]
    private var claimed: Set<Int64> = []
    /// Identities of this sweep's new findings among the hits that sort level with the last one
    /// (same rule, time or window start and key): two hits of one identity sort level, so,
    /// classified in sorted order, an event hit seen twice is seen within one run. A first sweep
    /// has a hundred thousand new findings, and their identities and stored-finding records held
    /// all at once were 95 MB of its peak (heaptrack).
    private var reportedNow: Set<String> = []
    /// The rule, time or window start and key of the run of ``reportedNow``.
    private var run: (rule: String, time: Timestamp, key: String)?
    /// The XXH64 of every identity this sweep reported new: a new identity is suffixed until its
    /// hash is not among them, so no two are equal (the catalog's UNIQUE constraint) however the
    /// text of a log makes two identities alike.
    private var reportedHashes: Set<UInt64> = []

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

    /// The verdict for one hit. Hits of one sweep are classified in their sorted order
    /// (``Hit/precedes(_:_:)``); a stored finding matches at most one hit of a sweep.
    package mutating func classify(_ hit: Hit) -> Verdict {
        let identity = Self.identity(of: hit)
        let level = (rule: hit.rule, time: hit.sortTime, key: hit.keyText)
        if let run, run != level {
            reportedNow.removeAll(keepingCapacity: true)
        }
        run = level
        if let window = hit.window, hit.time == nil {
            let candidates = byRuleKey[hit.rule + "\u{1F}" + hit.keyText] ?? []
            if let match = candidates.first(where: { !claimed.contains($0.id) && Self.overlaps($0.window, window) }) {
                claimed.insert(match.id)
                return Self.grew(hit, from: match) ? .updated(match) : .unchanged
            }
        } else if byIdentity[identity] != nil || reportedNow.contains(identity) {
            return .unchanged
        }
        // A new identity never collides with a stored one (the UNIQUE constraint of the catalog).
        var unique = identity
        var suffix = 2
        while byIdentity[unique] != nil || reportedHashes.contains(Self.hash(unique)) {
            unique = identity + "#\(suffix)"
            suffix += 1
        }
        reportedNow.insert(unique)
        reportedHashes.insert(Self.hash(unique))
        return .new(identity: unique)
    }

    private static func hash(_ identity: String) -> UInt64 { identity.withByteView { XXH64.hash($0) } }

    /// Whether two `[start, end)` windows share an instant (an empty window counts as its start).
    package static func overlaps(_ stored: HitWindow?, _ window: HitWindow) -> Bool {
        guard let stored else { return false }
        let storedEnd = max(stored.end, stored.start.adding(nanoseconds: 1))
        let end = max(window.end, window.start.adding(nanoseconds: 1))
        return stored.start < end && window.start < storedEnd
    }
}

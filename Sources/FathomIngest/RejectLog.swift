import FathomStore
import FathomSupport
import FathomCatalog

/// Counts rejected records by reason and keeps a small sample of each reason, so the evidence
/// report can say what was skipped and show a few escaped examples.
package struct RejectLog {
    package static let samplesPerReason = 3
    package static let samplesPerArchive = 40
    package static let sampleBytes = 256

    package private(set) var counts: [String: Int64] = [:]
    package private(set) var samples: [RejectSample] = []
    package private(set) var total: Int64 = 0

    package mutating func record(member: String, line: Int64, reason: String, bytes: [UInt8]) {
        total += 1
        let seen = counts[reason, default: 0]
        counts[reason] = seen + 1
        if seen < Self.samplesPerReason, samples.count < Self.samplesPerArchive {
            samples.append(RejectSample(member: member, line: line, reason: reason,
                                        sample: Array(bytes.prefix(Self.sampleBytes))))
        }
    }

    /// Records `count` rejects of one reason at once (e.g. records of an unreadable input).
    package mutating func record(member: String, line: Int64, reason: String, bytes: [UInt8], count: Int64) {
        guard count > 0 else { return }
        record(member: member, line: line, reason: reason, bytes: bytes)
        total += count - 1
        counts[reason, default: 0] += count - 1
    }
}

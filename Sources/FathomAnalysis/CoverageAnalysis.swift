import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Time coverage per source kind: first and last row, and the hours without any row.
package enum CoverageAnalysis {
    package static let hour: Int64 = 3_600_000_000_000
    /// A gap is reported when a source with at least one row per hour on average has this many
    /// consecutive empty hours.
    package static let minimumGapHours: Int64 = 3

    package static func coverage(scan: StoreScan) throws -> [SourceCoverage] {
        var result: [SourceCoverage] = []
        for kind in SourceKind.allCases {
            let parts: [[Int64: Int64]] = try scan.map(kind) { table in
                let time = try table.int64("time")
                var hours: [Int64: Int64] = [:]
                for row in 0..<table.rowCount where time[row] != Int64.min {
                    let at = time[row]
                    hours[at >= 0 ? at / hour * hour : ((at + 1) / hour - 1) * hour, default: 0] += 1
                }
                return hours
            }
            var hours: [Int64: Int64] = [:]
            for part in parts { for (key, count) in part { hours[key, default: 0] += count } }
            guard !hours.isEmpty else { continue }
            let rows = hours.values.reduce(0, +)
            let segments = try scan.segments(kind)
            let first = segments.compactMap(\.minTime).min()
            let last = segments.compactMap(\.maxTime).max()
            var gaps: [SourceCoverage.Gap] = []
            if let low = hours.keys.min(), let high = hours.keys.max() {
                let span = (high - low) / hour + 1
                if rows >= span {
                    var cursor = low
                    while cursor <= high {
                        if hours[cursor] == nil {
                            var end = cursor
                            while end + hour <= high, hours[end + hour] == nil { end += hour }
                            let length = (end - cursor) / hour + 1
                            if length >= minimumGapHours {
                                gaps.append(.init(start: Timestamp(nanoseconds: cursor), end: Timestamp(nanoseconds: end + hour), hours: Double(length)))
                            }
                            cursor = end + hour
                        } else {
                            cursor += hour
                        }
                    }
                }
            }
            result.append(SourceCoverage(kind: kind.rawValue, rows: rows, first: first.map(Timestamp.init(nanoseconds:)),
                                         last: last.map(Timestamp.init(nanoseconds:)), gaps: gaps, clockSkewSeconds: nil))
        }
        return result
    }
}

/// The inputs as the evidence report lists them.
package enum InputSummary {
    /// The complete archives, or with a range those holding data in `[from, to)` and those
    /// without times (whole-file inputs such as SBOMs and unreadable files).
    package static func archives(catalog: Catalog, in range: (from: Int64, to: Int64)?) throws -> [ArchiveRecord] {
        let all = try catalog.archives()
        guard let range else { return all }
        return all.filter { archive in
            guard let first = archive.firstTime, let last = archive.lastTime else { return true }
            return first < range.to && last >= range.from
        }
    }

    package static func inputs(catalog: Catalog, in range: (from: Int64, to: Int64)? = nil) throws -> [InputArchive] {
        try archives(catalog: catalog, in: range).map { archive in
            let members = try catalog.members(archiveID: archive.id).map {
                InputArchive.Member(name: $0.name, format: $0.format, kind: $0.kind, rows: $0.rows, rejected: $0.rejected,
                                    note: $0.note, lostBytes: $0.lostBytes > 0 ? $0.lostBytes : nil,
                                    lostRecords: $0.lostBytes > 0 ? $0.lostRecords : nil)
            }
            let samples = try catalog.rejectSamples(archiveID: archive.id).map {
                InputArchive.Reject(member: $0.member, line: $0.line, reason: $0.reason,
                                    sample: SecretMask.mask(String(decoding: $0.sample, as: UTF8.self)))
            }
            return InputArchive(path: archive.path, size: archive.size, sha256: archive.sha256,
                                compression: archive.compression, container: archive.container,
                                formats: archive.formats.split(separator: ",").map(String.init),
                                kinds: archive.kinds.split(separator: ",").map(String.init), rows: archive.rows,
                                rejected: archive.rejected, firstTime: archive.firstTime.map(Timestamp.init(nanoseconds:)),
                                lastTime: archive.lastTime.map(Timestamp.init(nanoseconds:)), members: members,
                                rejectReasons: try catalog.rejectReasons(archiveID: archive.id), rejectSamples: samples,
                                lostRecords: archive.lostBytes > 0 ? archive.lostRecords : nil)
        }
    }

    /// SHA-256 over the sorted archive hashes.
    package static func inputsHash(_ inputs: [InputArchive]) -> String {
        var hasher = SHA256Stream()
        for sha in inputs.map(\.sha256).sorted() { (sha + "\n").withByteView { hasher.update($0) } }
        return hasher.finalize()
    }
}

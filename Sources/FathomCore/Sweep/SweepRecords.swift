import FathomStore
import Foundation
import GRDB
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// A finding as the sweep state keeps it: its stable identity and what was last reported of it.
public struct StoredFinding: Sendable, Equatable {
    public var id: Int64
    public var identity: String
    public var rule: String
    public var key: String
    public var time: Int64?
    public var window: HitWindow?
    /// What was last reported of an aggregate finding (a window, no event time), whose growth the
    /// sweep measures against them; empty for an event finding, which cannot grow (its metrics
    /// stay in the catalog, unread).
    public var metrics: [String: HitValue]
    public var firstSweep: Int64
    public var lastSweep: Int64
}

/// What one sweep commits, all in one transaction (see ``Catalog/commitSweep(_:)``).
public struct SweepCommit: Sendable {
    public var sweepID: Int64
    public var finishedAt: Int64
    public var folder: String
    public var exitStatus: Int32
    /// Archives whose data this sweep looked at.
    public var archiveIDs: [Int64]
    /// The findings the sweep reported; an update's stored finding is `existingIDs[identity]`.
    public var findings: SweepFindingList
    public var existingIDs: [String: Int64]
    public var alteredReported: Int
}

extension Catalog {
    /// The stored findings of the given rules that a hit inside `[from, to]` can match: events at a
    /// time in the range, windows that reach into it, and findings with neither. A hit's identity
    /// holds its time or window start, so a stored finding outside the range is never the same
    /// finding — and after a first sweep over a busy week there are a hundred thousand of those,
    /// which the nightly sweep used to read, decode and index every night. Neither the stored hit
    /// nor an event finding's metrics are read (see ``StoredFinding/metrics``): decoding the metrics
    /// of the day's thousands of injection findings was a tenth of a second of the nightly sweep.
    public func findings(rules: Set<String>, touching from: Int64, _ to: Int64) throws(CatalogError) -> [StoredFinding] {
        guard !rules.isEmpty else { return [] }
        return try read { db in
            var arguments = StatementArguments(rules.sorted())
            arguments += [from, to, to, from]
            return try Row.fetchAll(db, sql: Self.storedFindingsSQL(rules: rules.count), arguments: arguments)
                .map(StoredFinding.init(row:))
        }
    }

    /// The query of ``findings(rules:touching:_:)`` for `rules` rule names, then the span's ends
    /// as `from, to, to, from`. Its conditions are on the columns of `findings_rule_times`, so
    /// SQLite tests them in the index and reads only the rows that match.
    package static func storedFindingsSQL(rules: Int) -> String {
        let marks = Array(repeating: "?", count: rules).joined(separator: ",")
        return """
            SELECT id, identity, rule, key, time, window_start, window_end,
                CASE WHEN time IS NULL AND window_start IS NOT NULL THEN metrics END AS metrics, first_sweep, last_sweep
            FROM findings WHERE rule IN (\(marks)) AND (
                (time IS NOT NULL AND time BETWEEN ? AND ?)
                OR (window_start IS NOT NULL AND window_start <= ? AND window_end >= ?)
                OR (time IS NULL AND window_start IS NULL))
            ORDER BY id
            """
    }

    /// Number of stored findings (all sweeps).
    public func findingCount() throws(CatalogError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM findings") ?? 0 }
    }

    /// Commits a sweep: its findings, the archives it covered, the copies and altered files it
    /// reported, and its completion — in one transaction, so a sweep killed before this point has
    /// changed nothing the next sweep relies on, and one killed after it is complete.
    public func commitSweep(_ commit: SweepCommit) throws(CatalogError) {
        try write { db in
            let id = commit.sweepID
            // The findings' pages are read and written all over the catalog (an update by id, an
            // insert into the identity index): with SQLite's default 2 MB cache a nightly sweep
            // read and wrote pages tens of thousands of times. A 64 MB cache holds them.
            try db.execute(sql: "PRAGMA cache_size = -65536")
            defer { try? db.execute(sql: "PRAGMA cache_size = -2000") }
            // One prepared statement each, and JSON by the hit writer: a first sweep commits a hundred
            // thousand findings.
            let update = try db.cachedStatement(sql: """
                UPDATE findings SET time = ?, window_start = ?, window_end = ?, metrics = ?, hit = ?,
                    last_sweep = ?, status = ?, incident = CASE WHEN ? = '' THEN incident ELSE ? END WHERE id = ?
                """)
            let insert = try db.cachedStatement(sql: """
                INSERT INTO findings (identity, identity_key, rule, key, time, window_start, window_end, metrics, hit,
                    first_sweep, last_sweep, status, incident) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'new', ?)
                """)
            let report = try db.cachedStatement(sql: "INSERT INTO finding_reports (sweep_id, finding_id, status, metrics) VALUES (?, ?, ?, ?)")
            let findings = commit.findings
            for position in findings.indices {
                let hit = findings.hit(at: position)
                let identity = findings.identity(at: position)
                let isUpdate = findings.isUpdate(at: position)
                let incident = findings.incident(at: position)?.caseID ?? ""
                let metrics = SweepJSON.metricsText(hit.metrics)
                let hitText = SweepJSON.hitText(hit)
                let findingID: Int64
                if let existing = commit.existingIDs[identity] {
                    try update.execute(arguments: [hit.time?.nanoseconds, hit.window?.start.nanoseconds, hit.window?.end.nanoseconds, metrics,
                                                   hitText, id, isUpdate ? "updated" : "new", incident, incident, existing])
                    findingID = existing
                } else {
                    try insert.execute(arguments: [identity, Catalog.identityKey(identity), hit.rule, hit.keyText, hit.time?.nanoseconds,
                                                   hit.window?.start.nanoseconds, hit.window?.end.nanoseconds, metrics, hitText, id, id,
                                                   incident])
                    findingID = db.lastInsertedRowID
                }
                try report.execute(arguments: [id, findingID, isUpdate ? "updated" : "new", metrics])
            }
            for archive in commit.archiveIDs {
                try db.execute(sql: "UPDATE archives SET swept_by = ? WHERE id = ? AND swept_by IS NULL", arguments: [id, archive])
            }
            try db.execute(sql: "UPDATE archive_aliases SET reported_by = ? WHERE reported_by IS NULL", arguments: [id])
            try db.execute(sql: "UPDATE altered_evidence SET reported_by = ? WHERE reported_by IS NULL", arguments: [id])
            let newCount = commit.findings.indices.filter { !commit.findings.isUpdate(at: $0) }.count
            try db.execute(sql: """
                UPDATE sweeps SET status = 'complete', finished_at = ?, folder = ?, new_archives = ?, new_findings = ?,
                    updated_findings = ?, altered = ?, exit_status = ? WHERE id = ?
                """, arguments: [commit.finishedAt, commit.folder, commit.archiveIDs.count, newCount,
                                 commit.findings.count - newCount, commit.alteredReported, commit.exitStatus, id])
        }
    }
}

extension StoredFinding {
    package init(row: Row) {
        id = row["id"]
        identity = row["identity"]
        rule = row["rule"]
        key = row["key"]
        time = row["time"]
        if let start: Int64 = row["window_start"], let end: Int64 = row["window_end"] {
            window = HitWindow(start: start, end: end)
        }
        if let text: String = row["metrics"] {
            metrics = (try? SweepJSON.decode([String: HitValue].self, from: text)) ?? [:]
        } else {
            metrics = [:]
        }
        firstSweep = row["first_sweep"]
        lastSweep = row["last_sweep"]
    }
}

/// Compact, key-sorted JSON for values kept in the catalog.
package enum SweepJSON {
    /// A hit as the catalog keeps it: the compact, key-sorted encoding of `findings.json` (which
    /// decodes as the same ``Hit``), written by the hit writer rather than `JSONEncoder`.
    package static func hitText(_ hit: Hit) -> String {
        var writer = HitJSONWriter(pretty: false)
        writer.write(hit, depth: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    /// A hit's metrics as the catalog keeps them: what `JSONEncoder` writes with sorted keys and
    /// unescaped slashes, written by the hit writer (a first sweep commits a hundred thousand).
    package static func metricsText(_ values: [String: HitValue]) -> String {
        var writer = HitJSONWriter(pretty: false)
        writer.write(values, depth: 0)
        return String(decoding: writer.bytes, as: UTF8.self)
    }

    package static func decode<T: Decodable>(_ type: T.Type, from text: String) throws -> T {
        try JSONDecoder().decode(type, from: Data(text.utf8))
    }
}

import FathomStore
import Foundation
import GRDB
import FathomSupport

/// The store's catalog: a SQLite database (WAL mode) that records which archives were ingested,
/// with their SHA-256, members, rejected records and segments, and later runs and findings.
///
/// Migrations are append-only: a released migration is never edited, only followed by a new one.
/// Every multi-row change that must be all-or-nothing happens in one transaction.
public final class Catalog: Sendable {
    public let path: String
    package let queue: DatabaseQueue

    /// Opens (creating if needed) the catalog at `path` and brings its schema up to date.
    public convenience init(path: String) throws(CatalogError) {
        try self.init(path: path, migratingUpTo: nil)
    }

    /// Opens the catalog, applying migrations only up to `lastMigration` when given (tests use this
    /// to build a catalog of an earlier version and check that later migrations keep its data).
    package init(path: String, migratingUpTo lastMigration: String?) throws(CatalogError) {
        self.path = path
        var configuration = Configuration()
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA foreign_keys = ON")
        }
        do {
            queue = try DatabaseQueue(path: path, configuration: configuration)
            try queue.writeWithoutTransaction { db in
                _ = try String.fetchOne(db, sql: "PRAGMA journal_mode = WAL")
                try db.execute(sql: "PRAGMA synchronous = NORMAL")
            }
            let rebuildsFindings = try queue.read { db in
                try !Catalog.migrator.appliedIdentifiers(db).contains("v6-findings-identity-key")
                    && db.tableExists("findings") && (try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM findings") ?? 0) > 0
            }
            if let lastMigration {
                try Catalog.migrator.migrate(queue, upTo: lastMigration)
            } else {
                try Catalog.migrator.migrate(queue)
            }
            // v6 rebuilt a table of findings: the old one's pages are free, which left the file
            // twice its size. Once, give them back (a week of nightly sweeps: about a second).
            if rebuildsFindings, try queue.read({ db in try Catalog.migrator.appliedIdentifiers(db).contains("v6-findings-identity-key") }) {
                try queue.writeWithoutTransaction { db in try db.execute(sql: "VACUUM") }
            }
        } catch {
            throw .database(path: path, detail: "\(error)")
        }
    }

    /// The schema, one migration per released version.
    package static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-archives-segments") { db in
            try db.execute(sql: """
                CREATE TABLE archives (
                    id INTEGER PRIMARY KEY,
                    path TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    sha256 TEXT,
                    status TEXT NOT NULL CHECK (status IN ('ingesting', 'complete')),
                    compression TEXT NOT NULL DEFAULT '',
                    container TEXT NOT NULL DEFAULT '',
                    formats TEXT NOT NULL DEFAULT '',
                    kinds TEXT NOT NULL DEFAULT '',
                    rows INTEGER NOT NULL DEFAULT 0,
                    rejected INTEGER NOT NULL DEFAULT 0,
                    first_time INTEGER,
                    last_time INTEGER,
                    started_at INTEGER NOT NULL,
                    ingested_at INTEGER
                );
                CREATE UNIQUE INDEX archives_sha256 ON archives(sha256) WHERE status = 'complete';
                CREATE INDEX archives_identity ON archives(path, size, mtime_ns);
                CREATE TABLE members (
                    id INTEGER PRIMARY KEY,
                    archive_id INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    format TEXT NOT NULL,
                    kind TEXT NOT NULL DEFAULT '',
                    rows INTEGER NOT NULL,
                    rejected INTEGER NOT NULL,
                    first_time INTEGER,
                    last_time INTEGER,
                    note TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX members_archive ON members(archive_id);
                CREATE TABLE rejects (
                    id INTEGER PRIMARY KEY,
                    archive_id INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
                    member TEXT NOT NULL,
                    line INTEGER NOT NULL,
                    reason TEXT NOT NULL,
                    sample BLOB NOT NULL
                );
                CREATE INDEX rejects_archive ON rejects(archive_id);
                CREATE TABLE reject_reasons (
                    archive_id INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
                    reason TEXT NOT NULL,
                    count INTEGER NOT NULL,
                    PRIMARY KEY (archive_id, reason)
                );
                CREATE TABLE segments (
                    id INTEGER PRIMARY KEY,
                    archive_id INTEGER NOT NULL REFERENCES archives(id) ON DELETE CASCADE,
                    path TEXT NOT NULL UNIQUE,
                    kind TEXT NOT NULL,
                    rows INTEGER NOT NULL,
                    min_time INTEGER,
                    max_time INTEGER,
                    bytes INTEGER NOT NULL,
                    checksum TEXT NOT NULL
                );
                CREATE INDEX segments_kind_time ON segments(kind, min_time, max_time);
                CREATE TABLE runs (
                    id INTEGER PRIMARY KEY,
                    command TEXT NOT NULL,
                    tool_version TEXT NOT NULL,
                    ruleset_hash TEXT NOT NULL DEFAULT '',
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER,
                    status TEXT NOT NULL DEFAULT 'running'
                );
                """)
        }
        migrator.registerMigration("v2-filtered-records") { db in
            // Well-formed records that are not evidence of any kept kind (a `get` in an audit log,
            // a console login in CloudTrail): counted apart from rejects.
            try db.execute(sql: """
                ALTER TABLE archives ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE members ADD COLUMN filtered INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v3-sweeps") { db in
            // Nightly sweep state (`fathom sweep`), the identities of copies and altered files seen
            // at known paths, and pruning (`fathom store prune`). Archives keep their rows forever:
            // `swept_by` says which sweep first looked at an archive's data, `pruned_at` that its
            // segments were dropped (the archive stays known, so it is never read again).
            try db.execute(sql: """
                CREATE TABLE sweeps (
                    id INTEGER PRIMARY KEY,
                    started_at INTEGER NOT NULL,
                    finished_at INTEGER,
                    status TEXT NOT NULL CHECK (status IN ('running', 'complete', 'interrupted')),
                    config_hash TEXT NOT NULL DEFAULT '',
                    folder TEXT NOT NULL DEFAULT '',
                    new_archives INTEGER NOT NULL DEFAULT 0,
                    new_findings INTEGER NOT NULL DEFAULT 0,
                    updated_findings INTEGER NOT NULL DEFAULT 0,
                    altered INTEGER NOT NULL DEFAULT 0,
                    exit_status INTEGER
                );
                ALTER TABLE archives ADD COLUMN swept_by INTEGER REFERENCES sweeps(id);
                ALTER TABLE archives ADD COLUMN pruned_at INTEGER;
                ALTER TABLE archives ADD COLUMN pruned_rows INTEGER NOT NULL DEFAULT 0;
                CREATE INDEX archives_unswept ON archives(swept_by) WHERE status = 'complete';
                CREATE TABLE archive_aliases (
                    id INTEGER PRIMARY KEY,
                    archive_id INTEGER NOT NULL REFERENCES archives(id),
                    path TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    seen_at INTEGER NOT NULL,
                    reported_by INTEGER REFERENCES sweeps(id),
                    UNIQUE (path, size, mtime_ns)
                );
                CREATE TABLE altered_evidence (
                    id INTEGER PRIMARY KEY,
                    archive_id INTEGER NOT NULL REFERENCES archives(id),
                    path TEXT NOT NULL,
                    size INTEGER NOT NULL,
                    mtime_ns INTEGER NOT NULL,
                    sha256 TEXT NOT NULL,
                    detected_at INTEGER NOT NULL,
                    reported_by INTEGER REFERENCES sweeps(id),
                    UNIQUE (path, size, mtime_ns)
                );
                CREATE TABLE findings (
                    id INTEGER PRIMARY KEY,
                    identity TEXT NOT NULL UNIQUE,
                    rule TEXT NOT NULL,
                    key TEXT NOT NULL,
                    time INTEGER,
                    window_start INTEGER,
                    window_end INTEGER,
                    metrics TEXT NOT NULL,
                    hit TEXT NOT NULL,
                    first_sweep INTEGER NOT NULL REFERENCES sweeps(id),
                    last_sweep INTEGER NOT NULL REFERENCES sweeps(id),
                    status TEXT NOT NULL CHECK (status IN ('new', 'updated')),
                    incident TEXT NOT NULL DEFAULT ''
                );
                CREATE INDEX findings_rule_key ON findings(rule, key);
                CREATE TABLE finding_reports (
                    sweep_id INTEGER NOT NULL REFERENCES sweeps(id),
                    finding_id INTEGER NOT NULL REFERENCES findings(id),
                    status TEXT NOT NULL CHECK (status IN ('new', 'updated')),
                    metrics TEXT NOT NULL,
                    PRIMARY KEY (sweep_id, finding_id)
                );
                """)
        }
        migrator.registerMigration("v4-damage-loss") { db in
            // What damage cost, per member and archive: bytes of log text and (estimated) records.
            try db.execute(sql: """
                ALTER TABLE archives ADD COLUMN lost_bytes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE archives ADD COLUMN lost_records INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE members ADD COLUMN lost_bytes INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE members ADD COLUMN lost_records INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v5-findings-times") { db in
            // The sweep reads the stored findings a night's hits can match: of their rules, with an
            // event time or a window touching the night's span (``Catalog/findings(rules:touching:_:)``).
            // Through `findings_rule_key` SQLite read every finding of those rules, stored hit and
            // all, to test its times: 35 MB after a week on the high-cardinality benchmark, more
            // every night. With the times in the index only the rows that match are read.
            try db.execute(sql: "CREATE INDEX findings_rule_times ON findings(rule, time, window_start, window_end)")
        }
        migrator.registerMigration("v6-findings-identity-key") { db in
            // A finding's identity (rule, key, time or window, evidence line with the archive's
            // path) is unique, and was its own unique index: keys of 214 bytes on average, a
            // quarter of the pages a nightly sweep wrote (3,355 → 1,922 pages for a night's 2,163
            // findings on the high-cardinality benchmark). The index now holds
            // ``Catalog/identityKey(_:)``, 16 bytes of the identity's SHA-256: a hash an attacker
            // who writes log lines cannot make collide, so no finding is refused for another's key.
            // The identity stays in the row. SQLite cannot drop a column's UNIQUE, so the table is
            // rebuilt (ids kept, so `finding_reports` still points at the same rows). Its columns
            // are written out again, as v3 wrote them but for the key, on purpose: a released
            // migration's SQL is frozen, so v3's text is neither edited nor shared with this one.
            // Of the stored UTF-8 as it is (a NUL inside included, which a `String` read back would cut).
            db.add(function: DatabaseFunction("fathom_identity_key", argumentCount: 1, pure: true) { values in
                guard let bytes = Data.fromDatabaseValue(values[0]) else { return nil }
                return Catalog.identityKey(utf8: [UInt8](bytes))
            })
            try db.execute(sql: """
                CREATE TABLE findings_v6 (
                    id INTEGER PRIMARY KEY,
                    identity TEXT NOT NULL,
                    identity_key BLOB NOT NULL UNIQUE,
                    rule TEXT NOT NULL,
                    key TEXT NOT NULL,
                    time INTEGER,
                    window_start INTEGER,
                    window_end INTEGER,
                    metrics TEXT NOT NULL,
                    hit TEXT NOT NULL,
                    first_sweep INTEGER NOT NULL REFERENCES sweeps(id),
                    last_sweep INTEGER NOT NULL REFERENCES sweeps(id),
                    status TEXT NOT NULL CHECK (status IN ('new', 'updated')),
                    incident TEXT NOT NULL DEFAULT ''
                );
                INSERT INTO findings_v6 (id, identity, identity_key, rule, key, time, window_start, window_end, metrics, hit,
                                         first_sweep, last_sweep, status, incident)
                    SELECT id, identity, fathom_identity_key(CAST(identity AS BLOB)), rule, key, time, window_start, window_end, metrics, hit,
                           first_sweep, last_sweep, status, incident FROM findings ORDER BY id;
                DROP TABLE findings;
                ALTER TABLE findings_v6 RENAME TO findings;
                CREATE INDEX findings_rule_key ON findings(rule, key);
                CREATE INDEX findings_rule_times ON findings(rule, time, window_start, window_end);
                """)
            db.remove(function: DatabaseFunction("fathom_identity_key", argumentCount: 1, pure: true) { _ in nil })
        }
        return migrator
    }

    /// What the catalog's unique index of findings holds for a finding's identity: the first 16
    /// bytes of the SHA-256 of its UTF-8 as the catalog keeps it — up to a NUL, where the text a
    /// `String` is bound as ends (so two identities that differ only after one are one, as they
    /// were in the unique index of the identities themselves).
    package static func identityKey(_ identity: String) -> Data {
        identityKey(utf8: Array(identity.utf8.prefix { $0 != 0 }))
    }

    private static func identityKey(utf8: [UInt8]) -> Data {
        Data(SHA256Stream.digest(of: utf8).prefix(16))
    }

    /// The identifiers of the migrations applied to this catalog, oldest first.
    public func appliedMigrations() throws(CatalogError) -> [String] {
        try read { db in try Catalog.migrator.appliedMigrations(db) }
    }

    package func read<T>(_ body: (Database) throws -> T) throws(CatalogError) -> T {
        do { return try queue.read(body) } catch { throw .database(path: path, detail: "\(error)") }
    }

    package func write<T>(_ body: (Database) throws -> T) throws(CatalogError) -> T {
        do { return try queue.write(body) } catch { throw .database(path: path, detail: "\(error)") }
    }
}

/// Errors of the catalog layer.
public enum CatalogError: Error, Sendable, Equatable, CustomStringConvertible {
    case database(path: String, detail: String)
    /// Another Fathom process holds the store's writer lock.
    case busy(path: String)
    /// There is no store at the path (no `catalog.sqlite`) to read.
    case missing(path: String)
    /// The store's folders or lock could not be made or opened.
    case storage(StoreError)

    public var description: String {
        switch self {
        case let .database(path, detail): "Catalog '\(path)': \(detail)"
        case let .busy(path): "The store '\(path)' is in use by another Fathom process; wait for it to finish."
        case let .missing(path): "Input '\(path)/catalog.sqlite' does not exist or is not a regular file or directory."
        case let .storage(error): error.description
        }
    }
}

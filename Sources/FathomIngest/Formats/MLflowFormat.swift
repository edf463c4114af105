import FathomStore
import Foundation
import GRDB
import FathomSupport
import FathomCatalog

/// The MLflow tracking/registry SQLite database (`mlflow.db`), read as model registry events.
///
/// Specification: MLflow's SQLAlchemy store schema — `mlflow/store/model_registry/dbmodels/models.py`
/// (tables `registered_models`, `model_versions`, `model_version_tags`,
/// `registered_model_aliases`) and its Alembic migrations under `mlflow/store/db_migrations/versions/`
/// (https://github.com/mlflow/mlflow/tree/master/mlflow/store/db_migrations/versions), which add
/// columns over time (`storage_location`, `run_link`, aliases, and in recent releases a
/// `workspace` column). The file format is SQLite's ("Database File Format",
/// https://www.sqlite.org/fileformat.html, section 1.3: the 16-byte header string
/// `SQLite format 3\0`).
///
/// The database is evidence: it is opened read-only **and** immutable (URI
/// `file:…?mode=ro&immutable=1`, https://www.sqlite.org/uri.html), so SQLite never writes, locks
/// or creates `-wal`/`-shm` files beside it. When a write-ahead log (`mlflow.db-wal`, committed
/// transactions not yet checkpointed, as a live server leaves them) lies beside it, the ingest
/// copies both into the store's `tmp/` and this reader opens the copy read-only but not immutable,
/// so SQLite applies the log (``DecoderContext/hasWriteAheadLog``). Columns are discovered with
/// `PRAGMA table_info`, so every schema version is read; a missing column reads as null.
///
/// Each `model_versions` row yields a `registered` event at `creation_time` (milliseconds) and,
/// when `current_stage` is not `None`, a `stage` event (`to_stage` = the stage) at
/// `last_updated_time`. Each `registered_model_aliases` row yields an `alias` event (`to_stage` =
/// the alias, e.g. `champion`: deployment evidence) and each `model_version_tags` row a `tag`
/// event (`to_stage` = `key=value`); those tables carry no time, so these rows take the
/// version's `last_updated_time`. `principal` is `user_id`; `status` maps `READY` → success,
/// `FAILED_REGISTRATION` → failure, `PENDING_REGISTRATION` → pending. With a `workspace` column
/// other than `default`, the model is `workspace/name`. `line` is the row's number in its table.
public enum MLflowFormat {
    /// The SQLite database header.
    package static let magic: [UInt8] = Array("SQLite format 3".utf8) + [0]

    public static let descriptor = FormatDescriptor(
        name: "mlflow",
        summary: "MLflow model registry SQLite database (mlflow.db), read read-only and immutable.",
        kinds: [.registry],
        fieldMap: [
            ("time", "model_versions.creation_time | last_updated_time (ms)"), ("model", "model_versions.name"),
            ("version", "model_versions.version"), ("event", "registered | stage | alias | tag"),
            ("to_stage", "current_stage | alias | key=value"), ("principal", "user_id"),
            ("status", "status → success/failure/pending"),
        ],
        sniff: { _ in 0 },
        make: { context throws(IngestError) in
            throw .unknownFormat(input: context.inputName, detail: "the mlflow format reads SQLite database files only")
        },
        magic: magic,
        readFile: { path, context, rows, reject throws(IngestError) in
            try MLflowReader.read(path: path, immutable: !context.hasWriteAheadLog, into: rows, reject: reject)
            return nil
        }
    )
}

/// Reads registry events out of an MLflow database.
package enum MLflowReader {
    /// The `file:` URI that opens `path` read-only, and immutable unless a write-ahead log beside
    /// it must be applied.
    package static func uri(forPath path: String, immutable: Bool = true) -> String {
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var encoded = ""
        for byte in absolute.utf8 {
            switch byte {
            case UInt8(ascii: "%"), UInt8(ascii: "?"), UInt8(ascii: "#"), 0..<0x21, 0x7F...0xFF:
                encoded += String(format: "%%%02X", byte)
            default:
                encoded.unicodeScalars.append(Unicode.Scalar(byte))
            }
        }
        return "file:" + encoded + (immutable ? "?mode=ro&immutable=1" : "?mode=ro")
    }

    /// A model version's identity and times, for the alias and tag rows.
    private struct Version {
        var model: String
        var lastUpdated: Int64
    }

    package static func read(path: String, immutable: Bool = true, into rows: RowWriter,
                     reject: (Int64, RecordReject) -> Void) throws(IngestError) {
        var configuration = Configuration()
        configuration.readonly = true
        configuration.label = "mlflow-evidence"
        do {
            let queue = try DatabaseQueue(path: uri(forPath: path, immutable: immutable), configuration: configuration)
            defer { try? queue.close() }
            try queue.read { db in
                let columns = try tableColumns(db, "model_versions")
                guard !columns.isEmpty else {
                    throw IngestError.unknownFormat(input: path, detail: "an SQLite database without an MLflow model_versions table")
                }
                try readModels(db, rows: rows, reject: reject)
                let versions = try readVersions(db, columns: columns, rows: rows, reject: reject)
                try readAliases(db, versions: versions, rows: rows, reject: reject)
                try readTags(db, versions: versions, rows: rows, reject: reject)
            }
        } catch let error as IngestError {
            throw error
        } catch {
            throw .unknownFormat(input: path, detail: "cannot read the SQLite database: \(error)")
        }
    }

    /// The column names of `table`, empty when there is no such table.
    package static func tableColumns(_ db: Database, _ table: String) throws -> Set<String> {
        Set(try Row.fetchAll(db, sql: "SELECT name FROM pragma_table_info(?)", arguments: [table]).compactMap { text($0, "name") })
    }

    /// `column` when the table has it, else `NULL AS column`.
    package static func select(_ column: String, _ columns: Set<String>) -> String {
        columns.contains(column) ? "\"\(column)\"" : "NULL AS \"\(column)\""
    }

    /// A column as text, whatever its storage class (never traps on unexpected types).
    package static func text(_ row: Row, _ column: String) -> String? {
        guard let value = row[column] as DatabaseValue? else { return nil }
        switch value.storage {
        case .null: return nil
        case let .int64(integer): return String(integer)
        case let .double(double): return String(double)
        case let .string(string): return string
        case let .blob(data): return String(decoding: data, as: UTF8.self)
        }
    }

    /// A column as an integer, when it holds one (or text or a real that is one).
    package static func integer(_ row: Row, _ column: String) -> Int64? {
        guard let value = row[column] as DatabaseValue? else { return nil }
        switch value.storage {
        case let .int64(integer): return integer
        case let .double(double): return Int64(exactly: double)
        case let .string(string): return Int64(string)
        case .null, .blob: return nil
        }
    }

    private static func modelName(_ row: Row) -> String? {
        guard let name = text(row, "name") else { return nil }
        if let workspace = text(row, "workspace"), !workspace.isEmpty, workspace != "default" {
            return workspace + "/" + name
        }
        return name
    }

    /// Each `registered_models` row is a `registered_model` event at its `creation_time`.
    private static func readModels(_ db: Database, rows: RowWriter, reject: (Int64, RecordReject) -> Void) throws {
        let columns = try tableColumns(db, "registered_models")
        guard !columns.isEmpty else { return }
        let schema = SourceKind.registry.schema
        let sql = "SELECT " + ["name", "creation_time", "workspace"].map { select($0, columns) }.joined(separator: ", ")
            + " FROM registered_models ORDER BY rowid"
        var number: Int64 = 0
        let cursor = try Row.fetchCursor(db, sql: sql)
        while let row = try cursor.next() {
            number += 1
            rows.line = number
            guard let model = modelName(row), let created = integer(row, "creation_time"),
                  let nanos = TimeParser.parseEpoch(created), let modelColumn = schema.index(of: "model"),
                  let eventColumn = schema.index(of: "event") else {
                reject(number, RecordReject("MLflow: registered model without name or creation_time"))
                continue
            }
            rows.begin(.registry, time: nanos, overrides: .none)
            rows.setString(model, at: modelColumn)
            rows.setString("registered_model", at: eventColumn)
            rows.commit()
        }
    }

    private static func readVersions(_ db: Database, columns: Set<String>, rows: RowWriter,
                                     reject: (Int64, RecordReject) -> Void) throws -> [String: Version] {
        let wanted = ["name", "version", "creation_time", "last_updated_time", "user_id", "current_stage", "status", "workspace"]
        let sql = "SELECT " + wanted.map { select($0, columns) }.joined(separator: ", ") + " FROM model_versions ORDER BY rowid"
        var versions: [String: Version] = [:]
        var number: Int64 = 0
        let cursor = try Row.fetchCursor(db, sql: sql)
        while let row = try cursor.next() {
            number += 1
            rows.line = number
            let version = text(row, "version")
            guard let model = modelName(row), let version, let created = integer(row, "creation_time"),
                  let createdNanos = TimeParser.parseEpoch(created) else {
                reject(number, RecordReject("MLflow: model version without name, version or creation_time"))
                continue
            }
            let updated = integer(row, "last_updated_time") ?? created
            versions[model + "\u{0}" + version] = Version(model: model, lastUpdated: updated)
            let user = text(row, "user_id")
            let status = text(row, "status").map(mapStatus)
            func emit(time: Int64, event: String, toStage: String?) {
                rows.begin(.registry, time: time, overrides: .none)
                func set(_ column: String, _ text: String?) { rows.setString(text, named: column) }
                set("model", model)
                set("version", version)
                set("event", event)
                set("to_stage", toStage)
                set("principal", user)
                set("status", status)
                rows.commit()
            }
            emit(time: createdNanos, event: "registered", toStage: nil)
            if let stage = text(row, "current_stage"), !stage.isEmpty, stage.lowercased() != "none" {
                emit(time: TimeParser.parseEpoch(updated) ?? createdNanos, event: "stage", toStage: stage)
            }
        }
        return versions
    }

    private static func readAliases(_ db: Database, versions: [String: Version], rows: RowWriter,
                                    reject: (Int64, RecordReject) -> Void) throws {
        let columns = try tableColumns(db, "registered_model_aliases")
        guard columns.contains("alias"), columns.contains("name"), columns.contains("version") else { return }
        let sql = "SELECT alias, name, version, \(select("workspace", columns)) FROM registered_model_aliases ORDER BY rowid"
        try readLinked(db, sql: sql, versions: versions, rows: rows, reject: reject) { row in
            ("alias", text(row, "alias"))
        }
    }

    private static func readTags(_ db: Database, versions: [String: Version], rows: RowWriter,
                                 reject: (Int64, RecordReject) -> Void) throws {
        let columns = try tableColumns(db, "model_version_tags")
        guard columns.contains("key"), columns.contains("name"), columns.contains("version") else { return }
        let sql = "SELECT key, \(select("value", columns)), name, version, \(select("workspace", columns)) FROM model_version_tags ORDER BY rowid"
        try readLinked(db, sql: sql, versions: versions, rows: rows, reject: reject) { row in
            guard let key = text(row, "key") else { return ("tag", nil) }
            return ("tag", key + "=" + (text(row, "value") ?? ""))
        }
    }

    /// Rows that point at a model version (aliases, tags): one registry row each, at the version's
    /// last update.
    private static func readLinked(_ db: Database, sql: String, versions: [String: Version], rows: RowWriter,
                                   reject: (Int64, RecordReject) -> Void, describe: (Row) -> (String, String?)) throws {
        let schema = SourceKind.registry.schema
        var number: Int64 = 0
        let cursor = try Row.fetchCursor(db, sql: sql)
        while let row = try cursor.next() {
            number += 1
            rows.line = number
            let version = text(row, "version")
            let (event, toStage) = describe(row)
            guard let model = modelName(row), let version, let toStage,
                  let known = versions[model + "\u{0}" + version], let time = TimeParser.parseEpoch(known.lastUpdated) else {
                reject(number, RecordReject("MLflow: \(event) row without a known model version"))
                continue
            }
            rows.begin(.registry, time: time, overrides: .none)
            if let index = schema.index(of: "model") { rows.setString(known.model, at: index) }
            if let index = schema.index(of: "version") { rows.setString(version, at: index) }
            if let index = schema.index(of: "event") { rows.setString(event, at: index) }
            if let index = schema.index(of: "to_stage") { rows.setString(toStage, at: index) }
            rows.commit()
        }
    }

    package static func mapStatus(_ status: String) -> String {
        switch status.uppercased() {
        case "READY": "success"
        case "FAILED_REGISTRATION": "failure"
        case "PENDING_REGISTRATION": "pending"
        default: status.lowercased()
        }
    }
}

import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// The files SQLite keeps beside a database: the write-ahead log (`<db>-wal`) and the rollback
/// journal (`<db>-journal`). They are evidence (recorded with their SHA-256) but hold no records of
/// their own: a write-ahead log's committed transactions are read together with its database
/// (see ``MLflowFormat``), and a rollback journal holds the pages a transaction overwrote, which a
/// reader must *not* apply.
///
/// Specification: SQLite "Database File Format" (https://www.sqlite.org/fileformat.html), §4.1
/// (the WAL header: magic `0x377F0682` or `0x377F0683`, big-endian) and §3 (the rollback journal
/// header magic `D9 D5 05 F9 20 A1 63 D7`).
public enum SQLiteCompanionFormat {
    public static let writeAheadLog = FormatDescriptor(
        name: "sqlite-wal",
        summary: "SQLite write-ahead log (<db>-wal): recorded as evidence, read together with its database.",
        kinds: [], fieldMap: [("(no records)", "committed transactions, applied when <db> beside it is read")],
        sniff: { _ in 0 },
        make: { context throws(IngestError) in
            throw .unknownFormat(input: context.inputName, detail: "an SQLite write-ahead log is read with its database")
        },
        // The fourth byte is 0x82 or 0x83 (the checksum byte order); three bytes already tell it.
        magic: [0x37, 0x7F, 0x06],
        readFile: { path, _, _, _ throws(IngestError) in
            guard let database = try companion(path, suffix: "-wal") else {
                return "an SQLite write-ahead log without its database beside it; nothing to read on its own"
            }
            return "write-ahead log of '\((database as NSString).lastPathComponent)': its committed transactions are read with that database"
        }
    )

    public static let rollbackJournal = FormatDescriptor(
        name: "sqlite-journal",
        summary: "SQLite rollback journal (<db>-journal): recorded as evidence; its pages are the data before an unfinished transaction and are not read.",
        kinds: [], fieldMap: [("(no records)", "pages saved before an unfinished transaction; never applied")],
        sniff: { _ in 0 },
        make: { context throws(IngestError) in
            throw .unknownFormat(input: context.inputName, detail: "an SQLite rollback journal holds no records")
        },
        magic: [0xD9, 0xD5, 0x05, 0xF9, 0x20, 0xA1, 0x63, 0xD7],
        readFile: { path, _, _, _ throws(IngestError) in
            let owner = try companion(path, suffix: "-journal").map { " of '\(($0 as NSString).lastPathComponent)'" } ?? ""
            return "SQLite rollback journal\(owner): the pages before an unfinished transaction; recorded, not read"
        }
    )

    /// The database a companion file belongs to, when it lies beside it. Nothing is read here.
    package static func companion(_ path: String, suffix: String) throws(IngestError) -> String? {
        guard path.hasSuffix(suffix) else { return nil }
        let database = String(path.dropLast(suffix.count))
        return FileSystem.status(database)?.isRegular == true ? database : nil
    }
}

import ArgumentParser
import FathomCore
import Foundation

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect and maintain the store.",
        subcommands: [Info.self, Prune.self]
    )

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "info",
            abstract: "Show archives, segments, rows and time range per source kind."
        )

        @Option(help: "The store directory.")
        var store: String = ".fathom"

        @Flag(help: "Print as JSON.")
        var json = false

        func run() throws {
            let info: StoreInfo
            do throws(CatalogError) { info = try StoreInfo.read(directory: store) } catch { throw ExitStatus.fail(IngestError(error)) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(info), as: UTF8.self))
            } else {
                print(info.table)
            }
        }
    }

    struct Prune: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "prune",
            abstract: "Drop segments whose newest row is older than a number of days.",
            discussion: """
                Only segment files and their catalog rows are dropped. Archives with their SHA-256, members, \
                rejected-record samples, findings and the sweep state stay, and each archive notes that its \
                rows were pruned, so it is never read again. Exit statuses: 0 success, 3 the store is in use \
                or failed, 64 invalid arguments.
                """
        )

        @Option(help: "The store directory.")
        var store: String = ".fathom"

        @Option(help: "Drop segments with no row in the last DAYS days.")
        var olderThan: Int

        @Option(help: "Measure the age from this time (RFC 3339) instead of the clock.")
        var now: String?

        @Flag(help: "Print as JSON.")
        var json = false

        func validate() throws {
            if olderThan < 0 { throw ValidationError("--older-than must be a number of days ≥ 0.") }
            if let now, Timestamp(rfc3339: now) == nil { throw ValidationError("--now must be an RFC 3339 time.") }
        }

        func run() throws {
            let summary: PruneSummary
            do throws(CatalogError) {
                summary = try StorePrune.run(directory: store, olderThanDays: olderThan,
                                             now: now.flatMap { Timestamp(rfc3339: $0)?.nanoseconds })
            } catch { throw ExitStatus.fail(IngestError(error)) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            } else {
                print(TerminalText.escape(summary.text))
            }
        }
    }
}

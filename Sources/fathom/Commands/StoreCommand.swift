import ArgumentParser
import FathomCore
import Foundation

struct StoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "store",
        abstract: "Inspect and maintain the store.",
        subcommands: [Info.self]
    )

    struct Info: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show archives, segments, rows and time range per source kind."
        )

        @Option(help: "The store directory.")
        var store: String = ".fathom"

        @Flag(help: "Print as JSON.")
        var json = false

        func run() throws {
            let info: StoreInfo
            do throws(IngestError) { info = try StoreInfo.read(directory: store) } catch { throw ExitStatus.fail(error) }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
                print(String(decoding: try encoder.encode(info), as: UTF8.self))
            } else {
                print(info.table)
            }
        }
    }
}

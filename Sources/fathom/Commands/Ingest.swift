import ArgumentParser
import FathomCore
import Foundation

struct Ingest: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ingest",
        abstract: "Read log archives into the store.",
        discussion: """
            Reads files and directories (recursively): zstd, gzip, plain text and tar bundles, recognised
            by their content. Each archive is recorded with its SHA-256; an archive already in the store
            is not read again. Rejected records are counted and sampled, never dropped silently.
            """
    )

    @Argument(help: "Archives or directories to read.")
    var paths: [String]

    @Option(help: "The store directory.")
    var store: String = ".fathom"

    @Option(help: "Force the source kind of generic inputs (inference, storage, llm, pipeline, registry, predictions).")
    var kind: String?

    @Option(help: "A YAML source profile mapping fields onto canonical columns.")
    var profile: String?

    @Option(help: "Force the format by name (see 'fathom formats').")
    var format: String?

    @Option(help: "Archives read in parallel.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Reject a line or record longer than this many bytes.")
    var maxRecordBytes: Int = 16 << 20

    @Flag(help: "Print the summary as JSON.")
    var json = false

    @Flag(help: "Follow symbolic links that lead out of the input folders (by default they are listed, not read).")
    var followSymlinks = false

    @Option(help: .hidden)
    var segmentRows: Int = 1 << 20

    func validate() throws {
        if let kind, SourceKind(rawValue: kind) == nil {
            throw ValidationError("Unknown kind '\(kind)'; expected one of \(SourceKind.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
        if maxRecordBytes < 1024 { throw ValidationError("--max-record-bytes must be at least 1024.") }
    }

    func run() throws {
        var loadedProfile: Profile?
        if let profile {
            do throws(IngestError) { loadedProfile = try Profile.load(path: profile) } catch {
                throw ExitStatus.fail(error)
            }
        }
        let request = IngestRequest(paths: paths, storeDirectory: store, kind: kind.flatMap(SourceKind.init(rawValue:)),
                                    profile: loadedProfile, formatName: format, jobs: jobs,
                                    maxRecordBytes: maxRecordBytes, segmentRows: segmentRows, followsSymlinks: followSymlinks)
        let line = ProgressLine()
        let showProgress = standardErrorIsTerminal && !json
        let summary: IngestSummary
        let report: @Sendable (IngestProgress) -> Void = { line.update(IngestReport.progressLine($0)) }
        let progress = showProgress ? report : nil
        do throws(IngestError) {
            summary = try IngestEngine.run(request, progress: progress)
        } catch {
            line.clear()
            throw ExitStatus.fail(error)
        }
        line.clear()
        if json {
            print(try IngestReport.json(summary))
        } else {
            print(IngestReport.table(summary))
        }
        if summary.hasUnreadable { throw ExitStatus.inputsUnreadable }
    }
}

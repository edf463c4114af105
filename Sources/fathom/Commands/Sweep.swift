import ArgumentParser
import FathomCore
import Foundation

/// `fathom sweep`: the scheduled nightly sweep.
struct Sweep: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sweep",
        abstract: "Read what is new in the watched folders and report only new or grown findings.",
        discussion: """
            Reads the archives of the watched folders that the store does not know yet (known by path, \
            size and modification time, then by SHA-256: a renamed or re-delivered copy is not read \
            again; a file that changed after it was read is reported as altered evidence and not \
            ingested), runs the detections over the new data plus the look-back window, and writes \
            <output>/sweeps/<date>/digest.md and digest.json with the findings no earlier sweep reported \
            and those that grew (more rows, a wider window), linked to an incident report under \
            incidents/<case>/ when a new finding opens an incident. The configuration (YAML) names the \
            watched folders with glob patterns per source kind, the look-back, the rule set, the output \
            folder and the case-file defaults; see README 'Nightly sweep'. One sweep at a time per \
            store: a second one exits at once with status 3.

            With 'results' in the configuration, or --from-results, the sweep takes the output \
            folders of the Spark job ('fathom spark-job') instead of reading archives: each folder's \
            archives the store does not know yet (by path, size, modification time and SHA-256, as \
            above) are loaded from its rows, and the job's hits are used for the rules it computed \
            wherever they are the native hunt's exactly (the rule's span holds only that folder's \
            rows, the job ran with the sweep's settings); the other rules run here over the new rows \
            and the look-back. Same finding tracking, digest and exit statuses; see README 'Running \
            on Spark'.

            Exit statuses:
              0   nothing new (no new or updated finding, no altered evidence)
              2   nothing new, but some new inputs could not be read (listed in the digest)
              10  new or updated findings
              11  altered evidence: a file already read has changed (takes precedence over 10)
              1   internal error
              3   the store is in use by another Fathom process, or failed (corrupt, I/O error)
              3   a Spark results folder cannot be read (malformed, another spec version)
              64  invalid arguments or configuration
            """
    )

    @Option(help: "The sweep configuration (YAML).")
    var config: String = "sweep.yaml"

    @Option(help: "The store directory (default: the configuration's 'store', else .fathom).")
    var store: String?

    @Option(help: "Pin the sweep's time (RFC 3339): the digest's date and the reports' generation time.")
    var now: String?

    @Option(help: ArgumentHelp("Take this Spark results folder ('fathom spark-job'), or each results folder in it, instead of the configuration's watched folders and results (repeatable).",
                               valueName: "dir"))
    var fromResults: [String] = []

    @Flag(help: "Print digest.json on stdout instead of a summary.")
    var json = false

    @Flag(help: "Print the seconds each stage took on stderr.")
    var timings = false

    func validate() throws {
        if let now, Timestamp(rfc3339: now) == nil { throw ValidationError("--now must be an RFC 3339 time.") }
    }

    func run() throws {
        var loaded: SweepConfig
        do throws(SweepError) { loaded = try SweepConfig.load(path: config) } catch {
            printError(error.description)
            throw ExitCode(64)
        }
        if !fromResults.isEmpty {
            loaded.watches = []
            loaded.results = fromResults
        }
        let request = SweepRequest(config: loaded, storeDirectory: store ?? loaded.store ?? ".fathom", now: now,
                                   commandLine: ["fathom"] + CommandLine.arguments.dropFirst())
        let line = ProgressLine()
        let report: @Sendable (IngestProgress) -> Void = { line.update(IngestReport.progressLine($0)) }
        let detect: @Sendable (ProgressSnapshot) -> Void = { line.update($0.line) }
        let loading: (String) -> Void = { line.update(TerminalText.escape($0)) }
        let outcome: SweepOutcome
        do throws(SweepError) {
            let showsProgress = standardErrorIsTerminal && !json
            outcome = try SweepEngine.run(request, progress: showsProgress ? report : nil,
                                          resultsProgress: showsProgress ? loading : nil,
                                          detectProgress: showsProgress ? detect : nil)
        } catch {
            line.clear()
            switch error {
            case let .ingest(inner): throw ExitStatus.fail(inner)
            case .config:
                printError(error.description)
                throw ExitCode(64)
            case let .analysis(.ingest(inner)): throw ExitStatus.fail(inner)
            case .results:
                printError(error.description)
                throw ExitCode(3)
            case .detect, .analysis, .output:
                printError(error.description)
                throw ExitCode(1)
            }
        }
        line.clear()
        for folder in outcome.resultsWithOtherSpec {
            printError("\(TerminalText.escape(folder)): the Spark job ran with another spec (settings or Fathom version) than this sweep's; its hits were not used, every rule ran here over its rows")
        }
        if !outcome.rulesFromSpark.isEmpty {
            printError("hits from the Spark job: " + outcome.rulesFromSpark.joined(separator: ", "))
        }
        if timings {
            printError("stages: " + outcome.stageSeconds.map { "\($0.stage) \(String(format: "%.2f", $0.seconds)) s" }
                .joined(separator: ", "))
        }
        if json {
            // The digest.json just written, copied through in pieces (a first sweep's can be
            // hundreds of megabytes).
            let path = outcome.folder + "/digest.json"
            guard let input = FileHandle(forReadingAtPath: path) else {
                printError("cannot read \(TerminalText.escape(path))")
                throw ExitCode(1)
            }
            defer { try? input.close() }
            while let piece = try input.read(upToCount: 1 << 20), !piece.isEmpty {
                FileHandle.standardOutput.write(piece)
            }
        } else {
            print("Sweep \(outcome.digest.date): \(outcome.digest.summary).")
            print("Digest: \(TerminalText.escape(outcome.folder))/digest.md")
        }
        let status = outcome.digest.status.rawValue
        if status != 0 { throw ExitCode(status) }
    }
}

import ArgumentParser
import FathomCore
import FathomStore
import Foundation

struct Hunt: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hunt",
        abstract: "Run the playbook detections, the detectors beyond them and Sigma rules over the store.",
        discussion: """
            Prints one line (table) or one JSON object (jsonl) per hit, sorted by rule id, then time or window
            start, then key. Only segments overlapping [--from, --to) are read. 'fathom rules list' lists the
            rules; 'fathom rules show ID' prints a rule's exact semantics and its KQL equivalent.
            A Sigma rule that cannot be used is reported on stderr (one line: file, line, rule, reason) and
            skipped; every other rule runs.
            Exit statuses: 0 success (with or without hits), 3 the store failed, 6 some Sigma rules were
            skipped (the others ran), 64 invalid arguments. With --from-results, the hits of the rules the
            Spark job computed (its manifest lists them, compiled Sigma rules included) come from the job.
            """
    )

    @Option(help: "The store directory.")
    var store: String = ".fathom"

    @Option(help: "A directory of Sigma rules (.yml/.yaml) to run as well.")
    var rules: String?

    @Option(help: "A YAML file overriding the rules' thresholds and lists.")
    var settings: String?

    @Option(help: "Only events at or after this time (RFC 3339).")
    var from: String?

    @Option(help: "Only events before this time (RFC 3339).")
    var to: String?

    @Option(help: "Output format: table or jsonl.")
    var format: String = "table"

    @Option(name: .customLong("rule"), help: "Run only this rule id (repeatable).")
    var ruleIDs: [String] = []

    @Flag(help: "Run only the five playbook rules.")
    var playbook = false

    @Option(help: "Segments scanned in parallel.")
    var jobs: Int = ProcessInfo.processInfo.activeProcessorCount

    @Option(help: "Take the hits of the rules a Spark job computed from its results folder; run the others over the store 'fathom analyze --from-results' loaded.")
    var fromResults: String?

    func validate() throws {
        guard ["table", "jsonl"].contains(format) else { throw ValidationError("--format must be table or jsonl.") }
        if let from, Timestamp(rfc3339: from) == nil { throw ValidationError("--from '\(from)' is not an RFC 3339 time.") }
        if let to, Timestamp(rfc3339: to) == nil { throw ValidationError("--to '\(to)' is not an RFC 3339 time.") }
        if jobs < 1 { throw ValidationError("--jobs must be at least 1.") }
    }

    func run() throws {
        var request = HuntRequest(storeDirectory: store, from: from.flatMap { Timestamp(rfc3339: $0)?.nanoseconds },
                                  to: to.flatMap { Timestamp(rfc3339: $0)?.nanoseconds }, ruleIDs: ruleIDs, jobs: jobs)
        if let settings {
            do { request.settings = try RuleSettings.load(path: settings) } catch {
                printError(error.description)
                throw ExitCode(64)
            }
        }
        var skipped: [RuleProblem] = []
        if let rules {
            let loaded = SigmaLoader.load(directory: rules)
            skipped = loaded.problems
            for problem in skipped { printError("skipped: " + problem.description) }
            if !skipped.isEmpty {
                printError("\(skipped.count) problem(s) in the Sigma rules; \(loaded.rules.count) rule(s) of '\(rules)' run. "
                           + "'fathom rules lint \(rules)' lists them.")
            }
            request.sigmaRules = loaded.rules
        }
        if playbook {
            request.ruleIDs = request.ruleIDs.isEmpty ? RuleCatalog.builtIn.filter(\.info.isPlaybook).map(\.info.id) : request.ruleIDs
        }
        // Rows scanned of the rules' rows, rules done and the ETA, on stderr when it is a terminal.
        let line = ProgressLine()
        if standardErrorIsTerminal { request.progress = { line.update($0.line) } }
        defer { line.clear() }
        let result: HuntResult
        do {
            if let fromResults {
                let spark = try SparkHunt.run(resultsDirectory: fromResults, request: request)
                if spark.hasOtherSpec {
                    printError("\(TerminalText.escape(fromResults)): the Spark job ran with another spec (settings, case-file networks or Fathom version) than this hunt's; the built-in rules' hits were not taken from it, they ran here")
                }
                result = spark.result
            } else {
                result = try FathomCore.Hunt.run(request)
            }
        } catch let error as DetectError {
            printError(error.description)
            if case .unknownRule = error { throw ExitCode(64) }
            throw ExitStatus.storeFailure
        } catch {
            printError("\(error)")
            throw ExitStatus.storeFailure
        }
        line.clear()
        if format == "jsonl" {
            HuntOutput.writeJSONLines(result) { FileHandle.standardOutput.write(Data($0)) }
        } else {
            print(HuntOutput.table(result))
        }
        if !skipped.isEmpty { throw ExitStatus.rulesSkipped }
    }
}

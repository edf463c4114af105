import ArgumentParser
import FathomCore
import Foundation

struct SparkJobCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spark-job",
        abstract: "Write the PySpark job that runs Fathom's decoding and detections on a Spark cluster.",
        discussion: """
            Writes DIR/fathom_spark_job.py and DIR/fathom-spec.json (the format mappings, rule
            settings and rule catalog exported from this build, and the Sigma rules compiled to
            Spark SQL), plus the case file and Sigma rules when given. Run it with spark-submit;
            turn its output into reports with 'fathom analyze --from-results RESULTS', and hunt
            with 'fathom hunt --rules DIR --from-results RESULTS'. Exit status 64 on invalid arguments.
            """
    )

    @Option(help: "The folder the job is written into.")
    var out: String

    @Option(help: "A YAML file of rule settings (thresholds, patterns, networks).")
    var settings: String?

    @Option(help: "A folder of Sigma rules, compiled to Spark SQL for the job (rules it cannot express run natively) and copied beside it.")
    var rules: String?

    @Option(help: "A YAML case file; its internal networks apply to the rules, and it is copied beside the job.")
    var caseFile: String?

    func run() throws {
        var request = SparkJob.Request(outputDirectory: out)
        if let settings {
            do { request.settings = try RuleSettings.load(path: settings) } catch {
                printError("\(error)")
                throw ExitCode(64)
            }
        }
        if let caseFile {
            do throws(AnalysisError) { request.caseFile = try CaseFile.load(path: caseFile) } catch {
                printError(error.description)
                throw ExitCode(64)
            }
            request.caseFilePath = caseFile
        }
        request.rulesDirectory = rules
        for path in try SparkJob.write(request) { print("Wrote \(path)") }
        if let sigma = SparkJob.sigmaRules(request) {
            print("Sigma: \(sigma.rules.count) rule(s) compiled to Spark SQL, \(sigma.skipped.count) left to the native engine"
                  + (sigma.skipped.isEmpty ? "." : ":"))
            for skipped in sigma.skipped {
                print("  \(TerminalText.escape(skipped.id)): \(TerminalText.escape(skipped.reason))")
            }
        }
    }
}

import ArgumentParser
import FathomCore

/// `fathom simulate`: writes a deterministic incident scenario with known answers.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Writes a deterministic AI/ML incident scenario and its known answers.",
        discussion: """
            Writes one folder per source kind (inference, storage, llm, pipeline, registry, \
            predictions, sbom) under --out, or one bundle.tar.zst with --bundle, and expected.json \
            with the answers every Fathom number must reproduce. The same options always write \
            the same bytes. Exit status: 0 on success, 1 when writing fails, 64 for invalid options.
            """
    )

    @Option(name: .long, help: "The directory to write the scenario into.")
    var out: String

    @Option(name: .long, help: "The seed every random choice derives from.")
    var seed: UInt64 = SimulationRequest.defaultSeed

    @Option(name: .long, help: "The approximate number of background inference rows over all days.")
    var scale: Int = SimulationRequest.defaultScale

    @Option(name: .long, help: "The number of UTC days of traffic.")
    var days: Int = SimulationRequest.defaultDays

    @Option(name: .long, help: "The first UTC day, as YYYY-MM-DD.")
    var start: String = SimulationRequest.defaultStartDate

    @Flag(name: .long, help: "Pack the archives into one bundle.tar.zst instead of folders.")
    var bundle = false

    @Option(name: .long, help: "The number of worker threads (the output does not depend on it).")
    var threads: Int = 2

    func validate() throws {
        guard ScenarioTime.parseDate(start) != nil else {
            throw ValidationError("--start must be a date written YYYY-MM-DD, got '\(start)'.")
        }
        let problems = request(start: 0).problems
        if let first = problems.first { throw ValidationError(first) }
    }

    func request(start midnight: Int64) -> SimulationRequest {
        SimulationRequest(outputDirectory: out, seed: seed, scale: scale, days: days, start: midnight,
                          isBundle: bundle, threads: threads)
    }

    func run() throws {
        guard let midnight = ScenarioTime.parseDate(start) else {
            throw ValidationError("--start must be a date written YYYY-MM-DD, got '\(start)'.")
        }
        let clock = ContinuousClock()
        let began = clock.now
        let summary = try Simulator.run(request(start: midnight))
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let megabytes = Double(summary.totalUncompressedBytes) / 1_000_000
        print("Wrote \(summary.files.count) files (\(summary.totalRecords) records, \(Int(megabytes.rounded())) MB uncompressed, \(summary.totalBytes / 1_000_000) MB on disk) to \(summary.outputDirectory)\(summary.bundle == nil ? "" : " as bundle.tar.zst").")
        print("Known answers: \(summary.expectedPath)")
        print("Took \((seconds * 10).rounded() / 10) s (\(Int((megabytes / max(seconds, 0.001)).rounded())) MB/s uncompressed).")
    }
}

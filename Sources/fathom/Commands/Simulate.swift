import ArgumentParser
import FathomCore

/// `fathom simulate`: writes a deterministic incident scenario with known answers.
struct Simulate: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "simulate",
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

    @Option(name: .long, help: ArgumentHelp(
        "A preset traffic shape: 'default' or 'high-cardinality' (20,000 client addresses, flat volumes, 55 % unique inputs, 16 % benign prompts with trigger words, six models, 90 % of everyday prompts and responses new text). The options below override it.",
        valueName: "shape"))
    var shape: String = "default"

    @Option(name: .long, help: "Distinct background client addresses (default: 320 + scale / 50,000, at most 720).")
    var clients: Int?

    @Option(name: .long, help: "Zipf exponent of the clients' volumes (1.07 heavy-tailed, 0.5 nearly flat).")
    var clientSkew: Double?

    @Option(name: .long, help: "Share of model-API request bodies that are new (the rest repeat common inputs), 0 to 1.")
    var uniqueInputs: Double?

    @Option(name: .long, help: "Share of benign LLM prompts that use trigger words harmlessly, 0 to 0.9.")
    var triggerShare: Double?

    @Option(name: .long, help: "Models served through the gateway, 4 to 12 (the ones past four log every decision).")
    var models: Int?

    @Option(name: .long, help: "LLM gateway exchanges per background inference row.")
    var llmShare: Double?

    @Option(name: .long, help: "Share of everyday LLM prompts and of responses that are new text instead of stock text, 0 to 1.")
    var uniquePrompts: Double?

    @Flag(name: .long, help: "The evidence of a team without decision logs or a model registry: no predictions/ and no registry/; the deploy pipeline logs the rollout and the rollback, and fathom-case.yaml names the compromised model and version.")
    var noDecisionLogs = false

    func trafficShape() throws -> TrafficShape {
        var result: TrafficShape
        switch shape {
        case "default": result = TrafficShape()
        case "high-cardinality": result = TrafficShape.highCardinality()
        default: throw ValidationError("--shape must be 'default' or 'high-cardinality', got '\(shape)'.")
        }
        if let clients { result.clients = clients }
        if let clientSkew { result.clientSkew = clientSkew }
        if let uniqueInputs { result.uniqueInputs = uniqueInputs }
        if let triggerShare { result.triggerShare = triggerShare }
        if let models { result.models = models }
        if let llmShare { result.llmShare = llmShare }
        if let uniquePrompts { result.uniquePrompts = uniquePrompts }
        return result
    }

    func validate() throws {
        guard ScenarioTime.parseDate(start) != nil else {
            throw ValidationError("--start must be a date written YYYY-MM-DD, got '\(start)'.")
        }
        let problems = try request(start: 0).problems
        if let first = problems.first { throw ValidationError(first) }
    }

    func request(start midnight: Int64) throws -> SimulationRequest {
        SimulationRequest(outputDirectory: out, seed: seed, scale: scale, days: days, start: midnight,
                          isBundle: bundle, threads: threads, shape: try trafficShape(), withoutDecisionLogs: noDecisionLogs)
    }

    func run() throws {
        guard let midnight = ScenarioTime.parseDate(start) else {
            throw ValidationError("--start must be a date written YYYY-MM-DD, got '\(start)'.")
        }
        let clock = ContinuousClock()
        let began = clock.now
        let summary = try Simulator.run(try request(start: midnight))
        let elapsed = clock.now - began
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let megabytes = Double(summary.totalUncompressedBytes) / 1_000_000
        print("Wrote \(summary.files.count) files (\(summary.totalRecords) records, \(Int(megabytes.rounded())) MB uncompressed, \(summary.totalBytes / 1_000_000) MB on disk) to \(summary.outputDirectory)\(summary.bundle == nil ? "" : " as bundle.tar.zst").")
        print("Known answers: \(summary.expectedPath)")
        print("Took \((seconds * 10).rounded() / 10) s (\(Int((megabytes / max(seconds, 0.001)).rounded())) MB/s uncompressed).")
    }
}

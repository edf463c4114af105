import ArgumentParser
import FathomCore

extension Severity: ExpressibleByArgument {}

struct ScanArtifacts: ParsableCommand {
    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json, sarif
    }

    static let configuration = CommandConfiguration(
        commandName: "scan-artifacts",
        abstract: "Scan model artifacts for pickles that import code-executing globals, without loading them.",
        discussion: """
        Finds every pickle by content, whatever the file is called: pickle files of protocols 0-5 \
        (several back to back too), every zip member (PyTorch .pt/.pth/.bin, .npz, stored or \
        compressed, zips inside zips), gzip/bzip2/xz/.lzma/zlib/zstd wrappers, NumPy .npy object \
        arrays and joblib files. Each global a pickle imports is judged by the policy: allowlisted \
        reconstructors (PyTorch, NumPy, scikit-learn, XGBoost, LightGBM, collections) are not \
        reported; globals that can execute code (os.system, builtins.eval, subprocess, runpy, \
        cProfile.run, torch.load, ...) are critical; file, reflection and call-composing gadgets are \
        high or medium; anything else is an unknown import (low). --policy FILE adds rules to the \
        built-in policy (the same JSON format; --print-policy shows it). With --registry-hashes, \
        files whose SHA-256 differs from the registry's are reported too (critical).

        Exit status: 0 = no finding at or above the --fail-on level (default high; lower findings \
        are listed); 5 = a finding at or above it (with the default: a critical code-execution \
        import, a high gadget or obfuscated import, or a hash mismatch); 2 = none, but some \
        content was unreadable, malformed, or not inspected (too deep, refused as a bomb, \
        encrypted); 64 = usage error; 1 = the directory, the registry or the policy file could \
        not be used.
        """
    )

    @Argument(help: "The directory of model artifacts.")
    var directory: String?

    @Option(help: "A JSON or CSV file of SHA-256 values recorded by the model registry.")
    var registryHashes: String?

    @Option(help: "A JSON policy file whose rules extend the built-in pickle policy.")
    var policy: String?

    @Option(help: "The lowest severity that fails the scan: critical, high, medium or low.")
    var failOn: Severity = .high

    @Option(help: "Output format: text, json or sarif (SARIF 2.1.0).")
    var format: Format = .text

    @Flag(help: "Print the report as JSON (the same as --format json).")
    var json = false

    @Flag(help: "Print the built-in pickle policy (JSON) and exit.")
    var printPolicy = false

    func validate() throws {
        if failOn == .info { throw ValidationError("--fail-on info would fail on allowlisted imports; use low or above.") }
        if !printPolicy, directory == nil { throw ValidationError("Missing expected argument '<directory>'.") }
    }

    func run() throws {
        if printPolicy {
            print(PicklePolicy.builtInJSON, terminator: "")
            return
        }
        guard let directory else { return }
        let registry = try registryHashes.map { path throws(IntegrityError) in try RegistryHashes.load(path: path) }
        let policy = try PicklePolicy.load(extending: self.policy)
        // Bytes and files scanned, the rate and the ETA, on stderr when it is a terminal.
        let line = ProgressLine()
        let show: @Sendable (ProgressSnapshot) -> Void = { line.update($0.line) }
        let progress = standardErrorIsTerminal && !json ? show : nil
        defer { line.clear() }
        let report = try ArtifactScanner.scan(root: directory, registry: registry,
                                              options: ArtifactScanOptions(policy: policy, failOn: failOn), progress: progress)
        line.clear()
        switch json ? .json : format {
        case .json:
            print(try IntegrityJSON.encode(report))
        case .sarif:
            print(try ArtifactSARIF.encode(report))
        case .text:
            print("Scanned \(report.artifacts.count) files under \(Output.safe(report.root)) (failing at \(report.failOn.rawValue) and above).")
            Output.printFindings(report.findings)
            for entry in report.registryEntriesNotFound {
                print("NOTE\tregistry entry not found under the directory: \(Output.safe(entry.label))")
            }
        }
        try Output.exit(report.outcome)
    }
}

import FathomStore
import Foundation
import Yams
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// What `fathom sweep` watches and how it reports, from `--config sweep.yaml`.
///
/// ```yaml
/// store: /var/lib/fathom/store        # optional; --store overrides it
/// output: /var/lib/fathom/Reports     # digests go to <output>/sweeps/<date>/ (default Reports)
/// watch:                              # folders the platforms drop archives into
///   - path: /data/drops/gateway       # relative paths resolve against this file's folder
///     patterns:                       # per source kind, globs relative to the folder
///       inference: ["gateway-*.jsonl.zst", "nginx-*.log.gz"]
///   - path: /data/drops/storage
///     patterns:
///       storage: ["**/*.log.zst"]
///       any: ["**/*.json.gz"]         # `any`: the kind comes from the content
///   - path: /data/drops/misc          # no patterns: every file (minus .fathomignore)
/// results:                            # Spark job results (fathom spark-job), taken instead of
///   - /data/spark-results             # archives: a results folder, or a folder of them
/// lookback:                           # how far before the new data the detections look
///   default: 1d
///   pipeline: 14d                     # per source kind: the pipeline.burst baseline
/// rules:
///   settings: rule-settings.yaml      # thresholds and lists (see RuleSettings)
///   sigma: rules/                     # a folder of Sigma rules, run as well
///   only: [extraction.volume]         # optional: run only these rule ids
/// case:                               # case-file defaults for incident reports (CaseFile keys)
///   classification: CONFIDENTIAL
///   internal_networks: [10.0.0.0/8]
/// case_file: case.yaml                # … or a case file (not both)
/// case_prefix: SWEEP                  # incident case ids: <prefix>-<date>
/// jobs: 2
/// follow_symlinks: false              # true: follow links out of the watched folders too
/// ```
///
/// A kind named in `patterns` is the source kind given to generic inputs (JSON Lines, CSV) matched
/// by its globs; formats with a fixed kind ignore it. A file matched by no glob of its folder is
/// not read. Durations are seconds or a number with `s`, `m`, `h` or `d`. `watch`, `results` or
/// both must name at least one folder.
public struct SweepConfig: Sendable, Equatable {
    /// One watched folder with its glob patterns per source kind.
    public struct Watch: Sendable, Equatable {
        public var path: String
        /// Kind (nil for `any`) and its globs, in the order written.
        public var patterns: [(kind: SourceKind?, globs: [String])]

        public init(path: String, patterns: [(kind: SourceKind?, globs: [String])] = []) {
            self.path = path
            self.patterns = patterns
        }

        public static func == (lhs: Watch, rhs: Watch) -> Bool {
            lhs.path == rhs.path && lhs.patterns.map(\.kind) == rhs.patterns.map(\.kind)
                && lhs.patterns.map(\.globs) == rhs.patterns.map(\.globs)
        }
    }

    public var store: String?
    public var output: String = "Reports"
    public var watches: [Watch] = []
    /// Folders of Spark job results (`fathom spark-job`): each a results folder (it has
    /// `manifest/`) or a folder whose subfolders are (one per night), taken in path order.
    public var results: [String] = []
    /// Look-back in seconds, the default and per source kind.
    public var lookbackSeconds: Int64 = 86_400
    public var lookbackByKind: [SourceKind: Int64] = [.pipeline: 14 * 86_400]
    public var settingsPath: String?
    public var sigmaDirectory: String?
    public var ruleIDs: [String] = []
    public var caseFile: CaseFile?
    public var casePrefix = "SWEEP"
    public var jobs = ProcessInfo.processInfo.activeProcessorCount
    /// Follow symbolic links that lead out of the watched folders (off: they are listed, not read).
    public var followsSymlinks = false
    /// SHA-256 of the configuration file's bytes (recorded with each sweep).
    public var hash = ""

    public init() {}

    /// The look-back of rules that read `kind`.
    public func lookback(for kind: SourceKind) -> Int64 { lookbackByKind[kind] ?? lookbackSeconds }

    /// Loads a configuration file; relative paths in it resolve against its folder.
    public static func load(path: String) throws(SweepError) -> SweepConfig {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .config(path: path, line: 0, detail: "cannot read the file")
        }
        let folder = (InputDiscovery.absolute(path, cwd: FileManager.default.currentDirectoryPath) as NSString)
            .deletingLastPathComponent
        var config = try SweepConfig(yaml: String(decoding: data, as: UTF8.self), origin: path, folder: folder)
        var hasher = SHA256Stream()
        data.withByteView { hasher.update($0) }
        config.hash = hasher.finalize()
        return config
    }

    /// Parses a configuration. `folder` is where relative paths resolve.
    public init(yaml: String, origin: String, folder: String) throws(SweepError) {
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw .config(path: origin, line: 0, detail: "not valid YAML: \(error)")
        }
        guard let root = node?.mapping else {
            throw .config(path: origin, line: 0, detail: "expected a mapping at the top level")
        }
        func line(_ node: Node) -> Int { node.mark?.line ?? 0 }
        func fail(_ node: Node, _ detail: String) -> SweepError { .config(path: origin, line: line(node), detail: detail) }
        func resolve(_ path: String) -> String {
            InputDiscovery.absolute(path, cwd: folder)
        }
        func text(_ node: Node, _ name: String) throws(SweepError) -> String {
            guard let value = node.string, !value.isEmpty else { throw fail(node, "'\(name)' must be a text") }
            return value
        }
        func strings(_ node: Node, _ name: String) throws(SweepError) -> [String] {
            if let value = node.string { return [value] }
            guard let items = node.sequence else { throw fail(node, "'\(name)' must be a list of texts") }
            var result: [String] = []
            for item in items {
                guard let value = item.string else { throw fail(item, "'\(name)' must be a list of texts") }
                result.append(value)
            }
            return result
        }
        func duration(_ node: Node, _ name: String) throws(SweepError) -> Int64 {
            guard let value = node.string, let seconds = RuleSettings.seconds(value), seconds >= 0 else {
                throw fail(node, "'\(name)' must be a duration such as 3600, 12h or 14d")
            }
            return seconds
        }
        var caseNode: Node?
        var caseFilePath: String?
        for (keyNode, value) in root {
            let key = keyNode.string ?? ""
            switch key {
            case "store": store = resolve(try text(value, key))
            case "output": output = resolve(try text(value, key))
            case "watch":
                guard let items = value.sequence else { throw fail(value, "'watch' must be a list of folders") }
                for item in items {
                    if let path = item.string {
                        watches.append(Watch(path: resolve(path)))
                        continue
                    }
                    guard let entry = item.mapping, let pathNode = entry["path"] else {
                        throw fail(item, "each 'watch' entry needs a 'path'")
                    }
                    var watch = Watch(path: resolve(try text(pathNode, "path")))
                    for (name, _) in entry where name.string != "path" && name.string != "patterns" {
                        throw fail(name, "unknown key '\(name.string ?? "")' in a 'watch' entry (expected path, patterns)")
                    }
                    if let patterns = entry["patterns"] {
                        if patterns.sequence != nil {
                            watch.patterns.append((nil, try strings(patterns, "patterns")))
                        } else if let byKind = patterns.mapping {
                            for (kindNode, globs) in byKind {
                                let name = kindNode.string ?? ""
                                if name == "any" {
                                    watch.patterns.append((nil, try strings(globs, "patterns.any")))
                                } else if let kind = SourceKind(rawValue: name) {
                                    watch.patterns.append((kind, try strings(globs, "patterns.\(name)")))
                                } else {
                                    throw fail(kindNode, "unknown source kind '\(name)' (expected any, "
                                        + SourceKind.allCases.map(\.rawValue).joined(separator: ", ") + ")")
                                }
                            }
                        } else {
                            throw fail(patterns, "'patterns' must map source kinds to lists of globs")
                        }
                    }
                    watches.append(watch)
                }
            case "results":
                for path in try strings(value, key) { results.append(resolve(path)) }
            case "lookback":
                if value.string != nil {
                    lookbackSeconds = try duration(value, key)
                    continue
                }
                guard let entries = value.mapping else { throw fail(value, "'lookback' must be a duration or a mapping") }
                for (kindNode, amount) in entries {
                    let name = kindNode.string ?? ""
                    if name == "default" {
                        lookbackSeconds = try duration(amount, "lookback.default")
                    } else if let kind = SourceKind(rawValue: name) {
                        lookbackByKind[kind] = try duration(amount, "lookback.\(name)")
                    } else {
                        throw fail(kindNode, "unknown source kind '\(name)' in 'lookback'")
                    }
                }
            case "rules":
                guard let entries = value.mapping else { throw fail(value, "'rules' must be a mapping") }
                for (nameNode, entry) in entries {
                    switch nameNode.string ?? "" {
                    case "settings": settingsPath = resolve(try text(entry, "rules.settings"))
                    case "sigma": sigmaDirectory = resolve(try text(entry, "rules.sigma"))
                    case "only": ruleIDs = try strings(entry, "rules.only")
                    default: throw fail(nameNode, "unknown key '\(nameNode.string ?? "")' in 'rules' (expected settings, sigma, only)")
                    }
                }
            case "case": caseNode = value
            case "case_file": caseFilePath = resolve(try text(value, key))
            case "case_prefix":
                casePrefix = CaseIdentifier.safe(try text(value, key))
            case "jobs":
                guard let number = value.int, number >= 1 else { throw fail(value, "'jobs' must be a whole number ≥ 1") }
                jobs = number
            case "follow_symlinks":
                guard let flag = value.bool else { throw fail(value, "'follow_symlinks' must be true or false") }
                followsSymlinks = flag
            default:
                throw fail(keyNode, "unknown key '\(key)'")
            }
        }
        if watches.isEmpty, results.isEmpty {
            throw .config(path: origin, line: 0, detail: "'watch' or 'results' must name at least one folder")
        }
        if caseNode != nil, caseFilePath != nil {
            throw .config(path: origin, line: 0, detail: "give either 'case' or 'case_file', not both")
        }
        do throws(AnalysisError) {
            if let caseFilePath { caseFile = try CaseFile.load(path: caseFilePath) }
            if let caseNode {
                let yaml: String
                do { yaml = try Yams.serialize(node: caseNode) } catch {
                    throw AnalysisError.caseFile(path: origin, detail: "'case' cannot be read: \(error)")
                }
                var file = try CaseFile(yaml: yaml, origin: origin + " (case)")
                file.origin = folder + "/" + ((origin as NSString).lastPathComponent)
                caseFile = file
            }
        } catch {
            throw .config(path: origin, line: caseNode.map(line) ?? 0, detail: error.description)
        }
    }
}

/// Errors of the sweep.
public enum SweepError: Error, Sendable, CustomStringConvertible {
    case config(path: String, line: Int, detail: String)
    case ingest(IngestError)
    case detect(String)
    case analysis(AnalysisError)
    case output(path: String, detail: String)
    /// A Spark results folder cannot be read (missing parts, malformed lines, another spec version).
    case results(String)

    public var description: String {
        switch self {
        case let .config(path, line, detail):
            "Sweep configuration '\(path)'" + (line > 0 ? ", line \(line)" : "") + ": \(detail)."
        case let .ingest(error): error.description
        case let .detect(detail): detail
        case let .analysis(error): error.description
        case let .output(path, detail): "Cannot write '\(path)': \(detail)."
        case let .results(detail): detail
        }
    }
}

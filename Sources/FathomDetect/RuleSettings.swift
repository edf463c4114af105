import Foundation
import Yams
import FathomStore
import FathomSupport
import FathomCatalog

/// The tunable parts of the built-in rules. The defaults are the playbook's; a YAML file given with
/// `--settings FILE` overrides any of them.
///
/// ```yaml
/// extraction:
///   endpoints: [/predict, /inference, /completions]   # path contains one (case-insensitive)
///   bucket: 1h                  # fixed UTC bucket of extraction.volume
///   max_queries: 1000           # hit when QueryCount > this
///   max_distinct_inputs: 500    # … or DistinctInputs > this
///   window: 1h                  # extraction.sliding-window: window length …
///   slide: 5m                   # … and step
///   total_max_queries: 5000     # extraction.principal-total / network-total
///   total_max_distinct_inputs: 2500
///   daily_budget: 5000          # extraction.budget: queries per identity per UTC day
/// artifact:
///   pattern: 'model|weights|checkpoint|\.(pt|h5|onnx|safetensors|pkl)'
///   operations: [REST.GET.OBJECT, GetObject, GetBlob, …]
///   internal_networks: [10.0.0.0/8, 192.168.0.0/16]
/// injection:
///   phrases: [ignore previous instructions, …]
///   normalized_phrases: [forget all previous, …]   # prompt.injection-normalized: enough alone
///   context_phrases: [ignore previous, …]          # … only when corroborated
///   context_words: [instructions, rules, …]        # … the words that corroborate
///   model_threshold: 0.586      # prompt.injection-model; default: the shipped model's threshold
/// pipeline:
///   actions: [retrain, deploy, modify_data, update_config]
///   bucket: 1d
///   sigmas: 2
/// network:
///   internal: [10.0.0.0/8, 172.16.0.0/12, …]        # the wider internal set of beyond-playbook rules
/// ```
/// Durations are seconds or a number with `s`, `m`, `h` or `d`.
public struct RuleSettings: Sendable, Equatable {
    public var endpointPatterns = ["/predict", "/inference", "/completions"]
    public var extractionBucketSeconds: Int64 = 3600
    public var maxQueries: Int64 = 1000
    public var maxDistinctInputs: Int64 = 500
    public var slidingWindowSeconds: Int64 = 3600
    public var slideSeconds: Int64 = 300
    public var totalMaxQueries: Int64 = 5000
    public var totalMaxDistinctInputs: Int64 = 2500
    public var dailyBudget: Int64 = 5000

    public var artifactPattern = #"model|weights|checkpoint|\.(pt|h5|onnx|safetensors|pkl)"#
    /// Object reads, writes and deletes of S3 server access logs, CloudTrail, Azure and GCS.
    public var artifactOperations = [
        "REST.GET.OBJECT", "REST.PUT.OBJECT", "REST.DELETE.OBJECT",
        "GetObject", "PutObject", "DeleteObject",
        "GetBlob", "PutBlob", "DeleteBlob",
        "storage.objects.get", "storage.objects.create", "storage.objects.delete",
    ]
    public var artifactInternalNetworks = ["10.0.0.0/8", "192.168.0.0/16"]

    public var injectionPhrases = [
        "ignore previous instructions", "ignore above", "system prompt", "you are now", "disregard", "bypass",
        "jailbreak", "DAN mode", "developer mode", "reveal your instructions",
    ]
    /// The phrase list of `prompt.injection-normalized`, matched on word boundaries after
    /// normalisation: each of these is enough on its own. Single words with innocent senses
    /// ("disregard", "bypass") appear only in context.
    public var normalizedPhrases = [
        "ignore previous instructions", "ignore all previous", "ignore all prior",
        "ignore prior instructions", "ignore above",
        "ignore your instructions", "ignore all instructions", "ignore your guidelines",
        "ignore safety", "ignore your programming", "forget all previous",
        "forget your instructions", "forget everything", "disregard all previous",
        "disregard any previous", "disregard prior",
        "disregard all prior", "bypass the filter", "bypass safety", "bypass content", "bypass restrictions",
        "bypass the rules", "you are now dan", "you are now an unrestricted",
        "jailbreak mode", "jailbreak prompt", "dan mode",
        "developer mode enabled", "developer mode output", "do anything now", "act as dan", "act as an unrestricted", "act as if you have no",
        "pretend to be an unrestricted",
        "new instructions:", "new instruction:", "print your system prompt", "show your system prompt",
        "reveal your system prompt", "repeat your system prompt", "what is your system prompt",
        "output your system prompt", "reveal your instructions", "repeat your instructions", "print your instructions",
        "show me your instructions", "output your initial",
        "your initial instructions",
        "evil confidant", "reveal the password", "what is the password", "tell me the password", "the secret password",
        "above instructions", "previous instructions", "prior instructions", "above prompt",
    ]
    /// Phrases of `prompt.injection-normalized` that ordinary requests use too ("ignore previous
    /// transactions", "pretend you are a customer", "no restrictions on withdrawals"): one counts
    /// only when something corroborates it: a phrase of ``normalizedPhrases``, a second phrase of
    /// this list, a disguise (found only after normalisation), or a word of ``injectionContextWords``
    /// elsewhere in the prompt.
    public var injectionContextPhrases = [
        "ignore previous", "ignore the previous", "ignore any previous", "ignore the above", "ignore the rules",
        "ignore all rules", "forget previous", "forget all your", "disregard previous", "disregard the above",
        "disregard your", "bypass your", "bypass all", "you are now in", "you are now free", "from now on you are",
        "jailbroken", "in developer mode", "pretend you are", "roleplay as", "override your", "override previous",
        "repeat the text above", "repeat the words above", "without any restrictions", "no restrictions",
        "stay in character", "instead print", "instead say",
    ]
    /// The words that corroborate a context phrase of `prompt.injection-normalized`: what an
    /// injection or a jailbreak is after (instructions, rules, filters, secrets) and how it talks
    /// about the model.
    public var injectionContextWords = [
        "instructions", "instruction", "directions", "directives", "directive", "rules", "guidelines", "guidance",
        "prompt", "prompts", "programming", "policy", "policies", "restrictions", "restriction", "limitations",
        "limits", "constraints", "filters", "filter", "safety", "safeguards", "guardrails", "ethics", "ethical",
        "moral", "morals", "morality", "censorship", "censored", "uncensored", "unrestricted", "unfiltered", "amoral",
        "illegal", "unethical", "immoral", "harmful", "explicit", "evil", "offensive", "password", "secret",
        "jailbreak", "jailbroken", "dan", "openai", "chatgpt", "gpt", "ai",
    ]

    /// The trained injection detector's decision threshold; nil: the model's own (chosen on its
    /// validation split).
    public var modelThreshold: Double? = nil

    public var pipelineActions = ["retrain", "deploy", "modify_data", "update_config"]
    public var pipelineBucketSeconds: Int64 = 86_400
    public var pipelineSigmas: Double = 2

    public var internalNetworks = [
        "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8", "169.254.0.0/16",
        "::1/128", "fc00::/7", "fe80::/10",
    ]

    public init() {}

    /// The settings of a YAML file; `origin` names it in errors.
    public init(yaml: String, origin: String) throws(DetectError) {
        self.init()
        let root: Node?
        do { root = try Yams.compose(yaml: yaml) } catch {
            throw .settings(path: origin, line: 0, detail: "not valid YAML: \(error)")
        }
        guard let root else { return }
        guard let sections = root.mapping else {
            throw .settings(path: origin, line: RuleSettings.line(root), detail: "expected a mapping at the top level")
        }
        for (sectionKey, section) in sections {
            let sectionName = sectionKey.string ?? ""
            guard let entries = section.mapping else {
                throw .settings(path: origin, line: RuleSettings.line(section), detail: "'\(sectionName)' must be a mapping")
            }
            for (key, value) in entries {
                try apply(section: sectionName, key: key.string ?? "", value: value, origin: origin)
            }
        }
        if slideSeconds > slidingWindowSeconds {
            throw .settings(path: origin, line: 0, detail: "'extraction.slide' must not exceed 'extraction.window'")
        }
    }

    /// Loads a settings file.
    public static func load(path: String) throws(DetectError) -> RuleSettings {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .settings(path: path, line: 0, detail: "cannot read the file")
        }
        return try RuleSettings(yaml: String(decoding: data, as: UTF8.self), origin: path)
    }

    package static func line(_ node: Node) -> Int { node.mark?.line ?? 0 }

    private mutating func apply(section: String, key: String, value: Node, origin: String) throws(DetectError) {
        let line = RuleSettings.line(value)
        func strings() throws(DetectError) -> [String] {
            if let text = value.string { return [text] }
            guard let items = value.sequence else {
                throw .settings(path: origin, line: line, detail: "'\(section).\(key)' must be a list of strings")
            }
            var result: [String] = []
            for item in items {
                guard let text = item.string else {
                    throw .settings(path: origin, line: RuleSettings.line(item), detail: "'\(section).\(key)' must be a list of strings")
                }
                result.append(text)
            }
            return result
        }
        func count() throws(DetectError) -> Int64 {
            guard let text = value.string, let number = Int64(text), number >= 0 else {
                throw .settings(path: origin, line: line, detail: "'\(section).\(key)' must be a whole number ≥ 0")
            }
            return number
        }
        func duration() throws(DetectError) -> Int64 {
            guard let text = value.string, let seconds = RuleSettings.seconds(text), seconds > 0 else {
                throw .settings(path: origin, line: line, detail: "'\(section).\(key)' must be a duration such as 3600, 5m, 1h or 1d")
            }
            return seconds
        }
        func networks() throws(DetectError) -> [String] {
            let list = try strings()
            for item in list where CIDR(item) == nil {
                throw .settings(path: origin, line: line, detail: "'\(item)' in '\(section).\(key)' is not a CIDR block")
            }
            return list
        }
        switch (section, key) {
        case ("extraction", "endpoints"): endpointPatterns = try strings()
        case ("extraction", "bucket"): extractionBucketSeconds = try duration()
        case ("extraction", "max_queries"): maxQueries = try count()
        case ("extraction", "max_distinct_inputs"): maxDistinctInputs = try count()
        case ("extraction", "window"): slidingWindowSeconds = try duration()
        case ("extraction", "slide"): slideSeconds = try duration()
        case ("extraction", "total_max_queries"): totalMaxQueries = try count()
        case ("extraction", "total_max_distinct_inputs"): totalMaxDistinctInputs = try count()
        case ("extraction", "daily_budget"): dailyBudget = try count()
        case ("artifact", "pattern"):
            guard let text = value.string, TextPattern(regex: text) != nil else {
                throw .settings(path: origin, line: line, detail: "'artifact.pattern' is not a valid regular expression")
            }
            artifactPattern = text
        case ("artifact", "operations"): artifactOperations = try strings()
        case ("artifact", "internal_networks"): artifactInternalNetworks = try networks()
        case ("injection", "phrases"): injectionPhrases = try strings()
        case ("injection", "normalized_phrases"): normalizedPhrases = try strings()
        case ("injection", "context_phrases"): injectionContextPhrases = try strings()
        case ("injection", "context_words"): injectionContextWords = try strings()
        case ("injection", "model_threshold"):
            guard let text = value.string, let number = Double(text), number.isFinite, (0...1).contains(number) else {
                throw .settings(path: origin, line: line, detail: "'injection.model_threshold' must be a number from 0 to 1")
            }
            modelThreshold = number
        case ("pipeline", "actions"): pipelineActions = try strings()
        case ("pipeline", "bucket"): pipelineBucketSeconds = try duration()
        case ("pipeline", "sigmas"):
            guard let text = value.string, let number = Double(text), number.isFinite else {
                throw .settings(path: origin, line: line, detail: "'pipeline.sigmas' must be a number")
            }
            pipelineSigmas = number
        case ("network", "internal"): internalNetworks = try networks()
        default:
            throw .settings(path: origin, line: line, detail: "unknown setting '\(section).\(key)'")
        }
    }

    /// The longest duration a rule or a sweep takes: 100 years (times are nanoseconds in Int64).
    package static let maxDurationSeconds: Int64 = 100 * 366 * 86_400

    /// Seconds of a duration: `90`, `30s`, `5m`, `1h`, `1d`; nil for anything else, a negative
    /// duration or one longer than ``maxDurationSeconds`` (found by the fuzzer: a timespan of
    /// `99999999999999999999d` overflowed).
    package static func seconds(_ text: String) -> Int64? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        let units: [Character: Int64] = ["s": 1, "m": 60, "h": 3600, "d": 86_400]
        var number = trimmed
        var unit: Int64 = 1
        if let last = trimmed.last, let found = units[last] {
            number = String(trimmed.dropLast())
            unit = found
        }
        guard let value = Int64(number), value >= 0 else { return nil }
        let (seconds, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow, seconds <= maxDurationSeconds else { return nil }
        return seconds
    }

    /// A readable duration: `1h`, `5m`, `1d`, `90s`.
    package static func durationText(_ seconds: Int64) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}

/// Errors of the detection layer: settings files, rule files, scans.
public enum DetectError: Error, Sendable, CustomStringConvertible {
    case settings(path: String, line: Int, detail: String)
    case scan(String)
    case unknownRule(String)
    /// The injection detector's model file is malformed.
    case model(detail: String)

    public var description: String {
        switch self {
        case let .settings(path, line, detail):
            "Cannot use settings file '\(path)'" + (line > 0 ? ", line \(line)" : "") + ": \(detail)."
        case let .scan(detail): detail
        case let .unknownRule(id): "No rule has the id '\(id)'; 'fathom rules list' lists them."
        case let .model(detail): "Cannot load the prompt-injection model: \(detail)."
        }
    }
}

/// One problem in a user rule file, with its place and, when known, the rule it is in.
public struct RuleProblem: Sendable, Equatable, CustomStringConvertible, Codable {
    public var file: String
    public var line: Int
    /// The rule's id (its `name`, Sigma `id` or file name), nil when the file holds no rule yet.
    public var rule: String?
    public var message: String

    public init(file: String, line: Int, rule: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.rule = rule
        self.message = message
    }

    /// One line: `file:line: rule 'id': message`, the message's own line breaks (a YAML parser's
    /// error spans several) joined with spaces.
    public var description: String {
        let text = message.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }.joined(separator: " ")
        return "\(file):\(line): " + (rule.map { "rule '\($0)': " } ?? "") + text
    }
}

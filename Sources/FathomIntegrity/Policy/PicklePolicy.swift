import Foundation
import FathomStore
import FathomSupport

/// What `fathom scan-artifacts` makes of each global (`module.name`) a pickle imports: allowlisted
/// reconstructors (not reported), a denylist of globals that can execute code (critical) or reach
/// files and reflection (high, medium), and everything else an "unknown import" of a lower level a
/// gate can choose to accept.
///
/// The policy is data: `Policy/pickle-policy.json` in the sources (compiled in, see
/// ``builtInJSON``), extended by a user's file of the same shape (`--policy FILE`). A rule names
/// modules (and their submodules when `submodules` is true) and names — exact, or patterns in which
/// `*` and `?` match within one dotted part and `[A-Z]` is a character class.
///
/// The most specific rule wins: a longer module over a shorter one, an exact name over a pattern,
/// a pattern over `*`; at a tie a user rule wins over a built-in one, then the more severe. Names
/// with dots (protocol 4 resolves `name` as an attribute path) are judged at every split of the
/// path, and the most severe verdict stands; a path through a dunder attribute or a denylisted
/// module or builtin name is at least high.
public struct PicklePolicy: Sendable {
    /// What a rule says of the globals it matches.
    public enum Verdict: String, Codable, Sendable, Comparable, CaseIterable {
        case safe, low, medium, high, critical

        public static func < (lhs: Self, rhs: Self) -> Bool {
            allCases.firstIndex(of: lhs) ?? 0 < allCases.firstIndex(of: rhs) ?? 0
        }

        /// The finding severity of a reported import; nil when allowlisted.
        public var severity: Severity? {
            switch self {
            case .safe: nil
            case .low: .low
            case .medium: .medium
            case .high: .high
            case .critical: .critical
            }
        }
    }

    /// One rule of a policy file.
    public struct Rule: Codable, Sendable, Equatable {
        public var modules: [String]
        public var names: [String]
        public var verdict: Verdict
        public var reason: String
        public var submodules: Bool?
    }

    /// The file format (`format: fathom-pickle-policy`, `version: 1`).
    package struct Document: Codable, Sendable {
        package struct Unknown: Codable, Sendable {
            var verdict: Verdict
            var reason: String
        }

        package struct Python2Names: Codable, Sendable {
            var source: String?
            var modules: [String: String]?
            var names: [[String]]?
        }

        var format: String
        var version: Int
        var about: String?
        var unknown: Unknown?
        var python2Names: Python2Names?
        var rules: [Rule]
    }

    /// The verdict on one global, with the rule that gave it.
    public struct Judgement: Sendable, Equatable {
        public var verdict: Verdict
        public var reason: String
        /// `module:name-pattern` of the deciding rule, or `unknown`.
        public var rule: String
    }

    package struct IndexedRule: Sendable {
        var pattern: String
        var patternBytes: [UInt8]
        var rank: Int
        var isUser: Bool
        var submodules: Bool
        var verdict: Verdict
        var reason: String
    }

    /// Rules by module.
    package var rules: [String: [IndexedRule]] = [:]
    package var unknown = Judgement(verdict: .low, reason: "unknown import: in neither the allowlist nor the denylist", rule: "unknown")
    package var python2Modules: [String: String] = [:]
    package var python2Names: [String: (String, String)] = [:]
    /// Names that make an attribute path dangerous wherever they appear in it (`torch` +
    /// `os.system` is `os.system`, reached through the `os` that `torch/__init__.py` imports).
    package static let dangerousParts: Set<String> = [
        "os", "posix", "nt", "subprocess", "system", "popen", "Popen", "spawnv", "spawnl", "execv", "execl", "sys",
        "builtins", "__builtins__", "__builtin__", "eval", "exec", "execfile", "compile", "__import__", "getattr",
        "setattr", "globals", "importlib", "import_module", "ctypes", "pty", "runpy", "run_path", "run_module",
        "pickle", "_pickle", "marshal", "shutil", "rmtree", "socket", "check_output", "check_call", "getoutput",
        "getstatusoutput",
    ]
    /// The files the policy was read from (`built-in` first).
    public private(set) var sources: [String] = []

    /// The policy compiled into Fathom.
    public static func builtIn() throws(IntegrityError) -> PicklePolicy {
        var policy = PicklePolicy()
        try policy.add(json: Data(builtInJSON.utf8), origin: "built-in", isUser: false)
        return policy
    }

    /// The built-in policy extended by the user's file at `path`.
    public static func load(extending path: String?) throws(IntegrityError) -> PicklePolicy {
        var policy = try builtIn()
        if let path {
            guard let data = FileManager.default.contents(atPath: path) else {
                throw .unreadableInput(path: path, reason: "cannot be read.")
            }
            try policy.add(json: data, origin: path, isUser: true)
        }
        return policy
    }

    /// Adds the rules of a policy document.
    package mutating func add(json: Data, origin: String, isUser: Bool) throws(IntegrityError) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: json)
        } catch {
            throw .invalidInput(path: origin, reason: "is not a pickle policy (\(Self.describe(error))).")
        }
        guard document.format == "fathom-pickle-policy", document.version == 1 else {
            throw .invalidInput(path: origin, reason: "has format '\(document.format)' version \(document.version), expected 'fathom-pickle-policy' version 1.")
        }
        for (number, rule) in document.rules.enumerated() {
            guard !rule.modules.isEmpty, !rule.names.isEmpty else {
                throw .invalidInput(path: origin, reason: "rule \(number + 1) names no module or no name.")
            }
            for module in rule.modules {
                guard !module.isEmpty, !module.hasPrefix("."), !module.hasSuffix(".") else {
                    throw .invalidInput(path: origin, reason: "rule \(number + 1) has module '\(module)', expected a dotted module name.")
                }
                for name in rule.names {
                    let rank = name == "*" ? 0 : Self.isPattern(name) ? 1 : 2
                    rules[module, default: []].append(IndexedRule(
                        pattern: name, patternBytes: Array(name.utf8), rank: rank, isUser: isUser,
                        submodules: rule.submodules ?? false, verdict: rule.verdict, reason: rule.reason))
                }
            }
        }
        if let unknown = document.unknown {
            self.unknown = Judgement(verdict: unknown.verdict, reason: unknown.reason, rule: "unknown")
        }
        if let names = document.python2Names {
            for (old, new) in names.modules ?? [:] { python2Modules[old] = new }
            for (number, entry) in (names.names ?? []).enumerated() {
                guard entry.count == 4 else {
                    throw .invalidInput(path: origin, reason: "python2Names entry \(number + 1) has \(entry.count) fields, expected [module, name, new module, new name].")
                }
                python2Names[entry[0] + "\u{0}" + entry[1]] = (entry[2], entry[3])
            }
        }
        sources.append(origin)
    }

    private static func describe(_ error: any Error) -> String {
        switch error {
        case let DecodingError.keyNotFound(key, context):
            "missing '\(key.stringValue)' at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.typeMismatch(_, context), let DecodingError.valueNotFound(_, context):
            "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case let DecodingError.dataCorrupted(context):
            context.debugDescription
        default:
            "\(error)"
        }
    }

    /// What `Unpickler(fix_imports=True)` imports for a protocol 0–2 pickle's `module.name`, when it
    /// renames it (Python 2 names such as `__builtin__.xrange` → `builtins.range`).
    public func python3Name(module: String, name: String) -> (module: String, name: String)? {
        if let mapped = python2Names[module + "\u{0}" + name] { return mapped }
        if let mapped = python2Modules[module] { return (mapped, name) }
        return nil
    }

    /// The verdict on `module.name`.
    ///
    /// - Complexity: O(dots in the name × dots in the module × rules of those modules).
    public func judge(module: String, name: String) -> Judgement {
        var worst = judgeOne(module: module, name: name)
        let parts = name.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count > 1 else { return worst }
        // An attribute path: `os` + `path.os.system`, `torch` + `serialization.load`.
        for split in 1..<parts.count {
            let judgement = judgeOne(module: module + "." + parts[0..<split].joined(separator: "."),
                                     name: parts[split...].joined(separator: "."))
            if judgement.verdict > worst.verdict { worst = judgement }
        }
        for part in parts {
            if part.count > 4, part.hasPrefix("__"), part.hasSuffix("__"), worst.verdict < .high {
                worst = Judgement(verdict: .high, reason: "attribute path through '\(part)' reaches object internals", rule: "attribute-path")
            }
            if Self.dangerousParts.contains(part), worst.verdict < .critical {
                worst = Judgement(verdict: .critical, reason: "attribute path reaches '\(part)', which can execute code", rule: "attribute-path")
            }
        }
        return worst
    }

    private func judgeOne(module: String, name: String) -> Judgement {
        let nameBytes = Array(name.utf8)
        var best: (key: (Int, Int, Int, Int), judgement: Judgement)?
        var candidate = module
        var depth = module.split(separator: ".").count
        var isExactModule = true
        while true {
            for rule in rules[candidate] ?? [] where isExactModule || rule.submodules {
                guard rule.rank == 2 ? rule.pattern == name : Self.matches(rule.patternBytes, nameBytes) else { continue }
                let key = (depth, rule.rank, rule.isUser ? 1 : 0, Verdict.allCases.firstIndex(of: rule.verdict) ?? 0)
                if let current = best, key <= current.key { continue }
                best = (key, Judgement(verdict: rule.verdict, reason: rule.reason, rule: candidate + ":" + rule.pattern))
            }
            guard let dot = candidate.lastIndex(of: ".") else { break }
            candidate = String(candidate[..<dot])
            depth -= 1
            isExactModule = false
        }
        return best?.judgement ?? unknown
    }

    package static func isPattern(_ name: String) -> Bool { name.contains { "*?[".contains($0) } }

    /// Glob match where `*` and `?` never match a dot.
    package static func matches(_ pattern: [UInt8], _ text: [UInt8]) -> Bool {
        var p = 0, t = 0
        var star = -1, starText = 0
        let dot = UInt8(ascii: ".")
        while t < text.count {
            if p < pattern.count {
                let c = pattern[p]
                if c == UInt8(ascii: "*") {
                    star = p
                    starText = t
                    p += 1
                    continue
                }
                if c == UInt8(ascii: "?"), text[t] != dot {
                    p += 1; t += 1
                    continue
                }
                if c == UInt8(ascii: "["), let close = pattern[(p + 1)...].firstIndex(of: UInt8(ascii: "]")) {
                    if classMatches(pattern[(p + 1)..<close], text[t]) {
                        p = close + 1; t += 1
                        continue
                    }
                } else if c == text[t], c != UInt8(ascii: "?") {
                    p += 1; t += 1
                    continue
                }
            }
            // Backtrack: let the last star swallow one more byte, but never a dot.
            guard star >= 0, text[starText] != dot else { return false }
            starText += 1
            t = starText
            p = star + 1
        }
        while p < pattern.count, pattern[p] == UInt8(ascii: "*") { p += 1 }
        return p == pattern.count
    }

    private static func classMatches(_ set: ArraySlice<UInt8>, _ byte: UInt8) -> Bool {
        var index = set.startIndex
        while index < set.endIndex {
            let low = set[index]
            if index + 2 < set.endIndex, set[index + 1] == UInt8(ascii: "-") {
                if (low...set[index + 2]).contains(byte) { return true }
                index += 3
            } else {
                if low == byte { return true }
                index += 1
            }
        }
        return false
    }
}

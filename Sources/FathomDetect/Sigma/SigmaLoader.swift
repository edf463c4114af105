import Foundation
import Yams
import FathomStore
import FathomSupport
import FathomCatalog

/// The rules of a directory of Sigma files and every problem found in them.
public struct SigmaLoadResult: Sendable {
    public var rules: [SigmaRule]
    public var problems: [RuleProblem]
}

/// Loads and checks Sigma rule sets.
public enum SigmaLoader {
    /// Loads every `.yml`/`.yaml` file under `directory` (recursively, in path order), or the one
    /// file when `directory` is a file. Rules with problems are left out of `rules`.
    public static func load(directory: String) -> SigmaLoadResult {
        guard let status = try? FileStatus.following(path: directory) else {
            return SigmaLoadResult(rules: [], problems: [RuleProblem(file: directory, line: 0, message: "no such file or directory")])
        }
        var files: [String] = []
        if status.isDirectory {
            let enumerator = FileManager.default.enumerator(atPath: directory)
            while let relative = enumerator?.nextObject() as? String {
                if relative.hasSuffix(".yml") || relative.hasSuffix(".yaml") { files.append(directory + "/" + relative) }
            }
            files.sort()
        } else {
            files = [directory]
        }
        var sources: [(String, String)] = []
        var problems: [RuleProblem] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                problems.append(RuleProblem(file: file, line: 0, message: "cannot read the file"))
                continue
            }
            sources.append((file, String(decoding: data, as: UTF8.self)))
        }
        var result = load(sources: sources)
        result.problems = problems + result.problems
        return result
    }

    /// Loads rules from (file name, YAML text) pairs; correlations may refer to rules of any file.
    public static func load(sources: [(String, String)]) -> SigmaLoadResult {
        var rules: [SigmaRule] = []
        var problems: [RuleProblem] = []
        var filters: [SigmaFilter] = []
        var correlationLines: [Int: (String, Int)] = [:]
        for (file, text) in sources {
            var parser = SigmaParser(file: file)
            do {
                var index = 0
                var documents = try Yams.compose_all(yaml: text)
                while let document = documents.next() {
                    if let rule = parser.parse(document, index: index) {
                        if case .correlation = rule.body { correlationLines[rules.count] = (file, document.mark?.line ?? 1) }
                        rules.append(rule)
                    }
                    index += 1
                }
                if let error = documents.error { throw error }
            } catch {
                let line = (error as? YamlError).flatMap(SigmaLoader.line) ?? 1
                parser.problems.append(RuleProblem(file: file, line: line, message: "not valid YAML: \(error)"))
            }
            problems += parser.problems
            filters += parser.filters
        }
        // Filters: each ANDs its condition to the detections it names (by name, id or rule id).
        for filter in filters {
            for reference in filter.references {
                let targets = rules.indices.filter {
                    rules[$0].name == reference || rules[$0].sigmaID == reference || rules[$0].info.id == reference
                }
                if targets.isEmpty {
                    problems.append(RuleProblem(file: filter.file, line: filter.line, rule: filter.id,
                                                message: "filter refers to unknown rule '\(reference)'"))
                }
                for index in targets {
                    guard case let .detection(detection) = rules[index].body else {
                        problems.append(RuleProblem(file: filter.file, line: filter.line, rule: filter.id,
                                                    message: "filter of correlation rule '\(reference)' is not supported"))
                        continue
                    }
                    guard detection.source == filter.source else {
                        problems.append(RuleProblem(file: filter.file, line: filter.line, rule: filter.id,
                                                    message: "the filter's logsource (\(filter.source.name)) is not rule "
                                                        + "'\(reference)''s (\(detection.source.name))"))
                        continue
                    }
                    rules[index].body = .detection(filter.applied(to: detection))
                }
            }
        }
        // Resolve correlations: references by name or id, to detections only.
        var referenced: [Int: Bool] = [:]
        var resolved: [SigmaRule] = []
        var dropped = Set<Int>()
        for (index, rule) in rules.enumerated() {
            guard case var .correlation(correlation) = rule.body else { continue }
            let (file, line) = correlationLines[index] ?? (rule.info.origin, 1)
            var bases: [SigmaRule] = []
            var ok = true
            for reference in correlation.references {
                guard let target = rules.firstIndex(where: { $0.name == reference || $0.sigmaID == reference }) else {
                    problems.append(RuleProblem(file: file, line: line, rule: rule.info.id,
                                                message: "correlation refers to unknown rule '\(reference)'"))
                    ok = false
                    continue
                }
                guard case let .detection(detection) = rules[target].body else {
                    problems.append(RuleProblem(file: file, line: line, rule: rule.info.id,
                                                message: "correlation of correlation ('\(reference)') is not supported"))
                    ok = false
                    continue
                }
                // Fields are read as the detection's logsource reads them (web server names, a log's own names).
                for field in correlation.groupBy + (correlation.field.map { [$0] } ?? [])
                where detection.source.field(field) == nil {
                    problems.append(RuleProblem(file: file, line: line, rule: rule.info.id,
                                                message: "field '\(field)' is not a column of '\(detection.kind.rawValue)' (rule '\(reference)')"))
                    ok = false
                }
                bases.append(rules[target])
                referenced[target] = (referenced[target] ?? false) || correlation.generate
            }
            if !ok { dropped.insert(index); continue }
            correlation.rules = bases
            var updated = rule
            updated.body = .correlation(correlation)
            if let first = bases.first { updated.info.kind = first.info.kind }
            rules[index] = updated
        }
        for (index, rule) in rules.enumerated() where !dropped.contains(index) {
            var copy = rule
            if let generate = referenced[index] { copy.generatesHits = generate }
            resolved.append(copy)
        }
        // An id used twice, or by a built-in rule, would make hits ambiguous: the later rule is
        // left out (the first of a name stays).
        var seen: [String: String] = [:]
        var usable: [SigmaRule] = []
        for rule in resolved {
            if let other = seen[rule.info.id] {
                problems.append(RuleProblem(file: rule.info.origin, line: 1, rule: rule.info.id,
                                            message: "rule id '\(rule.info.id)' is also used in \(other)"))
                continue
            }
            if RuleCatalog.rule(rule.info.id) != nil {
                problems.append(RuleProblem(file: rule.info.origin, line: 1, rule: rule.info.id,
                                            message: "rule id '\(rule.info.id)' is the id of a built-in rule"))
                continue
            }
            seen[rule.info.id] = rule.info.origin
            usable.append(rule)
        }
        return SigmaLoadResult(rules: usable, problems: problems)
    }

    package static func line(_ error: YamlError) -> Int? {
        switch error {
        case let .scanner(_, _, mark, _), let .parser(_, _, mark, _), let .composer(_, _, mark, _): return mark.line
        default: return nil
        }
    }
}

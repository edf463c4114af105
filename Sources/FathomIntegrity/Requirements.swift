import Foundation
import FathomStore
import FathomSupport

/// One Python requirement read from a `requirements.txt` or `pip freeze` output.
public struct PythonRequirement: Codable, Sendable, Equatable {
    /// The name as written.
    public var name: String
    /// The PEP 503 normalised name (lower case, runs of `-`, `_`, `.` become one `-`).
    public var normalizedName: String
    /// The pinned version when the specifier is a single `==` or `===` without wildcard.
    public var version: String?
    /// The version specifier as written (`>=1.2,<2`), or the URL of a `name @ url` requirement.
    public var specifier: String?
    /// Pinned `--hash=sha256:` values, lower-case hex.
    public var sha256: [String]
    /// The file and 1-based line where the requirement starts.
    public var file: String
    public var line: Int
}

/// A requirements file parsed on its own (its `-r` includes not yet followed).
public struct ParsedRequirements: Sendable, Equatable {
    public var requirements: [PythonRequirement]
    /// `-r`/`--requirement` targets as written, with their line numbers.
    public var includes: [(path: String, line: Int)]
    /// Lines that could not be understood, as `line N: text`.
    public var problems: [String]

    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.requirements == rhs.requirements && lhs.problems == rhs.problems
            && lhs.includes.map(\.path) == rhs.includes.map(\.path) && lhs.includes.map(\.line) == rhs.includes.map(\.line)
    }
}

/// Reads pip requirement files (`requirements.txt`) and `pip freeze` output.
///
/// Handles line continuations (`\` at the end of a line), comments (`#` at the start of a line or
/// after whitespace), `-r`/`--requirement` includes, `-e`/`--editable` with `#egg=name`,
/// `--hash=sha256:…` pins, `name @ url` and `name==version`. Environment markers (after `;`)
/// are ignored; constraint files (`-c`) and index options are not dependencies and are skipped.
///
/// - Complexity: O(n) in the file size.
public enum RequirementsParser {
    /// PEP 503 normalisation: `re.sub(r"[-_.]+", "-", name).lower()`.
    public static func normalize(_ name: String) -> String {
        var out = ""
        var lastWasSeparator = false
        for character in name.lowercased() {
            if character == "-" || character == "_" || character == "." {
                if !lastWasSeparator { out.append("-") }
                lastWasSeparator = true
            } else {
                out.append(character)
                lastWasSeparator = false
            }
        }
        return out
    }

    /// Parses the text of one requirements file; `path` is recorded as the evidence file.
    public static func parse(text: String, path: String) -> ParsedRequirements {
        var result = ParsedRequirements(requirements: [], includes: [], problems: [])
        for (lineNumber, logical) in logicalLines(text) {
            let line = stripComment(logical).trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            var tokens = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
            guard let first = tokens.first else { continue }
            if let include = optionValue(first, tokens: tokens, short: "-r", long: "--requirement") {
                result.includes.append((include, lineNumber))
                continue
            }
            if optionValue(first, tokens: tokens, short: "-c", long: "--constraint") != nil { continue }
            if let editable = optionValue(first, tokens: tokens, short: "-e", long: "--editable") {
                if let egg = editable.range(of: "#egg=") {
                    let name = String(editable[egg.upperBound...].prefix { $0 != "&" && $0 != "[" })
                    if isValidName(name) {
                        result.requirements.append(PythonRequirement(
                            name: name, normalizedName: normalize(name), version: nil, specifier: editable,
                            sha256: [], file: path, line: lineNumber))
                        continue
                    }
                }
                result.problems.append("line \(lineNumber): editable requirement without #egg= name")
                continue
            }
            if first.hasPrefix("-") { continue }  // index and install options
            var hashes: [String] = []
            var specTokens: [String] = []
            var index = 0
            var inOptions = false
            while index < tokens.count {
                let token = tokens[index]
                if token.hasPrefix("--hash") {
                    inOptions = true
                    var value = token.hasPrefix("--hash=") ? String(token.dropFirst(7)) : ""
                    if value.isEmpty, index + 1 < tokens.count { index += 1; value = tokens[index] }
                    if value.lowercased().hasPrefix("sha256:") {
                        hashes.append(String(value.dropFirst(7)).lowercased())
                    }
                } else if token.hasPrefix("--") {
                    inOptions = true
                } else if !inOptions {
                    specTokens.append(token)
                }
                index += 1
            }
            tokens = specTokens
            let spec = tokens.joined(separator: " ")
            if var requirement = parseSpecifier(spec, path: path, line: lineNumber) {
                requirement.sha256 = hashes
                result.requirements.append(requirement)
            } else {
                result.problems.append("line \(lineNumber): not a requirement")
            }
        }
        return result
    }

    /// `name[extras] (specifier | @ url) [; marker]`.
    package static func parseSpecifier(_ text: String, path: String, line: Int) -> PythonRequirement? {
        var spec = Substring(text)
        if let marker = spec.firstIndex(of: ";") { spec = spec[..<marker] }
        spec = spec.drop { $0 == " " }
        let name = String(spec.prefix { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") })
        guard isValidName(name) else { return nil }
        var rest = spec.dropFirst(name.count).drop { $0 == " " }
        if rest.first == "[" {
            guard let close = rest.firstIndex(of: "]") else { return nil }
            rest = rest[rest.index(after: close)...].drop { $0 == " " }
        }
        var requirement = PythonRequirement(name: name, normalizedName: normalize(name), version: nil,
                                            specifier: nil, sha256: [], file: path, line: line)
        if rest.first == "@" {
            let url = rest.dropFirst().trimmingCharacters(in: .whitespaces)
            requirement.specifier = url.isEmpty ? nil : url
            return requirement
        }
        var specifier = rest.trimmingCharacters(in: .whitespaces)
        if specifier.hasPrefix("("), specifier.hasSuffix(")") { specifier = String(specifier.dropFirst().dropLast()) }
        guard specifier.isEmpty || "=<>!~".contains(specifier.first ?? " ") else { return nil }
        requirement.specifier = specifier.isEmpty ? nil : specifier
        let clauses = specifier.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        if clauses.count == 1, let clause = clauses.first {
            var version: String?
            if clause.hasPrefix("===") { version = String(clause.dropFirst(3)) }
            else if clause.hasPrefix("==") { version = String(clause.dropFirst(2)) }
            if let pinned = version?.trimmingCharacters(in: .whitespaces), !pinned.isEmpty, !pinned.contains("*") {
                requirement.version = pinned
            }
        }
        return requirement
    }

    package static func isValidName(_ name: String) -> Bool {
        guard let first = name.first, let last = name.last else { return false }
        return (first.isLetter || first.isNumber) && (last.isLetter || last.isNumber)
    }

    /// The value of `-x value`, `-xvalue`, `--long value` or `--long=value`, or nil when `first`
    /// is not this option.
    package static func optionValue(_ first: String, tokens: [String], short: String, long: String) -> String? {
        if first == short || first == long { return tokens.count > 1 ? tokens[1] : "" }
        if first.hasPrefix(long + "=") { return String(first.dropFirst(long.count + 1)) }
        if first.hasPrefix(short), !first.hasPrefix("--"), first.count > short.count { return String(first.dropFirst(short.count)) }
        return nil
    }

    /// Lines joined across trailing backslashes, each with the number of its first physical line.
    package static func logicalLines(_ text: String) -> [(Int, String)] {
        var result: [(Int, String)] = []
        var pending = ""
        var pendingStart = 0
        var number = 0
        for raw in text.split(separator: "\n", omittingEmptySubsequences: false) {
            number += 1
            var line = String(raw)
            if line.hasSuffix("\r") { line.removeLast() }
            if pending.isEmpty { pendingStart = number }
            if line.hasSuffix("\\") {
                pending += String(line.dropLast()) + " "
                continue
            }
            result.append((pendingStart, pending + line))
            pending = ""
        }
        if !pending.isEmpty { result.append((pendingStart, pending)) }
        return result
    }

    /// Removes a comment: `#` at the start of the line or preceded by whitespace (pip's rule).
    package static func stripComment(_ line: String) -> String {
        var previous: Character = " "
        for index in line.indices {
            if line[index] == "#", previous == " " || previous == "\t" { return String(line[..<index]) }
            previous = line[index]
        }
        return line
    }
}

/// A requirements file with its includes followed.
public struct RequirementsInventory: Sendable {
    /// The file the model is named after.
    public var path: String
    /// Every requirement, with the include chain that led to it (files after `path`).
    public var requirements: [(requirement: PythonRequirement, via: [String])]
    /// Every file read, `path` first.
    public var files: [String]
    public var problems: [String]

    /// Reads `path` and, recursively, the files it includes (relative to the including file).
    /// Include cycles and unreadable includes become problems, never a hang or a crash.
    public static func load(path: String) -> RequirementsInventory {
        var inventory = RequirementsInventory(path: path, requirements: [], files: [], problems: [])
        var visiting: Set<String> = []
        func visit(_ file: String, chain: [String]) {
            let key = URL(fileURLWithPath: file).standardizedFileURL.path
            guard !visiting.contains(key) else {
                inventory.problems.append("\(file): include cycle (\((chain + [file]).joined(separator: " → "))).")
                return
            }
            guard let data = FileManager.default.contents(atPath: file) else {
                inventory.problems.append("\(file): cannot be read.")
                return
            }
            visiting.insert(key)
            defer { visiting.remove(key) }
            inventory.files.append(file)
            let parsed = RequirementsParser.parse(text: String(decoding: data, as: UTF8.self), path: file)
            let via = chain.isEmpty ? [] : Array(chain.dropFirst()) + [file]
            inventory.requirements += parsed.requirements.map { ($0, via) }
            inventory.problems += parsed.problems.map { "\(file): \($0)" }
            let directory = (file as NSString).deletingLastPathComponent
            for include in parsed.includes {
                guard !include.path.isEmpty, !include.path.contains("://") else {
                    inventory.problems.append("\(file): line \(include.line): include '\(include.path)' is not a local file.")
                    continue
                }
                let target = include.path.hasPrefix("/") ? include.path
                    : (directory.isEmpty ? include.path : directory + "/" + include.path)
                visit(target, chain: chain + [file])
            }
        }
        visit(path, chain: [])
        return inventory
    }
}

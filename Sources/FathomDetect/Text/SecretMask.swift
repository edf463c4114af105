import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Masks secrets and payment data in text that came from logs, before it goes into a deliverable
/// (a report, `findings.json`, `analysis.json`, a rejected-record sample).
///
/// What is masked, and what is kept so a responder can still act (revoke the key, find the card):
///
/// | found | shown as |
/// |---|---|
/// | AWS access key id (`AKIA…`, `ASIA…`) | `AKIA************MPLE` (first and last 4) |
/// | GitHub, Slack, `sk-…` API tokens | type prefix, `****`, last 4 |
/// | private key block | its `-----BEGIN … PRIVATE KEY-----` header, then `[masked]` |
/// | `secret = …`, `password: …`, `token=…`, `aws_secret_access_key = …` and similar assignments | the name, then `[masked]` |
/// | `Bearer …`, JSON Web Tokens | `Bearer [masked]`, `eyJ…[masked JWT]` |
/// | card number (13–19 digits, Luhn-valid) | every digit but the last 4 as `*`, separators kept |
/// | US SSN, IBAN | all but the last 4 characters as `*` |
///
/// E-mail addresses and other personal data are not masked: the data-protection officer needs to
/// know whose data was exposed. Detection reuses ``SensitiveData``'s patterns (so what
/// `llm.sensitive-output` reports is what gets masked) plus the assignment, bearer and JWT patterns
/// here. Text with none of the cheap clues (long digit runs, key prefixes, secret-like words) is
/// returned as is without running a regular expression.
public enum SecretMask {
    public static let masked = "[masked]"

    /// `text` with its secrets and card numbers masked.
    public static func mask(_ text: String) -> String { mask(text, prefilter: true) }

    /// `prefilter: false` runs every pattern whatever the text (to test that the cheap scan never
    /// skips a text the patterns would change).
    ///
    /// A text the cheap scan lets through runs only the patterns whose own clues it holds
    /// (``SensitiveData/Detector/needs`` for the detectors, ``extraClues(_:)`` for the assignment,
    /// bearer and JWT patterns): a jailbreak prompt that says `key:` once ran all eleven regular
    /// expressions over its thousands of characters, half of a phrase rule's time on a log of
    /// attacks.
    package static func mask(_ text: String, prefilter: Bool) -> String {
        guard !prefilter || mightHoldSecrets(text) else { return text }
        let clues = prefilter ? SensitiveData.Clues(text) : nil
        let extras = prefilter ? text.withByteView { extraClues($0) } : nil
        let source = text as NSString
        let range = NSRange(location: 0, length: source.length)
        var replacements: [(NSRange, String)] = []
        for detector in SensitiveData.detectors where maskedCategories.contains(detector.category) && clues.map(detector.needs) ?? true {
            for match in detector.regex.matches(in: text, range: range) {
                let value = source.substring(with: match.range)
                guard detector.validate(value) else { continue }
                var span = match.range
                let replacement: String
                switch detector.category {
                case "aws_access_key": replacement = keepEnds(value, head: 4, tail: 4)
                case "github_token", "slack_token", "api_key": replacement = keepEnds(value, head: tokenPrefix(value), tail: 4)
                case "private_key":
                    // The header stays; the key body (to its END line, or the end of the text) goes.
                    let rest = NSRange(location: span.location + span.length, length: source.length - span.location - span.length)
                    let end = privateKeyEnd.firstMatch(in: text, range: rest)
                    span.length = (end.map { $0.range.location + $0.range.length } ?? source.length) - span.location
                    replacement = value + " " + masked
                default: replacement = keepLastDigits(value, 4)
                }
                replacements.append((span, replacement))
            }
        }
        for pattern in extraPatterns where extras?.allows(pattern.family) ?? true {
            for match in pattern.regex.matches(in: text, range: range) {
                let keep = match.numberOfRanges > 1 && match.range(at: 1).location != NSNotFound
                    ? source.substring(with: match.range(at: 1)) : ""
                replacements.append((match.range, keep + pattern.replacement))
            }
        }
        guard !replacements.isEmpty else { return text }
        // Apply from the end, skipping spans that overlap one already applied (the first found wins).
        replacements.sort { ($0.0.location, -$0.0.length) < ($1.0.location, -$1.0.length) }
        var kept: [(NSRange, String)] = []
        var end = 0
        for item in replacements where item.0.location >= end {
            kept.append(item)
            end = item.0.location + item.0.length
        }
        let result = NSMutableString(string: text)
        for (span, replacement) in kept.reversed() {
            result.replaceCharacters(in: span, with: replacement)
        }
        return result as String
    }

    /// The categories of ``SensitiveData`` that are masked (e-mail addresses and NINOs are not).
    package static let maskedCategories: Set<String> = [
        "aws_access_key", "github_token", "slack_token", "private_key", "api_key", "card_number", "us_ssn", "iban",
    ]

    private struct Pattern: @unchecked Sendable {
        let regex: NSRegularExpression
        /// Appended to capture group 1 (what stays).
        let replacement: String
        /// The clue every match holds (``ExtraClues``).
        let family: ExtraClues.Family
    }

    private static let extraPatterns: [Pattern] = [
        // name = value, name: value, "name": "value" — the value goes.
        (#"(?i)((?:aws_secret_access_key|aws_session_token|secret[_-]?access[_-]?key|client[_-]?secret|secret[_-]?key|secret|passw(?:or)?d|pwd|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|private[_-]?key|credentials?)["']?\s*[:=]\s*["']?)(?!\[masked\])[^\s"',;&<>]{4,}"#, masked, .assignment),
        (#"(?i)(bearer\s+)[A-Za-z0-9._~+/-]{12,}=*"#, masked, .bearer),
        (#"()eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"#, "eyJ…[masked JWT]", .jwt),
    ].compactMap { (pattern: String, replacement: String, family: ExtraClues.Family) in
        (try? NSRegularExpression(pattern: pattern)).map { Pattern(regex: $0, replacement: replacement, family: family) }
    }

    /// Which of the assignment, bearer and JWT patterns a text could match, by the clue words of
    /// ``mightHoldSecrets(_:)-(ByteView)``: an assignment word (`secret`, `passw`, `pwd`, `token`,
    /// `key`, `credential`) with a `:` or `=` soon after it, `bearer`, `eyJ` (all without case).
    package struct ExtraClues: Equatable {
        package enum Family { case assignment, bearer, jwt }
        package var assignment = false
        package var bearer = false
        package var jwt = false

        func allows(_ family: Family) -> Bool {
            switch family {
            case .assignment: assignment
            case .bearer: bearer
            case .jwt: jwt
            }
        }
    }

    /// ``ExtraClues`` of a text's UTF-8, in one pass over its bytes.
    package static func extraClues(_ bytes: ByteView) -> ExtraClues {
        let clues = Self.clues
        var found = ExtraClues()
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let first = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            for clue in clues[Int(first)] where matches(clue.word, in: bytes, at: index) {
                switch clue.word {
                case Self.bearerWord: found.bearer = true
                case Self.jwtWord: found.jwt = true
                default:
                    if clue.needsAssignment, !found.assignment, assignmentFollows(bytes, index + clue.word.count) {
                        found.assignment = true
                    }
                }
            }
        }
        return found
    }

    private static let bearerWord = Array("bearer".utf8)
    private static let jwtWord = Array("eyj".utf8)

    private static let privateKeyEnd = try! NSRegularExpression(pattern: #"-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----"#)

    /// Whether `text` could hold anything masked: a cheap scan, so the patterns run rarely.
    ///
    /// - Complexity: O(n) in the bytes, one pass, no allocation.
    package static func mightHoldSecrets(_ text: String) -> Bool {
        text.withByteView { mightHoldSecrets($0) }
    }

    /// ``mightHoldSecrets(_:)-(String)`` of a text's UTF-8.
    package static func mightHoldSecrets(_ bytes: ByteView) -> Bool {
        // The table in a local: read through the global's accessor at every byte, it costs a
        // `swift_once` check each time.
        let clues = Self.clues
        let pairs = Self.cluePairs
        do {
            // Card numbers are runs of 13 or more digits, SSNs 9 digits with dashes, with at most
            // spaces or dashes between them (an IP address, a timestamp or a 12-digit AWS account
            // id is not); IBANs start with two capital letters and two digits.
            var digits = 0
            var dashed = false
            for index in 0..<bytes.count {
                let byte = bytes[index]
                if byte >= 0x30 && byte <= 0x39 {
                    digits += 1
                    if digits >= 13 || (digits >= 9 && dashed) { return true }
                    continue
                }
                if byte == 0x2D, digits > 0 { dashed = true }
                if byte != 0x20 && byte != 0x2D { digits = 0; dashed = false }
                if byte >= 0x41 && byte <= 0x5A, isIBANStart(bytes, index) { return true }
                // Does a clue word start here (ASCII, compared without case)? Its first two bytes
                // first, in one table: the first letters alone (a, s, t, k, e, …) start a third of
                // English text's words. Every clue word is longer than two bytes.
                guard index + 1 < bytes.count else { continue }
                let first = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
                let next = bytes[index + 1]
                let pair = Int(first) << 8 | Int(next >= 0x41 && next <= 0x5A ? next | 0x20 : next)
                guard pairs[pair >> 6] >> UInt64(pair & 63) & 1 != 0 else { continue }
                for clue in clues[Int(first)] where matches(clue.word, in: bytes, at: index) {
                    // An assignment word (`token`, `key`, …) counts only when a `:` or `=` follows
                    // soon, as the assignment pattern needs (`CreateAccessKey` alone is no clue).
                    if !clue.needsAssignment || assignmentFollows(bytes, index + clue.word.count) { return true }
                }
            }
            return false
        }
    }

    /// Two capital letters then two digits, not inside a word: where an IBAN may start.
    private static func isIBANStart(_ bytes: ByteView, _ index: Int) -> Bool {
        guard index + 3 < bytes.count else { return false }
        if index > 0 {
            let before = bytes[index - 1]
            if (before >= 0x30 && before <= 0x39) || (before | 0x20 >= 0x61 && before | 0x20 <= 0x7A) { return false }
        }
        let second = bytes[index + 1], third = bytes[index + 2], fourth = bytes[index + 3]
        return second >= 0x41 && second <= 0x5A && third >= 0x30 && third <= 0x39 && fourth >= 0x30 && fourth <= 0x39
    }

    /// Whether a `:` or `=` comes within the next 32 bytes, before any whitespace run ends a name
    /// (`aws_secret_access_key = …`, `"token": "…"`, `password=…`).
    private static func assignmentFollows(_ bytes: ByteView, _ start: Int) -> Bool {
        var index = start
        while index < bytes.count && index < start + 32 {
            let byte = bytes[index]
            if byte == 0x3A || byte == 0x3D { return true }
            index += 1
        }
        return false
    }

    /// The clue words by their first byte (lower case): text holding none of them holds no
    /// secret these patterns find. Assignment words need a `:` or `=` after them.
    private static let clues: [[(word: [UInt8], needsAssignment: Bool)]] = {
        let words: [(String, Bool)] = [
            // GitHub tokens by their full prefixes: "gh" alone is in every other English word
            // ("right", "though"), and each false clue costs a run of every pattern.
            ("akia", false), ("asia", false), ("ghp_", false), ("gho_", false), ("ghu_", false), ("ghs_", false),
            ("ghr_", false), ("github_pat_", false), ("xox", false), ("-----begin", false), ("sk-", false),
            ("secret", true), ("passw", true), ("pwd", true), ("token", true), ("key", true), ("bearer", false),
            ("eyj", false), ("credential", true),
        ]
        var table = [[(word: [UInt8], needsAssignment: Bool)]](repeating: [], count: 256)
        for (word, assignment) in words { table[Int(word.utf8.first ?? 0)].append((Array(word.utf8), assignment)) }
        return table
    }()

    /// The first two bytes of each clue word, as 65,536 bits (bit `first << 8 | second`).
    private static let cluePairs: [UInt64] = {
        var bits = [UInt64](repeating: 0, count: 1_024)
        for list in clues {
            for clue in list {
                precondition(clue.word.count > 2, "a clue word is tested by its first two bytes and must be longer")
                let pair = Int(clue.word[0]) << 8 | Int(clue.word[1])
                bits[pair >> 6] |= 1 << UInt64(pair & 63)
            }
        }
        return bits
    }()

    private static func matches(_ clue: [UInt8], in bytes: ByteView, at start: Int) -> Bool {
        guard start + clue.count <= bytes.count else { return false }
        for offset in 1..<clue.count {
            let byte = bytes[start + offset]
            let folded = byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte
            if folded != clue[offset] { return false }
        }
        return true
    }

    /// A credential named as a whole (an API key in a principal field, a key id): its type prefix
    /// (up to the last `_` or `-` among the first 24 characters, so `ak_live_`, `ak_int_batch_`)
    /// and its last 4 characters, the rest as `*`. Names shorter than 12 characters, and names with
    /// spaces, `@`, `:` or `/` (accounts, ARNs, e-mail addresses — identifiers, not secrets), and
    /// names with no random-looking part (8 or more letters and digits with a digit or both cases:
    /// `svc-model-sync` is a name, `ak_live_7Hq2…` a key) stay as they are, with any secret inside
    /// them masked by ``mask(_:)``.
    public static func maskCredential(_ value: String) -> String {
        guard value.count >= 12, !value.contains(where: { $0 == " " || $0 == "@" || $0 == ":" || $0 == "/" }) else { return mask(value) }
        let parts = value.split(whereSeparator: { $0 == "_" || $0 == "-" || $0 == "." })
        let random = parts.contains { part in
            part.count >= 8 && (part.contains(where: \.isNumber) || (part.contains(where: \.isUppercase) && part.contains(where: \.isLowercase)))
        }
        guard random else { return mask(value) }
        let characters = Array(value)
        var head = 0
        for index in 0..<min(24, characters.count - 4) where characters[index] == "_" || characters[index] == "-" { head = index + 1 }
        // A prefix that leaves fewer than 8 hidden characters hides too little: keep less.
        if characters.count - head - 4 < 8 { head = max(0, characters.count - 12) }
        return keepEnds(value, head: head, tail: 4)
    }

    /// `value` with all but its first `head` and last `tail` characters as `*`.
    package static func keepEnds(_ value: String, head: Int, tail: Int) -> String {
        let characters = Array(value)
        guard characters.count > head + tail else { return String(repeating: "*", count: characters.count) }
        return String(characters[..<head]) + String(repeating: "*", count: characters.count - head - tail)
            + String(characters[(characters.count - tail)...])
    }

    /// The length of a token's type prefix (`ghp_`, `xoxb-`, `sk-proj-`, `github_pat_`).
    package static func tokenPrefix(_ value: String) -> Int {
        for prefix in ["github_pat_", "sk-proj-", "sk-ant-", "sk-"] where value.hasPrefix(prefix) { return prefix.count }
        if let separator = value.firstIndex(where: { $0 == "_" || $0 == "-" }) {
            return min(value.distance(from: value.startIndex, to: separator) + 1, 6)
        }
        return 0
    }

    /// `value` with every letter and digit but the last `count` of them as `*` (separators kept).
    package static func keepLastDigits(_ value: String, _ count: Int) -> String {
        let total = value.filter { $0.isLetter || $0.isNumber }.count
        var seen = 0
        return String(value.map { character -> Character in
            guard character.isLetter || character.isNumber else { return character }
            seen += 1
            return seen > total - count ? character : "*"
        })
    }
}

extension HitValue {
    /// The value with secrets in its text masked (``SecretMask``).
    package func maskingSecrets() -> HitValue {
        switch self {
        case let .string(text): .string(SecretMask.mask(text))
        case let .strings(texts): .strings(texts.map(SecretMask.mask))
        case .null, .bool, .int, .double: self
        }
    }

    /// The value of a field that names a credential as a whole (an API key in `principal`).
    package func maskingCredential() -> HitValue {
        switch self {
        case let .string(text): .string(SecretMask.maskCredential(text))
        case let .strings(texts): .strings(texts.map(SecretMask.maskCredential))
        case .null, .bool, .int, .double: self
        }
    }
}

extension SecretMask {
    /// Fields whose whole value may be a credential: gateways log the caller's API key as its
    /// principal. ``maskCredential(_:)`` leaves names that are not random-looking as they are.
    public static let credentialFields: Set<String> = ["principal", "api_key", "principals"]
}

extension Hit {
    /// The hit with secrets in its key and fields masked, as every deliverable shows it.
    public func maskingSecrets() -> Hit {
        var copy = self
        func masked(_ name: String, _ value: HitValue) -> HitValue {
            SecretMask.credentialFields.contains(name) ? value.maskingCredential() : value.maskingSecrets()
        }
        // What holds nothing to mask is kept as it is, sharing its storage with this hit: a sweep
        // keeps the masked hits it reports beside the hits it analyses, and most hold no secret.
        for (name, value) in key {
            let changed = masked(name, value)
            if changed != value { copy.key[name] = changed }
        }
        // The fields are unpacked and packed again only when one could change: a credential field
        // whose text ``SecretMask/maskCredential(_:)`` changes, or a text the cheap scan flags
        // (read where it is packed). Every text of an LLM hit's prompt went through both before.
        if let fields, fields.anyText(where: { name, text in
            SecretMask.credentialFields.contains(name) ? SecretMask.maskCredential(text.string) != text.string
                : SecretMask.mightHoldSecrets(text)
        }) {
            let maskedFields = fields.mapValuesWithNames(masked)
            if maskedFields != fields { copy.fields = maskedFields }
        }
        return copy
    }
}

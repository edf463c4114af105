import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Finds secrets and personal data in text: what `llm.sensitive-output` looks for in responses.
public enum SensitiveData {
    /// One finding: its category and where in the text (UTF-16 range of the match).
    public struct Finding: Sendable, Equatable {
        public var category: String
        public var match: String
    }

    /// The check a match must also pass (named, so the Spark job's spec can say which).
    package enum Validation: String, Sendable, CaseIterable {
        case none = ""
        case luhn, ssn, nino, iban

        package func accepts(_ text: String) -> Bool {
            switch self {
            case .none: true
            case .luhn: isCardNumber(text)
            case .ssn: isSSN(text)
            case .nino: isNINO(text)
            case .iban: isIBAN(text)
            }
        }
    }

    package struct Detector: @unchecked Sendable {
        package let category: String
        package let regex: NSRegularExpression
        package let validation: Validation
        /// A condition every match needs, judged from the text's ``Clues``: when it fails, the
        /// regular expression (the expensive part) is not run at all.
        package let needs: @Sendable (Clues) -> Bool

        package init?(category: String, regex: NSRegularExpression?, needs: @escaping @Sendable (Clues) -> Bool,
              validation: Validation = .none) {
            guard let regex else { return nil }
            self.category = category
            self.regex = regex
            self.needs = needs
            self.validation = validation
        }

        package func validate(_ text: String) -> Bool { validation.accepts(text) }
    }

    /// What one pass over a text's UTF-8 bytes tells about which detectors could match. Every
    /// clue is ASCII, so the bytes of a log value and those of its repaired `String` (invalid UTF-8
    /// becomes U+FFFD, ASCII bytes stay where they are) give the same clues.
    package struct Clues: Equatable {
        package var digits = 0
        package var hasAt = false
        package var hasDash = false
        /// The longest run of digits with at most one space or dash between two of them (a card
        /// number is 13 to 19 such digits).
        package var longestCardRun = 0
        /// `ddd-dd-dddd` (a US SSN's shape).
        package var hasSSNShape = false
        /// Two ASCII letters, then three pairs of digits and a letter A–D, each part after an
        /// optional space (a UK National Insurance number's shape).
        package var hasNINOShape = false
        /// Two ASCII capitals followed by two digits (how an IBAN starts).
        package var hasCountryAndCheck = false
        /// `AKIA` or `ASIA` (an AWS access key id's prefix).
        package var hasAWSPrefix = false
        /// `ghp_`, `gho_`, `ghu_`, `ghs_`, `ghr_` or `github_pat_`: a GitHub token's full prefix
        /// ("gh" alone is in every other English word, and each false clue runs a regex).
        package var hasGitHubPrefix = false
        /// `xox` (a Slack token's prefix).
        package var hasSlackPrefix = false
        /// `-----BEGIN ` (a PEM block's header).
        package var hasPEMHeader = false
        /// `sk-` (a generic API key's prefix).
        package var hasSecretKeyPrefix = false

        package init(_ text: String) {
            self = text.withByteView { Clues($0) }
        }

        /// By byte: whether the switch below does anything for it (digits and the bytes that end or
        /// start a clue). Most bytes of a text are other letters and spaces, and a switch over
        /// ranges compiles to a chain of comparisons whose branches follow the letters; one lookup
        /// and a branch mostly not taken skip them. The prefixes that start with a common letter
        /// are found at their rarer last byte ("ghp_" at `_`, "sk-" at `-`): an `s` or a `g` in
        /// every tenth byte of English made the branch mispredict.
        private static let startsClue: [Bool] = (0..<256).map { value in
            (0x30...0x39).contains(value) || Array("@-A_x".utf8).contains(UInt8(value))
        }

        package init(_ text: ByteView) {
            let count = text.count
            var run = 0
            let startsClue = Self.startsClue.span
            var index = 0
            // Eight bytes at a time, only those a word test flags looked at: most words of a
            // response are lower-case letters and spaces, and a clue's byte is rarely two in a word.
            while let word = text.loadLittleEndian(UInt64.self, at: index) {
                var flags = Self.clueFlags(word)
                while flags != 0 {
                    let position = index + flags.trailingZeroBitCount >> 3
                    flags &= flags - 1
                    let byte = text[position]
                    // No other byte changes a clue, and none changes `run`: a digit's run is decided
                    // by the bytes just before it, not by the bytes skipped since the last digit.
                    if startsClue[Int(byte)] { take(byte, at: position, of: text, run: &run) }
                }
                index += 8
            }
            while index < count {
                let byte = text[index]
                if startsClue[Int(byte)] { take(byte, at: index, of: text, run: &run) }
                index += 1
            }
        }

        /// The high bit of each byte of `word` (first byte lowest) that may start a clue
        /// (``startsClue``: a digit, `@`, `A`, `-`, `_` or `x`): every such byte is flagged, and a
        /// flagged byte that is not one is always above one that is (a borrow in the zero-byte
        /// tests), so a word without such a byte gives 0. `DetectBeyondTests` checks both against
        /// the table.
        @inline(__always)
        package static func clueFlags(_ word: UInt64) -> UInt64 {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let high: UInt64 = 0x8080_8080_8080_8080
            // Digits: the low seven bits between 0x30 and 0x39, the high bit clear (exact).
            let low = word & 0x7F7F_7F7F_7F7F_7F7F
            let digits = (ones &* (127 + 0x39 + 1) &- low) & ~word & (low &+ ones &* (127 - 0x30 + 1)) & high
            // `@` and `A` are 0x40 and 0x41: below 2 once 0x40 is taken away.
            let atOrA = word ^ (ones &* 0x40)
            let dash = word ^ (ones &* 0x2D)
            let underscore = word ^ (ones &* 0x5F)
            let ex = word ^ (ones &* 0x78)
            let zeros = (atOrA &- ones &* 2) & ~atOrA | (dash &- ones) & ~dash | (underscore &- ones) & ~underscore
                | (ex &- ones) & ~ex
            return digits | zeros & high
        }

        /// What one byte that starts a clue (``startsClue``) at `index` of `text` tells.
        @inline(__always)
        private mutating func take(_ byte: UInt8, at index: Int, of text: ByteView, run: inout Int) {
            switch byte {
            case 0x30...0x39:
                digits += 1
                // A card number's digits: this one continues the run after a digit, or after
                // one separator after a digit.
                if index >= 1, Self.isDigit(text[index - 1]) {
                    run += 1
                } else if index >= 2, Self.isSeparator(text[index - 1]), Self.isDigit(text[index - 2]) {
                    run += 1
                } else {
                    run = 1
                    // The first digit of a run: a National Insurance number's first pair?
                    if !hasNINOShape, Self.ninoShape(text, digitsAt: index) { hasNINOShape = true }
                }
                if run > longestCardRun { longestCardRun = run }
                if index >= 3, Self.isDigit(text[index - 1]), Self.isUpper(text[index - 2]), Self.isUpper(text[index - 3]) {
                    hasCountryAndCheck = true
                }
                if !hasSSNShape, index >= 10, text[index - 4] == UInt8(ascii: "-"), text[index - 7] == UInt8(ascii: "-"),
                   Self.allDigits(text, [index - 10, index - 9, index - 8, index - 6, index - 5, index - 3, index - 2, index - 1]) {
                    hasSSNShape = true
                }
            case UInt8(ascii: "@"):
                hasAt = true
            case UInt8(ascii: "-"):
                hasDash = true
                // "sk-", found at its dash.
                if !hasSecretKeyPrefix, index >= 2, text[index - 1] == UInt8(ascii: "k"), text[index - 2] == UInt8(ascii: "s") {
                    hasSecretKeyPrefix = true
                }
                if !hasPEMHeader, Self.followed(text, at: index, by: UInt8(ascii: "-"), UInt8(ascii: "-")),
                   Self.matches("-----BEGIN ", text, at: index) {
                    hasPEMHeader = true
                }
            case UInt8(ascii: "A"):
                if !hasAWSPrefix, Self.followed(text, at: index, by: UInt8(ascii: "K"), UInt8(ascii: "I"))
                    || Self.followed(text, at: index, by: UInt8(ascii: "S"), UInt8(ascii: "I")),
                   Self.matches("AKIA", text, at: index) || Self.matches("ASIA", text, at: index) {
                    hasAWSPrefix = true
                }
            case UInt8(ascii: "_"):
                // "ghp_" (or gho_, ghu_, ghs_, ghr_) ending here, or "github_pat_" whose first
                // underscore this is.
                if !hasGitHubPrefix, index >= 3 {
                    let kind = text[index - 1]
                    let isToken = text[index - 3] == UInt8(ascii: "g") && text[index - 2] == UInt8(ascii: "h")
                        && (kind == UInt8(ascii: "p") || kind == UInt8(ascii: "o") || kind == UInt8(ascii: "u")
                            || kind == UInt8(ascii: "s") || kind == UInt8(ascii: "r"))
                    if isToken || index >= 6 && Self.matches("github_pat_", text, at: index - 6) {
                        hasGitHubPrefix = true
                    }
                }
            case UInt8(ascii: "x"):
                if !hasSlackPrefix, Self.followed(text, at: index, by: UInt8(ascii: "o"), UInt8(ascii: "x")) { hasSlackPrefix = true }
            default:
                break
            }
        }

        package static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
        package static func isUpper(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
        static func isLetter(_ byte: UInt8) -> Bool { (byte | 0x20) >= 0x61 && (byte | 0x20) <= 0x7A }
        static func isSeparator(_ byte: UInt8) -> Bool { byte == 0x20 || byte == UInt8(ascii: "-") }

        static func allDigits(_ text: ByteView, _ positions: [Int]) -> Bool {
            for position in positions where !isDigit(text[position]) { return false }
            return true
        }

        /// Whether a National Insurance number's shape (`[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2}
        /// ?[A-Da-d]`, without the boundaries) has its first digit at `index`.
        static func ninoShape(_ text: ByteView, digitsAt index: Int) -> Bool {
            // The two letters, right before the digits or before one space.
            var letters = index - 2
            if index >= 1, text[index - 1] == 0x20 { letters -= 1 }
            guard letters >= 0, isLetter(text[letters]), isLetter(text[letters + 1]) else { return false }
            var position = index
            for pair in 0..<3 {
                if pair > 0, position < text.count, text[position] == 0x20 { position += 1 }
                guard position + 1 < text.count, isDigit(text[position]), isDigit(text[position + 1]) else { return false }
                position += 2
            }
            if position < text.count, text[position] == 0x20 { position += 1 }
            guard position < text.count else { return false }
            let suffix = text[position] | 0x20
            return suffix >= UInt8(ascii: "a") && suffix <= UInt8(ascii: "d")
        }

        /// Whether `text` holds the ASCII `word` at `index` (case-sensitive).
        private static func matches(_ word: String, _ text: ByteView, at index: Int) -> Bool {
            let utf8 = word.utf8
            guard index + utf8.count <= text.count else { return false }
            var position = index
            for byte in utf8 {
                if text[position] != byte { return false }
                position += 1
            }
            return true
        }

        /// Whether `text` holds the bytes `first`, `second` right after `index` (a prefix's next
        /// two bytes, tested before the prefix is: the letters that start them are common).
        private static func followed(_ text: ByteView, at index: Int, by first: UInt8, _ second: UInt8) -> Bool {
            index + 2 < text.count && text[index + 1] == first && text[index + 2] == second
        }

        /// Whether any detector could match: when none could, the text need not become a `String`.
        /// Each detector's ``Detector/needs``, written out (through the closures it cost a retain
        /// and a release per detector and text); `sensitiveDataCluesNeverHideAFinding` checks it
        /// against them.
        package var anyDetector: Bool {
            hasAWSPrefix || hasGitHubPrefix || hasSlackPrefix || hasPEMHeader || hasSecretKeyPrefix
                || longestCardRun >= 13 || hasAt || hasSSNShape || hasNINOShape || hasCountryAndCheck
        }
    }

    /// Each detector's ``Detector/needs``, apart: asking the detectors themselves copied every
    /// detector (its regex, strings and closure retained and released) for every log value.
    package static let needs = detectors.map(\.needs)

    /// The patterns are constants of this file; one that does not compile is dropped (and the
    /// tests, which expect every category, fail).
    package static func regex(_ pattern: String) -> NSRegularExpression? {
        try? NSRegularExpression(pattern: pattern)
    }

    package static let detectors: [Detector] = { let list: [Detector?] = [
        Detector(category: "aws_access_key", regex: regex(#"(?<![A-Z0-9])(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Z0-9])"#),
                 needs: { $0.hasAWSPrefix }),
        Detector(category: "github_token",
                 regex: regex(#"(?<![A-Za-z0-9_])(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})"#),
                 needs: { $0.hasGitHubPrefix }),
        Detector(category: "slack_token", regex: regex(#"(?<![A-Za-z0-9])xox[abposr]-[A-Za-z0-9-]{10,}"#),
                 needs: { $0.hasSlackPrefix }),
        Detector(category: "private_key", regex: regex(#"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----"#),
                 needs: { $0.hasPEMHeader }),
        Detector(category: "api_key", regex: regex(#"(?<![A-Za-z0-9_-])sk-(?:proj-|ant-)?[A-Za-z0-9_-]{20,}"#),
                 needs: { $0.hasSecretKeyPrefix }),
        Detector(category: "card_number", regex: regex(#"(?<![0-9])[0-9](?:[ -]?[0-9]){12,18}(?![0-9])"#),
                 needs: { $0.longestCardRun >= 13 }, validation: .luhn),
        Detector(category: "email",
                 regex: regex(#"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*\.[A-Za-z]{2,}(?![A-Za-z0-9])"#),
                 needs: { $0.hasAt }),
        Detector(category: "us_ssn", regex: regex(#"(?<![0-9-])[0-9]{3}-[0-9]{2}-[0-9]{4}(?![0-9-])"#),
                 needs: { $0.hasSSNShape }, validation: .ssn),
        Detector(category: "uk_nino",
                 regex: regex(#"(?<![A-Za-z0-9])[A-Za-z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-Da-d](?![A-Za-z0-9])"#),
                 needs: { $0.hasNINOShape }, validation: .nino),
        Detector(category: "iban", regex: regex(#"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])"#),
                 needs: { $0.hasCountryAndCheck }, validation: .iban),
    ]; return list.compactMap { $0 } }()

    /// All findings in `text`, in detector order then position.
    public static func findings(in text: String) -> [Finding] {
        findings(in: text, clues: Clues(text))
    }

    /// All findings in a log value's bytes (invalid UTF-8 repaired, as `ByteView.string` does):
    /// the bytes become a `String` only when a detector could match.
    public static func findings(in text: ByteView) -> [Finding] {
        let clues = Clues(text)
        guard clues.anyDetector else { return [] }
        return findings(in: text.string, clues: clues)
    }

    private static func findings(in text: String, clues: Clues) -> [Finding] {
        let range = NSRange(text.startIndex..., in: text)
        var result: [Finding] = []
        for detector in detectors where detector.needs(clues) {
            for match in detector.regex.matches(in: text, range: range) {
                guard let swiftRange = Range(match.range, in: text) else { continue }
                let value = String(text[swiftRange])
                if detector.validate(value) { result.append(Finding(category: detector.category, match: value)) }
            }
        }
        return result
    }

    package static func digits(_ text: String) -> [Int] { text.compactMap { $0.wholeNumberValue } }

    /// The number of digits of a card number.
    package static let cardDigits = 13...19
    /// SSN areas never issued (besides 000), and the first area of the never-issued 900–999.
    package static let ssnExcludedAreas: Set<Int> = [666]
    package static let ssnAreaLimit = 900
    /// Letters a National Insurance number's prefix never has first, second; prefixes never issued.
    package static let ninoExcludedFirst = "DFIQUV"
    package static let ninoExcludedSecond = "DFIQUVO"
    package static let ninoNeverIssued: Set<String> = ["BG", "GB", "NK", "KN", "TN", "NT", "ZZ"]
    /// The length of an IBAN without spaces.
    package static let ibanLength = 15...34

    /// Luhn check of 13–19 digits separated by at most single spaces or dashes.
    public static func isCardNumber(_ text: String) -> Bool {
        // ASCII (every card pattern's match), byte by byte: the `Character` and substring
        // searches below were a sixth of `llm.sensitive-output` on responses that leak cards.
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var values: [Int] = []
            var previousSeparator = false
            for byte in text.utf8 {
                let separator = byte == 0x20 || byte == 0x2D
                if separator && previousSeparator { return false }
                previousSeparator = separator
                if byte >= 0x30 && byte <= 0x39 { values.append(Int(byte - 0x30)) }
            }
            return passesLuhn(values)
        }
        return isCardNumberByCharacters(text)
    }

    /// ``isCardNumber(_:)`` by `Character`s, for any text (the ASCII path is held to it).
    package static func isCardNumberByCharacters(_ text: String) -> Bool {
        if text.contains("  ") || text.contains("--") || text.contains(" -") || text.contains("- ") { return false }
        return passesLuhn(digits(text))
    }

    /// Whether `values` are a card number's digits: 13 to 19 of them, not all the same, with a
    /// valid Luhn check digit.
    private static func passesLuhn(_ values: [Int]) -> Bool {
        guard cardDigits.contains(values.count), Set(values).count > 1 else { return false }
        var sum = 0
        for (index, digit) in values.reversed().enumerated() {
            if index % 2 == 1 {
                let doubled = digit * 2
                sum += doubled > 9 ? doubled - 9 : doubled
            } else {
                sum += digit
            }
        }
        return sum % 10 == 0
    }

    /// A US SSN `AAA-GG-SSSS`: area not 000, 666 or 900–999; group not 00; serial not 0000.
    public static func isSSN(_ text: String) -> Bool {
        let parts = text.split(separator: "-").map { Int($0) ?? -1 }
        guard parts.count == 3 else { return false }
        let (area, group, serial) = (parts[0], parts[1], parts[2])
        return area > 0 && !ssnExcludedAreas.contains(area) && area < ssnAreaLimit && group > 0 && serial > 0
    }

    /// A UK National Insurance number: the prefix letters exclude D, F, I, Q, U, V; the second also O;
    /// the prefixes BG, GB, NK, KN, TN, NT and ZZ are never issued; suffix A–D.
    public static func isNINO(_ text: String) -> Bool {
        let letters = Array(text.uppercased().filter { !$0.isWhitespace })
        guard letters.count == 9 else { return false }
        let first = letters[0], second = letters[1]
        if ninoExcludedFirst.contains(first) || ninoExcludedSecond.contains(second) { return false }
        if ninoNeverIssued.contains(String([first, second])) { return false }
        return true
    }

    /// An IBAN with a valid ISO 13616 mod-97 check (length 15–34 without spaces).
    public static func isIBAN(_ text: String) -> Bool {
        // ASCII, byte by byte (as ``isCardNumber(_:)``).
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            var compact: [UInt8] = []
            for byte in text.utf8 where !(byte == 0x20 || (byte >= 0x09 && byte <= 0x0D)) {
                compact.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
            }
            guard ibanLength.contains(compact.count) else { return false }
            var remainder = 0
            for byte in compact[4...] + compact[..<4] {
                if byte >= 0x30 && byte <= 0x39 {
                    remainder = (remainder * 10 + Int(byte - 0x30)) % 97
                } else if byte >= 0x41 && byte <= 0x5A {
                    remainder = (remainder * 100 + Int(byte) - 55) % 97
                } else {
                    return false
                }
            }
            return remainder == 1
        }
        return isIBANByCharacters(text)
    }

    /// ``isIBAN(_:)`` by `Character`s, for any text (the ASCII path is held to it).
    package static func isIBANByCharacters(_ text: String) -> Bool {
        let compact = Array(text.filter { !$0.isWhitespace }.uppercased())
        guard ibanLength.contains(compact.count) else { return false }
        let rearranged = compact[4...] + compact[..<4]
        var remainder = 0
        for character in rearranged {
            if let digit = character.wholeNumberValue, character.isASCII {
                remainder = (remainder * 10 + digit) % 97
            } else if let ascii = character.asciiValue, (65...90).contains(ascii) {
                remainder = (remainder * 100 + Int(ascii) - 55) % 97
            } else {
                return false
            }
        }
        return remainder == 1
    }
}

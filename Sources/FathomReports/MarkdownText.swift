import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// Escaping of untrusted text (anything that came from a log or a case file) for Markdown reports.
///
/// The output renders as the literal input in any CommonMark/GFM renderer and cannot form a link,
/// an image, an autolink, an HTML tag or entity, a table break, emphasis, a heading or a list, and
/// carries no control, bidirectional or zero-width character:
/// - ASCII punctuation that changes rendering where it stands is backslash-escaped, and nothing
///   else, so the raw Markdown reads as plain text (`IR-2026-0042`, `v12.`, `modify_data`):
///   `\ ` * [ ] ! | ~ & @ $` everywhere (`$` so that GitHub does not render log text as math, `@`
///   against e-mail autolinks); `_` where it touches a word boundary (intraword `_` is literal in
///   CommonMark); `(` after `]`; `# + - =` and an ordered-list `1.`/`1)` only at the start of the
///   text, where they would open a heading, a list or a block;
/// - `<` and `>` become `&lt;` and `&gt;`;
/// - the `:` of `scheme://` becomes `&#58;` and the `.` of `www.` becomes `&#46;`, so GFM's extended
///   autolinks (`http://…`, `www.…`, e-mail addresses) do not fire;
/// - line breaks become spaces; other control, bidi and invisible formatting characters become a
///   visible `\u{…}`;
/// - text longer than the limit is cut at a character boundary and ends with a visible
///   `…[truncated, N more bytes]` marker.
public enum MarkdownText {
    /// The default limit, in UTF-8 bytes of the input.
    public static let defaultLimit = 300

    /// Escapes `text` for prose or a table cell, keeping at most `limit` bytes of it.
    public static func escape(_ text: String, limit: Int = defaultLimit) -> String {
        let (kept, dropped) = truncate(text, limit: limit)
        var result = ""
        result.reserveCapacity(kept.utf8.count + 16)
        let scalars = Array(kept.unicodeScalars)
        var index = 0
        while index < scalars.count {
            let scalar = scalars[index]
            switch scalar {
            case "\r":
                result += " "
                if index + 1 < scalars.count, scalars[index + 1] == "\n" { index += 1 }
            case "\n":
                result += " "
            case "<":
                result += "&lt;"
            case ">":
                result += "&gt;"
            case ":" where index + 2 < scalars.count && scalars[index + 1] == "/" && scalars[index + 2] == "/":
                result += "&#58;"
            case "." where isAfterWWW(scalars, index):
                result += "&#46;"
            default:
                if isUnsafe(scalar) {
                    result += "\\\\u\\{" + String(scalar.value, radix: 16) + "\\}"
                } else if scalar.isASCII, needsEscape(scalars, index) {
                    result += "\\"
                    result.unicodeScalars.append(scalar)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
            index += 1
        }
        if dropped > 0 { result += truncationMarker(dropped) }
        return result
    }

    /// Escapes `text` for a table cell (the same as ``escape(_:limit:)``, named for intent).
    public static func cell(_ text: String, limit: Int = defaultLimit) -> String { escape(text, limit: limit) }

    /// A fenced code block holding `content` verbatim (after control characters are made visible),
    /// with a backtick fence longer than any backtick run in the content.
    public static func fencedBlock(_ content: String, info: String = "") -> String {
        let safe = visibleControls(content)
        let fence = String(repeating: "`", count: max(3, longestRun(of: "`", in: safe) + 1))
        return fence + info + "\n" + safe + (safe.hasSuffix("\n") ? "" : "\n") + fence
    }

    /// The visible marker for `count` dropped bytes: `…\[truncated, 1,234 more bytes\]`.
    public static func truncationMarker(_ count: Int) -> String {
        "…\\[truncated, " + ReportNumber.grouped(Int64(count)) + " more " + (count == 1 ? "byte" : "bytes") + "\\]"
    }

    /// The longest prefix of `text` within `limit` UTF-8 bytes, ending at a character boundary,
    /// and how many bytes were dropped.
    public static func truncate(_ text: String, limit: Int) -> (String, Int) {
        let total = text.utf8.count
        guard total > limit else { return (text, 0) }
        var kept = ""
        var bytes = 0
        for character in text {
            let size = character.utf8.count
            if bytes + size > limit { break }
            kept.append(character)
            bytes += size
        }
        return (kept, total - bytes)
    }

    /// Replaces control (except newline and tab), bidi and invisible characters with `\u{…}`.
    package static func visibleControls(_ text: String) -> String {
        var result = ""
        for scalar in text.unicodeScalars {
            if scalar != "\n", scalar != "\t", isUnsafe(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Control characters (C0, DEL, C1), bidi controls and invisible formatting characters
    /// (``UntrustedText/isUnsafe(_:)``).
    public static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool { UntrustedText.isUnsafe(scalar) }

    package static func longestRun(of character: Character, in text: String) -> Int {
        var longest = 0
        var current = 0
        for each in text {
            if each == character {
                current += 1
                longest = max(longest, current)
            } else {
                current = 0
            }
        }
        return longest
    }

    /// Escaped wherever they stand.
    private static let escaped: Set<UInt8> = Set("\\`*[]!|~&@$".utf8)
    /// Escaped only at the start of the text (block openers).
    private static let escapedAtStart: Set<UInt8> = Set("#+-=".utf8)

    private static func isWordScalar(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isAlphabetic || scalar.properties.numericType != nil
    }

    /// Whether the ASCII scalar at `index` would change how the text renders unescaped.
    private static func needsEscape(_ scalars: [Unicode.Scalar], _ index: Int) -> Bool {
        let byte = UInt8(scalars[index].value)
        if escaped.contains(byte) { return true }
        switch byte {
        case UInt8(ascii: "_"):
            // Emphasis needs an underscore at a word boundary; inside a word it is literal.
            let before = index > 0 && isWordScalar(scalars[index - 1])
            let after = index + 1 < scalars.count && isWordScalar(scalars[index + 1])
            return !(before && after)
        case UInt8(ascii: "("):
            // A link destination follows `]` (escaped anyway; this keeps `](` out of the text).
            return index > 0 && scalars[index - 1] == "]"
        case UInt8(ascii: "."), UInt8(ascii: ")"):
            // `1.` or `1)` at the start, then a space or the end, opens an ordered list (`10.20.30.40`
            // does not).
            return index > 0 && index <= 9 && scalars[..<index].allSatisfy { ("0"..."9").contains($0) }
                && (index + 1 == scalars.count || [" ", "\t", "\r", "\n"].contains(scalars[index + 1]))
        default:
            return index == 0 && escapedAtStart.contains(byte)
        }
    }

    private static func isAfterWWW(_ scalars: [Unicode.Scalar], _ index: Int) -> Bool {
        guard index >= 3 else { return false }
        for offset in 1...3 where scalars[index - offset] != "w" && scalars[index - offset] != "W" { return false }
        return true
    }
}

import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// Escaping of untrusted text for Mermaid diagrams inside Markdown.
///
/// Mermaid decodes its own entity codes (`#quot;`, `#35;`) before parsing, so every character that
/// has a meaning in flowchart, gantt or directive syntax is written as such a code and cannot close
/// a label, start a comment (`%%`), a directive, a link or HTML.
public enum Mermaid {
    /// A quoted node or edge label: `"…"` with `" # ; < > ` [ ] ( ) { } | & % :` entity-encoded,
    /// line breaks as spaces, control/bidi/invisible characters as visible `\u{…}`, cut at `limit` bytes.
    public static func label(_ text: String, limit: Int = 120) -> String {
        "\"" + encode(text, limit: limit) + "\""
    }

    /// Text for places Mermaid does not let you quote (gantt section and task names).
    public static func text(_ text: String, limit: Int = 120) -> String { encode(text, limit: limit) }

    /// The entity-encoded body shared by ``label(_:limit:)`` and ``text(_:limit:)``.
    package static func encode(_ text: String, limit: Int) -> String {
        let (kept, dropped) = MarkdownText.truncate(text, limit: limit)
        var result = ""
        for scalar in kept.unicodeScalars {
            if scalar == "\n" || scalar == "\r" || scalar == "\t" {
                result += " "
            } else if MarkdownText.isUnsafe(scalar) {
                result += "\\u" + "#123;" + String(scalar.value, radix: 16) + "#125;"
            } else if let code = codes[scalar] {
                result += code
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        if dropped > 0 { result += "… #91;truncated, " + ReportNumber.grouped(Int64(dropped)) + " more bytes#93;" }
        return result
    }

    /// A node id that is always valid Mermaid (never a keyword such as `end`): `n` + index.
    public static func nodeID(_ index: Int) -> String { "n" + String(index) }

    private static let codes: [Unicode.Scalar: String] = [
        "\"": "#quot;", "#": "#35;", ";": "#59;", "<": "#lt;", ">": "#gt;", "`": "#96;",
        "[": "#91;", "]": "#93;", "(": "#40;", ")": "#41;", "{": "#123;", "}": "#125;",
        "|": "#124;", "&": "#amp;", "%": "#37;", ":": "#58;", "\\": "#92;", "*": "#42;", "_": "#95;", "~": "#126;",
    ]
}

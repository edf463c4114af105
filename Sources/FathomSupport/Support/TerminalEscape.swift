import FathomStore

/// Makes untrusted text (file names, strings from pickles, SBOMs and requirement files) safe to
/// print to a terminal.
///
/// C0 and C1 control characters (including ESC, so no terminal control sequence survives), DEL,
/// bidirectional formatting characters (U+061C, U+200E–U+200F, U+202A–U+202E, U+2066–U+2069),
/// zero-width and invisible characters (U+200B–U+200D, U+2060–U+2064, U+FEFF, U+180E, U+00AD)
/// and line/paragraph separators (U+2028, U+2029) become visible `\u{…}` escapes. A backslash
/// that could be mistaken for an escape is doubled only where it precedes `u{`.
public enum TerminalEscape {
    /// - Complexity: O(n) in the length of `text`.
    public static func escape(_ text: String) -> String {
        var needsWork = false
        for scalar in text.unicodeScalars where mustEscape(scalar) || scalar == "\\" {
            needsWork = true
            break
        }
        guard needsWork else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            if mustEscape(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else if scalar == "\\", index + 1 < scalars.count, scalars[index + 1] == "u" {
                result += "\\\\"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    package static func mustEscape(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        switch value {
        case 0x00...0x1F, 0x7F...0x9F: return true
        case 0x00AD, 0x061C, 0x180E: return true
        case 0x200B...0x200F, 0x2028...0x202E, 0x2060...0x2069, 0xFEFF: return true
        case 0xFFF9...0xFFFB: return true
        default: return false
        }
    }
}

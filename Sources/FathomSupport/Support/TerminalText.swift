import FathomStore

/// Escaping of untrusted text (anything that came from evidence: member names, field values,
/// file names, strings from pickles, SBOMs and requirement files) before it reaches a terminal.
///
/// Every scalar ``UntrustedText/isUnsafe(_:)`` names — C0 and C1 controls (ESC among them, so no
/// terminal control sequence survives), DEL, bidirectional, zero-width and other invisible
/// characters, line and paragraph separators — becomes a visible `\u{…}` escape (upper-case hex).
/// A backslash that could be mistaken for such an escape is doubled only where it precedes `u{`.
public enum TerminalText {
    /// - Complexity: O(n) in the length of `text`.
    public static func escape(_ text: String) -> String {
        var needsWork = false
        for scalar in text.unicodeScalars where UntrustedText.isUnsafe(scalar) || scalar == "\\" {
            needsWork = true
            break
        }
        guard needsWork else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 8)
        let scalars = Array(text.unicodeScalars)
        for (index, scalar) in scalars.enumerated() {
            if UntrustedText.isUnsafe(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else if scalar == "\\", index + 1 < scalars.count, scalars[index + 1] == "u" {
                result += "\\\\"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }
}

/// Plain-text formatting helpers for tables and sizes.
public enum TextFormat {
    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(count)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    /// A left-aligned text table; the first row is the header.
    public static func table(_ rows: [[String]], rightAligned: Set<Int> = []) -> String {
        guard let header = rows.first else { return "" }
        var widths = Array(repeating: 0, count: header.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], cell.count)
            }
        }
        var lines: [String] = []
        for (rowIndex, row) in rows.enumerated() {
            let cells = row.enumerated().map { index, cell -> String in
                let pad = String(repeating: " ", count: max(0, widths[index] - cell.count))
                return rightAligned.contains(index) ? pad + cell : cell + pad
            }
            lines.append(cells.joined(separator: "  ").trimmingTrailingSpaces())
            if rowIndex == 0 {
                lines.append(widths.map { String(repeating: "-", count: $0) }.joined(separator: "  "))
            }
        }
        return lines.joined(separator: "\n")
    }
}

import Foundation

extension String {
    package func trimmingTrailingSpaces() -> String {
        var copy = self
        while copy.last == " " { copy.removeLast() }
        return copy
    }
}

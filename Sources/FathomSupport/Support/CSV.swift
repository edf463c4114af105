import FathomStore
import Foundation

/// CSV quoting (RFC 4180), with spreadsheet formula injection neutralised and control,
/// bidirectional and invisible characters made visible.
package enum CSV {
    /// `text` as one CSV field: control characters other than tab and line breaks (ESC, BEL …),
    /// bidirectional overrides and invisible characters written as visible `\u{…}` escapes (a CSV
    /// is read in terminals and spreadsheets alike), then prefixed with `'` when it starts like a
    /// formula, quoted when it holds a comma, a quote or a line break (RFC 4180).
    package static func field(_ text: String) -> String {
        let text = visible(text)
        let bytes = text.utf8
        let formula = bytes.first.map { "=+-@\t\r".utf8.contains($0) } ?? false
        let quoted = bytes.contains { (byte: UInt8) -> Bool in
            byte == 0x2C || byte == 0x22 || byte == 0x0A || byte == 0x0D  // , " LF CR
        }
        if !formula && !quoted { return text }
        let value = formula ? "'" + text : text
        return quoted ? "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : value
    }

    /// `text` with the scalars ``UntrustedText/isUnsafe(_:)`` names, except tab, CR and LF, as `\u{…}`.
    package static func visible(_ text: String) -> String {
        func unsafe(_ scalar: Unicode.Scalar) -> Bool {
            UntrustedText.isUnsafe(scalar) && scalar != "\t" && scalar != "\r" && scalar != "\n"
        }
        guard text.unicodeScalars.contains(where: unsafe) else { return text }
        var result = ""
        for scalar in text.unicodeScalars {
            if unsafe(scalar) {
                result += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Appends `field` to `output` as one CSV field, exactly as ``field(_:)`` would write its
    /// text (invalid UTF-8 repaired to U+FFFD first). Plain values — printable ASCII without a
    /// comma, a quote or a formula start — are copied as they are.
    package static func append(field: ByteView, to output: inout [UInt8]) {
        var plain = true
        if field.count > 0 {
            let first = field[0]
            plain = !(first == 0x3D || first == 0x2B || first == 0x2D || first == 0x40)
            var index = 0
            while plain, index < field.count {
                let byte = field[index]
                plain = byte >= 0x20 && byte < 0x7F && byte != 0x2C && byte != 0x22
                index += 1
            }
        }
        if plain {
            output.append(field)
        } else {
            output.append(contentsOf: Self.field(field.string).utf8)
        }
    }

    /// Appends `fields` as one CSV line.
    package static func appendLine(_ fields: [String], to output: inout String) {
        for (index, text) in fields.enumerated() {
            if index > 0 { output += "," }
            output += field(text)
        }
        output += "\n"
    }
}

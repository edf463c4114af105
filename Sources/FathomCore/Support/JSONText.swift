/// Post-processing of encoded JSON that came partly from evidence.
public enum JSONText {
    /// Rewrites every scalar from DEL up that `isUnsafe` names (bidirectional overrides, zero-width
    /// and other invisible characters) as `\uXXXX` escapes — surrogate pairs beyond the BMP — so
    /// the JSON decodes to the same text but cannot reorder or hide what a terminal or editor shows.
    /// Such scalars can only occur inside JSON strings, where the escape is valid.
    ///
    /// - Complexity: O(n).
    public static func escapeInvisible(_ json: String, where isUnsafe: (Unicode.Scalar) -> Bool) -> String {
        var out = ""
        out.reserveCapacity(json.utf8.count)
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x7F, isUnsafe(scalar) {
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }
}

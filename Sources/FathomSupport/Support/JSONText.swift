import FathomStore
import Foundation

/// Post-processing of encoded JSON that came partly from evidence.
public enum JSONText {
    /// The scalars every JSON deliverable writes as `\uXXXX`: from DEL up, the control,
    /// bidirectional and invisible characters of ``UntrustedText/isUnsafe(_:)`` (below DEL the JSON
    /// encoder escapes control characters itself).
    public static func isInvisible(_ scalar: Unicode.Scalar) -> Bool {
        scalar.value >= 0x7F && UntrustedText.isUnsafe(scalar)
    }

    /// Rewrites every scalar from DEL up that `isUnsafe` names (bidirectional overrides, zero-width
    /// and other invisible characters) as `\uXXXX` escapes — surrogate pairs beyond the BMP — so
    /// the JSON decodes to the same text but cannot reorder or hide what a terminal or editor shows.
    /// Such scalars can only occur inside JSON strings, where the escape is valid.
    ///
    /// Works on the UTF-8 bytes: runs below DEL (nearly all of a document) are copied as they are,
    /// only the scalars from DEL up are decoded and judged.
    ///
    /// - Complexity: O(n).
    public static func escapeInvisible(_ json: String, where isUnsafe: (Unicode.Scalar) -> Bool) -> String {
        var out: [UInt8] = []
        json.withByteView { appendEscapingInvisible($0, to: &out, where: isUnsafe) }
        return String(decoding: out, as: UTF8.self)
    }

    /// ``escapeInvisible(_:where:)`` of the well-formed UTF-8 `json`, appended to `out` (so a large
    /// document is escaped piece by piece into one buffer, without string copies).
    public static func appendEscapingInvisible(_ json: Data, to out: inout [UInt8],
                                               where isUnsafe: (Unicode.Scalar) -> Bool) {
        json.withByteView { appendEscapingInvisible($0, to: &out, where: isUnsafe) }
    }

    /// ``escapeInvisible(_:where:)`` of the well-formed UTF-8 `json`, appended to `out`.
    public static func appendEscapingInvisible(_ json: [UInt8], to out: inout [UInt8],
                                               where isUnsafe: (Unicode.Scalar) -> Bool) {
        json.withByteView { appendEscapingInvisible($0, to: &out, where: isUnsafe) }
    }

    /// ``escapeInvisible(_:where:)`` of the well-formed UTF-8 bytes `json` lends, appended to `out`.
    ///
    /// - Complexity: O(n).
    public static func appendEscapingInvisible(_ json: ByteView, to out: inout [UInt8],
                                               where isUnsafe: (Unicode.Scalar) -> Bool) {
        out.reserveCapacity(out.count + json.count)
        let n = json.count
        var i = 0
        while i < n {
            var j = i
            while j < n, json[j] < 0x7F { j += 1 }
            if j > i {
                out.append(json[i..<j])
                i = j
            }
            guard i < n else { break }
            // One scalar from DEL up (the UTF-8 is well-formed).
            let lead = UInt32(json[i])
            let length = min(n - i, lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4)
            var value: UInt32
            switch length {
            case 1: value = lead
            case 2: value = (lead & 0x1F) << 6 | UInt32(json[i + 1] & 0x3F)
            case 3: value = (lead & 0x0F) << 12 | UInt32(json[i + 1] & 0x3F) << 6 | UInt32(json[i + 2] & 0x3F)
            default:
                value = (lead & 0x07) << 18 | UInt32(json[i + 1] & 0x3F) << 12
                    | UInt32(json[i + 2] & 0x3F) << 6 | UInt32(json[i + 3] & 0x3F)
            }
            if let scalar = Unicode.Scalar(value), isUnsafe(scalar) {
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                }
            } else {
                out.append(json[i..<(i + length)])
            }
            i += length
        }
    }
}

/// Post-processing of encoded JSON that came partly from evidence.
public enum JSONText {
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
        var json = json
        return json.withUTF8 { bytes -> String in
            var out: [UInt8] = []
            out.reserveCapacity(bytes.count)
            let n = bytes.count
            var i = 0
            while i < n {
                var j = i
                while j < n, bytes[j] < 0x7F { j += 1 }
                if j > i {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<j]))
                    i = j
                }
                guard i < n else { break }
                // One scalar from DEL up (a String's UTF-8 is well-formed).
                let lead = UInt32(bytes[i])
                let length = lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4
                var value: UInt32
                switch length {
                case 1: value = lead
                case 2: value = (lead & 0x1F) << 6 | UInt32(bytes[i + 1] & 0x3F)
                case 3: value = (lead & 0x0F) << 12 | UInt32(bytes[i + 1] & 0x3F) << 6 | UInt32(bytes[i + 2] & 0x3F)
                default:
                    value = (lead & 0x07) << 18 | UInt32(bytes[i + 1] & 0x3F) << 12
                        | UInt32(bytes[i + 2] & 0x3F) << 6 | UInt32(bytes[i + 3] & 0x3F)
                }
                if let scalar = Unicode.Scalar(value), isUnsafe(scalar) {
                    for unit in String(scalar).utf16 {
                        let hex = String(unit, radix: 16)
                        out.append(contentsOf: ("\\u" + String(repeating: "0", count: 4 - hex.count) + hex).utf8)
                    }
                } else {
                    out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[i..<(i + length)]))
                }
                i += length
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}

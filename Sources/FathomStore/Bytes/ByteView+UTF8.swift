extension ByteView {
    /// Whether every byte is ASCII (eight bytes at a time).
    ///
    /// - Complexity: O(n).
    public var isASCII: Bool {
        var index = 0
        while let word = loadLittleEndian(UInt64.self, at: index) {
            if word & 0x8080_8080_8080_8080 != 0 { return false }
            index += 8
        }
        while index < count {
            if self[index] >= 0x80 { return false }
            index += 1
        }
        return true
    }

    /// Whether every byte is valid UTF-8 (ASCII checked eight bytes at a time).
    ///
    /// - Complexity: O(n).
    public var isValidUTF8: Bool {
        guard let base, count > 0 else { return true }
        var index = 0
        // Every record is checked: 32 bytes a step while they are ASCII, then 8.
        while index + 32 <= count {
            let words = base.loadUnaligned(fromByteOffset: index, as: UInt64.self)
                | base.loadUnaligned(fromByteOffset: index + 8, as: UInt64.self)
                | base.loadUnaligned(fromByteOffset: index + 16, as: UInt64.self)
                | base.loadUnaligned(fromByteOffset: index + 24, as: UInt64.self)
            if words & 0x8080_8080_8080_8080 != 0 { break }
            index += 32
        }
        while index + 8 <= count {
            if base.loadUnaligned(fromByteOffset: index, as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { break }
            index += 8
        }
        // The last bytes of a text of 8 or more in one load, which overlaps bytes found ASCII
        // already (every byte before `index` is): a client address or a short field ended in up
        // to seven steps of a byte each.
        if index < count, count >= 8, index + 8 > count,
           base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
            return true
        }
        while index < count, base.load(fromByteOffset: index, as: UInt8.self) < 0x80 { index += 1 }
        if index == count { return true }
        return Self.validUTF8(base.assumingMemoryBound(to: UInt8.self), from: index, count: count)
    }

    /// Whether `bytes[start ..< count]` are valid UTF-8 (Unicode §3.9, table 3-7: no overlong form,
    /// no surrogate, nothing above U+10FFFF), read in place: `String(validating:)` copied the rest
    /// of every record with a byte beyond ASCII into a new string only to drop it.
    static func validUTF8(_ bytes: UnsafePointer<UInt8>, from start: Int, count: Int) -> Bool {
        var index = start
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            // The second byte's range depends on the lead (table 3-7); the others are 80–BF.
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard index + length <= count else { return false }
            let second = bytes[index + 1]
            guard second >= low, second <= high else { return false }
            for offset in 2..<length where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }
}

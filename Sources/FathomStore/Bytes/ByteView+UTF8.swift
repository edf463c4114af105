extension ByteView {
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
        while index < count, base.load(fromByteOffset: index, as: UInt8.self) < 0x80 { index += 1 }
        if index == count { return true }
        let rest = UnsafeRawBufferPointer(start: base + index, count: count - index)
        return String(validating: rest, as: UTF8.self) != nil
    }
}

extension ByteView {
    /// The address part of a caller field: `1.2.3.4:5678` → `1.2.3.4`, `[2001:db8::1]:443` →
    /// `2001:db8::1`; anything else unchanged (a bare IPv6 address keeps its colons).
    public var addressPart: ByteView {
        guard count > 0 else { return self }
        if self[0] == UInt8(ascii: "[") {
            if let close = firstIndex(of: UInt8(ascii: "]")) { return self[1..<close] }
            return self
        }
        guard let colon = firstIndex(of: UInt8(ascii: ":")) else { return self }
        // A second colon means IPv6 without brackets: leave it whole.
        if firstIndex(of: UInt8(ascii: ":"), from: colon + 1) != nil { return self }
        return self[0..<colon]
    }

    /// Whether every byte is valid UTF-8 (ASCII checked eight bytes at a time).
    ///
    /// - Complexity: O(n).
    public var isValidUTF8: Bool {
        guard let base, count > 0 else { return true }
        var index = 0
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

/// A borrowed, read-only view of bytes owned by someone else: a file mapping, a decompression
/// buffer, a framing buffer.
///
/// A `ByteView` is valid only for as long as its owner says (the closure it was passed to, or
/// until the next call on the stream that produced it). It must not be stored beyond that.
/// Every accessor is bounds-checked; none traps on evidence bytes.
///
/// ```
///  base                                   base + count
///   │ byte 0 │ byte 1 │  …               │
///   └────────┴────────┴──────────────────┘
/// ```
public struct ByteView: @unchecked Sendable {
    @usableFromInline let base: UnsafeRawPointer?
    public let count: Int

    /// Wraps memory the caller keeps alive for as long as the view is used.
    @inlinable
    public init(unsafeStart base: UnsafeRawPointer?, count: Int) {
        // A count only with a base: an index below the count needs no test of the base.
        let present = count > 0 && base != nil
        self.base = present ? base : nil
        self.count = present ? count : 0
    }

    public static let empty = ByteView(unsafeStart: nil, count: 0)

    @inlinable public var isEmpty: Bool { count == 0 }

    /// The byte at `index`, or 0 when `index` is out of range.
    @inlinable
    public subscript(index: Int) -> UInt8 {
        guard index >= 0, index < count else { return 0 }
        // Below the count the base is there (init): no test of it at every byte of a loop (the
        // compiler kept one in the prompt rules' byte loops, a test and a branch a byte).
        return base.unsafelyUnwrapped.load(fromByteOffset: index, as: UInt8.self)
    }

    /// The bytes in `range`, clamped to the view.
    @inlinable
    public subscript(range: Range<Int>) -> ByteView {
        let lower = Swift.max(0, Swift.min(range.lowerBound, count))
        let upper = Swift.max(lower, Swift.min(range.upperBound, count))
        guard let base else { return .empty }
        return ByteView(unsafeStart: base + lower, count: upper - lower)
    }

    /// The first index at or after `start` holding `byte`, found with `memchr`.
    @inlinable
    public func firstIndex(of byte: UInt8, from start: Int = 0) -> Int? {
        guard let base, start < count, start >= 0 else { return nil }
        guard let hit = memchr(base + start, Int32(byte), count - start) else { return nil }
        return UnsafeRawPointer(hit) - base
    }

    /// Whether the view starts with `prefix`.
    @inlinable
    public func starts(with prefix: some Collection<UInt8>) -> Bool {
        guard prefix.count <= count else { return false }
        var index = 0
        for byte in prefix {
            if self[index] != byte { return false }
            index += 1
        }
        return true
    }

    /// Byte-wise equality with a string's UTF-8.
    @inlinable
    public func equals(_ string: String) -> Bool {
        var string = string
        return string.withUTF8 { utf8 in
            guard utf8.count == count else { return false }
            guard count > 0, let base else { return true }
            return memcmp(base, utf8.baseAddress!, count) == 0
        }
    }

    /// Byte-wise equality with another view.
    @inlinable
    public static func == (lhs: ByteView, rhs: ByteView) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard lhs.count > 0, let a = lhs.base, let b = rhs.base else { return true }
        return memcmp(a, b, lhs.count) == 0
    }

    /// The bytes as an array (a copy).
    public var array: [UInt8] {
        guard let base else { return [] }
        return Array(UnsafeRawBufferPointer(start: base, count: count))
    }

    /// The bytes as a string, with invalid UTF-8 repaired to U+FFFD.
    public var string: String {
        guard let base else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// The bytes as a string, or nil when they are not valid UTF-8.
    public var validatedString: String? {
        guard let base else { return "" }
        return String(validating: UnsafeRawBufferPointer(start: base, count: count), as: UTF8.self)
    }

    /// The little-endian integer of type `T` stored at `offset`, or nil when those bytes are not all
    /// inside the view.
    @inlinable
    public func loadLittleEndian<T: FixedWidthInteger>(_ type: T.Type, at offset: Int) -> T? {
        guard offset >= 0, offset <= count - MemoryLayout<T>.size, let base else { return nil }
        return T(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    /// Lends the raw buffer. The pointer must not escape `body`.
    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: base, count: count))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

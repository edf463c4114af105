/// 256 values read by a byte. Every byte is an index, so a read needs no bounds check, and a loop
/// keeps one pointer for the table: an array's read compared the index with the count at every
/// byte, and the phrase rule's byte loop reloaded each table's base and count from the stack.
///
/// Immutable once made; the values are owned and freed with it.
public final class ByteIndexedTable<Value: BitwiseCopyable>: @unchecked Sendable {
    @usableFromInline let base: UnsafeMutablePointer<Value>

    /// A table of `values`, which must be 256 of them (value `b` for byte `b`).
    public init(_ values: [Value]) {
        precondition(values.count == 256, "a byte-indexed table has 256 values")
        base = .allocate(capacity: 256)
        values.withUnsafeBufferPointer { base.initialize(from: $0.baseAddress!, count: 256) }
    }

    deinit { base.deallocate() }

    /// The value of `byte`.
    @inlinable @inline(__always)
    public subscript(byte: UInt8) -> Value { base[Int(byte)] }
}

/// A growable byte buffer owned by a codec and reused from record to record: the framer's carry
/// for records that span chunks, unescaped CSV fields, decoded JSON strings, percent-decoded text.
///
/// Views handed out by ``view`` (or by the codecs that write here) point into the buffer and stay
/// valid only until the buffer is next changed. Not thread-safe; one owner at a time.
///
/// ```
///  storage                       storage + count        storage + capacity
///   │ written bytes …            │ free …                │
///   └────────────────────────────┴───────────────────────┘
/// ```
public final class ScratchBuffer {
    @usableFromInline var storage: UnsafeMutableRawPointer
    @usableFromInline var capacity: Int
    /// How many bytes are written.
    public private(set) var count: Int = 0

    /// Creates an empty buffer with room for `capacity` bytes.
    public init(capacity: Int = 256) {
        self.capacity = Swift.max(16, capacity)
        self.storage = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit { storage.deallocate() }

    /// The written bytes. Valid until the next mutation of the buffer.
    @inlinable public var view: ByteView { ByteView(unsafeStart: UnsafeRawPointer(storage), count: count) }

    @inlinable public var isEmpty: Bool { count == 0 }

    /// Forgets the content, keeping the allocation.
    public func removeAll() { count = 0 }

    /// Makes sure `total` bytes fit without reallocating, keeping the content.
    ///
    /// - Complexity: O(count) when the buffer grows, else O(1).
    public func reserve(_ total: Int) {
        guard total > capacity else { return }
        var newCapacity = capacity
        while newCapacity < total { newCapacity = newCapacity &* 2 }
        let newStorage = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        if count > 0 { newStorage.copyMemory(from: storage, byteCount: count) }
        storage.deallocate()
        storage = newStorage
        capacity = newCapacity
    }

    /// Appends one byte.
    public func append(_ byte: UInt8) {
        if count == capacity { reserve(count + 1) }
        storage.storeBytes(of: byte, toByteOffset: count, as: UInt8.self)
        count += 1
    }

    /// Appends the bytes of `bytes` (which must not point into this buffer).
    ///
    /// - Complexity: O(`bytes.count`).
    public func append(_ bytes: ByteView) {
        guard let base = bytes.base, bytes.count > 0 else { return }
        reserve(count + bytes.count)
        (storage + count).copyMemory(from: base, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends the UTF-8 of `string`.
    public func append(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            append(ByteView(unsafeStart: utf8.baseAddress, count: utf8.count))
        }
    }

    /// Lends the writable storage for `capacity` more bytes; `body` returns how many it wrote.
    /// The pointer must not escape `body`.
    @usableFromInline
    func withUnsafeAppendStorage(capacity extra: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(count + extra)
        let written = body((storage + count).assumingMemoryBound(to: UInt8.self))
        count += Swift.max(0, Swift.min(extra, written))
    }
}

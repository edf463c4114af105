/// A growable run of fixed-width values for a ``SegmentBuilder``'s columns: an `Array` without
/// copy-on-write. Setting a value is a bounds check and a store; an `Array` held in a struct held
/// in the builder checked its buffer's uniqueness (a call into the runtime) and wrote the buffer
/// back at every row of every column.
///
/// A vector is owned by one builder, which calls ``free()`` once, in its `deinit`. Copies of a
/// vector share its storage: only the owner's copy may be changed or freed.
struct ColumnVector<Element: BitwiseCopyable> {
    private var base: UnsafeMutablePointer<Element>?
    private(set) var count = 0
    private var capacity = 0

    init() {}

    subscript(index: Int) -> Element {
        get {
            precondition(index >= 0 && index < count, "column vector index out of range")
            return base.unsafelyUnwrapped[index]
        }
        set {
            precondition(index >= 0 && index < count, "column vector index out of range")
            base.unsafelyUnwrapped[index] = newValue
        }
    }

    @inline(__always)
    mutating func append(_ value: Element) {
        if count == capacity { grow(to: count + 1) }
        (base.unsafelyUnwrapped + count).initialize(to: value)
        count += 1
    }

    mutating func removeLast(_ k: Int) {
        precondition(k >= 0 && k <= count, "cannot remove more values than the vector holds")
        count -= k
    }

    /// Empties the vector, keeping its storage.
    mutating func removeAll() { count = 0 }

    func withUnsafeBufferPointer<R, E: Error>(_ body: (UnsafeBufferPointer<Element>) throws(E) -> R) throws(E) -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(UnsafeBufferPointer(start: base, count: count)))
    }

    private mutating func grow(to minimum: Int) {
        let newCapacity = Swift.max(minimum, capacity * 2, 1024)
        let grown = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        if let base {
            grown.initialize(from: base, count: count)
            base.deallocate()
        }
        base = grown
        capacity = newCapacity
    }

    /// Releases the storage; the vector is empty afterwards.
    mutating func free() {
        base?.deallocate()
        base = nil
        count = 0
        capacity = 0
    }
}

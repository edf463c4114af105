/// The segment builders of one row writer, one slot per kind code, and the one the row being built
/// goes to (``select(_:)``).
///
/// The setters forward to the selected builder. It is held unretained: calling a method on a class
/// reference read from a mutable property retains and releases it around the call, and a decoder
/// sets ten or more columns in every row of millions — about a tenth of an ingest's time went to
/// that reference counting. ``builders`` holds the strong reference, and every change to a slot
/// (``install(_:at:)``, ``removeAll()``) deselects first, so the selected builder is always alive.
public final class SegmentBuilderSet {
    /// The builder of each slot, nil where none was installed.
    public private(set) var builders: [SegmentBuilder?]
    /// `builders`, unretained (held by `builders`): selecting one for a row counts no references.
    private var unretained: [Unmanaged<SegmentBuilder>?]
    private var selected: Unmanaged<SegmentBuilder>?

    /// A set of `count` empty slots.
    public init(count: Int) {
        builders = Array(repeating: nil, count: count)
        unretained = Array(repeating: nil, count: count)
    }

    /// Puts `builder` in `slot`, replacing (and deselecting) what was there.
    public func install(_ builder: SegmentBuilder, at slot: Int) {
        selected = nil
        builders[slot] = builder
        unretained[slot] = Unmanaged.passUnretained(builder)
    }

    /// Empties every slot (and deselects); returns the builders that were installed.
    public func removeAll() -> [SegmentBuilder] {
        selected = nil
        let held = builders.compactMap { $0 }
        builders = Array(repeating: nil, count: builders.count)
        unretained = Array(repeating: nil, count: unretained.count)
        return held
    }

    /// Whether a builder is installed in `slot`.
    public func isInstalled(_ slot: Int) -> Bool { unretained[slot] != nil }

    /// ``select(_:)`` without handing the builder back (no reference counted for each row).
    public func selectSlot(_ slot: Int) {
        selected = unretained[slot]
    }

    /// Calls `body` with the selected builder, borrowed; nil when none is selected.
    @inline(__always)
    public func withCurrent<R>(_ body: (SegmentBuilder) -> R) -> R? {
        selected?._withUnsafeGuaranteedRef(body)
    }

    /// Selects the builder in `slot` for the setters; nil (no builder there) deselects.
    @discardableResult
    public func select(_ slot: Int) -> SegmentBuilder? {
        let builder = builders[slot]
        selected = builder.map { Unmanaged.passUnretained($0) }
        return builder
    }

    /// Leaves no builder selected: the setters do nothing until the next ``select(_:)``.
    public func deselect() {
        selected = nil
    }

    /// The selected builder, if any.
    public var current: SegmentBuilder? {
        selected?.takeUnretainedValue()
    }

    /// Calls `body` with the selected builder, borrowed without reference counting.
    @inline(__always)
    private func withSelected(_ body: (SegmentBuilder) -> Void) {
        selected?._withUnsafeGuaranteedRef(body)
    }

    /// ``SegmentBuilder/setInt64(_:at:)`` on the selected builder.
    public func setInt64(_ value: Int64, at column: Int) {
        withSelected { $0.setInt64(value, at: column) }
    }

    /// ``SegmentBuilder/setDouble(_:at:)`` on the selected builder.
    public func setDouble(_ value: Double, at column: Int) {
        withSelected { $0.setDouble(value, at: column) }
    }

    /// ``SegmentBuilder/setString(_:at:)-(ByteView,_)`` on the selected builder.
    public func setString(_ value: ByteView, at column: Int) {
        withSelected { $0.setString(value, at: column) }
    }

    /// ``SegmentBuilder/setString(_:at:)-(String,_)`` on the selected builder.
    public func setString(_ value: String, at column: Int) {
        withSelected { $0.setString(value, at: column) }
    }

    /// ``SegmentBuilder/setHash(_:at:)`` on the selected builder.
    public func setHash(_ value: Hash128, at column: Int) {
        withSelected { $0.setHash(value, at: column) }
    }

    /// ``SegmentBuilder/setHash(of:at:)`` on the selected builder.
    public func setHash(of value: ByteView, at column: Int) {
        withSelected { $0.setHash(of: value, at: column) }
    }
}

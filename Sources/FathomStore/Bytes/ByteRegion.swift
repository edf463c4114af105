import Foundation

/// A borrowed byte range presented as `DataProtocol`, so that a hash function (swift-crypto's
/// `SHA256.update(data:)`) can consume a mapping chunk without a copy and without the caller
/// touching a pointer.
///
/// The region is one contiguous range; `regions` is the region itself, and swift-crypto hashes it
/// with a single `update(bufferPointer:)`. Like the ``ByteView`` it wraps, a region must not outlive
/// the owner of its bytes (the ``FileMapping`` it came from).
public struct ByteRegion: DataProtocol, ContiguousBytes, @unchecked Sendable {
    public typealias Element = UInt8
    public typealias Index = Int
    public typealias Indices = Range<Int>
    public typealias SubSequence = Slice<ByteRegion>
    public typealias Regions = CollectionOfOne<ByteRegion>

    public let view: ByteView

    public init(_ view: ByteView) { self.view = view }

    public var startIndex: Int { 0 }
    public var endIndex: Int { view.count }
    public subscript(position: Int) -> UInt8 { view[position] }
    public subscript(bounds: Range<Int>) -> Slice<ByteRegion> { Slice(base: self, bounds: bounds) }
    public var regions: CollectionOfOne<ByteRegion> { CollectionOfOne(self) }

    /// Lends the raw bytes. The pointer must not escape `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: view.base, count: view.count))
    }
}


/// The bytes of a mapped file as a ``ByteStream``, in chunks, so that consumers can hash and
/// release pages as they go.
public final class MappedStream: ByteStream {
    public let mapping: FileMapping
    public let chunkSize: Int
    private var offset = 0

    public init(mapping: FileMapping, chunkSize: Int = 4 << 20) {
        self.mapping = mapping
        self.chunkSize = Swift.max(1, chunkSize)
    }

    public var consumedInputBytes: Int { offset }

    public func next() throws(StoreError) -> StreamEvent? {
        guard offset < mapping.count else { return nil }
        let end = Swift.min(mapping.count, offset + chunkSize)
        let view = mapping.bytes[offset..<end]
        offset = end
        return .bytes(view)
    }
}

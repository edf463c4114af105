/// A stream that yields one ``StreamDamage`` and ends: the data of an input that cannot be read,
/// such as a tar member compressed in an unsupported format.
final class DamagedStream: ByteStream {
    private var damage: StreamDamage?
    private let source: any ByteStream

    /// - Parameter source: the stream whose bytes are given up on (for progress reporting).
    init(damage: StreamDamage, source: any ByteStream) {
        self.damage = damage
        self.source = source
    }

    var consumedInputBytes: Int { source.consumedInputBytes }

    func next() throws(StoreError) -> StreamEvent? {
        defer { damage = nil }
        return damage.map { .damage($0) }
    }
}

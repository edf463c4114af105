/// The data of one tar member: a window of the ``TarReader``'s source.
///
/// Views are the source's own chunks, cut to the member's extent; nothing is copied.
final class TarMemberStream: ByteStream {
    private let reader: TarReader
    private let memberID: Int

    init(reader: TarReader, memberID: Int) {
        self.reader = reader
        self.memberID = memberID
    }

    var consumedInputBytes: Int { reader.consumedInputBytes }

    func next() throws(StoreError) -> StreamEvent? {
        try reader.nextData(of: memberID)
    }
}

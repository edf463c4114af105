/// One regular file of a tar archive, as found by ``TarReader/nextMember()``.
///
/// The stream yields exactly the member's data, then ends. It is valid until the reader moves
/// to the next member; after that it yields nothing.
public struct TarMember {
    /// The member's path in the archive: the PAX `path` record, the GNU long name, or the
    /// header's prefix and name, in that order of preference. Invalid UTF-8 is repaired.
    public let name: String
    /// The member's data size in bytes, as the archive declares it.
    public let size: Int
    /// The member's data.
    public let stream: any ByteStream
}

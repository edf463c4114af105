/// One logical input of an archive file: the file itself (plain or compressed), or one regular
/// member of a tar bundle.
public final class ArchiveInput {
    /// `file.log.zst`, or for a tar member `bundle.tar.zst!path/in/tar`.
    public let name: String
    /// The compressions removed to produce ``stream``, outermost first: `[.zstd]` for a member of
    /// `bundle.tar.zst`, `[.zstd, .gzip]` for a `.gz` member of a `.tar.zst`.
    public let compressions: [Compression]
    /// Whether this input is a member of a tar archive.
    public let isTarMember: Bool
    /// The decompressed bytes of this input.
    public let stream: any ByteStream

    init(name: String, compressions: [Compression], isTarMember: Bool, stream: any ByteStream) {
        self.name = name
        self.compressions = compressions
        self.isTarMember = isTarMember
        self.stream = stream
    }
}

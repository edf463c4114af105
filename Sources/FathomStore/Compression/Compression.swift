/// A compression format Fathom decompresses while it reads.
public enum Compression: String, Sendable {
    /// Zstandard frames (`28 B5 2F FD`), possibly with skippable frames.
    case zstd
    /// gzip members (`1F 8B`).
    case gzip
}

/// Something wrong found inside a stream that did not stop it: a truncated zstd frame, a corrupt
/// gzip member, a tar member cut short. What came before it was delivered; reading resumes after
/// it where the format allows (the next frame or member), otherwise the stream ends.
public struct StreamDamage: Equatable, Sendable, CustomStringConvertible {
    /// Offset in the stream's *input* (the compressed bytes) where the damage was found.
    public var offset: Int
    /// One line naming what is wrong, e.g. `truncated zstd frame (frame 3 starts at byte 1048576)`.
    public var detail: String
    /// Bytes of the *output* (decompressed data) the damage lost, when the format tells: a zstd
    /// frame's declared content size less what was decoded from it, a tar member's size less what
    /// was read of it, a gzip member's ISIZE trailer. Nil when the format cannot tell (the reader
    /// then estimates it from ``skippedBytes`` and the compression ratio).
    public var lostBytes: Int?
    /// Bytes of the input passed over to get past the damage (to the next frame or member, or to
    /// the end of the input).
    public var skippedBytes: Int

    public init(offset: Int, detail: String, lostBytes: Int? = nil, skippedBytes: Int = 0) {
        self.offset = offset
        self.detail = detail
        self.lostBytes = lostBytes
        self.skippedBytes = skippedBytes
    }

    public var description: String { "\(detail) at byte \(offset)" }
}

/// What a ``ByteStream`` yields.
public enum StreamEvent {
    /// The next bytes of the stream. The view is valid until the next call to `next()`.
    case bytes(ByteView)
    /// Damage that was skipped (see ``StreamDamage``).
    case damage(StreamDamage)
}

/// A pull-based stream of bytes: a mapped file, a decompressor, a tar member.
///
/// Streams are single-pass and not thread-safe; each is used by one task at a time.
public protocol ByteStream: AnyObject {
    /// The next event, or nil at the end of the stream.
    func next() throws(StoreError) -> StreamEvent?
    /// How many bytes of the underlying *file* this stream (and the streams below it) has consumed
    /// so far; used to drive progress reporting and streaming hashing.
    var consumedInputBytes: Int { get }
}

/// A stream that can pass over bytes without producing them: a file read with `pread(2)` seeks,
/// a mapping range moves its offset. A consumer that skips a large payload (a pickle's tensor
/// bytes) then neither copies nor touches them.
public protocol SkippingStream: ByteStream {
    /// Passes over up to `count` bytes after the last chunk produced; returns how many (fewer only
    /// at the end). Returns 0 when the stream cannot skip at this point (the caller reads instead).
    func skip(_ count: Int) throws(StoreError) -> Int
}

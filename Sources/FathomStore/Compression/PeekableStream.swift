#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A stream that lets its owner look at the first few bytes of another stream, then replays
/// them.
///
/// When the source's first chunk already holds the bytes asked for, nothing is copied: the chunk
/// is kept and replayed as is. Otherwise the first bytes are gathered into a small owned buffer
/// (at most ``capacity`` bytes) and replayed from there, followed by the rest of the last chunk.
public final class PeekableStream: ByteStream {
    /// The most bytes ``peek(_:)`` can return.
    public static let capacity = 512

    private let source: any ByteStream
    private let head: UnsafeMutableRawBufferPointer
    private var headCount = 0
    private var queue: [StreamEvent] = []
    private var queueIndex = 0
    private var isSourceFinished = false
    private var hasPeeked = false

    public init(source: any ByteStream) {
        self.source = source
        head = UnsafeMutableRawBufferPointer.allocate(byteCount: Self.capacity, alignment: 16)
    }

    deinit {
        head.deallocate()
    }

    public var consumedInputBytes: Int { source.consumedInputBytes }

    /// Up to `count` first bytes of the stream (fewer when the stream is shorter). Call once,
    /// before ``next()``; the view is valid until the first call to ``next()``.
    public func peek(_ count: Int) throws(StoreError) -> ByteView {
        precondition(!hasPeeked, "peek(_:) called twice")
        precondition(count > 0 && count <= Self.capacity, "peek beyond the buffer")
        hasPeeked = true
        while headCount < count {
            guard let event = try source.next() else {
                isSourceFinished = true
                break
            }
            guard case .bytes(let bytes) = event else {
                queue.append(event)
                continue
            }
            if bytes.isEmpty { continue }
            if headCount == 0, bytes.count >= count {
                queue.append(event)
                return bytes[0..<count]
            }
            let take = Swift.min(bytes.count, count - headCount)
            guard let target = head.baseAddress else { break }
            bytes[0..<take].withUnsafeBytes { piece in
                if let from = piece.baseAddress { _ = memcpy(target + headCount, from, take) }
            }
            queue.append(.bytes(ByteView(unsafeStart: UnsafeRawPointer(target) + headCount, count: take)))
            headCount += take
            if take < bytes.count { queue.append(.bytes(bytes[take..<bytes.count])) }
        }
        return ByteView(unsafeStart: head.baseAddress.map { UnsafeRawPointer($0) }, count: headCount)
    }

    public func next() throws(StoreError) -> StreamEvent? {
        if queueIndex < queue.count {
            let event = queue[queueIndex]
            queueIndex += 1
            if queueIndex == queue.count {
                queue.removeAll()
                queueIndex = 0
            }
            return event
        }
        if isSourceFinished { return nil }
        return try source.next()
    }
}

extension PeekableStream: SkippingStream {
    /// Skips in the source once the peeked bytes have been replayed, when the source can skip.
    public func skip(_ count: Int) throws(StoreError) -> Int {
        guard queueIndex >= queue.count, !isSourceFinished, let source = source as? any SkippingStream else { return 0 }
        return try source.skip(count)
    }
}

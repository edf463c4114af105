import FathomStore

/// Forward reading of a ``ByteStream`` for the pickle walker: single bytes, short fixed reads,
/// newline-terminated lines and skips, with the absolute offset of every byte, without ever
/// holding more than one chunk of the stream and a few bytes carried over a chunk boundary.
///
/// ```
///   consumed │ carry (copied) │ chunk[index…]  (the stream's current view) │ not yet pulled
///  ──────────┴────────────────┴────────────────────────────────────────────┴──────────────
///            ▲ position
/// ```
///
/// Damage reported by the stream (a CRC mismatch, a corrupt compressed block) is collected in
/// ``damage``; a thrown ``StoreError`` ends the input and is kept in ``failure``.
///
/// - Complexity: every byte is touched once; skips of stored data touch none of it.
package final class PickleInput {
    private let stream: any ByteStream
    private var chunk = ByteView.empty
    private var index = 0
    private var carry: [UInt8] = []
    private var carryIndex = 0
    private var isEnded = false
    /// Offset of the next byte to read, from the start of the stream.
    package private(set) var position = 0
    package private(set) var damage: [StreamDamage] = []
    package private(set) var failure: StoreError?

    package init(_ stream: any ByteStream) {
        self.stream = stream
    }

    /// Pulls the next chunk; false at the end.
    private func pull() -> Bool {
        guard !isEnded else { return false }
        while true {
            let event: StreamEvent?
            do throws(StoreError) {
                event = try stream.next()
            } catch {
                failure = error
                isEnded = true
                return false
            }
            switch event {
            case nil:
                isEnded = true
                chunk = .empty
                index = 0
                return false
            case let .damage(found)?:
                damage.append(found)
            case let .bytes(view)?:
                guard !view.isEmpty else { continue }
                chunk = view
                index = 0
                return true
            }
        }
    }

    private var carried: Int { carry.count - carryIndex }

    /// The next byte, or nil at the end.
    package func byte() -> UInt8? {
        if carryIndex < carry.count {
            let value = carry[carryIndex]
            carryIndex += 1
            if carryIndex == carry.count { carry.removeAll(keepingCapacity: true); carryIndex = 0 }
            position += 1
            return value
        }
        if index >= chunk.count, !pull() { return nil }
        let value = chunk[index]
        index += 1
        position += 1
        return value
    }

    /// Up to `count` next bytes, not consumed.
    package func peek(_ count: Int) -> [UInt8] {
        while carried + (chunk.count - index) < count {
            // Keep what is left of this chunk before its view is replaced.
            carry.append(contentsOf: chunk[index..<chunk.count].array)
            index = chunk.count
            if !pull() { break }
        }
        var result = Array(carry[carryIndex...].prefix(count))
        if result.count < count {
            let wanted = Swift.min(count - result.count, chunk.count - index)
            result += chunk[index..<(index + wanted)].array
        }
        return result
    }

    /// Exactly `count` bytes (nil when the input ends first, with what was there consumed).
    package func bytes(_ count: Int) -> [UInt8]? {
        var result: [UInt8] = []
        result.reserveCapacity(Swift.min(count, 1 << 16))
        while result.count < count {
            if carryIndex < carry.count {
                let take = Swift.min(count - result.count, carried)
                result += carry[carryIndex..<(carryIndex + take)]
                carryIndex += take
                position += take
                if carryIndex == carry.count { carry.removeAll(keepingCapacity: true); carryIndex = 0 }
                continue
            }
            if index >= chunk.count, !pull() { return nil }
            let take = Swift.min(count - result.count, chunk.count - index)
            result += chunk[index..<(index + take)].array
            index += take
            position += take
        }
        return result
    }

    /// Up to `count` next bytes (fewer only at the end).
    package func read(upTo count: Int) -> [UInt8] {
        var result: [UInt8] = []
        while result.count < count {
            let piece = peek(Swift.min(count - result.count, 1 << 20))
            if piece.isEmpty { break }
            result += piece
            skip(piece.count)
        }
        return result
    }

    /// Consumes `count` bytes, keeping the first `keep` of them; nil when the input ends first.
    package func take(_ count: Int, keeping keep: Int) -> [UInt8]? {
        let kept = Swift.min(count, keep)
        guard let head = bytes(kept) else { return nil }
        guard skip(count - kept) == count - kept else { return nil }
        return head
    }

    /// Skips up to `count` bytes; returns how many were skipped (fewer only at the end).
    @discardableResult
    package func skip(_ count: Int) -> Int {
        var left = count
        while left > 0 {
            if carryIndex < carry.count {
                let take = Swift.min(left, carried)
                carryIndex += take
                left -= take
                position += take
                if carryIndex == carry.count { carry.removeAll(keepingCapacity: true); carryIndex = 0 }
                continue
            }
            if index >= chunk.count {
                // Past the current chunk: let a file or mapping move its offset instead of reading.
                if left > Self.skipThreshold, !isEnded, let skipping = stream as? any SkippingStream {
                    do throws(StoreError) {
                        let skipped = try skipping.skip(left)
                        left -= skipped
                        position += skipped
                        if skipped > 0 { continue }
                    } catch {
                        failure = error
                        isEnded = true
                        break
                    }
                }
                if !pull() { break }
            }
            let take = Swift.min(left, chunk.count - index)
            index += take
            left -= take
            position += take
        }
        return count - left
    }

    /// Skips longer than this go to a ``SkippingStream`` when the stream is one.
    package static let skipThreshold = 1 << 16

    /// The bytes up to the next newline, which is consumed and not returned; the first `keep`
    /// bytes are kept and the rest only counted. Nil when the input ends before a newline.
    package func line(keeping keep: Int) -> (bytes: [UInt8], length: Int)? {
        var kept: [UInt8] = []
        var length = 0
        while true {
            if carryIndex < carry.count {
                let value = carry[carryIndex]
                carryIndex += 1
                position += 1
                if carryIndex == carry.count { carry.removeAll(keepingCapacity: true); carryIndex = 0 }
                if value == 0x0A { return (kept, length) }
                if kept.count < keep { kept.append(value) }
                length += 1
                continue
            }
            if index >= chunk.count, !pull() { return nil }
            let end = chunk.firstIndex(of: 0x0A, from: index) ?? chunk.count
            let room = keep - kept.count
            if room > 0 { kept += chunk[index..<Swift.min(end, index + room)].array }
            length += end - index
            position += end - index
            if end < chunk.count {
                index = end + 1
                position += 1
                return (kept, length)
            }
            index = end
        }
    }

    /// Whether the input has no byte left.
    package var isAtEnd: Bool { peek(1).isEmpty }

    /// Reads the rest of the input, counting it.
    package func drain() -> Int {
        var count = 0
        while true {
            let skipped = skip(1 << 30)
            count += skipped
            if skipped < 1 << 30 { return count }
        }
    }
}

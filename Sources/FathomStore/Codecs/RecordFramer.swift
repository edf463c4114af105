/// How a ``RecordFramer`` cuts its input into records.
public enum FramingMode: Sendable, Equatable {
    /// One record per physical line (JSON Lines, CSV, access logs, …).
    case lines
    /// One record per element of a JSON array: the top-level array (`envelopeKey == nil`) or the
    /// array under a top-level key such as CloudTrail's `Records` or Azure's `records`.
    case jsonArray(envelopeKey: String?)
}

/// What a ``RecordFramer`` delivers.
public enum FramedEvent {
    /// A record. `number` is the 1-based physical line (lines mode) or the 1-based element index
    /// (array mode). The view is valid only during the callback.
    case record(ByteView, number: Int64)
    /// A record that was skipped: too large, or cut off by the end of the document. `sample` holds
    /// at most its first 256 bytes and is valid only during the callback.
    case rejected(number: Int64, reason: String, sample: ByteView)
}

/// Turns a stream of byte chunks into records, choosing the framing from the content.
///
/// **Mode.** Decided from the first non-whitespace bytes (after a UTF-8 BOM):
/// - `[` → ``FramingMode/jsonArray(envelopeKey:)`` with a nil key (a top-level array);
/// - `{` whose first object has, at depth 1, the key `Records`, `records` or `Events` followed by `[` →
///   array mode under that key (other top-level keys are ignored, and so is everything after
///   the array's `]`); the envelope may be on one line or pretty-printed;
/// - anything else, including `{` objects without such a key → ``FramingMode/lines``.
/// The decision is made from the first `maxRecordBytes` bytes at most; until it is made, input
/// is buffered (at most about `maxRecordBytes` plus one chunk).
///
/// **Lines.** LF or CRLF ends a line (the CR is dropped); the last line needs no newline.
/// Blank and whitespace-only lines are skipped but counted, so `number` is the physical line.
///
/// **Arrays.** A streaming scanner tracks depth and strings (with escapes) across chunks; each
/// element, whatever its kind, is one record without surrounding whitespace. An empty element
/// (`[1,,2]`) is rejected as `empty element in JSON array`. If the input ends inside an
/// element, it is rejected as `JSON document ends inside a record`; an input that ends after a
/// complete element but before the array closes still delivers that element. After the
/// document ends, another envelope or array may follow (`{"records":[…]}` once per line, as
/// Event Hub captures write them): its elements continue the numbering. Anything else after the
/// document is reported once as `content after the end of the JSON document`, never dropped
/// silently.
///
/// **Memory.** Records that lie inside a chunk are zero-copy views into it; only a record that
/// spans chunks is copied into an internal buffer. A record over `maxRecordBytes` is never
/// buffered whole: it is skipped up to its end, keeping only a 256-byte sample, and reported as
/// `record of N bytes exceeds the 16 MiB limit`. The limit and N count the raw bytes before the
/// LF (a CR included) or, for array elements, from the first non-whitespace byte to the `,` or
/// `]` (trailing whitespace included), so the outcome never depends on how input is chunked.
///
/// After ``finish(_:)`` the framer is reset and can frame a new stream.
///
/// - Complexity: O(n) over the input; each byte is examined a constant number of times
///   (lines use `memchr`).
public final class RecordFramer {
    /// The largest record delivered, in bytes.
    public let maxRecordBytes: Int
    /// The framing in use, or nil until enough input has been seen to decide. Still readable
    /// after ``finish(_:)``; cleared when the next stream starts.
    public private(set) var mode: FramingMode?
    private var isFinished = false

    private static let sampleLimit = 256

    private var pending = ScratchBuffer(capacity: 4096)   // input held until the mode is decided
    private var nextSniffAt = 64
    private let carry = ScratchBuffer(capacity: 4096)     // the record spanning chunks
    private let sample = ScratchBuffer(capacity: 256)     // sample of the record being skipped
    private var skipping = false
    private var skippedBytes = 0
    private var number: Int64 = 0

    // Array scanner state.
    private enum ArrayPhase {
        case beforeElement, inElement
        case afterArray        // inside the envelope object after its array: skip to its `}`
        case betweenDocuments  // after a complete document: look for another one
        case resniff           // buffering the next document's start in `pending`
        case trailing          // not a document: collecting a sample in `pending` to report
        case done
    }
    private var phase = ArrayPhase.beforeElement
    private var depth = 0
    private var inString = false
    private var escaped = false

    /// Bytes currently reserved by the framer's own buffers (for the bounded-memory guarantee;
    /// a diagnostic, not a limit).
    public var bufferedByteCapacity: Int { pending.capacity + carry.capacity + sample.capacity }

    /// Creates a framer that rejects records longer than `maxRecordBytes` (at least 1).
    public init(maxRecordBytes: Int = 16 << 20) {
        self.maxRecordBytes = Swift.max(1, maxRecordBytes)
    }

    /// Frames the next chunk of the stream, calling `handle` for each record completed in it.
    ///
    /// - Complexity: O(`chunk.count`), amortized.
    public func feed(_ chunk: ByteView, _ handle: (FramedEvent) throws -> Void) rethrows {
        guard !chunk.isEmpty else { return }
        if isFinished {
            isFinished = false
            mode = nil
        }
        if mode != nil {
            try process(chunk, from: 0, handle)
            return
        }
        if pending.isEmpty {
            if case let .decided(decided, resume) = Self.sniff(chunk, final: false, limit: maxRecordBytes) {
                mode = decided
                try process(chunk, from: resume, handle)
                return
            }
            pending.append(chunk)
            nextSniffAt = Swift.max(64, chunk.count * 2)
            return
        }
        pending.append(chunk)
        guard pending.count >= nextSniffAt else { return }
        nextSniffAt = pending.count * 2
        try sniffPending(final: false, handle)
    }

    /// Ends the stream: delivers a last line without newline, reports a record cut off by the
    /// end, and resets the framer for a new stream (``mode`` stays readable until then).
    ///
    /// - Complexity: O(buffered bytes).
    public func finish(_ handle: (FramedEvent) throws -> Void) rethrows {
        defer { reset() }
        if isFinished {
            isFinished = false
            mode = nil
        }
        if mode == nil {
            guard !pending.isEmpty else { return }
            try sniffPending(final: true, handle)
        }
        switch mode {
        case .lines:
            if skipping {
                number += 1
                try rejectSkipped(handle)
            } else if !carry.isEmpty {
                number += 1
                try emitLine(carry.view, handle)
            }
        case .jsonArray:
            // Each resolution consumes the buffered document's start; what follows it may be
            // buffered again (another short envelope, trailing text), so resolve until none is.
            while phase == .resniff { try resolveResniff(final: true, handle) }
            if phase == .trailing { try reportTrailing(handle) }
            guard phase == .inElement else { return }
            if !skipping, !inString, depth == 0 {
                let element = TextCodecs.trimmed(carry.view)
                let last = element[element.count - 1]
                if last == 0x7D || last == 0x5D || last == 0x22 {
                    try handle(.record(element, number: number))
                    return
                }
            }
            let sampleView = skipping ? sample.view : carry.view[0..<Self.sampleLimit]
            try handle(.rejected(number: number, reason: "JSON document ends inside a record", sample: sampleView))
        case nil:
            break
        }
    }

    private func reset() {
        isFinished = true
        pending.removeAll()
        if pending.capacity > 1 << 20 { pending = ScratchBuffer(capacity: 4096) }
        nextSniffAt = 64
        carry.removeAll()
        sample.removeAll()
        skipping = false
        skippedBytes = 0
        number = 0
        phase = .beforeElement
        depth = 0
        inString = false
        escaped = false
    }

    private func sniffPending(final: Bool, _ handle: (FramedEvent) throws -> Void) rethrows {
        guard case let .decided(decided, resume) = Self.sniff(pending.view, final: final, limit: maxRecordBytes) else {
            return
        }
        mode = decided
        let buffered = pending
        pending = ScratchBuffer(capacity: 64)
        try process(buffered.view, from: resume, handle)
    }

    private func process(_ chunk: ByteView, from start: Int, _ handle: (FramedEvent) throws -> Void) rethrows {
        switch mode {
        case .lines: try feedLines(chunk, from: start, handle)
        case .jsonArray: try feedArray(chunk, from: start, handle)
        case nil: break
        }
    }

    // MARK: Mode detection

    enum Sniff: Equatable {
        case needMore
        case decided(FramingMode, resume: Int)
    }

    /// Decides the mode from the start of the stream. `resume` is where framing starts: after
    /// the BOM (lines) or after the array's `[`.
    ///
    /// Only the first `limit` bytes are looked at, so the decision does not depend on chunking:
    /// if they do not settle it, the input is framed as lines.
    static func sniff(_ whole: ByteView, final: Bool, limit: Int) -> Sniff {
        let v = whole[0..<limit]
        let n = v.count
        var i = 0
        let more: Sniff = final || whole.count > limit ? .decided(.lines, resume: bomLength(v)) : .needMore
        if n < 3, v[0] == 0xEF, n < 2 || v[1] == 0xBB { return more }
        let start = bomLength(v)
        i = start
        while i < n, TextCodecs.isWhitespace(v[i]) { i += 1 }
        guard i < n else { return more }
        let lines = Sniff.decided(.lines, resume: start)
        if v[i] == 0x5B { return .decided(.jsonArray(envelopeKey: nil), resume: i + 1) }
        guard v[i] == 0x7B else { return lines }
        i += 1
        while true {
            while i < n, TextCodecs.isWhitespace(v[i]) { i += 1 }
            guard i < n else { return more }
            guard v[i] == 0x22 else { return lines }  // `}` (empty object) or not JSON
            guard let keyEnd = stringEnd(v, from: i + 1) else { return more }
            let key = v[i + 1..<keyEnd]
            // CloudTrail log files and Azure resource logs (`Records`, `records`); `aws cloudtrail
            // lookup-events` output (`Events`).
            let envelopeKey: String? = key.equals("Records") ? "Records" : key.equals("records") ? "records"
                : key.equals("Events") ? "Events" : nil
            i = keyEnd + 1
            while i < n, TextCodecs.isWhitespace(v[i]) { i += 1 }
            guard i < n else { return more }
            guard v[i] == 0x3A else { return lines }
            i += 1
            while i < n, TextCodecs.isWhitespace(v[i]) { i += 1 }
            guard i < n else { return more }
            if let envelopeKey, v[i] == 0x5B {
                return .decided(.jsonArray(envelopeKey: envelopeKey), resume: i + 1)
            }
            // Skip the member's value up to the `,` or `}` that ends it at depth 1.
            var depth = 0
            while true {
                guard i < n else { return more }
                let c = v[i]
                if c == 0x22 {
                    guard let end = stringEnd(v, from: i + 1) else { return more }
                    i = end + 1
                    continue
                }
                if c == 0x7B || c == 0x5B {
                    depth += 1
                } else if c == 0x7D || c == 0x5D {
                    if depth == 0 { return lines }
                    depth -= 1
                } else if c == 0x2C, depth == 0 {
                    i += 1
                    break
                }
                i += 1
            }
        }
    }

    private static func bomLength(_ v: ByteView) -> Int {
        v.count >= 3 && v[0] == 0xEF && v[1] == 0xBB && v[2] == 0xBF ? 3 : 0
    }

    /// The offset of the quote closing a string whose content starts at `from`.
    private static func stringEnd(_ v: ByteView, from: Int) -> Int? {
        var i = from
        while let q = v.firstIndex(of: 0x22, from: i) {
            var backslashes = 0
            var k = q - 1
            while k >= from, v[k] == 0x5C {
                backslashes += 1
                k -= 1
            }
            if backslashes % 2 == 0 { return q }
            i = q + 1
        }
        return nil
    }

    // MARK: Oversized records

    private func limitDescription() -> String {
        if maxRecordBytes % (1 << 20) == 0 { return "\(maxRecordBytes >> 20) MiB" }
        if maxRecordBytes % (1 << 10) == 0 { return "\(maxRecordBytes >> 10) KiB" }
        return "\(maxRecordBytes) bytes"
    }

    private func rejectOversized(_ size: Int, sample view: ByteView, _ handle: (FramedEvent) throws -> Void) rethrows {
        try handle(.rejected(number: number,
                             reason: "record of \(size) bytes exceeds the \(limitDescription()) limit",
                             sample: view[0..<Self.sampleLimit]))
    }

    /// Starts skipping a record whose first bytes are `carry` + `head`.
    private func startSkipping(head: ByteView) {
        skipping = true
        sample.removeAll()
        sample.append(carry.view[0..<Self.sampleLimit])
        sample.append(head[0..<(Self.sampleLimit - sample.count)])
        skippedBytes = carry.count + head.count
        carry.removeAll()
    }

    private func continueSkipping(_ part: ByteView) {
        if sample.count < Self.sampleLimit { sample.append(part[0..<(Self.sampleLimit - sample.count)]) }
        skippedBytes += part.count
    }

    private func rejectSkipped(_ handle: (FramedEvent) throws -> Void) rethrows {
        try rejectOversized(skippedBytes, sample: sample.view, handle)
        skipping = false
        skippedBytes = 0
        sample.removeAll()
    }

    // MARK: Lines

    /// Delivers a line of at most `maxRecordBytes` (callers check) unless it is blank.
    private func emitLine(_ line: ByteView, _ handle: (FramedEvent) throws -> Void) rethrows {
        var end = line.count
        if end > 0, line[end - 1] == 0x0D { end -= 1 }
        let record = line[0..<end]
        var index = 0
        while index < end {
            let c = record[index]
            if c != 0x20, c != 0x09, c != 0x0D { break }
            index += 1
        }
        guard index < end else { return }
        try handle(.record(record, number: number))
    }

    private func feedLines(_ chunk: ByteView, from start: Int, _ handle: (FramedEvent) throws -> Void) rethrows {
        let n = chunk.count
        var pos = start
        if skipping {
            guard let newline = chunk.firstIndex(of: 0x0A, from: pos) else {
                continueSkipping(chunk[pos..<n])
                return
            }
            continueSkipping(chunk[pos..<newline])
            number += 1
            try rejectSkipped(handle)
            pos = newline + 1
        } else if !carry.isEmpty {
            guard let newline = chunk.firstIndex(of: 0x0A, from: pos) else {
                let rest = chunk[pos..<n]
                if carry.count + rest.count > maxRecordBytes {
                    startSkipping(head: rest)
                } else {
                    carry.append(rest)
                }
                return
            }
            number += 1
            let head = chunk[pos..<newline]
            if carry.count + head.count > maxRecordBytes {
                startSkipping(head: head)
                try rejectSkipped(handle)
            } else {
                carry.append(head)
                try emitLine(carry.view, handle)
            }
            carry.removeAll()
            pos = newline + 1
        }
        while pos < n {
            guard let newline = chunk.firstIndex(of: 0x0A, from: pos) else {
                let rest = chunk[pos..<n]
                if rest.count > maxRecordBytes {
                    startSkipping(head: rest)
                } else {
                    carry.append(rest)
                }
                return
            }
            number += 1
            let line = chunk[pos..<newline]
            if line.count > maxRecordBytes {
                try rejectOversized(line.count, sample: line, handle)
            } else {
                try emitLine(line, handle)
            }
            pos = newline + 1
        }
    }

    // MARK: Arrays

    private func feedArray(_ chunk: ByteView, from start: Int, _ handle: (FramedEvent) throws -> Void) rethrows {
        let n = chunk.count
        var j = start
        var segmentStart = start
        while j < n {
            switch phase {
            case .done:
                return
            case .afterArray:
                // Skip the envelope's remaining members up to its closing brace.
                while j < n {
                    let c = chunk[j]
                    j += 1
                    if inString {
                        if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                        continue
                    }
                    if c == 0x22 {
                        inString = true
                    } else if c == 0x7B || c == 0x5B {
                        depth += 1
                    } else if c == 0x7D || c == 0x5D {
                        if depth == 0 {
                            phase = .betweenDocuments
                            break
                        }
                        depth -= 1
                    }
                }
            case .betweenDocuments:
                while j < n, TextCodecs.isWhitespace(chunk[j]) { j += 1 }
                guard j < n else { return }
                phase = .resniff
                pending.removeAll()
                nextSniffAt = 64
            case .trailing:
                pending.append(chunk[j..<Swift.min(n, j + Self.sampleLimit - pending.count)])
                if pending.count >= Self.sampleLimit { try reportTrailing(handle) }
                return
            case .resniff:
                pending.append(chunk[j..<n])
                guard pending.count >= nextSniffAt else { return }
                nextSniffAt = pending.count * 2
                try resolveResniff(final: false, handle)
                return
            case .beforeElement:
                while j < n, TextCodecs.isWhitespace(chunk[j]) { j += 1 }
                guard j < n else { return }
                let c = chunk[j]
                if c == 0x5D {
                    endArray()
                    j += 1
                    continue
                }
                number += 1
                if c == 0x2C {
                    try handle(.rejected(number: number, reason: "empty element in JSON array", sample: .empty))
                    j += 1
                    continue
                }
                phase = .inElement
                depth = 0
                inString = false
                escaped = false
                segmentStart = j
            case .inElement:
                guard let end = scanElement(chunk, from: &j) else {
                    let rest = chunk[segmentStart..<n]
                    if skipping {
                        continueSkipping(rest)
                    } else if carry.count + rest.count > maxRecordBytes {
                        startSkipping(head: rest)
                    } else {
                        carry.append(rest)
                    }
                    return
                }
                let head = chunk[segmentStart..<end]
                if skipping {
                    continueSkipping(head)
                    try rejectSkipped(handle)
                } else if carry.isEmpty {
                    try emitElement(head, handle)
                } else if carry.count + head.count > maxRecordBytes {
                    startSkipping(head: head)
                    try rejectSkipped(handle)
                } else {
                    carry.append(head)
                    try emitElement(carry.view, handle)
                }
                carry.removeAll()
                if chunk[end] == 0x5D { endArray() } else { phase = .beforeElement }
                j = end + 1
            }
        }
    }

    /// The array closed: an envelope's remaining members follow, a bare array is complete.
    private func endArray() {
        if case .jsonArray(envelopeKey: .some) = mode {
            phase = .afterArray
            depth = 0
            inString = false
            escaped = false
        } else {
            phase = .betweenDocuments
        }
    }

    /// Decides what the bytes after a complete document are: another envelope or array
    /// (framing continues), or something else (reported once, then ignored).
    private func resolveResniff(final: Bool, _ handle: (FramedEvent) throws -> Void) rethrows {
        switch Self.sniff(pending.view, final: final, limit: maxRecordBytes) {
        case .needMore:
            return
        case let .decided(.jsonArray, resume):
            let buffered = pending
            pending = ScratchBuffer(capacity: 64)
            phase = .beforeElement
            try feedArray(buffered.view, from: resume, handle)
        case .decided(.lines, _):
            phase = .trailing
            if final || pending.count >= Self.sampleLimit { try reportTrailing(handle) }
        }
    }

    /// Reports content after the end of the document once, with a sample of its first bytes.
    private func reportTrailing(_ handle: (FramedEvent) throws -> Void) rethrows {
        try handle(.rejected(number: number + 1, reason: "content after the end of the JSON document",
                             sample: pending.view[0..<Self.sampleLimit]))
        pending.removeAll()
        phase = .done
    }

    /// Delivers an element (its raw bytes up to the separator), trimmed of trailing whitespace.
    private func emitElement(_ raw: ByteView, _ handle: (FramedEvent) throws -> Void) rethrows {
        if raw.count > maxRecordBytes {
            try rejectOversized(raw.count, sample: raw, handle)
        } else {
            try handle(.record(TextCodecs.trimmed(raw), number: number))
        }
    }

    /// Advances `j` through an element; returns the offset of the `,` or `]` that ends it at
    /// depth 0, or nil at the end of the chunk (state kept for the next one).
    private func scanElement(_ chunk: ByteView, from j: inout Int) -> Int? {
        guard let base = chunk.base else { return nil }
        let p = base.assumingMemoryBound(to: UInt8.self)
        let n = chunk.count
        var i = j
        defer { j = i }
        while i < n {
            if inString {
                if escaped {
                    escaped = false
                    i += 1
                    continue
                }
                // Fast path: run to the next quote or backslash.
                while i < n, p[i] != 0x22, p[i] != 0x5C { i += 1 }
                guard i < n else { return nil }
                if p[i] == 0x5C { escaped = true } else { inString = false }
                i += 1
                continue
            }
            switch p[i] {
            case 0x22: inString = true
            case 0x7B, 0x5B: depth += 1
            case 0x7D: if depth > 0 { depth -= 1 }
            case 0x5D:
                if depth == 0 { return i }
                depth -= 1
            case 0x2C:
                if depth == 0 { return i }
            default: break
            }
            i += 1
        }
        return nil
    }
}

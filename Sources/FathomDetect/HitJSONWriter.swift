import FathomStore
import FathomSupport
import FathomCatalog

/// Writes a ``Hit`` as `JSONEncoder` does with `.sortedKeys` and `.withoutEscapingSlashes`, and
/// optionally `.prettyPrinted`: the same bytes, straight into a byte buffer.
///
/// The encoder's rules it follows (swift-foundation's `JSONWriter`): keys sorted by their UTF-8
/// bytes; pretty output indents two spaces a level, writes `"key" : value`, and an empty object or
/// array as its brackets around an empty line; strings escape `"` and `\`, `\b \f \n \r \t`, and
/// the other control characters as `\u00xx` (lower-case hex), nothing else; a finite double is its
/// `description` without a trailing `.0`, a non-finite one `null` (``HitValue/encode(to:)``).
///
/// `HitsJSONTests` holds it to the encoder's bytes on hostile text, every control character,
/// keys that sort differently by bytes than by characters, and random doubles.
package struct HitJSONWriter {
    package let pretty: Bool
    /// Whether strings escape the scalars ``JSONText/isInvisible(_:)`` names as well, as
    /// ``JSONText/appendEscapingInvisible(_:to:where:)`` of the written bytes would: in the one
    /// pass that writes them, not a second pass over the document.
    package let escapingInvisible: Bool
    package var bytes: [UInt8] = []

    package init(pretty: Bool, escapingInvisible: Bool = false) {
        self.pretty = pretty
        self.escapingInvisible = escapingInvisible
    }

    /// Writes `hit` as a value at nesting `depth` (the indentation of its members is `depth + 1`
    /// levels; nothing is written before the opening brace).
    package mutating func write(_ hit: Hit, depth: Int) {
        var object = ObjectWriter(depth: depth)
        object.key("atlas", &self)
        array(hit.atlas, depth: depth + 1)
        object.key("evidence", &self)
        write(hit.evidence, depth: depth + 1)
        if let fields = hit.fields {
            object.key("fields", &self)
            // The names are in byte order already: written as they are packed, not sorted again.
            var inner = ObjectWriter(depth: depth + 1)
            fields.forEach { name, value in
                inner.key(name, &self)
                write(value, depth: depth + 2)
            }
            inner.close(&self)
        }
        object.key("key", &self)
        write(hit.key, depth: depth + 1)
        object.key("kind", &self)
        string(hit.kind.rawValue)
        object.key("level", &self)
        string(hit.level)
        object.key("metrics", &self)
        write(hit.metrics, depth: depth + 1)
        object.key("rule", &self)
        string(hit.rule)
        if let time = hit.time {
            object.key("time", &self)
            timestamp(time)
        }
        object.key("title", &self)
        string(hit.title)
        if let window = hit.window {
            object.key("window", &self)
            var inner = ObjectWriter(depth: depth + 1)
            inner.key("end", &self)
            timestamp(window.end)
            inner.key("start", &self)
            timestamp(window.start)
            inner.close(&self)
        }
        object.close(&self)
    }

    private mutating func write(_ evidence: HitEvidence, depth: Int) {
        var object = ObjectWriter(depth: depth)
        if let archive = evidence.archive {
            object.key("archive", &self)
            string(archive)
        }
        if let first = evidence.first {
            object.key("first", &self)
            write(first, depth: depth + 1)
        }
        if let last = evidence.last {
            object.key("last", &self)
            write(last, depth: depth + 1)
        }
        if let line = evidence.line {
            object.key("line", &self)
            integer(line)
        }
        if let member = evidence.member {
            object.key("member", &self)
            string(member)
        }
        object.close(&self)
    }

    private mutating func write(_ ref: EvidenceRef, depth: Int) {
        var object = ObjectWriter(depth: depth)
        object.key("archive", &self)
        string(ref.archive)
        object.key("line", &self)
        integer(ref.line)
        object.key("member", &self)
        string(ref.member)
        if let time = ref.time {
            object.key("time", &self)
            string(time.rfc3339)
        }
        object.close(&self)
    }

    /// An object of values (a hit's key, metrics or fields) as a value at nesting `depth`.
    package mutating func write(_ values: [String: HitValue], depth: Int) {
        var object = ObjectWriter(depth: depth)
        let sorted = values.count < 2 ? Array(values)
            : values.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }
        for (key, value) in sorted {
            object.key(key, &self)
            write(value, depth: depth + 1)
        }
        object.close(&self)
    }

    private mutating func write(_ value: HitValue, depth: Int) {
        switch value {
        case .null: bytes.append(contentsOf: "null".utf8)
        case let .bool(flag): bytes.append(contentsOf: (flag ? "true" : "false").utf8)
        case let .int(number): integer(number)
        case let .double(number):
            guard number.isFinite else {
                bytes.append(contentsOf: "null".utf8)
                return
            }
            var text = number.description
            if text.hasSuffix(".0") { text.removeLast(2) }
            bytes.append(contentsOf: text.utf8)
        case let .string(text): string(text)
        case let .strings(texts): array(texts, depth: depth)
        }
    }

    /// An array of strings as a value at nesting `depth` (its elements one level further in).
    package mutating func array(_ texts: [String], depth: Int) {
        bytes.append(0x5B)
        if pretty { bytes.append(0x0A) }
        for (index, text) in texts.enumerated() {
            if index > 0 {
                bytes.append(0x2C)
                if pretty { bytes.append(0x0A) }
            }
            if pretty { indent(depth + 1) }
            string(text)
        }
        if pretty {
            bytes.append(0x0A)
            indent(depth)
        }
        bytes.append(0x5D)
    }

    private mutating func timestamp(_ time: Timestamp) {
        bytes.append(0x22)
        TimeParser.append(time.nanoseconds, to: &bytes)
        bytes.append(0x22)
    }

    private mutating func integer(_ number: Int64) {
        bytes.append(contentsOf: number.description.utf8)
    }

    /// Two spaces per level.
    package mutating func indent(_ levels: Int) {
        for _ in 0..<max(0, levels) {
            bytes.append(0x20)
            bytes.append(0x20)
        }
    }

    /// A quoted, escaped string.
    package mutating func string(_ text: String) {
        bytes.append(0x22)
        let invisibleToo = escapingInvisible
        text.withByteView { utf8 in
            var mark = 0
            var index = 0
            let count = utf8.count
            while index < count {
                // Eight bytes at a time past the runs that need nothing (most of a log's text): no
                // control character, quote, backslash, nor — when invisible characters are
                // escaped — a byte from DEL up. Each test is exact for "some byte of the word".
                while let word = utf8.loadLittleEndian(UInt64.self, at: index) {
                    let ones: UInt64 = 0x0101_0101_0101_0101
                    let highs: UInt64 = 0x8080_8080_8080_8080
                    let quotes = word ^ 0x2222_2222_2222_2222
                    let slashes = word ^ 0x5C5C_5C5C_5C5C_5C5C
                    var special = (word &- 0x2020_2020_2020_2020) & ~word
                        | (quotes &- ones) & ~quotes
                        | (slashes &- ones) & ~slashes
                    if invisibleToo {
                        let deletes = word ^ 0x7F7F_7F7F_7F7F_7F7F
                        special |= word | (deletes &- ones) & ~deletes
                    }
                    guard special & highs == 0 else { break }
                    index += 8
                }
                guard index < count else { break }
                let byte = utf8[index]
                if byte >= 0x7F, invisibleToo {
                    // One scalar from DEL up (a String's UTF-8 is well-formed), escaped as its
                    // UTF-16 units when it is invisible.
                    let lead = UInt32(byte)
                    let length = min(count - index, lead < 0x80 ? 1 : lead < 0xE0 ? 2 : lead < 0xF0 ? 3 : 4)
                    var value = lead
                    switch length {
                    case 1: break
                    case 2: value = (lead & 0x1F) << 6 | UInt32(utf8[index + 1] & 0x3F)
                    case 3: value = (lead & 0x0F) << 12 | UInt32(utf8[index + 1] & 0x3F) << 6 | UInt32(utf8[index + 2] & 0x3F)
                    default:
                        value = (lead & 0x07) << 18 | UInt32(utf8[index + 1] & 0x3F) << 12
                            | UInt32(utf8[index + 2] & 0x3F) << 6 | UInt32(utf8[index + 3] & 0x3F)
                    }
                    if let scalar = Unicode.Scalar(value), JSONText.isInvisible(scalar) {
                        bytes.append(utf8[mark..<index])
                        for unit in UTF16.encode(scalar) ?? UTF16.EncodedScalar() {
                            bytes.append(0x5C)
                            bytes.append(0x75)
                            for shift in [12, 8, 4, 0] { bytes.append(Self.hexDigit(UInt8(truncatingIfNeeded: unit >> UInt16(shift)) & 0x0F)) }
                        }
                        mark = index + length
                    }
                    index += length
                    continue
                }
                index += 1
                guard byte < 0x20 || byte == 0x22 || byte == 0x5C else { continue }
                bytes.append(utf8[mark..<(index - 1)])
                mark = index
                switch byte {
                case 0x22: bytes.append(contentsOf: [0x5C, 0x22])
                case 0x5C: bytes.append(contentsOf: [0x5C, 0x5C])
                case 0x08: bytes.append(contentsOf: [0x5C, 0x62])
                case 0x0C: bytes.append(contentsOf: [0x5C, 0x66])
                case 0x0A: bytes.append(contentsOf: [0x5C, 0x6E])
                case 0x0D: bytes.append(contentsOf: [0x5C, 0x72])
                case 0x09: bytes.append(contentsOf: [0x5C, 0x74])
                default:
                    bytes.append(contentsOf: [0x5C, 0x75, 0x30, 0x30, Self.hexDigit(byte >> 4), Self.hexDigit(byte & 0x0F)])
                }
            }
            bytes.append(utf8[mark..<utf8.count])
        }
        bytes.append(0x22)
    }

    private static func hexDigit(_ value: UInt8) -> UInt8 {
        value < 10 ? 0x30 + value : 0x61 + value - 10
    }

    /// The punctuation of one object: the brace, the separators between members and the
    /// indentation of a member at `depth + 1` levels.
    package struct ObjectWriter {
        package let depth: Int
        package var members = 0

        package init(depth: Int) {
            self.depth = depth
        }

        package mutating func key(_ name: String, _ writer: inout HitJSONWriter) {
            // Byte by byte: an array literal here was an allocation per key.
            writer.bytes.append(members == 0 ? 0x7B : 0x2C)
            if writer.pretty { writer.bytes.append(0x0A) }
            members += 1
            if writer.pretty { writer.indent(depth + 1) }
            writer.string(name)
            if writer.pretty {
                writer.bytes.append(0x20)
                writer.bytes.append(0x3A)
                writer.bytes.append(0x20)
            } else {
                writer.bytes.append(0x3A)
            }
        }

        package func close(_ writer: inout HitJSONWriter) {
            if members == 0 {
                writer.bytes.append(0x7B)
                if writer.pretty { writer.bytes.append(0x0A) }
            }
            if writer.pretty {
                writer.bytes.append(0x0A)
                writer.indent(depth)
            }
            writer.bytes.append(0x7D)
        }
    }
}

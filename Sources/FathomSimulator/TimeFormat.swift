import FathomStore
import FathomSupport
/// UTC calendar arithmetic and the timestamp spellings of the formats the simulator writes.
///
/// Times are Int64 nanoseconds since the Unix epoch, as in Fathom's canonical columns. No
/// Foundation `Date`, no time zone database: the proleptic Gregorian calendar in UTC only.
public enum ScenarioTime {
    public static let second: Int64 = 1_000_000_000
    public static let minute: Int64 = 60 * second
    public static let hour: Int64 = 60 * minute
    public static let day: Int64 = 24 * hour

    /// Days since 1970-01-01 of a civil date (the codecs' `days_from_civil`).
    public static func days(year: Int, month: Int, day: Int) -> Int {
        TimeParser.daysFromCivil(year: year, month: month, day: day)
    }

    /// The civil date of a day number (the codecs' `civil_from_days`).
    public static func civil(days: Int) -> (year: Int, month: Int, day: Int) {
        TimeParser.civilFromDays(days)
    }

    /// Parses `YYYY-MM-DD` to the nanosecond time of its midnight UTC, or nil.
    public static func parseDate(_ text: String) -> Int64? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
              let year = Int(parts[0]), let month = Int(parts[1]), let day = Int(parts[2]),
              (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month)
        else { return nil }
        return Int64(days(year: year, month: month, day: day)) * Self.day
    }

    package static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// 0 = Monday … 6 = Sunday.
    public static func weekday(_ time: Int64) -> Int {
        let dayNumber = Int(floorDiv(time, day))
        return ((dayNumber % 7) + 7 + 3) % 7
    }

    package static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        let q = a / b
        return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q
    }

    package struct Parts {
        package var year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int, nanos: Int
    }

    package static func parts(_ time: Int64) -> Parts {
        let dayNumber = floorDiv(time, day)
        let inDay = time - dayNumber * day
        let (y, m, d) = civil(days: Int(dayNumber))
        let seconds = Int(inDay / second)
        return Parts(year: y, month: m, day: d, hour: seconds / 3600, minute: seconds / 60 % 60,
                     second: seconds % 60, nanos: Int(inDay % second))
    }

    /// `2026-03-02T10:00:00.123Z` with exactly `fractionDigits` (0, 3, 6, 7 or 9) digits.
    public static func rfc3339(_ time: Int64, fractionDigits: Int) -> String {
        var writer = ByteWriter()
        writer.appendRFC3339(time, fractionDigits: fractionDigits)
        return writer.string
    }

    /// RFC 3339 with as few fraction digits as the value needs (0, 3, 6 or 9): the spelling used
    /// in expected.json.
    public static func canonical(_ time: Int64) -> String {
        let nanos = Int(time - floorDiv(time, second) * second)
        let digits = nanos == 0 ? 0 : nanos % 1_000_000 == 0 ? 3 : nanos % 1000 == 0 ? 6 : 9
        return rfc3339(time, fractionDigits: digits)
    }

    /// `YYYY-MM-DD` of the UTC day holding `time`.
    public static func dateString(_ time: Int64) -> String {
        let p = parts(time)
        return "\(p.year)-\(twoDigits(p.month))-\(twoDigits(p.day))"
    }

    package static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }

    package static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
}

/// A growable byte buffer for building log lines fast, with the escapes the formats need.
public struct ByteWriter: Sendable {
    public var bytes: [UInt8] = []

    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    public var string: String { String(decoding: bytes, as: UTF8.self) }
    public var count: Int { bytes.count }
    public mutating func removeAll() { bytes.removeAll(keepingCapacity: true) }

    @inline(__always) public mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    @inline(__always) public mutating func append(_ other: [UInt8]) {
        bytes.append(contentsOf: other)
    }

    @inline(__always) public mutating func append(byte: UInt8) { bytes.append(byte) }

    public mutating func append(int value: Int) {
        if value < 0 {
            bytes.append(UInt8(ascii: "-"))
            append(int: -value)
            return
        }
        var divisor = 1
        while divisor <= value / 10 { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(48 + rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }

    /// `value / 10^scale` as a decimal with trailing fraction zeros removed (`12.5`, `3`, `0.042`).
    public mutating func append(fixed value: Int, scale: Int) {
        var divisor = 1
        for _ in 0..<scale { divisor *= 10 }
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        let magnitude = abs(value)
        append(int: magnitude / divisor)
        var fraction = magnitude % divisor
        guard fraction > 0 else { return }
        var digits = scale
        while fraction % 10 == 0 { fraction /= 10; digits -= 1 }
        bytes.append(UInt8(ascii: "."))
        var width = 1
        var probe = fraction
        while probe >= 10 { probe /= 10; width += 1 }
        for _ in 0..<(digits - width) { bytes.append(UInt8(ascii: "0")) }
        append(int: fraction)
    }

    @inline(__always) package mutating func appendPadded(_ value: Int, width: Int) {
        var divisor = 1
        for _ in 1..<width { divisor *= 10 }
        var rest = value
        while divisor > 0 {
            bytes.append(UInt8(48 + (rest / divisor) % 10))
            rest %= divisor
            divisor /= 10
        }
    }

    public mutating func appendRFC3339(_ time: Int64, fractionDigits: Int) {
        let p = ScenarioTime.parts(time)
        appendPadded(p.year, width: 4); bytes.append(UInt8(ascii: "-"))
        appendPadded(p.month, width: 2); bytes.append(UInt8(ascii: "-"))
        appendPadded(p.day, width: 2); bytes.append(UInt8(ascii: "T"))
        appendPadded(p.hour, width: 2); bytes.append(UInt8(ascii: ":"))
        appendPadded(p.minute, width: 2); bytes.append(UInt8(ascii: ":"))
        appendPadded(p.second, width: 2)
        if fractionDigits > 0 {
            bytes.append(UInt8(ascii: "."))
            var value = p.nanos
            for _ in 0..<(9 - fractionDigits) { value /= 10 }
            appendPadded(value, width: fractionDigits)
        }
        bytes.append(UInt8(ascii: "Z"))
    }

    /// `02/Mar/2026:10:00:00 +0000` (nginx `$time_local` and S3 access logs, in UTC).
    public mutating func appendCommonLogTime(_ time: Int64) {
        let p = ScenarioTime.parts(time)
        appendPadded(p.day, width: 2); bytes.append(UInt8(ascii: "/"))
        append(ScenarioTime.monthNames[p.month - 1]); bytes.append(UInt8(ascii: "/"))
        appendPadded(p.year, width: 4); bytes.append(UInt8(ascii: ":"))
        appendPadded(p.hour, width: 2); bytes.append(UInt8(ascii: ":"))
        appendPadded(p.minute, width: 2); bytes.append(UInt8(ascii: ":"))
        appendPadded(p.second, width: 2)
        append(" +0000")
    }

    /// How a JSON string is escaped: which optional escapes a given exporter uses.
    public struct JSONEscaping: Sendable {
        /// Writes `/` as `\/` (PHP's `json_encode`, some Java loggers).
        public var escapesSlash: Bool
        /// Writes every non-ASCII scalar as `\uXXXX`, astral ones as surrogate pairs (Python's
        /// `json.dumps` default).
        public var isASCIIOnly: Bool

        public init(escapesSlash: Bool = false, isASCIIOnly: Bool = false) {
            self.escapesSlash = escapesSlash
            self.isASCIIOnly = isASCIIOnly
        }

        public static let plain = JSONEscaping()
    }

    /// Appends `text` as a quoted JSON string.
    public mutating func appendJSONString(_ text: String, _ escaping: JSONEscaping = .plain) {
        bytes.append(UInt8(ascii: "\""))
        appendJSONStringBody(text, escaping)
        bytes.append(UInt8(ascii: "\""))
    }

    /// Appends the escaped body of a JSON string, without quotes.
    public mutating func appendJSONStringBody(_ text: String, _ escaping: JSONEscaping = .plain) {
        if !escaping.isASCIIOnly {
            for byte in text.utf8 { appendEscaped(byte: byte, escaping) }
            return
        }
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value < 0x80 {
                appendEscaped(byte: UInt8(value), escaping)
            } else if value < 0x10000 {
                appendUnicodeEscape(UInt16(value))
            } else {
                let v = value - 0x10000
                appendUnicodeEscape(UInt16(0xD800 + (v >> 10)))
                appendUnicodeEscape(UInt16(0xDC00 + (v & 0x3FF)))
            }
        }
    }

    @inline(__always) private mutating func appendEscaped(byte: UInt8, _ escaping: JSONEscaping) {
        switch byte {
        case UInt8(ascii: "\""): bytes.append(0x5C); bytes.append(byte)
        case UInt8(ascii: "\\"): bytes.append(0x5C); bytes.append(byte)
        case UInt8(ascii: "/") where escaping.escapesSlash: bytes.append(0x5C); bytes.append(byte)
        case 0x0A: bytes.append(0x5C); bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(0x5C); bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(0x5C); bytes.append(UInt8(ascii: "t"))
        case 0..<0x20: appendUnicodeEscape(UInt16(byte))
        default: bytes.append(byte)
        }
    }

    private mutating func appendUnicodeEscape(_ unit: UInt16) {
        let digits = Array("0123456789abcdef".utf8)
        bytes.append(0x5C); bytes.append(UInt8(ascii: "u"))
        bytes.append(digits[Int(unit >> 12) & 0xF]); bytes.append(digits[Int(unit >> 8) & 0xF])
        bytes.append(digits[Int(unit >> 4) & 0xF]); bytes.append(digits[Int(unit) & 0xF])
    }

    /// Appends `text` URL-encoded the way S3 server access logs write keys: unreserved characters
    /// and `/` as they are, everything else as `%XX` of its UTF-8 bytes.
    public mutating func appendURLEncoded(_ text: String) {
        let hex = Array("0123456789ABCDEF".utf8)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                bytes.append(byte)
            default:
                bytes.append(UInt8(ascii: "%"))
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            }
        }
    }
}

/// A point in time: nanoseconds since 1970-01-01T00:00:00Z, UTC — the one time type of Fathom.
///
/// Parsed by ``TimeParser`` (the one grammar every command and every log format accepts: RFC 3339
/// with any fraction and offset, a bare date, the Common Log Format, epoch numbers), written as
/// RFC 3339 in UTC with the fraction's trailing zeros trimmed (`2026-03-02T10:00:00.5Z`), and
/// encoded in JSON as that text. No Foundation date, locale or time zone is involved.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Nanoseconds since the epoch.
    public var nanoseconds: Int64

    public static let nanosecondsPerSecond: Int64 = 1_000_000_000
    public static let nanosecondsPerHour: Int64 = 3_600_000_000_000
    public static let nanosecondsPerDay: Int64 = 86_400_000_000_000

    public init(nanoseconds: Int64) {
        self.nanoseconds = nanoseconds
    }

    /// The time a segment's `time` column holds, or nil for its null (`Int64.min`).
    public init?(column value: Int64) {
        guard value != Int64.min else { return nil }
        self.nanoseconds = value
    }

    /// The time `text` names in ``TimeParser``'s grammar (as logs write times), or nil.
    public init?(parsing text: String) {
        guard let nanoseconds = TimeParser.parse(text) else { return nil }
        self.nanoseconds = nanoseconds
    }

    /// The time a person or a command line gives: ``TimeParser``'s RFC 3339 with an explicit zone
    /// (`Z` or an offset), or a bare date (midnight UTC). A time of day without a zone is refused:
    /// an awareness time read in the wrong zone moves every regulatory deadline.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        let isDate = bytes.count == 10 && bytes[4] == 0x2D && bytes[7] == 0x2D
        guard isDate || Self.hasZone(bytes), bytes.count >= 10, bytes[4] == 0x2D, let nanoseconds = TimeParser.parse(text) else {
            return nil
        }
        self.nanoseconds = nanoseconds
    }

    /// Whether RFC 3339 text ends with a zone: `Z`/`z`, or `+hh:mm`/`-hh:mm` after the time of day.
    private static func hasZone(_ bytes: [UInt8]) -> Bool {
        guard let last = bytes.last else { return false }
        if last == 0x5A || last == 0x7A { return bytes.count > 11 && bytes[bytes.count - 2] != 0x2E }
        guard bytes.count >= 16 else { return false }
        let sign = bytes[bytes.count - 6]
        return (sign == 0x2B || sign == 0x2D) && bytes[bytes.count - 3] == 0x3A
    }

    /// `later - earlier` in nanoseconds, saturated at the Int64 range: evidence times reach 1677 and
    /// 2262, whose difference does not fit. Exact whenever it fits.
    public static func span(from earlier: Int64, to later: Int64) -> Int64 {
        let (difference, overflow) = later.subtractingReportingOverflow(earlier)
        guard overflow else { return difference }
        return later > earlier ? .max : .min
    }

    /// `time + delta` nanoseconds, kept inside the times a column holds (`Int64.min + 1 ... Int64.max`;
    /// `Int64.min` is a column's null): a look-back from a time in 1677, the exclusive end after one
    /// in 2262.
    public static func offset(_ time: Int64, by delta: Int64) -> Int64 {
        let (sum, overflow) = time.addingReportingOverflow(delta)
        if overflow { return delta > 0 ? .max : .min + 1 }
        return max(sum, .min + 1)
    }

    /// The start of slot `slot` of `width` nanoseconds (`slot × width`), kept inside the times a
    /// column holds: the slots of evidence dated 1677 or 2262 start before or after them.
    public static func start(ofSlot slot: Int64, width: Int64) -> Int64 {
        let (start, overflow) = slot.multipliedReportingOverflow(by: width)
        return overflow ? (slot < 0 ? .min + 1 : .max) : max(start, .min + 1)
    }

    /// `later - earlier` in seconds: `Double(later - earlier) / 1e9` whenever the difference fits
    /// in Int64 (the figure reports have always shown), the difference of the two as Doubles beyond.
    public static func seconds(from earlier: Int64, to later: Int64) -> Double {
        let (difference, overflow) = later.subtractingReportingOverflow(earlier)
        return overflow ? (Double(later) - Double(earlier)) / 1e9 : Double(difference) / 1e9
    }

    /// `2026-03-02T10:00:00Z`, with the fraction (trailing zeros trimmed) when not zero.
    public var rfc3339: String { TimeParser.format(nanoseconds) }

    public var description: String { rfc3339 }

    /// Whole seconds since the epoch (rounded down) and the nanoseconds within that second.
    public var secondsAndNanoseconds: (seconds: Int64, nanoseconds: Int64) {
        let (quotient, remainder) = nanoseconds.quotientAndRemainder(dividingBy: Self.nanosecondsPerSecond)
        return remainder < 0 ? (quotient - 1, remainder + Self.nanosecondsPerSecond) : (quotient, remainder)
    }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }

    /// This time moved by `nanoseconds`.
    public func adding(nanoseconds delta: Int64) -> Timestamp { Timestamp(nanoseconds: nanoseconds &+ delta) }

    /// Nanoseconds from `self` to `later` (negative when `later` is earlier).
    public func nanoseconds(to later: Timestamp) -> Int64 { later.nanoseconds &- nanoseconds }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let nanoseconds = TimeParser.parse(text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not a time: '\(text)'"))
        }
        self.nanoseconds = nanoseconds
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rfc3339)
    }
}

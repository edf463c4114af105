import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// A ``Timestamp`` of the analysis model as the reports present it: its UTC date, time of day and
/// prose forms.
///
/// Reports never read the wall clock or the local time zone: every time they show comes from the
/// model (or `--now`) and is rendered in UTC, with no Foundation formatter or locale.
public struct UTCTime: Sendable, Equatable, Hashable, Comparable {
    public var timestamp: Timestamp

    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64 { timestamp.secondsAndNanoseconds.seconds }
    /// Nanoseconds within the second, 0…999_999_999.
    public var nanoseconds: Int64 { timestamp.secondsAndNanoseconds.nanoseconds }

    public init(_ timestamp: Timestamp) {
        self.timestamp = timestamp
    }

    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        timestamp = Timestamp(nanoseconds: seconds &* Timestamp.nanosecondsPerSecond &+ nanoseconds)
    }

    public static func < (lhs: UTCTime, rhs: UTCTime) -> Bool { lhs.timestamp < rhs.timestamp }

    /// Parses a time of the model or a case file as ``Timestamp/init(rfc3339:)`` does (RFC 3339
    /// with an explicit zone, or a bare date at midnight UTC); nil for anything else.
    public init?(rfc3339 text: String) {
        guard let timestamp = Timestamp(rfc3339: text) else { return nil }
        self.timestamp = timestamp
    }

    /// The UTC calendar date.
    public var date: CivilDate { CivilDate(daysSinceEpoch: floorDiv(seconds, 86_400)) }

    /// Seconds since midnight UTC.
    public var secondOfDay: Int64 { seconds - floorDiv(seconds, 86_400) * 86_400 }

    /// `YYYY-MM-DDTHH:MM:SSZ`, with the fraction (trailing zeros trimmed) when not zero.
    public var rfc3339: String { timestamp.rfc3339 }

    /// `YYYY-MM-DD HH:MM UTC` for prose.
    public var minuteText: String {
        let second = secondOfDay
        return date.iso + " " + pad(second / 3600) + ":" + pad(second / 60 % 60) + " UTC"
    }

    /// This time plus `interval` seconds.
    public func adding(seconds interval: Int64) -> UTCTime {
        UTCTime(timestamp.adding(nanoseconds: interval &* Timestamp.nanosecondsPerSecond))
    }

    /// Seconds from `self` to `later` (negative when `later` is earlier).
    public func seconds(to later: UTCTime) -> Double {
        Double(timestamp.nanoseconds(to: later.timestamp)) / 1_000_000_000
    }
}

/// A proleptic Gregorian calendar date, converted with Howard Hinnant's `days_from_civil` algorithm.
public struct CivilDate: Sendable, Equatable, Hashable, Comparable {
    public var year: Int
    public var month: Int
    public var day: Int

    public init(year: Int, month: Int, day: Int) {
        self.year = year
        self.month = month
        self.day = day
    }

    public init(daysSinceEpoch days: Int64) {
        let (year, month, day) = TimeParser.civilFromDays(Int(days))
        self.init(year: year, month: month, day: day)
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var daysSinceEpoch: Int64 { Int64(TimeParser.daysFromCivil(year: year, month: month, day: day)) }

    /// 0 = Sunday … 6 = Saturday.
    public var weekday: Int { Int(floorMod(daysSinceEpoch + 4, 7)) }

    public var isWeekend: Bool { weekday == 0 || weekday == 6 }

    public func adding(days: Int64) -> CivilDate { CivilDate(daysSinceEpoch: daysSinceEpoch + days) }

    /// `YYYY-MM-DD`.
    public var iso: String {
        String(year) + "-" + pad(Int64(month)) + "-" + pad(Int64(day))
    }

    /// `YYYY-MM-DD (Weekday)`.
    public var isoWithWeekday: String {
        iso + " (" + ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"][weekday] + ")"
    }

    public static func isLeap(_ year: Int) -> Bool { TimeParser.isLeapYear(year) }

    public static func daysIn(month: Int, year: Int) -> Int64 { Int64(TimeParser.daysInMonth(year: year, month: month)) }
}

package func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}

package func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

private func pad(_ value: Int64) -> String { value < 10 ? "0" + String(value) : String(value) }

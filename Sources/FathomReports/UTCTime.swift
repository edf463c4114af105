import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// A point in time parsed from an RFC 3339 string of the analysis model, for presentation only.
///
/// Reports never read the wall clock or the local time zone: every time they show comes from the
/// model (or `--now`) and is rendered in UTC by this type, with no Foundation formatter or locale.
public struct UTCTime: Sendable, Equatable, Hashable, Comparable {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    public var seconds: Int64
    /// Nanoseconds within the second, 0…999_999_999.
    public var nanoseconds: Int64

    public init(seconds: Int64, nanoseconds: Int64 = 0) {
        self.seconds = seconds
        self.nanoseconds = nanoseconds
    }

    public static func < (lhs: UTCTime, rhs: UTCTime) -> Bool {
        (lhs.seconds, lhs.nanoseconds) < (rhs.seconds, rhs.nanoseconds)
    }

    /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a space may replace the `T`), or a bare
    /// date `YYYY-MM-DD` (midnight UTC). Returns nil for anything else.
    public init?(rfc3339 text: String) {
        let bytes = Array(text.utf8)
        func number(_ start: Int, _ count: Int) -> Int64? {
            guard start + count <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[start..<(start + count)] {
                guard byte >= 48, byte <= 57 else { return nil }
                value = value * 10 + Int64(byte - 48)
            }
            return value
        }
        guard let year = number(0, 4), bytes.count >= 10, bytes[4] == 45, let month = number(5, 2), bytes[7] == 45,
              let day = number(8, 2), (1...12).contains(month), day >= 1,
              day <= CivilDate.daysIn(month: Int(month), year: Int(year)) else { return nil }
        let days = CivilDate(year: Int(year), month: Int(month), day: Int(day)).daysSinceEpoch
        if bytes.count == 10 {
            self.init(seconds: days * 86_400)
            return
        }
        guard bytes.count >= 20, bytes[10] == 84 || bytes[10] == 116 || bytes[10] == 32,
              let hour = number(11, 2), bytes[13] == 58, let minute = number(14, 2), bytes[16] == 58,
              let second = number(17, 2), hour < 24, minute < 60, second < 61 else { return nil }
        var index = 19
        var nanos: Int64 = 0
        if bytes[index] == 46 {
            index += 1
            var digits = 0
            while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                if digits < 9 { nanos = nanos * 10 + Int64(bytes[index] - 48) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 9 { for _ in digits..<9 { nanos *= 10 } }
        }
        guard index < bytes.count else { return nil }
        var offset: Int64 = 0
        if bytes[index] == 90 || bytes[index] == 122 {
            guard index + 1 == bytes.count else { return nil }
        } else if bytes[index] == 43 || bytes[index] == 45 {
            guard index + 6 == bytes.count, let offsetHours = number(index + 1, 2), bytes[index + 3] == 58,
                  let offsetMinutes = number(index + 4, 2), offsetHours < 24, offsetMinutes < 60 else { return nil }
            offset = (offsetHours * 3600 + offsetMinutes * 60) * (bytes[index] == 45 ? -1 : 1)
        } else {
            return nil
        }
        self.init(seconds: days * 86_400 + hour * 3600 + minute * 60 + second - offset, nanoseconds: nanos)
    }

    /// The UTC calendar date.
    public var date: CivilDate { CivilDate(daysSinceEpoch: floorDiv(seconds, 86_400)) }

    /// Seconds since midnight UTC.
    public var secondOfDay: Int64 { seconds - floorDiv(seconds, 86_400) * 86_400 }

    /// `YYYY-MM-DDTHH:MM:SSZ`, with the fraction (trailing zeros trimmed) when not zero.
    public var rfc3339: String {
        let second = secondOfDay
        var text = date.iso + "T" + pad(second / 3600) + ":" + pad(second / 60 % 60) + ":" + pad(second % 60)
        if nanoseconds != 0 {
            var fraction = String(nanoseconds)
            fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
            while fraction.hasSuffix("0") { fraction.removeLast() }
            text += "." + fraction
        }
        return text + "Z"
    }

    /// `YYYY-MM-DD HH:MM UTC` for prose.
    public var minuteText: String {
        let second = secondOfDay
        return date.iso + " " + pad(second / 3600) + ":" + pad(second / 60 % 60) + " UTC"
    }

    /// This time plus `interval` seconds (fractions of the interval are dropped).
    public func adding(seconds interval: Int64) -> UTCTime {
        UTCTime(seconds: seconds + interval, nanoseconds: nanoseconds)
    }

    /// Seconds from `self` to `later` (negative when `later` is earlier).
    public func seconds(to later: UTCTime) -> Double {
        Double(later.seconds - seconds) + Double(later.nanoseconds - nanoseconds) / 1_000_000_000
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
        let z = days + 719_468
        let era = floorDiv(z, 146_097)
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        self.init(year: Int(yoe + era * 400 + (month <= 2 ? 1 : 0)), month: Int(month), day: Int(day))
    }

    public static func < (lhs: CivilDate, rhs: CivilDate) -> Bool {
        (lhs.year, lhs.month, lhs.day) < (rhs.year, rhs.month, rhs.day)
    }

    public var daysSinceEpoch: Int64 {
        let y = Int64(month <= 2 ? year - 1 : year)
        let era = floorDiv(y, 400)
        let yoe = y - era * 400
        let m = Int64(month)
        let doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + Int64(day) - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

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

    public static func isLeap(_ year: Int) -> Bool { year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) }

    public static func daysIn(month: Int, year: Int) -> Int64 {
        switch month {
        case 2: isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}

package func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
    let quotient = a / b
    return (a % b != 0 && (a < 0) != (b < 0)) ? quotient - 1 : quotient
}

package func floorMod(_ a: Int64, _ b: Int64) -> Int64 { a - floorDiv(a, b) * b }

private func pad(_ value: Int64) -> String { value < 10 ? "0" + String(value) : String(value) }

/// Parses and formats timestamps as Int64 nanoseconds since 1970-01-01T00:00:00Z.
///
/// Accepted text (surrounding whitespace and one pair of `[` `]` are ignored):
/// - RFC 3339 / ISO 8601: `2024-03-05T12:34:56Z`; `T`, `t` or a space between date and time;
///   seconds optional (`12:34Z`); any number of fraction digits after `.` or `,` (digits past the
///   ninth are truncated); offset `Z`/`z`, `+hh:mm`, `-hh:mm`, `+hhmm`, `+hh`, ` UTC`/` GMT`, an
///   optional space before a numeric offset, or none (UTC); a date alone means midnight UTC.
/// - Common log format: `06/Feb/2019:00:00:38 +0000` (month names in any case, optional fraction).
/// - Epoch numbers: digits with an optional fraction (or exponent); the magnitude of the integer
///   part picks the unit — seconds below 1e11, milliseconds below 1e14, microseconds below 1e17,
///   nanoseconds above.
///
/// Out-of-range fields (month 13, February 30 outside leap years, hour 24, minute 60, offset hour
/// above 23) and results outside Int64 nanoseconds (years ≈1677–2262) give nil. Second 60 (a leap
/// second) is accepted and counts into the next minute. No Foundation, locale or time zone is
/// involved: dates use integer civil-calendar arithmetic (proleptic Gregorian).
public enum TimeParser {
    // MARK: Calendar

    /// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's
    /// `days_from_civil`).
    ///
    /// - Complexity: O(1).
    @inlinable
    public static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (`civil_from_days`).
    ///
    /// - Complexity: O(1).
    @inlinable
    public static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let day = doy - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    /// Whether `year` is a Gregorian leap year.
    @inlinable
    public static func isLeapYear(_ year: Int) -> Bool {
        year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
    }

    /// Number of days in `month` of `year` (0 for a month outside 1…12).
    @inlinable
    public static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 1, 3, 5, 7, 8, 10, 12: return 31
        case 4, 6, 9, 11: return 30
        case 2: return isLeapYear(year) ? 29 : 28
        default: return 0
        }
    }

    /// Nanoseconds since the epoch for a civil UTC time minus `offsetSeconds` (the local offset
    /// east of UTC), or nil when a field is out of range or the result overflows.
    ///
    /// - Complexity: O(1).
    public static func nanoseconds(year: Int, month: Int, day: Int, hour: Int = 0, minute: Int = 0,
                                   second: Int = 0, nanosecond: Int = 0, offsetSeconds: Int = 0) -> Int64? {
        guard month >= 1, month <= 12, day >= 1, day <= daysInMonth(year: year, month: month),
              hour >= 0, hour <= 23, minute >= 0, minute <= 59, second >= 0, second <= 60,
              nanosecond >= 0, nanosecond < 1_000_000_000, year >= -1_000_000, year <= 1_000_000
        else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        var seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second - offsetSeconds)
        var fraction = Int64(nanosecond)
        if seconds < 0, fraction > 0 {  // keep the product in range near Int64.min
            seconds += 1
            fraction -= 1_000_000_000
        }
        let (scaled, overflow1) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        guard !overflow1, !overflow2 else { return nil }
        return total
    }

    // MARK: Parsing

    /// Parses a timestamp in any accepted form (see ``TimeParser``); nil when none fits.
    ///
    /// - Complexity: O(n).
    public static func parse(_ bytes: ByteView) -> Int64? {
        var v = TextCodecs.trimmed(bytes)
        if v.count >= 2, v[0] == 0x5B, v[v.count - 1] == 0x5D {
            v = TextCodecs.trimmed(v[1..<v.count - 1])
        }
        guard v.count > 0 else { return nil }
        if v.count > 10, v[2] == 0x2F { return parseCommonLog(v) }
        if v.count >= 10, v[4] == 0x2D { return parseISO(v) }
        return parseEpochText(v)
    }

    /// Parses a timestamp held in a string (see ``parse(_:)-(ByteView)``).
    public static func parse(_ string: String) -> Int64? {
        var string = string
        return string.withUTF8 { parse(ByteView(unsafeStart: $0.baseAddress, count: $0.count)) }
    }

    /// Converts an epoch number whose magnitude picks the unit (seconds below 1e11, milliseconds
    /// below 1e14, microseconds below 1e17, else nanoseconds). Nil on overflow.
    ///
    /// - Complexity: O(1).
    public static func parseEpoch(_ value: Int64) -> Int64? {
        let magnitude = value.magnitude
        let scale: Int64 = magnitude < 100_000_000_000 ? 1_000_000_000
            : magnitude < 100_000_000_000_000 ? 1_000_000
            : magnitude < 100_000_000_000_000_000 ? 1_000 : 1
        let (result, overflow) = value.multipliedReportingOverflow(by: scale)
        return overflow ? nil : result
    }

    /// Converts a fractional epoch number (unit by magnitude, as for integers). The fraction is
    /// rounded to the nearest nanosecond of the chosen unit. Nil for non-finite values or overflow.
    ///
    /// - Complexity: O(1).
    public static func parseEpoch(_ value: Double) -> Int64? {
        guard value.isFinite else { return nil }
        let magnitude = abs(value)
        let scale: Double = magnitude < 1e11 ? 1e9 : magnitude < 1e14 ? 1e6 : magnitude < 1e17 ? 1e3 : 1
        let whole = value.rounded(.towardZero)
        guard abs(whole * scale) < 9.2e18 else { return nil }
        let wholeNanos = Int64(whole) * Int64(scale)
        let fraction = ((value - whole) * scale).rounded()
        let (total, overflow) = wholeNanos.addingReportingOverflow(Int64(fraction))
        return overflow ? nil : total
    }

    @inline(__always)
    static func digits(_ v: ByteView, _ at: Int, _ count: Int) -> Int? {
        guard at >= 0, at + count <= v.count else { return nil }
        var value = 0
        for index in at..<at + count {
            let digit = v[index] &- 0x30
            guard digit < 10 else { return nil }
            value = value * 10 + Int(digit)
        }
        return value
    }

    /// Reads `.fff…` or `,fff…` at `i`; returns nanoseconds and the offset after the digits.
    static func fraction(_ v: ByteView, _ start: Int) -> (nanos: Int, end: Int)? {
        var i = start
        guard i < v.count, v[i] == 0x2E || v[i] == 0x2C else { return (0, i) }
        i += 1
        var nanos = 0
        var used = 0
        let first = i
        while i < v.count, TextCodecs.isDigit(v[i]) {
            if used < 9 {
                nanos = nanos * 10 + Int(v[i] &- 0x30)
                used += 1
            }
            i += 1
        }
        guard i > first else { return nil }
        while used < 9 {
            nanos *= 10
            used += 1
        }
        return (nanos, i)
    }

    /// Reads an offset at `start` to the end of `v`: nothing, `Z`, `±hh[:mm]`, `±hhmm`, ` UTC`.
    static func offset(_ v: ByteView, _ start: Int) -> Int? {
        var i = start
        let n = v.count
        if i == n { return 0 }
        if v[i] == 0x20 { i += 1 }
        guard i < n else { return nil }
        let c = v[i]
        if c == 0x5A || c == 0x7A { return i + 1 == n ? 0 : nil }
        if c == 0x2B || c == 0x2D {
            guard let hours = digits(v, i + 1, 2), hours <= 23 else { return nil }
            var j = i + 3
            var minutes = 0
            if j < n, v[j] == 0x3A { j += 1 }
            if j < n {
                guard let m = digits(v, j, 2), m <= 59 else { return nil }
                minutes = m
                j += 2
            }
            guard j == n else { return nil }
            let seconds = hours * 3600 + minutes * 60
            return c == 0x2D ? -seconds : seconds
        }
        let rest = v[i..<n]
        if TextCodecs.equalsIgnoringASCIICase(rest, "UTC") || TextCodecs.equalsIgnoringASCIICase(rest, "GMT") {
            return 0
        }
        return nil
    }

    static func parseISO(_ v: ByteView) -> Int64? {
        guard let year = digits(v, 0, 4), v[4] == 0x2D, let month = digits(v, 5, 2), v[7] == 0x2D,
              let day = digits(v, 8, 2) else { return nil }
        let n = v.count
        if n == 10 { return nanoseconds(year: year, month: month, day: day) }
        let separator = v[10]
        guard separator == 0x54 || separator == 0x74 || separator == 0x20,
              let hour = digits(v, 11, 2), v[13] == 0x3A, let minute = digits(v, 14, 2) else { return nil }
        var i = 16
        var second = 0
        if i < n, v[i] == 0x3A {
            guard let s = digits(v, i + 1, 2) else { return nil }
            second = s
            i += 3
        }
        guard let (nanos, afterFraction) = fraction(v, i), let offset = offset(v, afterFraction) else { return nil }
        return nanoseconds(year: year, month: month, day: day, hour: hour, minute: minute,
                           second: second, nanosecond: nanos, offsetSeconds: offset)
    }

    static let monthNames: [UInt32] = ["jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"].map { name in
        name.utf8.reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// `dd/Mon/yyyy:HH:MM:SS[.fff] [+hhmm]`.
    static func parseCommonLog(_ v: ByteView) -> Int64? {
        guard let day = digits(v, 0, 2), v[2] == 0x2F, v.count >= 20, v[6] == 0x2F,
              let year = digits(v, 7, 4), v[11] == 0x3A,
              let hour = digits(v, 12, 2), v[14] == 0x3A, let minute = digits(v, 15, 2), v[17] == 0x3A,
              let second = digits(v, 18, 2) else { return nil }
        let key = UInt32(TextCodecs.lowercased(v[3])) << 16 | UInt32(TextCodecs.lowercased(v[4])) << 8
            | UInt32(TextCodecs.lowercased(v[5]))
        guard let monthIndex = monthNames.firstIndex(of: key),
              let (nanos, afterFraction) = fraction(v, 20), let offset = offset(v, afterFraction) else { return nil }
        return nanoseconds(year: year, month: monthIndex + 1, day: day, hour: hour, minute: minute,
                           second: second, nanosecond: nanos, offsetSeconds: offset)
    }

    /// `[-]digits[.digits]`, or any other decimal number syntax through Double.
    static func parseEpochText(_ v: ByteView) -> Int64? {
        let n = v.count
        var i = 0
        let negative = v[0] == 0x2D
        if negative || v[0] == 0x2B { i = 1 }
        let intStart = i
        var whole: Int64 = 0
        while i < n, TextCodecs.isDigit(v[i]) {
            let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(Int64(v[i] &- 0x30))
            guard !o1, !o2 else { return nil }
            whole = sum
            i += 1
        }
        guard i > intStart else { return nil }
        var fractionStart = i
        var fractionEnd = i
        if i < n, v[i] == 0x2E {
            i += 1
            fractionStart = i
            while i < n, TextCodecs.isDigit(v[i]) { i += 1 }
            fractionEnd = i
        }
        guard i == n else {
            // Exponent forms such as 1.7e9.
            guard let value = TextCodecs.parseDouble(v) else { return nil }
            return parseEpoch(value)
        }
        let (scale, scaleDigits): (Int64, Int) = whole < 100_000_000_000 ? (1_000_000_000, 9)
            : whole < 100_000_000_000_000 ? (1_000_000, 6)
            : whole < 100_000_000_000_000_000 ? (1_000, 3) : (1, 0)
        var fractionNanos: Int64 = 0
        var used = 0
        var index = fractionStart
        while used < scaleDigits {
            fractionNanos *= 10
            if index < fractionEnd {
                fractionNanos += Int64(v[index] &- 0x30)
                index += 1
            }
            used += 1
        }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: scale)
        let (total, o2) = scaled.addingReportingOverflow(fractionNanos)
        guard !o1, !o2 else { return nil }
        return negative ? -total : total
    }

    // MARK: Formatting

    /// Formats as RFC 3339 UTC: `2024-03-05T12:34:56Z`. A fraction is written only when the
    /// nanoseconds are not zero, as the 9-digit fraction with trailing zeros removed
    /// (`…56.123Z`, `…56.000123456Z`, `…56.1Z`). `parse(format(x)) == x` for every Int64.
    ///
    /// - Complexity: O(1).
    public static func format(_ nanos: Int64) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(32)
        append(nanos, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s text of `nanos` to `out` as UTF-8, without making a string.
    ///
    /// - Complexity: O(1).
    public static func append(_ nanos: Int64, to out: inout [UInt8]) {
        let (secondsQuotient, nanoRemainder) = nanos.quotientAndRemainder(dividingBy: 1_000_000_000)
        var seconds = secondsQuotient
        var fraction = nanoRemainder
        if fraction < 0 {
            fraction += 1_000_000_000
            seconds -= 1
        }
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            secondOfDay += 86_400
            days -= 1
        }
        let (year, month, day) = civilFromDays(Int(days))
        func put(_ value: Int, _ width: Int) {
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            var rest = value
            while divisor > 0 {
                out.append(UInt8(0x30 + rest / divisor))
                rest %= divisor
                divisor /= 10
            }
        }
        put(year, 4); out.append(0x2D); put(month, 2); out.append(0x2D); put(day, 2)
        out.append(0x54)
        let sod = Int(secondOfDay)
        put(sod / 3600, 2); out.append(0x3A); put(sod / 60 % 60, 2); out.append(0x3A); put(sod % 60, 2)
        if fraction != 0 {
            var value = Int(fraction)
            var width = 9
            while value % 10 == 0 {
                value /= 10
                width -= 1
            }
            out.append(0x2E)
            put(value, width)
        }
        out.append(0x5A)
    }
}

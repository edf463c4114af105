import FathomStore
import Foundation
import Testing

@Suite struct TimeParserTests {
    static let base: Int64 = 1_709_642_096_000_000_000  // 2024-03-05T12:34:56Z

    static let accepted: [(String, Int64)] = [
        ("1970-01-01T00:00:00Z", 0),
        ("2024-03-05T12:34:56Z", base),
        ("2024-03-05t12:34:56z", base),
        ("2024-03-05 12:34:56", base),
        ("2024-03-05T12:34:56", base),
        ("  2024-03-05T12:34:56Z\n", base),
        ("2024-03-05T12:34:56+00:00", base),
        ("2024-03-05T13:34:56+01:00", base),
        ("2024-03-05T07:04:56-05:30", base),
        ("2024-03-05T07:04:56-0530", base),
        ("2024-03-05T14:34:56+02", base),
        ("2024-03-05 14:34:56 +0200", base),
        ("2024-03-05 12:34:56 UTC", base),
        ("2024-03-05T12:34Z", base - 56_000_000_000),
        ("2024-03-05", base - (12 * 3600 + 34 * 60 + 56) * 1_000_000_000),
        ("2024-03-05T12:34:56.1Z", base + 100_000_000),
        ("2024-03-05T12:34:56.123Z", base + 123_000_000),
        ("2024-03-05T12:34:56,123Z", base + 123_000_000),
        ("2024-03-05T12:34:56.123456Z", base + 123_456_000),
        ("2024-03-05T12:34:56.1234567Z", base + 123_456_700),
        ("2024-03-05T12:34:56.1234567+00:00", base + 123_456_700),
        ("2024-03-05T12:34:56.123456789Z", base + 123_456_789),
        ("2024-03-05T12:34:56.123456789999Z", base + 123_456_789),
        ("2024-03-05T12:34:56.000000001Z", base + 1),
        ("2024-02-29T00:00:00Z", 1_709_164_800_000_000_000),
        ("2000-02-29T00:00:00Z", 951_782_400_000_000_000),
        ("1969-12-31T23:59:59.5Z", -500_000_000),
        ("2016-12-31T23:59:60Z", 1_483_228_800_000_000_000),
        // Common log format.
        ("06/Feb/2019:00:00:38 +0000", 1_549_411_238_000_000_000),
        ("[06/Feb/2019:00:00:38 +0000]", 1_549_411_238_000_000_000),
        ("[06/feb/2019:01:00:38 +0100]", 1_549_411_238_000_000_000),
        ("05/Feb/2019:19:00:38 -0500", 1_549_411_238_000_000_000),
        ("06/FEB/2019:00:00:38", 1_549_411_238_000_000_000),
        ("06/Feb/2019:00:00:38.250 +0000", 1_549_411_238_250_000_000),
        // Epoch numbers: the magnitude picks the unit.
        ("1709642096", base),
        ("1709642096.5", base + 500_000_000),
        ("1709642096.123456789123", base + 123_456_789),
        ("1709642096123", base + 123_000_000),
        ("1709642096123.456", base + 123_456_000),
        ("1709642096123456", base + 123_456_000),
        ("1709642096123456789", base + 123_456_789),
        ("0", 0),
        ("100000000000", 100_000_000_000_000_000),
        ("2024", 2_024_000_000_000),
        ("1.709642096e9", base),
        ("-1", -1_000_000_000),
    ]

    @Test(arguments: accepted)
    func parsesTimestamps(text: String, expected: Int64) {
        #expect(TimeParser.parse(text) == expected)
        let viaBytes = withView(text) { TimeParser.parse($0) }
        #expect(viaBytes == expected)
    }

    static let rejected = [
        "", "   ", "abc", "99999999999", "2024-13-01T00:00:00Z", "2024-00-10T00:00:00Z", "2023-02-29T00:00:00Z",
        "1900-02-29T00:00:00Z", "2024-02-30T00:00:00Z", "2024-04-31T00:00:00Z", "2024-03-05T25:00:00Z",
        "2024-03-05T24:00:00Z", "2024-03-05T12:60:00Z", "2024-03-05T12:34:61Z", "2024-03-05T12:34:56+24:00",
        "2024-03-05T12:34:56+01:60", "2024-03-05T12:34:56.Z", "2024-03-05T12:34:56ZZ", "2024-03-05X12:34:56Z",
        "2024-03-05T12:34:56 PST", "2024-3-5T12:34:56Z", "32/Feb/2019:00:00:38 +0000", "06/Fex/2019:00:00:38 +0000",
        "06/Feb/2019 00:00:38 +0000", "[06/Feb/2019:00:00:38 +0000", "1709642096x", "99999999999999999999",
        "3000-01-01T00:00:00Z", "1600-01-01T00:00:00Z", "2024-03-05T12:34:56+", "12.5.3",
    ]

    @Test(arguments: rejected)
    func rejectsInvalidTimestamps(text: String) {
        #expect(TimeParser.parse(text) == nil)
    }

    @Test func epochNumbers() {
        #expect(TimeParser.parseEpoch(Int64(1_709_642_096)) == Self.base)
        #expect(TimeParser.parseEpoch(Int64(1_709_642_096_123)) == Self.base + 123_000_000)
        #expect(TimeParser.parseEpoch(Int64(1_709_642_096_123_456)) == Self.base + 123_456_000)
        #expect(TimeParser.parseEpoch(Int64(1_709_642_096_123_456_789)) == Self.base + 123_456_789)
        #expect(TimeParser.parseEpoch(Int64(0)) == 0)
        #expect(TimeParser.parseEpoch(Int64.min) == Int64.min)
        #expect(TimeParser.parseEpoch(1_709_642_096.25) == Self.base + 250_000_000)
        #expect(TimeParser.parseEpoch(1_709_642_096_123.0) == Self.base + 123_000_000)
        #expect(TimeParser.parseEpoch(Double.nan) == nil)
        #expect(TimeParser.parseEpoch(Double.infinity) == nil)
        #expect(TimeParser.parseEpoch(1e30) == nil)
    }

    static let formatted: [(Int64, String)] = [
        (0, "1970-01-01T00:00:00Z"),
        (base, "2024-03-05T12:34:56Z"),
        (base + 123_000_000, "2024-03-05T12:34:56.123Z"),
        (base + 100_000_000, "2024-03-05T12:34:56.1Z"),
        (base + 123_456, "2024-03-05T12:34:56.000123456Z"),
        (base + 123_456_700, "2024-03-05T12:34:56.1234567Z"),
        (-1, "1969-12-31T23:59:59.999999999Z"),
        (Int64.max, "2262-04-11T23:47:16.854775807Z"),
        (Int64.min, "1677-09-21T00:12:43.145224192Z"),
    ]

    @Test(arguments: formatted)
    func formatsRFC3339(nanos: Int64, expected: String) {
        #expect(TimeParser.format(nanos) == expected)
        #expect(TimeParser.parse(expected) == nanos)
    }

    /// Seeded property: formatting and parsing are inverse over the whole Int64 range.
    @Test(arguments: [UInt64(11), 12, 13])
    func formatParseRoundTrip(seed: UInt64) {
        var rng = SeededGenerator(seed: seed)
        for index in 0..<3000 {
            var nanos = Int64(bitPattern: rng.next())
            if index % 3 == 0 { nanos = nanos / 1_000_000 * 1_000_000 }
            if index % 3 == 1 { nanos = nanos / 1_000_000_000 * 1_000_000_000 }
            let text = TimeParser.format(nanos)
            #expect(TimeParser.parse(text) == nanos, "\(nanos) → \(text)")
            #expect(TimeParser.format(TimeParser.parse(text) ?? 0) == text)
        }
    }

    @Test func civilCalendarAgreesDayByDay() {
        var days = TimeParser.daysFromCivil(year: 1600, month: 1, day: 1)
        for year in 1600...2400 {
            for month in 1...12 {
                for day in 1...TimeParser.daysInMonth(year: year, month: month) {
                    if TimeParser.daysFromCivil(year: year, month: month, day: day) != days {
                        Issue.record("daysFromCivil(\(year)-\(month)-\(day)) != \(days)")
                    }
                    let civil = TimeParser.civilFromDays(days)
                    if civil.year != year || civil.month != month || civil.day != day {
                        Issue.record("civilFromDays(\(days)) = \(civil), expected \(year)-\(month)-\(day)")
                    }
                    days += 1
                }
            }
        }
    }
}

/// ``Timestamp``: one type and one grammar for every time a command, a case file or a log gives.
@Suite struct TimestampTests {
    @Test func commandTimesNeedAZoneLogTimesDoNot() {
        #expect(Timestamp(rfc3339: "2026-03-02T10:00:00Z")?.nanoseconds == 1_772_445_600_000_000_000)
        #expect(Timestamp(rfc3339: "2026-03-02T11:00:00+01:00") == Timestamp(rfc3339: "2026-03-02T10:00:00Z"))
        #expect(Timestamp(rfc3339: "2026-03-02")?.rfc3339 == "2026-03-02T00:00:00Z")
        for bad in ["2026-03-02T10:00:00", "1772445600", "02/Mar/2026:10:00:00 +0000", "2026-03-02T10:00:00.Z", "x", ""] {
            #expect(Timestamp(rfc3339: bad) == nil, "\(bad)")
        }
        // Logs: the same times, and the zone-less and epoch forms logs write.
        #expect(Timestamp(parsing: "2026-03-02T10:00:00") == Timestamp(rfc3339: "2026-03-02T10:00:00Z"))
        #expect(Timestamp(parsing: "1772445600") == Timestamp(rfc3339: "2026-03-02T10:00:00Z"))
    }

    @Test func encodesAsItsRFC3339Text() throws {
        let time = Timestamp(nanoseconds: 1_772_445_600_500_000_000)
        let data = try JSONEncoder().encode([time])
        #expect(String(decoding: data, as: UTF8.self) == #"["2026-03-02T10:00:00.5Z"]"#)
        #expect(try JSONDecoder().decode([Timestamp].self, from: data) == [time])
        #expect(time.secondsAndNanoseconds == (1_772_445_600, 500_000_000))
        #expect(Timestamp(nanoseconds: -1).secondsAndNanoseconds == (-1, 999_999_999))
    }
}

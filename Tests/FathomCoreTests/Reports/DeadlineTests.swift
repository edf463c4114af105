@testable import FathomCore
import Testing
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

@Suite struct DeadlineTests {
    func time(_ text: String) throws -> UTCTime { try #require(UTCTime(rfc3339: text)) }
    func date(_ text: String) throws -> CivilDate { try #require(UTCTime(rfc3339: text)).date }

    @Test func parsesRFC3339() throws {
        #expect(try time("2026-03-02T10:00:01.123456789+01:00").rfc3339 == "2026-03-02T09:00:01.123456789Z")
        #expect(try time("2026-03-02 10:00:00z").rfc3339 == "2026-03-02T10:00:00Z")
        #expect(try time("1969-12-31T23:59:59Z").seconds == -1)
        #expect(try time("2024-02-29").rfc3339 == "2024-02-29T00:00:00Z")
        for bad in ["2026-02-29T00:00:00Z", "2026-03-02T10:00:00", "2026-13-01", "x", "2026-03-02T10:00:00.Z", "2026-03-02T25:00:00Z", ""] {
            #expect(UTCTime(rfc3339: bad) == nil, "\(bad)")
        }
    }

    @Test func seventyTwoHoursAcrossDayMonthAndYearBoundaries() throws {
        #expect(Deadlines.adding(hours: 72, to: try time("2026-12-30T13:45:00Z")).rfc3339 == "2027-01-02T13:45:00Z")
        #expect(Deadlines.adding(hours: 72, to: try time("2028-02-27T23:00:00Z")).rfc3339 == "2028-03-01T23:00:00Z")
        // 29 March 2026 is a DST change in Europe; UTC is unaffected.
        #expect(Deadlines.adding(hours: 72, to: try time("2026-03-28T00:30:00Z")).rfc3339 == "2026-03-31T00:30:00Z")
    }

    @Test func calendarMonthsClampToMonthEnd() throws {
        #expect(Deadlines.adding(months: 1, to: try time("2026-01-31T10:00:00Z")).rfc3339 == "2026-02-28T10:00:00Z")
        #expect(Deadlines.adding(months: 1, to: try time("2028-01-31T10:00:00Z")).rfc3339 == "2028-02-29T10:00:00Z")
        #expect(Deadlines.adding(months: 1, to: try time("2026-12-15T00:00:00Z")).rfc3339 == "2027-01-15T00:00:00Z")
    }

    @Test(arguments: [
        // Thursday → the following Wednesday, across a weekend.
        ("2026-03-05", "2026-03-11"),
        // Friday → Thursday.
        ("2026-03-06", "2026-03-12"),
        // Saturday determination → counts from Monday: Thursday.
        ("2026-03-07", "2026-03-12"),
        // July 4, 2026 is a Saturday: observed Friday July 3.
        ("2026-07-01", "2026-07-08"),
        // Thanksgiving, Thursday 26 November 2026, and the weekend.
        ("2026-11-24", "2026-12-01"),
        // July 4, 2027 is a Sunday: observed Monday July 5.
        ("2027-06-30", "2027-07-07"),
        // New Year's Day 2022 (Saturday) observed Friday 31 December 2021; Christmas 2021 observed Friday 24 December.
        ("2021-12-22", "2021-12-29"),
        ("2021-12-28", "2022-01-04"),
        // Juneteenth 2026 is a Friday; MLK Day 2026 is Monday 19 January.
        ("2026-06-17", "2026-06-24"),
        ("2026-01-14", "2026-01-21"),
    ])
    func secFourBusinessDays(start: String, due: String) throws {
        #expect(Deadlines.addingBusinessDays(4, to: try date(start)) == (try date(due)))
    }

    @Test func federalHolidaysWithObservedDates() throws {
        #expect(Deadlines.federalHoliday(on: try date("2026-07-03")) == "Independence Day")
        #expect(Deadlines.federalHoliday(on: try date("2026-07-04")) == nil)
        #expect(Deadlines.federalHoliday(on: try date("2026-11-26")) == "Thanksgiving Day")
        #expect(Deadlines.federalHoliday(on: try date("2021-12-31")) == "New Year's Day")
        #expect(Deadlines.federalHoliday(on: try date("2027-07-05")) == "Independence Day")
        #expect(Deadlines.federalHoliday(on: try date("2026-05-25")) == "Memorial Day")
        #expect(Deadlines.federalHoliday(on: try date("2026-09-07")) == "Labor Day")
        #expect(Deadlines.federalHoliday(on: try date("2026-10-12")) == "Columbus Day")
        #expect(Deadlines.federalHoliday(on: try date("2026-02-16")) == "Washington's Birthday")
        #expect(Deadlines.federalHoliday(on: try date("2020-06-19")) == nil)
        #expect(Deadlines.observedFederalHolidays(year: 2026).count == 11)
    }
}

import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// A regulatory notification deadline of a regime that applies or may apply to the case
/// (``RegulatoryAssessment``), computed from its clock's start. Every deadline is a candidate for a
/// person to confirm; none is a legal determination.
public struct Deadline: Sendable, Equatable {
    /// The regime and article, e.g. `GDPR Art. 33`.
    public var regime: String
    /// What must be done, e.g. `Notify the supervisory authority`.
    public var obligation: String
    /// The period as the text states it, e.g. `72 hours after becoming aware`.
    public var period: String
    /// When the obligation is a candidate (for a person to confirm).
    public var appliesWhen: String
    /// The computed due time, when the period is fixed and its start is known.
    public var due: UTCTime?
    /// For deadlines counted in whole days (SEC business days): the due date.
    public var dueDate: CivilDate?
    /// Why there is no due time, or how it was computed.
    public var note: String
    /// The regime's judgement for the case: `applies` or `may apply` (``RegulatoryAssessment``).
    public var status: String
    /// What starts the clock, with its time when known (a placeholder when a person must supply it).
    public var clockStart: String
    /// The official text (URL).
    public var source: String

    public init(regime: String, obligation: String, period: String, appliesWhen: String, due: UTCTime? = nil,
                dueDate: CivilDate? = nil, note: String, status: String = "may apply", clockStart: String = "awareness",
                source: String = "") {
        self.status = status
        self.clockStart = clockStart
        self.source = source
        self.regime = regime
        self.obligation = obligation
        self.period = period
        self.appliesWhen = appliesWhen
        self.due = due
        self.dueDate = dueDate
        self.note = note
    }
}

/// Deadline arithmetic (the regimes and their clocks are data: `Regulatory/regimes.json`): hours and calendar months in UTC, and US business days (weekends and US
/// federal holidays, with their observed dates, skipped).
public enum Deadlines {
    /// `time` plus `hours` hours (UTC has no daylight saving time, so this is plain addition).
    public static func adding(hours: Int64, to time: UTCTime) -> UTCTime { time.adding(seconds: hours * 3600) }

    /// `time` plus `months` calendar months, the day clamped to the end of a shorter month
    /// (31 January + 1 month = 28 or 29 February), time of day kept.
    public static func adding(months: Int, to time: UTCTime) -> UTCTime {
        let date = time.date
        let index = date.year * 12 + (date.month - 1) + months
        let year = index >= 0 ? index / 12 : (index - 11) / 12
        let month = index - year * 12 + 1
        let day = min(Int64(date.day), CivilDate.daysIn(month: month, year: year))
        let target = CivilDate(year: year, month: month, day: Int(day))
        return UTCTime(seconds: target.daysSinceEpoch * 86_400 + time.secondOfDay, nanoseconds: time.nanoseconds)
    }

    /// The `count`-th business day after `date` (day 0): Saturdays, Sundays and US federal holidays
    /// (observed dates) are skipped.
    public static func addingBusinessDays(_ count: Int, to date: CivilDate) -> CivilDate {
        var current = date
        var remaining = count
        while remaining > 0 {
            current = current.adding(days: 1)
            if isBusinessDay(current) { remaining -= 1 }
        }
        return current
    }

    /// Whether `date` is a US business day (not a weekend, not an observed federal holiday).
    public static func isBusinessDay(_ date: CivilDate) -> Bool {
        !date.isWeekend && federalHoliday(on: date) == nil
    }

    /// The name of the US federal holiday observed on `date`, if any (5 U.S.C. 6103: a holiday on a
    /// Saturday is observed the Friday before, on a Sunday the Monday after).
    public static func federalHoliday(on date: CivilDate) -> String? {
        for year in [date.year, date.year + 1] {
            for (day, name) in observedFederalHolidays(year: year) where day == date { return name }
        }
        return nil
    }

    /// The observed US federal holidays of `year`, in date order (New Year's Day of `year` may be
    /// observed on 31 December of the year before).
    public static func observedFederalHolidays(year: Int) -> [(CivilDate, String)] {
        func observed(_ month: Int, _ day: Int) -> CivilDate {
            let date = CivilDate(year: year, month: month, day: day)
            switch date.weekday {
            case 6: return date.adding(days: -1)
            case 0: return date.adding(days: 1)
            default: return date
            }
        }
        var list: [(CivilDate, String)] = [
            (observed(1, 1), "New Year's Day"),
            (nthWeekday(3, weekday: 1, month: 1, year: year), "Birthday of Martin Luther King, Jr."),
            (nthWeekday(3, weekday: 1, month: 2, year: year), "Washington's Birthday"),
            (lastWeekday(1, month: 5, year: year), "Memorial Day"),
        ]
        if year >= 2021 { list.append((observed(6, 19), "Juneteenth National Independence Day")) }
        list += [
            (observed(7, 4), "Independence Day"),
            (nthWeekday(1, weekday: 1, month: 9, year: year), "Labor Day"),
            (nthWeekday(2, weekday: 1, month: 10, year: year), "Columbus Day"),
            (observed(11, 11), "Veterans Day"),
            (nthWeekday(4, weekday: 4, month: 11, year: year), "Thanksgiving Day"),
            (observed(12, 25), "Christmas Day"),
        ]
        return list
    }

    /// The `n`-th `weekday` (0 = Sunday) of a month.
    package static func nthWeekday(_ n: Int, weekday: Int, month: Int, year: Int) -> CivilDate {
        let first = CivilDate(year: year, month: month, day: 1)
        let offset = (weekday - first.weekday + 7) % 7
        return first.adding(days: Int64(offset + 7 * (n - 1)))
    }

    /// The last `weekday` (0 = Sunday) of a month.
    package static func lastWeekday(_ weekday: Int, month: Int, year: Int) -> CivilDate {
        let last = CivilDate(year: year, month: month, day: Int(CivilDate.daysIn(month: month, year: year)))
        return last.adding(days: -Int64((last.weekday - weekday + 7) % 7))
    }
}

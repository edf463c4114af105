import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// Candidate regulatory notification deadlines, computed from the awareness time (and, for the SEC,
/// the materiality determination date). Every deadline is a candidate for a person to confirm; none
/// is a legal determination of applicability.
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

    public init(regime: String, obligation: String, period: String, appliesWhen: String, due: UTCTime? = nil,
                dueDate: CivilDate? = nil, note: String) {
        self.regime = regime
        self.obligation = obligation
        self.period = period
        self.appliesWhen = appliesWhen
        self.due = due
        self.dueDate = dueDate
        self.note = note
    }
}

/// Deadline arithmetic: hours and calendar months in UTC, and US business days (weekends and US
/// federal holidays, with their observed dates, skipped).
public enum Deadlines {
    /// Every candidate deadline of the regimes Fathom knows, in a fixed order.
    ///
    /// - Parameters:
    ///   - awareness: when the organisation became aware; nil leaves the awareness-based deadlines open.
    ///   - materiality: the date of the SEC materiality determination; nil leaves Form 8-K open.
    public static func candidates(awareness: UTCTime?, materiality: CivilDate?) -> [Deadline] {
        let missing = "Awareness time not supplied: to be completed by a person."
        func after(_ hours: Int64) -> UTCTime? { awareness.map { adding(hours: hours, to: $0) } }
        let basis = awareness.map { "Computed from the awareness time " + $0.rfc3339 + "." } ?? missing
        var list: [Deadline] = [
            Deadline(regime: "GDPR Art. 33", obligation: "Notify the competent supervisory authority of a personal data breach",
                     period: "without undue delay and, where feasible, not later than 72 hours after becoming aware",
                     appliesWhen: "personal data were breached (e.g. exposed in model output or exfiltrated)",
                     due: after(72), note: basis),
            Deadline(regime: "GDPR Art. 34", obligation: "Communicate the breach to the data subjects",
                     period: "without undue delay (no fixed period)",
                     appliesWhen: "the breach is likely to result in a high risk to the rights and freedoms of natural persons",
                     note: "No fixed period: a person decides and records when."),
            Deadline(regime: "EU AI Act Art. 73(2)", obligation: "Report a serious incident to the market surveillance authority",
                     period: "immediately, and not later than 15 days after becoming aware",
                     appliesWhen: "a high-risk AI system was involved in a serious incident (general case)",
                     due: after(15 * 24), note: basis),
            Deadline(regime: "EU AI Act Art. 73(4)", obligation: "Report a serious incident involving a death",
                     period: "immediately, and not later than 10 days after becoming aware",
                     appliesWhen: "the incident may have caused the death of a person",
                     due: after(10 * 24), note: basis),
            Deadline(regime: "EU AI Act Art. 73(3)", obligation: "Report a widespread infringement or critical-infrastructure disruption",
                     period: "immediately, and not later than 2 days after becoming aware",
                     appliesWhen: "widespread infringement, or serious and irreversible disruption of critical infrastructure",
                     due: after(2 * 24), note: basis),
            Deadline(regime: "NIS2 Art. 23(4)(a)", obligation: "Early warning to the CSIRT or competent authority",
                     period: "without undue delay and in any event within 24 hours of becoming aware",
                     appliesWhen: "an essential or important entity suffered a significant incident",
                     due: after(24), note: basis),
            Deadline(regime: "NIS2 Art. 23(4)(b)", obligation: "Incident notification to the CSIRT or competent authority",
                     period: "without undue delay and in any event within 72 hours of becoming aware",
                     appliesWhen: "an essential or important entity suffered a significant incident",
                     due: after(72), note: basis),
        ]
        let notification = after(72)
        list.append(Deadline(
            regime: "NIS2 Art. 23(4)(d)", obligation: "Final report",
            period: "not later than one month after the submission of the incident notification",
            appliesWhen: "an essential or important entity suffered a significant incident",
            due: notification.map { adding(months: 1, to: $0) },
            note: awareness == nil ? missing
                : "Computed from the latest permitted notification time " + (notification?.rfc3339 ?? "")
                + "; recompute from the actual submission time."))
        let secBase = materiality.map { "Counted from the materiality determination on " + $0.isoWithWeekday + " (UTC date)." }
        list.append(Deadline(
            regime: "SEC Form 8-K Item 1.05", obligation: "Disclose a material cybersecurity incident",
            period: "within four business days after determining that the incident is material",
            appliesWhen: "the registrant is SEC-reporting and has determined the incident to be material",
            dueDate: materiality.map { addingBusinessDays(4, to: $0) },
            note: secBase ?? "Materiality determination date not supplied: to be completed by a person."))
        return list
    }

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

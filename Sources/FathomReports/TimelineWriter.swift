import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `timeline.md` and `timeline-volume.svg`.
///
/// Sections: Key intervals (dwell time, time to detect, time to contain), Phases (Mermaid gantt),
/// Impact windows, Query volume (the SVG chart), Events (every event in UTC order with its phase,
/// source and evidence reference).
package struct TimelineWriter {
    package let context: ReportContext
    package init(_ context: ReportContext) { self.context = context }

    private var result: AnalysisResult { context.result }

    /// Phase id → the label shown.
    package static let phases: [(String, String)] = [
        ("first-indicator", "First indicator"), ("impact", "Impact"), ("detection", "Detection"),
        ("containment", "Containment"), ("recovery", "Recovery"), ("context", "Context"),
    ]

    package static func phaseLabel(_ phase: String) -> String {
        phases.first { $0.0 == phase }?.1 ?? MarkdownText.escape(phase, limit: 40)
    }

    package func render() -> String {
        var out = "# Incident timeline — " + context.caseID + "\n\n"
        out += "All times UTC. Every event is cited with the archive, member and line it comes from.\n\n"
        out += intervals() + gantt() + windows() + volume() + events()
        out += "---\n\n" + context.footer
        return out
    }

    private func intervals() -> String {
        var out = "## Key intervals\n\n"
        guard let intervals = result.keyIntervals else {
            return out + "This analysis was written before Fathom computed the key intervals; run `fathom analyze` again.\n\n"
        }
        func end(_ end: KeyInterval.End) -> String {
            // "not contained: …" says why there is no time; no "unknown" after it.
            end.time == nil && end.label.hasPrefix("not ") ? context.md(end.label, limit: 200)
                : context.md(end.label, limit: 200) + " " + context.time(end.time)
        }
        let rows = intervals.map { interval in
            [context.md(interval.measure, limit: 40), end(interval.from), end(interval.to),
             interval.seconds.map { ReportNumber.duration(seconds: $0) } ?? (interval.to.label.hasPrefix("not ") ? "—" : "unknown")]
        }
        out += context.table(["Measure", "From", "To", "Duration"], rows) + "\n\n"
        out += "A duration is `unknown` when either end is missing from the analysis.\n\n"
        return out
    }

    private func ganttTime(_ timestamp: Timestamp?) -> String? {
        guard let time = timestamp.map(UTCTime.init) else { return nil }
        let second = time.secondOfDay
        func two(_ value: Int64) -> String { value < 10 ? "0" + String(value) : String(value) }
        return time.date.iso + " " + two(second / 3600) + ":" + two(second / 60 % 60) + ":" + two(second % 60)
    }

    private func gantt() -> String {
        var lines = ["gantt", "    title Incident phases (UTC)", "    dateFormat YYYY-MM-DD HH:mm:ss", "    axisFormat %m-%d %H:%M"]
        var index = 0
        for (phase, label) in Self.phases where phase != "context" {
            if phase == "impact" {
                let windows = result.incidents.compactMap { incident -> String? in
                    guard let start = ganttTime(incident.window.start.time) else { return nil }
                    let end = ganttTime(incident.window.end?.time ?? (incident.window.ongoing ? result.provenance.dataEnd : nil))
                    index += 1
                    let name = Mermaid.text(incident.id + " " + incident.type.rawValue, limit: 60)
                    return "    " + name + (incident.window.ongoing ? " (ongoing)" : "") + " :crit, t" + String(index) + ", " + start + ", "
                        + (end.map { $0 } ?? "1m")
                }
                if !windows.isEmpty { lines.append("    section Impact window"); lines += windows }
                continue
            }
            guard let event = context.firstEvent(phase), let start = ganttTime(event.time) else { continue }
            index += 1
            lines.append("    section " + label)
            lines.append("    " + label + " :milestone, t" + String(index) + ", " + start + ", 0m")
        }
        if lines.count == 4 { return "## Phases\n\nNo phase has a parseable time.\n\n" }
        return "## Phases\n\n" + MarkdownText.fencedBlock(lines.joined(separator: "\n"), info: "mermaid") + "\n\n"
    }

    private func windows() -> String {
        guard !result.incidents.isEmpty else { return "## Impact windows\n\nNo incident was found.\n\n" }
        var out = "## Impact windows\n\n"
        out += context.table(["Incident", "Type", "Start", "Chosen by", "End", "Chosen by", "Duration"], result.incidents.map { incident in
            let window = incident.window
            let end = window.ongoing ? "ongoing at the end of the data" : context.time(window.end)
            return [context.md(incident.id, limit: 60), incident.type.title, context.time(window.start),
                    edge(window.start), end, window.end.map(edge) ?? "—",
                    window.durationSeconds.map { ReportNumber.duration(seconds: $0) } ?? (window.ongoing ? "ongoing" : "unknown")]
        }) + "\n\n"
        return out
    }

    private func edge(_ edge: WindowEdge) -> String {
        "rule " + context.md(edge.rule, limit: 60) + ": " + context.md(edge.description, limit: 160) + " (" + context.evidence(edge.evidence) + ")"
    }

    private func volume() -> String {
        guard let extraction = result.extraction, !extraction.hourly.isEmpty else {
            return "## Query volume\n\nNo extraction volume in the analysis; no chart.\n\n"
        }
        let shown = min(extraction.attackers.count, SVGChart.palette.count)
        var out = "## Query volume\n\n"
        out += "[![Hourly query volume per attacker against all traffic](timeline-volume.svg)](timeline-volume.svg)\n\n"
        out += "Hourly queries to the prediction endpoints: all traffic (grey, dashed) and each attacker identity"
        out += extraction.attackers.count > shown ? " (the first " + String(shown) + " of " + String(extraction.attackers.count) + " shown)" : ""
        out += ", from the analysis's hourly counts.\n\n"
        return out
    }

    /// The hourly volume chart, or nil when the analysis has no hourly counts: a linear time axis
    /// (every hour from the first to the last, hours the analysis has no count for leave a gap in the
    /// all-traffic line), the hourly rule's threshold, and markers for the compromised deploy, the
    /// rollback and the first detection.
    package func chart() -> String? {
        guard let extraction = result.extraction, !extraction.hourly.isEmpty else { return nil }
        let hour: Int64 = 3_600_000_000_000
        var byHour: [Int64: HourlyVolume] = [:]
        for volume in extraction.hourly where byHour[volume.hour.nanoseconds] == nil { byHour[volume.hour.nanoseconds] = volume }
        guard let first = byHour.keys.min(), let last = byHour.keys.max() else { return nil }
        // Hours centuries apart (evidence times reach 1677 and 2262) make no chart either.
        let span = Int(Timestamp.span(from: first, to: last) / hour)
        guard span <= 24 * 92 else { return nil }
        let hours = (0...span).map { first + Int64($0) * hour }
        let labels = hours.map { String(UTCTime(Timestamp(nanoseconds: $0)).minuteText.dropLast(4)) }
        let missing = Set(hours.indices.filter { byHour[hours[$0]] == nil })
        var series = [SVGChart.Series(name: "All traffic (gaps: hours without attacker activity, not counted)", values: hours.map { byHour[$0]?.total ?? 0 },
                                      color: "#6B7280", isDashed: true, missing: missing)]
        for (index, attacker) in extraction.attackers.prefix(SVGChart.palette.count).enumerated() {
            series.append(SVGChart.Series(name: attacker.identity, values: hours.map { byHour[$0]?.attackers[attacker.identity] ?? 0 },
                                          color: SVGChart.palette[index]))
        }
        var chart = SVGChart(title: "Hourly query volume — " + result.caseInfo.id, xLabels: labels, yLabel: "queries per hour (UTC)",
                             series: series)
        func position(_ time: Timestamp?) -> Double? { time.map { Double(Timestamp.span(from: first, to: $0.nanoseconds)) / Double(hour) } }
        var markers: [SVGChart.Marker] = []
        if let incident = result.incidents.first(where: { $0.type == .modelBehaviour }) {
            if let at = position(incident.window.start.time) { markers.append(.init(position: at, label: "compromised deploy", color: "#7C3AED")) }
            if let at = position(incident.window.end?.time) { markers.append(.init(position: at, label: "rollback", color: "#059669")) }
        }
        if let at = position(context.firstEvent("detection")?.time) { markers.append(.init(position: at, label: "first detection", color: "#1D4ED8")) }
        chart.markers = markers
        if let setting = result.rules.first(where: { $0.id == RuleID.extractionVolume })?.settings?.first(where: { $0.name.hasSuffix("max_queries") }),
           let value = Int64(setting.value) {
            chart.threshold = (value, RuleID.extractionVolume + " threshold per address (" + ReportNumber.grouped(value) + ")")
        }
        return chart.render()
    }

    private func events() -> String {
        var out = "## Events\n\n"
        guard !result.timeline.isEmpty else { return out + "The analysis has no timeline events.\n\n" }
        let rows = context.sortedTimeline.enumerated().map { index, event -> [String] in
            [String(index + 1), context.time(event), "**" + Self.phaseLabel(event.phase) + "**", context.md(event.source, limit: 60),
             context.md(event.description, limit: 300), event.incident.map { context.md($0, limit: 60) } ?? "—", context.evidence(event.evidence)]
        }
        out += context.table(["#", "Time (UTC)", "Phase", "Source", "Event", "Incident", "Evidence"], rows) + "\n\n"
        return out
    }
}

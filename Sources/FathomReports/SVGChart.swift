import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// A small self-contained SVG line chart (no external renderer): one polyline per series over a
/// shared x axis, written with fixed-point coordinates so the bytes are deterministic.
public struct SVGChart: Sendable {
    /// One line of the chart.
    public struct Series: Sendable, Equatable {
        public var name: String
        public var values: [Int64]
        public var color: String
        public var isDashed: Bool
        /// Indexes with no value (the line breaks there instead of falling to zero).
        public var missing: Set<Int>

        public init(name: String, values: [Int64], color: String, isDashed: Bool = false, missing: Set<Int> = []) {
            self.name = name
            self.values = values
            self.color = color
            self.isDashed = isDashed
            self.missing = missing
        }
    }

    /// A vertical line at a (fractional) x position: a deploy, a rollback, a detection.
    public struct Marker: Sendable, Equatable {
        public var position: Double
        public var label: String
        public var color: String

        public init(position: Double, label: String, color: String) {
            self.position = position
            self.label = label
            self.color = color
        }
    }

    /// Vertical event markers, drawn over the lines.
    public var markers: [Marker] = []
    /// A horizontal line: a rule's threshold.
    public var threshold: (value: Int64, label: String)?

    public var title: String
    public var xLabels: [String]
    public var yLabel: String
    public var series: [Series]
    public var width = 880
    public var height = 400

    public init(title: String, xLabels: [String], yLabel: String, series: [Series]) {
        self.title = title
        self.xLabels = xLabels
        self.yLabel = yLabel
        self.series = series
    }

    /// Colours for attacker series (colour-blind friendly, Okabe–Ito).
    public static let palette = ["#D55E00", "#0072B2", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

    /// The SVG document.
    public func render() -> String {
        let left = 90.0, right = 20.0, top = 40.0, bottom = 70.0
        let legendHeight = Double(series.count) * 18
        let totalHeight = Double(height) + legendHeight + 16
        let plotWidth = Double(width) - left - right
        let plotHeight = Double(height) - top - bottom
        let maximum = max(1, series.flatMap(\.values).max() ?? 1, threshold?.value ?? 0)
        let step = Self.niceStep(maximum)
        let ceiling = ((maximum + step - 1) / step) * step
        let count = max(1, xLabels.count)
        func x(_ index: Int) -> Double { position(Double(index)) }
        func position(_ index: Double) -> Double { left + (count == 1 ? plotWidth / 2 : plotWidth * index / Double(count - 1)) }
        func y(_ value: Int64) -> Double { top + plotHeight - plotHeight * Double(value) / Double(ceiling) }

        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"" + Self.n(totalHeight)
            + "\" viewBox=\"0 0 \(width) " + Self.n(totalHeight) + "\" font-family=\"sans-serif\" font-size=\"11\">\n"
        out += "<title>" + Self.xml(title) + "</title>\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(width)\" height=\"" + Self.n(totalHeight) + "\" fill=\"#ffffff\"/>\n"
        out += "<text x=\"" + Self.n(left) + "\" y=\"22\" font-size=\"14\" font-weight=\"bold\">" + Self.xml(title) + "</text>\n"
        var tick: Int64 = 0
        while tick <= ceiling {
            out += "<line x1=\"" + Self.n(left) + "\" y1=\"" + Self.n(y(tick)) + "\" x2=\"" + Self.n(left + plotWidth)
                + "\" y2=\"" + Self.n(y(tick)) + "\" stroke=\"#e5e7eb\"/>\n"
            out += "<text x=\"" + Self.n(left - 6) + "\" y=\"" + Self.n(y(tick) + 4) + "\" text-anchor=\"end\">"
                + ReportNumber.grouped(tick) + "</text>\n"
            tick += step
        }
        out += "<line x1=\"" + Self.n(left) + "\" y1=\"" + Self.n(top + plotHeight) + "\" x2=\"" + Self.n(left + plotWidth)
            + "\" y2=\"" + Self.n(top + plotHeight) + "\" stroke=\"#374151\"/>\n"
        out += "<text x=\"14\" y=\"" + Self.n(top + plotHeight / 2) + "\" transform=\"rotate(-90 14 " + Self.n(top + plotHeight / 2)
            + ")\" text-anchor=\"middle\">" + Self.xml(yLabel) + "</text>\n"
        let labelEvery = max(1, (count + 11) / 12)
        for (index, label) in xLabels.enumerated() where index % labelEvery == 0 || index == count - 1 {
            out += "<text x=\"" + Self.n(x(index)) + "\" y=\"" + Self.n(top + plotHeight + 14)
                + "\" text-anchor=\"end\" transform=\"rotate(-35 " + Self.n(x(index)) + " " + Self.n(top + plotHeight + 14) + ")\">"
                + Self.xml(label) + "</text>\n"
        }
        for line in series {
            // One polyline per run of known values: a missing hour breaks the line.
            var runs: [[String]] = [[]]
            for (index, value) in line.values.prefix(count).enumerated() {
                if line.missing.contains(index) {
                    if !(runs.last?.isEmpty ?? true) { runs.append([]) }
                    continue
                }
                runs[runs.count - 1].append(Self.n(x(index)) + "," + Self.n(y(value)))
            }
            for points in runs where !points.isEmpty {
                out += "<polyline fill=\"none\" stroke=\"" + Self.color(line.color) + "\" stroke-width=\"" + (line.isDashed ? "1.5" : "2")
                    + "\"" + (line.isDashed ? " stroke-dasharray=\"5 3\"" : "") + " points=\"" + points.joined(separator: " ") + "\"/>\n"
            }
        }
        if let threshold {
            out += "<line x1=\"" + Self.n(left) + "\" y1=\"" + Self.n(y(threshold.value)) + "\" x2=\"" + Self.n(left + plotWidth)
                + "\" y2=\"" + Self.n(y(threshold.value)) + "\" stroke=\"#B91C1C\" stroke-dasharray=\"2 2\"/>\n"
            out += "<text x=\"" + Self.n(left + plotWidth - 4) + "\" y=\"" + Self.n(y(threshold.value) - 4) + "\" text-anchor=\"end\" fill=\"#B91C1C\">"
                + Self.xml(threshold.label) + "</text>\n"
        }
        for (index, marker) in markers.enumerated() where marker.position >= 0 && marker.position <= Double(count - 1) {
            let at = position(marker.position)
            out += "<line x1=\"" + Self.n(at) + "\" y1=\"" + Self.n(top) + "\" x2=\"" + Self.n(at) + "\" y2=\"" + Self.n(top + plotHeight)
                + "\" stroke=\"" + Self.color(marker.color) + "\" stroke-dasharray=\"4 2\"/>\n"
            out += "<text x=\"" + Self.n(at + 3) + "\" y=\"" + Self.n(top + 12 + Double(index % 3) * 12) + "\" fill=\"" + Self.color(marker.color) + "\">"
                + Self.xml(marker.label, limit: 40) + "</text>\n"
        }
        for (index, line) in series.enumerated() {
            let rowY = Double(height) + 16 + Double(index) * 18
            out += "<rect x=\"" + Self.n(left) + "\" y=\"" + Self.n(rowY - 9) + "\" width=\"14\" height=\"10\" fill=\"" + Self.color(line.color) + "\"/>\n"
            out += "<text x=\"" + Self.n(left + 20) + "\" y=\"" + Self.n(rowY) + "\">" + Self.xml(line.name) + "</text>\n"
        }
        return out + "</svg>\n"
    }

    /// A step of 1, 2 or 5 × 10ⁿ giving at most about 6 grid lines.
    package static func niceStep(_ maximum: Int64) -> Int64 {
        var magnitude: Int64 = 1
        while magnitude * 10 <= maximum / 6 + 1, magnitude < Int64.max / 100 { magnitude *= 10 }
        for factor: Int64 in [1, 2, 5, 10] where maximum / (magnitude * factor) <= 6 { return magnitude * factor }
        return magnitude * 10
    }

    /// A coordinate with one decimal, no locale: `12.3`, `-4`, `100`.
    package static func n(_ value: Double) -> String { ReportNumber.fixed(value, digits: 1).replacingOccurrences(of: ",", with: "") }

    /// `#RRGGBB` kept, anything else replaced by grey.
    package static func color(_ text: String) -> String {
        let hexDigits = text.dropFirst()
        return text.hasPrefix("#") && hexDigits.count == 6 && hexDigits.allSatisfy { $0.isHexDigit && $0.isASCII } ? text : "#808080"
    }

    /// Untrusted text as XML character data: `& < > " '` as entities, characters XML 1.0 forbids or
    /// that reorder text (controls, bidi, zero-width) as a visible `\u{…}`, at most 80 bytes.
    public static func xml(_ text: String, limit: Int = 80) -> String {
        let (kept, dropped) = MarkdownText.truncate(text, limit: limit)
        var out = ""
        for scalar in kept.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            default:
                if MarkdownText.isUnsafe(scalar) || (0xFFFE...0xFFFF).contains(scalar.value) {
                    out += "\\u{" + String(scalar.value, radix: 16) + "}"
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return dropped > 0 ? out + "…[+" + String(dropped) + " bytes]" : out
    }
}

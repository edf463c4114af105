import Foundation

/// Deterministic number formatting for reports: ASCII digits, `,` thousands separators, no locale.
public enum ReportNumber {
    /// `1234567` → `1,234,567`.
    public static func grouped(_ value: Int64) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { result += "," }
            result.append(digit)
        }
        return (value < 0 ? "-" : "") + result
    }

    /// A number with `digits` decimals (half away from zero), thousands grouped; integral values
    /// print without decimals when `trimIntegral` is set.
    public static func fixed(_ value: Double, digits: Int = 1, trimIntegral: Bool = true) -> String {
        guard value.isFinite else { return value.isNaN ? "n/a" : (value < 0 ? "-∞" : "∞") }
        var scale: Double = 1
        for _ in 0..<digits { scale *= 10 }
        let scaled = (abs(value) * scale).rounded(.toNearestOrAwayFromZero)
        guard scaled < 9e18 else { return value < 0 ? "-" + String(-value) : String(value) }
        let units = Int64(scaled)
        let whole = units / Int64(scale)
        let fraction = units % Int64(scale)
        let sign = value < 0 && units != 0 ? "-" : ""
        if digits == 0 || (trimIntegral && fraction == 0) { return sign + grouped(whole) }
        var fractionText = String(fraction)
        fractionText = String(repeating: "0", count: digits - fractionText.count) + fractionText
        return sign + grouped(whole) + "." + fractionText
    }

    /// A share 0…1 as a percentage with one decimal: `0.4231` → `42.3 %`.
    public static func percent(_ share: Double) -> String { fixed(share * 100, digits: 1, trimIntegral: false) + " %" }

    /// A duration: `45 s`, `12 min`, `3 h 05 min`, `2 d 4 h 10 min`.
    public static func duration(seconds: Double) -> String {
        guard seconds.isFinite else { return "unknown" }
        let negative = seconds < 0
        let total = Int64(abs(seconds).rounded(.down))
        let text: String
        if total < 60 {
            text = String(total) + " s"
        } else if total < 3600 {
            text = String(total / 60) + " min"
        } else if total < 86_400 {
            text = String(total / 3600) + " h " + two(total / 60 % 60) + " min"
        } else {
            text = String(total / 86_400) + " d " + String(total / 3600 % 24) + " h " + two(total / 60 % 60) + " min"
        }
        return negative ? "−" + text : text
    }

    private static func two(_ value: Int64) -> String { value < 10 ? "0" + String(value) : String(value) }
}

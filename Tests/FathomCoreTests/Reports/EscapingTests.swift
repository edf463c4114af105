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

/// A small seeded generator (SplitMix64), so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Hostile fragments the generator glues together.
enum HostileText {
    static let fragments: [String] = [
        "[", "]", "(", ")", "](", "![", "<", ">", "<a href=x>", "</", "<http://e.x>", "<script>", "http://", "https://", "HTTP://",
        "hTtPs://", "ftp://", "www.", "WWW.", "wWw.", "mailto:", "@", "a@b.c", "|", "\\|", "\\", "\\\\", "`", "```", "*", "_", "#", "-",
        "+", ".", "!", "{", "}", "~", "&", "&#58;", "&lt;", "&#x202E;", ":", "//", "\n", "\r", "\r\n", "\t", "\u{0}", "\u{1B}[31m",
        "\u{7F}", "\u{85}", "\u{9B}", "\u{202E}", "\u{202D}", "\u{2066}", "\u{200B}", "\u{200D}", "\u{FEFF}", "\u{2028}", "\u{E0041}",
        "é", "e\u{301}", "😀", "👩‍💻", "Ω", "a", "b", "evil", "x", " ", "  ", "1.", "1)", "===", "---", "%%", "\"", "'", ";", "javascript:", "$", "$$",
    ]

    static func generate(_ rng: inout SeededGenerator, maxFragments: Int = 24) -> String {
        let count = Int.random(in: 0...maxFragments, using: &rng)
        return (0..<count).map { _ in fragments.randomElement(using: &rng) ?? "" }.joined()
    }
}

/// Checks escaped Markdown for anything live.
enum LiveMarkdown {
    /// Characters that are preceded by an odd number of backslashes are escaped.
    static func unescaped(_ text: String) -> [(Int, Character)] {
        var result: [(Int, Character)] = []
        var backslashes = 0
        for (index, character) in text.enumerated() {
            if character == "\\" {
                backslashes += 1
                continue
            }
            if backslashes % 2 == 0 { result.append((index, character)) }
            backslashes = 0
        }
        return result
    }

    /// Problems found in `escaped`, empty when it is inert.
    static func problems(_ escaped: String) -> [String] {
        var problems: [String] = []
        if escaped.contains("](") { problems.append("contains ](") }
        if escaped.contains("<http") { problems.append("contains <http") }
        let lower = escaped.lowercased()
        for link in ["http://", "https://", "ftp://", "www."] where lower.contains(link) { problems.append("contains \(link)") }
        let scalars = Array(escaped.unicodeScalars)
        for (index, scalar) in scalars.enumerated() where scalar == "<" {
            if index + 1 < scalars.count, scalars[index + 1].properties.isAlphabetic || scalars[index + 1] == "/" || scalars[index + 1] == "!" {
                problems.append("HTML tag at \(index)")
            }
        }
        for (_, character) in unescaped(escaped) where "|[]`*<>!$@".contains(character) {
            problems.append("unescaped \(character)")
        }
        // `_` opens or closes emphasis only at a word boundary; inside a word it is literal.
        let characters = Array(escaped)
        for (index, character) in unescaped(escaped) where character == "_" {
            let before = index > 0 && (characters[index - 1].isLetter || characters[index - 1].isNumber)
            let after = index + 1 < characters.count && (characters[index + 1].isLetter || characters[index + 1].isNumber)
            if !(before && after) { problems.append("unescaped _ at a word boundary") }
        }
        // Block openers at the start: a heading, a list item, an ordered list.
        if let first = characters.first, "#+-=".contains(first) { problems.append("unescaped \(first) at the start") }
        if let dot = characters.firstIndex(where: { $0 == "." || $0 == ")" }), dot > 0, characters[..<dot].allSatisfy(\.isNumber),
           dot + 1 == characters.count || characters[dot + 1] == " " || characters[dot + 1] == "\t" {
            problems.append("ordered-list marker at the start")
        }
        if escaped.contains("\n") || escaped.contains("\r") { problems.append("raw line break") }
        if escaped.unicodeScalars.contains(where: MarkdownText.isUnsafe) { problems.append("control or invisible character") }
        return problems
    }
}

@Suite struct EscapingTests {
    @Test func escapedMarkdownIsNeverLive() {
        var rng = SeededGenerator(seed: 0x5EED_0007)
        for _ in 0..<3_000 {
            let input = HostileText.generate(&rng)
            let limit = Int.random(in: 1...400, using: &rng)
            let escaped = MarkdownText.escape(input, limit: limit)
            let problems = LiveMarkdown.problems(escaped)
            #expect(problems.isEmpty, "input \(input.debugDescription) → \(escaped.debugDescription): \(problems)")
            #expect(escaped.contains("truncated") || input.utf8.count <= limit || input.contains("truncated"))
        }
    }

    @Test func escapedCellsKeepTheTableShape() {
        var rng = SeededGenerator(seed: 42)
        for _ in 0..<1_000 {
            let cells = (0..<3).map { _ in MarkdownText.cell(HostileText.generate(&rng)) }
            let row = "| " + cells.joined(separator: " | ") + " |"
            let pipes = LiveMarkdown.unescaped(row).filter { $0.1 == "|" }.count
            #expect(pipes == 4, "row \(row.debugDescription)")
            #expect(!row.contains("\n"))
        }
    }

    @Test func mermaidLabelsCannotCloseOrComment() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<2_000 {
            let label = Mermaid.label(HostileText.generate(&rng))
            #expect(label.hasPrefix("\"") && label.hasSuffix("\"") && label.count >= 2)
            let body = label.dropFirst().dropLast()
            for forbidden in ["\"", "<", ">", "`", "[", "]", "(", ")", "{", "}", "|", "%", ":", "\n", "\r"] {
                #expect(!body.contains(forbidden), "\(label.debugDescription) contains \(forbidden.debugDescription)")
            }
            // Every # starts an entity code #name; and every ; ends one.
            var rest = Substring(body)
            while let hash = rest.firstIndex(of: "#") {
                let tail = rest[rest.index(after: hash)...]
                let end = tail.firstIndex(of: ";")
                #expect(end != nil && tail[..<(end ?? tail.endIndex)].allSatisfy { $0.isLetter || $0.isNumber })
                rest = end.map { tail[tail.index(after: $0)...] } ?? ""
            }
            #expect(!rest.contains(";"))
            #expect(!label.unicodeScalars.contains(where: MarkdownText.isUnsafe))
        }
    }

    @Test func knownHostileStrings() {
        #expect(MarkdownText.escape("[click](http://evil)") == "\\[click\\]\\(http&#58;//evil)")
        // Only what changes rendering is escaped: ids, versions and snake_case read as they are.
        #expect(MarkdownText.escape("IR-2026-0042: v12. modify_data by d.silva (torch)") == "IR-2026-0042: v12. modify_data by d.silva (torch)")
        #expect(MarkdownText.escape("- item") == "\\- item")
        #expect(MarkdownText.escape("12. item") == "12\\. item")
        #expect(MarkdownText.escape("10.20.30.40") == "10.20.30.40")
        #expect(MarkdownText.escape("_em_ and pkg@2.0") == "\\_em\\_ and pkg\\@2.0")
        #expect(MarkdownText.escape("<script>") == "&lt;script&gt;")
        #expect(MarkdownText.escape("a|b") == "a\\|b")
        #expect(MarkdownText.escape("$x^2$") == "\\$x^2\\$")
        #expect(MarkdownText.escape("x\u{202E}y") == "x\\\\u\\{202e\\}y")
        #expect(MarkdownText.escape("l1\nl2\r\nl3") == "l1 l2 l3")
        #expect(MarkdownText.escape("see www.evil.com") == "see www&#46;evil.com")
        #expect(MarkdownText.escape("&#x202E;") == "\\&#x202E;")
        #expect(MarkdownText.escape("[TO BE COMPLETED: x]").hasPrefix("\\["))
        #expect(Placeholder.find(in: MarkdownText.escape("[TO BE COMPLETED: x]")).isEmpty)
        #expect(Placeholder.find(in: "a " + Placeholder.make("b") + " c") == ["[TO BE COMPLETED: b]"])
    }

    @Test func truncationIsVisibleAndCountsBytes() {
        let text = String(repeating: "é", count: 1_000)
        let escaped = MarkdownText.escape(text, limit: 11)
        #expect(escaped == String(repeating: "é", count: 5) + "…\\[truncated, 1,990 more bytes\\]")
        #expect(MarkdownText.escape("short", limit: 5) == "short")
    }

    @Test func fencedBlocksOutgrowBacktickRuns() {
        let block = MarkdownText.fencedBlock("echo '````' \u{1B}[2J")
        #expect(block.hasPrefix("`````\n"))
        #expect(block.hasSuffix("\n`````"))
        #expect(!block.contains("\u{1B}"))
    }

    @Test func shellQuoting() {
        #expect(ShellText.quote("it's") == "'it'\\''s'")
        #expect(ShellText.quote("$(rm -rf /)") == "'$(rm -rf /)'")
        #expect(ShellText.quote("a\nb\u{202E}") == "'a?b?'")
    }

    @Test func svgTextIsInert() {
        let text = SVGChart.xml("<script>&\"'\u{1B}\u{202E}")
        #expect(text == "&lt;script&gt;&amp;&quot;&#39;\\u{1b}\\u{202e}")
    }

    @Test func numbersAreLocaleFree() {
        #expect(ReportNumber.grouped(1_234_567) == "1,234,567")
        #expect(ReportNumber.grouped(-1_000) == "-1,000")
        #expect(ReportNumber.fixed(187_400) == "187,400")
        #expect(ReportNumber.fixed(2.25, digits: 3) == "2.25" || ReportNumber.fixed(2.25, digits: 3) == "2.250")
        #expect(ReportNumber.percent(0.4231) == "42.3 %")
        #expect(ReportNumber.duration(seconds: 160_200) == "1 d 20 h 30 min")
        #expect(ReportNumber.duration(seconds: 45) == "45 s")
        #expect(ReportNumber.duration(seconds: 3_900) == "1 h 05 min")
    }
}

import Foundation
import Testing
@testable import FathomReports
import FathomStore
import FathomSupport

/// One hostile corpus through every sink Fathom writes log text to: each sink escapes exactly the
/// characters ``UntrustedText/isUnsafe(_:)`` names, in its own syntax, and keeps what it escapes
/// recoverable or visibly marked.
@Suite("One hostile corpus, every sink")
struct SinkEscapingTests {
    /// The fragments of ``HostileText`` one by one, plus seeded combinations of them.
    static let corpus: [String] = {
        var rng = SeededGenerator(seed: 20_261_202)
        return HostileText.fragments + (0..<200).map { _ in HostileText.generate(&rng) }
    }()

    static func unsafeScalars(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter(UntrustedText.isUnsafe)
    }

    @Test func markdownShowsNoUnsafeCharacter() {
        for text in Self.corpus {
            let escaped = MarkdownText.escape(text, limit: 10_000)
            #expect(Self.unsafeScalars(escaped).isEmpty, "\(Array(text.unicodeScalars))")
        }
    }

    @Test func terminalShowsNoUnsafeCharacter() {
        for text in Self.corpus {
            let escaped = TerminalText.escape(text)
            #expect(Self.unsafeScalars(escaped).isEmpty, "\(Array(text.unicodeScalars))")
            #expect(!escaped.contains("\u{1B}"))
            if Self.unsafeScalars(text).isEmpty && !text.contains("\\") { #expect(escaped == text) }
        }
    }

    /// JSON: the encoder escapes C0 controls, ``JSONText`` the rest; the text decodes back whole.
    @Test func jsonShowsNoUnsafeCharacterAndDecodesBack() throws {
        for text in Self.corpus {
            let encoded = String(decoding: try JSONEncoder().encode([text]), as: UTF8.self)
            let escaped = JSONText.escapeInvisible(encoded, where: JSONText.isInvisible)
            #expect(Self.unsafeScalars(escaped).isEmpty, "\(Array(text.unicodeScalars))")
            #expect(try JSONDecoder().decode([String].self, from: Data(escaped.utf8)) == [text])
        }
    }

    /// CSV: line breaks and tabs stay (quoted, RFC 4180); every other unsafe character is a
    /// visible escape; a field never starts a formula.
    @Test func csvShowsNoUnsafeCharacterButLineBreaks() {
        for text in Self.corpus {
            let field = CSV.field(text)
            let left = Self.unsafeScalars(field).filter { $0 != "\n" && $0 != "\r" && $0 != "\t" }
            #expect(left.isEmpty, "\(Array(text.unicodeScalars))")
            if let first = field.unicodeScalars.first {
                #expect(!"=+-@".unicodeScalars.contains(first))
            }
            var bytes: [UInt8] = []
            text.withByteView { CSV.append(field: $0, to: &bytes) }
            #expect(String(decoding: bytes, as: UTF8.self) == field, "the byte path writes the same field")
        }
    }

    @Test func svgTextIsInertXML() {
        for text in Self.corpus {
            let escaped = SVGChart.xml(text, limit: 10_000)
            #expect(Self.unsafeScalars(escaped).isEmpty, "\(Array(text.unicodeScalars))")
            #expect(!escaped.contains("<") && !escaped.contains(">") && !escaped.contains("\""))
            #expect(!escaped.replacingOccurrences(of: "&amp;", with: "").replacingOccurrences(of: "&lt;", with: "")
                .replacingOccurrences(of: "&gt;", with: "").replacingOccurrences(of: "&quot;", with: "")
                .replacingOccurrences(of: "&#39;", with: "").contains("&"), "every & starts an entity Fathom wrote")
        }
    }

    /// Shell: one single-quoted word that `sh` reads back as the text (unsafe characters shown as `?`).
    @Test func shellQuotingReadsBackAsOneWord() throws {
        for text in Self.corpus.prefix(60) where !text.isEmpty {
            let quoted = ShellText.quote(text)
            #expect(Self.unsafeScalars(quoted).isEmpty)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/bin/sh")
            process.arguments = ["-c", "printf '%s' " + quoted]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let data = out.fileHandleForReading.readDataToEndOfFile()
            process.waitUntilExit()
            let expected = String(text.unicodeScalars.map { UntrustedText.isUnsafe($0) ? "?" : Character($0) })
            #expect(String(decoding: data, as: UTF8.self) == expected, "\(Array(text.unicodeScalars))")
        }
    }
}

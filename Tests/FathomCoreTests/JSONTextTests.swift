@testable import FathomCore
import Foundation
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

struct JSONTextTests {
    @Test(arguments: [
        ("\"a\u{202E}b\"", "\"a\\u202eb\""),
        ("\"\u{200B}\"", "\"\\u200b\""),
        ("\"tag \u{E0041}\"", "\"tag \\udb40\\udc41\""),
        ("\"caf\u{E9} \u{1F600}\"", "\"caf\u{E9} \u{1F600}\""),
        ("\"del\u{7F} nel\u{85}\"", "\"del\\u007f nel\\u0085\""),
    ])
    func invisibleCharactersBecomeEscapesThatDecodeToTheSameText(json: String, escaped: String) throws {
        let result = JSONText.escapeInvisible(json) { UntrustedText.isUnsafe($0) || (0xE0000...0xE007F).contains($0.value) }
        #expect(result == escaped)
        let decoded = try JSONSerialization.jsonObject(with: Data(result.utf8), options: [.fragmentsAllowed]) as? String
        let original = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) as? String
        #expect(decoded == original)
    }

    /// The scalar-by-scalar definition the byte-level implementation must agree with.
    static func reference(_ json: String, _ isUnsafe: (Unicode.Scalar) -> Bool) -> String {
        var out = ""
        for scalar in json.unicodeScalars {
            if scalar.value >= 0x7F, isUnsafe(scalar) {
                for unit in String(scalar).utf16 {
                    let hex = String(unit, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                }
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    @Test func agreesWithTheScalarDefinitionOnMixedText() {
        let alphabet: [Unicode.Scalar] = ["a", "\"", "\\", "\u{7F}", "\u{85}", "\u{E9}", "\u{202E}", "\u{200B}", "\u{4E2D}",
                                          "\u{FEFF}", "\u{1F600}", "\u{E0041}", " ", "\n"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                text.unicodeScalars.append(alphabet.randomElement(using: &generator)!)
            }
            let isUnsafe = { (scalar: Unicode.Scalar) in UntrustedText.isUnsafe(scalar) || (0xE0000...0xE007F).contains(scalar.value) }
            #expect(JSONText.escapeInvisible(text, where: isUnsafe) == Self.reference(text, isUnsafe), "\(text.unicodeScalars.map(\.value))")
        }
    }
}

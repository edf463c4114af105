@testable import FathomCore
import Foundation
import Testing

struct JSONTextTests {
    @Test(arguments: [
        ("\"a\u{202E}b\"", "\"a\\u202eb\""),
        ("\"\u{200B}\"", "\"\\u200b\""),
        ("\"tag \u{E0041}\"", "\"tag \\udb40\\udc41\""),
        ("\"caf\u{E9} \u{1F600}\"", "\"caf\u{E9} \u{1F600}\""),
    ])
    func invisibleCharactersBecomeEscapesThatDecodeToTheSameText(json: String, escaped: String) throws {
        let result = JSONText.escapeInvisible(json) { TerminalText.isUnsafe($0) || (0xE0000...0xE007F).contains($0.value) }
        #expect(result == escaped)
        let decoded = try JSONSerialization.jsonObject(with: Data(result.utf8), options: [.fragmentsAllowed]) as? String
        let original = try JSONSerialization.jsonObject(with: Data(json.utf8), options: [.fragmentsAllowed]) as? String
        #expect(decoded == original)
    }
}

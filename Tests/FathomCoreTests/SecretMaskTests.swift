import Foundation
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

@Suite("Secret masking")
struct SecretMaskTests {
    @Test(arguments: [
        ("key AKIAIOSFODNN7EXAMPLE in use", "key AKIA************MPLE in use"),
        ("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "aws_secret_access_key = [masked]"),
        (#"{"password":"hunter2hunter2","user":"bob"}"#, #"{"password":"[masked]","user":"bob"}"#),
        ("Authorization: Bearer eyJhbGciOi.eyJzdWIiOiIx.SflKxwRJSMeKKF2QT4", "Authorization: Bearer [masked]"),
        ("card 4038 5446 6904 6182 ok", "card **** **** **** 6182 ok"),
        ("cards: 4038544669046182", "cards: ************6182"),
        ("token ghp_0123456789abcdefghijABCDEFGHIJ012345", "token ghp_********************************2345"),
        ("ssn 123-45-6789", "ssn ***-**-6789"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- after", "-----BEGIN RSA PRIVATE KEY----- [masked] after"),
    ])
    func masks(input: String, expected: String) {
        #expect(SecretMask.mask(input) == expected)
    }

    /// What is not a secret stays as it was: addresses, times, hashes, e-mail, ordinary words, and
    /// digit runs that are not Luhn-valid card numbers.
    @Test(arguments: [
        "GET /v1/models/fraud-detector/predict from 198.51.100.23 at 2026-03-02T10:00:00.123Z",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "mail maria.lopez@example.com",
        "the key to success is practice",
        "order 1234567890123456",
        "tokens: 512",
    ])
    func leavesOrdinaryTextAlone(input: String) {
        #expect(SecretMask.mask(input) == input)
    }

    /// The cheap scan that decides whether the patterns run never skips a text they would change:
    /// random texts made of secrets, near-secrets and ordinary log fragments, masked with and
    /// without it.
    @Test func theCheapScanNeverSkipsASecret() {
        let fragments = [
            "AKIAIOSFODNN7EXAMPLE", "ASIAY34FZKBOKMUTVV7A", "ghp_0123456789abcdefghijABCDEFGHIJ012345", "xoxb-123456789012-abcdefghij",
            "sk-abcdefghijklmnopqrstuvwx", "-----BEGIN PRIVATE KEY-----", "password=hunter2hunter2", "\"token\": \"abcd1234efgh\"",
            "api_key : s3cr3tv4lue", "secret_access_key=AbCdEf123456", "credentials=xyzw9876", "pwd:letmein99",
            "Bearer abcdefghijklmnop", "eyJhbGciOiJI.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4", "4038 5446 6904 6182",
            "4038-5446-6904-6182", "4038544669046182", "123-45-6789", "078-05-1120", "GB82WEST12345698765432",
            "NL91ABNA0417164300", "DE89 3704 0044 0532 0130 00", "arn:aws:iam::111122223333:user/alice", "CreateAccessKey",
            "AccessKey", "the key to it", "tokens: 512", "198.51.100.23", "2026-03-02T10:00:00Z", "1234567890123",
            "12-34-56-78-90-12", "NL91", "token", "key=", ":", "=", " ", "\n", "é", "\"", "KEY", "Secret", "x",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "gho_0123456789abcdefghijABCDEFGHIJ012345",
            "ghs_0123456789abcdefghijABCDEFGHIJ012345", "ghr_0123456789abcdefghijABCDEFGHIJ012345", "gh", "ghp", "_",
            "right though", "github_pat", "Asia",
        ]
        var generator = SeededGenerator(seed: 20261203)
        for _ in 0..<5000 {
            let count = Int.random(in: 1...6, using: &generator)
            var text = ""
            for _ in 0..<count {
                text += fragments.randomElement(using: &generator) ?? ""
                if Bool.random(using: &generator) { text += [" ", "", ",", "/", "="].randomElement(using: &generator) ?? "" }
            }
            #expect(SecretMask.mask(text) == SecretMask.mask(text, prefilter: false), "\(text)")
        }
    }

    /// The same on long real prompts (the test sample's jailbreaks, which name keys, tokens and
    /// passwords), each also with secrets and near-secrets set into it at random: a text the scan
    /// lets through runs only the patterns whose own clues it holds, and is masked as by all.
    @Test func eachPatternsCluesNeverSkipASecret() throws {
        let prompts = try InjectionModelTests.testSamplePrompts()
        let inserts = ["AKIAIOSFODNN7EXAMPLE", "ghp_0123456789abcdefghijABCDEFGHIJ012345", "xoxb-123456789012-abcdefghij",
                       "sk-abcdefghijklmnopqrstuvwx", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
                       "password=hunter2hunter2", "\"token\": \"abcd1234efgh\"", "Key: s3cr3tv4lue", "Bearer abcdefghijklmnop",
                       "eyJhbGciOiJI.eyJzdWIiOiIxMjM0.SflKxwRJSMeKKF2QT4", "4038 5446 6904 6182", "078-05-1120",
                       "GB82WEST12345698765432", "key", "token", "bearer", "eyJ", "secret", ":", "="]
        var generator = SeededGenerator(seed: 38)
        var flagged = 0, changed = 0
        for prompt in prompts {
            var texts = [prompt]
            var characters = Array(prompt)
            for _ in 0..<Int.random(in: 1...3, using: &generator) {
                characters.insert(contentsOf: " " + inserts.randomElement(using: &generator)! + " ",
                                  at: Int.random(in: 0...characters.count, using: &generator))
            }
            texts.append(String(characters))
            for text in texts {
                let masked = SecretMask.mask(text)
                #expect(masked == SecretMask.mask(text, prefilter: false), "\(text.prefix(120))")
                if SecretMask.mightHoldSecrets(text) { flagged += 1 }
                if masked != text { changed += 1 }
            }
        }
        #expect(flagged > 500)
        #expect(changed > 300)
    }
}

/// A hit's masking looks at its packed fields first and unpacks them only when one could change:
/// the result is what masking every key and field value gives.
@Suite struct HitMaskingTests {
    @Test func maskingAHitIsMaskingEachValue() {
        let texts = [
            "plain prompt about the weather", "password=hunter2hunter2", "ak_live_7Hq2xY9pLm3NvB8cD1eF", "u_48213",
            "svc-model-sync", "4038 5446 6904 6182", "sk-abcdefghijklmnopqrstuvwx", "token: abcd", "é and \u{0}", "",
            "AKIAIOSFODNN7EXAMPLE", "GB82WEST12345698765432", "bob@example.com",
        ]
        var generator = SeededGenerator(seed: 20261205)
        var changed = 0
        for index in 0..<3_000 {
            func text() -> String { texts.randomElement(using: &generator)! + (Bool.random(using: &generator) ? " " : "") }
            let fieldNames = ["api_key", "principal", "principals", "prompt", "response", "session"].filter { _ in Bool.random(using: &generator) }
            var fields: [String: HitValue] = [:]
            for name in fieldNames {
                switch Int.random(in: 0..<4, using: &generator) {
                case 0: fields[name] = .strings([text(), text()])
                case 1: fields[name] = .int(Int64(index))
                default: fields[name] = .string(text())
                }
            }
            let hit = Hit(rule: InjectionNormalized.info, time: Timestamp(nanoseconds: Int64(index)),
                          key: ["principal": .string(text()), "session": .string(text()), "n": .int(1)],
                          fields: fields.isEmpty && index % 2 == 0 ? nil : HitFields(fields),
                          evidence: .event(EvidenceRef(archive: "a", member: "", line: Int64(index))))
            func masked(_ name: String, _ value: HitValue) -> HitValue {
                SecretMask.credentialFields.contains(name) ? value.maskingCredential() : value.maskingSecrets()
            }
            var expected = hit
            expected.key = Dictionary(uniqueKeysWithValues: hit.key.map { ($0.key, masked($0.key, $0.value)) })
            expected.fields = hit.fields?.mapValuesWithNames(masked)
            let result = hit.maskingSecrets()
            #expect(result == expected, "\(hit)")
            if result != hit { changed += 1 }
        }
        #expect(changed > 500, "the hits hold secrets and credentials to mask")
    }
}

/// The card and IBAN checks read ASCII matches byte by byte; on any ASCII text they answer as the
/// checks by `Character` do (whitespace and controls, `\r\n`, separators doubled, lower-case
/// letters, real numbers and near misses), and text beyond ASCII takes the `Character` path.
@Suite struct SensitiveDataValidationTests {
    @Test func byteChecksAreTheCharacterChecks() {
        let pieces = ["4038 5446 6904 6182", "4038-5446-6904-6182", "4038544669046182", "GB82WEST12345698765432",
                      "gb82 west 1234 5698 7654 32", "NL91ABNA0417164300", "DE89 3704 0044 0532 0130 00", "0", "1", "9",
                      "00", " ", "-", "  ", "--", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{1C}", "\u{1F}", "A", "z", "Q",
                      "+", "é", "٣", "\u{A0}"]
        var generator = SeededGenerator(seed: 3)
        var cards = 0, ibans = 0, checked = 0
        for _ in 0..<20_000 {
            let text = (0..<Int.random(in: 1...5, using: &generator)).map { _ in pieces.randomElement(using: &generator)! }.joined()
            let card = SensitiveData.isCardNumber(text)
            #expect(card == SensitiveData.isCardNumberByCharacters(text), "\(text.debugDescription)")
            let iban = SensitiveData.isIBAN(text)
            #expect(iban == SensitiveData.isIBANByCharacters(text), "\(text.debugDescription)")
            if card { cards += 1 }
            if iban { ibans += 1 }
            checked += 1
        }
        #expect(cards > 100)
        #expect(ibans > 100)
    }
}

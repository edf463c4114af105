import Crypto
import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// What the three export writers share: the masking of log text, JSON values with sorted keys,
/// deterministic ids and the time formats the targets expect.
package struct ExportContext {
    package let result: AnalysisResult
    /// The hits, secrets masked (``Hit/maskingSecrets()``), in their deterministic order.
    package let hits: [Hit]
    /// API key ids seen in the evidence (inference principals) → their masked form.
    package let apiKeys: [String: String]

    package init(result: AnalysisResult, hits: [Hit]) {
        self.result = result
        self.hits = hits.map { $0.maskingSecrets() }.sorted(by: Hit.precedes)
        var keys: [String: String] = [:]
        func add(_ value: String) {
            guard !value.isEmpty, !IPText.isAddress(value), !IPText.isNetwork(value) else { return }
            keys[value] = Self.maskedKey(value)
        }
        // The model API's principal column holds the caller's API key id (or a user name: it is
        // masked the same way, which hides nothing a responder needs from the export).
        for hit in hits where hit.kind == .inference {
            if case let .string(value)? = hit.key["principal"] { add(value) }
            if case let .string(value)? = hit.fields?["principal"] { add(value) }
        }
        for attacker in result.extraction?.attackers ?? [] {
            attacker.principals.forEach(add)
            if attacker.identityType == "principal" { add(attacker.identity) }
        }
        apiKeys = keys
    }

    /// An API key id with only its type prefix and last four characters kept (`ak_live_***…zxJF`),
    /// as every deliverable shows it (``SecretMask/maskCredential(_:)``; masking twice changes nothing).
    package static func maskedKey(_ value: String) -> String { SecretMask.maskCredential(value) }

    /// Whether `value` is an API key id of this case.
    package func isAPIKey(_ value: String) -> Bool { apiKeys[value] != nil }

    /// An identity (address, principal, key id) as exported: API key ids masked.
    package func identity(_ value: String) -> String { apiKeys[value] ?? SecretMask.mask(value) }

    /// Free log text as exported: secrets and card numbers masked, API key ids of the case masked
    /// wherever they appear.
    package func text(_ value: String) -> String {
        var text = SecretMask.mask(value)
        for (key, masked) in apiKeys where text.contains(key) {
            text = text.replacingOccurrences(of: key, with: masked)
        }
        return text
    }

    /// A hit value with its strings masked as ``text(_:)``.
    package func value(_ value: HitValue) -> ExportJSON {
        switch value {
        case .null: .null
        case let .bool(flag): .bool(flag)
        case let .int(number): .integer(number)
        case let .double(number): number.isFinite ? .number(number) : .null
        case let .string(text): .string(self.text(text))
        case let .strings(texts): .array(texts.map { .string(self.text($0)) })
        }
    }

    /// A dictionary of hit values, masked.
    package func values(_ dictionary: [String: HitValue]) -> ExportJSON {
        .object(dictionary.mapValues(value))
    }

    /// An evidence citation as the reports write it: `archive › member, line N`.
    package static func citation(_ ref: EvidenceRef) -> String {
        var text = ref.archive
        if !ref.member.isEmpty { text += " › " + ref.member }
        return text + ", line " + String(ref.line)
    }

    /// An evidence reference as a JSON object (`archive`, `member`, `line`, and `time` when known).
    package func evidence(_ ref: EvidenceRef) -> ExportJSON {
        .object([
            "archive": .string(text(ref.archive)), "member": .string(text(ref.member)), "line": .integer(ref.line),
            "citation": .string(text(Self.citation(ref))),
        ].merging(ref.time.map { ["time": .string($0.rfc3339)] } ?? [:]) { first, _ in first })
    }

    /// The last evidence time of the case (the data's end), for objects no single event dates.
    package var dataEnd: Timestamp {
        result.provenance.dataEnd ?? result.caseInfo.generatedAt
    }
}

/// The JSON values the exports build: ``FindingsJSON`` (object keys written sorted, so equal
/// values are equal bytes), with the builders below.
package typealias ExportJSON = FindingsJSON

extension FindingsJSON {
    /// An object from pairs, leaving out the nil values (an absent optional field is not written).
    package static func fields(_ pairs: KeyValuePairs<String, ExportJSON?>) -> ExportJSON {
        var object: [String: ExportJSON] = [:]
        for (key, value) in pairs { if let value { object[key] = value } }
        return .object(object)
    }

    package static func text(_ value: String?) -> ExportJSON? { value.map { .string($0) } }

    package static func strings(_ values: [String]) -> ExportJSON { .array(values.map { .string($0) }) }

    /// The value's members (empty when it is not an object).
    package var members: [String: ExportJSON] {
        if case let .object(members) = self { return members }
        return [:]
    }

    /// One line of JSON: compact, keys sorted, slashes as they are, and every invisible or
    /// bidirectional scalar written as `\uXXXX` (as `findings.json`), so the file is inert when
    /// printed to a terminal.
    package func line() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return FindingsWriter.escapeInvisible(String(decoding: try encoder.encode(self), as: UTF8.self))
    }

    /// The value pretty-printed (two-space indentation as `findings.json`), keys sorted, with a
    /// final line break, invisible scalars escaped.
    package func document() throws -> String {
        let encoder = JSONEncoder.findings
        return FindingsWriter.escapeInvisible(String(decoding: try encoder.encode(self), as: UTF8.self)) + "\n"
    }
}

/// Name-based (version 5, SHA-1) UUIDs of RFC 9562: the same name in the same namespace always
/// gives the same id, so exported objects keep their ids from one run to the next.
package enum NameBasedUUID {
    /// The namespace of Fathom's own export ids.
    package static let fathom = "0c6b1d4e-3f3a-5c55-9a43-6f1a7e4d2b10"
    /// The namespace STIX 2.1 (§2.9) fixes for the deterministic ids of cyber-observable objects.
    package static let stixObservables = "00abedb4-aa42-466c-9c01-fed23315a9b7"

    /// The version 5 UUID of `name` in `namespace` (a UUID in its text form), lower case.
    package static func v5(_ name: String, namespace: String = fathom) -> String {
        var bytes = hexBytes(namespace)
        bytes.append(contentsOf: Array(name.utf8))
        var digest = Array(Insecure.SHA1.hash(data: bytes).prefix(16))
        digest[6] = (digest[6] & 0x0F) | 0x50
        digest[8] = (digest[8] & 0x3F) | 0x80
        let hex = digest.map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
        let characters = Array(hex)
        return [0..<8, 8..<12, 12..<16, 16..<20, 20..<32].map { String(characters[$0]) }.joined(separator: "-")
    }

    private static func hexBytes(_ uuid: String) -> [UInt8] {
        let digits = Array(uuid.utf8.filter { $0 != 0x2D })
        var bytes: [UInt8] = []
        var index = 0
        while index + 1 < digits.count {
            bytes.append(nibble(digits[index]) << 4 | nibble(digits[index + 1]))
            index += 2
        }
        return bytes
    }

    private static func nibble(_ digit: UInt8) -> UInt8 {
        switch digit {
        case 0x30...0x39: digit - 0x30
        case 0x61...0x66: digit - 0x61 + 10
        case 0x41...0x46: digit - 0x41 + 10
        default: 0
        }
    }
}

/// The time formats the export targets want, from a ``Timestamp``.
package enum ExportTime {
    /// Milliseconds since the epoch (OCSF `timestamp_t`), rounded down.
    package static func milliseconds(_ time: Timestamp) -> Int64 {
        let (quotient, remainder) = time.nanoseconds.quotientAndRemainder(dividingBy: 1_000_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// Microseconds since the epoch (Timesketch `timestamp`), rounded down.
    package static func microseconds(_ time: Timestamp) -> Int64 {
        let (quotient, remainder) = time.nanoseconds.quotientAndRemainder(dividingBy: 1_000)
        return remainder < 0 ? quotient - 1 : quotient
    }

    /// RFC 3339 UTC with exactly `digits` fractional digits (rounded down) and the zone as `Z`
    /// (`zone` replaces it, e.g. `+00:00`): STIX wants milliseconds, Timesketch microseconds.
    package static func rfc3339(_ time: Timestamp, digits: Int, zone: String = "Z") -> String {
        let unit = Int64(pow(10, Double(9 - digits)))
        let (quotient, remainder) = time.nanoseconds.quotientAndRemainder(dividingBy: unit)
        let text = Timestamp(nanoseconds: (remainder < 0 ? quotient - 1 : quotient) * unit).rfc3339
        guard text.hasSuffix("Z") else { return text }
        var body = String(text.dropLast())
        var fraction = ""
        if let dot = body.firstIndex(of: ".") {
            fraction = String(body[body.index(after: dot)...])
            body = String(body[..<dot])
        }
        fraction = String((fraction + String(repeating: "0", count: digits)).prefix(digits))
        return body + (digits > 0 ? "." + fraction : "") + zone
    }
}

/// Addresses and networks in text form, to tell them from principals.
package enum IPText {
    /// An IPv4 or IPv6 address (no prefix length).
    package static func isAddress(_ text: String) -> Bool { isIPv4(text) || isIPv6(text) }

    /// An address with a prefix length (`77.204.189.0/24`, `2001:db8::/32`).
    package static func isNetwork(_ text: String) -> Bool {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let length = Int(parts[1]) else { return false }
        if isIPv4(String(parts[0])) { return (0...32).contains(length) }
        if isIPv6(String(parts[0])) { return (0...128).contains(length) }
        return false
    }

    package static func isIPv4(_ text: String) -> Bool {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in
            !part.isEmpty && part.count <= 3 && part.allSatisfy(\.isASCIIDigit) && (Int(part) ?? 256) <= 255
        }
    }

    package static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":"), text.count <= 45 else { return false }
        var rest = Substring(text)
        // An embedded IPv4 tail (`::ffff:192.0.2.1`).
        if let lastColon = text.lastIndex(of: ":"), text[text.index(after: lastColon)...].contains(".") {
            guard isIPv4(String(text[text.index(after: lastColon)...])) else { return false }
            rest = text[...lastColon] + "0"
        }
        let halves = rest.components(separatedBy: "::")
        guard halves.count <= 2 else { return false }
        var groups = 0
        for half in halves where !half.isEmpty {
            for group in half.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), group.allSatisfy(\.isHexDigit) else { return false }
                groups += 1
            }
        }
        return halves.count == 2 ? groups < 8 : groups == 8
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `findings.json`: the hits and the analysis for machines — rule ids, ATLAS ids and evidence
/// references — pretty-printed with sorted keys, so it is byte-identical for the same inputs.
///
/// Layout: `{"schemaVersion", "case", "generatedAt", "toolVersion", "rulesetHash", "inputsHash",
/// "rules": [RuleSummary], "incidents": [Incident], "analysis": AnalysisResult, "hits": <findings
/// JSON as stored, or null>}`. Bidirectional and invisible characters inside strings are written as
/// `\uXXXX` escapes so the file is inert when printed to a terminal.
package struct FindingsWriter {
    package let context: ReportContext
    package init(_ context: ReportContext) { self.context = context }

    package struct Document: Encodable {
        package var schemaVersion = 1
        package var caseID: String
        package var generatedAt: String
        package var toolVersion: String
        package var rulesetHash: String
        package var inputsHash: String
        package var rules: [RuleSummary]
        package var incidents: [Incident]
        package var analysis: AnalysisResult
        package var hits: Hits?
        package var hitsNote: String?

        package enum CodingKeys: String, CodingKey {
            case schemaVersion, caseID = "case", generatedAt, toolVersion, rulesetHash, inputsHash, rules, incidents, analysis, hits, hitsNote
        }

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(schemaVersion, forKey: .schemaVersion)
            try container.encode(caseID, forKey: .caseID)
            try container.encode(generatedAt, forKey: .generatedAt)
            try container.encode(toolVersion, forKey: .toolVersion)
            try container.encode(rulesetHash, forKey: .rulesetHash)
            try container.encode(inputsHash, forKey: .inputsHash)
            try container.encode(rules, forKey: .rules)
            try container.encode(incidents, forKey: .incidents)
            try container.encode(analysis, forKey: .analysis)
            if let hits { try container.encode(hits, forKey: .hits) } else { try container.encodeNil(forKey: .hits) }
            try container.encodeIfPresent(hitsNote, forKey: .hitsNote)
        }
    }

    /// The hits as read back from a stored findings file, or as this run found them (encoded
    /// straight into the document: the same bytes, without a decode and re-encode of megabytes).
    package enum Hits: Encodable {
        case stored(FindingsJSON)
        case found([Hit])

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .stored(value): try container.encode(value)
            case let .found(hits): try container.encode(hits)
            }
        }
    }

    package func render(hits: Data?, found: [Hit]? = nil) -> String {
        guard let found else { return String(decoding: render(hits: hits), as: UTF8.self) }
        var output: [UInt8] = []
        do {
            try stream(found: HitList(found), to: { output.append(contentsOf: $0) }, hitsPieces: { _ in })
        } catch {
            return Self.failed
        }
        return String(decoding: output, as: UTF8.self)
    }

    package static let failed = "{\n  \"error\" : \"the analysis could not be encoded\"\n}\n"

    /// The document with this run's hits, handed to `write` piece by piece: the analysis part is
    /// encoded with an empty hit list, and the hits are encoded one at a time into its place (the
    /// same bytes as one encoding of the whole document, without holding it). `hitsPieces` gets
    /// each piece of the hits' own encoding (``HitsJSON/encode(_:depth:)`` at depth 1) as it is made.
    package func stream(found hits: HitList, to write: ([UInt8]) throws -> Void,
                        hitsPieces: (Data) throws -> Void) throws {
        let data = try JSONEncoder.findings.encode(document(hits: .found([]), note: nil))
        let placeholder = Data("\n  \"hits\" : [\n\n  ]".utf8)
        guard let range = data.firstRange(of: placeholder) else {
            throw EncodingError.invalidValue(hits, .init(codingPath: [], debugDescription: "no place for the hits"))
        }
        var escaped: [UInt8] = []
        func emit(_ piece: Data) throws {
            escaped.removeAll(keepingCapacity: true)
            JSONText.appendEscapingInvisible(piece, to: &escaped, where: Self.isInvisible)
            try write(escaped)
        }
        try emit(data[..<range.lowerBound])
        try emit(Data("\n  \"hits\" : ".utf8))
        try HitsJSON.encodeSideBySide(hits, depth: 1, transform: { $0.maskingSecrets() }) { piece in
            try hitsPieces(piece)
            try emit(piece)
        }
        try emit(data[range.upperBound...] + Data("\n".utf8))
    }

    /// The document with stored hits (nil: none), as bytes.
    private func render(hits: Data?) -> [UInt8] {
        var parsed: Hits?
        var note: String?
        if let hits {
            do {
                parsed = .stored(try JSONDecoder().decode(FindingsJSON.self, from: hits))
            } catch {
                note = "The stored findings could not be parsed as JSON and are left out."
            }
        }
        guard let data = try? JSONEncoder.findings.encode(document(hits: parsed, note: note)) else { return Array(Self.failed.utf8) }
        var output: [UInt8] = []
        JSONText.appendEscapingInvisible(data, to: &output, where: Self.isInvisible)
        output.append(0x0A)
        return output
    }

    private func document(hits: Hits?, note: String?) -> Document {
        let result = context.result
        return Document(caseID: result.caseInfo.id, generatedAt: context.generatedTime?.rfc3339 ?? result.caseInfo.generatedAt.rfc3339,
                        toolVersion: result.provenance.toolVersion, rulesetHash: result.provenance.rulesetHash,
                        inputsHash: result.provenance.inputsHash, rules: result.rules, incidents: result.incidents,
                        analysis: result, hits: hits, hitsNote: note)
    }

    package static func isInvisible(_ scalar: Unicode.Scalar) -> Bool { JSONText.isInvisible(scalar) }

    /// Writes every invisible or bidi scalar (which can only occur inside JSON strings) as `\uXXXX`.
    package static func escapeInvisible(_ json: String) -> String {
        JSONText.escapeInvisible(json, where: isInvisible)
    }
}

/// Any JSON value, kept as read (a stored `findings.json`) or built (the exports, as
/// ``ExportJSON``), re-encoded with sorted keys.
package indirect enum FindingsJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([FindingsJSON])
    case object([String: FindingsJSON])

    package init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([FindingsJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: FindingsJSON].self))
        }
    }

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case let .bool(value): try container.encode(value)
        case let .integer(value): try container.encode(value)
        case let .number(value): try container.encode(value)
        case let .string(value): try container.encode(value)
        case let .array(value): try container.encode(value)
        case let .object(value): try container.encode(value)
        }
    }
}

extension JSONEncoder {
    /// Pretty-printed, sorted keys, slashes as they are: the encoding of findings.json.
    package static var findings: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }
}

import Foundation

/// `findings.json`: the hits and the analysis for machines — rule ids, ATLAS ids and evidence
/// references — pretty-printed with sorted keys, so it is byte-identical for the same inputs.
///
/// Layout: `{"schemaVersion", "case", "generatedAt", "toolVersion", "rulesetHash", "inputsHash",
/// "rules": [RuleSummary], "incidents": [Incident], "analysis": AnalysisResult, "hits": <findings
/// JSON as stored, or null>}`. Bidirectional and invisible characters inside strings are written as
/// `\uXXXX` escapes so the file is inert when printed to a terminal.
struct FindingsWriter {
    let context: ReportContext
    init(_ context: ReportContext) { self.context = context }

    struct Document: Encodable {
        var schemaVersion = 1
        var caseID: String
        var generatedAt: String
        var toolVersion: String
        var rulesetHash: String
        var inputsHash: String
        var rules: [RuleSummary]
        var incidents: [Incident]
        var analysis: AnalysisResult
        var hits: Hits?
        var hitsNote: String?

        enum CodingKeys: String, CodingKey {
            case schemaVersion, caseID = "case", generatedAt, toolVersion, rulesetHash, inputsHash, rules, incidents, analysis, hits, hitsNote
        }

        func encode(to encoder: any Encoder) throws {
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
    enum Hits: Encodable {
        case stored(FindingsJSON)
        case found([Hit])

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case let .stored(value): try container.encode(value)
            case let .found(hits): try container.encode(hits)
            }
        }
    }

    func render(hits: Data?, found: [Hit]? = nil) -> String {
        if let found {
            guard let encoded = try? HitsJSON.encode(found, depth: 1) else {
                return "{\n  \"error\" : \"the analysis could not be encoded\"\n}\n"
            }
            return render(encodedHits: encoded)
        }
        return render(hits: hits, encodedHits: nil)
    }

    /// The document with this run's hits already encoded by ``HitsJSON/encode(_:depth:)`` at depth 1.
    func render(encodedHits: Data) -> String {
        render(hits: nil, encodedHits: encodedHits)
    }

    private func render(hits: Data?, encodedHits: Data?) -> String {
        let result = context.result
        var parsed: Hits? = encodedHits.map { _ in .found([]) }
        var note: String?
        if parsed == nil, let hits {
            do {
                parsed = .stored(try JSONDecoder().decode(FindingsJSON.self, from: hits))
            } catch {
                note = "The stored findings could not be parsed as JSON and are left out."
            }
        }
        let document = Document(caseID: result.caseInfo.id, generatedAt: context.generatedTime?.rfc3339 ?? result.caseInfo.generatedAt,
                                toolVersion: result.provenance.toolVersion, rulesetHash: result.provenance.rulesetHash,
                                inputsHash: result.provenance.inputsHash, rules: result.rules, incidents: result.incidents,
                                analysis: result, hits: parsed, hitsNote: note)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        var data: Data
        do {
            if let encodedHits {
                // The document with an empty list, then the encoded hits written into its place.
                data = try encoder.encode(document)
                let placeholder = Data("\n  \"hits\" : [\n\n  ]".utf8)
                guard let range = data.firstRange(of: placeholder) else {
                    return "{\n  \"error\" : \"the analysis could not be encoded\"\n}\n"
                }
                data.replaceSubrange(range, with: Data("\n  \"hits\" : ".utf8) + encodedHits)
            } else {
                data = try encoder.encode(document)
            }
        } catch {
            return "{\n  \"error\" : \"the analysis could not be encoded\"\n}\n"
        }
        return Self.escapeInvisible(String(decoding: data, as: UTF8.self)) + "\n"
    }

    /// Writes every invisible or bidi scalar (which can only occur inside JSON strings) as `\uXXXX`.
    static func escapeInvisible(_ json: String) -> String {
        JSONText.escapeInvisible(json) { $0.value >= 0x7F && MarkdownText.isUnsafe($0) }
    }
}

/// Any JSON value, kept as read so it can be re-encoded with sorted keys.
indirect enum FindingsJSON: Codable, Sendable, Equatable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([FindingsJSON])
    case object([String: FindingsJSON])

    init(from decoder: any Decoder) throws {
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

    func encode(to encoder: any Encoder) throws {
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

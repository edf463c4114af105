import FathomStore
import FathomSupport

/// A JSON value with a deterministic rendering: object keys sorted by their UTF-8 bytes, two-space
/// indentation, integers as integers and doubles in Swift's shortest round-trip spelling.
///
/// Used for `expected.json`, SBOMs and other small documents whose bytes must not depend on
/// dictionary order or on Foundation's formatter.
public indirect enum JSONTree: Sendable, Equatable {
    case null
    case bool(Bool)
    case int(Int)
    case double(Double)
    case string(String)
    case array([JSONTree])
    case object([String: JSONTree])

    /// Pretty-printed text ending with a newline.
    public func prettyPrinted() -> String {
        var writer = ByteWriter()
        render(into: &writer, indent: 0, isPretty: true)
        writer.append("\n")
        return writer.string
    }

    /// Compact one-line text (no spaces), keys still sorted.
    public func compact() -> String {
        var writer = ByteWriter()
        render(into: &writer, indent: 0, isPretty: false)
        return writer.string
    }

    package func render(into writer: inout ByteWriter, indent: Int, isPretty: Bool) {
        switch self {
        case .null: writer.append("null")
        case .bool(let value): writer.append(value ? "true" : "false")
        case .int(let value): writer.append(int: value)
        case .double(let value):
            if value.isFinite {
                if value == value.rounded(), abs(value) < 1e15 {
                    writer.append(int: Int(value))
                    writer.append(".0")
                } else {
                    writer.append("\(value)")
                }
            } else {
                writer.append("null")
            }
        case .string(let value): writer.appendJSONString(value)
        case .array(let items):
            if items.isEmpty { writer.append("[]"); return }
            writer.append("[")
            for (index, item) in items.enumerated() {
                if index > 0 { writer.append(",") }
                if isPretty { newline(&writer, indent + 1) }
                item.render(into: &writer, indent: indent + 1, isPretty: isPretty)
            }
            if isPretty { newline(&writer, indent) }
            writer.append("]")
        case .object(let members):
            if members.isEmpty { writer.append("{}"); return }
            writer.append("{")
            let keys = members.keys.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
            for (index, key) in keys.enumerated() {
                if index > 0 { writer.append(",") }
                if isPretty { newline(&writer, indent + 1) }
                writer.appendJSONString(key)
                writer.append(isPretty ? ": " : ":")
                members[key, default: .null].render(into: &writer, indent: indent + 1, isPretty: isPretty)
            }
            if isPretty { newline(&writer, indent) }
            writer.append("}")
        }
    }

    private func newline(_ writer: inout ByteWriter, _ indent: Int) {
        writer.append("\n")
        for _ in 0..<indent { writer.append("  ") }
    }
}

extension JSONTree: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, ExpressibleByFloatLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    public init(floatLiteral value: Double) { self = .double(value) }
    public init(arrayLiteral elements: JSONTree...) { self = .array(elements) }
    public init(dictionaryLiteral elements: (String, JSONTree)...) {
        var members: [String: JSONTree] = [:]
        for (key, value) in elements { members[key] = value }
        self = .object(members)
    }
    public init(nilLiteral: ()) { self = .null }
}

extension JSONTree {
    /// A string, or null when nil.
    package static func optional(_ value: String?) -> JSONTree { value.map { .string($0) } ?? .null }
    /// A time in expected.json's canonical RFC 3339 spelling.
    package static func time(_ value: Int64) -> JSONTree { .string(ScenarioTime.canonical(value)) }
    package static func optionalTime(_ value: Int64?) -> JSONTree { value.map { .time($0) } ?? .null }
}

import Foundation
import Yams
import FathomStore
import FathomSupport
import FathomCatalog

/// A source profile: how a site-specific export maps onto the canonical columns, written as a
/// small YAML file and passed with `--profile FILE`.
///
/// ```yaml
/// name: acme-gateway
/// kind: inference            # optional: skips sniffing the kind
/// format: json               # optional: json | csv | tsv, or any name from `fathom formats`
/// fields:                    # canonical column: source field (dot path into nested objects)
///   time: ts
///   src_ip: [client.addr, x_forwarded_for]   # candidates, first present wins
///   principal: auth.key_id
///   input: body              # hashed into input_hash
/// ```
///
/// A mapping given here comes before the built-in names, so a profile can extend or override any
/// built-in mapping without code.
public struct Profile: Sendable, Equatable {
    public var name: String
    public var kind: SourceKind?
    public var format: String?
    /// Canonical column → candidate source paths, in priority order.
    public var fields: [String: [String]]

    public init(name: String, kind: SourceKind? = nil, format: String? = nil, fields: [String: [String]] = [:]) {
        self.name = name
        self.kind = kind
        self.format = format
        self.fields = fields
    }

    /// Reads a profile from YAML text. `origin` names the file in errors.
    public init(yaml: String, origin: String) throws(IngestError) {
        let node: Node?
        do { node = try Yams.compose(yaml: yaml) } catch {
            throw .profile(path: origin, detail: "not valid YAML: \(error)")
        }
        guard let mapping = node?.mapping else {
            throw .profile(path: origin, detail: "expected a mapping at the top level")
        }
        var name = (origin as NSString).lastPathComponent
        var kind: SourceKind?
        var format: String?
        var fields: [String: [String]] = [:]
        for (keyNode, value) in mapping {
            guard let key = keyNode.string else { continue }
            switch key {
            case "name":
                name = value.string ?? name
            case "kind":
                guard let text = value.string, let parsed = SourceKind(rawValue: text) else {
                    throw .profile(path: origin, detail: "line \(value.mark?.line ?? 0): kind must be one of "
                        + SourceKind.allCases.map(\.rawValue).joined(separator: ", "))
                }
                kind = parsed
            case "format":
                format = value.string
            case "fields":
                guard let fieldMapping = value.mapping else {
                    throw .profile(path: origin, detail: "line \(value.mark?.line ?? 0): fields must be a mapping")
                }
                for (columnNode, sourceNode) in fieldMapping {
                    guard let column = columnNode.string else { continue }
                    guard CanonicalFields.isKnown(column) else {
                        throw .profile(path: origin, detail: "line \(columnNode.mark?.line ?? 0): unknown canonical column '\(column)'; known: "
                            + CanonicalFields.allNames.joined(separator: ", "))
                    }
                    if let single = sourceNode.string {
                        fields[column] = [single]
                    } else if let list = sourceNode.sequence {
                        fields[column] = list.compactMap(\.string)
                    } else {
                        throw .profile(path: origin, detail: "line \(sourceNode.mark?.line ?? 0): '\(column)' must name a field or a list of fields")
                    }
                }
            default:
                throw .profile(path: origin, detail: "line \(keyNode.mark?.line ?? 0): unknown key '\(key)' (expected name, kind, format, fields)")
            }
        }
        self.init(name: name, kind: kind, format: format, fields: fields)
    }

    /// Reads a profile file.
    public static func load(path: String) throws(IngestError) -> Profile {
        let text: String
        do { text = try String(contentsOfFile: path, encoding: .utf8) } catch {
            throw .profile(path: path, detail: "cannot be read: \(error.localizedDescription)")
        }
        return try Profile(yaml: text, origin: path)
    }
}

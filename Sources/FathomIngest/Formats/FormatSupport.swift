import FathomStore
import FathomSupport
import FathomCatalog

extension FieldRole {
    /// How a value destined for `column` is written: addresses lose their port, operations also
    /// fill `action`, numbers are parsed, `input_hash` is hashed.
    package static func forColumn(_ column: CanonicalColumn) -> FieldRole {
        switch (column.name, column.type) {
        case ("src_ip", _): return .address
        case ("prompt", _): return .prompt
        case ("response", _): return .response
        case ("operation", _): return .operation
        case (_, .int64): return .int
        case (_, .float64): return .double
        case (_, .hash128): return .hash
        default: return .string
        }
    }
}

/// Dotted source paths, split once per input.
package enum JSONPaths {
    /// `["a.b", "c"]` → `[["a", "b"], ["c"]]`.
    package static func split(_ paths: [String]) -> [[String]] {
        paths.map { $0.split(separator: ".").map(String.init) }
    }

    /// The first value at one of `paths` that is neither null nor an empty string.
    package static func first(_ paths: [[String]], in root: JSONValue) -> JSONValue? {
        for path in paths {
            guard let value = root.value(atPath: path), !value.isNull else { continue }
            if value.kind == .string, value.rawStringContent?.isEmpty ?? true { continue }
            return value
        }
        return nil
    }
}

/// A profile's field mappings applied on top of a built-in JSON format.
///
/// Built once per input from the profile: for every kind, the canonical columns the profile maps
/// and their source paths. Applied by ``RowWriter/begin(_:time:overrides:)`` (as
/// ``RowOverrides/json(_:root:)``); because the row writer keeps the first value set to a column,
/// the profile's values win over the decoder's own.
package struct JSONProfileOverrides {
    private struct Binding {
        var column: Int
        var paths: [[String]]
        var role: FieldRole
    }

    /// Bindings per kind code.
    private var bindings: [[Binding]] = Array(repeating: [], count: 8)
    private var timePaths: [[String]] = []
    package let isEmpty: Bool

    package init(profile: Profile?) {
        guard let profile, !profile.fields.isEmpty else {
            isEmpty = true
            return
        }
        isEmpty = false
        timePaths = JSONPaths.split(profile.fields["time"] ?? [])
        for kind in SourceKind.allCases {
            let schema = kind.schema
            var list: [Binding] = []
            for column in schema.columns where !["time", "member", "line"].contains(column.name) {
                let source = column.name == "input_hash" ? "input" : column.name
                guard let paths = profile.fields[source], let index = schema.index(of: column.name) else { continue }
                list.append(Binding(column: index, paths: JSONPaths.split(paths), role: .forColumn(column)))
            }
            bindings[Int(kind.code)] = list
        }
    }

    /// The record's time from the profile's `time` paths, when the profile maps one.
    package func time(in root: JSONValue) -> Int64? {
        guard !timePaths.isEmpty, let value = JSONPaths.first(timePaths, in: root) else { return nil }
        return JSONFields.time(of: value)
    }

    /// The record's time: from the profile's `time` paths when mapped and present, else from the
    /// first of the format's own `builtIn` paths that is present.
    package func recordTime(in root: JSONValue, builtIn: [[String]]) -> Int64? {
        if let time = time(in: root) { return time }
        guard let value = JSONPaths.first(builtIn, in: root) else { return nil }
        return JSONFields.time(of: value)
    }

    /// Writes the profile-mapped columns of the row being built (of kind `kind`).
    func apply(_ root: JSONValue, kind: SourceKind, into rows: RowWriter) {
        guard !isEmpty else { return }
        if let time = time(in: root) { rows.setTime(time) }
        for binding in bindings[Int(kind.code)] {
            guard let value = JSONPaths.first(binding.paths, in: root) else { continue }
            JSONFields.write(value, role: binding.role, column: binding.column, kind: kind, into: rows)
        }
    }
}

/// The documented names of a text format's positional fields, for profiles.
///
/// A profile maps a canonical column to a field by its name (`principal: access_point_arn`) or by
/// its 1-based position (`field_28`), so fields added by a later era of the format can be mapped
/// without code.
package struct PositionalFields {
    package let names: [String]

    /// The 0-based index of the field called `name`.
    package func index(of name: String) -> Int? {
        if let index = names.firstIndex(of: name) { return index }
        if name.hasPrefix("field_"), let number = Int(name.dropFirst(6)), number >= 1 { return number - 1 }
        return nil
    }

    /// The profile's mappings onto these fields for `kind`: column index, candidate field indices
    /// (first non-empty wins) and role. Throws when the profile names a field the format does not
    /// have.
    package func overrides(profile: Profile?, kind: SourceKind, format: String,
                   input: String) throws(IngestError) -> [TextOverride] {
        guard let profile else { return [] }
        let schema = kind.schema
        var result: [TextOverride] = []
        for (source, candidates) in profile.fields.sorted(by: { $0.key < $1.key }) {
            let columnName = source == "input" ? "input_hash" : source
            guard let column = schema.index(of: columnName) else { continue }
            var fields: [Int] = []
            for candidate in candidates {
                guard let index = index(of: candidate) else {
                    throw .profile(path: profile.name, detail: "\(format) has no field named '\(candidate)' (for '\(source)' "
                        + "in '\(input)'); known: " + names.joined(separator: ", ") + ", or field_N")
                }
                fields.append(index)
            }
            result.append(TextOverride(column: column, fields: fields, role: FieldRole.forColumn(schema.columns[column])))
        }
        return result
    }
}

/// A profile mapping onto a text format's positional fields.
package struct TextOverride {
    package var column: Int
    package var fields: [Int]
    package var role: FieldRole

    /// Applies `overrides` to the row being built from the split `fields` of one record.
    static func apply(_ overrides: [TextOverride], fields: [ByteView], kind: SourceKind, into rows: RowWriter) {
        for override in overrides {
            for index in override.fields where index < fields.count && !TextFields.isEmpty(fields[index]) {
                if override.column == 0 {
                    if let time = TimeParser.parse(fields[index]) { rows.setTime(time) }
                } else {
                    TextFields.write(fields[index], role: override.role, column: override.column, kind: kind, into: rows)
                }
                break
            }
        }
    }
}

/// Writes text fields (from space-separated or delimited logs) into canonical columns.
package enum TextFields {
    /// Whether a text log field is empty: absent, `-` or empty.
    @inline(__always)
    package static func isEmpty(_ field: ByteView) -> Bool {
        field.isEmpty || (field.count == 1 && field[0] == UInt8(ascii: "-"))
    }

    /// `value` as an integer when it is integral and in range.
    package static func integral(_ value: Double?) -> Int64? {
        guard let value, value.rounded(.towardZero) == value,
              value >= -9_223_372_036_854_775_808.0, value < 9_223_372_036_854_775_808.0 else { return nil }
        return Int64(value)
    }

    /// Writes `field` into `column` as `role` says; `-` and empty fields stay null.
    package static func write(_ field: ByteView, role: FieldRole, column: Int, kind: SourceKind, into rows: RowWriter) {
        guard !isEmpty(field) else { return }
        switch role {
        case .int:
            if let number = TextCodecs.parseInt64(field) ?? integral(TextCodecs.parseDouble(field)) {
                rows.setInt64(number, at: column)
            }
        case .double:
            if let number = TextCodecs.parseDouble(field) { rows.setDouble(number, at: column) }
        case .hash:
            rows.setHash(of: field, at: column)
        case .address:
            rows.setString(TextCodecs.address(ofEndpoint: field), at: column)
        case .operation:
            rows.setString(field, at: column)
            if let action = kind.schema.index(of: "action") {
                rows.setString(CanonicalFields.storageAction(forOperation: field.string), at: action)
            }
        case .string, .prompt, .response:
            rows.setString(field, at: column)
        }
    }
}

/// Small helpers shared by the format sniffers.
package enum SniffSupport {
    /// Whether at least half (and at least one) of `sample`'s non-empty records satisfy `test`.
    package static func majority(of sample: SniffSample, _ test: (ByteView) -> Bool) -> Bool {
        var total = 0
        var hits = 0
        sample.forEachRecord { record in
            guard !TextCodecs.trimmed(record).isEmpty else { return }
            total += 1
            if test(record) { hits += 1 }
        }
        return hits > 0 && hits * 2 >= total
    }

    /// Whether at least half (and at least one) of the sampled JSON objects satisfy `test`
    /// (records that are not JSON objects count against).
    package static func majorityOfObjects(_ sample: SniffSample, _ test: (JSONValue) -> Bool) -> Bool {
        let parser = JSONParser()
        var total = 0
        var hits = 0
        sample.forEachRecord { record in
            guard !TextCodecs.trimmed(record).isEmpty else { return }
            total += 1
            if let document = try? parser.parse(record), document.root.kind == .object, test(document.root) {
                hits += 1
            }
        }
        return hits > 0 && hits * 2 >= total
    }
}

extension JSONValue {
    /// Whether this object has a member `key` that is not null.
    package func has(_ key: String) -> Bool {
        guard let value = self[key] else { return false }
        return !value.isNull
    }

    /// Whether this is a string equal to `text` (after unescaping).
    package func isString(_ text: String) -> Bool {
        withDecodedString { $0.equals(text) } ?? false
    }
}

/// Remembers the `action` of the operations seen in one input, so the hot path maps an operation
/// to read/write/delete/list/other without allocating a string per record.
package final class OperationActions {
    private var known: [(operation: [UInt8], action: String)] = []
    private static let limit = 256

    /// The action of `operation` (see ``CanonicalFields/storageAction(forOperation:)``).
    package func action(for operation: ByteView) -> String {
        for entry in known where entry.operation.withByteView({ $0 == operation }) {
            return entry.action
        }
        let action = CanonicalFields.storageAction(forOperation: operation.string)
        if known.count < Self.limit { known.append((operation.array, action)) }
        return action
    }

    /// The `operation` and `action` columns of the kind written last, looked up once rather than
    /// by name for every record.
    private var columns: (kind: SourceKind, operation: Int?, action: Int?)?

    /// Writes `operation` and its action into the row being built.
    package func write(_ operation: ByteView, kind: SourceKind, into rows: RowWriter) {
        if columns?.kind != kind {
            let schema = kind.schema
            columns = (kind, schema.index(of: "operation"), schema.index(of: "action"))
        }
        guard let columns, let column = columns.operation else { return }
        rows.setString(operation, at: column)
        if let actionColumn = columns.action {
            rows.setString(action(for: operation), at: actionColumn)
        }
    }
}

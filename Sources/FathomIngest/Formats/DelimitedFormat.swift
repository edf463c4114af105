import FathomStore
import FathomSupport
import FathomCatalog

/// CSV and TSV with a header line, fields mapped by profile or by the common names of
/// ``CanonicalFields``.
///
/// Specification: RFC 4180 (comma-separated values; quoted fields with doubled quotes); TSV as
/// the same with a tab delimiter.
public enum DelimitedFormat {
    public static let descriptor = FormatDescriptor(
        name: "csv",
        summary: "CSV or TSV with a header line; fields mapped by profile or by common names.",
        kinds: SourceKind.allCases,
        fieldMap: [("*", "header names, as for json")],
        sniff: { sample in header(of: sample) == nil ? 0 : 5 },
        make: { context throws(IngestError) in try DelimitedDecoder(context: context) }
    )

    /// The delimiter and header names of a sample, when it looks like a delimited file with a header.
    package static func header(of sample: SniffSample) -> (delimiter: UInt8, names: [String], raw: [UInt8])? {
        guard sample.framing == .lines, let first = sample.records.first, first.first != UInt8(ascii: "{"),
              first.first != UInt8(ascii: "[") else { return nil }
        for delimiter in [UInt8(ascii: "\t"), UInt8(ascii: ",")] where first.contains(delimiter) {
            var names: [String] = []
            var valid = true
            first.withByteView { view in
                do {
                    names = try DelimitedSplitter(delimiter: delimiter).fields(of: view).map {
                        $0.trimmingCharacters(in: .whitespaces)
                    }
                } catch { valid = false }
            }
            let identifier = names.allSatisfy { name in
                !name.isEmpty && name.count <= 64
                    && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "_.@- ".unicodeScalars.contains($0) }
            }
            if valid, names.count >= 2, identifier { return (delimiter, names, first) }
        }
        return nil
    }
}

import Foundation

/// Decoder for ``DelimitedFormat``.
package final class DelimitedDecoder: RecordDecoder {
    package let kind: SourceKind
    package let splitter: DelimitedSplitter
    package let header: [UInt8]
    package let columnCount: Int
    package let timeField: Int
    /// Field index → binding.
    package let bindings: [(field: Int, binding: FieldBinding)]
    private var values: [String?]

    package init(context: DecoderContext) throws(IngestError) {
        guard let header = DelimitedFormat.header(of: context.sample) else {
            throw .unknownFormat(input: context.inputName, detail: "no CSV/TSV header line")
        }
        let keys = Dictionary(header.names.map { ($0, JSONKind.string) }, uniquingKeysWith: { first, _ in first })
        let resolver = FieldResolver(profile: context.profile)
        var present = Set<String>()
        for (column, _) in CanonicalFields.candidates where resolver.resolve(column, in: [keys]) != nil {
            present.insert(column)
        }
        guard let kind = context.kind ?? context.profile?.kind ?? CanonicalFields.kind(forPresent: present) else {
            throw .undecidableKind(input: context.inputName,
                                   detail: "columns seen: \(header.names.joined(separator: ", ")); pass --kind or a --profile")
        }
        guard let timeName = resolver.resolve("time", in: [keys])?.first,
              let timeField = header.names.firstIndex(of: timeName) else {
            throw .undecidableKind(input: context.inputName,
                                   detail: "no time column among: \(header.names.joined(separator: ", "))")
        }
        self.kind = kind
        self.splitter = DelimitedSplitter(delimiter: header.delimiter)
        self.header = header.raw
        self.columnCount = header.names.count
        self.timeField = timeField
        let schema = kind.schema
        var bindings: [(Int, FieldBinding)] = []
        for column in schema.columns where !["time", "member", "line"].contains(column.name) {
            let source = column.name == "input_hash" ? "input" : column.name
            guard let name = resolver.resolve(source, in: [keys])?.first,
                  let field = header.names.firstIndex(of: name), let index = schema.index(of: column.name) else { continue }
            let role: FieldRole
            switch (column.name, column.type) {
            case ("src_ip", _): role = .address
            case ("operation", _): role = .operation
            case (_, .int64): role = .int
            case (_, .float64): role = .double
            case (_, .hash128): role = .hash
            default: role = .string
            }
            bindings.append((field, FieldBinding(column: index, path: [name], role: role)))
        }
        self.bindings = bindings
        self.values = Array(repeating: nil, count: header.names.count)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        if record.count == header.count, header.withByteView({ record == $0 }) {
            return  // the header line itself
        }
        let fields: [String]
        do {
            fields = try splitter.fields(of: record)
        } catch {
            throw RecordReject("CSV: \(error.reason)")
        }
        guard fields.count == columnCount else {
            throw RecordReject("CSV: expected \(columnCount) fields, found \(fields.count)")
        }
        guard let time = TimeParser.parse(fields[timeField]) else { throw RecordReject("missing or unparseable time") }
        rows.begin(kind, time: time, overrides: .none)
        for (field, binding) in bindings {
            let text = fields[field]
            guard !text.isEmpty, text != "-" else { continue }
            switch binding.role {
            case .int:
                if let number = Int64(text) ?? Double(text).flatMap({ Int64(exactly: $0.rounded()) }) {
                    rows.setInt64(number, at: binding.column)
                }
            case .double:
                if let number = Double(text) { rows.setDouble(number, at: binding.column) }
            case .hash:
                text.withByteView { rows.setHash(of: $0, at: binding.column) }
            case .address:
                text.withByteView { rows.setString(TextCodecs.address(ofEndpoint: $0), at: binding.column) }
            case .operation:
                rows.setString(text, at: binding.column)
                if let action = kind.schema.index(of: "action") {
                    rows.setString(CanonicalFields.storageAction(forOperation: text), at: action)
                }
            case .string, .prompt, .response:
                rows.setString(text, at: binding.column)
            }
        }
        rows.commit()
    }
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// CloudTrail events exported from the event history: the console's CSV download and the JSON of
/// `aws cloudtrail lookup-events` (`{"Events":[…]}`), both read by their own names.
///
/// Specification: AWS CloudTrail User Guide, "Working with CloudTrail event history" (the
/// downloadable columns: Event ID, Event time, User name, Event name, Resource type, Resource
/// name, AWS access key, Event source, AWS region, Error code, Source IP address, Read-only,
/// Request ID, and the CloudTrail event itself), and the API reference of `LookupEvents`
/// (`Event`: `EventId`, `EventName`, `EventTime`, `EventSource`, `Username`, `AccessKeyId`,
/// `ReadOnly`, `Resources`, `CloudTrailEvent` — the whole record as a JSON string).
///
/// When a row carries the whole record (`CloudTrail event` / `CloudTrailEvent`), it is read as a
/// CloudTrail record is (``CloudTrailFormat``: an audit row, and the AI/ML row a record makes).
/// A CSV row without it keeps an **audit** row from its columns (source `cloudtrail`: action =
/// Event name, service = Event source, principal = User name, source address = Source IP
/// address, target = Resource name, outcome = `failure` when Error code is set); its record is the
/// row as a JSON object of header name → value, so Sigma rules read `eventName`, `eventSource`
/// and the columns by their header names (`errorCode` is absent: the CSV has no such field).
public enum CloudTrailExportFormat {
    public static let descriptor = FormatDescriptor(
        name: "cloudtrail-export",
        summary: "CloudTrail event history exports: console CSV download and `aws cloudtrail lookup-events` JSON.",
        kinds: [.audit, .storage, .inference, .registry],
        fieldMap: [
            ("time", "eventTime of CloudTrailEvent | Event time (CSV)"), ("action", "Event name"), ("service", "Event source"),
            ("principal", "User name"), ("src_ip", "Source IP address"), ("target", "Resource name"),
            ("outcome", "Error code → failure, else success"),
            ("record", "CloudTrail event | CloudTrailEvent (the whole record), else the row as a JSON object"),
        ],
        sniff: { sample in
            if let header = DelimitedFormat.header(of: sample) {
                let names = Set(header.names.map { $0.lowercased() })
                return names.isSuperset(of: ["event name", "event time"]) ? 70 : 0
            }
            return SniffSupport.majorityOfObjects(sample) { root in
                root.has("CloudTrailEvent") && root.has("EventName")
            } ? 70 : 0
        },
        make: { context throws(IngestError) in try CloudTrailExportDecoder(context: context) }
    )
}

/// Decoder for ``CloudTrailExportFormat``.
package final class CloudTrailExportDecoder: RecordDecoder {
    private let records: CloudTrailDecoder
    private let parser = JSONParser()
    private let overrides: JSONProfileOverrides
    private let forcedKind: SourceKind?
    /// CSV: the splitter, header names and the positions of the columns read.
    private let csv: (splitter: DelimitedSplitter, header: [UInt8], names: [String], columns: [String: Int])?

    package init(context: DecoderContext) throws(IngestError) {
        records = CloudTrailDecoder(context: context)
        overrides = JSONProfileOverrides(profile: context.profile)
        forcedKind = context.kind ?? context.profile?.kind
        if let header = DelimitedFormat.header(of: context.sample) {
            var columns: [String: Int] = [:]
            for (index, name) in header.names.enumerated() { columns[name.lowercased()] = index }
            csv = (DelimitedSplitter(delimiter: header.delimiter), header.raw, header.names, columns)
        } else {
            csv = nil
        }
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        guard let csv else {
            let root = try JSONFields.object(record, parser: parser)
            guard let event = root["CloudTrailEvent"], event.kind == .string else {
                throw RecordReject("CloudTrail export: element without CloudTrailEvent")
            }
            _ = try event.withDecodedString { (text) throws(RecordReject) in try records.decode(text, into: rows) }
            return
        }
        if record.count == csv.header.count, csv.header.withByteView({ record == $0 }) { return }
        let fields: [String]
        do { fields = try csv.splitter.fields(of: record) } catch {
            throw RecordReject("CloudTrail CSV: \(error.reason)")
        }
        guard fields.count == csv.names.count else {
            throw RecordReject("CloudTrail CSV: expected \(csv.names.count) fields, found \(fields.count)")
        }
        func field(_ name: String) -> String? {
            guard let index = csv.columns[name], !fields[index].isEmpty else { return nil }
            return fields[index]
        }
        if let whole = field("cloudtrail event") {
            try whole.withByteView { (text) throws(RecordReject) in try records.decode(text, into: rows) }
            return
        }
        guard let timeText = field("event time"), let time = TimeParser.parse(timeText) else {
            throw RecordReject("CloudTrail CSV: missing or unparseable Event time")
        }
        guard forcedKind == nil || forcedKind == .audit else {
            rows.skipRecord()
            return
        }
        // The row as a JSON object: header names as keys, plus the record's own names for the
        // fields Sigma rules use, so `eventName` reads the same from either export.
        var object: [String: String] = [:]
        for (index, name) in csv.names.enumerated() where !fields[index].isEmpty { object[name] = fields[index] }
        for (column, name) in [("event name", "eventName"), ("event source", "eventSource"), ("event time", "eventTime"),
                               ("source ip address", "sourceIPAddress"), ("aws region", "awsRegion"),
                               ("error code", "errorCode"), ("event id", "eventID"), ("request id", "requestID"),
                               ("user name", "userName")] {
            if let value = field(column) { object[name] = value }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(object)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        let target = field("resource name")
        let failed = field("error code") != nil
        let written: Bool = json.withByteView { text in
            guard let parsed = try? parser.parse(text) else { return false }
            let root = parsed.root
            var row = AuditRow(source: "cloudtrail")
            row.action = root["eventName"]
            row.service = root["eventSource"]
            row.principal = root["userName"] ?? root["AWS access key"]
            row.sourceAddress = root["sourceIPAddress"]
            row.target = target
            row.outcome = failed ? "failure" : "success"
            row.write(time: time, record: text, overrides: .json(overrides, root: root), into: rows)
            return true
        }
        if !written { throw RecordReject("CloudTrail CSV: row could not be represented") }
    }
}

import FathomStore
import FathomSupport
import FathomCatalog

/// nginx and Apache access logs in the Common and Combined Log Formats, with optional trailing
/// fields (request time, upstream time, `key=value` pairs).
///
/// Specification: Apache HTTP Server, "Log Files" — sections "Common Log Format" and "Combined
/// Log Format", https://httpd.apache.org/docs/2.4/logs.html#accesslog ; nginx
/// `ngx_http_log_module`, the predefined `combined` format,
/// https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format :
///
/// ```
/// $remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"
/// 127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08"
/// ```
///
/// The request line is split into method, path and protocol; the path is percent-decoded (the
/// raw form stays in the evidence line). A trailing field written as a decimal number with a
/// point (nginx `$request_time`, seconds with millisecond resolution) or as `rt=`/`request_time=`
/// becomes `latency_ms`; `$remote_user` is the principal. These logs carry no request body, so
/// `input_hash` is null.
public enum CombinedAccessLogFormat {
    /// The documented positional fields, in order (trailing fields beyond these are `field_N`).
    package static let fields = PositionalFields(names: [
        "remote_addr", "ident", "remote_user", "time_local", "request", "status", "body_bytes_sent",
        "http_referer", "http_user_agent", "request_time", "upstream_response_time",
    ])

    public static let descriptor = FormatDescriptor(
        name: "access-log",
        summary: "nginx/Apache Common and Combined Log Format access logs, optional trailing fields.",
        kinds: [.inference],
        fieldMap: [
            ("time", "time_local"), ("src_ip", "remote_addr"), ("principal", "remote_user"),
            ("method", "request (method)"), ("path", "request (path, percent-decoded)"), ("status", "status"),
            ("bytes", "body_bytes_sent"), ("latency_ms", "request_time (seconds × 1000) | rt="),
            ("referer", "http_referer (combined)"), ("user_agent", "http_user_agent (combined)"),
            ("input_hash", "— (no request body in access logs)"),
        ],
        sniff: { sample in
            guard sample.framing == .lines else { return 0 }
            var fields: [ByteView] = []
            return SniffSupport.majority(of: sample) { record in
                guard (try? FieldSplitter.split(record, into: &fields)) != nil, fields.count >= 7 else { return false }
                return fields[3].firstIndex(of: UInt8(ascii: "/")) != nil && TimeParser.parse(fields[3]) != nil
                    && isStatus(fields[5])
            } ? 50 : 0
        },
        make: { context throws(IngestError) in try CombinedAccessLogDecoder(context: context) }
    )

    /// Whether `field` is a three-digit HTTP status.
    package static func isStatus(_ field: ByteView) -> Bool {
        field.count == 3 && TextCodecs.parseInt64(field).map { (100...599).contains($0) } == true
    }
}

/// Decoder for ``CombinedAccessLogFormat``.
package final class CombinedAccessLogDecoder: RecordDecoder {
    private var fields: [ByteView] = []
    private let scratch = ScratchBuffer(capacity: 256)
    private let overrides: [TextOverride]
    private let columns: (src: Int, principal: Int, method: Int, path: Int, status: Int, latency: Int, bytes: Int,
                          referer: Int, userAgent: Int)

    package init(context: DecoderContext) throws(IngestError) {
        overrides = try CombinedAccessLogFormat.fields.overrides(profile: context.profile, kind: .inference,
                                                                 format: "access-log", input: context.inputName)
        let schema = SourceKind.inference.schema
        guard let src = schema.index(of: "src_ip"), let principal = schema.index(of: "principal"),
              let method = schema.index(of: "method"), let path = schema.index(of: "path"),
              let status = schema.index(of: "status"), let latency = schema.index(of: "latency_ms"),
              let bytes = schema.index(of: "bytes"), let referer = schema.index(of: "referer"),
              let userAgent = schema.index(of: "user_agent") else {
            throw .unknownFormat(input: context.inputName, detail: "inference schema lacks a column")
        }
        columns = (src, principal, method, path, status, latency, bytes, referer, userAgent)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        do { try FieldSplitter.split(record, into: &fields) } catch {
            throw RecordReject("access log: \(error.reason)")
        }
        guard fields.count >= 7 else { throw RecordReject("access log: fewer than 7 fields") }
        guard let time = TimeParser.parse(fields[3]) else { throw RecordReject("access log: unparseable time") }
        guard CombinedAccessLogFormat.isStatus(fields[5]) else { throw RecordReject("access log: malformed status") }
        rows.begin(.inference, time: time, overrides: .text(overrides, fields: fields))
        TextFields.write(fields[0], role: .address, column: columns.src, kind: .inference, into: rows)
        TextFields.write(fields[2], role: .string, column: columns.principal, kind: .inference, into: rows)
        writeRequest(fields[4], into: rows)
        TextFields.write(fields[5], role: .int, column: columns.status, kind: .inference, into: rows)
        TextFields.write(fields[6], role: .int, column: columns.bytes, kind: .inference, into: rows)
        if fields.count > 8 {
            // The combined format's quoted referer and user agent (the common format has neither).
            TextFields.write(fields[7], role: .string, column: columns.referer, kind: .inference, into: rows)
            TextFields.write(fields[8], role: .string, column: columns.userAgent, kind: .inference, into: rows)
        }
        if fields.count > 9 {
            for index in 9..<fields.count {
                if let seconds = Self.requestSeconds(fields[index], positional: index == 9) {
                    rows.setDouble(seconds * 1000, at: columns.latency)
                    break
                }
            }
        }
        rows.commit()
    }

    /// `GET /path HTTP/1.1` → method and percent-decoded path; anything else (`-`, garbage sent
    /// to the port) is kept whole as the path.
    private func writeRequest(_ request: ByteView, into rows: RowWriter) {
        guard !TextFields.isEmpty(request) else { return }
        guard let firstSpace = request.firstIndex(of: 0x20) else {
            rows.setString(request, at: columns.path)
            return
        }
        let method = request[0..<firstSpace]
        var end = request.count
        var index = request.count - 1
        while index > firstSpace {
            if request[index] == 0x20 {
                end = index
                break
            }
            index -= 1
        }
        let target = request[firstSpace + 1..<end]
        rows.setString(method, at: columns.method)
        rows.setString(TextCodecs.percentDecode(target, into: scratch), at: columns.path)
    }

    /// Seconds from a trailing field: `0.123` in the first trailing position, or `rt=0.123` /
    /// `request_time=0.123` anywhere after the standard fields.
    package static func requestSeconds(_ field: ByteView, positional: Bool) -> Double? {
        if let equals = field.firstIndex(of: UInt8(ascii: "=")) {
            let key = field[0..<equals]
            guard key.equals("rt") || key.equals("request_time") else { return nil }
            return TextCodecs.parseDouble(field[equals + 1..<field.count])
        }
        guard positional, field.firstIndex(of: UInt8(ascii: ".")) != nil else { return nil }
        return TextCodecs.parseDouble(field)
    }
}

import FathomStore
import FathomSupport
import FathomCatalog

/// Amazon S3 server access logs: space-separated records with quoted and bracketed fields.
///
/// Specification: "Amazon S3 server access log format", Amazon S3 User Guide,
/// https://docs.aws.amazon.com/AmazonS3/latest/userguide/LogFormat.html — section "Log record
/// fields" (field order) and the note that fields are added at the end over time ("we might
/// add new fields to the end of each log record").
///
/// ```
/// 79a59df9…ef2be amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a59df9…ef2be
/// 3E57427F3EXAMPLE REST.GET.VERSIONING - "GET /amzn-s3-demo-bucket1?versioning HTTP/1.1" 200 -
/// 113 - 7 - "-" "S3Console/0.4" - s9lzHYrF…= SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader
/// amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com TLSV1.2 arn:aws:s3:…:accesspoint/example-AP Yes us-east-1
/// ```
///
/// Every era is read: the oldest records end after `user_agent` (17 fields); later ones add
/// `version_id`, `host_id`, `signature_version`, `cipher_suite`, `authentication_type`,
/// `host_header`, `tls_version`, `access_point_arn`, `acl_required`, `source_region`, and
/// fields added after those are tolerated (and mappable by a profile as `field_N`). `-` means
/// empty. The key is logged URL-encoded; `key` holds it percent-decoded (`+` is kept, as S3
/// encodes a space as `%20`), the raw form stays in the evidence line.
public enum S3AccessLogFormat {
    /// The documented positional fields, in order.
    package static let fields = PositionalFields(names: [
        "bucket_owner", "bucket", "time", "remote_ip", "requester", "request_id", "operation", "key",
        "request_uri", "http_status", "error_code", "bytes_sent", "object_size", "total_time",
        "turn_around_time", "referer", "user_agent", "version_id", "host_id", "signature_version",
        "cipher_suite", "authentication_type", "host_header", "tls_version", "access_point_arn",
        "acl_required", "source_region",
    ])

    /// Fields of the oldest era (through `user_agent`).
    package static let minimumFields = 17

    public static let descriptor = FormatDescriptor(
        name: "s3-access-log",
        summary: "Amazon S3 server access logs (every era of the space-separated format).",
        kinds: [.storage],
        fieldMap: [
            ("time", "time"), ("src_ip", "remote_ip"), ("principal", "requester"), ("operation", "operation"),
            ("action", "operation → read/write/delete/list/other"), ("bucket", "bucket"),
            ("key", "key (percent-decoded)"), ("user_agent", "user_agent"), ("status", "http_status"),
            ("bytes", "bytes_sent"),
        ],
        sniff: { sample in
            guard sample.framing == .lines else { return 0 }
            var fields: [ByteView] = []
            return SniffSupport.majority(of: sample) { record in
                guard (try? FieldSplitter.split(record, into: &fields)) != nil,
                      fields.count >= minimumFields else { return false }
                return isOperation(fields[6]) && fields[2].firstIndex(of: UInt8(ascii: "/")) != nil
                    && TimeParser.parse(fields[2]) != nil
            } ? 60 : 0
        },
        make: { context throws(IngestError) in try S3AccessLogDecoder(context: context) }
    )

    /// Whether `field` looks like an S3 operation: `REST.GET.OBJECT`, `SOAP.CreateBucket`,
    /// `WEBSITE.GET.OBJECT`, `BATCH.DELETE.OBJECT`, `S3.EXPIRE.OBJECT`.
    package static func isOperation(_ field: ByteView) -> Bool {
        guard let dot = field.firstIndex(of: UInt8(ascii: ".")), dot >= 2, dot + 1 < field.count else { return false }
        for index in 0..<dot {
            let byte = field[index]
            guard (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            else { return false }
        }
        return true
    }
}

/// Decoder for ``S3AccessLogFormat``.
package final class S3AccessLogDecoder: RecordDecoder {
    private var fields: [ByteView] = []
    private let scratch = ScratchBuffer(capacity: 256)
    private let actions = OperationActions()
    private let overrides: [TextOverride]
    private let schema = SourceKind.storage.schema
    private let columns: (src: Int, principal: Int, bucket: Int, key: Int, agent: Int, status: Int, bytes: Int)

    package init(context: DecoderContext) throws(IngestError) {
        overrides = try S3AccessLogFormat.fields.overrides(profile: context.profile, kind: .storage,
                                                           format: "s3-access-log", input: context.inputName)
        guard let src = schema.index(of: "src_ip"), let principal = schema.index(of: "principal"),
              let bucket = schema.index(of: "bucket"), let key = schema.index(of: "key"),
              let agent = schema.index(of: "user_agent"), let status = schema.index(of: "status"),
              let bytes = schema.index(of: "bytes") else {
            throw .unknownFormat(input: context.inputName, detail: "storage schema lacks a column")
        }
        columns = (src, principal, bucket, key, agent, status, bytes)
    }

    package func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject) {
        do { try FieldSplitter.split(record, into: &fields) } catch {
            throw RecordReject("S3 access log: \(error.reason)")
        }
        guard fields.count >= S3AccessLogFormat.minimumFields else {
            throw RecordReject("S3 access log: fewer than \(S3AccessLogFormat.minimumFields) fields")
        }
        guard let time = TimeParser.parse(fields[2]) else { throw RecordReject("S3 access log: unparseable time") }
        guard S3AccessLogFormat.isOperation(fields[6]) else {
            throw RecordReject("S3 access log: malformed operation field")
        }
        let status = fields[9]
        guard TextFields.isEmpty(status) || (status.count == 3 && TextCodecs.parseInt64(status) != nil) else {
            throw RecordReject("S3 access log: malformed HTTP status")
        }
        rows.begin(.storage, time: time, overrides: .text(overrides, fields: fields))
        TextFields.write(fields[3], role: .address, column: columns.src, kind: .storage, into: rows)
        TextFields.write(fields[4], role: .string, column: columns.principal, kind: .storage, into: rows)
        actions.write(fields[6], kind: .storage, into: rows)
        TextFields.write(fields[1], role: .string, column: columns.bucket, kind: .storage, into: rows)
        if !TextFields.isEmpty(fields[7]) {
            rows.setString(TextCodecs.percentDecode(fields[7], into: scratch), at: columns.key)
        }
        TextFields.write(fields[16], role: .string, column: columns.agent, kind: .storage, into: rows)
        TextFields.write(status, role: .int, column: columns.status, kind: .storage, into: rows)
        TextFields.write(fields[11], role: .int, column: columns.bytes, kind: .storage, into: rows)
        rows.commit()
    }
}

import FathomStore
import FathomSupport
import FathomCatalog

/// Why one record was rejected. The reason is a short, stable sentence without evidence payload
/// (e.g. "S3 access log: unterminated quoted field"), so rejects can be counted by reason.
public struct RecordReject: Error, Sendable, Equatable {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
}

/// Decodes the records of one input in one format into canonical rows.
///
/// A decoder is made per input (after sniffing) and used by one thread. It validates a record
/// completely before calling ``RowWriter/begin(_:)``, or calls ``RowWriter/abandon()`` before
/// throwing.
public protocol RecordDecoder: AnyObject {
    /// Decodes `record` into `rows`, or throws why it cannot.
    func decode(_ record: ByteView, into rows: RowWriter) throws(RecordReject)
    /// What the evidence report should say about how this input is read, if anything.
    var note: String? { get }
}

extension RecordDecoder {
    public var note: String? { nil }
}

/// The first records of an input, copied, for choosing its format.
public struct SniffSample: Sendable {
    /// The input's name (for error messages only; formats are never chosen by name).
    public var inputName: String
    public var framing: FramingMode
    public var records: [[UInt8]]

    public init(inputName: String, framing: FramingMode, records: [[UInt8]]) {
        self.inputName = inputName
        self.framing = framing
        self.records = records
    }

    /// Calls `body` with each sampled record as a view.
    public func forEachRecord(_ body: (ByteView) -> Void) {
        for record in records {
            record.withByteView(body)
        }
    }

    /// The parsed JSON objects among the sampled records.
    public func jsonObjects<T>(_ body: (JSONValue) -> T?) -> [T] {
        let parser = JSONParser()
        var results: [T] = []
        forEachRecord { view in
            guard let document = try? parser.parse(view), document.root.kind == .object,
                  let value = body(document.root) else { return }
            results.append(value)
        }
        return results
    }
}

/// What the ingest knows when it makes a decoder.
public struct DecoderContext: Sendable {
    /// `--kind`, when given.
    public var kind: SourceKind?
    /// `--profile`, when given.
    public var profile: Profile?
    public var inputName: String
    public var sample: SniffSample
    /// For a whole-file reader: the file at the path it is given is a private copy made with its
    /// SQLite write-ahead log (`<path>-wal`) beside it, which the reader must apply rather than
    /// open the file immutable.
    public var hasWriteAheadLog = false

    /// The memberwise initializer, for the other targets of the package.
    package init(kind: SourceKind? = nil, profile: Profile? = nil, inputName: String, sample: SniffSample) {
        self.kind = kind
        self.profile = profile
        self.inputName = inputName
        self.sample = sample
    }
}

/// Reads a whole file that is not a stream of text records (an SQLite database): opens `path`
/// read-only, writes rows (setting ``RowWriter/line`` itself) and reports bad rows to `reject`
/// with their row number; returns a note for the evidence report, if any. Throws when the file
/// cannot be read at all.
public typealias WholeFileReader = @Sendable (_ path: String, _ context: DecoderContext, _ rows: RowWriter,
                                              _ reject: (Int64, RecordReject) -> Void) throws(IngestError) -> String?

/// A format Fathom can read: how to recognise it and how to decode it.
///
/// Adding a format is one new file that declares a `FormatDescriptor` and its decoder, plus one
/// line in ``FormatRegistry/builtIn``.
///
/// Most formats are streams of records (lines, JSON array elements) recognised by ``sniff``. A
/// format with ``magic`` and ``readFile`` is instead a whole file recognised by its first bytes
/// (an SQLite database): the ingest hands such an input to `readFile` as a file on disk.
public struct FormatDescriptor: Sendable {
    /// Short name used by `--format` and shown in the evidence report (e.g. `s3-access-log`).
    public var name: String
    /// One sentence for `fathom formats`.
    public var summary: String
    /// The source kinds this format can feed.
    public var kinds: [SourceKind]
    /// Canonical column ← source field, for `fathom formats`.
    public var fieldMap: [(canonical: String, source: String)]
    /// How confident the format is that the sample is its own: 0 = not mine; higher wins.
    public var sniff: @Sendable (SniffSample) -> Int
    /// Makes a decoder for one input, or throws a clear error (e.g. the kind cannot be decided).
    public var make: @Sendable (DecoderContext) throws(IngestError) -> any RecordDecoder
    /// The first bytes of a whole-file input of this format (e.g. `SQLite format 3\0`); nil for
    /// record formats.
    public var magic: [UInt8]?
    /// Reads a whole-file input whose bytes start with ``magic``.
    public var readFile: WholeFileReader?

    public init(name: String, summary: String, kinds: [SourceKind], fieldMap: [(canonical: String, source: String)],
                sniff: @escaping @Sendable (SniffSample) -> Int,
                make: @escaping @Sendable (DecoderContext) throws(IngestError) -> any RecordDecoder,
                magic: [UInt8]? = nil, readFile: WholeFileReader? = nil) {
        self.name = name
        self.summary = summary
        self.kinds = kinds
        self.fieldMap = fieldMap
        self.sniff = sniff
        self.make = make
        self.magic = magic
        self.readFile = readFile
    }
}

/// The formats Fathom reads, in sniffing priority order (specific formats before generic ones).
public struct FormatRegistry: Sendable {
    public var formats: [FormatDescriptor]

    public init(formats: [FormatDescriptor]) { self.formats = formats }

    public static let builtIn = FormatRegistry(formats: [
        S3AccessLogFormat.descriptor,
        CombinedAccessLogFormat.descriptor,
        CloudTrailFormat.descriptor,
        CloudTrailExportFormat.descriptor,
        AzureActivityLogFormat.descriptor,
        AzureStorageLogFormat.descriptor,
        AzureMonitorFormat.descriptor,
        KubernetesAuditFormat.descriptor,
        KServeCloudEventFormat.descriptor,
        BedrockInvocationFormat.descriptor,
        LLMGatewayFormat.descriptor,
        MLflowFormat.descriptor,
        SQLiteCompanionFormat.writeAheadLog,
        SQLiteCompanionFormat.rollbackJournal,
        GenericJSONFormat.descriptor,
        DelimitedFormat.descriptor,
    ])

    public func format(named name: String) -> FormatDescriptor? {
        formats.first { $0.name == name }
    }

    /// The whole-file format whose magic `head` starts with, if any.
    public func wholeFileFormat(startingWith head: ByteView) -> FormatDescriptor? {
        formats.first { format in
            guard let magic = format.magic, format.readFile != nil else { return false }
            return head.starts(with: magic)
        }
    }

    /// The format whose sniffer is most confident about `sample`, earliest on ties; nil when none is.
    public func sniff(_ sample: SniffSample) -> FormatDescriptor? {
        var best: (score: Int, format: FormatDescriptor)?
        for format in formats {
            let score = format.sniff(sample)
            if score > 0, score > (best?.score ?? 0) { best = (score, format) }
        }
        return best?.format
    }
}

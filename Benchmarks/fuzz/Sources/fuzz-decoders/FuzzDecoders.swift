@testable import FathomCore
import FathomStore
import FuzzSupport
#if canImport(FathomIngest)
// Fathom split into layer targets: the ingest internals used here (RowWriter.init, flushIfFull,
// DecoderContext.init, BinarySniffer) are `package` declarations of FathomIngest.
@testable import FathomIngest
#endif

// Fuzz target: every text format of `FormatRegistry.builtIn`, the way the ingest reads one input
// (`MemberReader`): frame the text with `RecordFramer`, sample the first 16 records (or
// 256 KiB), sniff the format (or use the one the input forces, as `--format` does), make the
// decoder and decode every record into a `RowWriter` whose full segments are discarded (nothing
// is written anywhere). Binary-looking inputs and records that are not UTF-8 are passed over as
// the ingest does, so a crash here is reachable from evidence.
//
// Input: byte 0 = chunk plan (see ChunkPlan); byte 1 = format: 0 sniffs, n picks record format
// (n - 1) % count (mlflow, a whole-file format, is not a record format); byte 2 = low 3 bits: the
// source kind (`--kind`; 0 none), bits 4-5: a profile (0 none, 1 JSON field mappings, 2 CSV with
// mappings); then the text.
let registry = FormatRegistry.builtIn
let recordFormats = registry.formats.filter { $0.readFile == nil }
let kinds: [SourceKind?] = [nil] + SourceKind.allCases.map { Optional($0) }
let profiles: [Profile?] = [
    nil,
    Profile(name: "fuzz-json", kind: nil, format: nil, fields: [
        "time": ["ts", "meta.when"], "src_ip": ["client.addr", "x_forwarded_for"], "principal": ["auth.key_id"],
        "input": ["body"], "model": ["m"], "status": ["code"],
    ]),
    Profile(name: "fuzz-csv", kind: .inference, format: "csv", fields: ["time": ["when"], "src_ip": ["ip"], "path": ["url"]]),
    nil,
]
let sniffRecords = 16
let sniffBytes = 256 << 10

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDecoders(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 3)
    let plan = ChunkPlan(byte: input.header[0])
    let forced: FormatDescriptor? = input.header[1] == 0 ? nil
        : recordFormats[(Int(input.header[1]) - 1) % recordFormats.count]
    let kind = kinds[Int(input.header[2] & 0x07) % kinds.count]
    let profile = profiles[Int(input.header[2] >> 4) & 3]
    readInput(input.body, plan: plan, forced: forced, kind: kind, profile: profile)
    return 0
}

private func readInput(_ bytes: [UInt8], plan: ChunkPlan, forced: FormatDescriptor?, kind: SourceKind?, profile: Profile?) {
    let framer = RecordFramer(maxRecordBytes: 16 << 20)
    // Small segments so that the flush path runs; the flush throws the rows away.
    let rows = RowWriter(maxRows: 64, maxBytes: 1 << 16) { _, builder throws(IngestError) in builder.reset() }
    var decoder: (any RecordDecoder)?
    var sample: [([UInt8], Int64)] = []
    var sampleBytes = 0
    var sampling = true

    func decodeOne(_ record: ByteView, _ number: Int64) {
        rows.line = number
        guard let decoder, record.isValidUTF8 else { return }
        do {
            try decoder.decode(record, into: rows)
        } catch {
            rows.abandon()
        }
    }

    func chooseDecoder() {
        sampling = false
        let sniff = SniffSample(inputName: "fuzz", framing: framer.mode ?? .lines, records: sample.map(\.0))
        let name = forced?.name ?? profile?.format
        guard let format = name.flatMap(registry.format(named:)) ?? registry.sniff(sniff) else { return }
        decoder = try? format.make(DecoderContext(kind: kind, profile: profile, inputName: "fuzz", sample: sniff))
    }

    func replaySample() {
        let buffered = sample
        sample = []
        for (bytes, number) in buffered {
            bytes.withByteView { decodeOne($0, number) }
        }
    }

    func handle(_ event: FramedEvent) {
        guard case let .record(view, number) = event else { return }
        if sampling {
            sample.append((view.array, number))
            sampleBytes += view.count
            if sample.count >= sniffRecords || sampleBytes >= sniffBytes {
                chooseDecoder()
                replaySample()
            }
        } else {
            decodeOne(view, number)
        }
    }

    let source = ChunkedByteStream(bytes, plan: plan)
    var sawData = false
    while let event = try? source.next() {
        guard case let .bytes(chunk) = event else { continue }
        if !sawData, !chunk.isEmpty {
            sawData = true
            if registry.wholeFileFormat(startingWith: chunk) != nil { return }
            if BinarySniffer.looksBinary(chunk) { return }
        }
        framer.feed(chunk, handle)
        do { try rows.flushIfFull() } catch { fuzzFailure("discarding flush threw \(error)") }
    }
    framer.finish(handle)
    if sampling, !sample.isEmpty {
        chooseDecoder()
        replaySample()
    }
    do {
        try rows.flushIfFull()
        try rows.flushAll()
    } catch {
        fuzzFailure("discarding flush threw \(error)")
    }
}

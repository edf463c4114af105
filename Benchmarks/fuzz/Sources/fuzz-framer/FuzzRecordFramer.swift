import FathomStore
import FuzzSupport

// Fuzz target: `RecordFramer` (lines, JSON arrays, envelopes) fed in chunks.
//
// Input: byte 0 = chunk plan (see ChunkPlan); byte 1 low nibble = the record size limit (from 1
// byte to the default 16 MiB, see `limits`); then the text.
//
// Checked: no crash, no memory error; no record exceeds the limit; samples are at most 256 bytes;
// record numbers increase; the records and rejections do not depend on the chunking (the
// framer's documented guarantee), and a framer reused after `finish` frames the same input the
// same way.
let limits = [16 << 20, 1, 2, 3, 8, 16, 63, 64, 255, 256, 257, 1000, 1024, 4096, 65536, 1 << 20]

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzRecordFramer(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 2)
    let plan = ChunkPlan(byte: input.header[0])
    let limit = limits[Int(input.header[1] & 0x0F)]
    let framer = RecordFramer(maxRecordBytes: limit)
    let chunked = frame(input.body, plan: plan, framer: framer)
    let again = frame(input.body, plan: plan, framer: framer)
    if again.digest != chunked.digest {
        fuzzFailure("a reused framer frames differently: \(chunked.log) then \(again.log)")
    }
    let whole = frame(input.body, plan: .whole, framer: RecordFramer(maxRecordBytes: limit))
    if whole.digest != chunked.digest {
        fuzzFailure("framing depends on chunking (limit \(limit), plan \(plan)):\n  chunked \(chunked.log)\n  whole   \(whole.log)")
    }
    return 0
}

private func frame(_ bytes: [UInt8], plan: ChunkPlan, framer: RecordFramer) -> (digest: Digest, log: String) {
    var digest = Digest()
    var log: [String] = []
    var lastNumber: Int64 = 0
    var lastRecord: Int64 = 0
    func handle(_ event: FramedEvent) {
        switch event {
        case let .record(view, number):
            if view.count > framer.maxRecordBytes { fuzzFailure("record \(number) of \(view.count) bytes over the limit \(framer.maxRecordBytes)") }
            if number <= lastRecord { fuzzFailure("record number \(number) after record \(lastRecord)") }
            if number < lastNumber { fuzzFailure("record number \(number) after event \(lastNumber)") }
            lastRecord = number
            lastNumber = number
            digest.add("R")
            digest.add(number)
            digest.add(Int64(view.count))
            digest.add(view)
            if log.count < 40 { log.append("R\(number):\(view.count)") }
        case let .rejected(number, reason, sample):
            if sample.count > 256 { fuzzFailure("sample of \(sample.count) bytes") }
            if number < lastNumber { fuzzFailure("reject number \(number) after event \(lastNumber)") }
            lastNumber = number
            digest.add("X")
            digest.add(number)
            digest.add(reason)
            digest.add(sample)
            if log.count < 40 { log.append("X\(number):\(reason):\(sample.count)") }
        }
    }
    let source = ChunkedByteStream(bytes, plan: plan)
    while let event = try? source.next() {
        if case let .bytes(chunk) = event { framer.feed(chunk, handle) }
    }
    framer.finish(handle)
    return (digest, log.joined(separator: " "))
}

import FathomStore
import FuzzSupport

// Fuzz target: `ZstdStream` over an in-memory chunked stream (zstd frames).
//
// Input: byte 0 = chunk plan (see ChunkPlan), byte 1 = flags (bit 7: the source yields a damage
// event after `byte1 & 0x0F` chunks), then the compressed bytes.
//
// Checked: no crash, no memory error; the input counter stays within the input; damage offsets lie
// inside the input; when neither run meets damage, the output is the same whatever the chunking
// (the fuzzer's plan against one whole chunk).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzZstdStream(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 2)
    let plan = ChunkPlan(byte: input.header[0])
    let inject = input.header[1] & 0x80 != 0 ? Int(input.header[1] & 0x0F) : nil
    let chunked = drain(ZstdStream(source: ChunkedByteStream(input.body, plan: plan, damageAfter: inject), name: "fuzz"),
                        inputCount: input.body.count)
    for damage in chunked.damage where damage.offset < 0 || damage.offset > input.body.count {
        fuzzFailure("damage offset \(damage.offset) outside the input of \(input.body.count) bytes: \(damage)")
    }
    guard inject == nil, chunked.damage.isEmpty, !chunked.capped, chunked.error == nil else { return 0 }
    let whole = drain(ZstdStream(source: ChunkedByteStream(input.body, plan: .whole), name: "fuzz"),
                      inputCount: input.body.count)
    if whole.damage.isEmpty, !whole.capped, whole.error == nil, whole.digest != chunked.digest {
        fuzzFailure("output depends on chunking without damage: plan \(plan) gave \(chunked.digest), whole gave \(whole.digest)")
    }
    return 0
}

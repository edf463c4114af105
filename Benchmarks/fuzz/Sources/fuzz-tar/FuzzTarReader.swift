import FathomStore
import FuzzSupport

// Fuzz target: `TarReader` over an in-memory chunked stream.
//
// Input: byte 0 = chunk plan (see ChunkPlan); byte 1 = flags: bit 7 makes the source yield a
// damage event after `byte1 & 0x0F` chunks, bits 4-5 choose how members are read (0: drained,
// 1: left unread, 2: first event only, 3: alternately drained and left unread); then the tar bytes.
//
// Checked: no crash, no memory error; a member never yields more than its declared size; a member's
// stream yields nothing once the reader has moved on; offsets stay inside the input; when nothing
// is damaged, the members (names, sizes, data) do not depend on the chunking.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTarReader(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 2)
    let plan = ChunkPlan(byte: input.header[0])
    let inject = input.header[1] & 0x80 != 0 ? Int(input.header[1] & 0x0F) : nil
    let mode = Int(input.header[1] >> 4) & 3
    let chunked = readArchive(input.body, plan: plan, inject: inject, mode: mode)
    guard inject == nil, mode == 0, !chunked.damaged else { return 0 }
    let whole = readArchive(input.body, plan: .whole, inject: nil, mode: 0)
    if !whole.damaged, whole.digest != chunked.digest {
        fuzzFailure("tar members depend on chunking without damage: plan \(plan) gave \(chunked.digest), whole gave \(whole.digest)")
    }
    return 0
}

private func readArchive(_ bytes: [UInt8], plan: ChunkPlan, inject: Int?, mode: Int) -> (digest: Digest, damaged: Bool) {
    let reader = TarReader(source: ChunkedByteStream(bytes, plan: plan, damageAfter: inject))
    var digest = Digest()
    var damaged = false
    var previous: TarMember?
    var index = 0
    var lastOffset = 0
    do {
        while let member = try reader.nextMember() {
            if let previous, let event = try? previous.stream.next() {
                fuzzFailure("member '\(previous.name)' still yields \(event) after the reader moved on")
            }
            if member.size < 0 { fuzzFailure("negative member size \(member.size)") }
            digest.add(member.name)
            digest.add(Int64(member.size))
            let drainThis = mode == 0 || (mode == 3 && index % 2 == 0)
            var got = 0
            if drainThis || mode == 2 {
                while let event = try member.stream.next() {
                    switch event {
                    case .bytes(let view):
                        got += view.count
                        digest.add(view)
                    case .damage:
                        damaged = true
                    }
                    if got > member.size { fuzzFailure("member '\(member.name)' yielded \(got) bytes, declared \(member.size)") }
                    if mode == 2 { break }
                }
            }
            if reader.offset < lastOffset || reader.offset > bytes.count {
                fuzzFailure("reader offset \(reader.offset) (previous \(lastOffset), input \(bytes.count))")
            }
            lastOffset = reader.offset
            previous = member
            index += 1
        }
    } catch {
        damaged = true
    }
    if let previous, let event = try? previous.stream.next() {
        fuzzFailure("member '\(previous.name)' still yields \(event) after the archive ended")
    }
    if !reader.damage.isEmpty { damaged = true }
    for damage in reader.damage where damage.offset < 0 || damage.offset > bytes.count {
        fuzzFailure("damage offset \(damage.offset) outside the input of \(bytes.count) bytes: \(damage)")
    }
    return (digest, damaged)
}

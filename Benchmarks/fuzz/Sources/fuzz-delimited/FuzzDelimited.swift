import FathomStore
import FuzzSupport

// Fuzz target: the field splitters (`DelimitedSplitter` for CSV/TSV, `FieldSplitter` for access
// logs) and `TimeParser`.
//
// Input: text, raw (no header); each line (LF) is one record, as the framer delivers them.
//
// Checked: no crash, no memory error (each line in a heap buffer of exactly its size); fields are
// readable and, unescaped, never longer than the line; a reused splitter splits the same way;
// for every field and line that parses as a time, `parse(format(t)) == t` and the String and
// ByteView parsers agree; for the Int64 and Double read from the input's first 8 bytes,
// `parse(format(x)) == x` (documented for every Int64) and `parseEpoch` does not trap.
nonisolated(unsafe) let comma = DelimitedSplitter()
nonisolated(unsafe) let tab = DelimitedSplitter(delimiter: 0x09)
nonisolated(unsafe) let semicolonQuote = DelimitedSplitter(delimiter: UInt8(ascii: ";"), quote: UInt8(ascii: "'"))

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDelimited(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 0)
    let bytes = input.body
    if bytes.count >= 8 {
        var raw: UInt64 = 0
        for index in 0..<8 { raw = raw << 8 | UInt64(bytes[index]) }
        checkRoundTrip(Int64(bitPattern: raw))
        _ = TimeParser.parseEpoch(Int64(bitPattern: raw))
        _ = TimeParser.parseEpoch(Double(bitPattern: raw))
    }
    var lines: [[UInt8]] = []
    var start = 0
    for (index, byte) in bytes.enumerated() where byte == 0x0A {
        lines.append(Array(bytes[start..<index]))
        start = index + 1
    }
    lines.append(Array(bytes[start...]))
    var fields: [ByteView] = []
    for line in lines.prefix(256) {
        withExactView(line) { view in
            checkTime(view)
            for splitter in [comma, tab, semicolonQuote] {
                let first = split(view, splitter, &fields)
                let second = split(view, splitter, &fields)
                if first != second { fuzzFailure("a reused splitter split differently: \(first) / \(second)") }
            }
            var ok = true
            do { try FieldSplitter.split(view, into: &fields) } catch { ok = false }
            for field in fields {
                if field.count > view.count { fuzzFailure("access-log field longer than its line") }
                if ok { checkTime(field) }
            }
        }
    }
    return 0
}

private func split(_ view: ByteView, _ splitter: DelimitedSplitter, _ fields: inout [ByteView]) -> Digest {
    var digest = Digest()
    do {
        try splitter.split(view, into: &fields)
        if fields.isEmpty { fuzzFailure("a split line has no field") }
    } catch {
        digest.add("error \(error.reason) \(error.offset)")
        if error.offset < 0 || error.offset > view.count { fuzzFailure("split error offset \(error.offset) outside the line of \(view.count)") }
    }
    var total = 0
    for field in fields {
        total += field.count
        digest.add(field)
        digest.add("|")
    }
    if total > view.count { fuzzFailure("fields hold \(total) bytes, the line \(view.count)") }
    for field in fields.prefix(16) { checkTime(field) }
    return digest
}

private func checkTime(_ view: ByteView) {
    guard let nanos = TimeParser.parse(view) else {
        if let valid = view.validatedString, TimeParser.parse(valid) != nil {
            fuzzFailure("String parser accepts what the ByteView parser rejects")
        }
        return
    }
    if let valid = view.validatedString, TimeParser.parse(valid) != nanos {
        fuzzFailure("String and ByteView parsers disagree")
    }
    checkRoundTrip(nanos)
}

private func checkRoundTrip(_ nanos: Int64) {
    let text = TimeParser.format(nanos)
    guard TimeParser.parse(text) == nanos else {
        fuzzFailure("parse(format(\(nanos))) = \(TimeParser.parse(text).map(String.init) ?? "nil") via '\(text)'")
    }
}

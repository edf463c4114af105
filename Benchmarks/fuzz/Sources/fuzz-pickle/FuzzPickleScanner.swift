import FathomCore
import FuzzSupport

// Fuzz target: the pickle scanner (`PickleScanner.scan`, `looksLikePickle`) over raw bytes, as
// `fathom scan-artifacts` walks pickles and the `data.pkl` members of PyTorch checkpoints, and the
// artifact scan of the same bytes as a file (`ArtifactScanner.scan(content:name:)`: zip members,
// nested zips, gzip/bzip2/xz/.lzma/zlib/zstd layers, .npy headers, joblib arrays, trailing pickles).
//
// Input: the pickle bytes, raw (no header).
//
// Checked: no crash, no memory error; the same result over an Array, an ArraySlice whose indices
// do not start at 0, and an exact-size raw buffer (the scanner is generic over the collection);
// offsets of imports and errors lie inside the input; the artifact scan is deterministic and its
// offsets are not negative.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPickleScanner(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 0)
    let bytes = input.body
    let fromArray = PickleScanner.scan(bytes)
    _ = PickleScanner.looksLikePickle(bytes)
    let padded = [0xFF, 0xFE, 0xFD] + bytes
    let slice = padded[3...]
    let fromSlice = PickleScanner.scan(slice)
    _ = PickleScanner.looksLikePickle(slice)
    if fromSlice != fromArray {
        fuzzFailure("scan of an ArraySlice (start 3) differs from the Array: \(fromSlice) vs \(fromArray)")
    }
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, bytes.count), alignment: 1)
    defer { buffer.deallocate() }
    bytes.withUnsafeBytes { if !$0.isEmpty { buffer.copyMemory(from: $0) } }
    let raw = UnsafeRawBufferPointer(rebasing: buffer[0..<bytes.count])
    let fromRaw = PickleScanner.scan(raw)
    _ = PickleScanner.looksLikePickle(raw)
    if fromRaw != fromArray {
        fuzzFailure("scan of a raw buffer differs from the Array")
    }
    for found in fromArray.imports where found.offset < 0 || found.offset > bytes.count {
        fuzzFailure("import offset \(found.offset) outside the input of \(bytes.count) bytes")
    }
    if let error = fromArray.error, error.offset < 0 || error.offset > bytes.count {
        fuzzFailure("error offset \(error.offset) outside the input of \(bytes.count) bytes")
    }
    let scanned = ArtifactScanner.scan(content: bytes, name: "fuzz.bin")
    if ArtifactScanner.scan(content: bytes, name: "fuzz.bin") != scanned {
        fuzzFailure("two artifact scans of the same bytes differ")
    }
    for finding in scanned.1 where (finding.evidence.offset ?? 0) < 0 {
        fuzzFailure("finding offset \(finding.evidence.offset ?? 0) is negative")
    }
    return 0
}

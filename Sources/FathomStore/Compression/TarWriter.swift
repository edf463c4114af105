/// Writes a POSIX ustar archive to a ``ByteSink``, with PAX extended headers (`typeflag 'x'`) for
/// names that do not fit ustar's 100-byte name field or are not ASCII.
///
/// Every member is a regular file (mode 0644, uid/gid 0, owner `root`) with the same modification
/// time, so the archive depends only on the names and contents given, in the order given.
///
/// ```
///  ┌ 512-byte header ┬ data, zero-padded to 512 ┬ … ┬ 2 × 512 zero bytes ┬ zero padding to 10240 ┐
/// ```
/// A long name adds, before its header, a PAX header (`typeflag 'x'`) whose data is the record
/// `"<len> path=<name>\n"`.
public final class TarWriter {
    private let sink: ByteSink
    private let modificationTime: Int64
    private var archiveBytes = 0
    private var isFinished = false

    /// Starts an archive on `sink`; members get `modificationTime` (seconds since the epoch).
    public init(sink: ByteSink, modificationTime: Int64) {
        self.sink = sink
        self.modificationTime = modificationTime
    }

    /// Adds a member `name` holding `bytes`.
    public func appendFile(name: String, bytes: [UInt8]) throws(StoreError) {
        try writeHeaders(name: name, size: bytes.count)
        try emit(bytes)
        try pad()
    }

    /// Adds a member `name` holding the current contents of the file at `path`, streamed in chunks.
    public func appendFile(name: String, contentsOfFile path: String) throws(StoreError) {
        let size = try FileConcatenation.size(of: path)
        try writeHeaders(name: name, size: size)
        let counter = CountingSink(inner: sink)
        try FileConcatenation.append(contentsOf: path, to: counter)
        guard counter.count == size else {
            throw .corrupt(path: path, offset: counter.count, detail: "file changed size while archived (expected \(size) bytes)")
        }
        archiveBytes += size
        try pad()
    }

    /// Writes the end-of-archive marker (two zero blocks) and pads to a 10240-byte record. Does not
    /// close the sink.
    public func finish() throws(StoreError) {
        guard !isFinished else { return }
        isFinished = true
        try emit([UInt8](repeating: 0, count: 1024))
        let record = 10240
        let rest = (record - archiveBytes % record) % record
        if rest > 0 { try emit([UInt8](repeating: 0, count: rest)) }
    }

    private func writeHeaders(name: String, size: Int) throws(StoreError) {
        precondition(!isFinished, "append after finish")
        let nameBytes = Array(name.utf8)
        let isASCII = nameBytes.allSatisfy { $0 < 0x80 }
        var headerName = nameBytes
        if nameBytes.count > 100 || !isASCII {
            let record = Self.paxRecord(key: "path", value: nameBytes)
            let paxName = Array("PaxHeaders/".utf8) + Array(nameBytes.filter { $0 < 0x80 }.suffix(80))
            try emit(Self.header(name: paxName, size: record.count, typeflag: UInt8(ascii: "x"), mtime: modificationTime))
            try emit(record)
            try pad()
            headerName = Array(nameBytes.filter { $0 < 0x80 }.suffix(100))
        }
        try emit(Self.header(name: headerName, size: size, typeflag: UInt8(ascii: "0"), mtime: modificationTime))
    }

    private func emit(_ bytes: [UInt8]) throws(StoreError) {
        try sink.write(bytes)
        archiveBytes += bytes.count
    }

    private func pad() throws(StoreError) {
        let rest = (512 - archiveBytes % 512) % 512
        if rest > 0 { try emit([UInt8](repeating: 0, count: rest)) }
    }

    /// A PAX record: `"<length> <key>=<value>\n"` where length counts the whole record.
    static func paxRecord(key: String, value: [UInt8]) -> [UInt8] {
        let body = Array(" \(key)=".utf8) + value + [0x0A]
        var length = body.count + 1
        while String(length).utf8.count + body.count != length {
            length = String(length).utf8.count + body.count
        }
        return Array(String(length).utf8) + body
    }

    /// One 512-byte ustar header.
    static func header(name: [UInt8], size: Int, typeflag: UInt8, mtime: Int64) -> [UInt8] {
        var block = [UInt8](repeating: 0, count: 512)
        func put(_ bytes: [UInt8], at offset: Int, width: Int) {
            for (index, byte) in bytes.prefix(width).enumerated() { block[offset + index] = byte }
        }
        func octal(_ value: Int64, width: Int) -> [UInt8] {
            let digits = String(value, radix: 8)
            let padded = String(repeating: "0", count: Swift.max(0, width - 1 - digits.utf8.count)) + digits
            return Array(padded.utf8) + [0]
        }
        put(name, at: 0, width: 100)
        put(octal(0o644, width: 8), at: 100, width: 8)
        put(octal(0, width: 8), at: 108, width: 8)
        put(octal(0, width: 8), at: 116, width: 8)
        put(octal(Int64(size), width: 12), at: 124, width: 12)
        put(octal(mtime, width: 12), at: 136, width: 12)
        put([UInt8](repeating: 0x20, count: 8), at: 148, width: 8)
        block[156] = typeflag
        put(Array("ustar".utf8) + [0], at: 257, width: 6)
        put(Array("00".utf8), at: 263, width: 2)
        put(Array("root".utf8), at: 265, width: 32)
        put(Array("root".utf8), at: 297, width: 32)
        put(octal(0, width: 8), at: 329, width: 8)
        put(octal(0, width: 8), at: 337, width: 8)
        let checksum = block.reduce(0) { $0 + Int64($1) }
        let digits = String(checksum, radix: 8)
        let field = String(repeating: "0", count: Swift.max(0, 6 - digits.utf8.count)) + digits
        put(Array(field.utf8) + [0, 0x20], at: 148, width: 8)
        return block
    }
}

/// Forwards to another sink and counts the bytes.
final class CountingSink: ByteSink {
    let inner: ByteSink
    var count = 0

    init(inner: ByteSink) { self.inner = inner }

    func write(_ bytes: [UInt8]) throws(StoreError) {
        try inner.write(bytes)
        count += bytes.count
    }

    func close() throws(StoreError) {}
}

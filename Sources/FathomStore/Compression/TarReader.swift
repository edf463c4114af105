/// Reads the regular files of a POSIX (ustar, pax) or GNU tar archive from any ``ByteStream``,
/// one member at a time, without holding a member in memory.
///
/// The archive is a sequence of 512-byte blocks:
///
/// ```
///  │ header │ data … padded to 512 │ header │ data … │ … │ 512 × 00 │ 512 × 00 │
///  └────────┴──────────────────────┴────────┴────────┴───┴──────────┴──────────┘
///  header:   0 name[100]  100 mode  108 uid  116 gid  124 size[12]  136 mtime
///          148 chksum[8]  156 typeflag  157 linkname[100]  257 magic "ustar"
///          263 version  265 uname  297 gname  329 devmajor  337 devminor  345 prefix[155]
/// ```
///
/// - Sizes are octal text or, for GNU base-256, big-endian binary with the top bit set.
/// - A PAX extended header (type `x`) supplies `path` and `size` for the next member; global
///   headers (`g`) are ignored. A GNU long name (type `L`) supplies the next member's name.
/// - Regular files (type `0`, NUL and `7`) are returned; directories, links, devices, FIFOs and
///   unknown types are skipped with their data.
/// - Two zero blocks (or the source's end after one) end the archive.
///
/// Damage ends the archive, because every later offset depends on the damaged header: a bad
/// header checksum, an unreadable size, an archive that stops inside a header or between members.
/// Such damage is collected in ``damage``; a member cut short yields its damage through its own
/// stream when that stream is read to the end. Damage offsets are byte offsets in the tar stream.
///
/// - Complexity: O(*n*) in the archive size; member data is lent as views of the source's chunks.
public final class TarReader {
    /// The largest PAX extended header or GNU long name accepted.
    static let maxMetadataSize = 1 << 20

    private let source: any ByteStream
    private var view = ByteView.empty
    private var viewPosition = 0
    private var isSourceFinished = false
    private var isFinished = false
    /// Offset in the tar stream of the next unread byte.
    public private(set) var offset = 0
    /// Damage found outside member data (headers, end of archive, skipped members).
    public private(set) var damage: [StreamDamage] = []

    private var memberID = 0
    private var isMemberActive = false
    private var memberName = ""
    private var memberSize = 0
    private var memberRemaining = 0
    private var memberPadding = 0
    private var block = [UInt8](repeating: 0, count: 512)

    /// Reads the tar archive whose bytes `source` yields.
    public init(source: any ByteStream) {
        self.source = source
    }

    /// How many bytes of the underlying file the source has consumed.
    public var consumedInputBytes: Int { source.consumedInputBytes }

    /// The next regular file, or nil at the end of the archive or after damage (see ``damage``).
    ///
    /// The rest of the previous member, if not drained, is skipped.
    public func nextMember() throws(StoreError) -> TarMember? {
        if isFinished { return nil }
        if isMemberActive {
            isMemberActive = false
            let expected = memberRemaining
            let skipped = try skip(expected)
            memberRemaining -= skipped
            if skipped < expected {
                return finish(cutShort())
            }
            if try skip(memberPadding) < memberPadding {
                return finish(StreamDamage(
                    offset: offset, detail: "tar archive ends inside the padding of member '\(memberName)'"))
            }
        }
        memberID += 1
        var longName: String?
        var paxPath: String?
        var paxSize: Int?
        while true {
            let headerStart = offset
            let got = try read(into: &block, count: 512)
            if got == 0 {
                return finish(StreamDamage(
                    offset: offset, detail: "tar archive ends at byte \(offset) without its end-of-archive blocks"))
            }
            if got < 512 {
                return finish(StreamDamage(offset: headerStart, detail: "tar header cut short: got \(got) of 512 bytes"))
            }
            if block.allSatisfy({ $0 == 0 }) {
                let second = try read(into: &block, count: 512)
                if second == 0 || (second == 512 && block.allSatisfy({ $0 == 0 })) {
                    return finish(nil)
                }
                return finish(StreamDamage(
                    offset: headerStart, detail: "lone zero block in tar archive followed by other data"))
            }
            if let problem = Self.checksumProblem(block) {
                return finish(StreamDamage(offset: headerStart, detail: problem))
            }
            guard let headerSize = Self.number(block[124..<136]) else {
                return finish(StreamDamage(
                    offset: headerStart + 124,
                    detail: "invalid tar size field '\(Self.printable(block[124..<136]))'"))
            }
            let type = block[156]
            switch type {
            case UInt8(ascii: "x"), UInt8(ascii: "L"):
                guard headerSize <= Self.maxMetadataSize else {
                    return finish(StreamDamage(
                        offset: headerStart,
                        detail: "tar metadata header of \(headerSize) bytes exceeds the \(Self.maxMetadataSize)-byte limit"))
                }
                var data = [UInt8](repeating: 0, count: headerSize)
                let gotData = try read(into: &data, count: headerSize)
                if gotData < headerSize {
                    return finish(StreamDamage(
                        offset: offset, detail: "tar metadata header cut short: expected \(headerSize) bytes, got \(gotData)"))
                }
                if try skip(Self.padding(headerSize)) < Self.padding(headerSize) {
                    return finish(StreamDamage(offset: offset, detail: "tar archive ends inside header padding"))
                }
                if type == UInt8(ascii: "L") {
                    longName = Self.string(data[...])
                } else {
                    switch Self.paxRecords(data) {
                    case .success(let records):
                        if let path = records.path { paxPath = path }
                        if let size = records.size { paxSize = size }
                    case .failure(let problem):
                        return finish(StreamDamage(offset: headerStart, detail: problem.detail))
                    }
                }
                continue
            case UInt8(ascii: "g"), UInt8(ascii: "K"):
                // Global PAX header and GNU long link name: nothing a reader of file data needs.
                if try !skipWithPadding(headerSize) {
                    return finish(StreamDamage(offset: offset, detail: "tar archive ends inside a metadata header"))
                }
                continue
            default:
                break
            }
            let size = paxSize ?? headerSize
            if type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7") {
                memberName = paxPath ?? longName ?? Self.headerName(block)
                memberSize = size
                memberRemaining = size
                memberPadding = Self.padding(size)
                isMemberActive = true
                return TarMember(name: memberName, size: size, stream: TarMemberStream(reader: self, memberID: memberID))
            }
            // Links, devices, directories and FIFOs carry no data whatever their size field says.
            let isHeaderOnly = (UInt8(ascii: "1")...UInt8(ascii: "6")).contains(type)
            let dataSize = isHeaderOnly ? 0 : size
            if try !skipWithPadding(dataSize) {
                return finish(StreamDamage(
                    offset: offset, detail: "tar entry '\(Self.headerName(block))' cut short"))
            }
            longName = nil
            paxPath = nil
            paxSize = nil
        }
    }

    /// The next event of member `id`'s data; nil once it is complete or the reader moved on.
    func nextData(of id: Int) throws(StoreError) -> StreamEvent? {
        guard id == memberID, isMemberActive, memberRemaining > 0 else { return nil }
        while viewPosition >= view.count {
            switch try fill() {
            case .bytes:
                continue
            case .damage(let damage):
                return .damage(damage)
            case .end:
                isMemberActive = false
                isFinished = true
                return .damage(cutShort())
            }
        }
        let count = Swift.min(memberRemaining, view.count - viewPosition)
        let piece = view[viewPosition..<(viewPosition + count)]
        viewPosition += count
        offset += count
        memberRemaining -= count
        return .bytes(piece)
    }

    private func cutShort() -> StreamDamage {
        StreamDamage(offset: offset,
                     detail: "tar member '\(memberName)' cut short: expected \(memberSize) bytes, got \(memberSize - memberRemaining)",
                     lostBytes: memberRemaining)
    }

    /// Ends the archive, recording `damage` if any. Always returns nil.
    private func finish(_ found: StreamDamage?) -> TarMember? {
        if let found { damage.append(found) }
        isFinished = true
        isMemberActive = false
        return nil
    }

    // MARK: Reading the source

    private enum Fill {
        case bytes
        case damage(StreamDamage)
        case end
    }

    /// Replaces the exhausted view with the source's next chunk.
    private func fill() throws(StoreError) -> Fill {
        if isSourceFinished { return .end }
        guard let event = try source.next() else {
            isSourceFinished = true
            view = .empty
            viewPosition = 0
            return .end
        }
        switch event {
        case .damage(let damage):
            return .damage(damage)
        case .bytes(let bytes):
            view = bytes
            viewPosition = 0
            return .bytes
        }
    }

    /// Copies up to `count` bytes into `buffer`; returns how many (fewer only at the end).
    /// Source damage met on the way is recorded as container damage.
    private func read(into buffer: inout [UInt8], count: Int) throws(StoreError) -> Int {
        precondition(count <= buffer.count)
        var copied = 0
        while copied < count {
            if viewPosition >= view.count {
                switch try fill() {
                case .bytes: continue
                case .damage(let found): damage.append(found); continue
                case .end: return copied
                }
            }
            let take = Swift.min(count - copied, view.count - viewPosition)
            let piece = view[viewPosition..<(viewPosition + take)]
            for index in 0..<take { buffer[copied + index] = piece[index] }
            copied += take
            viewPosition += take
            offset += take
        }
        return copied
    }

    /// Skips up to `count` bytes; returns how many (fewer only at the end).
    private func skip(_ count: Int) throws(StoreError) -> Int {
        var skipped = 0
        while skipped < count {
            if viewPosition >= view.count {
                switch try fill() {
                case .bytes: continue
                case .damage(let found): damage.append(found); continue
                case .end: return skipped
                }
            }
            let take = Swift.min(count - skipped, view.count - viewPosition)
            skipped += take
            viewPosition += take
            offset += take
        }
        return skipped
    }

    /// Skips `count` bytes of data and their padding; false when the source ends first.
    private func skipWithPadding(_ count: Int) throws(StoreError) -> Bool {
        guard try skip(count) == count else { return false }
        let padding = Self.padding(count)
        return try skip(padding) == padding
    }

    // MARK: Header fields

    static func padding(_ size: Int) -> Int { (512 - size % 512) % 512 }

    /// Why the header's checksum is wrong, or nil when it matches (unsigned or historic signed sum).
    static func checksumProblem(_ header: [UInt8]) -> String? {
        var unsigned = 0
        var signed = 0
        for index in 0..<512 {
            let byte = (148..<156).contains(index) ? UInt8(ascii: " ") : header[index]
            unsigned += Int(byte)
            signed += Int(Int8(bitPattern: byte))
        }
        guard let stored = octal(header[148..<156]) else {
            return "bad tar header checksum: field '\(printable(header[148..<156]))' is not octal (computed \(unsigned))"
        }
        if stored == unsigned || stored == signed { return nil }
        return "bad tar header checksum: stored \(stored), computed \(unsigned)"
    }

    /// A numeric field: octal text, or GNU base-256 when the top bit of the first byte is set.
    /// Nil when malformed, negative or too large.
    static func number(_ field: ArraySlice<UInt8>) -> Int? {
        guard let first = field.first else { return nil }
        if first & 0x80 == 0 { return octal(field) }
        if first & 0x40 != 0 { return nil }  // negative
        var value = Int(first & 0x3F)
        for byte in field.dropFirst() {
            guard value <= (Int.max >> 8) else { return nil }
            value = value << 8 | Int(byte)
        }
        return value
    }

    /// Octal text padded with spaces or NULs; empty is zero.
    static func octal(_ field: ArraySlice<UInt8>) -> Int? {
        var value = 0
        var index = field.startIndex
        while index < field.endIndex, field[index] == 0x20 || field[index] == 0 { index += 1 }
        while index < field.endIndex {
            let byte = field[index]
            if byte == 0x20 || byte == 0 { break }
            guard (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(byte), value <= (Int.max >> 4) else { return nil }
            value = value << 3 | Int(byte - UInt8(ascii: "0"))
            index += 1
        }
        while index < field.endIndex {
            guard field[index] == 0x20 || field[index] == 0 else { return nil }
            index += 1
        }
        return value
    }

    /// The header's path: `prefix/name` for POSIX ustar headers, else the name field.
    static func headerName(_ header: [UInt8]) -> String {
        let name = string(header[0..<100])
        let isPOSIX = header[257..<263].elementsEqual(Array("ustar".utf8) + [0])
        let prefix = isPOSIX ? string(header[345..<500]) : ""
        return prefix.isEmpty ? name : prefix + "/" + name
    }

    /// Bytes up to the first NUL as a string, invalid UTF-8 repaired.
    static func string(_ field: ArraySlice<UInt8>) -> String {
        let end = field.firstIndex(of: 0) ?? field.endIndex
        return String(decoding: field[field.startIndex..<end], as: UTF8.self)
    }

    /// A field for an error message: printable ASCII kept, everything else as `.`.
    static func printable(_ field: ArraySlice<UInt8>) -> String {
        String(decoding: field.map { (0x20..<0x7F).contains($0) ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
    }

    struct PAXRecords {
        var path: String?
        var size: Int?
    }

    struct PAXProblem: Error {
        var detail: String
    }

    /// Parses `"<length> <key>=<value>\n"` records, keeping `path` and `size`.
    static func paxRecords(_ data: [UInt8]) -> Result<PAXRecords, PAXProblem> {
        var records = PAXRecords()
        var start = 0
        while start < data.count {
            if data[start] == 0 { break }  // NUL padding some writers leave
            var index = start
            var length = 0
            while index < data.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(data[index]) {
                guard length <= data.count else { return .failure(PAXProblem(detail: "PAX record length too large")) }
                length = length * 10 + Int(data[index] - UInt8(ascii: "0"))
                index += 1
            }
            guard index < data.count, data[index] == 0x20, length > index - start + 1,
                  start + length <= data.count, data[start + length - 1] == 0x0A else {
                return .failure(PAXProblem(detail: "malformed PAX record at byte \(start) of the extended header"))
            }
            let record = data[(index + 1)..<(start + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")) else {
                return .failure(PAXProblem(detail: "PAX record without '=' at byte \(start) of the extended header"))
            }
            let key = record[record.startIndex..<equals]
            let value = record[(equals + 1)...]
            if key.elementsEqual("path".utf8) {
                records.path = String(decoding: value, as: UTF8.self)
            } else if key.elementsEqual("size".utf8) {
                guard !value.isEmpty, value.count <= 18,
                      value.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }),
                      let size = Int(String(decoding: value, as: UTF8.self)) else {
                    return .failure(PAXProblem(detail: "invalid PAX size '\(printable(value))'"))
                }
                records.size = size
            }
            start += length
        }
        return .success(records)
    }
}

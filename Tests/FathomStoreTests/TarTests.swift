import Foundation
import Testing
@testable import FathomStore

@Suite("Tar archives")
struct TarTests {
    /// What `bundle.tar` holds, in archive order (directories and the symlink are skipped).
    static func bundleMembers() throws -> [(name: String, bytes: Bytes, extra: [Compression])] {
        [
            ("logs/inference/gateway.log", try fixture("part1.log"), []),
            ("logs/rotated.log.gz", try fixture("part3.log"), [.gzip]),
            ("logs/storage.log", try fixture("part2.log"), []),
            ("logs/zero.log", Bytes([]), []),
        ]
    }

    @Test("every regular member of a bundle is one input, decompressed where needed",
          arguments: [("bundle.tar", [Compression]()), ("bundle.tar.zst", [.zstd]), ("bundle.tar.gz", [.gzip])])
    func bundle(_ name: String, _ compressions: [Compression]) throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture(name)), displayName: name)
        #expect(inputs.isTar)
        #expect(inputs.compressions == compressions)
        for expected in try Self.bundleMembers() {
            let input = try #require(try inputs.nextInput())
            #expect(input.name == "\(name)!\(expected.name)")
            #expect(input.isTarMember)
            #expect(input.compressions == compressions + expected.extra)
            let drained = try drain(input.stream)
            #expect(drained.bytes == expected.bytes, "\(expected.name)")
            #expect(drained.damage.isEmpty)
        }
        #expect(try inputs.nextInput() == nil)
        #expect(inputs.containerDamage.isEmpty)
        #expect(inputs.consumedInputBytes == (try archiveFixtureBytes(name)).count)
    }

    @Test("a 0-byte member is an input with an empty stream, and reading goes on after it")
    func zeroByteMember() throws {
        var builder = TarBuilder()
        builder.add("empty.log", [])
        builder.add("after.log", Array("x\n".utf8))
        builder.end()
        let reader = TarReader(source: ChunkedStream(builder.bytes, chunkSizes: [4096]))
        let empty = try #require(try reader.nextMember())
        #expect(empty.name == "empty.log" && empty.size == 0)
        #expect(try empty.stream.next() == nil)
        let after = try #require(try reader.nextMember())
        #expect(try drain(after.stream).bytes == Bytes("x\n"))
        #expect(try reader.nextMember() == nil)
        #expect(reader.damage.isEmpty)
    }

    @Test("members data is lent from the source without copying")
    func memberIsZeroCopy() throws {
        let mapping = try mapFixture("bundle.tar")
        let reader = TarReader(source: MappedStream(mapping: mapping))
        let member = try #require(try reader.nextMember())
        guard case .bytes(let view) = try member.stream.next() else {
            Issue.record("expected bytes")
            return
        }
        let offset = view.withUnsafeBytes { viewBytes in
            mapping.bytes.withUnsafeBytes { mapped in
                viewBytes.baseAddress.flatMap { a in mapped.baseAddress.map { a - $0 } }
            }
        }
        #expect(offset == 1536)  // third block: after two directory headers and its own header
        #expect(view.count == 1784)
    }

    @Test("long names from PAX path records and GNU 'L' headers",
          arguments: ["pax-longname.tar", "gnu-longname.tar"])
    func longNames(_ name: String) throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture(name)), displayName: name)
        var found: [String: Bytes] = [:]
        while let input = try inputs.nextInput() {
            found[input.name] = try drain(input.stream).bytes
        }
        let long = "./" + (1...5).map { "very-long-directory-name-0\($0)/" }.joined()
            + "model-weights-access-log-with-a-long-name.log"
        #expect(long.utf8.count > 100)
        #expect(found.count == 2)
        #expect(found["\(name)!\(long)"] == (try fixture("part1.log")))
        #expect(found["\(name)!./short.log"] == (try fixture("part2.log")))
        #expect(inputs.containerDamage.isEmpty)
    }

    @Test("a member cut short yields its bytes, then damage, and the archive ends")
    func memberCutShort() throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture("cut-short.tar")), displayName: "cut-short.tar")
        let input = try #require(try inputs.nextInput())
        let drained = try drain(input.stream)
        #expect(drained.bytes == (try fixture("part1.log")).prefix(700))
        #expect(drained.damage == [StreamDamage(
            offset: 2236,
            detail: "tar member 'logs/inference/gateway.log' cut short: expected 1784 bytes, got 700",
            lostBytes: 1084)])
        #expect(try inputs.nextInput() == nil)
    }

    @Test("a member cut short that is skipped is reported as container damage")
    func skippedMemberCutShort() throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture("cut-short.tar")), displayName: "cut-short.tar")
        _ = try #require(try inputs.nextInput())
        #expect(try inputs.nextInput() == nil)
        #expect(inputs.containerDamage.map(\.detail)
            == ["tar member 'logs/inference/gateway.log' cut short: expected 1784 bytes, got 700"])
    }

    @Test("a bad header checksum ends the archive with damage; earlier members are intact")
    func badChecksum() throws {
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapFixture("bad-checksum.tar")), displayName: "bad-checksum.tar")
        var names: [String] = []
        while let input = try inputs.nextInput() {
            names.append(input.name)
            #expect(try drain(input.stream).damage.isEmpty)
        }
        #expect(names == ["bad-checksum.tar!logs/inference/gateway.log", "bad-checksum.tar!logs/rotated.log.gz"])
        #expect(inputs.containerDamage.count == 1)
        let damage = try #require(inputs.containerDamage.first)
        #expect(damage.offset == 5632)
        #expect(damage.detail.hasPrefix("bad tar header checksum: stored "))
    }

    @Test("asking for the next member skips the rest of the current one")
    func skipsUndrainedMembers() throws {
        let reader = TarReader(source: MappedStream(mapping: try mapFixture("bundle.tar"), chunkSize: 700))
        var names: [String] = []
        while let member = try reader.nextMember() {
            names.append(member.name)
            if member.name == "logs/inference/gateway.log" {
                _ = try member.stream.next()  // read one piece only
            }
            if member.name == "logs/storage.log" {
                #expect(try drain(member.stream).bytes == (try fixture("part2.log")))
            }
        }
        #expect(names == (try Self.bundleMembers()).map(\.name))
        #expect(reader.damage.isEmpty)
    }

    @Test("an old member's stream yields nothing once the reader has moved on")
    func staleMemberStream() throws {
        let reader = TarReader(source: MappedStream(mapping: try mapFixture("bundle.tar")))
        let first = try #require(try reader.nextMember())
        _ = try #require(try reader.nextMember())
        #expect(try first.stream.next() == nil)
    }

    @Test("members crossing chunk boundaries arrive in pieces with the same bytes",
          arguments: [[1], [100, 3], [511], [512], [513], [1000, 24]])
    func chunkBoundaries(_ sizes: [Int]) throws {
        let tar = try archiveFixtureBytes("bundle.tar")
        let reader = TarReader(source: ChunkedStream(tar, chunkSizes: sizes))
        var members: [(String, Bytes)] = []
        while let member = try reader.nextMember() {
            members.append((member.name, try drain(member.stream).bytes))
        }
        let expected = try Self.bundleMembers()
        #expect(members.map(\.0) == expected.map(\.name))
        // The gzip member is raw here (TarReader does not decompress).
        #expect(members[0].1 == expected[0].bytes)
        #expect(members[2].1 == expected[2].bytes)
        #expect(reader.damage.isEmpty)
    }

    @Test("GNU base-256 sizes are read")
    func base256Size() throws {
        var builder = TarBuilder()
        let data = [UInt8](repeating: 0x41, count: 1000)
        builder.add("big.bin", data, base256: true)
        builder.end()
        let reader = TarReader(source: ChunkedStream(builder.bytes, chunkSizes: [300]))
        let member = try #require(try reader.nextMember())
        #expect(member.size == 1000)
        #expect(try drain(member.stream).bytes == Bytes(data))
        #expect(try reader.nextMember() == nil)
        #expect(reader.damage.isEmpty)
    }

    @Test("an archive without end-of-archive blocks is reported")
    func missingEndBlocks() throws {
        var builder = TarBuilder()
        builder.add("a.log", Array("a\n".utf8))
        let reader = TarReader(source: ChunkedStream(builder.bytes, chunkSizes: [4096]))
        _ = try #require(try reader.nextMember())
        #expect(try reader.nextMember() == nil)
        #expect(reader.damage.map(\.detail) == ["tar archive ends at byte 1024 without its end-of-archive blocks"])
    }

    @Test("a tar member that is a tar is data; an xz member is damage, not an abort")
    func nestedMembers() throws {
        var builder = TarBuilder()
        let inner = try archiveFixtureBytes("bundle.tar")
        builder.add("inner.tar", inner)
        builder.add("logs.xz", try archiveFixtureBytes("plain.log.xz"))
        builder.add("last.log", Array("last\n".utf8))
        builder.end()
        let inputs = try ArchiveInputs(source: MappedStream(mapping: mapBytes(zstdFrame(builder.bytes, level: 1))), displayName: "outer.tar.zst")
        let tar = try #require(try inputs.nextInput())
        #expect(tar.name == "outer.tar.zst!inner.tar")
        #expect(tar.compressions == [.zstd])
        #expect(try drain(tar.stream).bytes == Bytes(inner))
        let xz = try #require(try inputs.nextInput())
        let xzDrained = try drain(xz.stream)
        #expect(xzDrained.bytes.isEmpty)
        #expect(xzDrained.damage.map(\.detail)
            == ["tar member 'logs.xz' is xz data (magic FD 37 7A 58 5A 00), which is not supported; skipped"])
        let last = try #require(try inputs.nextInput())
        #expect(try drain(last.stream).bytes == Bytes("last\n"))
        #expect(try inputs.nextInput() == nil)
    }

    @Test("tar round trip: random members and entries, randomly chunked", arguments: 0..<10)
    func roundTrip(_ seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed &+ 500)
        var builder = TarBuilder()
        var expected: [(String, Bytes)] = []
        let interesting = [0, 1, 511, 512, 513, 1024]
        for index in 0..<Int.random(in: 0...12, using: &generator) {
            switch Int.random(in: 0..<5, using: &generator) {
            case 0:
                builder.add("dir\(index)/", [], type: UInt8(ascii: "5"))
            case 1:
                builder.add("link\(index)", [], type: UInt8(ascii: "2"))
            default:
                let size = Bool.random(using: &generator)
                    ? interesting[Int.random(in: 0..<interesting.count, using: &generator)]
                    : Int.random(in: 0...40_000, using: &generator)
                let data = randomPayload(size, using: &generator)
                let name = "member-\(index).log"
                builder.add(name, data, base256: Bool.random(using: &generator))
                expected.append((name, Bytes(data)))
            }
        }
        builder.end()
        let sizes = (0..<3).map { _ in Int.random(in: 1...5_000, using: &generator) }
        let reader = TarReader(source: ChunkedStream(builder.bytes, chunkSizes: sizes))
        var found: [(String, Bytes)] = []
        while let member = try reader.nextMember() {
            let drained = try drain(member.stream)
            #expect(drained.damage.isEmpty)
            found.append((member.name, drained.bytes))
        }
        #expect(found.map(\.0) == expected.map(\.0))
        #expect(found.map(\.1) == expected.map(\.1))
        #expect(reader.damage.isEmpty)
    }
}

/// Writes minimal ustar archives for tests.
struct TarBuilder {
    var bytes: [UInt8] = []

    mutating func add(_ name: String, _ data: [UInt8], type: UInt8 = UInt8(ascii: "0"), base256: Bool = false) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int) {
            for (index, byte) in text.utf8.enumerated() { header[offset + index] = byte }
        }
        precondition(name.utf8.count <= 100)
        put(name, at: 0)
        put("0000644", at: 100)
        put("0000000", at: 108)
        put("0000000", at: 116)
        if base256 {
            header[124] = 0x80
            var size = data.count
            for index in stride(from: 135, to: 124, by: -1) {
                header[index] = UInt8(size & 0xFF)
                size >>= 8
            }
        } else {
            put(Self.octal(data.count, width: 11), at: 124)
        }
        put("14000000000", at: 136)
        header[156] = type
        put("ustar", at: 257)
        put("00", at: 263)
        for index in 148..<156 { header[index] = 0x20 }
        let sum = header.reduce(0) { $0 + Int($1) }
        put(Self.octal(sum, width: 6), at: 148)
        header[154] = 0
        bytes += header
        bytes += data
        bytes += [UInt8](repeating: 0, count: (512 - data.count % 512) % 512)
    }

    static func octal(_ value: Int, width: Int) -> String {
        let digits = String(value, radix: 8)
        return String(repeating: "0", count: max(0, width - digits.count)) + digits
    }

    mutating func end() {
        bytes += [UInt8](repeating: 0, count: 1024)
    }
}

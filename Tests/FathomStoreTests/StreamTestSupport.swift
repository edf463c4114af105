import Foundation
import Testing
import FathomStore

/// The URL of a fixture under `Fixtures/archives/`.
func archiveFixture(_ name: String) throws -> URL {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return root.appendingPathComponent("archives").appendingPathComponent(name)
}

/// The bytes of a fixture.
func archiveFixtureBytes(_ name: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: archiveFixture(name)))
}

/// A mapping of a fixture.
func mapFixture(_ name: String) throws -> FileMapping {
    try FileMapping(path: archiveFixture(name).path)
}

/// Maps `bytes` through a temporary file (removed at once; the mapping stays valid).
func mapBytes(_ bytes: [UInt8]) throws -> FileMapping {
    let url = FileManager.default.temporaryDirectory
        .appendingPathComponent("fathom-store-test-\(UUID().uuidString)")
    try Data(bytes).write(to: url)
    defer { try? FileManager.default.removeItem(at: url) }
    return try FileMapping(path: url.path)
}

/// Bytes that describe themselves briefly (count and FNV-1a hash), so that a failed expectation
/// does not print kilobytes of numbers.
struct Bytes: Equatable, Sendable, CustomStringConvertible, CustomTestStringConvertible {
    var raw: [UInt8]

    init(_ raw: [UInt8]) { self.raw = raw }
    init(_ text: String) { raw = Array(text.utf8) }

    var count: Int { raw.count }
    var isEmpty: Bool { raw.isEmpty }
    func hasPrefix(_ other: Bytes) -> Bool { raw.starts(with: other.raw) }
    func hasSuffix(_ other: Bytes) -> Bool { raw.count >= other.count && Array(raw.suffix(other.count)) == other.raw }
    func prefix(_ count: Int) -> Bytes { Bytes(Array(raw.prefix(count))) }
    static func + (lhs: Bytes, rhs: Bytes) -> Bytes { Bytes(lhs.raw + rhs.raw) }

    var description: String {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in raw { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        let hex = String(hash, radix: 16)
        return "\(raw.count) bytes (fnv \(hex))"
    }
    var testDescription: String { description }
}

/// A fixture's bytes, for expectations.
func fixture(_ name: String) throws -> Bytes {
    Bytes(try archiveFixtureBytes(name))
}

/// Everything a stream yields: its bytes concatenated, and its damage in order.
struct Drained {
    var bytes = Bytes([])
    var damage: [StreamDamage] = []
    var chunks = 0
}

func drain(_ stream: any ByteStream) throws -> Drained {
    var result = Drained()
    while let event = try stream.next() {
        switch event {
        case .bytes(let view):
            result.bytes.raw += view.array
            result.chunks += 1
        case .damage(let damage):
            result.damage.append(damage)
        }
    }
    return result
}

/// An in-memory stream that yields its bytes in chunks of the given sizes (cycled), to exercise
/// chunk boundaries. Each chunk is copied into a fresh buffer, so a consumer that keeps a view
/// past the next `next()` reads freed memory (caught by the address sanitizer) or wrong bytes.
final class ChunkedStream: ByteStream {
    private let bytes: [UInt8]
    private let sizes: [Int]
    private var offset = 0
    private var turn = 0
    private var buffer: UnsafeMutableRawBufferPointer?

    init(_ bytes: [UInt8], chunkSizes: [Int]) {
        precondition(!chunkSizes.isEmpty && chunkSizes.allSatisfy { $0 > 0 })
        self.bytes = bytes
        sizes = chunkSizes
    }

    deinit { buffer?.deallocate() }

    var consumedInputBytes: Int { offset }

    func next() throws(StoreError) -> StreamEvent? {
        buffer?.deallocate()
        buffer = nil
        guard offset < bytes.count else { return nil }
        let count = min(sizes[turn % sizes.count], bytes.count - offset)
        turn += 1
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 1)
        let start = offset
        bytes.withUnsafeBytes { source in
            chunk.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<(start + count)]))
        }
        buffer = chunk
        offset += count
        return .bytes(ByteView(unsafeStart: UnsafeRawPointer(chunk.baseAddress), count: count))
    }
}

/// A small deterministic generator (SplitMix64) for seeded property tests.
// SeededGenerator (SplitMix64) is shared with the codec tests: see TestSupport.swift.

/// Random bytes that compress somewhat: runs of text-like bytes mixed with noise.
func randomPayload(_ count: Int, using generator: inout SeededGenerator) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(count)
    while bytes.count < count {
        let run = Int.random(in: 1...200, using: &generator)
        if Bool.random(using: &generator) {
            let alphabet = Array("abcdefgh 0123\n".utf8)
            for _ in 0..<run { bytes.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]) }
        } else {
            for _ in 0..<run { bytes.append(UInt8.random(in: 0...255, using: &generator)) }
        }
    }
    return Array(bytes.prefix(count))
}

import Foundation
import Testing
@testable import FathomStore

@Suite("Damaged and hostile inputs")
struct RobustnessTests {
    static let fixtures = [
        "bundle.tar", "bundle.tar.zst", "bundle.tar.gz", "pax-longname.tar", "gnu-longname.tar",
        "multi.log.zst", "multi.log.gz", "skippable.log.zst",
    ]

    @Test("mutated and truncated archives never trap or loop: every input drains to its end",
          arguments: 0..<48)
    func mutatedArchives(_ seed: UInt64) throws {
        var generator = SeededGenerator(seed: seed &+ 9000)
        let name = Self.fixtures[Int(seed) % Self.fixtures.count]
        var bytes = try archiveFixtureBytes(name)
        if Bool.random(using: &generator) {
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
        } else {
            bytes = Array(bytes.prefix(Int.random(in: 0..<bytes.count, using: &generator)))
        }
        let mapping = try mapBytes(bytes)
        let inputs: ArchiveInputs
        do {
            inputs = try ArchiveInputs(source: MappedStream(mapping: mapping), displayName: name)
        } catch {
            return  // a mutated magic may name an unsupported format
        }
        var events = 0
        var inputCount = 0
        while let input = try inputs.nextInput() {
            inputCount += 1
            while try input.stream.next() != nil {
                events += 1
                try #require(events < 100_000, "stream does not end")
            }
            try #require(inputCount < 1_000, "archive does not end")
        }
        #expect(inputs.consumedInputBytes <= bytes.count)
    }

    @Test("a large stream is delivered in bounded chunks")
    func boundedChunks() throws {
        let original = [UInt8](repeating: 0x61, count: 3 << 20)  // an exact multiple of the output buffer
        let drained = try drainCounting(ZstdStream(
            source: ChunkedStream(zstdFrame(original, level: 1), chunkSizes: [1 << 16]), name: "big"))
        #expect(drained.total == original.count)
        #expect(drained.largest <= 1 << 20)
        #expect(drained.allMatch)
    }

    @Test("the lookback replays input that a decompressor already consumed")
    func lookbackReplay() throws {
        // Magic split across the first and second chunk, found after both were consumed.
        let bytes: [UInt8] = [9, 9, 9, 0x28, 0xB5] + [0x2F, 0xFD, 1, 2, 3] + [4, 5]
        let input = CompressedInput(source: ChunkedStream(bytes, chunkSizes: [5, 5, 2]))
        var fed: [UInt8] = []
        while true {
            if input.isExhausted {
                guard case .bytes = try input.fetch() else { break }
            }
            let piece = input.available
            fed += piece.array
            input.advance(by: piece.count)
            if fed.count >= 10 { break }
        }
        #expect(fed == Array(bytes.prefix(10)))
        #expect(try input.seek(to: ZstdStream.frameMagic, from: 1))
        #expect(input.position == 3)
        var replayed: [UInt8] = []
        while true {
            if input.isExhausted {
                guard case .bytes = try input.fetch() else { break }
            }
            let piece = input.available
            replayed += piece.array
            input.advance(by: piece.count)
        }
        #expect(replayed == Array(bytes[3...]))
        #expect(!(try input.seek(to: ZstdStream.frameMagic, from: 4)))
    }

    private func drainCounting(_ stream: any ByteStream) throws -> (total: Int, largest: Int, allMatch: Bool) {
        var total = 0
        var largest = 0
        var allMatch = true
        while let event = try stream.next() {
            guard case .bytes(let view) = event else {
                Issue.record("unexpected \(event)")
                allMatch = false
                continue
            }
            total += view.count
            largest = max(largest, view.count)
            if view[0] != 0x61 || view[view.count - 1] != 0x61 { allMatch = false }
        }
        return (total, largest, allMatch)
    }
}

import CFuzzerDriver
import CZlib
import FathomStore
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Helpers shared by the fuzz targets. Nothing here writes anywhere.

/// The chunk sizes a fuzz input can pick (0: the whole input as one chunk).
public let chunkSizeTable: [Int] = [0, 1, 2, 3, 5, 8, 13, 64, 100, 511, 512, 513, 1000, 4096, 4097, 65536]

/// How an input is cut into chunks, from one byte: the low nibble picks size A, the high nibble
/// size B; chunks alternate A, B, A, … . A = 0 means one chunk; B = 0 means all chunks are A.
public struct ChunkPlan: Sendable, CustomStringConvertible {
    public var sizes: [Int]

    public init(byte: UInt8) {
        let a = chunkSizeTable[Int(byte & 0x0F)]
        let b = chunkSizeTable[Int(byte >> 4)]
        if a == 0 {
            sizes = [Int.max]
        } else if b == 0 {
            sizes = [a]
        } else {
            sizes = [a, b]
        }
    }

    public init(sizes: [Int]) { self.sizes = sizes }

    public static let whole = ChunkPlan(sizes: [Int.max])

    public var description: String { sizes == [Int.max] ? "whole" : sizes.map(String.init).joined(separator: ",") }
}

/// An in-memory ``ByteStream`` that yields `bytes` in chunks of the plan's sizes.
///
/// Each chunk is copied into its own heap buffer of exactly its size, and that buffer is freed at
/// the next call to `next()`: a consumer that reads past a chunk, or keeps a view after asking for
/// the next event, touches freed or unowned memory, which the address sanitizer reports.
///
/// With `damageAfter` set, a ``StreamEvent/damage(_:)`` is yielded after that many chunks, as a
/// damaged lower layer (a corrupt compressed frame under a tar archive) would.
public final class ChunkedByteStream: ByteStream {
    private let bytes: [UInt8]
    private let sizes: [Int]
    private var offset = 0
    private var turn = 0
    private var buffer: UnsafeMutableRawBufferPointer?
    private var damageAfter: Int?

    public init(_ bytes: [UInt8], plan: ChunkPlan, damageAfter: Int? = nil) {
        self.bytes = bytes
        sizes = plan.sizes.isEmpty ? [Int.max] : plan.sizes.map { Swift.max(1, $0) }
        self.damageAfter = damageAfter
    }

    deinit { buffer?.deallocate() }

    public var consumedInputBytes: Int { offset }

    public func next() throws(StoreError) -> StreamEvent? {
        buffer?.deallocate()
        buffer = nil
        if let after = damageAfter, turn >= after {
            damageAfter = nil
            return .damage(StreamDamage(offset: offset, detail: "fuzz: injected damage"))
        }
        guard offset < bytes.count else { return nil }
        let count = Swift.min(sizes[turn % sizes.count], bytes.count - offset)
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

/// A running CRC-32 (zlib's, not instrumented, so that hashing megabytes of output stays cheap)
/// and byte count over everything fed to it: to compare two outputs without keeping them.
public struct Digest: Equatable, Sendable, CustomStringConvertible {
    public private(set) var value: UInt = 0
    public private(set) var count = 0

    public init() {}

    public mutating func add(_ view: ByteView) {
        view.withUnsafeBytes { add(raw: $0) }
    }

    public mutating func add(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { add(raw: $0) }
    }

    public mutating func add(_ number: Int64) {
        withUnsafeBytes(of: number.littleEndian) { add(raw: $0) }
    }

    public mutating func add(_ text: String) { add(Array(text.utf8)) }

    private mutating func add(raw: UnsafeRawBufferPointer) {
        var rest = raw
        while !rest.isEmpty {
            let piece = Swift.min(rest.count, Int(UInt32.max))
            value = crc32(value, rest.baseAddress?.assumingMemoryBound(to: Bytef.self), uInt(piece))
            rest = UnsafeRawBufferPointer(rebasing: rest[piece...])
        }
        count += raw.count
    }

    public var description: String { "\(count) bytes, crc32 \(String(value, radix: 16))" }
}

/// The fuzzer's input as an array, plus the header bytes some targets read first.
public struct FuzzInput {
    public let header: [UInt8]
    public let body: [UInt8]

    /// Splits `count` bytes at `start` into `headerCount` header bytes (zero when missing) and the rest.
    public init(_ start: UnsafePointer<UInt8>?, _ count: Int, headerCount: Int) {
        let all: [UInt8] = start.map { Array(UnsafeBufferPointer(start: $0, count: count)) } ?? []
        var header = Array(all.prefix(headerCount))
        while header.count < headerCount { header.append(0) }
        self.header = header
        body = Array(all.dropFirst(headerCount))
    }
}

/// A property the target checks failed: print it and abort, so libFuzzer saves the input.
public func fuzzFailure(_ message: String, file: StaticString = #fileID, line: UInt = #line) -> Never {
    var text = "FUZZ PROPERTY VIOLATED (\(file):\(line)): \(message)\n"
    text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
    abort()
}

/// Copies `bytes` into a heap buffer of exactly their size (so reads past the end are caught by
/// the address sanitizer) and lends it as a view.
public func withExactView<R>(_ bytes: [UInt8], _ body: (ByteView) -> R) -> R {
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: Swift.max(1, bytes.count), alignment: 1)
    defer { buffer.deallocate() }
    bytes.withUnsafeBytes { source in
        if !source.isEmpty { buffer.copyMemory(from: source) }
    }
    return body(ByteView(unsafeStart: UnsafeRawPointer(buffer.baseAddress), count: bytes.count))
}

/// What draining a stream gave.
public struct Drained {
    public var digest = Digest()
    public var damage: [StreamDamage] = []
    public var events = 0
    /// The output exceeded the cap; the rest was not read.
    public var capped = false
    public var error: StoreError?
}

/// Reads `stream` to its end (or until `cap` output bytes), checking that its input counter never
/// exceeds `inputCount` and that every view is readable.
public func drain(_ stream: any ByteStream, inputCount: Int, cap: Int = 8 << 20) -> Drained {
    var result = Drained()
    do {
        while let event = try stream.next() {
            result.events += 1
            switch event {
            case .bytes(let view):
                result.digest.add(view)
            case .damage(let damage):
                result.damage.append(damage)
            }
            let consumed = stream.consumedInputBytes
            if consumed < 0 || consumed > inputCount {
                fuzzFailure("consumedInputBytes \(consumed) outside 0...\(inputCount)")
            }
            if result.digest.count > cap {
                result.capped = true
                break
            }
        }
    } catch {
        result.error = error
    }
    return result
}

/// Runs libFuzzer's driver with `target` as `LLVMFuzzerTestOneInput` and the process's arguments
/// (libFuzzer flags, corpus folders or input files); exits with its status.
public func runFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, target))
}

import Foundation
import Testing
@testable import FathomCore
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Hand-assembled pickle opcode streams. Nothing here is ever unpickled.
enum PickleBytes {
    static func shortUnicode(_ text: String) -> [UInt8] { [0x8C, UInt8(text.utf8.count)] + Array(text.utf8) }

    /// Protocol 2: `collections.OrderedDict()` then a tensor rebuild call — what a state dict looks like.
    static let benign: [UInt8] = [0x80, 0x02]
        + [0x63] + Array("collections\nOrderedDict\n".utf8) + [0x29, 0x52, 0x71, 0x00]       // GLOBAL, (), REDUCE, BINPUT 0
        + [0x58, 0x06, 0, 0, 0] + Array("weight".utf8) + [0x71, 0x01]                         // BINUNICODE 'weight'
        + [0x63] + Array("torch._utils\n_rebuild_tensor_v2\n".utf8) + [0x71, 0x02]
        + [0x28, 0x4B, 0x00, 0x4B, 0x01, 0x74]                                               // MARK 0 1 TUPLE
        + [0x52, 0x71, 0x03]                                                                 // REDUCE
        + [0x73]                                                                             // SETITEM
        + [0x2E]                                                                             // STOP

    /// Protocol 4: STACK_GLOBAL('posix', 'system') called with ('id',). STACK_GLOBAL at `stackGlobalOffset`.
    static let malicious: [UInt8] = {
        var body: [UInt8] = []
        body += shortUnicode("posix") + [0x94]
        body += shortUnicode("system") + [0x94]
        body += [0x93, 0x94]                                                                  // STACK_GLOBAL, MEMOIZE
        body += shortUnicode("id") + [0x94, 0x85, 0x94, 0x52, 0x94, 0x2E]                     // TUPLE1, REDUCE, STOP
        let length = UInt64(body.count)
        return [0x80, 0x04, 0x95] + (0..<8).map { UInt8(truncatingIfNeeded: length >> (8 * $0)) } + body
    }()
    /// PROTO(2) + FRAME(9) + 'posix' (7+1) + 'system' (8+1).
    static let stackGlobalOffset = 2 + 9 + 8 + 9

    /// Protocol 0: `cos\nsystem\n(S'echo hi'\ntR.` — GLOBAL at offset 0, REDUCE later.
    static let protocol0: [UInt8] = Array("cos\nsystem\n(S'echo hi'\ntR.".utf8)

    /// Strings routed through the memo before STACK_GLOBAL (BINPUT/BINGET), builtins.eval.
    static let memoObfuscated: [UInt8] = [0x80, 0x04]
        + shortUnicode("builtins") + [0x71, 0x07, 0x30]                                       // BINPUT 7, POP
        + shortUnicode("eval") + [0x71, 0x08, 0x30]
        + [0x68, 0x07, 0x68, 0x08, 0x93]                                                      // BINGET 7, BINGET 8, STACK_GLOBAL
        + shortUnicode("1+1") + [0x85, 0x52, 0x2E]
}

/// A minimal zip writer for tests: stored members, or deflate members written as stored blocks.
enum ZipBytes {
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = (crc >> 1) ^ (0xEDB8_8320 & (0 &- (crc & 1))) }
        }
        return ~crc
    }

    static func le16(_ v: Int) -> [UInt8] { [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] }
    static func le32(_ v: UInt32) -> [UInt8] { (0..<4).map { UInt8((v >> (8 * UInt32($0))) & 0xFF) } }

    /// Raw deflate of `data` as stored blocks (BTYPE 00), which zlib inflates like any deflate stream.
    static func storedDeflate(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var offset = 0
        repeat {
            let length = min(65_535, data.count - offset)
            let isFinal = offset + length == data.count
            out.append(isFinal ? 1 : 0)
            out += le16(length) + le16(~length & 0xFFFF)
            out += data[offset..<(offset + length)]
            offset += length
        } while offset < data.count
        return out
    }

    static func archive(_ members: [(name: String, data: [UInt8], deflate: Bool)]) -> [UInt8] {
        var out: [UInt8] = []
        var central: [UInt8] = []
        for member in members {
            let stored = member.deflate ? storedDeflate(member.data) : member.data
            let method = member.deflate ? 8 : 0
            let crc = crc32(member.data)
            let name = Array(member.name.utf8)
            let offset = UInt32(out.count)
            out += le32(0x0403_4B50) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
                + le32(UInt32(stored.count)) + le32(UInt32(member.data.count)) + le16(name.count) + le16(0) + name + stored
            central += le32(0x0201_4B50) + le16(20) + le16(20) + le16(0) + le16(method) + le16(0) + le16(0) + le32(crc)
                + le32(UInt32(stored.count)) + le32(UInt32(member.data.count)) + le16(name.count) + le16(0) + le16(0)
                + le16(0) + le16(0) + le32(0) + le32(offset) + name
        }
        let centralOffset = UInt32(out.count)
        out += central
        out += le32(0x0605_4B50) + le16(0) + le16(0) + le16(members.count) + le16(members.count)
            + le32(UInt32(central.count)) + le32(centralOffset) + le16(0)
        return out
    }
}

func fixturesDirectory() throws -> String {
    let base = try #require(Bundle.module.resourceURL)
    return base.appendingPathComponent("Fixtures/integrity").path
}

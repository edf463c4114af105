import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// A list of hits as `JSONEncoder` writes it pretty-printed with sorted keys, made one hit at a
/// time: the same bytes, without the encoder's tree of the whole list in memory (thousands of
/// hits on a week of logs; two such trees at once were the analysis's peak).
///
/// The bytes are written by ``HitJSONWriter``, which follows `JSONEncoder`'s output rules (tested
/// against it on hostile text, every control character and random doubles) at a fraction of its
/// cost: the encoder's boxes, dictionaries and sorting were a tenth of an analysis after ingest.
package enum HitsJSON {
    /// The array, its elements indented as at nesting `depth` (0: the top-level value), with no
    /// indentation before the opening bracket and none after the closing one.
    package static func encode(_ hits: [Hit], depth: Int) throws -> Data {
        var output = Data()
        try encode(hits, depth: depth) { output.append($0) }
        return output
    }

    /// ``encode(_:depth:)`` handed to `sink` piece by piece (the opening bracket, then about
    /// 64 KB of hits at a time, then the closing bracket), so a long list need not be held whole.
    package static func encode(_ hits: [Hit], depth: Int, into sink: (Data) throws -> Void) throws {
        var writer = HitJSONWriter(pretty: true)
        writer.bytes.append(contentsOf: "[\n".utf8)
        guard !hits.isEmpty else {
            writer.bytes.append(0x0A)
            writer.indent(depth)
            writer.bytes.append(0x5D)
            try sink(Data(writer.bytes))
            return
        }
        for (index, hit) in hits.enumerated() {
            writer.indent(depth + 1)
            writer.write(hit, depth: depth + 1)
            writer.bytes.append(contentsOf: index + 1 < hits.count ? [0x2C, 0x0A] : [0x0A])
            if writer.bytes.count >= 1 << 16 {
                try sink(Data(writer.bytes))
                writer.bytes.removeAll(keepingCapacity: true)
            }
        }
        writer.indent(depth)
        writer.bytes.append(0x5D)
        try sink(Data(writer.bytes))
    }

    /// ``encode(_:depth:into:)`` with each hit first passed through `transform` (secrets masked),
    /// and the hits encoded on two threads: a piece of ``pieceHits`` hits is made while the one
    /// before it is handed to `sink`, so no more than two pieces are held. The same bytes as
    /// ``encode(_:depth:into:)`` of the transformed hits (``HitsJSONTests``), cut into other pieces.
    /// Writing `findings.json` was the analysis's last step, alone on one core for a tenth of a
    /// second on a week of logs.
    package static func encodeSideBySide(_ hits: [Hit], depth: Int, transform: @escaping @Sendable (Hit) -> Hit,
                                         into sink: (Data) throws -> Void) throws {
        try encodeSideBySide(HitList(hits), depth: depth, transform: transform, into: sink)
    }

    /// ``encodeSideBySide(_:depth:transform:into:)`` of a ``HitList``, each piece's hits read from
    /// it in order (a spooled list's file in blocks), so only two pieces of hits are ever decoded.
    package static func encodeSideBySide(_ hits: HitList, depth: Int, transform: @escaping @Sendable (Hit) -> Hit,
                                         into sink: (Data) throws -> Void) throws {
        guard !hits.isEmpty else {
            try encode([], depth: depth, into: sink)
            return
        }
        let pieces = (hits.count + pieceHits - 1) / pieceHits
        /// Piece `index`: its hits, each with its separator, the opening bracket before the first
        /// and the closing one after the last.
        @Sendable func piece(_ index: Int) -> [UInt8] {
            var writer = HitJSONWriter(pretty: true)
            if index == 0 { writer.bytes.append(contentsOf: "[\n".utf8) }
            let end = min(hits.count, (index + 1) * pieceHits)
            for (position, hit) in zip((index * pieceHits)..<end, hits.hits(in: (index * pieceHits)..<end)) {
                writer.indent(depth + 1)
                writer.write(transform(hit), depth: depth + 1)
                writer.bytes.append(contentsOf: position + 1 < hits.count ? [0x2C, 0x0A] : [0x0A])
            }
            if index == pieces - 1 {
                writer.indent(depth)
                writer.bytes.append(0x5D)
            }
            return writer.bytes
        }
        var next = 0
        while next < pieces {
            let round = min(2, pieces - next)
            let slots = WorkSlots<[UInt8], Never>(count: round)
            let first = next
            TaskPool.shared.apply(count: round, width: round) { offset in
                slots.store(offset, .success(piece(first + offset)))
            }
            for case let .success(bytes)? in slots.takeAll() { try sink(Data(bytes)) }
            next += round
        }
    }

    /// Hits per piece of ``encodeSideBySide(_:depth:transform:into:)``: about 300 KB of JSON.
    package static let pieceHits = 256

    /// The encoding at depth 0 made from one at depth 1: two spaces fewer after every line break
    /// (line breaks only separate lines: inside strings they are escaped). Blank lines, which have
    /// no indentation, stay as they are.
    ///
    /// - Complexity: O(n).
    package static func dedented(_ depthOne: Data) -> Data {
        var dedenter = Dedenter()
        return dedenter.dedent(depthOne)
    }

    /// ``dedented(_:)`` for an encoding that comes in pieces (cut anywhere).
    package struct Dedenter {
        /// Spaces still to drop at the start of the current line (2 right after a line break).
        private var toDrop = 0
        /// Spaces dropped so far on this line: written back if the line has fewer than two.
        private var dropped = 0

        package init() {}

        /// - Complexity: O(n); the lines are copied whole, found with `memchr`.
        package mutating func dedent(_ piece: Data) -> Data {
            var output: [UInt8] = []
            output.reserveCapacity(piece.count)
            piece.withByteView { raw in
                let n = raw.count
                var i = 0
                while i < n {
                    if toDrop > 0 {
                        if raw[i] == 0x20 {
                            toDrop -= 1
                            dropped += 1
                            i += 1
                            continue
                        }
                        output.append(contentsOf: repeatElement(0x20, count: dropped))
                        toDrop = 0
                    }
                    // The rest of the line, its line break included.
                    if let hit = raw.firstIndex(of: 0x0A, from: i) {
                        output.append(raw[i..<(hit + 1)])
                        i = hit + 1
                        toDrop = 2
                        dropped = 0
                    } else {
                        output.append(raw[i..<n])
                        i = n
                    }
                }
            }
            return Data(output)
        }
    }
}

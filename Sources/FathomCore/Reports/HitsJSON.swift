import Foundation

/// A list of hits as `JSONEncoder` writes it pretty-printed with sorted keys, made one hit at a
/// time: the same bytes, without the encoder's tree of the whole list in memory (thousands of
/// hits on a week of logs; two such trees at once were the analysis's peak).
enum HitsJSON {
    /// The array, its elements indented as at nesting `depth` (0: the top-level value), with no
    /// indentation before the opening bracket and none after the closing one.
    static func encode(_ hits: [Hit], depth: Int) throws -> Data {
        var output = Data()
        try encode(hits, depth: depth) { output.append($0) }
        return output
    }

    /// ``encode(_:depth:)`` handed to `sink` piece by piece (the brackets, then one hit at a time),
    /// so a long list need not be held whole.
    static func encode(_ hits: [Hit], depth: Int, into sink: (Data) throws -> Void) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let outer = Data(String(repeating: "  ", count: depth).utf8)
        let inner = Data(String(repeating: "  ", count: depth + 1).utf8)
        try sink(Data("[\n".utf8))
        guard !hits.isEmpty else {
            try sink(Data("\n".utf8) + outer + Data("]".utf8))
            return
        }
        var output = Data()
        for (index, hit) in hits.enumerated() {
            let element = try encoder.encode(hit)
            // Every line of the element moves one level in.
            output.removeAll(keepingCapacity: true)
            var lineStart = element.startIndex
            while lineStart < element.endIndex {
                let lineEnd = element[lineStart...].firstIndex(of: 0x0A) ?? element.endIndex
                // Blank lines (inside empty lists) stay blank, as the encoder writes them.
                if lineEnd > lineStart { output.append(inner) }
                output.append(element[lineStart..<lineEnd])
                if lineEnd < element.endIndex { output.append(0x0A) }
                lineStart = lineEnd + 1
            }
            output.append(Data((index + 1 < hits.count ? ",\n" : "\n").utf8))
            try sink(output)
        }
        try sink(outer + Data("]".utf8))
    }

    /// The encoding at depth 0 made from one at depth 1: two spaces fewer after every line break
    /// (line breaks only separate lines: inside strings they are escaped). Blank lines, which have
    /// no indentation, stay as they are.
    ///
    /// - Complexity: O(n).
    static func dedented(_ depthOne: Data) -> Data {
        var dedenter = Dedenter()
        return dedenter.dedent(depthOne)
    }

    /// ``dedented(_:)`` for an encoding that comes in pieces (cut anywhere).
    struct Dedenter {
        /// Spaces still to drop at the start of the current line (2 right after a line break).
        private var toDrop = 0
        /// Spaces dropped so far on this line: written back if the line has fewer than two.
        private var dropped = 0

        mutating func dedent(_ piece: Data) -> Data {
            var output = Data()
            output.reserveCapacity(piece.count)
            for byte in piece {
                if toDrop > 0 {
                    if byte == 0x20 {
                        toDrop -= 1
                        dropped += 1
                        continue
                    }
                    output.append(contentsOf: repeatElement(0x20, count: dropped))
                    toDrop = 0
                }
                output.append(byte)
                if byte == 0x0A {
                    toDrop = 2
                    dropped = 0
                }
            }
            return output
        }
    }
}

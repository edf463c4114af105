import Foundation

/// A list of hits as `JSONEncoder` writes it pretty-printed with sorted keys, made one hit at a
/// time: the same bytes, without the encoder's tree of the whole list in memory (thousands of
/// hits on a week of logs; two such trees at once were the analysis's peak).
enum HitsJSON {
    /// The array, its elements indented as at nesting `depth` (0: the top-level value), with no
    /// indentation before the opening bracket and none after the closing one.
    static func encode(_ hits: [Hit], depth: Int) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let outer = Data(String(repeating: "  ", count: depth).utf8)
        let inner = Data(String(repeating: "  ", count: depth + 1).utf8)
        var output = Data("[\n".utf8)
        guard !hits.isEmpty else {
            output.append(Data("\n".utf8))
            output.append(outer)
            output.append(Data("]".utf8))
            return output
        }
        for (index, hit) in hits.enumerated() {
            let element = try encoder.encode(hit)
            // Every line of the element moves one level in.
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
        }
        output.append(outer)
        output.append(Data("]".utf8))
        return output
    }

    /// The encoding at depth 0 made from one at depth 1: two spaces fewer after every line break
    /// (line breaks only separate lines: inside strings they are escaped). Blank lines, which have
    /// no indentation, stay as they are.
    ///
    /// - Complexity: O(n).
    static func dedented(_ depthOne: Data) -> Data {
        var output = Data()
        output.reserveCapacity(depthOne.count)
        depthOne.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
            var start = 0
            while start < bytes.count {
                let end = bytes[start...].firstIndex(of: 0x0A).map { $0 + 1 } ?? bytes.count
                output.append(contentsOf: UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
                start = end
                if start + 1 < bytes.count, bytes[start] == 0x20, bytes[start + 1] == 0x20 { start += 2 }
            }
        }
        return output
    }
}

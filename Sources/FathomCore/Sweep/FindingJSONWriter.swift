import Foundation
import FathomDetect

/// Writes a ``SweepDigest/Finding`` as `JSONEncoder` does pretty-printed with sorted keys and
/// unescaped slashes: the same bytes, with the hit written by ``HitJSONWriter``.
///
/// The encoder was most of the cost of writing a digest (a first sweep's 101,156 findings took
/// 15 s, a nightly sweep's 9,000 0.6 s); its output rules are the hit writer's. A finding that is
/// an update (a few a night) carries what was reported before and is encoded by `JSONEncoder`,
/// re-indented to its depth. `SweepDigestOutputTests` holds both to `json()`'s bytes.
package struct FindingJSONWriter {
    /// What was written so far; the caller may take and clear it.
    package var bytes: [UInt8] {
        get { hits.bytes }
        _modify { yield &hits.bytes }
    }
    private var hits = HitJSONWriter(pretty: true)
    private let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    package init() {}

    /// Appends the finding at `position` of `findings` as a value at nesting `depth`, its opening
    /// brace indented to that depth.
    package mutating func write(_ findings: SweepFindingList, at position: Int, depth: Int) throws {
        let finding = findings[position]
        hits.indent(depth)
        if finding.previous != nil {
            let element = String(decoding: try encoder.encode(finding), as: UTF8.self)
            let indentation = String(repeating: "  ", count: depth)
            for (number, line) in element.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
                // Empty lines (inside an empty array or object) stay empty, as the encoder writes them.
                if number > 0 { hits.bytes.append(0x0A) }
                if number > 0, !line.isEmpty { hits.bytes.append(contentsOf: indentation.utf8) }
                hits.bytes.append(contentsOf: line.utf8)
            }
        } else {
            var object = HitJSONWriter.ObjectWriter(depth: depth)
            object.key("hit", &hits)
            hits.write(finding.hit, depth: depth + 1)
            object.key("identity", &hits)
            hits.string(finding.identity)
            if let incident = finding.incident {
                object.key("incident", &hits)
                var link = HitJSONWriter.ObjectWriter(depth: depth + 1)
                link.key("caseID", &hits)
                hits.string(incident.caseID)
                link.key("incidents", &hits)
                hits.array(incident.incidents, depth: depth + 2)
                link.key("report", &hits)
                hits.string(incident.report)
                link.close(&hits)
            }
            object.key("status", &hits)
            hits.string(finding.status)
            object.close(&hits)
        }
    }
}

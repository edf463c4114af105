import FathomStore
import FathomSupport
import FathomCatalog

/// What damage in one input cost, in the units a responder cares about: bytes of log text and
/// records, not "one rejected record" per damaged frame.
///
/// Per damage, the bytes lost are what the format declares (``StreamDamage/lostBytes``: a zstd
/// frame's content size, a tar member's size, a gzip ISIZE trailer) or else an estimate: the
/// compressed bytes skipped times the input's compression ratio so far. Records lost are the bytes
/// lost divided by the input's mean record size (decoded bytes over records seen), rounded to the
/// nearest whole record. Both are estimates unless every damage declared its size; the evidence
/// report says so.
package struct DamageLoss: Equatable {
    /// Bytes of log text lost (declared or estimated).
    package var bytes: Int64 = 0
    /// Records lost (estimated from the mean record size).
    package var records: Int64 = 0
    /// Damage whose loss could not be sized at all (nothing decoded yet to measure a ratio).
    package var unsized = 0
    /// Whether any figure is an estimate rather than declared by the format.
    package var isEstimate = false

    /// - Parameters:
    ///   - damages: the damage met in the input.
    ///   - decodedBytes: bytes the input yielded (decompressed).
    ///   - consumedBytes: file bytes consumed while the input was read (compressed).
    ///   - records: records seen in the input (rows, rejects and filtered records).
    package init(damages: [StreamDamage], decodedBytes: Int, consumedBytes: Int, records: Int64) {
        guard !damages.isEmpty else { return }
        let ratio = consumedBytes > 0 && decodedBytes > 0 ? Double(decodedBytes) / Double(consumedBytes) : nil
        var total = 0.0
        for damage in damages {
            if let declared = damage.lostBytes {
                total += Double(declared)
            } else if damage.skippedBytes > 0, let ratio {
                total += Double(damage.skippedBytes) * ratio
                isEstimate = true
            } else if damage.skippedBytes > 0 || damage.lostBytes == nil {
                unsized += 1
            }
        }
        bytes = Int64(total.rounded())
        if records > 0, decodedBytes > 0, bytes > 0 {
            self.records = Int64((Double(bytes) * Double(records) / Double(decodedBytes)).rounded())
            isEstimate = true
        }
    }

    /// One phrase for notes: `about 3,842 records (512.3 KB of log text) lost`.
    package var phrase: String? {
        guard bytes > 0 || unsized > 0 else { return nil }
        var parts: [String] = []
        if bytes > 0 {
            let size = TextFormat.bytes(bytes) + " of log text"
            parts.append(records > 0 ? "\(isEstimate ? "about " : "")\(ReportNumber.grouped(records)) records (\(size)) lost"
                                     : "\(isEstimate ? "about " : "")\(size) lost")
        }
        if unsized > 0 { parts.append("\(unsized) damaged part\(unsized == 1 ? "" : "s") of unknown size lost") }
        return parts.joined(separator: "; ")
    }
}

import FathomSupport
import FathomDetect

/// The findings a sweep reports, as references into the sweep's hits rather than copies of them.
///
/// A first sweep over a busy week reports a hundred thousand findings, each of them one of the
/// hits its incident analysis reads as well. Held as ``SweepDigest/Finding`` values, every finding
/// was a second ~500-byte copy of its hit beside the hits (measured with heaptrack on the
/// high-cardinality benchmark: 53 MB for the list, then 130 MB more for the digest's per-section
/// and per-rule copies of it). Here a finding is its hit's position in the sweep's sorted hits
/// (whose storage the list shares), its status, how its identity differs from the one its hit
/// gives (``FindingTracker/identity(of:)``), what an earlier sweep reported and its incident link;
/// the masked hit is kept only where masking changed something, so reading a finding gives the
/// same value the sweep reported.
public struct SweepFindingList: RandomAccessCollection, Sendable, Equatable, Codable {
    /// One reported finding.
    private struct Entry: Sendable, Equatable {
        var hit: Int
        var isUpdate: Bool
        /// The identity when it is not the hit's own (an update's stored identity, a collision's suffix).
        var identity: String?
        var previous: SweepDigest.Previous?
        var incident: SweepDigest.IncidentLink?
    }

    private var hits: [Hit]
    private var entries: [Entry] = []
    /// Masked hits that differ from the hit they mask, by entry index.
    private var masked: [Int: Hit] = [:]

    /// A list over `hits` (the sweep's sorted hits) with no finding yet.
    package init(hits: [Hit]) {
        self.hits = hits
    }

    /// The findings of `findings`, in order.
    public init(_ findings: [SweepDigest.Finding] = []) {
        hits = findings.map(\.hit)
        entries = findings.enumerated().map { index, finding in
            Entry(hit: index, isUpdate: finding.status == "updated", identity: finding.identity,
                  previous: finding.previous, incident: finding.incident)
        }
    }

    /// Reports `hits[hit]` as a new finding (`isUpdate` false) or an update, under `identity`;
    /// the finding shows the hit with its secrets masked.
    package mutating func append(hit: Int, isUpdate: Bool, identity: String, previous: SweepDigest.Previous?) {
        let original = hits[hit]
        let masking = original.maskingSecrets()
        if masking != original { masked[entries.count] = masking }
        entries.append(Entry(hit: hit, isUpdate: isUpdate,
                             identity: identity == FindingTracker.identity(of: original) ? nil : identity,
                             previous: previous, incident: nil))
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { entries.count }

    public subscript(position: Int) -> SweepDigest.Finding {
        let entry = entries[position]
        return SweepDigest.Finding(status: entry.isUpdate ? "updated" : "new", identity: identity(at: position),
                                   hit: hit(at: position), previous: entry.previous, incident: entry.incident)
    }

    /// The finding's hit as reported (secrets masked).
    package func hit(at position: Int) -> Hit { masked[position] ?? hits[entries[position].hit] }

    /// The rule of the finding's hit (masking leaves it as it is), without making the finding.
    package func rule(at position: Int) -> String { hits[entries[position].hit].rule }

    package func isUpdate(at position: Int) -> Bool { entries[position].isUpdate }

    package func identity(at position: Int) -> String {
        entries[position].identity ?? FindingTracker.identity(of: hits[entries[position].hit])
    }

    package func previous(at position: Int) -> SweepDigest.Previous? { entries[position].previous }

    package func incident(at position: Int) -> SweepDigest.IncidentLink? { entries[position].incident }

    /// Links the findings of each rule in `links` to its incident report.
    package mutating func link(byRule links: [String: SweepDigest.IncidentLink]) {
        for position in entries.indices {
            if let link = links[rule(at: position)] { entries[position].incident = link }
        }
    }

    public static func == (lhs: SweepFindingList, rhs: SweepFindingList) -> Bool { lhs.elementsEqual(rhs) }

    public init(from decoder: any Decoder) throws {
        self.init(try [SweepDigest.Finding](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        for finding in self { try container.encode(finding) }
    }
}

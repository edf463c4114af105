import FathomStore
import Foundation

/// Extracted-query volume: attributes every model-API query to the attacker identities the
/// extraction rules flagged, and counts per identity and in total.
struct ExtractionAnalysis: Sendable {
    struct Identity: Hashable, Sendable, Comparable {
        var type: String   // src_ip | principal | network
        var value: String
        static func < (lhs: Identity, rhs: Identity) -> Bool { (lhs.type, lhs.value) < (rhs.type, rhs.value) }
    }

    /// Per-identity running totals.
    struct Tally: Sendable {
        var queries: Int64 = 0
        var inputs = Set<Hash128>()
        var endpoints = Set<String>()
        var addresses = Set<String>()
        var principals = Set<String>()
        var first: (Int64, EvidenceRef)?
        var last: (Int64, EvidenceRef)?
        var hourly: [Int64: Int64] = [:]

        mutating func merge(_ other: Tally) {
            queries += other.queries
            inputs.formUnion(other.inputs)
            endpoints.formUnion(other.endpoints)
            addresses.formUnion(other.addresses)
            principals.formUnion(other.principals)
            if let value = other.first, first.map({ (value.0, value.1) < ($0.0, $0.1) }) ?? true { first = value }
            if let value = other.last, last.map({ (value.0, value.1) > ($0.0, $0.1) }) ?? true { last = value }
            for (hour, count) in other.hourly { hourly[hour, default: 0] += count }
        }
    }

    struct Part: Sendable {
        var tallies: [Identity: Tally] = [:]
        var union = Tally()
        var allHourly: [Int64: Int64] = [:]
        var dataEnd: Int64?
    }

    let scan: StoreScan
    let resolver: EvidenceResolver
    let endpointPatterns: [String]
    let hour: Int64 = 3_600_000_000_000

    /// The attacker identities named by extraction hits, most specific first: addresses flagged by
    /// the hourly rule, then principals, then networks whose addresses are not already named.
    ///
    /// Rate rules (the playbook's hourly rule, sliding windows, budgets) name attackers directly.
    /// The whole-range totals name one only by query volume over `totalMaxQueries`: a heavy
    /// legitimate client reaches the distinct-input total over days without extracting anything.
    static func identities(from hits: [Hit], totalMaxQueries: Int64) -> (identities: [Identity], rules: [Identity: Set<String>]) {
        var rules: [Identity: Set<String>] = [:]
        for hit in hits where hit.rule.hasPrefix("extraction.") {
            if hit.rule.hasSuffix("-total"), case let .int(queries)? = hit.metrics["query_count"], queries <= totalMaxQueries {
                continue
            }
            for (name, value) in hit.key {
                guard ["src_ip", "principal", "network"].contains(name), case let .string(text) = value, !text.isEmpty else { continue }
                rules[Identity(type: name, value: text), default: []].insert(hit.rule)
            }
        }
        return (rules.keys.sorted(), rules)
    }

    static func network(of address: String) -> String? { IPNetworkKey.key(for: address) }

    func run(identities: [Identity]) throws -> Part {
        let addresses = Set(identities.filter { $0.type == "src_ip" }.map(\.value))
        let principals = Set(identities.filter { $0.type == "principal" }.map(\.value))
        let networks = Set(identities.filter { $0.type == "network" }.map(\.value))
        let patterns = endpointPatterns.map { $0.lowercased() }
        let resolver = resolver
        let hour = hour
        let parts: [Part] = try scan.map(.inference) { table in
            var part = Part()
            let time = try table.int64("time")
            let ips = try table.dictionary("src_ip")
            let keys = try table.dictionary("principal")
            let paths = try table.dictionary("path")
            let inputs = try table.hash128("input_hash")
            let member = try table.dictionary("member")
            let line = try table.int64("line")
            var pathMatches = [Bool](repeating: false, count: paths.entryCount)
            for code in 0..<paths.entryCount {
                let path = paths.entry(UInt32(code)).string.lowercased()
                pathMatches[code] = patterns.contains { path.contains($0) }
            }
            var ipIdentity = [Identity?](repeating: nil, count: ips.entryCount)
            var netIdentity = [Identity?](repeating: nil, count: ips.entryCount)
            for code in 0..<ips.entryCount {
                let address = ips.entry(UInt32(code)).string
                if addresses.contains(address) { ipIdentity[code] = Identity(type: "src_ip", value: address) }
                if let network = Self.network(of: address), networks.contains(network) {
                    netIdentity[code] = Identity(type: "network", value: network)
                }
            }
            var keyIdentity = [Identity?](repeating: nil, count: keys.entryCount)
            for code in 1..<max(1, keys.entryCount) {
                let key = keys.entry(UInt32(code)).string
                if principals.contains(key) { keyIdentity[code] = Identity(type: "principal", value: key) }
            }
            for row in 0..<table.rowCount {
                let pathCode = Int(paths.code(at: row))
                guard pathMatches[pathCode] else { continue }
                let at = time[row]
                let bucket = at >= 0 ? at / hour * hour : ((at + 1) / hour - 1) * hour
                part.allHourly[bucket, default: 0] += 1
                if part.dataEnd.map({ at > $0 }) ?? true { part.dataEnd = at }
                let ipCode = Int(ips.code(at: row))
                let keyCode = Int(keys.code(at: row))
                let matched = [ipIdentity[ipCode], keyIdentity[keyCode], netIdentity[ipCode]].compactMap { $0 }
                guard !matched.isEmpty else { continue }
                let evidence = resolver.evidence(table, member: member, line: line, row: row)
                let input = inputs[row]
                let endpoint = paths.entry(UInt32(pathCode)).string
                func add(_ tally: inout Tally) {
                    tally.queries += 1
                    if !input.isNull { tally.inputs.insert(input) }
                    tally.endpoints.insert(endpoint)
                    tally.addresses.insert(ips.entry(UInt32(ipCode)).string)
                    if keyCode != 0 { tally.principals.insert(keys.entry(UInt32(keyCode)).string) }
                    if tally.first.map({ (at, evidence) < ($0.0, $0.1) }) ?? true { tally.first = (at, evidence) }
                    if tally.last.map({ (at, evidence) > ($0.0, $0.1) }) ?? true { tally.last = (at, evidence) }
                    tally.hourly[bucket, default: 0] += 1
                }
                for identity in matched { add(&part.tallies[identity, default: Tally()]) }
                add(&part.union)
            }
            return part
        }
        var total = Part()
        for part in parts {
            for (identity, tally) in part.tallies { total.tallies[identity, default: Tally()].merge(tally) }
            total.union.merge(part.union)
            for (hour, count) in part.allHourly { total.allHourly[hour, default: 0] += count }
            if let end = part.dataEnd, total.dataEnd.map({ end > $0 }) ?? true { total.dataEnd = end }
        }
        return total
    }
}

/// The network an address belongs to, spelled as the per-network rule spells it: /24 for IPv4,
/// /64 for IPv6.
enum IPNetworkKey {
    static func key(for address: String) -> String? {
        guard let parsed = IPAddress(address) else { return nil }
        return parsed.network(bits: parsed.isIPv4 ? 24 : 64)
    }
}

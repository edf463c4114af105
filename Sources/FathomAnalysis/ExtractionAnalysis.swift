import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Extracted-query volume: attributes every model-API query to the attacker identities the
/// extraction rules flagged, and counts per identity and in total.
package struct ExtractionAnalysis: Sendable {
    package struct Identity: Hashable, Sendable, Comparable {
        package var type: String   // src_ip | principal | network
        package var value: String

        package init(type: String, value: String) {
            self.type = type
            self.value = value
        }

        package static func < (lhs: Identity, rhs: Identity) -> Bool { (lhs.type, lhs.value) < (rhs.type, rhs.value) }
    }

    /// Per-identity running totals.
    package struct Tally: Sendable {
        package var queries: Int64 = 0
        /// Distinct non-null inputs (filled in after all segments, from the distinct counter).
        package var distinctInputs: Int64 = 0
        package var endpoints = Set<String>()
        package var addresses = Set<String>()
        package var principals = Set<String>()
        package var first: (Int64, EvidenceRef)?
        package var last: (Int64, EvidenceRef)?
        package var hourly: [Int64: Int64] = [:]

        package init() {}

        package mutating func merge(_ other: Tally) {
            queries += other.queries
            endpoints.formUnion(other.endpoints)
            addresses.formUnion(other.addresses)
            principals.formUnion(other.principals)
            if let value = other.first, first.map({ (value.0, value.1) < ($0.0, $0.1) }) ?? true { first = value }
            if let value = other.last, last.map({ (value.0, value.1) > ($0.0, $0.1) }) ?? true { last = value }
            for (hour, count) in other.hourly { hourly[hour, default: 0] += count }
        }
    }

    package struct Part: Sendable {
        package var tallies: [Identity: Tally] = [:]
        package var union = Tally()
        package var allHourly: [Int64: Int64] = [:]
        package var dataEnd: Int64?
    }

    package let scan: StoreScan
    package let resolver: EvidenceResolver
    package let endpointPatterns: [String]
    package let hour: Int64 = 3_600_000_000_000

    /// The attacker identities named by extraction hits, most specific first: addresses flagged by
    /// the hourly rule, then principals, then networks whose addresses are not already named.
    ///
    /// Rate rules (the playbook's hourly rule, sliding windows, budgets) name attackers directly.
    /// The whole-range totals name one only by query volume over `totalMaxQueries`: a heavy
    /// legitimate client reaches the distinct-input total over days without extracting anything.
    package static func identities(from hits: [Hit], totalMaxQueries: Int64) -> (identities: [Identity], rules: [Identity: Set<String>]) {
        var rules: [Identity: Set<String>] = [:]
        for hit in hits where RuleID.extraction.contains(hit.rule) {
            if RuleID.wholeRangeTotals.contains(hit.rule), case let .int(queries)? = hit.metrics[Metric.queryCount],
               queries <= totalMaxQueries {
                continue
            }
            for (name, value) in hit.key {
                guard ["src_ip", "principal", "network"].contains(name), case let .string(text) = value, !text.isEmpty else { continue }
                rules[Identity(type: name, value: text), default: []].insert(hit.rule)
            }
        }
        return (rules.keys.sorted(), rules)
    }

    package static func network(of address: String) -> String? { IPNetworkKey.key(for: address) }

    package func run(identities: [Identity]) throws -> Part {
        let patterns = endpointPatterns.map { FoldedText.folded($0) }
        let resolver = resolver
        let hour = hour
        // Distinct inputs are counted apart, exactly and within a memory budget: each row adds one
        // (identity, input) pair per identity it belongs to.
        let globalIndex = Dictionary(uniqueKeysWithValues: identities.enumerated().map { ($0.element, UInt32($0.offset)) })
        let distinct = DistinctCounter(spill: SpillDirectory(store: scan.store))
        // Each segment's part is merged into the total as soon as it is done, so at most one part
        // per worker is alive besides the total (the merge does not depend on the order).
        let total = PartAccumulator()
        // Which identities each entry of a segment's address and principal dictionaries stands
        // for, from the entry's bytes: a hash tested against the few identities, and for networks
        // the address parsed where it is (see ``EntryMatcher``).
        let addressMatcher = EntryMatcher(exact: identities.indices.filter { identities[$0].type == "src_ip" },
                                          networks: identities.indices.filter { identities[$0].type == "network" },
                                          identities: identities)
        let principalMatcher = EntryMatcher(exact: identities.indices.filter { identities[$0].type == "principal" },
                                            networks: [], identities: identities)
        _ = try scan.map(.inference) { table -> Bool in
            var part = Part()
            let time = try table.int64("time")
            let ips = try table.dictionary("src_ip")
            let keys = try table.dictionary("principal")
            let paths = try table.dictionary("path")
            let inputs = try table.hash128("input_hash")
            let member = try table.dictionary("member")
            let line = try table.int64("line")
            // The same endpoint test as the extraction rules (case folded per scalar).
            let pathMatches = EndpointAggregate.endpointMatches(paths, patterns: patterns)
            // Identities are numbered per segment; the row loop works on dictionary codes and
            // small integers, and strings are made once per segment when the tallies are built.
            var local: [Identity] = []
            var localIndex: [Identity: Int] = [:]
            func number(_ identity: Identity) -> Int {
                if let index = localIndex[identity] { return index }
                localIndex[identity] = local.count
                local.append(identity)
                return local.count - 1
            }
            var ipIdentity = [Int](repeating: -1, count: ips.entryCount)
            var netIdentity = [Int](repeating: -1, count: ips.entryCount)
            if !addressMatcher.isEmpty {
                for code in 0..<ips.entryCount {
                    let (asAddress, asNetwork) = addressMatcher.match(ips.entry(UInt32(code)))
                    if let asAddress { ipIdentity[code] = number(identities[Int(asAddress)]) }
                    if let asNetwork { netIdentity[code] = number(identities[Int(asNetwork)]) }
                }
            }
            var keyIdentity = [Int](repeating: -1, count: keys.entryCount)
            if !principalMatcher.isEmpty {
                for code in 1..<max(1, keys.entryCount) {
                    if let asPrincipal = principalMatcher.match(keys.entry(UInt32(code))).0 {
                        keyIdentity[code] = number(identities[Int(asPrincipal)])
                    }
                }
            }
            let baseHour = table.record.minTime.map { Self.floorHour($0, hour) } ?? 0
            // No flat array for a segment whose times are centuries apart (evidence times reach 1677
            // and 2262): its hours are counted in the dictionary.
            let hourSpan = table.record.maxTime.map { maxTime -> Int in
                let (difference, overflow) = Self.floorHour(maxTime, hour).subtractingReportingOverflow(baseHour)
                return overflow ? 0 : Int(difference / hour) + 1
            } ?? 0
            var allHourly = HourCounts(base: baseHour, hour: hour, span: hourSpan)
            // The last accumulator is the union of every attacker identity.
            var accumulators = (0...local.count).map { _ in
                SegmentTally(ips: ips.entryCount, keys: keys.entryCount, paths: paths.entryCount,
                             hourly: HourCounts(base: baseHour, hour: hour, span: hourSpan))
            }
            let unionIndex = local.count
            let global = local.map { globalIndex[$0] ?? UInt32.max }
            var pairs: [(group: UInt32, hash: Hash128)] = []
            func evidence(_ row: Int) -> EvidenceRef { resolver.evidence(table, member: member, line: line, row: row) }
            for row in 0..<table.rowCount {
                let pathCode = Int(paths.code(at: row))
                guard pathMatches[pathCode] else { continue }
                let at = time[row]
                let bucket = Self.floorHour(at, hour)
                allHourly.add(bucket)
                if part.dataEnd.map({ at > $0 }) ?? true { part.dataEnd = at }
                let ipCode = Int(ips.code(at: row))
                let keyCode = Int(keys.code(at: row))
                let matched = (ipIdentity[ipCode], keyIdentity[keyCode], netIdentity[ipCode])
                guard matched.0 >= 0 || matched.1 >= 0 || matched.2 >= 0 else { continue }
                let input = inputs[row]
                for index in [matched.0, matched.1, matched.2, unionIndex] where index >= 0 {
                    accumulators[index].add(row: row, time: at, bucket: bucket, ip: ipCode, key: keyCode,
                                            path: pathCode, evidence: evidence)
                    if index != unionIndex, !input.isNull { pairs.append((global[index], input)) }
                }
                if pairs.count >= 1 << 16 {
                    distinct.add(pairs)
                    pairs.removeAll(keepingCapacity: true)
                }
            }
            distinct.add(pairs)
            func tally(_ accumulator: SegmentTally) -> Tally {
                var tally = Tally()
                tally.queries = accumulator.queries
                tally.endpoints = Set(accumulator.paths.members.map { paths.entry(UInt32($0)).string })
                tally.addresses = Set(accumulator.ips.members.map { ips.entry(UInt32($0)).string })
                tally.principals = Set(accumulator.keys.members.filter { $0 != 0 }.map { keys.entry(UInt32($0)).string })
                if accumulator.firstRow >= 0 { tally.first = (accumulator.firstTime, evidence(accumulator.firstRow)) }
                if accumulator.lastRow >= 0 { tally.last = (accumulator.lastTime, evidence(accumulator.lastRow)) }
                tally.hourly = accumulator.hourly.dictionary
                return tally
            }
            for (index, identity) in local.enumerated() where accumulators[index].queries > 0 {
                part.tallies[identity] = tally(accumulators[index])
            }
            part.union = tally(accumulators[unionIndex])
            part.allHourly = allHourly.dictionary
            total.add(part)
            return true
        }
        var result = total.part
        let counts = try distinct.counts(groups: identities.count)
        for (identity, index) in globalIndex where result.tallies[identity] != nil {
            result.tallies[identity]?.distinctInputs = counts.perGroup[Int(index)]
        }
        result.union.distinctInputs = counts.all
        return result
    }

    /// The running total of the segments' parts.
    /// Which of a run's identities an entry of an address or principal dictionary stands for:
    /// the identity whose value the entry is (`exact`), and the network identity whose network
    /// (``ExtractionAnalysis/network(of:)``) the entry's address is in (`networks`).
    ///
    /// Worked out from the entry's bytes, every entry of every segment: its XXH64 against a filter
    /// of the few identities' hashes, and, when networks are asked for, a dotted quad parsed in
    /// place. A busy API's dictionaries hold hundreds of thousands of addresses; numbering each in
    /// a run-wide table and making a `String` of each new one was most of this scan's time.
    ///
    /// The answers are those of comparing the entry's text (invalid UTF-8 repaired) with each
    /// identity's value as `String`s, which compare by canonical equivalence: an entry beyond
    /// ASCII, or every entry when an identity's value is beyond ASCII, is compared that way.
    /// For ASCII on both sides the bytes are equal exactly when the strings are.
    package struct EntryMatcher: Sendable {
        package typealias Match = (UInt32?, UInt32?)
        private let identities: [Identity]
        /// The exact identities: their index in `identities`, and the XXH64 of their UTF-8.
        private let exact: [(index: UInt32, hash: UInt64)]
        /// 1,024 bits: bit `hash % 1024` of each exact identity.
        private let filter: [UInt64]
        /// Network identities by their masked address: IPv4 /24 prefixes and IPv6 /64 high words.
        private let v4Networks: [(prefix: UInt32, index: UInt32)]
        private let v6Networks: [(high: UInt64, index: UInt32)]
        private let wantsNetworks: Bool
        /// Some identity's value is beyond ASCII: every entry is compared as text.
        private let textOnly: Bool

        /// Nothing to look for.
        package var isEmpty: Bool { exact.isEmpty && !wantsNetworks }

        /// `exact` and `networks`: indices in `identities` of the values and of the networks to find.
        package init(exact: [Int], networks: [Int], identities: [Identity]) {
            self.identities = identities
            self.exact = exact.map { (UInt32($0), XXH64.hash(Array(identities[$0].value.utf8))) }
            var filter = [UInt64](repeating: 0, count: 16)
            for (_, hash) in self.exact { filter[Int(hash >> 6 & 15)] |= 1 << (hash & 63) }
            self.filter = filter
            var v4: [(UInt32, UInt32)] = []
            var v6: [(UInt64, UInt32)] = []
            for index in networks {
                // Only a network as ``ExtractionAnalysis/network(of:)`` spells one can be matched.
                let value = identities[index].value
                guard let slash = value.firstIndex(of: "/"), let address = IPAddress(String(value[..<slash])) else { continue }
                guard address.network(bits: address.isIPv4 ? 24 : 64) == value else { continue }
                if address.isIPv4 { v4.append((UInt32(truncatingIfNeeded: address.low), UInt32(index))) } else { v6.append((address.high, UInt32(index))) }
            }
            v4Networks = v4
            v6Networks = v6
            wantsNetworks = !networks.isEmpty
            textOnly = (exact + networks).contains { !identities[$0].value.utf8.allSatisfy { $0 < 0x80 } }
        }

        /// The identity `entry` is, and the network identity its address is in.
        package func match(_ entry: ByteView) -> Match {
            if textOnly || !Self.isASCII(entry) { return classify(entry.string) }
            var asValue: UInt32?
            if !exact.isEmpty {
                let hash = XXH64.hash(entry)
                if filter[Int(hash >> 6 & 15)] & 1 << (hash & 63) != 0 {
                    for candidate in exact where candidate.hash == hash && entry.equals(identities[Int(candidate.index)].value) {
                        asValue = candidate.index
                        break
                    }
                }
            }
            guard wantsNetworks else { return (asValue, nil) }
            if let value = IPAddress.dottedQuad(entry) { return (asValue, network(v4: value)) }
            return (asValue, network(of: IPAddress(entry.string)))
        }

        /// What comparing texts gives: `text` against each exact identity, and its network.
        private func classify(_ text: String) -> Match {
            let asValue = exact.first { identities[Int($0.index)].value == text }?.index
            guard wantsNetworks, let network = ExtractionAnalysis.network(of: text) else { return (asValue, nil) }
            for (index, identity) in identities.enumerated() where identity.type == "network" && identity.value == network {
                return (asValue, UInt32(index))
            }
            return (asValue, nil)
        }

        private func network(of address: IPAddress?) -> UInt32? {
            guard let address else { return nil }
            if address.isIPv4 { return network(v4: UInt32(truncatingIfNeeded: address.low)) }
            let high = address.high
            return v6Networks.first { $0.high == high }?.index
        }

        private func network(v4 value: UInt32) -> UInt32? {
            let prefix = value & 0xFFFF_FF00
            return v4Networks.first { $0.prefix == prefix }?.index
        }

        private static func isASCII(_ bytes: ByteView) -> Bool {
            for index in 0..<bytes.count where bytes[index] >= 0x80 { return false }
            return true
        }
    }

    package final class PartAccumulator: @unchecked Sendable {
        private let lock = NSLock()
        private var total = Part()

        package func add(_ part: Part) {
            lock.lock()
            defer { lock.unlock() }
            for (identity, tally) in part.tallies { total.tallies[identity, default: Tally()].merge(tally) }
            total.union.merge(part.union)
            for (hour, count) in part.allHourly { total.allHourly[hour, default: 0] += count }
            if let end = part.dataEnd, total.dataEnd.map({ end > $0 }) ?? true { total.dataEnd = end }
        }

        package var part: Part {
            lock.lock()
            defer { lock.unlock() }
            return total
        }
    }
}

extension ExtractionAnalysis {
    /// Floor of a time to its hour (or other width), also for times before the epoch; for the times
    /// of the first, partial bucket below `Int64.min` (year 1677), the start of the next one.
    @inline(__always)
    package static func floorHour(_ time: Int64, _ width: Int64) -> Int64 {
        let quotient = time / width - (time % width < 0 ? 1 : 0)
        let (start, overflow) = quotient.multipliedReportingOverflow(by: width)
        return overflow ? (quotient + 1) * width : start
    }

    /// Counts per hour: a flat array over the segment's hours, a dictionary for any outside them.
    package struct HourCounts {
        package let base: Int64
        package let hour: Int64
        package var counts: [Int64]
        package var outside: [Int64: Int64] = [:]

        package init(base: Int64, hour: Int64, span: Int) {
            self.base = base
            self.hour = hour
            counts = [Int64](repeating: 0, count: span > 0 && span <= 1 << 16 ? span : 0)
        }

        @inline(__always)
        package mutating func add(_ bucket: Int64) {
            if bucket >= base {
                let (difference, overflow) = bucket.subtractingReportingOverflow(base)
                let offset = overflow ? Int64.max : difference / hour
                if offset < Int64(counts.count) {
                    counts[Int(offset)] += 1
                    return
                }
            }
            outside[bucket, default: 0] += 1
        }

        package var dictionary: [Int64: Int64] {
            var result = outside
            for (offset, count) in counts.enumerated() where count > 0 { result[base + Int64(offset) * hour, default: 0] += count }
            return result
        }
    }

    /// Which dictionary codes were seen, one bit each.
    package struct CodeSet {
        private var words: [UInt64]

        package init(count: Int) { words = [UInt64](repeating: 0, count: (count + 63) / 64) }

        @inline(__always)
        package mutating func insert(_ code: Int) { words[code >> 6] |= 1 << UInt64(code & 63) }

        package var members: [Int] {
            var result: [Int] = []
            for (index, word) in words.enumerated() where word != 0 {
                var bits = word
                while bits != 0 {
                    result.append(index << 6 + bits.trailingZeroBitCount)
                    bits &= bits - 1
                }
            }
            return result
        }
    }

    /// One identity's totals within one segment, on dictionary codes and row numbers.
    package struct SegmentTally {
        package var queries: Int64 = 0
        package var ips: CodeSet
        package var keys: CodeSet
        package var paths: CodeSet
        package var firstRow = -1
        package var firstTime = Int64.max
        package var lastRow = -1
        package var lastTime = Int64.min
        package var hourly: HourCounts

        package init(ips: Int, keys: Int, paths: Int, hourly: HourCounts) {
            self.ips = CodeSet(count: ips)
            self.keys = CodeSet(count: keys)
            self.paths = CodeSet(count: paths)
            self.hourly = hourly
        }

        /// Adds one row. First and last are the earliest and latest by (time, evidence), as the
        /// merge across segments orders them; evidence is resolved only to break a tie in time.
        @inline(__always)
        package mutating func add(row: Int, time: Int64, bucket: Int64, ip: Int, key: Int, path: Int,
                          evidence: (Int) -> EvidenceRef) {
            queries += 1
            ips.insert(ip)
            keys.insert(key)
            paths.insert(path)
            if firstRow < 0 || time < firstTime || (time == firstTime && evidence(row) < evidence(firstRow)) {
                firstRow = row
                firstTime = time
            }
            if lastRow < 0 || time > lastTime || (time == lastTime && evidence(row) > evidence(lastRow)) {
                lastRow = row
                lastTime = time
            }
            hourly.add(bucket)
        }
    }
}

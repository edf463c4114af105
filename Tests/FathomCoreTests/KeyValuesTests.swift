import FathomStore
import Foundation
import Testing
@testable import FathomDetect

/// ``EndpointAggregate/KeyValues``: the groups the extraction rules count rows in. Without a
/// grouping a group is one value, numbered when it is first seen and named by that value; with one,
/// values fold into the groups their names map to. Value numbers and group numbers differ as soon
/// as the numbering has seen values the groups have not (another rule, another segment first).
@Suite struct KeyValuesTests {
    /// A numbering that has seen `values`, in that order (value number = index).
    func numbering(_ values: [String]) throws -> ValueNumbering {
        let directory = try TemporaryDirectory("key-values")
        let builder = SegmentBuilder(kindCode: 3, columns: [ColumnSpec(name: "time", type: .int64),
                                                            ColumnSpec(name: "key", type: .dictionary)])
        for (index, value) in values.enumerated() {
            builder.setInt64(Int64(index), at: 0)
            builder.setString(value, at: 1)
            builder.endRow()
        }
        let path = directory.path("keys.seg")
        _ = try builder.write(to: path, archiveID: 1)
        let numbering = ValueNumbering()
        let ids = numbering.ids(of: try SegmentReader(path: path).dictionary(1))
        // Entry 0 is the empty value; the others come in first-appearance order.
        #expect(ids.dropFirst().map { numbering.name($0) } == values)
        return numbering
    }

    @Test func withoutAGroupingEachValueIsAGroupNamedByItself() throws {
        var generator = SplitMix(seed: 20_261_206)
        let values = (0..<2_000).map { "10.\($0 / 250).\($0 % 250).9" }
        let numbering = try numbering(values)
        let keys = EndpointAggregate.KeyValues(numbering: numbering, folding: nil)
        // The values arrive in another order than they were numbered, some several times, in
        // batches (a segment's entries) and one by one (a value first met on a row).
        var order = (0..<values.count).map { numbering.id(of: values[$0])! }
        order.shuffle(using: &generator)
        var groupOf: [UInt32: UInt32] = [:]
        for start in stride(from: 0, to: order.count, by: 300) {
            let batch = Array(order[start..<min(start + 300, order.count)])
            let again = Array(batch.prefix(40))
            for (id, group) in zip(batch + again, keys.groups(of: batch + again)) {
                if let known = groupOf[id] { #expect(group == known) } else { groupOf[id] = group }
            }
            let one = batch[batch.count / 2]
            #expect(keys.groups(of: [one]) == [groupOf[one]!])
        }
        #expect(keys.groupCount == values.count)
        #expect(Set(groupOf.values).count == values.count)
        for (id, group) in groupOf {
            #expect(keys.name(ofGroup: Int(group)) == numbering.name(id))
            #expect(keys.valueIDs[Int(group)] == id)
            #expect(keys.members[Int(group)] == 1)
        }
        // Groups are numbered in the order values are first seen, not by value number.
        #expect(groupOf[order[0]] == 0)
        #expect(keys.knownGroups(of: [order[7]]) == [groupOf[order[7]]!])
    }

    @Test func aGroupingFoldsValuesIntoNamedGroups() throws {
        let values = ["10.0.0.1", "10.0.0.2", "192.168.1.5", "10.0.0.3", "not an address", "192.168.1.9"]
        let numbering = try numbering(values)
        // The first three dot-separated parts, packed; a group is named from its key alone.
        let folding = EndpointAggregate.Folding(key: { bytes in
            let text = bytes.string
            guard text.contains("."), !text.contains(" ") else { return nil }
            let parts = text.split(separator: ".").prefix(3).compactMap { UInt64($0) }
            return EndpointAggregate.FoldKey(kind: 1, value: parts.reduce(0) { $0 << 16 | $1 })
        }, name: { key in [32, 16, 0].map { String(key.value >> UInt64($0) & 0xFFFF) }.joined(separator: ".") })
        let keys = EndpointAggregate.KeyValues(numbering: numbering, folding: folding)
        let ids = [5, 0, 1, 4, 2, 3].map { numbering.id(of: values[$0])! }
        let groups = keys.groups(of: ids)
        // 192.168.1.9 first: group 0; then 10.0.0.x: group 1; "not an address" folds into none.
        #expect(groups == [0, 1, 1, UInt32.max, 0, 1])
        #expect(keys.groupCount == 2)
        #expect(keys.name(ofGroup: 0) == "192.168.1")
        #expect(keys.name(ofGroup: 1) == "10.0.0")
        #expect(keys.members == [2, 3])
        #expect(keys.valueIDs == [ids[0], ids[1]])
    }

    /// Addresses fold into their networks by their bytes exactly as by the networks' names
    /// (``IPNetworkKey/key(for:)``, which the rule spelled every address's network with): two values
    /// are one group when, and only when, their names are equal, and a group's name is that name.
    @Test func addressesFoldIntoTheirNetworksAsTheirNamesDo() throws {
        var generator = SplitMix(seed: 20_261_208)
        var values: [String] = []
        let written = ["192.0.2.1", "192.0.2.200", "192.0.3.1", "0.0.0.0", "255.255.255.255", "10.0.0.1",
                       "010.0.0.1", "10.0.0.256", "10.0.0", "1.2.3.4.5", " 10.0.0.7", "10.0.0.8 ", "[10.0.0.9]",
                       "::ffff:10.0.0.10", "::FFFF:10.0.0.11", "2001:db8::1", "2001:DB8:0:0:1::2", "2001:db8:0:1::1",
                       "[2001:db8::3]", "fe80::1%eth0", "fe80::2", "::", "::1", "::ffff:0:0", "64:ff9b::198.51.100.7",
                       "not an address", "", "1.2.3.4/24", "١٢.٣.٤.٥", "10.0.0.1\u{0}"]
        values += written
        for _ in 0..<400 {
            let a = generator.next() % 3, b = generator.next() % 4
            switch generator.next() % 3 {
            case 0: values.append("10.\(a).\(b).\(generator.next() % 256)")
            case 1: values.append("2001:db8:\(a):\(b)::\(String(generator.next() % 65_536, radix: 16))")
            default: values.append("::ffff:10.\(a).\(b).\(generator.next() % 256)")
            }
        }
        var seen: Set<String> = []
        let distinct = values.filter { !$0.isEmpty && seen.insert($0).inserted }
        let numbering = try numbering(distinct)
        let keys = EndpointAggregate.KeyValues(numbering: numbering, folding: IPNetworkKey.folding)
        let ids = distinct.map { numbering.id(of: $0)! }
        let groups = keys.groups(of: ids)
        var groupOfName: [String: UInt32] = [:]
        for (value, group) in zip(distinct, groups) {
            guard let name = IPNetworkKey.key(for: value) else {
                #expect(group == UInt32.max, "\(value) is no address, yet folds into group \(group)")
                continue
            }
            #expect(group != UInt32.max, "\(value) folds into no network")
            guard group != UInt32.max else { continue }
            #expect(keys.name(ofGroup: Int(group)) == name, "\(value)")
            if let known = groupOfName[name] { #expect(group == known, "\(value) apart from its network \(name)") }
            groupOfName[name] = group
        }
        #expect(Set(groupOfName.values).count == groupOfName.count)
        #expect(keys.groupCount == groupOfName.count)
        #expect(groupOfName.count > 20)
    }
}

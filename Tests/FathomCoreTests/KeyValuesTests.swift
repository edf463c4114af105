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
        let keys = EndpointAggregate.KeyValues(numbering: numbering, groupBy: nil)
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
        let keys = EndpointAggregate.KeyValues(numbering: numbering, groupBy: { value in
            value.contains(".") && !value.contains(" ") ? value.split(separator: ".").prefix(3).joined(separator: ".") : nil
        })
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
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Group-by over inference rows on model endpoints: rows and distinct inputs per (key value, time
/// bucket). The engine behind `extraction.volume` and the beyond-playbook extraction rules.
package struct EndpointAggregate {
    package struct Key: Hashable, Sendable {
        package var value: String
        package var bucket: Int64
    }

    /// A compact evidence reference: the archive path and member are shared strings, the time is
    /// formatted only when a hit is made.
    package struct RowRef: Sendable {
        package var archive: String
        package var member: String
        package var line: Int64
        package var time: Int64

        package var evidence: EvidenceRef {
            EvidenceRef(archive: archive, member: member, line: line, time: time == Int64.min ? nil : Timestamp(nanoseconds: time))
        }
    }

    /// Where a row is: its segment (numbered in catalog order) and row. 8 bytes, where a
    /// ``RowRef`` holds strings: groups keep these, and only the groups that become hits are
    /// turned into evidence (``Aggregation/evidence(_:)``).
    package struct RowAt: Sendable, BitwiseCopyable {
        package var segment: UInt32
        package var row: UInt32

        /// Catalog order: segment, then row.
        @inline(__always)
        package static func < (a: RowAt, b: RowAt) -> Bool { (a.segment, a.row) < (b.segment, b.row) }
    }

    package struct Group: Sendable {
        package var count: Int64 = 0
        /// Distinct non-null inputs (filled in after all segments are merged).
        package var distinct: Int64 = 0
        package var firstTime = Int64.max
        package var lastTime = Int64.min
        package var firstAt: RowAt
        package var lastAt: RowAt

        /// Adds a later segment's partial group (segments arrive in catalog order).
        package mutating func merge(_ other: Group) {
            count += other.count
            if other.firstTime < firstTime { firstTime = other.firstTime; firstAt = other.firstAt }
            if other.lastTime >= lastTime { lastTime = other.lastTime; lastAt = other.lastAt }
        }

        /// Adds another segment's part of the group, in any order: the first row is the earliest
        /// (ties: first in catalog order), the last the latest (ties: last in catalog order) — what
        /// merging the parts in catalog order gives.
        package mutating func absorb(_ part: GroupRecord) {
            absorb(count: part.count, firstTime: part.firstTime, first: part.first, lastTime: part.lastTime, last: part.last)
        }

        /// Adds another group in any order, as ``absorb(_:)-(GroupRecord)`` adds a part: how a total
        /// is rolled up from the groups of its buckets or of the values it folds.
        package mutating func absorb(_ other: Group) {
            absorb(count: other.count, firstTime: other.firstTime, first: other.firstAt, lastTime: other.lastTime, last: other.lastAt)
        }

        @inline(__always)
        private mutating func absorb(count: Int64, firstTime: Int64, first: RowAt, lastTime: Int64, last: RowAt) {
            self.count += count
            if firstTime < self.firstTime || (firstTime == self.firstTime && first < firstAt) {
                self.firstTime = firstTime
                firstAt = first
            }
            if lastTime > self.lastTime || (lastTime == self.lastTime && lastAt < last) {
                self.lastTime = lastTime
                lastAt = last
            }
        }
    }

    /// The groups of a run, and the evidence of their rows.
    package struct Aggregation {
        package var groups: [(key: Key, group: Group)]
        package let evidence: RowEvidence
        /// Per group value, the number of distinct key-column values folded into it (with
        /// a folding; 1 per value otherwise), counting only values that had rows in range.
        package var members: [String: Int] = [:]

        /// The first and last row of each of `groups` as evidence, each segment read once.
        package func evidence(_ groups: [Group]) -> [(first: EvidenceRef, last: EvidenceRef)] {
            let refs = evidence.resolve(groups.flatMap { [$0.firstAt, $0.lastAt] })
            return groups.indices.map { (refs[2 * $0], refs[2 * $0 + 1]) }
        }
    }

    /// Evidence references of rows named by ``RowAt``: each segment asked for is opened once,
    /// read and let go (only the few groups that become hits are asked for).
    package struct RowEvidence {
        package let context: HuntContext
        package let records: [SegmentRecord]

        /// Each row's archive, member, line (0 when unknown) and time, as a hit cites it.
        package func resolve(_ rows: [RowAt]) -> [EvidenceRef] {
            var result = [EvidenceRef?](repeating: nil, count: rows.count)
            let bySegment = Dictionary(grouping: rows.indices, by: { rows[$0].segment })
            for segment in bySegment.keys.sorted() {
                let record = records[Int(segment)]
                let table = try? SegmentTable(record: record, path: context.scan.store.absolute(record.path))
                for index in bySegment[segment] ?? [] {
                    if let table {
                        result[index] = context.evidence(table, row: Int(rows[index].row), withTime: true)
                    } else {
                        let archive = context.archives[record.archiveID] ?? "archive \(record.archiveID)"
                        result[index] = EvidenceRef(archive: archive, member: "", line: 0)
                    }
                }
            }
            return result.map { $0 ?? EvidenceRef(archive: "", member: "", line: 0) }
        }
    }

    /// A record that waits in the partition of its packed group key.
    package protocol KeyedRecord: BitwiseCopyable {
        var key: UInt64 { get }
    }

    /// One segment's part of a group, as it waits in its partition: 48 bytes.
    package struct GroupRecord: KeyedRecord {
        package var key: UInt64
        package var count: Int64
        package var firstTime: Int64
        package var lastTime: Int64
        package var first: RowAt
        package var last: RowAt
    }

    /// One input of a group (a non-null input hash), as it waits in its partition: 24 bytes.
    package struct InputRecord: KeyedRecord {
        package var key: UInt64
        package var low: UInt64
        package var high: UInt64

        package init(key: UInt64, low: UInt64, high: UInt64) {
            self.key = key
            self.low = low
            self.high = high
        }
    }

    /// What a value folds into, and how (``ValueFoldKey``, ``ValueFolding``).
    package typealias FoldKey = ValueFoldKey
    package typealias Folding = ValueFolding

    /// The values of the key column, numbered across segments and threads (by the hunt's
    /// ``ValueNumbering`` of the column), and the groups they fold into
    /// (``run(_:keyColumn:bucketSeconds:distinct:distinctOver:keep:folding:)``'s `folding`).
    package final class KeyValues: @unchecked Sendable {
        private let lock = NSLock()
        private let folding: Folding?
        package let numbering: ValueNumbering
        /// Group number + 1 of each value number seen (0: not seen yet; `UInt32.max`: the value
        /// folds into no group).
        private var valueGroups: [UInt32] = []
        /// With a folding: per kind of key, the table of its keys and the group of each entry (a
        /// `Dictionary` keyed by ``FoldKey`` spent most of its time hashing with SipHash as it grew).
        /// Without, a group is its one value: its number is the next free one. Either way a group is
        /// named only when asked for, from its first value (a hundred thousand principals made into
        /// strings and hashed, for each rule, were a twentieth of the extraction rules' work; half a
        /// million addresses folded by their networks' names, two seconds of
        /// `extraction.network-total`), and no key is kept per group beyond the table's.
        private var foldTables: [(kind: UInt8, keys: IntegerTable, groups: [UInt32])] = []
        /// Values folded into each group (4 bytes a group: a million of them at 4 GB of many clients).
        private(set) var members: [UInt32] = []
        /// The first value number folded into each group (without a folding, the only one).
        private(set) var valueIDs: [UInt32] = []

        /// The groups numbered so far.
        var groupCount: Int { valueIDs.count }

        /// Group `group`'s name: the value's own without a folding.
        func name(ofGroup group: Int) -> String {
            lock.lock()
            let first = valueIDs[group]
            lock.unlock()
            // A group's first value folds into it, so its key is the group's.
            guard let folding, let key = numbering.withValue(first, folding.key) else { return numbering.name(first) }
            return folding.name(key)
        }

        init(numbering: ValueNumbering, folding: Folding?) {
            self.numbering = numbering
            self.folding = folding
        }

        /// The group numbers of values already seen, without numbering new ones (`UInt32.max` for a
        /// value not seen yet or that folds into no group): a second pass over the rows must not
        /// count a value the first pass did not (``members``).
        func knownGroups(of ids: [UInt32]) -> [UInt32] {
            lock.lock()
            defer { lock.unlock() }
            return ids.map { id in
                guard Int(id) < valueGroups.count else { return UInt32.max }
                let known = valueGroups[Int(id)]
                return known == 0 || known == UInt32.max ? UInt32.max : known - 1
            }
        }

        /// Whether values fold into groups of several (then a value is numbered only once it has a
        /// row, so ``members`` counts values with rows).
        var folds: Bool { folding != nil }

        /// The group numbers of the values numbered `ids` (one lock for the batch; `UInt32.max`
        /// for a value that folds into no group).
        func groups(of ids: [UInt32]) -> [UInt32] {
            lock.lock()
            defer { lock.unlock() }
            return ids.map { id in
                if Int(id) >= valueGroups.count {
                    valueGroups.append(contentsOf: repeatElement(0, count: Int(id) + 1 - valueGroups.count))
                }
                let known = valueGroups[Int(id)]
                if known != 0 { return known == UInt32.max ? UInt32.max : known - 1 }
                var group = UInt32.max
                if let folding {
                    if let key = numbering.withValue(id, folding.key) {
                        group = foldedGroup(key, firstValue: id)
                        members[Int(group)] += 1
                    }
                } else {
                    // A value seen for the first time: a group of its own.
                    group = UInt32(valueIDs.count)
                    members.append(1)
                    valueIDs.append(id)
                }
                valueGroups[Int(id)] = group == UInt32.max ? UInt32.max : group + 1
                return group
            }
        }

        /// The group of values whose key is `key`, numbered (with `firstValue` its first value)
        /// when it is new. The caller holds the lock.
        private func foldedGroup(_ key: FoldKey, firstValue: UInt32) -> UInt32 {
            let slot: Int
            if let known = foldTables.firstIndex(where: { $0.kind == key.kind }) {
                slot = known
            } else {
                foldTables.append((key.kind, IntegerTable(), []))
                slot = foldTables.count - 1
            }
            let (index, isNew) = foldTables[slot].keys.index(of: key.value)
            guard isNew else { return foldTables[slot].groups[index] }
            let group = UInt32(valueIDs.count)
            foldTables[slot].groups.append(group)
            members.append(0)
            valueIDs.append(firstValue)
            return group
        }
    }

    /// Rows with a time per group number, added up from the segments' scans (any thread).
    package final class GroupRows: @unchecked Sendable {
        private let lock = NSLock()
        private var rows: [Int64] = []

        package init() {}

        func add(_ parts: [(group: UInt32, rows: Int64)]) {
            lock.lock()
            defer { lock.unlock() }
            for (group, count) in parts {
                if Int(group) >= rows.count { rows.append(contentsOf: repeatElement(0, count: Int(group) + 1 - rows.count)) }
                rows[Int(group)] += count
            }
        }

        /// Rows per group number (groups past the end have none).
        package var totals: [Int64] {
            lock.lock()
            defer { lock.unlock() }
            return rows
        }
    }

    /// Floor division of a time by a bucket width (both in nanoseconds).
    @inline(__always)
    package static func bucket(_ time: Int64, _ width: Int64) -> Int64 {
        time >= 0 ? time / width : -((-time - 1) / width) - 1
    }

    /// Partitions of the group and input records (a power of two).
    package static let partitionBits = 6

    @inline(__always)
    static func partition(_ key: UInt64) -> Int {
        Int(truncatingIfNeeded: (key &* 0xD6E8_FEB8_6659_FD93) >> UInt64(64 - partitionBits))
    }

    /// Aggregates rows whose path contains one of the endpoint patterns (case-insensitive), grouped by
    /// the dictionary column `keyColumn` (or by what `folding` folds its values into: none leaves the
    /// row out) and by `bucketSeconds` (nil: one bucket for all time). Rows without a time are skipped
    /// when bucketing.
    ///
    /// With `distinctOver`, distinct inputs are counted only for the groups of more than that many
    /// rows, in a second pass over the segments that hands over only those groups' inputs; the
    /// other groups keep `distinct` 0. A caller passes the floor below which `keep` can be true for
    /// no group: a group never has more distinct inputs than rows, so for `count > q || distinct > d`
    /// that is `min(q, d)`. On wide data almost every group is under it, and the first pass hands
    /// over no input at all (no spill).
    ///
    /// Radix-partitioned, so memory stays flat however many groups there are: each segment scan
    /// (in parallel) groups its own rows, then hands one 48-byte record per group and one 24-byte
    /// record per non-null input hash to the partition of the group's key (the top bits of its
    /// hash); partitions beyond the hunt's memory budget (``HuntRequest/memoryBudget``) spill to the
    /// store's `tmp/`. Partitions are then
    /// aggregated one at a time: parts merged by key, distinct inputs counted exactly (full 128-bit
    /// hashes compared), and only the groups for which `keep` is true are kept.
    ///
    /// - Complexity: O(rows) over the overlapping segments; the endpoint test runs once per path
    ///   dictionary entry.
    package static func run(_ context: HuntContext, keyColumn: String, bucketSeconds: Int64?, distinct: Bool,
                    distinctOver floor: Int64? = nil,
                    keep: (Group) -> Bool = { _ in true },
                    folding: Folding? = nil) throws -> Aggregation {
        let patterns = context.settings.endpointPatterns.map { FoldedText.folded($0) }
        let width = bucketSeconds.map { $0 * 1_000_000_000 }
        // Segments are numbered in catalog order, so a group's rows are 8-byte positions.
        let records = try context.scan.segments(.inference)
        let segmentIndex = Dictionary(records.enumerated().map { ($0.element.path, UInt32($0.offset)) },
                                      uniquingKeysWith: { first, _ in first })
        // Buckets are numbered from the earliest one, so a key packs into 64 bits: group << 32 | bucket.
        let base = try firstBucket(records, width: width, seconds: bucketSeconds ?? 0)
        let spill = SpillDirectory(store: context.scan.store)
        let partitions = 1 << partitionBits
        let groupParts = PartitionedSpill<GroupRecord>(partitions: partitions, budget: context.memoryBudget / 2, spill: spill, name: "groups")
        // With a floor, the inputs are handed over in a second pass, for the groups over it only.
        let secondPass = distinct ? floor : nil
        let inputParts = distinct && secondPass == nil
            ? PartitionedSpill<InputRecord>(partitions: partitions, budget: context.memoryBudget / 2, spill: spill, name: "inputs") : nil
        let values = KeyValues(numbering: context.numbering(keyColumn), folding: folding)
        _ = try context.map(.inference) { table -> Int in
            try scanSegment(table, segment: segmentIndex[table.record.path] ?? 0, context: context, patterns: patterns,
                            keyColumn: keyColumn, width: width, base: base, values: values,
                            groups: groupParts, inputs: inputParts)
        }
        var kept: [(key: UInt64, group: Group)] = []
        var candidates: [(key: UInt64, group: Group)] = []
        for partition in 0..<partitions {
            let parts = try groupParts.take(partition)
            guard !parts.isEmpty else { continue }
            var (table, merged) = Self.merged(parts)
            if let inputParts {
                let inputs = try inputParts.take(partition)
                countDistinct(inputs, table: table, into: &merged)
            }
            for index in merged.indices {
                if let secondPass, merged[index].count > secondPass {
                    candidates.append((table.insertedKeys[index], merged[index]))
                } else if keep(merged[index]) {
                    kept.append((table.insertedKeys[index], merged[index]))
                }
            }
        }
        if !candidates.isEmpty {
            try countCandidateInputs(&candidates, context: context, segmentIndex: segmentIndex, patterns: patterns,
                                     keyColumn: keyColumn, width: width, base: base, values: values, spill: spill)
            kept.append(contentsOf: candidates.filter { keep($0.group) })
        }
        return aggregation(kept, values: values, base: base, context: context, records: records)
    }

    /// The kept groups (packed keys) as an ``Aggregation``: keys named, sorted by value then bucket.
    static func aggregation(_ kept: [(key: UInt64, group: Group)], values: KeyValues, base: Int64, context: HuntContext,
                            records: [SegmentRecord]) -> Aggregation {
        // Each kept value named once, however many of its buckets are kept.
        var names: [Int: String] = [:]
        func name(_ group: Int) -> String {
            if let known = names[group] { return known }
            let made = values.name(ofGroup: group)
            names[group] = made
            return made
        }
        var result = kept.map { item in
            (key: Key(value: name(Int(item.key >> 32)), bucket: base + Int64(item.key & 0xFFFF_FFFF)), group: item.group)
        }
        result.sort { ($0.key.value, $0.key.bucket) < ($1.key.value, $1.key.bucket) }
        // The member counts of the kept groups' values alone (the rules read no others): every
        // value's, hashed into a dictionary, was a tenth of the aggregation's time with a hundred
        // thousand principals.
        var members: [String: Int] = [:]
        let counts = values.members
        for item in kept {
            let id = Int(item.key >> 32)
            members[name(id)] = Int(counts[id])
        }
        return Aggregation(groups: result, evidence: RowEvidence(context: context, records: records), members: members)
    }

    /// One partition's parts merged by key: the table of the keys, and each key's group (its
    /// `distinct` still 0) at the key's index.
    static func merged(_ parts: [GroupRecord]) -> (table: IntegerTable, groups: [Group]) {
        var table = IntegerTable(capacity: parts.count)
        var merged: [Group] = []
        merged.reserveCapacity(parts.count)
        for part in parts {
            let (index, isNew) = table.index(of: part.key)
            if isNew {
                merged.append(Group(count: part.count, firstTime: part.firstTime, lastTime: part.lastTime,
                                    firstAt: part.first, lastAt: part.last))
            } else {
                merged[index].absorb(part)
            }
        }
        return (table, merged)
    }

    /// The bucket of a packed key that holds a value's rows without a time, when a bucketed scan
    /// keeps them apart (``scanSegment``'s `nullTimes`): never a real bucket, which
    /// ``firstBucket(_:width:seconds:)`` keeps below 2^32 - 1.
    package static let nullTimeBucket: UInt64 = 0xFFFF_FFFF

    /// The earliest bucket of the rows of `records` (0 without buckets); throws when the rows span
    /// more buckets than a key holds (2^32 - 1: with 1-hour buckets, 490,000 years).
    static func firstBucket(_ records: [SegmentRecord], width: Int64?, seconds: Int64) throws -> Int64 {
        guard let width else { return 0 }
        let times = records.compactMap(\.minTime) + records.compactMap(\.maxTime)
        guard let low = times.min(), let high = times.max() else { return 0 }
        let base = bucket(low, width)
        guard bucket(high, width) - base < Int64(UInt32.max) else {
            throw StoreError.corrupt(path: "catalog", offset: 0,
                                     detail: "the inference rows span more than 2^32 buckets of \(seconds) s; use a wider bucket")
        }
        return base
    }

    /// The second pass of ``run(_:keyColumn:bucketSeconds:distinct:distinctOver:keep:folding:)``:
    /// counts the distinct inputs of `candidates` (packed keys and merged groups), reading again only
    /// the segments where one of their key values has rows, and handing over only their inputs
    /// (through partitions, so memory stays flat however many inputs they have).
    static func countCandidateInputs(_ candidates: inout [(key: UInt64, group: Group)], context: HuntContext,
                                     segmentIndex: [String: UInt32], patterns: [[UInt32]], keyColumn: String,
                                     width: Int64?, base: Int64, values: KeyValues, spill: SpillDirectory) throws {
        var sets = [CandidateSet(keyColumn: keyColumn, width: width, base: base, values: values, candidates: candidates)]
        try countCandidateInputs(&sets, context: context, patterns: patterns, spill: spill)
        candidates = sets[0].candidates
    }

    /// Groups whose distinct inputs are wanted, keyed as a grouping of `keyColumn` by `width`
    /// from `base` (nil: one bucket for all time) packs them.
    struct CandidateSet {
        var keyColumn: String
        var width: Int64?
        var base: Int64
        var values: KeyValues
        var candidates: [(key: UInt64, group: Group)]
    }

    /// ``countCandidateInputs(_:context:segmentIndex:patterns:keyColumn:width:base:values:spill:)``
    /// of several sets from one pass: each segment is opened, and its times, paths and inputs
    /// inflated, once for all of them. The sets share the memory one set would have.
    static func countCandidateInputs(_ sets: inout [CandidateSet], context: HuntContext, patterns: [[UInt32]],
                                     spill: SpillDirectory) throws {
        let live = sets.indices.filter { !sets[$0].candidates.isEmpty }
        guard !live.isEmpty else { return }
        let budget = context.memoryBudget / 2 / live.count
        let prepared = live.map { index -> (set: CandidateSet, wanted: IntegerTable, groups: NumberSet,
                                            parts: PartitionedSpill<InputRecord>) in
            let set = sets[index]
            var table = IntegerTable(capacity: set.candidates.count)
            for candidate in set.candidates { _ = table.index(of: candidate.key) }
            // Enough partitions that each holds about ``inputPiece`` records at most: a group has no
            // more inputs than rows, so its rows bound them. A fixed 64 grew each partition with the
            // evidence (560,000 records at 4 GB of the default shape: 13.5 MB read back, and an
            // 8 MB set to count them).
            let rows = set.candidates.reduce(0) { $0 + Int($1.group.count) }
            return (set, table, NumberSet(set.candidates.map { UInt32(truncatingIfNeeded: $0.key >> 32) }),
                    PartitionedSpill<InputRecord>(partitions: inputPartitions(rows: rows), budget: budget, spill: spill,
                                                  name: "inputs-\(index)"))
        }
        _ = try context.map(.inference) { segment -> Int in
            var handed = 0
            for item in prepared {
                handed += try candidateInputs(segment, context: context, patterns: patterns, keyColumn: item.set.keyColumn,
                                              width: item.set.width, base: item.set.base, values: item.set.values,
                                              groups: item.groups, wanted: item.wanted, to: item.parts)
            }
            return handed
        }
        // The partitions are counted on the hunt's threads: a distinct (group, input) pair is in one
        // partition only, so each thread counts the partitions it takes into counts of its own, and
        // the counts add up. Counted on one thread, this was the every-rule hunt's last stretch with
        // the other core idle (the extraction rules end last).
        let partitions = prepared.map(\.parts.partitionCount)
        let tasks = zip(prepared.indices, partitions).flatMap { set, count in (0..<count).map { (set: set, partition: $0) } }
        let workers = max(1, min(context.scan.jobs, tasks.count))
        let slots = WorkSlots<[[Int64]], any Error>(count: workers)
        let next = WorkSlots<Void, Never>(count: tasks.count)
        TaskPool.shared.apply(count: workers, width: workers) { worker in
            var counts = prepared.map { [Int64](repeating: 0, count: $0.set.candidates.count) }
            do {
                while let claimed = next.claim() {
                    let task = tasks[claimed]
                    let item = prepared[task.set]
                    countDistinct(try item.parts.take(task.partition), table: item.wanted, into: &counts[task.set])
                }
                slots.store(worker, .success(counts))
            } catch {
                // The other threads stop at their next partition.
                while next.claim() != nil {}
                slots.store(worker, .failure(error))
            }
        }
        var totals = prepared.map { [Int64](repeating: 0, count: $0.set.candidates.count) }
        for slot in slots.takeAll() {
            guard let slot else { continue }
            let counts = try slot.get()
            for set in counts.indices {
                for position in counts[set].indices { totals[set][position] += counts[set][position] }
            }
        }
        for (set, index) in live.enumerated() {
            for position in sets[index].candidates.indices {
                sets[index].candidates[position].group.distinct += totals[set][position]
            }
        }
    }

    /// Hands over the non-null inputs of one segment's rows that fall in a group of `wanted` (packed
    /// keys; `groups` their group numbers); the rows are picked as ``scanSegment`` picks them.
    static func candidateInputs(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String,
                                width: Int64?, base: Int64, values: KeyValues, groups: NumberSet,
                                wanted: IntegerTable, to inputParts: PartitionedSpill<InputRecord>) throws -> Int {
        let keys = try table.dictionary(keyColumn)
        let codeGroups = values.knownGroups(of: values.numbering.ids(of: keys, segment: table.record.path))
        let isWanted = codeGroups.map { groups.contains($0) }
        guard isWanted.contains(true) else { return 0 }
        let paths = try table.dictionary("path")
        let pathMatches = endpointMatches(paths, patterns: patterns)
        guard pathMatches.contains(true) else { return 0 }
        let times = try table.int64("time")
        let inputs = try table.hash128("input_hash")
        let checkRange = !context.coversAll(table)
        var batch: [InputRecord] = []
        var handed = 0
        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count {
                        let code = Int(keySpan[row])
                        guard isWanted[code], pathMatches[Int(pathSpan[row])] else { continue }
                        let time = timeSpan[row]
                        if checkRange, !context.includes(time) { continue }
                        var bucketOffset: Int64 = 0
                        if let width {
                            if time == Int64.min { continue }
                            bucketOffset = bucket(time, width) - base
                        }
                        let key = UInt64(codeGroups[code]) << 32 | UInt64(truncatingIfNeeded: bucketOffset)
                        guard wanted.find(key) != nil else { continue }
                        let hash = inputs[row]
                        guard !hash.isNull else { continue }
                        batch.append(InputRecord(key: key, low: hash.low, high: hash.high))
                        handed += 1
                        if batch.count == Self.batchSize { handPairs(&batch, to: inputParts) }
                    }
                }
            }
        }
        if !batch.isEmpty { handPairs(&batch, to: inputParts) }
        return handed
    }

    /// Input records a partition of the candidates' inputs holds at most, about (24 bytes each:
    /// 3 MB, and a 1 MB set to count them).
    package static let inputPiece = 1 << 17

    /// Partitions for the inputs of groups of `rows` rows together: a power of two from 64 (as
    /// many as the other spills) to 16,384, each about ``inputPiece`` records at most.
    package static func inputPartitions(rows: Int) -> Int {
        var partitions = 1 << partitionBits
        while partitions < 1 << 14, partitions * inputPiece < rows { partitions <<= 1 }
        return partitions
    }

    /// Hands input records to the partition of their (group, input) pair: counting distinct pairs
    /// needs only that equal pairs meet, and spreading by pair keeps a group of millions of inputs
    /// (one principal's whole range) from filling one partition.
    package static func handPairs(_ batch: inout [InputRecord], to parts: PartitionedSpill<InputRecord>) {
        let shift = UInt64(64 - parts.partitionCount.trailingZeroBitCount)
        parts.add(&batch) { record in
            let mixed = (record.key &* 0x9E37_79B9_7F4A_7C15) ^ record.low ^ (record.high &* 0xC2B2_AE3D_27D4_EB4F)
            return Int(truncatingIfNeeded: (mixed &* 0xD6E8_FEB8_6659_FD93) >> shift)
        }
    }

    /// Counts each group's distinct input hashes of one partition into `merged` (indexed as `table`).
    /// An open-addressing set of (key, hash) compares full keys, so a collision of the set's own
    /// hash costs a probe, never a miscount.
    static func countDistinct(_ inputs: [InputRecord], table: IntegerTable, into merged: inout [Group]) {
        var counts = [Int64](repeating: 0, count: merged.count)
        countDistinct(inputs, table: table, into: &counts)
        for index in merged.indices { merged[index].distinct += counts[index] }
    }

    /// ``countDistinct(_:table:into:)-([Group])`` into counts by group (indexed as `table`).
    static func countDistinct(_ inputs: [InputRecord], table: IntegerTable, into counts: inout [Int64]) {
        guard !inputs.isEmpty else { return }
        var capacity = 16
        while capacity < inputs.count * 2 { capacity <<= 1 }
        let mask = capacity - 1
        var slots = [Int32](repeating: -1, count: capacity)
        for index in inputs.indices {
            let input = inputs[index]
            var slot = Int(truncatingIfNeeded: input.low ^ (input.key &* 0x9E37_79B9_7F4A_7C15)) & mask
            var isNew = true
            while slots[slot] >= 0 {
                let other = inputs[Int(slots[slot])]
                if other.low == input.low, other.high == input.high, other.key == input.key { isNew = false; break }
                slot = (slot + 1) & mask
            }
            guard isNew else { continue }
            slots[slot] = Int32(index)
            if let group = table.find(input.key) { counts[group] += 1 }
        }
    }

    /// Whether each entry of a segment's path dictionary contains one of the endpoint patterns.
    package static func endpointMatches(_ paths: DictionaryColumn, patterns: [[UInt32]]) -> [Bool] {
        (0..<paths.entryCount).map { code in
            let folded = FoldedText.folded(paths.entry(UInt32(code)))
            return patterns.contains { FoldedText.contains(folded, $0) }
        }
    }

    /// Rows per key value in one segment, counting exactly the rows ``scanSegment`` groups: pairs
    /// of (value number in the hunt's numbering of `keyColumn`, rows), for the values with rows.
    package static func valueRows(_ table: SegmentTable, context: HuntContext, patterns: [[UInt32]], keyColumn: String,
                          bucketed: Bool) throws -> [(id: UInt32, rows: Int64)] {
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let pathMatches = endpointMatches(try table.dictionary("path"), patterns: patterns)
        guard pathMatches.contains(true) else { return [] }
        let paths = try table.dictionary("path")
        let checkRange = !context.coversAll(table)
        var counts = [Int64](repeating: 0, count: keys.entryCount)
        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count where pathMatches[Int(pathSpan[row])] {
                        let time = timeSpan[row]
                        if checkRange, !context.includes(time) { continue }
                        if bucketed, time == Int64.min { continue }
                        counts[Int(keySpan[row])] += 1
                    }
                }
            }
        }
        let ids = context.numbering(keyColumn).ids(of: keys, segment: table.record.path)
        var result: [(id: UInt32, rows: Int64)] = []
        for code in counts.indices where counts[code] > 0 { result.append((ids[code], counts[code])) }
        return result
    }

    /// Hands a batch of records to their partitions (the grouping is inlined here, so its loop over
    /// records is specialised for the record type).
    static func hand<Record: KeyedRecord>(_ batch: inout [Record], to parts: PartitionedSpill<Record>) {
        parts.add(&batch) { partition($0.key) }
    }

    /// Records handed to the partitions at a time.
    package static let batchSize = 1 << 14

    /// Groups one segment's rows and hands its group and input records to the partitions; returns
    /// the rows grouped. With `nullTimes`, a bucketed scan keeps each value's rows without a time
    /// as a group of bucket ``nullTimeBucket`` instead of leaving them out (a total rolled up from
    /// the buckets counts them). `pathMatches`: the segment's ``endpointMatches(_:patterns:)``,
    /// when the caller has them already.
    package static func scanSegment(_ table: SegmentTable, segment: UInt32, context: HuntContext, patterns: [[UInt32]],
                            keyColumn: String, width: Int64?, base: Int64, values: KeyValues,
                            groups groupParts: PartitionedSpill<GroupRecord>,
                            inputs inputParts: PartitionedSpill<InputRecord>?,
                            nullTimes: Bool = false, pathMatches known: [Bool]? = nil) throws -> Int {
        let times = try table.int64("time")
        let keys = try table.dictionary(keyColumn)
        let paths = try table.dictionary("path")
        // Input hashes are read only when they are handed over (16 bytes a row).
        let inputs = inputParts == nil ? nil : try table.hash128("input_hash")
        let pathMatches = known ?? endpointMatches(paths, patterns: patterns)
        guard pathMatches.contains(true) else { return 0 }
        let checkRange = !context.coversAll(table)
        var low: Int64 = 0
        var bucketCount = 1
        // Every row with a time must lie in the segment's range: the local table is laid out over
        // it (a row outside would land in another key's cells, or outside the table).
        let earliest = table.record.minTime ?? Int64.max
        let latest = table.record.maxTime ?? Int64.min
        var outsideRange: Int64?
        if let width, let minTime = table.record.minTime, let maxTime = table.record.maxTime {
            low = bucket(minTime, width)
            let span = bucket(maxTime, width) - low + 1
            bucketCount = span > 0 && span < 1 << 30 ? Int(span) : Int.max
        }
        // Local groups: a flat table of key code × bucket when that is small against the rows,
        // otherwise a hash table of (code, bucket).
        let keyCount = keys.entryCount
        let (cells, overflow) = keyCount.multipliedReportingOverflow(by: bucketCount)
        let useFlat = bucketCount != Int.max && !overflow && cells <= max(1 << 16, min(1 << 22, 2 * table.rowCount))
        var flat = useFlat ? [Int32](repeating: -1, count: cells) : []
        var hashed = IntegerTable(capacity: useFlat ? 0 : min(table.rowCount, 1 << 16))
        // Group number of each key code, looked up when the code first has a row.
        let unknown = UInt32.max - 1
        let ids = values.numbering.ids(of: keys, segment: table.record.path)
        var codeGroups: [UInt32]
        if !values.folds, keyCount <= table.rowCount {
            // Most entries will have rows: number them all at once (one lock per segment).
            codeGroups = values.groups(of: ids)
        } else {
            codeGroups = [UInt32](repeating: unknown, count: keyCount)
        }
        // The segment's groups as the records handed to the partitions, each one's key, count,
        // times and rows side by side: a row updates one 48-byte record, where six arrays (key,
        // count, first and last time, first and last row) were up to five cache lines a row, the
        // rows of an hour landing on groups all over them.
        var groups: [GroupRecord] = []
        // At most a group per row, per cell of the flat table, plus a group of rows without a
        // time per key code: reserved once, never grown and copied.
        let groupBound = min(table.rowCount, useFlat ? cells + keyCount : table.rowCount)
        groups.reserveCapacity(groupBound)
        var inputBatch: [InputRecord] = []
        if inputParts != nil { inputBatch.reserveCapacity(Self.batchSize) }
        var grouped = 0
        // With `nullTimes`: the local group of each key code's rows without a time (-1: none yet).
        var nullGroups: [Int32] = []
        // The bucket of the previous row, [start, end) in time: rows come mostly in time order, so
        // most rows need no division.
        var bucketStart: Int64 = 1
        var bucketEnd: Int64 = 0
        var bucketOffset: Int64 = 0

        times.withSpan { timeSpan in
            keys.withCodeSpan { keySpan in
                paths.withCodeSpan { pathSpan in
                    for row in 0..<timeSpan.count {
                        guard pathMatches[Int(pathSpan[row])] else { continue }
                        let time = timeSpan[row]
                        if checkRange, !context.includes(time) { continue }
                        var offset: Int64 = 0
                        var isNullTime = false
                        if let width {
                            if time == Int64.min {
                                guard nullTimes else { continue }
                                isNullTime = true
                            } else if time < earliest || time > latest {
                                outsideRange = time
                                break
                            } else if time >= bucketStart && time < bucketEnd {
                                offset = bucketOffset
                            } else {
                                let number = bucket(time, width)
                                offset = number - low
                                let start = number.multipliedReportingOverflow(by: width)
                                let end = start.partialValue.addingReportingOverflow(width)
                                if start.overflow || end.overflow {
                                    bucketStart = 1
                                    bucketEnd = 0
                                } else {
                                    bucketStart = start.partialValue
                                    bucketEnd = end.partialValue
                                    bucketOffset = offset
                                }
                            }
                        }
                        let code = keySpan[row]
                        var groupID = codeGroups[Int(code)]
                        if groupID == unknown {
                            groupID = values.groups(of: [ids[Int(code)]])[0]
                            codeGroups[Int(code)] = groupID
                        }
                        if groupID == UInt32.max { continue }
                        var index: Int
                        if isNullTime, !useFlat {
                            // Offsets stay below 2^32 - 1 (``firstBucket``): the marker is no offset.
                            index = hashed.index(of: UInt64(code) << 32 | nullTimeBucket).index
                        } else if isNullTime {
                            if nullGroups.isEmpty { nullGroups = [Int32](repeating: -1, count: keyCount) }
                            index = Int(nullGroups[Int(code)])
                            if index < 0 {
                                index = groups.count
                                nullGroups[Int(code)] = Int32(index)
                            }
                        } else if useFlat {
                            let slot = Int(code) * bucketCount + Int(offset)
                            index = Int(flat[slot])
                            if index < 0 {
                                index = groups.count
                                flat[slot] = Int32(index)
                            }
                        } else {
                            index = hashed.index(of: UInt64(code) << 32 | UInt64(offset)).index
                        }
                        let at = RowAt(segment: segment, row: UInt32(row))
                        if index == groups.count {
                            groups.append(GroupRecord(
                                key: UInt64(groupID) << 32 | (isNullTime ? nullTimeBucket : UInt64(low + offset - base)),
                                count: 1, firstTime: time, lastTime: time, first: at, last: at))
                        } else {
                            groups[index].count += 1
                            if time < groups[index].firstTime {
                                groups[index].firstTime = time
                                groups[index].first = at
                            }
                            if time >= groups[index].lastTime {
                                groups[index].lastTime = time
                                groups[index].last = at
                            }
                        }
                        grouped += 1
                        if let inputParts, let inputs {
                            let hash = inputs[row]
                            if !hash.isNull {
                                inputBatch.append(InputRecord(key: groups[index].key, low: hash.low, high: hash.high))
                                if inputBatch.count == Self.batchSize { hand(&inputBatch, to: inputParts) }
                            }
                        }
                    }
                }
            }
        }
        if let outsideRange {
            throw StoreError.corrupt(path: table.record.path, offset: 0,
                                     detail: "a row's time (\(outsideRange) ns) lies outside the segment's range \(earliest)...\(latest)")
        }
        if let inputParts, !inputBatch.isEmpty { hand(&inputBatch, to: inputParts) }
        hand(&groups, to: groupParts)
        return grouped
    }
}

/// A set of numbers (value or group numbers, which are dense from 0), asked about once for each
/// entry of a segment's dictionary: a bit per number up to the largest, where a `Set` hashed each
/// question (about 1 % of the every-rule hunt). Numbers past ``limit`` are kept in a `Set`.
package struct NumberSet: Sendable {
    private var bits: [UInt64] = []
    private var large: Set<UInt32> = []
    /// The numbers held as bits are those below it.
    package static let limit: UInt32 = 1 << 26

    package init(_ numbers: some Sequence<UInt32>) {
        for number in numbers {
            guard number < Self.limit else {
                large.insert(number)
                continue
            }
            let word = Int(number >> 6)
            if word >= bits.count { bits.append(contentsOf: repeatElement(0, count: word + 1 - bits.count)) }
            bits[word] |= 1 << UInt64(number & 63)
        }
    }

    @inline(__always)
    package func contains(_ number: UInt32) -> Bool {
        guard number < Self.limit else { return large.contains(number) }
        let word = Int(number >> 6)
        return word < bits.count && bits[word] & (1 << UInt64(number & 63)) != 0
    }
}

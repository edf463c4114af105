@testable import FathomCore
import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomSimulator

/// A small scenario of the high-cardinality shape (thousands of client addresses with flat volumes,
/// tens of thousands of (address, hour) groups), generated and ingested once for the suite.
private struct HighCardinalityFixture: Sendable {
    let directory: String
    let store: String

    static let shared: Result<HighCardinalityFixture, FixtureFailure> = {
        let directory = NSTemporaryDirectory() + "fathom-highcard-\(ProcessInfo.processInfo.processIdentifier)"
        do {
            var shape = TrafficShape.highCardinality()
            shape.clients = 4_000
            let request = SimulationRequest(outputDirectory: directory + "/scenario", seed: 11, scale: 60_000, days: 1,
                                            start: ScenarioTime.parseDate("2026-03-02") ?? 0, threads: 2, shape: shape)
            _ = try Simulator.run(request)
            let kinds = ["inference", "llm", "predictions", "storage"]
            _ = try IngestEngine.run(IngestRequest(paths: kinds.map { directory + "/scenario/" + $0 },
                                                   storeDirectory: directory + "/store", jobs: 2))
            return .success(HighCardinalityFixture(directory: directory + "/scenario", store: directory + "/store"))
        } catch {
            return .failure(FixtureFailure(message: "\(error)"))
        }
    }()

    func hunt(_ rules: [String], settings: RuleSettings = RuleSettings(), budget: Int = HuntRequest.defaultMemoryBudget) throws -> [Hit] {
        try Hunt.run(HuntRequest(storeDirectory: store, settings: settings, ruleIDs: rules, jobs: 2, memoryBudget: budget)).hits.map { $0 }
    }
}

private struct FixtureFailure: Error, Sendable { let message: String }

@Suite("High-cardinality grouping") struct HighCardinalityTests {
    private func fixture() throws -> HighCardinalityFixture { try HighCardinalityFixture.shared.get() }

    /// Per (address, hour): queries and distinct bodies on model endpoints, counted from the raw
    /// archives with Foundation's parsers.
    private func independentGroups(_ directory: String) throws -> [String: (count: Int, inputs: Set<String>)] {
        var groups: [String: (count: Int, inputs: Set<String>)] = [:]
        let paths = ["/predict", "/inference", "/completions"]
        for file in try ScenarioText.files(in: directory + "/inference", prefix: "gateway-") {
            for line in try ScenarioText.lines(file) {
                let row = try ScenarioText.json(line)
                guard paths.contains(where: (row["path"] as? String ?? "").contains) else { continue }
                let key = "\(row["client_ip"] as? String ?? "")|\(ScenarioText.hourOf(rfc3339: row["timestamp"] as? String ?? ""))"
                var entry = groups[key] ?? (0, [])
                entry.count += 1
                if let body = row["request_body"] as? String { entry.inputs.insert(body) }
                groups[key] = entry
            }
        }
        for file in try ScenarioText.files(in: directory + "/inference", prefix: "nginx-") {
            for line in try ScenarioText.lines(file) {
                let fields = ScenarioText.logFields(line)
                let request = fields[4].split(separator: " ")
                guard request.count == 3, paths.contains(where: request[1].contains) else { continue }
                groups["\(fields[0])|\(ScenarioText.hourOf(commonLog: fields[3]))", default: (0, [])].count += 1
            }
        }
        return groups
    }

    private func described(_ hits: [Hit]) -> [String] {
        hits.map { hit in
            let ip = hit.key["src_ip"].map { "\($0)" } ?? ""
            let hour = hit.window.map { TimeParser.format($0.start.nanoseconds) } ?? ""
            return "\(ip)|\(hour)|\(hit.metrics[Metric.queryCount].map { "\($0)" } ?? "")|\(hit.metrics[Metric.distinctInputs].map { "\($0)" } ?? "")"
        }.sorted()
    }

    @Test func theShapeKnobsMakeWhatTheySay() throws {
        let fixture = try fixture()
        let groups = try independentGroups(fixture.directory)
        let addresses = Set(groups.keys.map { $0.split(separator: "|")[0] })
        #expect(addresses.count > 3_500, "thousands of client addresses, got \(addresses.count)")
        #expect(groups.count > 20_000, "tens of thousands of (address, hour) groups, got \(groups.count)")
        // 55 % of the bodies are new, the others repeat a pool of common inputs (at this small scale
        // many pooled draws are still first occurrences, so the distinct share is above 55 %).
        var bodies = 0
        var distinct = Set<String>()
        for file in try ScenarioText.files(in: fixture.directory + "/inference", prefix: "gateway-") {
            for line in try ScenarioText.lines(file) {
                guard let body = try ScenarioText.json(line)["request_body"] as? String else { continue }
                bodies += 1
                distinct.insert(body)
            }
        }
        let share = Double(distinct.count) / Double(bodies)
        #expect(share > 0.5 && share < 0.85, "share of distinct bodies \(share)")
        // Benign prompts with trigger words, and the decisions of the added models.
        var prompts = 0
        var triggers = 0
        var stock = 0
        let lookAlikes = Set(LLMTraffic.benignTriggerPrompts)
        let stockPrompts = LLMTraffic.prompts
        for file in try ScenarioText.files(in: fixture.directory + "/llm", prefix: "") {
            for line in try ScenarioText.lines(file) {
                prompts += 1
                if lookAlikes.contains(where: line.contains) { triggers += 1 }
                if stockPrompts.contains(where: line.contains) { stock += 1 }
            }
        }
        let triggerShare = Double(triggers) / Double(prompts)
        #expect(triggerShare > 0.12 && triggerShare < 0.20, "trigger share \(triggerShare)")
        // 90 % of the everyday prompts (82 % of all) are new text, the rest stock prompts.
        let stockShare = Double(stock) / Double(prompts)
        #expect(stockShare > 0.05 && stockShare < 0.12, "stock prompt share \(stockShare)")
        var models: Set<String> = []
        for file in try ScenarioText.files(in: fixture.directory + "/predictions", prefix: "model-decisions-") {
            for line in try ScenarioText.lines(file) {
                let row = try ScenarioText.json(line)
                models.insert("\(row["model"] as? String ?? "")@\(row["model_version"] as? String ?? row["version"] as? String ?? "")")
            }
        }
        #expect(models.count >= 4 && models.allSatisfy { $0.hasPrefix("aml-screening@") || $0.hasPrefix("merchant-risk@") },
                "two added models in several versions: \(models.sorted())")
    }

    /// With thresholds of a few queries and distinct inputs almost every group is a hit, so every
    /// group's count and distinct inputs are checked — in memory and spilled at every batch. The
    /// distinct inputs are counted only for groups over the smaller threshold (a second pass), so
    /// the pairs put it on either side: (2, 1) and (6, 2) keep groups by their distinct inputs alone
    /// (3 rows, 3 bodies), (1, 4) by their rows alone.
    @Test(arguments: [(HuntRequest.defaultMemoryBudget, 2, 1), (0, 2, 1), (HuntRequest.defaultMemoryBudget, 6, 2),
                      (0, 1, 4)] as [(Int, Int64, Int64)])
    func everyGroupEqualsAnIndependentCount(budget: Int, maxQueries: Int64, maxDistinct: Int64) throws {
        let fixture = try fixture()
        var settings = RuleSettings()
        settings.maxQueries = maxQueries
        settings.maxDistinctInputs = maxDistinct
        let hits = try fixture.hunt([RuleID.extractionVolume], settings: settings, budget: budget)
        let mine = described(hits)
        let groups = try independentGroups(fixture.directory)
        let theirs = groups
            .filter { $0.value.count > maxQueries || $0.value.inputs.count > maxDistinct }
            .map { key, value in "\(key)|\(value.count)|\(value.inputs.count)" }.sorted()
        #expect(theirs.count > 2_000, "enough groups over the thresholds to mean something: \(theirs.count)")
        let byDistinctAlone = groups.values.filter { $0.count <= maxQueries && $0.inputs.count > maxDistinct }.count
        if maxQueries > maxDistinct {
            #expect(byDistinctAlone > 100, "groups kept by their distinct inputs alone: \(byDistinctAlone)")
        }
        #expect(mine.count == theirs.count)
        #expect(mine == theirs)
    }

    /// The columns a built-in rule reads on every row of its kind are stored plain, read in place:
    /// packed, they were inflated again by every scan of a segment (a sixth of every-rule `hunt`'s
    /// CPU on the 4 GB high-cardinality store). The rest of what is packed stays packed.
    @Test func theColumnsRulesReadOnEveryRowAreNotPacked() {
        let hot: [SourceKind: [String]] = [
            .inference: ["time", "src_ip", "principal", "path", "input_hash"],
            .llm: ["time", "src_ip", "principal", "prompt", "response"],
            .storage: ["time", "src_ip", "operation", "action", "key"],
        ]
        for (kind, names) in hot {
            let schema = KindSchema.of(kind)
            for name in names {
                guard let index = schema.index(of: name) else {
                    Issue.record("\(kind) has no column \(name)")
                    continue
                }
                #expect(!schema.columns[index].compressed, "\(kind).\(name) is read on every row")
            }
        }
        let packed: [(SourceKind, String)] = [(.inference, "request_id"), (.inference, "user_agent"), (.llm, "system_prompt"),
                                              (.llm, "session"), (.storage, "principal"), (.storage, "user_agent"),
                                              (.inference, "line"), (.predictions, "subject")]
        for (kind, name) in packed {
            let schema = KindSchema.of(kind)
            #expect(schema.index(of: name).map { schema.columns[$0].compressed } == true, "\(kind).\(name) stays packed")
        }
    }

    @Test func spillingChangesNoHitOfAnyGroupingRule() throws {
        let fixture = try fixture()
        var settings = RuleSettings()
        settings.totalMaxQueries = 20
        settings.totalMaxDistinctInputs = 10
        settings.dailyBudget = 15
        let rules = [RuleID.extractionVolume, RuleID.networkTotal, RuleID.principalTotal,
                     RuleID.budget]
        let inMemory = try fixture.hunt(rules, settings: settings)
        let spilled = try fixture.hunt(rules, settings: settings, budget: 0)
        #expect(inMemory.count > 1_000)
        #expect(inMemory == spilled)
        // The per-network rule counts the addresses of each network.
        let networks = inMemory.filter { $0.rule == RuleID.networkTotal }
        #expect(!networks.isEmpty)
        #expect(networks.allSatisfy { hit in
            if case .int(let addresses)? = hit.metrics["addresses"] { return addresses >= 1 }
            return false
        })
    }
}

@Suite("Partitioned spill and integer table") struct PartitionedSpillTests {
    struct Record: BitwiseCopyable, Equatable {
        var key: UInt64
        var value: Int64
    }

    private func add(_ batch: inout [Record], to spill: PartitionedSpill<Record>) {
        var grouped: [Record] = []
        var bounds: [Int] = []
        PartitionedSpill.partitioned(batch, partitions: 8, partition: { Int($0.key % 8) }, into: &grouped, bounds: &bounds)
        #expect(bounds.first == 0 && bounds.last == batch.count && grouped.count == batch.count)
        spill.add(grouped: &grouped, bounds: bounds)
        batch.removeAll()
    }

    @Test(arguments: [0, 1 << 12, 1 << 30])
    func everyRecordComesBackInItsPartitionInOrder(budget: Int) throws {
        let directory = try TemporaryDirectory()
        let spill = PartitionedSpill<Record>(partitions: 8, budget: budget, spill: SpillDirectory(root: directory.path), name: "t")
        var rng = SeededGenerator(seed: 5)
        let records = (0..<50_000).map { index in Record(key: rng.next() % 3_000, value: Int64(index)) }
        var batch: [Record] = []
        for record in records {
            batch.append(record)
            if batch.count == 777 { add(&batch, to: spill) }
        }
        add(&batch, to: spill)
        #expect(batch.isEmpty)
        #expect(spill.didSpill == (budget < 1 << 20))
        for partition in 0..<8 {
            let expected = records.filter { Int($0.key % 8) == partition }
            #expect(try spill.take(partition) == expected)
            #expect(try spill.take(partition).isEmpty, "taking empties the partition")
        }
    }

    /// The spill's buffers stay within its budget however the batches fall: a batch larger than a
    /// partition's room goes to disk in pieces, and no buffer is grown past its capacity (grown by
    /// doubling, they took up to twice the budget).
    @Test(arguments: [1 << 12, 3 << 14, 1 << 17])
    func theBuffersStayWithinTheBudget(budget: Int) throws {
        let directory = try TemporaryDirectory()
        let spill = PartitionedSpill<Record>(partitions: 8, budget: budget, spill: SpillDirectory(root: directory.path), name: "b")
        let stride = MemoryLayout<Record>.stride
        // What the allocator may add to an exact request: a few elements a partition.
        let slack = 8 * 64 / stride + 8
        var rng = SeededGenerator(seed: 11)
        var records: [Record] = []
        var peak = 0
        for round in 0..<60 {
            // Batches from a few records to several partitions' capacity at once.
            let size = [3, 100, spill.partitionCapacity * 3 + 5, 1_000, spill.partitionCapacity - 1][round % 5]
            var batch = (0..<size).map { _ in Record(key: rng.next() % 5_000, value: Int64(records.count)) }
            for index in batch.indices { batch[index].value = Int64(records.count + index) }
            records += batch
            if round % 2 == 0 {
                add(&batch, to: spill)
            } else {
                spill.add(&batch) { Int($0.key % 8) }
            }
            peak = max(peak, spill.bufferedCapacity)
            #expect(spill.bufferedCapacity <= 8 * spill.partitionCapacity + slack,
                    "\(spill.bufferedCapacity) elements buffered for a budget of \(budget / stride)")
        }
        #expect(peak > 8 * spill.partitionCapacity / 2, "the budget is used, not starved")
        for partition in 0..<8 {
            #expect(try spill.take(partition) == records.filter { Int($0.key % 8) == partition })
        }
    }

    /// Batches grouped in the spill's kept buffers (``PartitionedSpill/add(_:partition:)``) from
    /// two producers at once, a large batch before small ones and empty ones between: every record
    /// comes back in its partition, each producer's in its order, none twice.
    @Test(arguments: [0, 1 << 30])
    func batchesGroupedInKeptBuffersComeBackWhole(budget: Int) throws {
        let directory = try TemporaryDirectory()
        let spill = PartitionedSpill<Record>(partitions: 8, budget: budget, spill: SpillDirectory(root: directory.path), name: "k")
        let sizes = [20_000, 3, 0, 900, 1, 12_000, 0, 57]
        let producers = 2
        DispatchQueue.concurrentPerform(iterations: producers) { producer in
            var value = Int64(producer) << 40
            for size in sizes {
                var batch = (0..<size).map { index -> Record in
                    value += 1
                    return Record(key: UInt64(index * 7 + producer), value: value)
                }
                spill.add(&batch) { Int($0.key % 8) }
                #expect(batch.isEmpty)
            }
        }
        var total = 0
        for partition in 0..<8 {
            let taken = try spill.take(partition)
            total += taken.count
            #expect(taken.allSatisfy { Int($0.key % 8) == partition })
            for producer in 0..<producers {
                let own = taken.filter { $0.value >> 40 == Int64(producer) }.map(\.value)
                #expect(own == own.sorted(), "producer \(producer)'s records keep their order")
                #expect(Set(own).count == own.count)
            }
        }
        #expect(total == producers * sizes.reduce(0, +))
    }

    /// Thousands of partitions spill to one scratch file, each partition's pieces read back in the
    /// order written, interleaved as they were with the other partitions' pieces.
    @Test func manyPartitionsShareOneSpillFile() throws {
        let directory = try TemporaryDirectory()
        let partitions = 4_096
        let spill = PartitionedSpill<Record>(partitions: partitions, budget: partitions * 3 * MemoryLayout<Record>.stride,
                                             spill: SpillDirectory(root: directory.path), name: "m")
        var rng = SeededGenerator(seed: 21)
        let records = (0..<200_000).map { index in Record(key: rng.next() % 50_000, value: Int64(index)) }
        var start = 0
        while start < records.count {
            var batch = Array(records[start..<min(records.count, start + 1_000)])
            spill.add(&batch) { Int($0.key % UInt64(partitions)) }
            start += 1_000
        }
        #expect(spill.didSpill)
        let files = try FileManager.default.subpathsOfDirectory(atPath: directory.path).filter { $0.contains("m-") }
        #expect(files.count == 1, "\(files)")
        var expected = [[Record]](repeating: [], count: partitions)
        for record in records { expected[Int(record.key % UInt64(partitions))].append(record) }
        for partition in stride(from: partitions - 1, through: 0, by: -1) {
            #expect(spill.count(partition) == expected[partition].count)
            #expect(try spill.take(partition) == expected[partition])
            #expect(spill.count(partition) == 0)
        }
    }

    /// The candidates' inputs get partitions enough for their rows, and are spread by (group,
    /// input) pair: one group's millions of inputs do not fill one partition.
    @Test func candidateInputsAreSpreadByPair() throws {
        #expect(EndpointAggregate.inputPartitions(rows: 0) == 64)
        #expect(EndpointAggregate.inputPartitions(rows: 64 * EndpointAggregate.inputPiece) == 64)
        #expect(EndpointAggregate.inputPartitions(rows: 64 * EndpointAggregate.inputPiece + 1) == 128)
        #expect(EndpointAggregate.inputPartitions(rows: 300 * EndpointAggregate.inputPiece) == 512)
        #expect(EndpointAggregate.inputPartitions(rows: Int(Int32.max) * 64) == 1 << 14)
        let directory = try TemporaryDirectory()
        let parts = PartitionedSpill<EndpointAggregate.InputRecord>(partitions: 256, budget: 1 << 30,
                                                                    spill: SpillDirectory(root: directory.path), name: "p")
        var rng = SeededGenerator(seed: 3)
        // One group's inputs, and a few groups' inputs.
        var batch = (0..<100_000).map { index in
            EndpointAggregate.InputRecord(key: index < 60_000 ? 7 << 32 | 3 : UInt64(index % 5) << 32, low: rng.next(), high: rng.next())
        }
        let total = batch.count
        EndpointAggregate.handPairs(&batch, to: parts)
        let counts = (0..<256).map { parts.count($0) }
        #expect(counts.reduce(0, +) == total)
        #expect(counts.max()! < 2 * total / 256, "\(counts.max()!) records in one partition of 256")
    }

    @Test func integerTableNumbersKeysAsADictionaryWould() {
        var rng = SeededGenerator(seed: 8)
        var table = IntegerTable(capacity: 4)
        var reference: [UInt64: Int] = [:]
        // Keys that share low bits and high bits, zero and the largest key included.
        let keys = (0..<40_000).map { _ -> UInt64 in
            switch rng.next() % 4 {
            case 0: return rng.next() % 5_000
            case 1: return (rng.next() % 5_000) << 32
            case 2: return UInt64.max - rng.next() % 100
            default: return rng.next()
            }
        }
        for key in keys {
            let (index, isNew) = table.index(of: key)
            if let known = reference[key] {
                #expect(!isNew && index == known)
            } else {
                #expect(isNew && index == reference.count)
                reference[key] = index
            }
        }
        #expect(table.count == reference.count)
        for (key, index) in reference { #expect(table.find(key) == index) }
        #expect(table.insertedKeys.enumerated().allSatisfy { reference[$0.element] == $0.offset })
    }
}

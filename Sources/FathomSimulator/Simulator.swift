import Crypto
import Dispatch
import FathomStore
import Foundation
import FathomSupport

/// Why a simulation could not be written.
public enum SimulationError: Error, CustomStringConvertible, Sendable {
    /// The request is not valid (each problem one sentence).
    case invalidRequest([String])
    /// Writing an output failed.
    case output(path: String, detail: String)

    public var description: String {
        switch self {
        case .invalidRequest(let problems): return problems.joined(separator: " ")
        case let .output(path, detail): return "Cannot write '\(path)': \(detail)"
        }
    }
}

/// One file the simulation wrote.
public struct SimulatedFile: Sendable {
    /// Path relative to the output directory (or the member name inside the bundle).
    public var path: String
    public var kind: String
    public var format: String
    /// Records (lines, array elements, or table rows) in the file.
    public var records: Int
    /// Uncompressed bytes of the records (0 for SQLite and JSON documents).
    public var uncompressedBytes: Int
    /// Bytes on disk.
    public var bytes: Int
    public var sha256: String
}

/// What `fathom simulate` wrote.
public struct SimulationSummary: Sendable {
    public var outputDirectory: String
    public var files: [SimulatedFile]
    /// The bundle, when one was requested.
    public var bundle: SimulatedFile?
    public var expectedPath: String
    public var totalRecords: Int { files.reduce(0) { $0 + $1.records } }
    public var totalUncompressedBytes: Int { files.reduce(0) { $0 + $1.uncompressedBytes } }
    public var totalBytes: Int { bundle?.bytes ?? files.reduce(0) { $0 + $1.bytes } }
}

/// Generates a deterministic AI/ML incident scenario: log archives in the platforms' real formats
/// and `expected.json`, the known answers computed by a reference implementation over the events.
///
/// Same request (seed and options) → byte-identical output, whatever `threads` is: every hour of
/// every source draws from its own seeded stream, parallel jobs write part files that are joined
/// in a fixed order (zstd frames and gzip members concatenate), and every list in the output is
/// sorted.
public enum Simulator {
    package static let hoursPerBlock = 6
    package static let frameSize = 2 << 20
    package static let kindFolders = ["inference", "storage", "llm", "pipeline", "registry", "predictions", "sbom"]

    /// Writes the scenario described by `request`.
    public static func run(_ request: SimulationRequest) throws -> SimulationSummary {
        let problems = request.problems
        guard problems.isEmpty else { throw SimulationError.invalidRequest(problems) }
        let scenario = Scenario(request: request)
        let fm = FileManager.default
        let out = request.outputDirectory
        try fm.createDirectory(atPath: out, withIntermediateDirectories: true)
        // A case file is the simulation's own only in the variant that writes one (SampleData's is a person's).
        for name in kindFolders + ["bundle.tar.zst", "expected.json", ".parts", ".staging"] + (request.withoutDecisionLogs ? ["fathom-case.yaml"] : []) {
            let path = "\(out)/\(name)"
            if fm.fileExists(atPath: path) { try fm.removeItem(atPath: path) }
        }
        let root = request.isBundle ? "\(out)/.staging" : out
        for folder in kindFolders where !(request.withoutDecisionLogs && ["registry", "predictions"].contains(folder)) {
            try fm.createDirectory(atPath: "\(root)/\(folder)", withIntermediateDirectories: true)
        }
        let partsDirectory = "\(out)/.parts"
        try fm.createDirectory(atPath: partsDirectory, withIntermediateDirectories: true)

        // Control plane first (small, in memory): its reference answers fix the decision window.
        let control = ControlPlane(scenario: scenario)
        let pipelineEvents = control.pipelineEvents()
        let auditEvents = control.auditEvents()
        let mlflow = control.mlflowRows()
        let changes = RegistryChangeReference.changes(audit: auditEvents, models: mlflow.models, versions: mlflow.versions)
        let window = poisonWindow(changes, scenario: scenario)

        var files: [SimulatedFile] = []
        files.append(try writeLines(path: "\(root)/pipeline/mlops-pipeline-events.jsonl.zst", relative: "pipeline/mlops-pipeline-events.jsonl.zst",
                                    kind: "pipeline", format: "jsonl", compression: .zstd(frameSize: 64 << 10), items: pipelineEvents) {
            RecordFormat.pipelineLine($0, into: &$1)
        })
        // A team without a registry has no registry evidence; its case file names the version.
        if request.withoutDecisionLogs {
            try writeText(caseFile(scenario), to: "\(root)/fathom-case.yaml")
            files.append(try describe(path: "\(root)/fathom-case.yaml", relative: "fathom-case.yaml", kind: "case-file",
                                      format: "yaml", records: 0, uncompressed: 0))
        } else {
            var auditRNG = Xoshiro256(master: scenario.seed, "k8s-audit-ids")
            let auditIDs = auditEvents.map { _ in InferenceTraffic(scenario: scenario).uuid(&auditRNG) }
            files.append(try writeLines(path: "\(root)/registry/k8s-audit.jsonl.gz", relative: "registry/k8s-audit.jsonl.gz",
                                        kind: "registry", format: "k8s-audit", compression: .gzip(memberSize: 16 << 10),
                                        items: Array(zip(auditEvents, auditIDs))) {
                $1.append(RecordFormat.auditLine($0.0, auditID: $0.1))
            })
            let mlflowPath = "\(root)/registry/mlflow.db"
            do {
                try MLflowDatabase.write(path: mlflowPath, models: mlflow.models, versions: mlflow.versions)
            } catch {
                throw SimulationError.output(path: mlflowPath, detail: "\(error)")
            }
            files.append(try describe(path: mlflowPath, relative: "registry/mlflow.db", kind: "registry", format: "mlflow-sqlite",
                                      records: mlflow.models.count + mlflow.versions.count, uncompressed: 0))
        }
        let bill = SoftwareBill(scenario: scenario)
        for model in SoftwareBill.models {
            let relative = "sbom/\(model.name).cdx.json"
            try writeText(bill.document(model: model).prettyPrinted(), to: "\(root)/\(relative)")
            files.append(try describe(path: "\(root)/\(relative)", relative: relative, kind: "sbom", format: "cyclonedx-1.5",
                                      records: 1, uncompressed: 0))
        }
        // In a folder named after its model, so inventory readers attribute it to the fraud-detector.
        try FileManager.default.createDirectory(atPath: "\(root)/sbom/fraud-detector", withIntermediateDirectories: true)
        try writeText(bill.requirements(), to: "\(root)/sbom/fraud-detector/requirements.txt")
        files.append(try describe(path: "\(root)/sbom/fraud-detector/requirements.txt", relative: "sbom/fraud-detector/requirements.txt", kind: "sbom",
                                  format: "requirements-txt", records: 0, uncompressed: 0))

        // The bulk: hour blocks of each day, in parallel.
        var jobs: [SimulationJob] = []
        let blocksPerDay = 24 / hoursPerBlock
        for kind in JobKind.allCases {
            for day in 0..<request.days {
                for block in 0..<blocksPerDay { jobs.append(SimulationJob(kind: kind, day: day, block: block)) }
            }
        }
        let allJobs = jobs
        let context = JobContext(scenario: scenario, root: root, parts: partsDirectory, window: window)
        let board = JobBoard(count: jobs.count)
        let workers = max(1, min(request.threads, jobs.count))
        DispatchQueue.concurrentPerform(iterations: workers) { _ in
            while let index = board.take() {
                do {
                    board.store(index, try context.run(allJobs[index]))
                } catch {
                    board.fail(error)
                }
            }
        }
        if let error = board.error { throw error }
        let outputs = board.outputs

        // Join the parts into the final files, in a fixed order.
        var finalFiles: [String: (kind: String, format: String, records: Int, uncompressed: Int, parts: [String])] = [:]
        var order: [String] = []
        for output in outputs {
            for part in output.parts {
                if finalFiles[part.relative] == nil {
                    order.append(part.relative)
                    finalFiles[part.relative] = (part.kind, part.format, 0, 0, [])
                }
                finalFiles[part.relative]?.records += part.records
                finalFiles[part.relative]?.uncompressed += part.uncompressed
                finalFiles[part.relative]?.parts.append(part.path)
            }
        }
        for relative in order.sorted() {
            guard let entry = finalFiles[relative] else { continue }
            let path = "\(root)/\(relative)"
            do {
                let sink = try PlainFileWriter(path: path)
                for part in entry.parts { try FileConcatenation.append(contentsOf: part, to: sink) }
                try sink.close()
            } catch {
                throw SimulationError.output(path: path, detail: "\(error)")
            }
            for part in entry.parts { try? fm.removeItem(atPath: part) }
            files.append(try describe(path: path, relative: relative, kind: entry.kind, format: entry.format,
                                      records: entry.records, uncompressed: entry.uncompressed))
        }
        try? fm.removeItem(atPath: partsDirectory)
        files.sort { $0.path < $1.path }

        // The known answers.
        var extraction = ExtractionReference(identities: context.identities)
        var decisions = DecisionReference(model: scenario.poisonedModel, poisonedVersion: "v\(scenario.poisonedVersion)",
                                          windowStart: window.start, windowEnd: window.end)
        var artifacts = ArtifactReference()
        var injection = InjectionReference(plantedPrincipals: context.injectionPrincipals)
        var requests = RequestWindowReference(scenario: scenario)
        for output in outputs {
            if let part = output.requests { requests.merge(part) }
            if let part = output.extraction { extraction.merge(part) }
            if let part = output.decisions { decisions.merge(part) }
            if let part = output.artifacts { artifacts.merge(part) }
            if let part = output.injection { injection.merge(part) }
        }
        let expected = ExpectedAnswers(
            scenario: scenario, files: files, extraction: extraction, decisions: decisions, artifacts: artifacts,
            injection: injection, pipelineEvents: pipelineEvents, changes: changes, window: window,
            isBundle: request.isBundle, requests: requests)
        var bundle: SimulatedFile?
        if request.isBundle {
            let path = "\(out)/bundle.tar.zst"
            do {
                let writer = try ZstdFileWriter(path: path, level: 3, frameSize: 8 << 20)
                let tar = TarWriter(sink: writer, modificationTime: scenario.start / ScenarioTime.second)
                for file in files { try tar.appendFile(name: file.path, contentsOfFile: "\(root)/\(file.path)") }
                try tar.finish()
                try writer.close()
            } catch {
                throw SimulationError.output(path: path, detail: "\(error)")
            }
            bundle = try describe(path: path, relative: "bundle.tar.zst", kind: "bundle", format: "tar.zst",
                                  records: files.count, uncompressed: 0)
            try fm.removeItem(atPath: root)
        }
        let expectedPath = "\(out)/expected.json"
        try writeText(expected.document(bundle: bundle).prettyPrinted(), to: expectedPath)
        return SimulationSummary(outputDirectory: out, files: files, bundle: bundle, expectedPath: expectedPath)
    }

    /// The case file of the variant without decision logs: what the team knows (the compromised
    /// model and version, from the fraud analysts), not when it was deployed.
    package static func caseFile(_ scenario: Scenario) -> String {
        """
        # The case file of the variant without decision logs or a model registry (`fathom simulate
        # --no-decision-logs`): the fraud analysts know which version misbehaves, not when it served.
        id: IR-2026-0042-NDL
        title: AcmeBank fraud-detector poisoning (no decision logs)
        classification: CONFIDENTIAL
        awareness_time: \(ScenarioTime.rfc3339(scenario.rollbackTime - 80 * ScenarioTime.minute, fractionDigits: 0))
        internal_networks: [10.0.0.0/8, 192.168.0.0/16]
        compromised:
          model: \(scenario.poisonedModel)
          version: v\(scenario.poisonedVersion)
        models:
          - name: \(scenario.poisonedModel)
            business_function: card fraud scoring
            customer_facing: true

        """
    }

    /// The poisoned version's production window from the registry changes: its first deploy to
    /// `ml-prod`, to the next production change of that deployment to another version (or the end
    /// of the data).
    package static func poisonWindow(_ changes: [RegistryChange], scenario: Scenario) -> (start: Int64, end: Int64, endRule: String) {
        let poisoned = "v\(scenario.poisonedVersion)"
        guard let deploy = changes.first(where: { $0.source == "k8s-audit" && $0.namespace == "ml-prod"
            && $0.model == scenario.poisonedModel && $0.version == poisoned }) else {
            return (scenario.end, scenario.end, "never deployed")
        }
        if let back = changes.first(where: { $0.time > deploy.time && $0.source == "k8s-audit" && $0.namespace == "ml-prod"
            && $0.model == scenario.poisonedModel && $0.version != poisoned }) {
            return (deploy.time, back.time, "\(back.event) of \(back.model) to \(back.version) in ml-prod (k8s audit)")
        }
        return (deploy.time, scenario.end, "end of data (no rollback)")
    }

    package enum Compression { case zstd(frameSize: Int), gzip(memberSize: Int) }

    package static func writeLines<T>(path: String, relative: String, kind: String, format: String, compression: Compression,
                              items: [T], line: (T, inout ByteWriter) -> Void) throws -> SimulatedFile {
        var buffer = ByteWriter(capacity: 1 << 16)
        var uncompressed = 0
        do {
            let sink: ByteSink
            switch compression {
            case .zstd(let frameSize): sink = try ZstdFileWriter(path: path, level: 3, frameSize: frameSize)
            case .gzip(let memberSize): sink = try GzipFileWriter(path: path, level: 6, memberSize: memberSize)
            }
            for item in items {
                line(item, &buffer)
                if buffer.count >= 1 << 14 {
                    try sink.write(buffer.bytes)
                    uncompressed += buffer.count
                    buffer.removeAll()
                }
            }
            if buffer.count > 0 { try sink.write(buffer.bytes); uncompressed += buffer.count }
            try sink.close()
        } catch {
            throw SimulationError.output(path: path, detail: "\(error)")
        }
        return try describe(path: path, relative: relative, kind: kind, format: format, records: items.count,
                            uncompressed: uncompressed)
    }

    package static func writeText(_ text: String, to path: String) throws {
        do {
            let sink = try PlainFileWriter(path: path)
            try sink.write(Array(text.utf8))
            try sink.close()
        } catch {
            throw SimulationError.output(path: path, detail: "\(error)")
        }
    }

    package static func describe(path: String, relative: String, kind: String, format: String, records: Int,
                         uncompressed: Int) throws -> SimulatedFile {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            throw SimulationError.output(path: path, detail: "cannot reopen the file to hash it")
        }
        defer { try? handle.close() }
        var hasher = SHA256()
        var size = 0
        while true {
            let chunk: Data?
            do { chunk = try handle.read(upToCount: 4 << 20) } catch {
                throw SimulationError.output(path: path, detail: "cannot read the file back: \(error)")
            }
            guard let chunk, !chunk.isEmpty else { break }
            hasher.update(data: chunk)
            size += chunk.count
        }
        let digest = hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
        return SimulatedFile(path: relative, kind: kind, format: format, records: records, uncompressedBytes: uncompressed,
                             bytes: size, sha256: digest)
    }
}

package enum JobKind: Int, CaseIterable, Sendable { case inference, storage, llm }

package struct SimulationJob: Sendable {
    package var kind: JobKind
    package var day: Int
    package var block: Int
}

/// One part file a job wrote, to be joined into `relative`.
package struct PartFile: Sendable {
    package var relative: String
    package var path: String
    package var kind: String
    package var format: String
    package var records: Int
    package var uncompressed: Int
}

package struct JobOutput: Sendable {
    package var parts: [PartFile] = []
    package var extraction: ExtractionReference?
    package var decisions: DecisionReference?
    package var artifacts: ArtifactReference?
    package var injection: InjectionReference?
    package var requests: RequestWindowReference?
}

/// Hands out job indexes to worker threads and collects their outputs.
package final class JobBoard: @unchecked Sendable {
    private let lock = NSLock()
    private var next = 0
    private let count: Int
    private var results: [JobOutput?]
    package private(set) var error: Error?

    package init(count: Int) {
        self.count = count
        results = Array(repeating: nil, count: count)
    }

    package func take() -> Int? {
        lock.lock(); defer { lock.unlock() }
        guard next < count, error == nil else { return nil }
        next += 1
        return next - 1
    }

    package func store(_ index: Int, _ output: JobOutput) {
        lock.lock(); defer { lock.unlock() }
        results[index] = output
    }

    package func fail(_ failure: Error) {
        lock.lock(); defer { lock.unlock() }
        if error == nil { error = failure }
    }

    package var outputs: [JobOutput] {
        lock.lock(); defer { lock.unlock() }
        return results.compactMap { $0 }
    }
}

/// Everything a job needs; immutable and shared by the workers.
package struct JobContext: Sendable {
    package let scenario: Scenario
    package let root: String
    package let parts: String
    package let window: (start: Int64, end: Int64, endRule: String)

    /// The planted attackers, then the nightly batch job (tallied the same way, so the expected
    /// answers can name it as the busy friend the analysis must set aside).
    package var identities: [AttackerIdentity] {
        scenario.attackers.map {
            AttackerIdentity(identity: $0.identity, style: $0.style.rawValue, ips: Set($0.ips), apiKey: $0.apiKey,
                             isKeyed: $0.style == .distributed)
        } + [AttackerIdentity(identity: scenario.nightlyBatch.ip, style: "nightly-batch", ips: [scenario.nightlyBatch.ip],
                              apiKey: scenario.nightlyBatch.apiKey, isKeyed: false)]
    }

    package var injectionPrincipals: Set<String> { [scenario.injectionUser, scenario.jailbreakUser] }

    /// A buffered output: lines go to `buffer` and reach the sink in chunks of whole lines.
    package final class Output {
        package let sink: ByteSink
        package var buffer = ByteWriter(capacity: 1 << 20)
        package var records = 0
        package var uncompressed = 0
        package let part: String
        package let relative: String
        package let kind: String
        package let format: String

        package init(sink: ByteSink, part: String, relative: String, kind: String, format: String) {
            self.sink = sink
            self.part = part
            self.relative = relative
            self.kind = kind
            self.format = format
        }

        package func flushIfFull() throws {
            if buffer.count >= 1 << 19 { try flush() }
        }

        package func flush() throws {
            guard buffer.count > 0 else { return }
            try sink.write(buffer.bytes)
            uncompressed += buffer.count
            buffer.removeAll()
        }

        package func close() throws -> PartFile {
            try flush()
            try sink.close()
            return PartFile(relative: relative, path: part, kind: kind, format: format, records: records, uncompressed: uncompressed)
        }
    }

    package func output(_ relative: String, kind: String, format: String, job: SimulationJob, gzip: Bool = false) throws -> Output {
        let part = "\(parts)/\(relative.replacingOccurrences(of: "/", with: "__")).\(job.block)"
        let sink: ByteSink = gzip ? try GzipFileWriter(path: part, level: 5, memberSize: Simulator.frameSize)
                                  : try ZstdFileWriter(path: part, level: 3, frameSize: Simulator.frameSize)
        return Output(sink: sink, part: part, relative: relative, kind: kind, format: format)
    }

    package func run(_ job: SimulationJob) throws -> JobOutput {
        let date = ScenarioTime.dateString(scenario.start + Int64(job.day) * ScenarioTime.day)
        let firstHour = job.day * 24 + job.block * Simulator.hoursPerBlock
        let hours = firstHour..<(firstHour + Simulator.hoursPerBlock)
        var result = JobOutput()
        switch job.kind {
        case .inference:
            let traffic = InferenceTraffic(scenario: scenario)
            let gateway = try output("inference/gateway-\(date).jsonl.zst", kind: "inference", format: "gateway-jsonl", job: job)
            let nginx = try output("inference/nginx-frontend-\(date).log.gz", kind: "inference", format: "nginx-combined", job: job, gzip: true)
            // Without decision logs the decisions are made (the reference counts them) but not written.
            let logsDecisions = !scenario.request.withoutDecisionLogs
            let predictions = logsDecisions
                ? try output("predictions/fraud-detector-decisions-\(date).jsonl.zst", kind: "predictions", format: "jsonl", job: job) : nil
            // The decisions of the models `--models` adds, in a file of their own.
            let otherDecisions = scenario.extraModels.isEmpty || !logsDecisions ? nil
                : try output("predictions/model-decisions-\(date).jsonl.zst", kind: "predictions", format: "jsonl", job: job)
            var requests = RequestWindowReference(scenario: scenario)
            var extraction = ExtractionReference(identities: identities)
            var decisions = DecisionReference(model: scenario.poisonedModel, poisonedVersion: "v\(scenario.poisonedVersion)",
                                              windowStart: window.start, windowEnd: window.end)
            for hour in hours {
                let (events, served) = traffic.hour(hour)
                for event in events {
                    extraction.observe(event)
                    requests.observe(event)
                    if event.isNginx {
                        RecordFormat.nginxLine(event, into: &nginx.buffer)
                        nginx.records += 1
                        try nginx.flushIfFull()
                    } else {
                        RecordFormat.gatewayLine(event, into: &gateway.buffer)
                        gateway.records += 1
                        try gateway.flushIfFull()
                    }
                }
                for decision in served {
                    decisions.observe(decision)
                    guard let file = decision.model == scenario.poisonedModel ? predictions : otherDecisions ?? predictions else { continue }
                    RecordFormat.predictionLine(decision, into: &file.buffer)
                    file.records += 1
                    try file.flushIfFull()
                }
            }
            extraction.finishHour()
            result.parts = [try gateway.close(), try nginx.close()]
            if let predictions { result.parts.append(try predictions.close()) }
            if let otherDecisions { result.parts.append(try otherDecisions.close()) }
            result.extraction = extraction
            result.requests = requests
            result.decisions = decisions
        case .storage:
            let traffic = StorageTraffic(scenario: scenario)
            let s3 = try output("storage/s3-access-\(date).log.zst", kind: "storage", format: "s3-server-access-log", job: job)
            let azure = try output("storage/azure-blob-\(date).json.gz", kind: "storage", format: "azure-resource-log", job: job, gzip: true)
            var artifacts = ArtifactReference()
            var rng = Xoshiro256(master: scenario.seed, "storage-ids", numbers: [job.day, job.block])
            if job.block == 0 { azure.buffer.append("{\"records\":[\n") }
            for hour in hours {
                let (s3Events, azureEvents) = traffic.hour(hour)
                for event in s3Events {
                    artifacts.observe(event)
                    RecordFormat.s3Line(event, hostID: rng.string(76, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/") + "=", into: &s3.buffer)
                    s3.records += 1
                    try s3.flushIfFull()
                }
                for event in azureEvents {
                    artifacts.observe(event)
                    if azure.records > 0 || job.block > 0 { azure.buffer.append(",\n") }
                    RecordFormat.azureRecord(event, correlationID: InferenceTraffic(scenario: scenario).uuid(&rng), into: &azure.buffer)
                    azure.records += 1
                    try azure.flushIfFull()
                }
            }
            if job.block == 24 / Simulator.hoursPerBlock - 1 { azure.buffer.append("\n]}\n") }
            result.parts = [try s3.close(), try azure.close()]
            result.artifacts = artifacts
        case .llm:
            let traffic = LLMTraffic(scenario: scenario)
            let llm = try output("llm/llm-gateway-\(date).jsonl.zst", kind: "llm", format: "llm-gateway-jsonl", job: job)
            var injection = InjectionReference(plantedPrincipals: injectionPrincipals)
            var rng = Xoshiro256(master: scenario.seed, "llm-ids", numbers: [job.day, job.block])
            for hour in hours {
                for event in traffic.hour(hour) {
                    injection.observe(event)
                    RecordFormat.llmLine(event, responseID: rng.string(29, alphabet: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"), into: &llm.buffer)
                    llm.records += 1
                    try llm.flushIfFull()
                }
            }
            result.parts = [try llm.close()]
            result.injection = injection
        }
        return result
    }
}

import FathomStore
import Foundation

/// Reads one archive file end to end: decompression, framing, decoding into segments, hashing,
/// and the one catalog transaction that records it.
///
/// The file is read once: its SHA-256 is computed over the mapped bytes as the decompressor
/// consumes them, and pages already hashed are released so that resident memory stays bounded.
final class ArchiveIngestor: Sendable {
    let store: Store
    let request: IngestRequest
    let registry: FormatRegistry
    let progress: ProgressCounter

    /// How many records are buffered to choose a format.
    static let sniffRecords = 16
    static let sniffBytes = 256 << 10

    init(store: Store, request: IngestRequest, registry: FormatRegistry, progress: ProgressCounter) {
        self.store = store
        self.request = request
        self.registry = registry
        self.progress = progress
    }

    /// Reads an archive into segments, up to (not including) its catalog commit: the commit
    /// waits for the segments to reach the disk, which another thread can do while this one reads
    /// the next archive.
    func read(path: String, displayPath: String) throws(IngestError) -> PendingArchive {
        guard let status = FileSystem.status(path), status.isRegular else { throw .missingInput(path: displayPath) }
        let catalog = store.catalog
        let identity: KnownIdentity
        do {
            identity = try KnownIdentity.check(path: path, displayPath: displayPath, size: status.size,
                                               modificationTime: status.modificationTime, catalog: catalog)
        } catch { throw .catalog(error) }
        if case let .known(outcome) = identity {
            progress.add(bytes: status.size, rows: 0, rejected: 0)
            return .known(outcome)
        }

        let mapping: FileMapping
        do { mapping = try FileMapping(path: path) } catch { throw .store(error) }
        let archiveID: Int64
        do {
            archiveID = try catalog.beginArchive(path: displayPath, size: Int64(mapping.count),
                                                 modificationTime: mapping.modificationTime,
                                                 startedAt: Clock.nowNanoseconds())
        } catch { throw .catalog(error) }

        let run = ArchiveRun(ingestor: self, mapping: mapping, archiveID: archiveID, displayPath: displayPath)
        let result: ArchiveResult
        var unreadable = false
        do throws(IngestError) {
            result = try run.readAll()
        } catch {
            run.discardSegments()
            // The file is still evidence: record it with its hash and the reason it could not be read.
            result = run.unreadableResult(reason: error.description)
            unreadable = true
        }
        return .read(ReadArchive(store: store, archiveID: archiveID, displayPath: displayPath, size: Int64(mapping.count),
                                 modificationTime: mapping.modificationTime, result: result, unreadable: unreadable,
                                 notes: run.notes))
    }
}

/// An archive read into segments and waiting for its catalog commit, or one already known.
enum PendingArchive: Sendable {
    case known(FileOutcome)
    case read(ReadArchive)

    func commit() throws(IngestError) -> FileOutcome {
        switch self {
        case let .known(outcome): return outcome
        case let .read(archive): return try archive.commit()
        }
    }
}

/// An archive read into segments (written without waiting for the disk), before its commit.
struct ReadArchive: Sendable {
    let store: Store
    let archiveID: Int64
    let displayPath: String
    let size: Int64
    let modificationTime: Int64
    let result: ArchiveResult
    let unreadable: Bool
    let notes: [String]

    /// Makes the segments durable, then records the archive with them in one catalog transaction.
    func commit() throws(IngestError) -> FileOutcome {
        let catalog = store.catalog
        let paths = result.segments.map { store.absolute($0.path) }
        func discardSegments() {
            for path in paths { try? FileManager.default.removeItem(atPath: path) }
        }
        // Written without waiting for the disk; durable before the catalog refers to them.
        do throws(StoreError) {
            try SegmentBuilder.makeDurable(paths)
        } catch {
            discardSegments()
            throw .store(error)
        }
        TestHook.reached("ingest.before-commit")
        let outcome: CompletionOutcome
        do {
            outcome = try catalog.completeArchive(id: archiveID, result: result, ingestedAt: Clock.nowNanoseconds())
        } catch {
            discardSegments()
            throw .catalog(error)
        }
        var unreadable = unreadable
        if result.rows == 0, result.rejected > 0,
           result.members.allSatisfy({ ["binary", "unknown", "unreadable"].contains($0.format) }) {
            unreadable = true
        }
        switch outcome {
        case .recorded:
            return FileOutcome(path: displayPath, status: unreadable ? .unreadable : .ingested, size: size,
                               sha256: result.sha256, rows: result.rows, rejected: result.rejected,
                               formats: result.formats, kinds: result.kinds, segments: result.segments.count,
                               note: notes.isEmpty ? result.members.map(\.note).filter { !$0.isEmpty }.joined(separator: "; ")
                                   : notes.joined(separator: "; "), filtered: result.filtered)
        case let .duplicate(existing):
            discardSegments()
            // Remember the copy, so it is recognised by path, size and time from now on.
            do {
                try catalog.recordAlias(archiveID: existing.id, path: displayPath, size: size,
                                        modificationTime: modificationTime, seenAt: Clock.nowNanoseconds())
            } catch { throw .catalog(error) }
            return FileOutcome(path: displayPath, status: .duplicate, size: size, sha256: result.sha256,
                               rows: 0, rejected: 0, formats: result.formats, kinds: result.kinds, segments: 0,
                               note: "same SHA-256 as '\(existing.path)', already ingested")
        }
    }
}

/// The state of reading one archive.
final class ArchiveRun {
    let ingestor: ArchiveIngestor
    let mapping: FileMapping
    let archiveID: Int64
    let displayPath: String
    var hasher = SHA256Stream()
    var hashedUpTo = 0
    /// Segments written so far for this archive.
    var segments: [SegmentRecord] { segmentSink.records }
    var members: [MemberRecord] = []
    var rejects = RejectLog()
    var notes: [String] = []
    let segmentSequence = Counter()

    init(ingestor: ArchiveIngestor, mapping: FileMapping, archiveID: Int64, displayPath: String) {
        self.ingestor = ingestor
        self.mapping = mapping
        self.archiveID = archiveID
        self.displayPath = displayPath
    }

    /// Hashes the file bytes the streams have consumed so far and lets the kernel drop those pages.
    func hashConsumed(upTo consumed: Int) {
        let end = min(consumed, mapping.count)
        guard end > hashedUpTo else { return }
        hasher.update(mapping.bytes[hashedUpTo..<end])
        ingestor.progress.add(bytes: Int64(end - hashedUpTo), rows: 0, rejected: 0)
        // Keep the last megabyte mapped in: a decompressor may still be reading it.
        mapping.release(0..<max(0, end - (1 << 20)))
        hashedUpTo = end
    }

    func readAll() throws(IngestError) -> ArchiveResult {
        let inputs: ArchiveInputs
        do { inputs = try ArchiveInputs(mapping: mapping, displayName: displayPath) } catch {
            hashConsumed(upTo: mapping.count)
            throw .unknownFormat(input: displayPath, detail: "\(error)")
        }
        let rows = makeRowWriter()
        do {
            while let input = try inputs.nextInput() {
                try readInput(input, rows: rows, inputs: inputs)
            }
        } catch let error as StoreError {
            // A container-level failure: what was read so far stays; the rest is reported.
            notes.append(error.description)
            rejects.record(member: displayPath, line: 0, reason: "unreadable archive data", bytes: [])
        } catch let error as IngestError {
            throw error
        } catch {
            throw .store(.corrupt(path: displayPath, offset: inputs.consumedInputBytes, detail: "\(error)"))
        }
        for damage in inputs.containerDamage {
            notes.append(damage.description)
        }
        try rows.flushAll()
        hashConsumed(upTo: mapping.count)
        let compression = inputs.compressions.map(\.rawValue).joined(separator: "+")
        return ArchiveResult(sha256: hasher.finalize(), compression: compression,
                             container: inputs.isTar ? "tar" : "", members: members,
                             rejectSamples: rejects.samples, rejectReasons: rejects.counts, segments: segments)
    }

    /// A result for a file whose content cannot be read at all: hashed, recorded, zero rows.
    func unreadableResult(reason: String) -> ArchiveResult {
        hashConsumed(upTo: mapping.count)
        var log = RejectLog()
        let head = mapping.bytes[0..<min(mapping.count, RejectLog.sampleBytes)].array
        log.record(member: displayPath, line: 0, reason: "unreadable input", bytes: head)
        return ArchiveResult(sha256: hasher.finalize(), compression: "", container: "",
                             members: [MemberRecord(name: displayPath, format: "unreadable", kind: "", rows: 0,
                                                    rejected: 1, firstTime: nil, lastTime: nil, note: reason)],
                             rejectSamples: log.samples, rejectReasons: log.counts, segments: [])
    }

    func discardSegments() {
        for segment in segments {
            try? FileManager.default.removeItem(atPath: ingestor.store.absolute(segment.path))
        }
    }

    private func makeRowWriter() -> RowWriter {
        let store = ingestor.store
        let archiveID = archiveID
        let sequence = segmentSequence
        let sink = segmentSink
        let writer = RowWriter(maxRows: ingestor.request.segmentRows, maxBytes: ingestor.request.segmentBytes) {
            kind, builder throws(IngestError) in
            let relative = "segments/\(kind.rawValue)/\(archiveID)-\(sequence.next()).seg"
            do throws(StoreError) {
                // Made durable together before the archive's catalog commit (PendingArchive.commit).
                let info = try builder.write(to: store.absolute(relative), archiveID: archiveID, durable: false)
                sink.records.append(SegmentRecord(archiveID: archiveID, path: relative, kind: kind, rows: Int64(info.rows),
                                                  minTime: info.minTime, maxTime: info.maxTime,
                                                  bytes: Int64(info.bytes), checksum: info.checksum))
            } catch {
                throw .store(error)
            }
            builder.reset()
        }
        return writer
    }

    private let segmentSink = SegmentSink()

    /// Reads one logical input (the file, or one tar member): sniff its format, decode its records.
    func readInput(_ input: ArchiveInput, rows: RowWriter, inputs: ArchiveInputs) throws -> Void {
        let request = ingestor.request
        let framer = RecordFramer(maxRecordBytes: request.maxRecordBytes)
        let memberName = input.name
        rows.member = input.isTarMember ? memberName : ""
        rows.resetMemberStatistics()
        var memberRejects: Int64 = 0
        var memberNotes: [String] = []
        var decoder: (any RecordDecoder)?
        var formatName = "unknown"
        var undecodable: String?
        var sample: [(ByteView?, [UInt8], Int64)] = []
        var sampleBytes = 0
        var sampling = true
        var sawData = false
        var binary = false
        var wholeFile = false

        func reject(_ line: Int64, _ reason: String, _ bytes: [UInt8]) {
            memberRejects += 1
            rejects.record(member: memberName, line: line, reason: reason, bytes: bytes)
        }

        func decodeOne(_ record: ByteView, _ number: Int64) {
            rows.line = number
            guard let decoder else {
                reject(number, undecodable ?? "unrecognised format", record[0..<RejectLog.sampleBytes].array)
                return
            }
            guard record.isValidUTF8 else {
                reject(number, "invalid UTF-8", record[0..<RejectLog.sampleBytes].array)
                return
            }
            do {
                try decoder.decode(record, into: rows)
            } catch {
                rows.abandon()
                reject(number, error.reason, record[0..<RejectLog.sampleBytes].array)
            }
        }

        func chooseDecoder() {
            sampling = false
            let records = sample.map(\.1)
            let sniff = SniffSample(inputName: memberName, framing: framer.mode ?? .lines, records: records)
            let format: FormatDescriptor?
            if let name = request.formatName ?? request.profile?.format {
                format = ingestor.registry.format(named: name)
            } else {
                format = ingestor.registry.sniff(sniff)
            }
            guard let format else {
                undecodable = "unrecognised format"
                memberNotes.append("no known format matches the content")
                return
            }
            formatName = format.name
            do {
                decoder = try format.make(DecoderContext(kind: request.kind, profile: request.profile,
                                                         inputName: memberName, sample: sniff))
            } catch {
                formatName = "unknown"
                switch error {
                case .undecidableKind: undecodable = "source kind undecidable"
                case .profile: undecodable = "profile does not fit the format"
                default: undecodable = "format cannot decode this input"
                }
                memberNotes.append(error.description)
            }
        }

        func handle(_ event: FramedEvent) {
            switch event {
            case let .record(view, number):
                if sampling {
                    sample.append((nil, view.array, number))
                    sampleBytes += view.count
                    if sample.count >= ArchiveIngestor.sniffRecords || sampleBytes >= ArchiveIngestor.sniffBytes {
                        chooseDecoder()
                        replaySample()
                    }
                } else {
                    decodeOne(view, number)
                }
            case let .rejected(number, reason, bytes):
                reject(number, reason, bytes.array)
            }
        }

        func replaySample() {
            let buffered = sample
            sample = []
            for (_, bytes, number) in buffered {
                bytes.withByteView { decodeOne($0, number) }
            }
        }

        while let event = try input.stream.next() {
            switch event {
            case let .bytes(chunk):
                if !sawData, !chunk.isEmpty {
                    sawData = true
                    if let format = wholeFileFormat(startingWith: chunk) {
                        // An SQLite database (or another whole-file format): not framed as text.
                        wholeFile = true
                        formatName = format.name
                        readWholeFile(format, input: input, first: chunk, rows: rows, inputs: inputs,
                                      reject: { number, reason in reject(number, reason, []) },
                                      note: { memberNotes.append($0) })
                        break
                    }
                    if BinarySniffer.looksBinary(chunk) {
                        binary = true
                        reject(0, "binary data, not a log", chunk[0..<64].array)
                        memberNotes.append("binary content (not text); skipped")
                    }
                }
                if !binary { framer.feed(chunk, handle) }
            case let .damage(damage):
                reject(0, "damaged archive data", [])
                memberNotes.append(damage.description)
            }
            hashConsumed(upTo: inputs.consumedInputBytes)
            ingestor.progress.add(bytes: 0, rows: 0, rejected: 0)
            try rows.flushIfFull()
            if wholeFile { break }
        }
        if !binary, !wholeFile {
            framer.finish(handle)
            if sampling {
                if sample.isEmpty {
                    if !sawData { memberNotes.append("empty") }
                } else {
                    chooseDecoder()
                    replaySample()
                }
            }
        }
        try rows.flushIfFull()
        let kinds = SourceKind.allCases.filter { rows.rowCounts[Int($0.code)] > 0 }
        let memberRows = rows.rowCounts.reduce(0, +)
        ingestor.progress.add(bytes: 0, rows: memberRows, rejected: memberRejects)
        members.append(MemberRecord(name: memberName, format: binary ? "binary" : formatName,
                                    kind: kinds.map(\.rawValue).joined(separator: ","), rows: memberRows,
                                    rejected: memberRejects, firstTime: rows.firstTime, lastTime: rows.lastTime,
                                    note: memberNotes.joined(separator: "; "), filtered: rows.filteredCount))
        notes += memberNotes.map { input.isTarMember ? "\(memberName): \($0)" : $0 }
    }
}

extension ArchiveRun {
    /// The whole-file format (``FormatDescriptor/magic``) that an input starting with `head` is,
    /// unless `--format` names another format.
    func wholeFileFormat(startingWith head: ByteView) -> FormatDescriptor? {
        guard let format = ingestor.registry.wholeFileFormat(startingWith: head) else { return nil }
        if let forced = ingestor.request.formatName ?? ingestor.request.profile?.format, forced != format.name { return nil }
        return format
    }

    /// Reads a whole-file input with its format's reader.
    ///
    /// A plain file is read in place (the reader opens it read-only). A tar member or a
    /// decompressed file is first copied, up to ``IngestRequest/maxWholeFileBytes``, to a temporary
    /// file under the store's `tmp/` directory, which is deleted afterwards (and by the next writer
    /// if the process is killed). Either way the input stream is consumed to its end, so the
    /// archive's SHA-256 covers every byte.
    func readWholeFile(_ format: FormatDescriptor, input: ArchiveInput, first: ByteView, rows: RowWriter,
                       inputs: ArchiveInputs, reject: (Int64, String) -> Void, note: (String) -> Void) {
        guard let readFile = format.readFile else { return }
        let request = ingestor.request
        let context = DecoderContext(kind: request.kind, profile: request.profile, inputName: input.name,
                                     sample: SniffSample(inputName: input.name, framing: .lines, records: []))
        var path = mapping.path
        var temporary: String?
        defer { if let temporary { try? FileManager.default.removeItem(atPath: temporary) } }
        do throws(IngestError) {
            if input.isTarMember || !input.compressions.isEmpty {
                let copy = try copyToTemporaryFile(first: first, stream: input.stream, inputs: inputs)
                temporary = copy.path
                guard copy.complete else {
                    reject(0, "\(format.name): whole-file input larger than \(request.maxWholeFileBytes) bytes")
                    note("larger than the \(request.maxWholeFileBytes)-byte limit for whole-file inputs; not read")
                    return
                }
                path = copy.path
            } else {
                try drain(input.stream, inputs: inputs)
            }
            try readFile(path, context, rows) { number, reason in reject(number, reason.reason) }
        } catch {
            rows.abandon()
            reject(0, "\(format.name): unreadable file")
            note(error.description)
        }
    }

    /// Reads `stream` to its end, hashing what it consumes.
    private func drain(_ stream: any ByteStream, inputs: ArchiveInputs) throws(IngestError) {
        do {
            while try stream.next() != nil { hashConsumed(upTo: inputs.consumedInputBytes) }
        } catch {
            throw .store(error)
        }
    }

    /// Copies `first` and the rest of `stream` to a new file under the store's `tmp/` directory.
    /// `complete` is false when the input exceeded the limit (the rest is drained, not copied).
    private func copyToTemporaryFile(first: ByteView, stream: any ByteStream,
                                     inputs: ArchiveInputs) throws(IngestError) -> (path: String, complete: Bool) {
        let store = ingestor.store
        let directory = store.absolute("tmp")
        let path = directory + "/whole-\(archiveID)-\(segmentSequence.next())"
        let manager = FileManager.default
        do {
            try manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw .store(.io(path: directory, operation: "create directory", code: 0))
        }
        guard manager.createFile(atPath: path, contents: nil), let handle = FileHandle(forWritingAtPath: path) else {
            throw .store(.io(path: path, operation: "create", code: 0))
        }
        defer { try? handle.close() }
        let limit = ingestor.request.maxWholeFileBytes
        var written: Int64 = 0
        var complete = true
        func write(_ bytes: ByteView) throws(IngestError) {
            guard complete else { return }
            written += Int64(bytes.count)
            guard written <= limit else {
                complete = false
                return
            }
            do {
                try handle.write(contentsOf: bytes.array)
            } catch {
                throw .store(.io(path: path, operation: "write", code: 0))
            }
        }
        try write(first)
        do {
            while let event = try stream.next() {
                if case let .bytes(chunk) = event { try write(chunk) }
                hashConsumed(upTo: inputs.consumedInputBytes)
            }
        } catch let error as IngestError {
            throw error
        } catch let error as StoreError {
            throw .store(error)
        } catch {
            throw .store(.io(path: path, operation: "write", code: 0))
        }
        return (path, complete)
    }
}

/// Collects the segment records written by a row writer's flushes.
final class SegmentSink {
    var records: [SegmentRecord] = []
}

/// A monotonically increasing counter (segment sequence numbers).
final class Counter {
    private var value = 0
    func next() -> Int {
        value += 1
        return value
    }
}

/// Tells text logs from binary data by their first bytes.
enum BinarySniffer {
    /// True when the first 4 KiB hold a NUL byte, or mostly bytes that are neither printable ASCII,
    /// whitespace nor part of UTF-8 sequences.
    static func looksBinary(_ chunk: ByteView) -> Bool {
        let head = chunk[0..<4096]
        if head.firstIndex(of: 0) != nil { return true }
        var control = 0
        for index in 0..<head.count {
            let byte = head[index]
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D, byte != 0x0C { control += 1 }
        }
        return control * 10 > head.count
    }
}

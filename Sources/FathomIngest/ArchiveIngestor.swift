import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Reads one archive file end to end: decompression, framing, decoding into segments, hashing,
/// and the one catalog transaction that records it.
///
/// The file is read once: its SHA-256 is computed over the mapped bytes as the decompressor
/// consumes them, and pages already hashed are released so that resident memory stays bounded.
package final class ArchiveIngestor: Sendable {
    package let store: Store
    package let request: IngestRequest
    package let registry: FormatRegistry
    package let progress: ProgressCounter
    /// The segment builders the archives' row writers pass on to each other.
    package let builders = BuilderPool()

    /// How many records are buffered to choose a format.
    package static let sniffRecords = 16
    package static let sniffBytes = 256 << 10

    package init(store: Store, request: IngestRequest, registry: FormatRegistry, progress: ProgressCounter) {
        self.store = store
        self.request = request
        self.registry = registry
        self.progress = progress
    }

    /// Reads an archive into segments, up to (not including) its catalog commit: the commit
    /// waits for the segments to reach the disk, which another thread can do while this one reads
    /// the next archive.
    package func read(path: String, displayPath: String) throws(IngestError) -> PendingArchive {
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

        let file: EvidenceFile
        do { file = try EvidenceFile(path: path) } catch {
            // Not opened (permissions, a FIFO or device where a file was expected): nothing was read
            // and nothing is recorded, so the next run tries again.
            progress.add(bytes: status.size, rows: 0, rejected: 0)
            return .known(.notRead(displayPath, size: status.size, reason: error.description))
        }
        TestHook.reached("ingest.opened")
        let archiveID: Int64
        do {
            archiveID = try catalog.beginArchive(path: displayPath, size: Int64(file.count),
                                                 modificationTime: file.modificationTime,
                                                 startedAt: Clock.nowNanoseconds())
        } catch { throw .catalog(error) }

        let run = ArchiveRun(ingestor: self, file: file, archiveID: archiveID, displayPath: displayPath)
        let result: ArchiveResult
        var unreadable = false
        do throws(IngestError) {
            result = try run.readAll()
        } catch {
            switch error {
            case .storeWrite, .store, .catalog, .storeBusy:
                // Our failure (a full disk, an I/O error of the store), not a property of the
                // evidence: nothing about the archive is recorded, so the next run reads it again.
                run.abandon()
                throw error
            case let .inputRead(_, cause):
                // The file could not be read through this time (it changed under us, or its disk
                // failed): not recorded, read again by the next run.
                run.abandon()
                return .known(.notRead(displayPath, size: Int64(file.count), reason: cause.description))
            case .missingInput, .undecidableKind, .unknownFormat, .unknownFormatName, .profile:
                run.discardSegments()
                // The file is still evidence: record it with its hash and the reason it could not be read.
                do throws(IngestError) {
                    result = try run.unreadableResult(reason: error.description)
                } catch {
                    run.abandon()
                    if case let .inputRead(_, cause) = error {
                        return .known(.notRead(displayPath, size: Int64(file.count), reason: cause.description))
                    }
                    throw error
                }
                unreadable = true
            }
        }
        return .read(ReadArchive(store: store, archiveID: archiveID, displayPath: displayPath, size: Int64(file.count),
                                 modificationTime: file.modificationTime, result: result, unreadable: unreadable,
                                 notes: run.notes))
    }
}

extension FileOutcome {
    /// An input that was not read through (see ``Status/notRead``).
    package static func notRead(_ path: String, size: Int64, reason: String) -> FileOutcome {
        FileOutcome(path: path, status: .notRead, size: size, sha256: "", rows: 0, rejected: 0, formats: [], kinds: [],
                    segments: 0, note: reason + "; not recorded, the next run reads it again")
    }
}

/// An archive read into segments and waiting for its catalog commit, or one already known.
package enum PendingArchive: Sendable {
    case known(FileOutcome)
    case read(ReadArchive)

    package func commit() throws(IngestError) -> FileOutcome {
        switch self {
        case let .known(outcome): return outcome
        case let .read(archive): return try archive.commit()
        }
    }
}

/// An archive read into segments (written without waiting for the disk), before its commit.
package struct ReadArchive: Sendable {
    package let store: Store
    package let archiveID: Int64
    package let displayPath: String
    package let size: Int64
    package let modificationTime: Int64
    package let result: ArchiveResult
    package let unreadable: Bool
    package let notes: [String]

    /// Makes the segments durable, then records the archive with them in one catalog transaction.
    package func commit() throws(IngestError) -> FileOutcome {
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
            throw .storeWrite(input: displayPath, error)
        }
        TestHook.reached("ingest.before-commit")
        let outcome: CompletionOutcome
        do {
            outcome = try catalog.completeArchive(id: archiveID, result: result, ingestedAt: Clock.nowNanoseconds())
        } catch {
            discardSegments()
            throw .catalog(error)
        }
        let unreadable = unreadable || result.isUnreadable
        switch outcome {
        case .recorded:
            var note = notes.isEmpty ? result.members.map(\.note).filter { !$0.isEmpty }.joined(separator: "; ")
                : notes.joined(separator: "; ")
            if unreadable, result.rejected > 0 {
                // Say why in the summary too, not only in the catalog.
                let reasons = result.rejectReasons.sorted { ($0.value, $1.key) > ($1.value, $0.key) }
                    .prefix(3).map { "\($0.key) (\($0.value))" }.joined(separator: ", ")
                note += (note.isEmpty ? "" : "; ") + "no record could be read: " + reasons
            }
            return FileOutcome(path: displayPath, status: unreadable ? .unreadable : .ingested, size: size,
                               sha256: result.sha256, rows: result.rows, rejected: result.rejected,
                               formats: result.formats, kinds: result.kinds, segments: result.segments.count,
                               note: note, filtered: result.filtered, lostRecords: result.lostRecords)
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
package final class ArchiveRun {
    package let ingestor: ArchiveIngestor
    package let file: EvidenceFile
    /// The file's bytes, hashed as they are read.
    package let source: EvidenceStream
    package let archiveID: Int64
    package let displayPath: String
    private var reportedBytes = 0
    /// Segments written so far for this archive.
    package var segments: [SegmentRecord] { segmentSink.records }
    package var members: [MemberRecord] = []
    package var rejects = RejectLog()
    package var notes: [String] = []
    /// Damage outside any member (see ``ArchiveResult/containerRejected``).
    package var containerRejected: Int64 = 0
    package let segmentSequence = Counter()

    package init(ingestor: ArchiveIngestor, file: EvidenceFile, archiveID: Int64, displayPath: String) {
        self.ingestor = ingestor
        self.file = file
        self.source = EvidenceStream(file: file)
        self.archiveID = archiveID
        self.displayPath = displayPath
    }

    /// Reports the file bytes consumed since the last call as progress.
    package func reportConsumed() {
        let consumed = source.consumedInputBytes
        guard consumed > reportedBytes else { return }
        ingestor.progress.add(bytes: Int64(consumed - reportedBytes), rows: 0, rejected: 0)
        reportedBytes = consumed
    }

    /// Reads the rest of the file (bytes no decoder asked for), checks it did not change while it
    /// was read, and returns its SHA-256.
    package func finishHashing() throws(IngestError) -> String {
        let digest: String
        do { digest = try source.finish() } catch { throw .inputRead(input: displayPath, error) }
        reportConsumed()
        if case let .grew(size)? = file.change() {
            notes.append("the file grew to \(size) bytes while it was read; its first \(file.count) bytes were read and hashed")
        }
        return digest
    }

    package func readAll() throws(IngestError) -> ArchiveResult {
        let inputs: ArchiveInputs
        do { inputs = try ArchiveInputs(source: source, displayName: displayPath) } catch {
            if let failure = Self.inputFailure(error, displayPath) { throw failure }
            throw .unknownFormat(input: displayPath, detail: "\(error)")
        }
        let rows = makeRowWriter()
        do {
            while let input = try inputs.nextInput() {
                try MemberReader(run: self, input: input, rows: rows).read(inputs: inputs)
            }
        } catch let error as StoreError {
            if let failure = Self.inputFailure(error, displayPath) { throw failure }
            // A container-level failure: what was read so far stays; the rest is reported.
            notes.append(error.description)
            rejects.record(member: displayPath, line: 0, reason: "unreadable archive data", bytes: [])
            containerRejected += 1
        } catch let error as IngestError {
            throw error
        } catch {
            throw .store(.corrupt(path: displayPath, offset: inputs.consumedInputBytes, detail: "\(error)"))
        }
        for damage in inputs.containerDamage {
            // Damage between members (a tar header cut short or corrupt) ends the archive there:
            // counted, so a tar cut in its first header is not a clean ingest of nothing.
            notes.append(damage.description)
            rejects.record(member: displayPath, line: 0, reason: "damaged archive data", bytes: [])
            containerRejected += 1
        }
        try rows.flushAll()
        rows.recycle()
        let digest = try finishHashing()
        let compression = inputs.compressions.map(\.rawValue).joined(separator: "+")
        var result = ArchiveResult(sha256: digest, compression: compression,
                                   container: inputs.isTar ? "tar" : "", members: members,
                                   rejectSamples: rejects.samples, rejectReasons: rejects.counts, segments: segments)
        result.containerRejected = containerRejected
        return result
    }

    /// The error to stop with when reading the evidence itself failed — it changed while it was
    /// read, or its disk returned an error — rather than its content being damaged.
    package static func inputFailure(_ error: StoreError, _ input: String) -> IngestError? {
        switch error {
        case .changed, .io: .inputRead(input: input, error)
        case .corrupt, .unsupported: nil
        }
    }

    /// A result for a file whose content cannot be read at all: hashed, recorded, zero rows.
    package func unreadableResult(reason: String) throws(IngestError) -> ArchiveResult {
        let digest = try finishHashing()
        var log = RejectLog()
        log.record(member: displayPath, line: 0, reason: "unreadable input", bytes: file.head(RejectLog.sampleBytes))
        return ArchiveResult(sha256: digest, compression: "", container: "",
                             members: [MemberRecord(name: displayPath, format: "unreadable", kind: "", rows: 0,
                                                    rejected: 1, firstTime: nil, lastTime: nil, note: reason)],
                             rejectSamples: log.samples, rejectReasons: log.counts, segments: [])
    }

    package func discardSegments() {
        for segment in segments {
            try? FileManager.default.removeItem(atPath: ingestor.store.absolute(segment.path))
        }
    }

    /// Forgets the archive: its segments are deleted and its pending catalog row removed (when the
    /// catalog cannot be written either, the next writer removes the row on opening the store).
    package func abandon() {
        discardSegments()
        try? ingestor.store.catalog.abandonArchive(id: archiveID)
    }

    private func makeRowWriter() -> RowWriter {
        let store = ingestor.store
        let archiveID = archiveID
        let sequence = segmentSequence
        let sink = segmentSink
        let displayPath = displayPath
        let writer = RowWriter(maxRows: ingestor.request.segmentRows, maxBytes: ingestor.request.segmentBytes,
                               pool: ingestor.builders) {
            kind, builder throws(IngestError) in
            let relative = "segments/\(kind.rawValue)/\(archiveID)-\(sequence.next()).seg"
            do throws(StoreError) {
                if let code = TestHook.injectedFailure("segment.write") {
                    throw StoreError.io(path: store.absolute(relative), operation: "write", code: code)
                }
                // Made durable together before the archive's catalog commit (PendingArchive.commit).
                let info = try builder.write(to: store.absolute(relative), archiveID: archiveID, durable: false)
                sink.records.append(SegmentRecord(info, archiveID: archiveID, path: relative, kind: kind))
            } catch {
                throw .storeWrite(input: displayPath, error)
            }
            builder.reset()
        }
        return writer
    }

    private let segmentSink = SegmentSink()
}

extension ArchiveRun {
    /// The whole-file format (``FormatDescriptor/magic``) that an input starting with `head` is,
    /// unless `--format` names another format.
    package func wholeFileFormat(startingWith head: ByteView) -> FormatDescriptor? {
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
    /// Returns false when the reader could not read the file (it was recorded as a reject).
    package func readWholeFile(_ format: FormatDescriptor, input: ArchiveInput, first: ByteView, rows: RowWriter,
                       reject: (Int64, String) -> Void, note: (String) -> Void) throws(IngestError) -> Bool {
        guard let readFile = format.readFile else { return false }
        let request = ingestor.request
        var context = DecoderContext(kind: request.kind(of: file.path), profile: request.profile, inputName: input.name,
                                     sample: SniffSample(inputName: input.name, framing: .lines, records: []))
        var path = file.path
        var temporary: String?
        defer {
            if let temporary {
                for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: temporary + suffix) }
            }
        }
        do throws(IngestError) {
            let isPlainFile = !input.isTarMember && input.compressions.isEmpty
            if isPlainFile, let log = Self.writeAheadLog(beside: file.path) {
                // Committed transactions not yet checkpointed: read the database as SQLite would,
                // from private copies of both files (the evidence is never opened for writing).
                let database = try copyToTemporaryFile(first: first, stream: input.stream)
                temporary = database.path
                guard database.complete else {
                    reject(0, "\(format.name): whole-file input larger than \(request.maxWholeFileBytes) bytes")
                    note("larger than the \(request.maxWholeFileBytes)-byte limit for whole-file inputs; not read")
                    return false
                }
                let logDigest = try copy(log, to: database.path + "-wal")
                path = database.path
                context.hasWriteAheadLog = true
                note("read together with its write-ahead log '\((log.path as NSString).lastPathComponent)' "
                     + "(\(log.count) bytes, SHA-256 \(logDigest)), whose committed transactions SQLite applies")
            } else if !isPlainFile {
                let copy = try copyToTemporaryFile(first: first, stream: input.stream)
                temporary = copy.path
                guard copy.complete else {
                    reject(0, "\(format.name): whole-file input larger than \(request.maxWholeFileBytes) bytes")
                    note("larger than the \(request.maxWholeFileBytes)-byte limit for whole-file inputs; not read")
                    return false
                }
                path = copy.path
            } else {
                try drain(input.stream)
            }
            if let remark = try readFile(path, context, rows, { number, reason in reject(number, reason.reason) }) {
                note(remark)
            }
            return true
        } catch {
            rows.abandon()
            switch error {
            case .storeWrite, .inputRead, .store, .catalog, .storeBusy: throw error
            case .missingInput, .undecidableKind, .unknownFormat, .unknownFormatName, .profile:
                reject(0, "\(format.name): unreadable file")
                note(error.description)
                return false
            }
        }
    }

    /// The SQLite write-ahead log beside `path` (`<path>-wal`, starting with the WAL magic
    /// `0x377F0682` or `0x377F0683`), if there is one with at least one frame.
    package static func writeAheadLog(beside path: String) -> EvidenceFile? {
        guard let log = try? EvidenceFile(path: path + "-wal"), log.count >= 32 + 24 else { return nil }
        let head = log.head(4)
        guard head.count == 4, head[0] == 0x37, head[1] == 0x7F, head[2] == 0x06, head[3] & 0xFE == 0x82 else { return nil }
        return log
    }

    /// Copies an evidence file to `target` (ours, under the store's `tmp/`) and returns its SHA-256.
    private func copy(_ source: EvidenceFile, to target: String) throws(IngestError) -> String {
        let output: FileDescriptor
        do { output = try FileDescriptor.open(target, O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o600) } catch {
            throw .storeWrite(input: displayPath, error)
        }
        defer { output.close() }
        let stream = EvidenceStream(file: source, chunkSize: 1 << 20)
        while true {
            let event: StreamEvent?
            do { event = try stream.next() } catch { throw .inputRead(input: source.path, error) }
            guard case let .bytes(chunk)? = event else { break }
            do { try output.writeAll(chunk) } catch { throw .storeWrite(input: displayPath, error) }
        }
        do { return try stream.finish() } catch { throw .inputRead(input: source.path, error) }
    }

    /// Reads the rest of `stream`, ignoring it (the file is hashed as it is read).
    package func drainRest(_ stream: any ByteStream) throws(IngestError) {
        try drain(stream)
    }

    /// Reads `stream` to its end (the file is hashed as it is read).
    private func drain(_ stream: any ByteStream) throws(IngestError) {
        do {
            while try stream.next() != nil { reportConsumed() }
        } catch {
            throw streamFailure(error)
        }
    }

    /// The ingest error for a failure of an input stream: the evidence could not be read, or its
    /// compressed data is broken.
    private func streamFailure(_ error: StoreError) -> IngestError {
        Self.inputFailure(error, displayPath) ?? .unknownFormat(input: displayPath, detail: error.description)
    }

    /// Copies `first` and the rest of `stream` to a new file under the store's `tmp/` directory.
    /// `complete` is false when the input exceeded the limit (the rest is drained, not copied).
    private func copyToTemporaryFile(first: ByteView, stream: any ByteStream) throws(IngestError) -> (path: String, complete: Bool) {
        let directory = ingestor.store.absolute("tmp")
        let path = directory + "/whole-\(archiveID)-\(segmentSequence.next())"
        let output: FileDescriptor
        do throws(StoreError) {
            try FileSystem.createDirectory(directory)
            output = try FileDescriptor.open(path, O_WRONLY | O_CREAT | O_TRUNC, permissions: 0o600)
        } catch {
            throw .storeWrite(input: displayPath, error)
        }
        defer { output.close() }
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
            do { try output.writeAll(bytes) } catch { throw .storeWrite(input: displayPath, error) }
        }
        try write(first)
        while true {
            let event: StreamEvent?
            do { event = try stream.next() } catch { throw streamFailure(error) }
            guard let event else { break }
            if case let .bytes(chunk) = event { try write(chunk) }
            reportConsumed()
        }
        return (path, complete)
    }
}

/// Collects the segment records written by a row writer's flushes.
package final class SegmentSink {
    package var records: [SegmentRecord] = []
}

/// A monotonically increasing counter (segment sequence numbers).
package final class Counter {
    private var value = 0
    package func next() -> Int {
        value += 1
        return value
    }
}

/// Tells text logs from binary data by their first bytes.
package enum BinarySniffer {
    /// Why the chunk that starts an input is not text, or nil when it is text.
    ///
    /// Text with a stray NUL or control byte is still text (the records holding them are rejected
    /// one by one, the rest are read): the first 4 KiB are binary only when more than a tenth of
    /// their bytes are NUL or control characters other than tab, line feed, form feed and carriage
    /// return. UTF-16 text (a byte-order mark, or NUL in every other byte) is named as such.
    package static func reason(_ chunk: ByteView) -> String? {
        let head = chunk[0..<4096]
        guard head.count > 0 else { return nil }
        if head.starts(with: [0xFF, 0xFE]) || head.starts(with: [0xFE, 0xFF]) || Self.looksUTF16(head) {
            return "UTF-16 text, not UTF-8; convert it first (iconv -f UTF-16 -t UTF-8)"
        }
        var control = 0
        for index in 0..<head.count {
            let byte = head[index]
            if byte < 0x20, byte != 0x09, byte != 0x0A, byte != 0x0D, byte != 0x0C { control += 1 }
        }
        return control * 10 > head.count ? "binary data, not a log" : nil
    }

    /// Whether the chunk is not text (see ``reason(_:)``).
    package static func looksBinary(_ chunk: ByteView) -> Bool { reason(chunk) != nil }

    /// Whether `head` is ASCII-range UTF-16: a NUL in every even or every odd position of its
    /// first 64 bytes, and none in the other.
    private static func looksUTF16(_ head: ByteView) -> Bool {
        let count = Swift.min(64, head.count) & ~1
        guard count >= 8 else { return false }
        var evenNUL = 0
        var oddNUL = 0
        for index in 0..<count where head[index] == 0 {
            if index % 2 == 0 { evenNUL += 1 } else { oddNUL += 1 }
        }
        let half = count / 2
        return (evenNUL == half && oddNUL == 0) || (oddNUL == half && evenNUL == 0)
    }

}

/// The SQLite shared-memory index (`<db>-shm`) beside a database in WAL mode: derived data SQLite
/// rebuilds from the log, with no magic of its own, recognised by its name and the SQLite database
/// beside it.
package enum SQLiteSharedMemory {
    package static func database(of path: String) -> String? {
        guard path.hasSuffix("-shm") else { return nil }
        let database = String(path.dropLast(4))
        guard let file = try? EvidenceFile(path: database), file.head(16) == MLflowFormat.magic else { return nil }
        return database
    }
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// Reads one logical input of an archive (the file, or one tar member) into rows, and records it
/// as a ``MemberRecord`` of the run.
///
/// Two state machines, each state a case of a type rather than a combination of flags:
///
/// - ``Content``, decided by the input's first bytes: text (framed into records), a whole-file
///   format (an SQLite database, handed to its format's reader), an SQLite shared-memory index
///   (recorded, not read) or binary (rejected once; the rest is only hashed).
/// - ``Decoding``, for text: the first records are *sampled* (up to ``ArchiveIngestor/sniffRecords``
///   records or ``ArchiveIngestor/sniffBytes`` bytes) to choose the format and make its decoder;
///   then the sample is replayed through the decoder and every later record is *decoded* as it
///   comes. When no format fits, or its decoder cannot be made, the member is *undecodable* and
///   each record is rejected with the reason. A member that ends before the sample is full is
///   decided at its end.
///
/// Rows go to the run's ``RowWriter`` (flushed to segments as they fill), rejects to the run's
/// ``RejectLog``; damage reported by the stream is counted and estimated in records
/// (``DamageLoss``).
final class MemberReader {
    /// What the input's first bytes say it is.
    enum Content {
        /// No byte read yet.
        case undecided
        /// Text, framed into records.
        case text
        /// A whole-file format, read by its format's reader (`readable` false when that reader
        /// could not read it: the input is recorded as unreadable).
        case wholeFile(format: String, readable: Bool)
        /// An SQLite shared-memory index: recorded with its hash, nothing in it to read.
        case sharedMemory
        /// Not text: rejected once with `reason`.
        case binary(reason: String)
    }

    /// How the records of a text input are handled.
    enum Decoding {
        /// Collecting the first records to choose a format.
        case sampling(records: [(bytes: [UInt8], number: Int64)], bytes: Int)
        /// Decoding each record with the chosen format's decoder.
        case decoding(any RecordDecoder)
        /// No format can decode the input: every record is rejected with `reason`.
        case undecodable(reason: String)
    }

    private let run: ArchiveRun
    private let input: ArchiveInput
    private let rows: RowWriter
    private let framer: RecordFramer
    private let name: String

    private var content = Content.undecided
    private var decoding = Decoding.sampling(records: [], bytes: 0)
    /// The format's name once chosen.
    private var formatName = "unknown"
    private var rejected: Int64 = 0
    /// Rows beyond the first of records that made several (records = rows − extraRows).
    private var extraRows: Int64 = 0
    private var notes: [String] = []
    private var damages: [StreamDamage] = []
    private var decodedBytes = 0
    /// Decoded bytes and rows already counted in the ingest's progress.
    private var reportedBytes = 0
    private var reportedRows: Int64 = 0

    init(run: ArchiveRun, input: ArchiveInput, rows: RowWriter) {
        self.run = run
        self.input = input
        self.rows = rows
        self.name = input.name
        framer = RecordFramer(maxRecordBytes: run.ingestor.request.maxRecordBytes)
    }

    /// Reads the input to its end (or, for a whole-file format, hands it to its reader) and
    /// appends its member record to the run.
    func read(inputs: ArchiveInputs) throws {
        rows.member = input.isTarMember ? name : ""
        rows.resetMemberStatistics()
        let consumedAtStart = inputs.consumedInputBytes
        reading: while let event = try input.stream.next() {
            switch event {
            case let .bytes(chunk):
                decodedBytes += chunk.count
                if case .undecided = content, !chunk.isEmpty { try decideContent(chunk) }
                if case .text = content { framer.feed(chunk, handle) }
            case let .damage(damage):
                reject(0, "damaged archive data", [])
                notes.append(damage.description)
                damages.append(damage)
            }
            run.reportConsumed()
            reportProgress()
            try rows.flushIfFull()
            switch content {
            case .wholeFile, .sharedMemory: break reading
            case .undecided, .text, .binary: continue
            }
        }
        switch content {
        case .text:
            framer.finish(handle)
            if case let .sampling(records, _) = decoding { chooseDecoder(replaying: records) }
        case .undecided:
            notes.append("empty")
        case .wholeFile, .sharedMemory, .binary:
            break
        }
        try rows.flushIfFull()
        record(consumedBytes: inputs.consumedInputBytes - consumedAtStart)
    }

    // MARK: Content

    /// Decides what the input is from its first chunk.
    private func decideContent(_ chunk: ByteView) throws {
        if let format = run.wholeFileFormat(startingWith: chunk) {
            // An SQLite database (or another whole-file format): not framed as text. A file with
            // the format's magic that its reader cannot read (another SQLite database, a corrupt
            // one) is unreadable evidence, not an ingest.
            let readable = try run.readWholeFile(format, input: input, first: chunk, rows: rows,
                                                 reject: { number, reason in reject(number, reason, []) },
                                                 note: { notes.append($0) })
            content = .wholeFile(format: format.name, readable: readable)
            return
        }
        guard let reason = BinarySniffer.reason(chunk) else {
            content = .text
            return
        }
        if !input.isTarMember, input.compressions.isEmpty, let database = SQLiteSharedMemory.database(of: run.file.path) {
            content = .sharedMemory
            notes.append("SQLite shared-memory index of '\((database as NSString).lastPathComponent)' "
                         + "(derived data SQLite rebuilds from the log); recorded, not read")
            try run.drainRest(input.stream)
            return
        }
        content = .binary(reason: reason)
        reject(0, reason, chunk[0..<64].array)
        notes.append(reason == "binary data, not a log" ? "binary content (not text); skipped" : reason)
    }

    // MARK: Decoding

    /// A framed event: a record is sampled or decoded, a framing reject recorded.
    private func handle(_ event: FramedEvent) {
        switch event {
        case let .record(view, number):
            switch decoding {
            case var .sampling(records, bytes):
                records.append((view.array, number))
                bytes += view.count
                if records.count >= ArchiveIngestor.sniffRecords || bytes >= ArchiveIngestor.sniffBytes {
                    chooseDecoder(replaying: records)
                } else {
                    decoding = .sampling(records: records, bytes: bytes)
                }
            case let .decoding(decoder):
                decode(view, number, with: decoder)
            case let .undecodable(reason):
                rows.line = number
                reject(number, reason, view[0..<RejectLog.sampleBytes].array)
            }
        case let .rejected(number, reason, bytes):
            reject(number, reason, bytes.array)
        }
    }

    /// Chooses the format from the sampled `records` (or the one `--format` or the profile names),
    /// makes its decoder, and replays the records through it.
    private func chooseDecoder(replaying records: [(bytes: [UInt8], number: Int64)]) {
        guard !records.isEmpty else {
            decoding = .undecodable(reason: "unrecognised format")
            return
        }
        let request = run.ingestor.request
        let sniff = SniffSample(inputName: name, framing: framer.mode ?? .lines, records: records.map(\.bytes))
        let format: FormatDescriptor?
        if let forced = request.formatName ?? request.profile?.format {
            format = run.ingestor.registry.format(named: forced)
        } else {
            format = run.ingestor.registry.sniff(sniff)
        }
        if let format {
            do {
                let decoder = try format.make(DecoderContext(kind: request.kind(of: run.file.path), profile: request.profile,
                                                             inputName: name, sample: sniff))
                decoding = .decoding(decoder)
                formatName = format.name
                if let note = decoder.note { notes.append(note) }
            } catch {
                switch error {
                case .undecidableKind: decoding = .undecodable(reason: "source kind undecidable")
                case .profile: decoding = .undecodable(reason: "profile does not fit the format")
                default: decoding = .undecodable(reason: "format cannot decode this input")
                }
                notes.append(error.description)
            }
        } else {
            decoding = .undecodable(reason: "unrecognised format")
            notes.append("no known format matches the content")
        }
        for (bytes, number) in records {
            bytes.withByteView { view in handle(.record(view, number: number)) }
        }
    }

    /// Decodes one record into a row, or rejects it (invalid UTF-8, or the decoder's reason).
    private func decode(_ record: ByteView, _ number: Int64, with decoder: any RecordDecoder) {
        rows.line = number
        guard record.isValidUTF8 else {
            reject(number, "invalid UTF-8", record[0..<RejectLog.sampleBytes].array)
            return
        }
        let before = rows.rowTotal
        do {
            try decoder.decode(record, into: rows)
            let added = rows.rowTotal - before
            if added > 1 { extraRows += added - 1 }
        } catch {
            rows.abandon()
            reject(number, error.reason, record[0..<RejectLog.sampleBytes].array)
        }
    }

    private func reject(_ line: Int64, _ reason: String, _ bytes: [UInt8]) {
        rejected += 1
        run.rejects.record(member: name, line: line, reason: reason, bytes: bytes)
    }

    /// Counts the bytes decoded and the rows made since the last call in the ingest's progress
    /// (a progress line moves during a long member, not only at its end).
    private func reportProgress() {
        let made = rows.rowCounts.reduce(0, +)
        run.ingestor.progress.add(bytes: 0, rows: made - reportedRows, rejected: 0,
                                  decoded: Int64(decodedBytes - reportedBytes))
        reportedRows = made
        reportedBytes = decodedBytes
    }

    // MARK: Member record

    /// Appends the member's record (rows, rejects, notes, estimated loss) and notes to the run.
    private func record(consumedBytes: Int) {
        let kinds = SourceKind.allCases.filter { rows.rowCounts[Int($0.code)] > 0 }
        let memberRows = rows.rowCounts.reduce(0, +)
        run.ingestor.progress.add(bytes: 0, rows: memberRows - reportedRows, rejected: rejected,
                                  decoded: Int64(decodedBytes - reportedBytes))
        reportedRows = memberRows
        reportedBytes = decodedBytes
        let loss = DamageLoss(damages: damages, decodedBytes: decodedBytes, consumedBytes: consumedBytes,
                              records: memberRows - extraRows + rejected + rows.filteredCount)
        if let phrase = loss.phrase { notes.append("damaged data: " + phrase) }
        let format = switch content {
        case .binary: "binary"
        case .sharedMemory: "sqlite-shm"
        case let .wholeFile(name, readable): readable ? name : "unreadable"
        case .undecided, .text: formatName
        }
        var member = MemberRecord(name: name, format: format, kind: kinds.map(\.rawValue).joined(separator: ","),
                                  rows: memberRows, rejected: rejected, firstTime: rows.firstTime, lastTime: rows.lastTime,
                                  note: notes.joined(separator: "; "), filtered: rows.filteredCount)
        member.lostBytes = loss.bytes
        member.lostRecords = loss.records
        run.members.append(member)
        run.notes += notes.map { input.isTarMember ? "\(name): \($0)" : $0 }
    }
}

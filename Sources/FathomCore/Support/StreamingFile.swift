import FathomStore
import Foundation

/// A file written piece by piece through a 1 MiB buffer and put in place atomically: the bytes go
/// to a hidden temporary file beside `path` (`.<name>.fathom-tmp-<pid>-<n>`), renamed over it by
/// ``commit()``. Dropped without a commit, the temporary file is removed and `path` is untouched.
/// For outputs too large to build in memory first (findings of a month of logs), and through
/// ``write(_:to:)`` for every report document.
///
/// A process killed while writing (kill -9, the OOM killer) cannot remove its temporary file; the
/// next writer into the same folder does (``removeStale(in:)``: files of that pattern whose process
/// is gone), so a report folder never keeps a half-written file.
final class StreamingFile {
    let path: String
    private let temporary: String
    private var descriptor: FileDescriptor?
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20
    static let marker = ".fathom-tmp-"

    init(path: String) throws(ReportError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        Self.removeStale(in: folder.isEmpty ? "." : folder)
        temporary = (folder.isEmpty ? "" : folder + "/") + "." + name + Self.marker
            + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            descriptor = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL)
        } catch {
            throw .io(path: path, detail: error.description)
        }
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit {
        if let descriptor {
            descriptor.close()
            unlink(temporary)
        }
    }

    /// Writes `data` to `path` atomically (see the type's description).
    static func write(_ data: Data, to path: String) throws(ReportError) {
        let file = try StreamingFile(path: path)
        try file.write(data)
        try file.commit()
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ReportError) {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try writeThrough(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func write(_ data: Data) throws(ReportError) {
        let failure = data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) -> ReportError? in
            do throws(ReportError) { try write(bytes) } catch { return error }
            return nil
        }
        if let failure { throw failure }
    }

    /// Writes what is buffered, closes the file and renames it over `path`.
    func commit() throws(ReportError) {
        try flush()
        guard let open = descriptor else { throw .io(path: path, detail: "already committed") }
        descriptor = nil
        open.close()
        guard rename(temporary, path) == 0 else {
            let detail = String(cString: strerror(errno))
            unlink(temporary)
            throw .io(path: path, detail: detail)
        }
    }

    private func flush() throws(ReportError) {
        guard !buffer.isEmpty else { return }
        let failure = buffer.withUnsafeBytes { bytes -> ReportError? in
            do throws(ReportError) { try writeThrough(bytes) } catch { return error }
            return nil
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw failure }
    }

    private func writeThrough(_ bytes: UnsafeRawBufferPointer) throws(ReportError) {
        guard let descriptor else { throw .io(path: path, detail: "already committed") }
        do { try descriptor.writeAll(bytes) } catch { throw .io(path: path, detail: error.description) }
    }

    /// Removes the temporary files that writers killed before their commit left in `folder`:
    /// names `.<name>.fathom-tmp-<pid>-<n>` whose process no longer runs.
    static func removeStale(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(".") {
            guard let range = name.range(of: marker, options: .backwards) else { continue }
            let tail = name[range.upperBound...].split(separator: "-")
            guard tail.count == 2, let pid = Int32(tail[0]), pid > 0, pid != getpid() else { continue }
            if kill(pid, 0) != 0, errno == ESRCH {
                unlink(folder + "/" + name)
            }
        }
    }
}

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
package final class StreamingFile {
    package let path: String
    private let temporary: String
    private var descriptor: FileDescriptor?
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20
    package static let marker = ".fathom-tmp-"

    package init(path: String) throws(StoreError) {
        self.path = path
        let folder = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        Self.removeStale(in: folder.isEmpty ? "." : folder)
        temporary = (folder.isEmpty ? "" : folder + "/") + "." + name + Self.marker
            + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        descriptor = try FileDescriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_EXCL)
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit {
        if let descriptor {
            descriptor.close()
            FileSystem.removeFile(temporary)
        }
    }

    /// Writes `data` to `path` atomically (see the type's description).
    package static func write(_ data: Data, to path: String) throws(StoreError) {
        let file = try StreamingFile(path: path)
        try file.write(data)
        try file.commit()
    }

    package func write(_ bytes: [UInt8]) throws(StoreError) {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try writeThrough(bytes)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    package func write(_ data: Data) throws(StoreError) {
        try data.withByteView { (view) throws(StoreError) in
            if buffer.count + view.count > Self.bufferSize { try flush() }
            if view.count >= Self.bufferSize {
                guard let descriptor else { throw .io(path: path, operation: "write (after commit)", code: EBADF) }
                try descriptor.writeAll(view)
            } else {
                buffer.append(view)
            }
        }
    }

    /// Writes what is buffered, closes the file and renames it over `path`.
    package func commit() throws(StoreError) {
        try flush()
        guard let open = descriptor else { throw .io(path: path, operation: "commit (twice)", code: EBADF) }
        descriptor = nil
        open.close()
        do { try FileSystem.rename(temporary, to: path) } catch {
            FileSystem.removeFile(temporary)
            throw error
        }
    }

    private func flush() throws(StoreError) {
        guard !buffer.isEmpty else { return }
        defer { buffer.removeAll(keepingCapacity: true) }
        try writeThrough(buffer)
    }

    private func writeThrough(_ bytes: [UInt8]) throws(StoreError) {
        guard let descriptor else { throw .io(path: path, operation: "write (after commit)", code: EBADF) }
        try descriptor.writeAll(bytes)
    }

    /// Removes the temporary files that writers killed before their commit left in `folder`:
    /// names `.<name>.fathom-tmp-<pid>-<n>` whose process no longer runs.
    package static func removeStale(in folder: String) {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return }
        for name in names where name.hasPrefix(".") {
            guard let range = name.range(of: marker, options: .backwards) else { continue }
            let tail = name[range.upperBound...].split(separator: "-")
            guard tail.count == 2, let pid = Int32(tail[0]), pid > 0, pid != getpid() else { continue }
            if FileSystem.processHasEnded(pid) {
                FileSystem.removeFile(folder + "/" + name)
            }
        }
    }
}

import Foundation

/// A file written piece by piece through a 1 MiB buffer and put in place atomically: the bytes go
/// to a temporary file beside `path`, renamed over it by ``commit()``. Dropped without a commit,
/// the temporary file is removed and `path` is untouched. For outputs too large to build in memory
/// first (findings of a month of logs).
final class StreamingFile {
    let path: String
    private let temporary: String
    private var fd: Int32
    private var buffer: [UInt8] = []
    private static let bufferSize = 1 << 20

    init(path: String) throws(ReportError) {
        self.path = path
        temporary = path + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw .io(path: path, detail: String(cString: strerror(errno))) }
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit {
        if fd >= 0 {
            close(fd)
            unlink(temporary)
        }
    }

    func write(_ bytes: UnsafeRawBufferPointer) throws(ReportError) {
        if buffer.count + bytes.count > Self.bufferSize { try flush() }
        if bytes.count >= Self.bufferSize {
            try Self.write(fd, bytes, path: path)
        } else {
            buffer.append(contentsOf: bytes)
        }
    }

    func write(_ data: Data) throws(ReportError) {
        do {
            try data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in try write(bytes) }
        } catch let error as ReportError {
            throw error
        } catch {
            throw .io(path: path, detail: "\(error)")
        }
    }

    /// Writes what is buffered, closes the file and renames it over `path`.
    func commit() throws(ReportError) {
        try flush()
        let descriptor = fd
        fd = -1
        guard close(descriptor) == 0 else {
            unlink(temporary)
            throw .io(path: path, detail: String(cString: strerror(errno)))
        }
        guard rename(temporary, path) == 0 else {
            let detail = String(cString: strerror(errno))
            unlink(temporary)
            throw .io(path: path, detail: detail)
        }
    }

    private func flush() throws(ReportError) {
        guard !buffer.isEmpty else { return }
        let failure = buffer.withUnsafeBytes { bytes -> ReportError? in
            do throws(ReportError) {
                try Self.write(fd, bytes, path: path)
                return nil
            } catch {
                return error
            }
        }
        buffer.removeAll(keepingCapacity: true)
        if let failure { throw failure }
    }

    private static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, path: String) throws(ReportError) {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw .io(path: path, detail: String(cString: strerror(errno)))
            }
            offset += written
        }
    }
}

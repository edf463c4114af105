import FathomStore
import Foundation
import FathomSupport

/// A folder under the store's `tmp/` for one run's spill files, made on first use and deleted with
/// everything in it when the run is done. Its name carries the process id, so a writer opening the
/// store leaves the folders of live runs alone and deletes those of killed ones.
package final class SpillDirectory: @unchecked Sendable {
    package static let prefix = "spill-"
    private let root: String
    private let lock = NSLock()
    private var path: String?

    package init(store: Store) { root = store.absolute("tmp") }

    package init(root: String) { self.root = root }

    deinit {
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Creates (truncating) the file `name` in the folder; returns its descriptor, open for reading
    /// and appending.
    package func create(_ name: String) throws -> Int32 {
        let folder = try folder()
        let file = folder + "/" + name
        let fd = open(file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.io(path: file, operation: "open", code: errno) }
        return fd
    }

    /// The path of `name` in the folder (made on first use); the file itself is not created.
    package func path(of name: String) throws -> String {
        try folder() + "/" + name
    }

    private func folder() throws -> String {
        lock.lock()
        defer { lock.unlock() }
        if let path { return path }
        let made = root + "/" + Self.prefix + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        do {
            try FileManager.default.createDirectory(atPath: made, withIntermediateDirectories: true)
        } catch {
            throw StoreError.io(path: made, operation: "create directory", code: errno)
        }
        path = made
        return made
    }

    /// Whether `name` (an entry of `tmp/`) is the spill folder of a process that is still running.
    package static func belongsToLiveProcess(_ name: String) -> Bool {
        guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { return false }
        return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
    }

    package static func write(fd: Int32, _ bytes: UnsafeRawBufferPointer) throws {
        var offset = 0
        while offset < bytes.count {
            let written = Foundation.write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw StoreError.io(path: "spill file", operation: "write", code: errno)
            }
            offset += written
        }
    }

    /// The `count` values of type `T` the file holds, from its start.
    package static func read<T>(fd: Int32, count: Int, as type: T.Type) throws -> [T] {
        try [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            let raw = UnsafeMutableRawBufferPointer(buffer)
            var offset = 0
            while offset < raw.count {
                let got = pread(fd, raw.baseAddress! + offset, raw.count - offset, off_t(offset))
                if got < 0 {
                    if errno == EINTR { continue }
                    throw StoreError.io(path: "spill file", operation: "read", code: errno)
                }
                if got == 0 { throw StoreError.io(path: "spill file", operation: "read (short)", code: EIO) }
                offset += got
            }
            initialized = count
        }
    }
}

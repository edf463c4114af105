#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive advisory lock on a file, held for the life of this object.
///
/// The kernel releases the lock when the process dies, so a killed run never leaves a stale lock.
/// The corresponding C function is `flock(2)` with `LOCK_EX | LOCK_NB`.
public final class FileLock: @unchecked Sendable {
    public let path: String
    private let descriptor: Int32

    /// Takes the lock, or returns nil when another process holds it.
    public init?(path: String) throws(StoreError) {
        self.path = path
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        if fd < 0 { throw .io(path: path, operation: "open", code: errno) }
        if flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let code = errno
            close(fd)
            if code == EWOULDBLOCK { return nil }
            throw .io(path: path, operation: "lock", code: code)
        }
        descriptor = fd
        // Record the holder for the error message of whoever waits on us.
        let text = "\(getpid())\n"
        _ = ftruncate(fd, 0)
        _ = text.withCString { pwrite(fd, $0, strlen($0), 0) }
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}

/// Small file-system operations the store needs, as throwing Swift calls.
public enum FileSystem {
    /// `fsync(2)` of a directory, so that a rename inside it is durable.
    public static func syncDirectory(_ path: String) throws(StoreError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if fd < 0 { throw .io(path: path, operation: "open directory", code: errno) }
        defer { close(fd) }
        if fsync(fd) != 0 { throw .io(path: path, operation: "fsync", code: errno) }
    }

    /// Removes the file at `path`, if any; failures are ignored (for temporary files).
    ///
    /// The corresponding C function is `unlink(2)`.
    public static func removeFile(_ path: String) {
        _ = unlink(path)
    }

    /// Renames `source` onto `target` atomically, replacing it.
    ///
    /// The corresponding C function is `rename(2)`.
    public static func rename(_ source: String, to target: String) throws(StoreError) {
        if Glibc.rename(source, target) != 0 { throw .io(path: target, operation: "rename onto", code: errno) }
    }

    /// Whether the process `pid` has ended (no such process), as `kill(pid, 0)` tells.
    public static func processHasEnded(_ pid: Int32) -> Bool {
        kill(pid, 0) != 0 && errno == ESRCH
    }

    /// The value of the environment variable `name`, read without building the whole environment.
    ///
    /// The corresponding C function is `getenv(3)`.
    public static func environment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }

    /// The canonical path of `path` (links, `.` and `..` resolved), or nil when it cannot be
    /// resolved (it does not exist, or a link loops).
    ///
    /// The corresponding C function is `realpath(3)`.
    public static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Whether `path` matches the shell pattern `pattern` (`*`, `?`, `[…]`).
    ///
    /// The corresponding C function is `fnmatch(3)`.
    public static func matches(pattern: String, _ path: String) -> Bool {
        fnmatch(pattern, path, 0) == 0
    }

    /// The names in a directory (without `.` and `..`), unsorted.
    ///
    /// The corresponding C functions are `opendir(3)` and `readdir(3)`.
    public static func entries(of directory: String) throws(StoreError) -> [String] {
        guard let handle = opendir(directory) else { throw .io(path: directory, operation: "open directory", code: errno) }
        defer { closedir(handle) }
        var names: [String] = []
        while true {
            errno = 0
            guard let entry = readdir(handle) else {
                if errno != 0 { throw .io(path: directory, operation: "read directory", code: errno) }
                break
            }
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != ".", name != ".." { names.append(name) }
        }
        return names
    }

    /// Creates `path` and any missing parent directories (`mkdir -p`).
    ///
    /// The corresponding C function is `mkdir(2)`.
    public static func createDirectory(_ path: String, permissions: mode_t = 0o755) throws(StoreError) {
        if mkdir(path, permissions) == 0 { return }
        switch errno {
        case EEXIST:
            var info = stat()
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == S_IFDIR else {
                throw .io(path: path, operation: "create directory", code: EEXIST)
            }
        case ENOENT:
            var parent = path
            while parent.hasSuffix("/") { parent.removeLast() }
            guard let slash = parent.lastIndex(of: "/"), slash != parent.startIndex else {
                throw .io(path: path, operation: "create directory", code: ENOENT)
            }
            try createDirectory(String(parent[..<slash]), permissions: permissions)
            if mkdir(path, permissions) != 0, errno != EEXIST {
                throw .io(path: path, operation: "create directory", code: errno)
            }
        case let code:
            throw .io(path: path, operation: "create directory", code: code)
        }
    }

    /// Size, modification time (ns) and whether `path` is a directory or regular file, via `stat(2)`
    /// (following symbolic links). Nil when the path does not exist.
    public static func status(_ path: String) -> (size: Int64, modificationTime: Int64, isDirectory: Bool, isRegular: Bool)? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        let mode = info.st_mode & S_IFMT
        return (Int64(info.st_size), Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
                mode == S_IFDIR, mode == S_IFREG)
    }
}

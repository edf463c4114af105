import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// What kind of directory entry a path names, as `lstat(2)` sees it.
public enum FileKind: String, Sendable, Codable {
    case regular
    case directory
    case symbolicLink = "symlink"
    case fifo
    case socket
    case characterDevice = "character-device"
    case blockDevice = "block-device"
    case unknown
}

/// The status of a path, read without following a final symbolic link (or, with
/// ``following(path:)``, following it).
public struct FileStatus: Sendable, Equatable {
    public var kind: FileKind
    public var size: Int
    /// Modification time, nanoseconds since the epoch (UTC).
    public var modificationTime: Int64
    /// Device and inode: the file's identity, e.g. to recognise a directory met twice in a walk.
    public var device: UInt64
    public var inode: UInt64

    /// The status of `path`, or nil when nothing exists there (`ENOENT`/`ENOTDIR`).
    ///
    /// The corresponding C function is `lstat(2)`.
    public static func of(path: String) throws(StoreError) -> FileStatus? {
        var info = stat()
        if lstat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR { return nil }
            throw .io(path: path, operation: "lstat", code: code)
        }
        return FileStatus(info)
    }

    /// The status of what `path` names after following symbolic links, or nil when nothing
    /// exists there (including a dangling link or a link loop, `ELOOP`).
    ///
    /// The corresponding C function is `stat(2)`.
    public static func following(path: String) throws(StoreError) -> FileStatus? {
        var info = stat()
        if stat(path, &info) != 0 {
            let code = errno
            if code == ENOENT || code == ENOTDIR || code == ELOOP { return nil }
            throw .io(path: path, operation: "stat", code: code)
        }
        return FileStatus(info)
    }

    public var isRegular: Bool { kind == .regular }
    public var isDirectory: Bool { kind == .directory }

    init(_ info: stat) {
        let kind: FileKind
        switch info.st_mode & S_IFMT {
        case S_IFREG: kind = .regular
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symbolicLink
        case S_IFIFO: kind = .fifo
        case S_IFSOCK: kind = .socket
        case S_IFCHR: kind = .characterDevice
        case S_IFBLK: kind = .blockDevice
        default: kind = .unknown
        }
        self.kind = kind
        self.size = Int(info.st_size)
        self.device = UInt64(info.st_dev)
        self.inode = UInt64(info.st_ino)
        #if canImport(Darwin)
        self.modificationTime = Int64(info.st_mtimespec.tv_sec) * 1_000_000_000 + Int64(info.st_mtimespec.tv_nsec)
        #else
        self.modificationTime = Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec)
        #endif
    }
}


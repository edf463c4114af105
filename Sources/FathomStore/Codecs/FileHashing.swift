import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Lending mapped bytes to hash functions

/// A borrowed byte range presented as `DataProtocol`, so that a hash function (swift-crypto's
/// `SHA256.update(data:)`) can consume a mapping chunk without a copy and without the caller
/// touching a pointer.
///
/// The region is one contiguous range; `regions` is the region itself, and swift-crypto hashes it
/// with a single `update(bufferPointer:)`. Like the ``ByteView`` it wraps, a region must not outlive
/// the owner of its bytes (the ``FileMapping`` it came from).
public struct ByteRegion: DataProtocol, ContiguousBytes, @unchecked Sendable {
    public typealias Element = UInt8
    public typealias Index = Int
    public typealias Indices = Range<Int>
    public typealias SubSequence = Slice<ByteRegion>
    public typealias Regions = CollectionOfOne<ByteRegion>

    public let view: ByteView

    public init(_ view: ByteView) { self.view = view }

    public var startIndex: Int { 0 }
    public var endIndex: Int { view.count }
    public subscript(position: Int) -> UInt8 { view[position] }
    public subscript(bounds: Range<Int>) -> Slice<ByteRegion> { Slice(base: self, bounds: bounds) }
    public var regions: CollectionOfOne<ByteRegion> { CollectionOfOne(self) }

    /// Lends the raw bytes. The pointer must not escape `body`.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(start: view.base, count: view.count))
    }
}

// MARK: - File status without following links

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

// MARK: - Directory walk

/// One entry found by ``DirectoryWalker``.
public struct WalkedEntry: Sendable, Equatable {
    /// The path relative to the walk's root, `/`-separated.
    public var relativePath: String
    public var status: FileStatus
}

/// Lists everything under a directory without following symbolic links.
///
/// Directories that cannot be opened are reported in `problems`, never skipped silently. Entries
/// whose names are not valid UTF-8 are reported as problems too (their names cannot be recorded
/// faithfully in a JSON manifest).
///
/// - Complexity: O(n) system calls for n entries.
public enum DirectoryWalker {
    public struct Result: Sendable {
        /// Every entry below the root except directories, in no particular order.
        public var entries: [WalkedEntry]
        public var problems: [StoreError]
    }

    /// Walks `root` recursively. Throws only when `root` itself cannot be opened.
    ///
    /// The corresponding C functions are `opendir(3)`, `readdir(3)` and `lstat(2)`.
    public static func walk(root: String) throws(StoreError) -> Result {
        var result = Result(entries: [], problems: [])
        guard let top = opendir(root) else { throw .io(path: root, operation: "opendir", code: errno) }
        var pending: [(relative: String, handle: OpaquePointer?)] = [("", top)]
        while let next = pending.popLast() {
            let (relative, handle) = next
            let directoryPath = relative.isEmpty ? root : root + "/" + relative
            var stream = handle
            if stream == nil {
                stream = opendir(directoryPath)
                if stream == nil {
                    result.problems.append(.io(path: directoryPath, operation: "opendir", code: errno))
                    continue
                }
            }
            guard let directory = stream else { continue }
            defer { closedir(directory) }
            while true {
                errno = 0
                guard let entry = readdir(directory) else {
                    if errno != 0 {
                        result.problems.append(.io(path: directoryPath, operation: "readdir", code: errno))
                    }
                    break
                }
                let nameBytes: [UInt8] = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    let bytes = raw.bindMemory(to: UInt8.self)
                    let length = bytes.firstIndex(of: 0) ?? bytes.count
                    return Array(bytes[0..<length])
                }
                if nameBytes == [0x2E] || nameBytes == [0x2E, 0x2E] { continue }
                guard let name = String(validating: nameBytes, as: UTF8.self) else {
                    let shown = String(decoding: nameBytes, as: UTF8.self)
                    result.problems.append(.unsupported(
                        path: directoryPath + "/" + shown, detail: "file name is not valid UTF-8"))
                    continue
                }
                let childRelative = relative.isEmpty ? name : relative + "/" + name
                let childPath = root + "/" + childRelative
                do throws(StoreError) {
                    guard let status = try FileStatus.of(path: childPath) else { continue }
                    if status.kind == .directory {
                        pending.append((childRelative, nil))
                    } else {
                        result.entries.append(WalkedEntry(relativePath: childRelative, status: status))
                    }
                } catch {
                    result.problems.append(error)
                }
            }
        }
        return result
    }
}

import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

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

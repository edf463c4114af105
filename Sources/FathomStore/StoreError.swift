/// Errors of the low-level store: reading archives, decompressing them, and reading or writing
/// segment files.
///
/// Corrupt input, I/O failure and programmer errors are kept apart. Descriptions carry paths and
/// offsets, never evidence payloads.
public enum StoreError: Error, Equatable, Sendable, CustomStringConvertible {
    /// A system call failed (`operation` is the call, `code` the `errno`).
    case io(path: String, operation: String, code: Int32)
    /// The bytes on disk are not what the format says they must be.
    case corrupt(path: String, offset: Int, detail: String)
    /// The input is not in a format this layer understands.
    case unsupported(path: String, detail: String)
    /// The file changed while it was being read (it shrank, e.g. `logrotate copytruncate`, or was
    /// rewritten in place): what was read is not a consistent copy of any version of it.
    case changed(path: String, detail: String)

    public var description: String {
        switch self {
        case let .io(path, operation, code):
            return "Cannot \(operation) '\(path)': \(systemErrorMessage(code)) (errno \(code))."
        case let .corrupt(path, offset, detail):
            return "Corrupt data in '\(path)' at byte \(offset): \(detail)"
        case let .unsupported(path, detail):
            return "Unsupported input '\(path)': \(detail)"
        case let .changed(path, detail):
            return "'\(path)' changed while it was read: \(detail)"
        }
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

func systemErrorMessage(_ code: Int32) -> String {
    guard let message = strerror(code) else { return "unknown error" }
    return String(cString: message)
}

import Foundation

/// A folder under the store's `tmp/` for one run's spill files, made on first use and deleted with
/// everything in it when the run is done. Its name carries the process id, so a writer opening the
/// store leaves the folders of live runs alone and deletes those of killed ones.
public final class SpillDirectory: @unchecked Sendable {
    public static let prefix = "spill-"
    private let root: String
    private let lock = NSLock()
    private var path: String?

    public init(root: String) { self.root = root }

    deinit {
        if let path { try? FileManager.default.removeItem(atPath: path) }
    }

    /// Creates (truncating) the file `name` in the folder; returns its descriptor, open for reading
    /// and appending. The caller closes it.
    public func create(_ name: String) throws -> FileDescriptor {
        try FileDescriptor.open(try folder() + "/" + name, O_RDWR | O_CREAT | O_TRUNC, permissions: 0o600)
    }

    /// The path of `name` in the folder (made on first use); the file itself is not created.
    public func path(of name: String) throws -> String {
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
    public static func belongsToLiveProcess(_ name: String) -> Bool {
        guard name.hasPrefix(prefix), let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }) else { return false }
        return pid == getpid() || kill(pid, 0) == 0 || errno == EPERM
    }
}

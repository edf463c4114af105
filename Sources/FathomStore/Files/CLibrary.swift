#if canImport(Glibc)
import Glibc
#endif

/// C library functions looked up by name at run time: glibc functions the C module Swift imports
/// does not declare (`malloc_trim`, `sync_file_range`).
public enum CLibrary {
    /// The function `name` as `type` (a `@convention(c)` function type), or nil where the C library
    /// has none (not glibc).
    public static func function<T>(_ name: String, as type: T.Type) -> T? {
        #if canImport(Glibc)
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), name) else { return nil }
        return unsafeBitCast(symbol, to: type)
        #else
        return nil
        #endif
    }
}

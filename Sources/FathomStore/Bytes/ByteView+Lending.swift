import Foundation

extension Array where Element == UInt8 {
    /// Lends the array's bytes as a view that must not escape `body`.
    @inlinable
    public func withByteView<R, E: Error>(_ body: (ByteView) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = withUnsafeBufferPointer { buffer in
            do throws(E) {
                return .success(try body(ByteView(unsafeStart: buffer.baseAddress.map(UnsafeRawPointer.init), count: buffer.count)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension String {
    /// Lends the string's UTF-8 as a view that must not escape `body`.
    @inlinable
    public func withByteView<R, E: Error>(_ body: (ByteView) throws(E) -> R) throws(E) -> R {
        var copy = self
        let result: Result<R, E> = copy.withUTF8 { buffer in
            do throws(E) {
                return .success(try body(ByteView(unsafeStart: buffer.baseAddress.map(UnsafeRawPointer.init), count: buffer.count)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

extension Array where Element == UInt8 {
    /// Appends a copy of the bytes `view` lends.
    @inlinable
    public mutating func append(_ view: ByteView) {
        view.withUnsafeBytes { append(contentsOf: $0) }
    }
}

extension Data {
    /// Lends the data's bytes as a view that must not escape `body`.
    @inlinable
    public func withByteView<R, E: Error>(_ body: (ByteView) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = withUnsafeBytes { buffer in
            do throws(E) {
                return .success(try body(ByteView(unsafeStart: buffer.baseAddress, count: buffer.count)))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }
}

import Crypto

/// SHA-256 computed incrementally over views, so an archive is hashed while it is read rather than
/// in a second pass.
public struct SHA256Stream: Sendable {
    private var hasher = SHA256()

    public init() {}

    public mutating func update(_ bytes: ByteView) {
        guard !bytes.isEmpty else { return }
        bytes.withUnsafeBytes { hasher.update(bufferPointer: $0) }
    }

    public mutating func update(_ bytes: [UInt8]) {
        hasher.update(data: bytes)
    }

    /// The 32 bytes of the digest of `bytes`.
    public static func digest(of bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// The lowercase hex digest. The stream must not be used afterwards.
    public func finalize() -> String {
        hasher.finalize().map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
}

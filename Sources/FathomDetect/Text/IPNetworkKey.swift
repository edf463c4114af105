import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// The network an address belongs to, spelled as the per-network rule spells it: /24 for IPv4,
/// /64 for IPv6.
package enum IPNetworkKey {
    package static func key(for address: String) -> String? {
        IPAddress(address).map { name(of: fold($0)) }
    }

    /// The network of the address whose text is `value`, as a key equal for two addresses exactly
    /// when ``key(for:)`` spells their networks alike; nil when ``key(for:)`` is.
    ///
    /// A dotted quad is read from the bytes (the form of nearly every address in a log); any other
    /// text (IPv6, brackets, spaces, a zone) is parsed as ``IPAddress`` parses its string. With
    /// half a million addresses, making each a string, parsing it through arrays and spelling its
    /// network to look it up by name took two seconds of `extraction.network-total`'s 2.1.
    package static func network(of value: ByteView) -> ValueFoldKey? {
        if let v4 = IPAddress.dottedQuad(value) { return fold(IPAddress(v4: v4)) }
        return IPAddress(value.string).map(fold)
    }

    /// The network of `address` as a key: the masked address, tagged with its family.
    static func fold(_ address: IPAddress) -> ValueFoldKey {
        // An IPv4 network is its address's 32 bits; an IPv6 /64 its high 64 (the low ones are 0).
        let network = address.networkAddress(bits: address.isIPv4 ? 24 : 64)
        return address.isIPv4 ? ValueFoldKey(kind: 4, value: network.low)
            : ValueFoldKey(kind: 6, value: network.high)
    }

    /// The network of `key` (from ``network(of:)``), spelled as ``key(for:)`` spells it.
    package static func name(of key: ValueFoldKey) -> String {
        key.kind == 4
            ? IPAddress(v4: UInt32(truncatingIfNeeded: key.value)).network(bits: 24)
            : IPAddress(maskedV6High: key.value, low: 0).network(bits: 64)
    }

    /// How addresses fold into their networks (the extraction rules' groupings by network).
    package static let folding = ValueFolding(key: { network(of: $0) }, name: { name(of: $0) })
}

import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// The network an address belongs to, spelled as the per-network rule spells it: /24 for IPv4,
/// /64 for IPv6.
package enum IPNetworkKey {
    package static func key(for address: String) -> String? {
        guard let parsed = IPAddress(address) else { return nil }
        return parsed.network(bits: parsed.isIPv4 ? 24 : 64)
    }
}

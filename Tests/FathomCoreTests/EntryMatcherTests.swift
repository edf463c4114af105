import FathomStore
import Foundation
import Testing
import FathomDetect
import FathomAnalysis

/// The extraction analysis tells which attacker identity a dictionary entry stands for from the
/// entry's bytes (`ExtractionAnalysis.EntryMatcher`); these tests hold it to what comparing
/// `String`s gives, the way the analysis compared them before.
@Suite struct EntryMatcherTests {
    typealias Identity = ExtractionAnalysis.Identity

    /// The answer by text: the exact identity whose value equals the entry's (repaired) text, and
    /// the network identity equal to the network of that text.
    static func reference(_ bytes: [UInt8], exact: [Int], networks: [Int], identities: [Identity]) -> (UInt32?, UInt32?) {
        let text = String(decoding: bytes, as: UTF8.self)
        let asValue = exact.first { identities[$0].value == text }.map(UInt32.init)
        let network = ExtractionAnalysis.network(of: text)
        let asNetwork = network.flatMap { network in networks.first { identities[$0].value == network } }.map(UInt32.init)
        return (asValue, asNetwork)
    }

    static func match(_ matcher: ExtractionAnalysis.EntryMatcher, _ bytes: [UInt8]) -> (UInt32?, UInt32?) {
        bytes.withUnsafeBytes { matcher.match(ByteView(unsafeStart: $0.baseAddress, count: $0.count)) }
    }

    /// Entries near the identities: the same address spelled otherwise (leading zeros, spaces,
    /// brackets, IPv4-mapped IPv6, upper-case hex), neighbours in and out of the network, broken
    /// quads, invalid UTF-8, and text that is canonically equivalent to an ASCII identity.
    static func entries(seed: UInt64) -> [[UInt8]] {
        var generator = SplitMix(seed: seed)
        var result: [[UInt8]] = []
        let fixed = [
            "198.51.100.7", "198.51.100.255", "198.51.101.7", "198.51.100.07", "0198.51.100.7", " 198.51.100.7",
            "198.51.100.7 ", "[198.51.100.7]", "::ffff:198.51.100.7", "::FFFF:198.51.100.9", "198.51.100", "198.51.100.7.1",
            "198.51.100.256", "1.2.3.4", "0.0.0.0", "255.255.255.255", "2001:db8:4f2a::1", "2001:DB8:4F2A:0:ffff::2",
            "[2001:db8:4f2a::9]", "fe80::1%eth0", "2001:db8:4f2b::1", "::", "::1", "", ".", "1..2.3", "a.b.c.d",
            "u_48213", "U_48213", "u_48213 ", "\u{212A}ey-1", "Key-1", "key-1", "caf\u{E9}", "cafe\u{301}",
            "198.51.100.7\u{0}", "１９８.51.100.7",
        ]
        for text in fixed { result.append(Array(text.utf8)) }
        result.append([0x31, 0x39, 0x38, 0xFF, 0x2E, 0x35])
        result.append([0xC3, 0x28])
        let alphabet = Array("0123456789.:abfF[] %".utf8)
        for _ in 0..<20_000 {
            let length = Int(generator.next() % 18)
            var bytes: [UInt8] = []
            for _ in 0..<length { bytes.append(alphabet[Int(generator.next() % UInt64(alphabet.count))]) }
            result.append(bytes)
            // A real-looking address in or near the identities' networks.
            let third = [100, 101, 7][Int(generator.next() % 3)]
            result.append(Array("198.51.\(third).\(generator.next() % 300)".utf8))
        }
        return result
    }

    @Test func matchesWhatComparingTextGives() {
        let identities = [
            Identity(type: "network", value: "198.51.100.0/24"),
            Identity(type: "network", value: "2001:db8:4f2a::/64"),
            Identity(type: "network", value: "10.0.07.0/24"),   // not as the rule spells networks: never matched
            Identity(type: "principal", value: "Key-1"),
            Identity(type: "principal", value: "u_48213"),
            Identity(type: "src_ip", value: "198.51.100.7"),
            Identity(type: "src_ip", value: "2001:db8:4f2a::1"),
            Identity(type: "src_ip", value: "1.2.3.4"),
        ]
        let addresses = identities.indices.filter { identities[$0].type == "src_ip" }
        let networks = identities.indices.filter { identities[$0].type == "network" }
        let principals = identities.indices.filter { identities[$0].type == "principal" }
        let addressMatcher = ExtractionAnalysis.EntryMatcher(exact: addresses, networks: networks, identities: identities)
        let principalMatcher = ExtractionAnalysis.EntryMatcher(exact: principals, networks: [], identities: identities)
        var matched = (addresses: 0, networks: 0, principals: 0)
        for bytes in Self.entries(seed: 20261205) {
            let expected = Self.reference(bytes, exact: addresses, networks: networks, identities: identities)
            let found = Self.match(addressMatcher, bytes)
            #expect(found.0 == expected.0 && found.1 == expected.1, "\(bytes)")
            let expectedPrincipal = Self.reference(bytes, exact: principals, networks: [], identities: identities)
            let foundPrincipal = Self.match(principalMatcher, bytes)
            #expect(foundPrincipal.0 == expectedPrincipal.0 && foundPrincipal.1 == nil, "\(bytes)")
            if found.0 != nil { matched.addresses += 1 }
            if found.1 != nil { matched.networks += 1 }
            if foundPrincipal.0 != nil { matched.principals += 1 }
        }
        // The entries reach every kind of answer, text-only ones included (the Kelvin sign).
        #expect(matched.addresses > 3 && matched.networks > 1_000 && matched.principals >= 2)
        #expect(Self.match(principalMatcher, Array("\u{212A}ey-1".utf8)).0 == 3)
        #expect(Self.match(addressMatcher, Array("::ffff:198.51.100.9".utf8)).1 == 0)
    }

    /// An identity beyond ASCII: every entry is compared as text.
    @Test func anIdentityBeyondASCIIIsComparedAsText() {
        let identities = [Identity(type: "principal", value: "caf\u{E9}"), Identity(type: "principal", value: "bob")]
        let matcher = ExtractionAnalysis.EntryMatcher(exact: [0, 1], networks: [], identities: identities)
        #expect(Self.match(matcher, Array("cafe\u{301}".utf8)).0 == 0)
        #expect(Self.match(matcher, Array("caf\u{E9}".utf8)).0 == 0)
        #expect(Self.match(matcher, Array("bob".utf8)).0 == 1)
        #expect(Self.match(matcher, Array("bo".utf8)).0 == nil)
    }

    /// The in-place dotted-quad parser gives what `IPAddress` gives, or nothing.
    @Test func dottedQuadAgreesWithIPAddress() {
        for bytes in Self.entries(seed: 7) {
            let parsed = bytes.withUnsafeBytes { IPAddress.dottedQuad(ByteView(unsafeStart: $0.baseAddress, count: $0.count)) }
            guard let parsed else { continue }
            let address = IPAddress(String(decoding: bytes, as: UTF8.self))
            #expect(address?.isIPv4 == true && address.map { UInt32(truncatingIfNeeded: $0.low) } == parsed, "\(bytes)")
        }
        let plain = (0..<1_000).map { "\($0 % 256).\($0 * 7 % 256).\($0 * 13 % 256).\($0 * 31 % 256)" }
        for text in plain {
            let parsed = Array(text.utf8).withUnsafeBytes { IPAddress.dottedQuad(ByteView(unsafeStart: $0.baseAddress, count: $0.count)) }
            #expect(parsed != nil && parsed! == IPAddress(text).map { UInt32(truncatingIfNeeded: $0.low) }, "\(text)")
        }
    }
}

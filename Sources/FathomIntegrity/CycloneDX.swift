import Foundation
import FathomStore
import FathomSupport

/// The parts of a CycloneDX JSON BOM (spec 1.4–1.6) that dependency questions need.
///
/// `metadata.component` is the subject of the BOM — for an ML-BOM, the model (type
/// `machine-learning-model`) or data set (`data`). `components` may nest. `dependencies` lists
/// `{ref, dependsOn}` by `bom-ref`. Unknown fields are ignored; a missing optional field is nil.
public struct CycloneDXBOM: Decodable, Sendable {
    public struct Hash: Decodable, Sendable, Equatable {
        public var alg: String
        public var content: String
    }

    public struct Component: Decodable, Sendable {
        public var type: String?
        public var name: String
        public var group: String?
        public var version: String?
        public var purl: String?
        public var bomRef: String?
        public var hashes: [Hash]?
        public var components: [Component]?

        package enum CodingKeys: String, CodingKey {
            case type, name, group, version, purl, hashes, components
            case bomRef = "bom-ref"
        }

        /// SHA-256 values (alg `SHA-256`), lower-case.
        public var sha256: [String] {
            (hashes ?? []).filter { $0.alg.uppercased().replacingOccurrences(of: "-", with: "") == "SHA256" }
                .map { $0.content.lowercased() }
        }
    }

    public struct Metadata: Decodable, Sendable {
        public var component: Component?
    }

    public struct Dependency: Decodable, Sendable {
        public var ref: String
        public var dependsOn: [String]?
    }

    public var bomFormat: String
    public var specVersion: String?
    public var metadata: Metadata?
    public var components: [Component]?
    public var dependencies: [Dependency]?

    /// Decodes `data` when it is a CycloneDX JSON BOM; nil when it is JSON of another kind.
    /// Throws when it says it is CycloneDX but does not decode.
    public static func decodeIfCycloneDX(_ data: Data) throws -> CycloneDXBOM? {
        struct Probe: Decodable { var bomFormat: String? }
        guard let probe = try? JSONDecoder().decode(Probe.self, from: data), probe.bomFormat == "CycloneDX" else {
            return nil
        }
        return try JSONDecoder().decode(CycloneDXBOM.self, from: data)
    }
}

/// A package URL split into the parts matching needs (`pkg:type/namespace/name@version?…#…`).
public struct PackageURL: Sendable, Equatable {
    public var type: String
    public var namespace: String?
    public var name: String
    public var version: String?

    public init?(_ text: String) {
        guard text.lowercased().hasPrefix("pkg:") else { return nil }
        var rest = Substring(text.dropFirst(4))
        if let hash = rest.firstIndex(of: "#") { rest = rest[..<hash] }
        if let query = rest.firstIndex(of: "?") { rest = rest[..<query] }
        var version: String?
        if let at = rest.lastIndex(of: "@"), let slash = rest.firstIndex(of: "/"), at > slash {
            version = String(rest[rest.index(after: at)...]).removingPercentEncoding
            rest = rest[..<at]
        }
        let parts = rest.split(separator: "/").map { String($0).removingPercentEncoding ?? String($0) }
        guard parts.count >= 2, let last = parts.last else { return nil }
        self.type = parts[0].lowercased()
        self.namespace = parts.count > 2 ? parts[1..<(parts.count - 1)].joined(separator: "/") : nil
        self.name = last
        self.version = version
    }
}

import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// Case ids become folder names: keep them to a safe alphabet.
package enum CaseIdentifier {
    package static func safe(_ id: String) -> String {
        let allowed = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.")
        let mapped = String(id.map { allowed.contains($0) ? $0 : "_" })
        return mapped.isEmpty || mapped.hasPrefix(".") ? "case" + mapped : mapped
    }
}

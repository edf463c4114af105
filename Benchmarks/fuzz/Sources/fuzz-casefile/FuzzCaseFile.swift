import FathomCore
import FathomStore
import FuzzSupport

// Fuzz target: the case-file parser (`CaseFile(yaml:origin:)`), then the internal networks it
// gives as a `NetworkSet` (CIDR parsing and lookups). The same YAML also goes through the other
// small YAML readers a person writes for Fathom: `Profile(yaml:origin:)` and
// `RuleSettings(yaml:origin:)` (none of them touches the file system).
//
// Input: YAML text (invalid UTF-8 repaired).
//
// Checked: no crash, no memory error; a parsed awareness time and containment times
// round-trip through their RFC 3339 text.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaseFile(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 0)
    let text = String(decoding: input.body, as: UTF8.self)
    if let caseFile = try? CaseFile(yaml: text, origin: "fuzz-case.yaml") {
        if let time = caseFile.awarenessTime, Timestamp(rfc3339: time.rfc3339) != time {
            fuzzFailure("awareness time '\(time)' does not round-trip through RFC 3339")
        }
        for entry in caseFile.containment where Timestamp(rfc3339: entry.time.rfc3339) != entry.time {
            fuzzFailure("containment time '\(entry.time)' does not round-trip through RFC 3339")
        }
        let networks = NetworkSet(caseFile.internalNetworks ?? [])
        for address in ["10.1.2.3", "192.168.0.1", "8.8.8.8", "::1", "fe80::1", "2001:db8::1", "::ffff:10.0.0.1", ""]
            + (caseFile.internalNetworks ?? []).prefix(8) {
            _ = networks.contains(address)
        }
        _ = caseFile.model(named: caseFile.models.first?.name ?? "")
    }
    _ = try? Profile(yaml: text, origin: "fuzz-profile.yaml")
    _ = try? RuleSettings(yaml: text, origin: "fuzz-settings.yaml")
    return 0
}

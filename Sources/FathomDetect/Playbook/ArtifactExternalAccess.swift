import FathomStore
import FathomSupport
import FathomCatalog

/// `artifact.external-access`: the playbook's "unauthorized access to model artifacts" query, and a
/// wider variant with the full internal-network set.
package enum ArtifactExternalAccess {
    package static let info = RuleInfo(
        id: RuleID.artifactExternalAccess, title: "Model artifact read, written or deleted from outside", level: "high",
        atlas: ["AML.T0025", "AML.T0035", "AML.T0010"], kind: .storage, isPlaybook: true,
        semantics: """
            Storage rows whose key matches the artifact pattern (default \
            model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl), case-insensitive, anywhere in the key), \
            whose operation is an object get, put or delete, and whose caller is not in the internal \
            networks (default 10.0.0.0/8 and 192.168.0.0/16). The operation test: when the raw operation \
            is present it must equal (case-insensitive) one of the configured operations — S3 \
            REST.GET.OBJECT / REST.PUT.OBJECT / REST.DELETE.OBJECT, CloudTrail GetObject / PutObject / \
            DeleteObject, Azure GetBlob / PutBlob / DeleteBlob, GCS storage.objects.get / create / delete — so \
            list, head, ACL, tagging and bucket operations never count; when a source has no raw operation, \
            the normalised action must be read, write or delete. Any status counts (a denied attempt is \
            still an attempt). The caller is src_ip parsed as IPv4 or IPv6 (brackets, zone ids and \
            IPv4-mapped IPv6 understood); an empty or unparseable caller counts as NOT internal, so it is \
            reported. One hit per row.
            """,
        kql: """
            StorageBlobLogs
            | where ObjectKey matches regex @"(?i)model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl)"
            | where OperationName in~ ("GetBlob", "PutBlob", "DeleteBlob")
            | extend Caller = tostring(split(CallerIpAddress, ":")[0])
            | where not(ipv4_is_in_range(Caller, "10.0.0.0/8") or ipv4_is_in_range(Caller, "192.168.0.0/16"))
            """)

    package static let widerInfo = RuleInfo(
        id: RuleID.artifactNonInternalAccess, title: "Model artifact access from outside the wider internal networks",
        level: "high", atlas: ["AML.T0025", "AML.T0035", "AML.T0010"], kind: .storage,
        semantics: """
            As artifact.external-access, but the caller is compared with the wider internal set \
            (network.internal: RFC 1918 10/8, 172.16/12, 192.168/16, loopback 127/8 and ::1, link-local \
            169.254/16 and fe80::/10, IPv6 ULA fc00::/7). A caller in 172.16.0.0/12 is a hit of the playbook \
            rule but not of this one. Empty or unparseable callers are reported.
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        [("pattern", settings.artifactPattern), ("operations", RuleCatalog.list(settings.artifactOperations)),
         ("internal_networks", RuleCatalog.list(settings.artifactInternalNetworks))]
    }, body: { context in try run(context, info: info, networks: NetworkSet(context.settings.artifactInternalNetworks)) })

    package static let widerRule = BuiltInRule(info: widerInfo, settings: { settings in
        [("pattern", settings.artifactPattern), ("operations", RuleCatalog.list(settings.artifactOperations)),
         ("network.internal", RuleCatalog.list(settings.internalNetworks))]
    }, body: { context in try run(context, info: widerInfo, networks: NetworkSet(context.settings.internalNetworks)) })

    /// Whether a raw operation and normalised action make an object get, put or delete.
    package static func isObjectAccess(operation: String, action: String, operations: Set<[UInt32]>) -> Bool {
        if !operation.isEmpty { return operations.contains(FoldedText.folded(operation)) }
        let folded = action.lowercased()
        return folded == "read" || folded == "write" || folded == "delete"
    }

    /// - Complexity: O(rows); operation, action and caller are judged once per dictionary entry, the
    ///   key pattern only for rows that pass those.
    package static func run(_ context: HuntContext, info: RuleInfo, networks: NetworkSet) throws -> [Hit] {
        try run(context, rules: [(info, networks)])
    }

    /// The hits of several rules that differ only in their internal networks (the playbook rule and
    /// its wider variant), from one pass over the storage rows: each segment's columns are opened,
    /// and each row's operation and key judged, once for all of them. The hits are each rule's
    /// alone, rule after rule in the order given, each rule's in segment and row order.
    ///
    /// - Complexity: O(rows); operation, action and caller are judged once per dictionary entry, the
    ///   key pattern only for rows external to some rule, once a row.
    package static func run(_ context: HuntContext, rules: [(info: RuleInfo, networks: NetworkSet)]) throws -> [Hit] {
        guard let pattern = TextPattern(regex: context.settings.artifactPattern) else {
            throw DetectError.settings(path: "artifact.pattern", line: 0, detail: "not a valid regular expression")
        }
        let operations = Set(context.settings.artifactOperations.map { FoldedText.folded($0) })
        let perSegment = try context.map(.storage) { table -> [[Hit]] in
            let times = try table.int64("time")
            let callers = try table.dictionary("src_ip")
            let operationColumn = try table.dictionary("operation")
            let actions = try table.dictionary("action")
            let keys = try table.text("key")
            // Bit r of a caller's entry: the caller is outside rule r's internal networks. Each
            // caller is parsed once, however many rules look at it.
            let external: [UInt64] = (0..<callers.entryCount).map { entry in
                let address = IPAddress(callers.entry(UInt32(entry)).string)
                var bits: UInt64 = 0
                for (index, rule) in rules.enumerated() where !(address.map { rule.networks.contains($0) } ?? false) {
                    bits |= 1 << UInt64(index)
                }
                return bits
            }
            let operationText = (0..<operationColumn.entryCount).map { operationColumn.entry(UInt32($0)).string }
            let actionText = (0..<actions.entryCount).map { actions.entry(UInt32($0)).string }
            // Whether each (operation, action) pair of entries is an object access: a flat table
            // when the pairs are few (they are: a handful of operations and actions a segment),
            // judged when a row first has the pair (0 unknown, 1 no, 2 yes).
            let pairCount = operationText.count.multipliedReportingOverflow(by: actionText.count)
            let flat = !pairCount.overflow && pairCount.partialValue <= 1 << 16
            var accessTable = [UInt8](repeating: 0, count: flat ? pairCount.partialValue : 0)
            var accessCache: [UInt64: Bool] = [:]
            func isAccess(_ operation: UInt32, _ action: UInt32) -> Bool {
                if flat {
                    let slot = Int(operation) * actionText.count + Int(action)
                    if accessTable[slot] == 0 {
                        accessTable[slot] = isObjectAccess(operation: operationText[Int(operation)], action: actionText[Int(action)],
                                                           operations: operations) ? 2 : 1
                    }
                    return accessTable[slot] == 2
                }
                let pair = UInt64(operation) << 32 | UInt64(action)
                if let cached = accessCache[pair] { return cached }
                let access = isObjectAccess(operation: operationText[Int(operation)], action: actionText[Int(action)],
                                            operations: operations)
                accessCache[pair] = access
                return access
            }
            var hits = [[Hit]](repeating: [], count: rules.count)
            for row in 0..<table.rowCount {
                let outside = external[Int(callers.code(at: row))]
                guard outside != 0 else { continue }
                let operation = operationColumn.code(at: row)
                guard isAccess(operation, actions.code(at: row)) else { continue }
                let time = times[row]
                guard context.includes(time), pattern.matches(keys[row]) else { continue }
                let key: [String: HitValue] = ["src_ip": .string(callers.string(at: row))]
                let metrics: [String: HitValue] = ["operation": .string(operationText[Int(operation)])]
                let fields = context.fields(table, row: row)
                let evidence = HitEvidence.event(context.evidence(table, row: row))
                for index in rules.indices where outside & (1 << UInt64(index)) != 0 {
                    hits[index].append(Hit(rule: rules[index].info, time: Timestamp(column: time), key: key, metrics: metrics,
                                           fields: fields, evidence: evidence))
                }
            }
            return hits
        }
        return rules.indices.flatMap { index in perSegment.flatMap { $0[index] } }
    }
}

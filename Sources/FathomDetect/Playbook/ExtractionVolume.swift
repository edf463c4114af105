import FathomStore
import FathomSupport
import FathomCatalog

/// `extraction.volume`: the playbook's "anomalous model API query patterns" query.
package enum ExtractionVolume {
    package static let info = RuleInfo(
        id: "extraction.volume", title: "Model API query volume per address and hour", level: "high",
        atlas: ["AML.T0024", "AML.T0024.002", "AML.T0040"], kind: .inference, isPlaybook: true,
        semantics: """
            Inference rows whose decoded path contains (case-insensitive) one of the endpoint patterns \
            (default /predict, /inference, /completions), in [--from, --to). Grouped per src_ip per fixed \
            UTC bucket (default 1 hour, aligned to the epoch): query_count = rows of any status; \
            distinct_inputs = distinct non-null input_hash values (the hash of the decoded request body; \
            rows without a body, such as nginx access logs, add a query but no input). Hit when \
            query_count > max_queries (1000) or distinct_inputs > max_distinct_inputs (500): exactly 1000 \
            queries is not a hit, 1001 is. Rows without a time are skipped. An empty src_ip is its own group \
            (key ""). One hit per (src_ip, hour), window [hour, hour + 1h), evidence = first and last row \
            of the group.
            """,
        kql: """
            ApiGatewayLogs
            | where Path has_any ("/predict", "/inference", "/completions")
            | summarize QueryCount = count(), DistinctInputs = dcount(hash(RequestBody))
                by SourceIP, bin(TimeGenerated, 1h)
            | where QueryCount > 1000 or DistinctInputs > 500
            // Fathom counts DistinctInputs exactly (KQL dcount is an estimate; use count_distinct()).
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        [("endpoints", RuleCatalog.list(settings.endpointPatterns)),
         ("bucket", RuleSettings.durationText(settings.extractionBucketSeconds)),
         ("max_queries", String(settings.maxQueries)),
         ("max_distinct_inputs", String(settings.maxDistinctInputs))]
    }, body: run)

    package static func run(_ context: HuntContext) throws -> [Hit] {
        let settings = context.settings
        let aggregation = try EndpointAggregate.run(context, keyColumn: "src_ip",
                                               bucketSeconds: settings.extractionBucketSeconds, distinct: true) { group in
            group.count > settings.maxQueries || group.distinct > settings.maxDistinctInputs
        }
        let width = settings.extractionBucketSeconds * 1_000_000_000
        let kept = aggregation.groups.filter { $0.group.count > settings.maxQueries || $0.group.distinct > settings.maxDistinctInputs }
        let evidence = aggregation.evidence(kept.map(\.group))
        var hits: [Hit] = []
        for ((key, group), (first, last)) in zip(kept, evidence) {
            hits.append(Hit(rule: info, window: HitWindow(start: key.bucket * width, end: key.bucket * width + width),
                            key: ["src_ip": .string(key.value)],
                            metrics: ["query_count": .int(group.count), "distinct_inputs": .int(group.distinct)],
                            evidence: .aggregate(first: first, last: last)))
        }
        return hits
    }
}

/// `artifact.external-access`: the playbook's "unauthorized access to model artifacts" query, and a
/// wider variant with the full internal-network set.
package enum ArtifactExternalAccess {
    package static let info = RuleInfo(
        id: "artifact.external-access", title: "Model artifact read, written or deleted from outside", level: "high",
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
        id: "artifact.non-internal-access", title: "Model artifact access from outside the wider internal networks",
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
        guard let pattern = TextPattern(regex: context.settings.artifactPattern) else {
            throw DetectError.settings(path: "artifact.pattern", line: 0, detail: "not a valid regular expression")
        }
        let operations = Set(context.settings.artifactOperations.map { FoldedText.folded($0) })
        let perSegment = try context.map(.storage) { table -> [Hit] in
            let times = try table.int64("time")
            let callers = try table.dictionary("src_ip")
            let operationColumn = try table.dictionary("operation")
            let actions = try table.dictionary("action")
            let keys = try table.text("key")
            let external = (0..<callers.entryCount).map { !networks.contains(callers.entry(UInt32($0)).string) }
            let operationText = (0..<operationColumn.entryCount).map { operationColumn.entry(UInt32($0)).string }
            let actionText = (0..<actions.entryCount).map { actions.entry(UInt32($0)).string }
            var accessCache: [UInt64: Bool] = [:]
            var hits: [Hit] = []
            for row in 0..<table.rowCount {
                guard external[Int(callers.code(at: row))] else { continue }
                let operation = operationColumn.code(at: row)
                let action = actions.code(at: row)
                let pair = UInt64(operation) << 32 | UInt64(action)
                let access: Bool
                if let cached = accessCache[pair] { access = cached } else {
                    access = isObjectAccess(operation: operationText[Int(operation)], action: actionText[Int(action)],
                                            operations: operations)
                    accessCache[pair] = access
                }
                guard access else { continue }
                let time = times[row]
                guard context.includes(time), pattern.matches(keys[row]) else { continue }
                hits.append(Hit(rule: info, time: time == Int64.min ? nil : time,
                                key: ["src_ip": .string(callers.string(at: row))],
                                metrics: ["operation": .string(operationText[Int(operation)])],
                                fields: context.fields(table, row: row),
                                evidence: .event(context.evidence(table, row: row))))
            }
            return hits
        }
        return perSegment.flatMap { $0 }
    }
}

/// `prompt.injection-phrase`: the playbook's "prompt injection patterns in LLM logs" query.
package enum InjectionPhrase {
    package static let info = RuleInfo(
        id: "prompt.injection-phrase", title: "Prompt injection phrase in an LLM prompt", level: "medium",
        atlas: ["AML.T0051", "AML.T0051.000", "AML.T0054"], kind: .llm, isPlaybook: true,
        semantics: """
            LLM rows whose prompt (the decoded text; for OpenAI-style messages, the last user message) \
            contains one of the phrases, case-insensitively: ignore previous instructions, ignore above, \
            system prompt, you are now, disregard, bypass, jailbreak, DAN mode, developer mode, reveal your \
            instructions. Plain substring match (like KQL has_any/contains): no word boundaries, no Unicode \
            normalisation; case folding is simple folding per Unicode scalar. metrics.phrase is the first \
            matching phrase in list order, metrics.phrases all of them. The rule flags innocent uses too \
            ("bypass a clogged drain"); prompt.injection-normalized is the sharper rule. One hit per row.
            """,
        kql: """
            LLMGatewayLogs
            | where Prompt has_any ("ignore previous instructions", "ignore above", "system prompt",
                "you are now", "disregard", "bypass", "jailbreak", "DAN mode", "developer mode",
                "reveal your instructions")
            // has_any matches whole terms; Fathom matches substrings, as `contains` would, so
            // "bypassed" is a hit too. Use `Prompt contains "…" or …` to reproduce it exactly.
            """)

    package static let rule = BuiltInRule(info: info, settings: { settings in
        [("phrases", RuleCatalog.list(settings.injectionPhrases))]
    }, body: run)

    /// The phrases of `phrases` that occur in `prompt` (folded), in list order.
    package static func matches(_ prompt: [UInt32], phrases: [(String, [UInt32])]) -> [String] {
        phrases.compactMap { FoldedText.contains(prompt, $0.1) ? $0.0 : nil }
    }

    package static func run(_ context: HuntContext) throws -> [Hit] {
        let phrases = context.settings.injectionPhrases.map { ($0, FoldedText.folded($0)) }
        return try LLMHits.eachText(info, column: "prompt", context: context) { prompt in
            let found = matches(FoldedText.folded(prompt), phrases: phrases)
            guard let first = found.first else { return nil }
            return ["phrase": .string(first), "phrases": .strings(found)]
        }
    }
}

package enum LLMHits {
    /// One hit per LLM row in the hunt's range whose `column` text `judge` gives metrics for
    /// (nil: no hit). The texts are lent from the segment's mapping.
    package static func eachText(_ info: RuleInfo, column: String, context: HuntContext,
                         judge: @escaping @Sendable (ByteView) -> [String: HitValue]?) throws -> [Hit] {
        let perSegment = try context.map(.llm) { table -> [Hit] in
            let times = try table.int64("time")
            let texts = try table.text(column)
            var hits: [Hit] = []
            for row in 0..<table.rowCount {
                let time = times[row]
                guard context.includes(time), let metrics = judge(texts[row]) else { continue }
                hits.append(hit(info, table: table, row: row, time: time, context: context, metrics: metrics))
            }
            return hits
        }
        return perSegment.flatMap { $0 }
    }

    package static func hit(_ info: RuleInfo, table: SegmentTable, row: Int, time: Int64, context: HuntContext,
                    metrics: [String: HitValue]) -> Hit {
        let principal = (try? table.dictionary("principal").string(at: row)) ?? ""
        let session = (try? table.dictionary("session").string(at: row)) ?? ""
        return Hit(rule: info, time: time == Int64.min ? nil : time,
                   key: ["principal": .string(principal), "session": .string(session)],
                   metrics: metrics, fields: context.fields(table, row: row),
                   evidence: .event(context.evidence(table, row: row)))
    }
}

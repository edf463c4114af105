import FathomStore
import FathomSupport
import FathomCatalog

/// `extraction.volume`: the playbook's "anomalous model API query patterns" query.
package enum ExtractionVolume {
    package static let info = RuleInfo(
        id: RuleID.extractionVolume, title: "Model API query volume per address and hour", level: "high",
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
                                               bucketSeconds: settings.extractionBucketSeconds, distinct: true,
                                               distinctOver: min(settings.maxQueries, settings.maxDistinctInputs)) { group in
            group.count > settings.maxQueries || group.distinct > settings.maxDistinctInputs
        }
        return hits(aggregation, settings: settings)
    }

    /// The hits of the (address, bucket) groups over a threshold, with their evidence.
    package static func hits(_ aggregation: EndpointAggregate.Aggregation, settings: RuleSettings) -> [Hit] {
        let width = settings.extractionBucketSeconds * 1_000_000_000
        let kept = aggregation.groups.filter { $0.group.count > settings.maxQueries || $0.group.distinct > settings.maxDistinctInputs }
        let evidence = aggregation.evidence(kept.map(\.group))
        var hits: [Hit] = []
        for ((key, group), (first, last)) in zip(kept, evidence) {
            hits.append(Hit(rule: info, window: HitWindow(bucket: key.bucket, width: width),
                            key: ["src_ip": .string(key.value)],
                            metrics: [Metric.queryCount: .int(group.count), Metric.distinctInputs: .int(group.distinct)],
                            evidence: .aggregate(first: first, last: last)))
        }
        return hits
    }
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// The playbook rules that Sigma can express, as Sigma files users can read and copy
/// (`fathom rules export DIR`). The built-in Swift rules stay the reference; a test checks that
/// these produce the same hits. `pipeline.burst` (mean + 2·stdev over groups) has no Sigma form.
public enum SigmaLibrary {
    /// The files with the defaults of ``RuleSettings``.
    public static var files: [(name: String, text: String)] { files(settings: RuleSettings()) }

    /// The files with `settings`' thresholds, endpoint patterns, artifact pattern, operations,
    /// internal networks and phrases (as `--settings` gives them to the built-in rules).
    public static func files(settings: RuleSettings) -> [(name: String, text: String)] {
        func list(_ values: [String], indent: Int) -> String {
            values.map { String(repeating: " ", count: indent) + "- " + yamlScalar($0) }.joined(separator: "\n")
        }
        let hours = settings.extractionBucketSeconds % 3600 == 0 ? "\(settings.extractionBucketSeconds / 3600)h"
            : "\(settings.extractionBucketSeconds)s"
        return [
        ("extraction-volume.yml", """
            # The playbook's extraction.volume as Sigma: a base rule selecting model-endpoint queries and
            # two correlations (QueryCount > \(settings.maxQueries), DistinctInputs > \(settings.maxDistinctInputs) per src_ip per \(hours)). Sigma cannot
            # say "or" across correlations, so a (src_ip, hour) over both thresholds is two hits here.
            title: Model endpoint query
            name: playbook.model-endpoint-query
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e01
            status: stable
            description: Inference rows whose path contains \(settings.endpointPatterns.joined(separator: ", ")).
            logsource:
              product: fathom
              service: inference
            detection:
              selection:
                path|contains:
            \(list(settings.endpointPatterns, indent: 6))
              condition: selection
            level: informational
            ---
            title: Model API query volume per address and hour
            name: playbook.extraction-volume-queries
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e02
            status: stable
            description: More than \(settings.maxQueries) model-endpoint queries from one src_ip in one fixed UTC window of \(hours).
            tags:
              - atlas.aml.t0024
              - atlas.aml.t0024.002
            correlation:
              type: event_count
              rules:
                - playbook.model-endpoint-query
              group-by:
                - src_ip
              timespan: \(hours)
              condition:
                gt: \(settings.maxQueries)
            level: high
            ---
            title: Distinct model inputs per address and hour
            name: playbook.extraction-volume-distinct
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e03
            status: stable
            description: More than \(settings.maxDistinctInputs) distinct request bodies (input_hash) from one src_ip in one fixed UTC window of \(hours).
            tags:
              - atlas.aml.t0024
              - atlas.aml.t0024.002
            correlation:
              type: value_count
              rules:
                - playbook.model-endpoint-query
              group-by:
                - src_ip
              timespan: \(hours)
              condition:
                field: input_hash
                gt: \(settings.maxDistinctInputs)
            level: high
            """),
        ("artifact-external-access.yml", """
            title: Model artifact read, written or deleted from outside
            name: playbook.artifact-external-access
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e04
            status: stable
            description: >-
              Object get/put/delete of a key matching \(settings.artifactPattern)
              from a caller outside \(settings.artifactInternalNetworks.joined(separator: ", ")) (an empty or unparseable caller is reported).
            tags:
              - atlas.aml.t0025
              - atlas.aml.t0035
              - atlas.aml.t0010
            logsource:
              product: fathom
              service: storage
            detection:
              artifact:
                key|re|i: \(yamlScalar(settings.artifactPattern))
              object_operation:
                operation:
            \(list(settings.artifactOperations, indent: 6))
              object_action:
                operation: null
                action:
                  - read
                  - write
                  - delete
              internal:
                src_ip|cidr:
            \(list(settings.artifactInternalNetworks, indent: 6))
              condition: artifact and 1 of object_* and not internal
            level: high
            """),
        ("prompt-injection-phrase.yml", """
            title: Prompt injection phrase in an LLM prompt
            name: playbook.prompt-injection-phrase
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e05
            status: stable
            description: The prompt contains one of the playbook's phrases (case-insensitive substring).
            tags:
              - atlas.aml.t0051
              - atlas.aml.t0051.000
              - atlas.aml.t0054
            logsource:
              product: fathom
              service: llm
            detection:
              selection:
                prompt|contains:
            \(list(settings.injectionPhrases, indent: 6))
              condition: selection
            level: medium
            """),
        ("registry-change.yml", """
            title: Model registry or deployment change
            name: playbook.registry-change
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e06
            status: stable
            description: Successful registrations, stage transitions, deploys and rollbacks, for the timeline.
            tags:
              - atlas.aml.t0018
              - atlas.aml.t0010
            logsource:
              product: fathom
              service: registry
            detection:
              change:
                event|contains:
                  - regist
                  - create
                  - transition
                  - stage
                  - deploy
                  - rollback
                  - roll_back
                  - rolled_back
                  - roll back
              scale:
                event|contains: scale
              success_text:
                status:
                  - null
                  - success
                  - succeeded
                  - successful
                  - ok
                  - ready
                  - complete
                  - completed
                  - done
                  - 'true'
              success_code:
                status|re: '^2[0-9][0-9]$'
              condition: change and not scale and 1 of success_*
            level: informational
            """),
        ]
    }

    /// `text` as a YAML scalar: as it is when plain YAML reads it back the same, else single-quoted.
    static func yamlScalar(_ text: String) -> String {
        let special = Set(":#'\"[]{},&*!|>%@`\\")
        let plain = !text.isEmpty && !text.contains(where: { special.contains($0) || $0.isNewline })
            && text.first != " " && text.last != " " && text.first != "-" && text.first != "?"
        return plain ? text : "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }

    /// Writes the files with `settings`' thresholds and lists into `directory` (created if
    /// missing) and returns their paths.
    public static func export(to directory: String, settings: RuleSettings = RuleSettings()) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for file in files(settings: settings) {
            let path = directory + "/" + file.name
            try Data((file.text + "\n").utf8).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        return written
    }
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog

/// The playbook rules that Sigma can express, as Sigma files users can read and copy
/// (`fathom rules export DIR`). The built-in Swift rules stay the reference; a test checks that
/// these produce the same hits. `pipeline.burst` (mean + 2·stdev over groups) has no Sigma form.
public enum SigmaLibrary {
    public static let files: [(name: String, text: String)] = [
        ("extraction-volume.yml", """
            # The playbook's extraction.volume as Sigma: a base rule selecting model-endpoint queries and
            # two correlations (QueryCount > 1000, DistinctInputs > 500 per src_ip per hour). Sigma cannot
            # say "or" across correlations, so a (src_ip, hour) over both thresholds is two hits here.
            title: Model endpoint query
            name: playbook.model-endpoint-query
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e01
            status: stable
            description: Inference rows whose path contains /predict, /inference or /completions.
            logsource:
              product: fathom
              service: inference
            detection:
              selection:
                path|contains:
                  - /predict
                  - /inference
                  - /completions
              condition: selection
            level: informational
            ---
            title: Model API query volume per address and hour
            name: playbook.extraction-volume-queries
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e02
            status: stable
            description: More than 1000 model-endpoint queries from one src_ip in one fixed UTC hour.
            tags:
              - atlas.aml.t0024
              - atlas.aml.t0024.002
            correlation:
              type: event_count
              rules:
                - playbook.model-endpoint-query
              group-by:
                - src_ip
              timespan: 1h
              condition:
                gt: 1000
            level: high
            ---
            title: Distinct model inputs per address and hour
            name: playbook.extraction-volume-distinct
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e03
            status: stable
            description: More than 500 distinct request bodies (input_hash) from one src_ip in one fixed UTC hour.
            tags:
              - atlas.aml.t0024
              - atlas.aml.t0024.002
            correlation:
              type: value_count
              rules:
                - playbook.model-endpoint-query
              group-by:
                - src_ip
              timespan: 1h
              condition:
                field: input_hash
                gt: 500
            level: high
            """),
        ("artifact-external-access.yml", """
            title: Model artifact read, written or deleted from outside
            name: playbook.artifact-external-access
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e04
            status: stable
            description: >-
              Object get/put/delete of a key matching model|weights|checkpoint|.(pt|h5|onnx|safetensors|pkl)
              from a caller outside 10.0.0.0/8 and 192.168.0.0/16 (an empty or unparseable caller is reported).
            tags:
              - atlas.aml.t0025
              - atlas.aml.t0035
              - atlas.aml.t0010
            logsource:
              product: fathom
              service: storage
            detection:
              artifact:
                key|re|i: 'model|weights|checkpoint|\\.(pt|h5|onnx|safetensors|pkl)'
              object_operation:
                operation:
                  - REST.GET.OBJECT
                  - REST.PUT.OBJECT
                  - REST.DELETE.OBJECT
                  - GetObject
                  - PutObject
                  - DeleteObject
                  - GetBlob
                  - PutBlob
                  - DeleteBlob
                  - storage.objects.get
                  - storage.objects.create
                  - storage.objects.delete
              object_action:
                operation: null
                action:
                  - read
                  - write
                  - delete
              internal:
                src_ip|cidr:
                  - 10.0.0.0/8
                  - 192.168.0.0/16
              condition: artifact and 1 of object_* and not internal
            level: high
            """),
        ("prompt-injection-phrase.yml", """
            title: Prompt injection phrase in an LLM prompt
            name: playbook.prompt-injection-phrase
            id: 7d0f3c52-5d0e-4b53-9d8e-2f6b1a0c4e05
            status: stable
            description: The prompt contains one of the playbook's ten phrases (case-insensitive substring).
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
                  - ignore previous instructions
                  - ignore above
                  - system prompt
                  - you are now
                  - disregard
                  - bypass
                  - jailbreak
                  - DAN mode
                  - developer mode
                  - reveal your instructions
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

    /// Writes the files into `directory` (created if missing) and returns their paths.
    public static func export(to directory: String) throws -> [String] {
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        var written: [String] = []
        for file in files {
            let path = directory + "/" + file.name
            try Data((file.text + "\n").utf8).write(to: URL(fileURLWithPath: path))
            written.append(path)
        }
        return written
    }
}

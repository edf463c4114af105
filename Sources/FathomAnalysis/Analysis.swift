import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// One analysis run's working state.
package struct Analysis {
    package static let hour: Int64 = 3_600_000_000_000
    package let store: Store
    package let request: AnalyzeRequest
    package let hits: HitList
    package let settings: RuleSettings
    package let caseFile: CaseFile
    /// `affected_decisions.csv`, written as soon as the decisions are known.
    package var decisions: StagedFile?
    package var contradictions: [Contradiction] = []
    package var openItems: [String] = []
    package var timeline: [TimelineEvent] = []

    package init(store: Store, request: AnalyzeRequest, hits: HitList, settings: RuleSettings) {
        self.store = store
        self.request = request
        self.hits = hits
        self.settings = settings
        self.caseFile = request.caseFile ?? CaseFile()
    }

    /// The hits of rule `rule` (only those decoded).
    package func hits(_ rule: String) -> [Hit] { hits.hits(rule: rule) }

    package static func time(_ nanos: Int64) -> Timestamp { Timestamp(nanoseconds: nanos) }

    /// A time in a sentence: RFC 3339, or `an undated time` when the evidence gives none.
    package static func describe(_ time: Timestamp?) -> String { time?.rfc3339 ?? "an undated time" }

    package mutating func run() throws -> AnalysisResult {
        let resolver = try EvidenceResolver(catalog: store.catalog)
        let scan = StoreScan(store: store, jobs: request.jobs,
                             bounds: (request.timeRange?.from, request.timeRange.map { $0.to - 1 }))
        let scans = AnalysisScans(scan: scan, resolver: resolver)
        let archives = try InputSummary.archives(catalog: store.catalog, in: request.timeRange)

        // One analyzer per branch of the playbook, in order: the registry history the training
        // analysis reads comes from the model-behaviour analysis.
        var found = IncidentFindings()
        var modelBehaviour = ModelBehaviourAnalyzer(scans: scans)
        found.merge(try modelBehaviour.analyze(&self))
        MemoryRelease.afterPhase()
        var extractionAnalyzer = ExtractionAnalyzer(scan: scan, resolver: resolver)
        found.merge(try extractionAnalyzer.analyze(&self))
        MemoryRelease.afterPhase()
        var injection = PromptInjectionAnalyzer(scan: scan)
        found.merge(try injection.analyze(&self))
        let history = modelBehaviour.history ?? RegistryAnalysis(rows: [], caseFile: caseFile)
        var training = TrainingDataAnalyzer(history: history)
        found.merge(try training.analyze(&self))
        var supply = SupplyChainAnalyzer(archives: archives)
        found.merge(try supply.analyze(&self))

        var incidents = found.incidents
        let answers = found.answers
        contradictions += found.contradictions
        openItems += found.openItems
        let registryRows = modelBehaviour.registryRows
        let affected = modelBehaviour.affected
        let extraction = extractionAnalyzer.summary
        let exposure = injection.exposure

        // Number, link and order incidents.
        // An undated start sorts first.
        incidents.sort {
            ($0.type, $0.window.start.time ?? Timestamp(nanoseconds: .min), $0.title)
                < ($1.type, $1.window.start.time ?? Timestamp(nanoseconds: .min), $1.title)
        }
        for index in incidents.indices { incidents[index].id = "INC-\(index + 1)" }
        IncidentLinking.link(&incidents)

        let (response, responseContradictions) = ResponseStateAnalysis.evaluate(.init(
            hits: hits, registryRows: modelBehaviour.registryRows, history: history, supply: supply.supply, incidents: incidents,
            extraction: extraction, internalNetworks: caseFile.internalNetworks ?? settings.internalNetworks,
            tamperingStart: incidents.first { $0.type == .trainingData }?.window.start.time))
        contradictions += responseContradictions
        let types = Array(Set(incidents.map(\.type))).sorted()
        let flowchart = PlaybookEvaluation.evaluate(types: types, answers: answers)
        let coverage = try CoverageAnalysis.coverage(scan: scan)
        let registry = RegistryHistory(events: registryRows.map { row in
            RegistryEvent(time: Analysis.time(row.time), model: row.model, version: row.version, event: row.event,
                          fromStage: row.fromStage, toStage: row.toStage, principal: row.principal,
                          environment: row.environment.isEmpty ? nil : row.environment, evidence: row.evidence)
        }, compromisedVersion: history.compromised?.version, lastKnownGoodVersion: history.lastKnownGood,
           deployedAt: history.window.map { Analysis.time($0.start.nanos) }, rollbacks: history.rollbacks.map { Analysis.time($0) })
        let dataStart = coverage.compactMap(\.first).min()
        let dataEnd = coverage.compactMap(\.last).max()
        let caseID = request.caseID ?? caseFile.id ?? "case"
        if caseFile.awarenessTime == nil { openItems.append("Awareness time is not in the case file; regulatory deadlines cannot be computed") }
        let timeline = TimelineBuilder.build(incidents: incidents, registry: registryRows, hits: hits, caseFile: caseFile,
                                             extraction: extraction, affected: affected, pipeline: try scans.pipelineRows())
        let inputs = try InputSummary.inputs(catalog: store.catalog, in: request.timeRange)
        let ruleSummaries = RuleCatalog.builtIn.map { rule in
            RuleSummary(id: rule.info.id, title: rule.info.title, level: rule.info.level, atlas: rule.info.atlas,
                        hits: hits.count(rule: rule.info.id),
                        settings: rule.settings(settings).map { RuleSummary.Setting(name: $0.0, value: $0.1) })
        }
        var human: [String: String?] = [:]
        for field in HumanFields.required { human[field] = caseFile.human[field].flatMap { $0.isEmpty ? nil : $0 } }
        for (field, value) in caseFile.human where human[field] == nil { human[field] = value.isEmpty ? nil : value }
        // The case file and the inventories read through it are inputs too: hashed as read.
        var supporting: [SupportingInput] = []
        if let origin = caseFile.origin, let sha = caseFile.originSHA256 {
            supporting.append(SupportingInput(path: origin, role: "case-file", size: caseFile.originSize ?? 0, sha256: sha))
        }
        supporting += supply.supply.inventoryFiles
        var caseInfo = CaseInfo(id: caseID, title: caseFile.title ?? incidents.first.map { $0.title } ?? "AI/ML security incident",
                                classification: caseFile.classification ?? "CONFIDENTIAL", awarenessTime: caseFile.awarenessTime,
                                generatedAt: request.now ?? dataEnd ?? Timestamp(nanoseconds: 0), models: caseFile.models,
                                contacts: caseFile.contacts, humanFields: human)
        caseInfo.organisation = OrganisationFacts(entity: caseFile.entity, sector: caseFile.sector,
                                                  jurisdictions: caseFile.jurisdictions ?? [], listed: caseFile.listed,
                                                  dataSubjectsResidentIn: caseFile.dataSubjectsResidentIn)
        caseInfo.custody = caseFile.custody
        var result = AnalysisResult(
            caseInfo: caseInfo,
            provenance: RunProvenance(toolVersion: FathomVersion.current, commandLine: request.commandLine,
                                      rulesetHash: RulesetHash.of(settings: settings),
                                      inputsHash: InputSummary.inputsHash(inputs, supporting: supporting), dataStart: dataStart,
                                      dataEnd: dataEnd, buildCommit: request.buildCommit),
            inputs: inputs, coverage: coverage, rules: ruleSummaries, incidents: incidents, flowchart: flowchart,
            extraction: extraction, affectedDecisions: affected, dataExposure: exposure, registry: registry,
            integrity: supply.items, contradictions: contradictions, timeline: timeline, openItems: openItems.sorted(),
            broaderCompromise: BroaderCompromise.lines(hits: hits(RuleID.controlPlane),
                                                       examinedSources: try BroaderCompromise.examinedSources(scan: scan)),
            keyIntervals: KeyInterval.of(timeline: timeline, incidents: incidents, awarenessTime: caseFile.awarenessTime),
            response: history.compromised != nil || !response.credentials.isEmpty || !response.blockAddresses.isEmpty ? response : nil)
        result.supportingInputs = supporting
        result.modelTraffic = try CoverageAnalysis.modelTraffic(scan: scan)
        return result
    }

    package static let dayNanos: Int64 = 86_400_000_000_000
}

import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect

/// The result of `fathom analyze`: every figure the reports show, with its unit, how it was
/// obtained and the evidence behind it. Written as `analysis.json`; report writers read only this.
///
/// Times are ``Timestamp``s, written as RFC 3339 UTC text (nanosecond precision when needed); counts are integers; a figure
/// that logs cannot give is a ``Figure`` with provenance `.human` and no value.
public struct AnalysisResult: Codable, Sendable, Equatable {
    public static let schemaVersion = 1

    public var schemaVersion: Int
    public var caseInfo: CaseInfo
    public var provenance: RunProvenance
    public var inputs: [InputArchive]
    public var coverage: [SourceCoverage]
    public var rules: [RuleSummary]
    public var incidents: [Incident]
    public var flowchart: FlowchartResult
    public var extraction: ExtractionSummary?
    public var affectedDecisions: AffectedDecisions?
    public var dataExposure: DataExposure?
    public var registry: RegistryHistory?
    public var integrity: [IntegrityItem]
    public var contradictions: [Contradiction]
    public var timeline: [TimelineEvent]
    public var openItems: [String]
    /// Assets involved (model versions, datasets, endpoints, buckets, pipelines) for the regulator
    /// report's asset section; nil when the analysis did not list them.
    public var assets: [AssetRecord]?
    /// Indications of compromise beyond the affected model(s) (other systems, credentials, lateral
    /// movement), one sentence each; nil = not assessed, empty = assessed and none found.
    public var broaderCompromise: [String]?
    /// Inputs found by this run but not recorded: not read through (they changed while read, or
    /// could not be opened; the next run reads them) or skipped (links out of the input folders,
    /// loops, special files, Fathom's own output). Nil when there were none.
    public var inputsNotRecorded: [PassedInput]?
    /// Dwell time, time to detect and time to contain, computed from the timeline and the
    /// incidents' impact windows (the timeline report prints them). Nil in analyses written
    /// before they were computed here.
    public var keyIntervals: [KeyInterval]?
    /// The case's state for the response runbook: rollbacks done, safe rollback targets, every
    /// credential to contain, the addresses to block, the compromised dependency's paths. Nil in
    /// analyses written before it was computed.
    public var response: ResponseState?
    /// The case file and the inventories read through it, hashed; nil in analyses written before.
    public var supportingInputs: [SupportingInput]?
    /// Rows each model answered per source kind (inference, llm, predictions); nil in analyses
    /// written before it was counted.
    public var modelTraffic: [ModelTraffic]?

    public init(schemaVersion: Int = AnalysisResult.schemaVersion, caseInfo: CaseInfo, provenance: RunProvenance,
                inputs: [InputArchive], coverage: [SourceCoverage], rules: [RuleSummary], incidents: [Incident],
                flowchart: FlowchartResult, extraction: ExtractionSummary?, affectedDecisions: AffectedDecisions?,
                dataExposure: DataExposure?, registry: RegistryHistory?, integrity: [IntegrityItem],
                contradictions: [Contradiction], timeline: [TimelineEvent], openItems: [String],
                assets: [AssetRecord]? = nil, broaderCompromise: [String]? = nil, keyIntervals: [KeyInterval]? = nil,
                response: ResponseState? = nil) {
        self.response = response
        self.schemaVersion = schemaVersion
        self.caseInfo = caseInfo
        self.provenance = provenance
        self.inputs = inputs
        self.coverage = coverage
        self.rules = rules
        self.incidents = incidents
        self.flowchart = flowchart
        self.extraction = extraction
        self.affectedDecisions = affectedDecisions
        self.dataExposure = dataExposure
        self.registry = registry
        self.integrity = integrity
        self.contradictions = contradictions
        self.timeline = timeline
        self.openItems = openItems
        self.assets = assets
        self.broaderCompromise = broaderCompromise
        self.keyIntervals = keyIntervals
    }
}

/// One asset involved in the incident, as listed by the analysis.
public struct AssetRecord: Codable, Sendable, Equatable {
    /// "model-version" | "dataset" | "endpoint" | "bucket" | "pipeline" | "deployment"
    public var kind: String
    public var name: String
    /// What happened to it or why it is listed (e.g. "compromised version, deployed 2026-03-02T09:00:00Z").
    public var role: String
    public var evidence: EvidenceRef?

    public init(kind: String, name: String, role: String, evidence: EvidenceRef? = nil) {
        self.kind = kind
        self.name = name
        self.role = role
        self.evidence = evidence
    }
}

/// How a figure was obtained.
public enum FigureSource: String, Codable, Sendable, Equatable {
    /// Counted exactly from the logs.
    case computed
    /// Estimated from the logs by a stated method, with an interval.
    case estimated
    /// Taken from the case file (a person supplied it).
    case caseFile = "case-file"
    /// Only a person can supply it; shown as a visible placeholder.
    case human
}

/// A number with its unit and provenance.
public struct Figure: Codable, Sendable, Equatable {
    public var value: Double?
    public var unit: String
    public var source: FigureSource
    /// For estimates: how, and the interval.
    public var method: String?
    public var low: Double?
    public var high: Double?

    public init(value: Double?, unit: String, source: FigureSource, method: String? = nil, low: Double? = nil, high: Double? = nil) {
        self.value = value
        self.unit = unit
        self.source = source
        self.method = method
        self.low = low
        self.high = high
    }

    public static func count(_ value: Int, unit: String = "count") -> Figure {
        Figure(value: Double(value), unit: unit, source: .computed)
    }

    public static func human(unit: String) -> Figure { Figure(value: nil, unit: unit, source: .human) }
}

/// Case facts: from the case file where given, defaults otherwise.
public struct CaseInfo: Codable, Sendable, Equatable {
    public var id: String
    public var title: String
    public var classification: String
    /// When the organisation became aware (RFC 3339), from the case file; nil = a person must supply it.
    public var awarenessTime: Timestamp?
    /// The generation time written into reports (`--now`, else the end of the data).
    public var generatedAt: Timestamp
    public var models: [ModelProfile]
    public var contacts: [String: String]
    /// Human-only fields of the regulator report (e.g. "legal_basis", "dpo_contact"), nil when missing.
    public var humanFields: [String: String?]
    /// The organisation's facts for the regulatory judgement (case file `entity`, `sector`,
    /// `jurisdictions`, `listed`, `data_subjects_resident_in`); nil in analyses written before them.
    public var organisation: OrganisationFacts?
    /// Chain of custody of the evidence (case file `custody`); nil when the case file has none.
    public var custody: CustodyFacts?

    public init(id: String, title: String, classification: String, awarenessTime: Timestamp?, generatedAt: Timestamp,
                models: [ModelProfile], contacts: [String: String], humanFields: [String: String?]) {
        self.id = id
        self.title = title
        self.classification = classification
        self.awarenessTime = awarenessTime
        self.generatedAt = generatedAt
        self.models = models
        self.contacts = contacts
        self.humanFields = humanFields
    }
}

/// What the case file says about a model; all optional.
public struct ModelProfile: Codable, Sendable, Equatable {
    public var name: String
    public var businessFunction: String?
    public var dailyVolume: Int?
    public var dataType: String?
    public var safetyCritical: Bool?
    public var customerFacing: Bool?
    public var inProduction: Bool?
    public var deployment: String?
    public var namespace: String?
    /// The EU AI Act Annex III entry a person classified the model under (`5(b)`), or `none`.
    public var annexIII: String?

    public init(name: String, businessFunction: String? = nil, dailyVolume: Int? = nil, dataType: String? = nil,
                safetyCritical: Bool? = nil, customerFacing: Bool? = nil, inProduction: Bool? = nil,
                deployment: String? = nil, namespace: String? = nil, annexIII: String? = nil) {
        self.annexIII = annexIII
        self.name = name
        self.businessFunction = businessFunction
        self.dailyVolume = dailyVolume
        self.dataType = dataType
        self.safetyCritical = safetyCritical
        self.customerFacing = customerFacing
        self.inProduction = inProduction
        self.deployment = deployment
        self.namespace = namespace
    }
}

/// The organisation's facts the regulatory judgement reads, from the case file.
public struct OrganisationFacts: Codable, Sendable, Equatable {
    /// e.g. `credit institution` (DORA's financial entities are named in regimes.json).
    public var entity: String?
    public var sector: String?
    /// Where the organisation is established or operates: `EU`, `US`, a country code.
    public var jurisdictions: [String]
    /// Where its securities are listed (`US`: an SEC registrant).
    public var listed: [String]?
    /// Where the data subjects whose data the incident touched live (`EU`, `US`, `US-CA`…).
    public var dataSubjectsResidentIn: [String]?

    public init(entity: String? = nil, sector: String? = nil, jurisdictions: [String] = [], listed: [String]? = nil,
                dataSubjectsResidentIn: [String]? = nil) {
        self.entity = entity
        self.sector = sector
        self.jurisdictions = jurisdictions
        self.listed = listed
        self.dataSubjectsResidentIn = dataSubjectsResidentIn
    }
}

/// Chain of custody of the evidence, as a person records it in the case file.
public struct CustodyFacts: Codable, Sendable, Equatable {
    /// Who collected (acquired) the evidence.
    public var collector: String?
    /// When it was acquired.
    public var acquiredAt: Timestamp?
    /// Who examined it (ran Fathom).
    public var examiner: String?
    /// Where the evidence came from (systems, accounts, log exports).
    public var source: String?
    /// Where the originals are kept (evidence store, write-once bucket).
    public var storage: String?

    public init(collector: String? = nil, acquiredAt: Timestamp? = nil, examiner: String? = nil, source: String? = nil,
                storage: String? = nil) {
        self.collector = collector
        self.acquiredAt = acquiredAt
        self.examiner = examiner
        self.source = source
        self.storage = storage
    }
}

/// An input of the analysis that is not a log archive: the case file and the model inventories
/// (SBOMs, requirements files) it names, hashed as they were read.
public struct SupportingInput: Codable, Sendable, Equatable {
    public var path: String
    /// `case-file` | `inventory`
    public var role: String
    public var size: Int64
    public var sha256: String

    public init(path: String, role: String, size: Int64, sha256: String) {
        self.path = path
        self.role = role
        self.size = size
        self.sha256 = sha256
    }
}

/// Rows a model answered in the logs of one source kind: evidence that it served traffic.
public struct ModelTraffic: Codable, Sendable, Equatable {
    public var model: String
    public var kind: String
    public var rows: Int64
    public var first: Timestamp?
    public var last: Timestamp?

    public init(model: String, kind: String, rows: Int64, first: Timestamp?, last: Timestamp?) {
        self.model = model
        self.kind = kind
        self.rows = rows
        self.first = first
        self.last = last
    }
}

/// What ran, for document control and reproducibility.
public struct RunProvenance: Codable, Sendable, Equatable {
    public var toolVersion: String
    /// The source commit the running build declares (`FATHOM_BUILD_COMMIT`), nil when none was
    /// declared. See README, Reports.
    public var buildCommit: String?
    public var commandLine: [String]
    public var rulesetHash: String
    /// SHA-256 over the SHA-256s of every input (archives, case file, inventories), each as 64
    /// lowercase hex digits and a line feed, sorted bytewise: ``InputSummary/inputsHash(_:supporting:)``.
    public var inputsHash: String
    public var dataStart: Timestamp?
    public var dataEnd: Timestamp?

    public init(toolVersion: String, commandLine: [String], rulesetHash: String, inputsHash: String,
                dataStart: Timestamp?, dataEnd: Timestamp?, buildCommit: String? = nil) {
        self.buildCommit = buildCommit
        self.toolVersion = toolVersion
        self.commandLine = commandLine
        self.rulesetHash = rulesetHash
        self.inputsHash = inputsHash
        self.dataStart = dataStart
        self.dataEnd = dataEnd
    }
}

/// One input archive as read, for the evidence report.
public struct InputArchive: Codable, Sendable, Equatable {
    public struct Member: Codable, Sendable, Equatable {
        public var name: String
        public var format: String
        public var kind: String
        public var rows: Int64
        public var rejected: Int64
        public var note: String
        /// Log text and records lost to damaged data (see `note`); nil when nothing was lost.
        public var lostBytes: Int64?
        public var lostRecords: Int64?

        /// The memberwise initializer, for the other targets of the package.
        package init(name: String,
                     format: String,
                     kind: String,
                     rows: Int64,
                     rejected: Int64,
                     note: String,
                     lostBytes: Int64? = nil,
                     lostRecords: Int64? = nil) {
            self.name = name
            self.format = format
            self.kind = kind
            self.rows = rows
            self.rejected = rejected
            self.note = note
            self.lostBytes = lostBytes
            self.lostRecords = lostRecords
        }
    }

    public struct Reject: Codable, Sendable, Equatable {
        public var member: String
        public var line: Int64
        public var reason: String
        /// The first bytes of the rejected record, as text with invalid UTF-8 replaced. Untrusted.
        public var sample: String

        /// The memberwise initializer, for the other targets of the package.
        package init(member: String, line: Int64, reason: String, sample: String) {
            self.member = member
            self.line = line
            self.reason = reason
            self.sample = sample
        }
    }

    public var path: String
    public var size: Int64
    public var sha256: String
    public var compression: String
    public var container: String
    public var formats: [String]
    public var kinds: [String]
    public var rows: Int64
    public var rejected: Int64
    public var firstTime: Timestamp?
    public var lastTime: Timestamp?
    public var members: [Member]
    public var rejectReasons: [String: Int64]
    public var rejectSamples: [Reject]
    /// Records lost to damaged data in all members (estimated); nil when nothing was lost.
    public var lostRecords: Int64?

    /// The memberwise initializer, for the other targets of the package.
    package init(path: String,
                 size: Int64,
                 sha256: String,
                 compression: String,
                 container: String,
                 formats: [String],
                 kinds: [String],
                 rows: Int64,
                 rejected: Int64,
                 firstTime: Timestamp? = nil,
                 lastTime: Timestamp? = nil,
                 members: [Member],
                 rejectReasons: [String: Int64],
                 rejectSamples: [Reject],
                 lostRecords: Int64? = nil) {
        self.path = path
        self.size = size
        self.sha256 = sha256
        self.compression = compression
        self.container = container
        self.formats = formats
        self.kinds = kinds
        self.rows = rows
        self.rejected = rejected
        self.firstTime = firstTime
        self.lastTime = lastTime
        self.members = members
        self.rejectReasons = rejectReasons
        self.rejectSamples = rejectSamples
        self.lostRecords = lostRecords
    }
}

/// Time coverage of one source kind and what is missing from it.
public struct SourceCoverage: Codable, Sendable, Equatable {
    public struct Gap: Codable, Sendable, Equatable {
        public var start: Timestamp
        public var end: Timestamp
        public var hours: Double
        /// Hours of the gap in which the source is normally active (nil in older analyses).
        public var normallyActiveHours: Int?
        /// The chance of the source being this quiet by its own habits, hours taken as independent.
        public var chance: Double?

        /// The memberwise initializer, for the other targets of the package.
        package init(start: Timestamp, end: Timestamp, hours: Double, normallyActiveHours: Int? = nil, chance: Double? = nil) {
            self.start = start
            self.end = end
            self.hours = hours
            self.normallyActiveHours = normallyActiveHours
            self.chance = chance
        }
    }

    public var kind: String
    public var rows: Int64
    public var first: Timestamp?
    public var last: Timestamp?
    /// Quiet stretches within [first, last] where the source is normally active
    /// (``CoverageAnalysis/gaps(hours:)``).
    public var gaps: [Gap]
    /// When the source is normally active, in words (e.g. `active 02:00–03:59, 08:00–17:59 UTC`);
    /// nil in older analyses.
    public var cadence: String?
    /// Quiet stretches of whole hours judged normal for the source (not gaps); nil in older analyses.
    public var normalQuietStretches: Int?
    /// Estimated clock offset of this source against the inference logs, in seconds, when a join
    /// key allows it (e.g. predictions ↔ gateway by request id); nil otherwise.
    public var clockSkewSeconds: Double?

    /// The memberwise initializer, for the other targets of the package.
    package init(kind: String,
                 rows: Int64,
                 first: Timestamp? = nil,
                 last: Timestamp? = nil,
                 gaps: [Gap],
                 clockSkewSeconds: Double? = nil) {
        self.kind = kind
        self.rows = rows
        self.first = first
        self.last = last
        self.gaps = gaps
        self.clockSkewSeconds = clockSkewSeconds
    }
}

/// One rule's total hits.
public struct RuleSummary: Codable, Sendable, Equatable {
    /// One threshold or list in force for the rule (`max_queries` = `1000`).
    public struct Setting: Codable, Sendable, Equatable {
        public var name: String
        public var value: String
    }

    public var id: String
    public var title: String
    public var level: String
    public var atlas: [String]
    public var hits: Int
    /// The settings the rule ran with (from `--settings` or the defaults), in the rule's order;
    /// nil in analyses written before they were recorded.
    public var settings: [Setting]?

    /// The memberwise initializer, for the other targets of the package.
    package init(id: String, title: String, level: String, atlas: [String], hits: Int, settings: [Setting]? = nil) {
        self.id = id
        self.title = title
        self.level = level
        self.atlas = atlas
        self.hits = hits
        self.settings = settings
    }
}

/// The five incident types of the playbook.
public enum IncidentType: String, Codable, Sendable, CaseIterable, Comparable {
    case modelBehaviour = "model-behaviour-anomaly"
    case promptInjection = "prompt-injection"
    case trainingData = "training-data-compromise"
    case extraction = "model-theft-extraction"
    case supplyChain = "supply-chain-compromise"

    public var title: String {
        switch self {
        case .modelBehaviour: "Model behaviour anomaly (compromised model version)"
        case .promptInjection: "Prompt injection / guardrail bypass"
        case .trainingData: "Training data / pipeline compromise"
        case .extraction: "Model theft / extraction"
        case .supplyChain: "Supply-chain compromise"
        }
    }

    public static func < (lhs: IncidentType, rhs: IncidentType) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}

/// One end of an impact window: when, which rule chose it, and the evidence line.
public struct WindowEdge: Codable, Sendable, Equatable {
    /// Nil when the evidence cannot date this end (the description says why; written as "").
    @UndatedTime public var time: Timestamp?
    public var rule: String
    public var description: String
    public var evidence: EvidenceRef?

    /// The memberwise initializer, for the other targets of the package.
    package init(time: Timestamp?, rule: String, description: String, evidence: EvidenceRef? = nil) {
        self.time = time
        self.rule = rule
        self.description = description
        self.evidence = evidence
    }
}

/// A time the evidence may not give, as `analysis.json` writes it: RFC 3339 text, or an empty
/// string when the evidence cannot date the event (the description beside it says why). The key
/// is always written, so a reader can tell "undated" from "not recorded".
@propertyWrapper
public struct UndatedTime: Codable, Sendable, Equatable {
    public var wrappedValue: Timestamp?

    public init(wrappedValue: Timestamp?) { self.wrappedValue = wrappedValue }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if try container.decode(String.self).isEmpty {
            wrappedValue = nil
        } else {
            wrappedValue = try container.decode(Timestamp.self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encode("") }
    }
}

/// First and last evidence of an incident.
public struct ImpactWindow: Codable, Sendable, Equatable {
    public var start: WindowEdge
    /// Nil while the incident is ongoing at the end of the data.
    public var end: WindowEdge?
    public var ongoing: Bool
    public var durationSeconds: Double?

    /// The memberwise initializer, for the other targets of the package.
    package init(start: WindowEdge, end: WindowEdge? = nil, ongoing: Bool, durationSeconds: Double? = nil) {
        self.start = start
        self.end = end
        self.ongoing = ongoing
        self.durationSeconds = durationSeconds
    }
}

/// One incident: its type, window, actors and the figures specific to it.
public struct Incident: Codable, Sendable, Equatable {
    public var id: String
    public var type: IncidentType
    public var title: String
    public var atlas: [String]
    public var window: ImpactWindow
    /// Attacker identities or responsible principals (addresses, API keys, users).
    public var actors: [String]
    public var models: [String]
    /// Rule id → hits that support this incident.
    public var ruleHits: [String: Int]
    /// Ids of incidents that overlap this one in time and actors.
    public var linked: [String]
    public var summary: String
    /// Prompt injection: what each detector found, in distinct prompts and principals (nil for
    /// other incident types and in analyses written before it was counted).
    public var detections: [InjectionDetection]?
    /// The compromised component of a supply-chain incident, as the case file names it (a purl or
    /// NAME@VERSION); nil for the other types.
    public var dependency: String?

    /// The memberwise initializer, for the other targets of the package.
    package init(id: String,
                 type: IncidentType,
                 title: String,
                 atlas: [String],
                 window: ImpactWindow,
                 actors: [String],
                 models: [String],
                 ruleHits: [String: Int],
                 linked: [String],
                 summary: String, detections: [InjectionDetection]? = nil,
                 dependency: String? = nil) {
        self.detections = detections
        self.id = id
        self.type = type
        self.title = title
        self.atlas = atlas
        self.window = window
        self.actors = actors
        self.models = models
        self.ruleHits = ruleHits
        self.linked = linked
        self.summary = summary
        self.dependency = dependency
    }
}

/// What one prompt-injection detector found: distinct prompts (LLM rows) and distinct principals.
public struct InjectionDetection: Codable, Sendable, Equatable {
    public var rule: String
    public var prompts: Int
    public var principals: Int
    /// Whether these prompts count as attacks in the incident (the calibrated detector, hidden
    /// phrasing, or a session that leaked data), or are listed for the analyst only.
    public var countedAsAttacks: Bool
    /// Measured on the detector's held-back test split (the trained detector only).
    public var precision: Double?
    public var recall: Double?
    public var falsePositiveRate: Double?
    /// SHA-256 of the trained detector's model (the trained detector only).
    public var modelSHA256: String?
    /// What the count means, in one sentence.
    public var note: String

    package init(rule: String, prompts: Int, principals: Int, countedAsAttacks: Bool, precision: Double? = nil,
                 recall: Double? = nil, falsePositiveRate: Double? = nil, modelSHA256: String? = nil, note: String) {
        self.rule = rule
        self.prompts = prompts
        self.principals = principals
        self.countedAsAttacks = countedAsAttacks
        self.precision = precision
        self.recall = recall
        self.falsePositiveRate = falsePositiveRate
        self.modelSHA256 = modelSHA256
        self.note = note
    }
}

/// An answer in the playbook flowchart.
public enum FlowAnswer: String, Codable, Sendable, Equatable {
    case yes, no
    /// Logs cannot answer; the default branch is taken and a person must confirm.
    case analystToConfirm = "analyst-to-confirm"
}

/// One node of the playbook decision tree as evaluated for this case.
public struct FlowNode: Codable, Sendable, Equatable {
    public var id: String
    public var kind: String          // "question" | "action" | "start" | "end"
    public var text: String
    public var answer: FlowAnswer?
    /// "evidence" | "case-file" | "default"
    public var answeredBy: String?
    public var evidence: [String]
    public var actions: [String]

    /// The memberwise initializer, for the other targets of the package.
    package init(id: String,
                 kind: String,
                 text: String,
                 answer: FlowAnswer? = nil,
                 answeredBy: String? = nil,
                 evidence: [String],
                 actions: [String]) {
        self.id = id
        self.kind = kind
        self.text = text
        self.answer = answer
        self.answeredBy = answeredBy
        self.evidence = evidence
        self.actions = actions
    }
}

/// The path taken through the playbook flowchart.
public struct FlowchartResult: Codable, Sendable, Equatable {
    public var incidentTypes: [IncidentType]
    /// Node ids in the order visited.
    public var path: [String]
    /// Every node of the tree (visited or not), so the whole chart can be drawn with the path highlighted.
    public var nodes: [FlowNode]
    /// Edges of the tree: from, to, label ("yes"/"no"/"").
    public var edges: [[String]]

    /// The memberwise initializer, for the other targets of the package.
    package init(incidentTypes: [IncidentType], path: [String], nodes: [FlowNode], edges: [[String]]) {
        self.incidentTypes = incidentTypes
        self.path = path
        self.nodes = nodes
        self.edges = edges
    }
}

/// Extraction volume of one attacker identity.
public struct AttackerVolume: Codable, Sendable, Equatable {
    /// "src_ip" | "principal" | "network"
    public var identityType: String
    public var identity: String
    public var addresses: [String]
    public var principals: [String]
    public var queries: Int64
    public var distinctInputs: Int64
    public var endpoints: [String]
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var peakHourlyRate: Int64
    public var peakHour: Timestamp?
    /// Share of all matching inference traffic in this attacker's window (0…1).
    public var shareOfTraffic: Double
    /// Whether responses carried confidence scores, when the logs say so; nil when unknown.
    public var confidenceScoresReturned: Bool?
    /// Rule ids that flagged this identity.
    public var rules: [String]
    public var firstEvidence: EvidenceRef?
    public var lastEvidence: EvidenceRef?
    /// "likely attacker" | "likely benign" | "unknown" (``IdentityTriage``); nil in older analyses.
    public var verdict: String?
    /// Why: internal or external addresses, a regular schedule, a service principal, the case file.
    public var verdictReasons: [String]?

    /// The memberwise initializer, for the other targets of the package.
    package init(identityType: String,
                 identity: String,
                 addresses: [String],
                 principals: [String],
                 queries: Int64,
                 distinctInputs: Int64,
                 endpoints: [String],
                 firstSeen: Timestamp,
                 lastSeen: Timestamp,
                 peakHourlyRate: Int64,
                 peakHour: Timestamp?,
                 shareOfTraffic: Double,
                 confidenceScoresReturned: Bool? = nil,
                 rules: [String],
                 firstEvidence: EvidenceRef? = nil,
                 lastEvidence: EvidenceRef? = nil,
                 verdict: String? = nil,
                 verdictReasons: [String]? = nil) {
        self.verdict = verdict
        self.verdictReasons = verdictReasons
        self.identityType = identityType
        self.identity = identity
        self.addresses = addresses
        self.principals = principals
        self.queries = queries
        self.distinctInputs = distinctInputs
        self.endpoints = endpoints
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.peakHourlyRate = peakHourlyRate
        self.peakHour = peakHour
        self.shareOfTraffic = shareOfTraffic
        self.confidenceScoresReturned = confidenceScoresReturned
        self.rules = rules
        self.firstEvidence = firstEvidence
        self.lastEvidence = lastEvidence
    }
}

/// Hourly query counts for the volume chart.
public struct HourlyVolume: Codable, Sendable, Equatable {
    public var hour: Timestamp
    public var total: Int64
    /// Attacker identity → queries in this hour.
    public var attackers: [String: Int64]

    /// The memberwise initializer, for the other targets of the package.
    package init(hour: Timestamp, total: Int64, attackers: [String: Int64]) {
        self.hour = hour
        self.total = total
        self.attackers = attackers
    }
}

/// Extracted-query volume per attacker and in total.
public struct ExtractionSummary: Codable, Sendable, Equatable {
    /// The identities counted as attackers: every flagged identity not judged likely benign.
    public var attackers: [AttackerVolume]
    /// Flagged identities judged likely benign (internal batch jobs, vouched-for clients): listed
    /// for a person to confirm, not in the totals. Nil when none was set aside.
    public var setAside: [AttackerVolume]?
    public var totalQueries: Int64
    public var totalDistinctInputs: Int64
    public var window: ImpactWindow?
    /// Attacker activity in the last hour of the data.
    public var ongoing: Bool
    public var dataEnd: Timestamp?
    public var hourly: [HourlyVolume]

    /// The memberwise initializer, for the other targets of the package.
    package init(attackers: [AttackerVolume],
                 totalQueries: Int64,
                 totalDistinctInputs: Int64,
                 window: ImpactWindow? = nil,
                 ongoing: Bool,
                 dataEnd: Timestamp? = nil,
                 hourly: [HourlyVolume],
                 setAside: [AttackerVolume]? = nil) {
        self.attackers = attackers
        self.setAside = setAside
        self.totalQueries = totalQueries
        self.totalDistinctInputs = totalDistinctInputs
        self.window = window
        self.ongoing = ongoing
        self.dataEnd = dataEnd
        self.hourly = hourly
    }
}

extension AttackerVolume {
    /// The volume with API keys masked where they name the identity or its principals.
    package func maskingCredentials() -> AttackerVolume {
        var copy = self
        if identityType == "principal" { copy.identity = SecretMask.maskCredential(identity) }
        copy.principals = principals.map(SecretMask.maskCredential)
        copy.verdictReasons = verdictReasons
        return copy
    }
}

extension ExtractionSummary {
    /// The summary as deliverables show it: API keys masked (prefix and last 4) everywhere.
    package func maskingCredentials() -> ExtractionSummary {
        var copy = self
        copy.attackers = attackers.map { $0.maskingCredentials() }
        copy.setAside = setAside?.map { $0.maskingCredentials() }
        copy.hourly = hourly.map { hour in
            var masked = hour
            masked.attackers = Dictionary(hour.attackers.map { (SecretMask.maskCredential($0.key), $0.value) }, uniquingKeysWith: +)
            return masked
        }
        return copy
    }
}

/// Decisions served by a compromised model version.
public struct AffectedDecisions: Codable, Sendable, Equatable {
    public var model: String
    public var compromisedVersion: String
    public var lastKnownGoodVersion: String?
    public var window: ImpactWindow
    /// True when counted from decision logs; false for an estimate.
    public var exact: Bool
    public var total: Figure
    /// Decision value → count (exact only).
    public var byDecision: [String: Int64]
    /// File name of the re-review list, relative to the report folder: `affected_decisions.csv`
    /// from decision logs, `affected_requests.csv` from the requests of an estimate.
    public var requestIdsFile: String?
    /// The estimate from inference requests: the figure when there are no decision logs, a check
    /// beside the exact count when there are. Nil when no request to the model was in the evidence.
    public var estimate: RequestEstimateSummary?
    /// How the compromised version's decisions differ from what the last known-good version
    /// decided before the window (an estimate); nil without decision logs or a baseline.
    public var harm: HarmEstimate?

    /// The memberwise initializer, for the other targets of the package.
    package init(model: String,
                 compromisedVersion: String,
                 lastKnownGoodVersion: String? = nil,
                 window: ImpactWindow,
                 exact: Bool,
                 total: Figure,
                 byDecision: [String: Int64],
                 requestIdsFile: String? = nil,
                 estimate: RequestEstimateSummary? = nil) {
        self.estimate = estimate
        self.model = model
        self.compromisedVersion = compromisedVersion
        self.lastKnownGoodVersion = lastKnownGoodVersion
        self.window = window
        self.exact = exact
        self.total = total
        self.byDecision = byDecision
        self.requestIdsFile = requestIdsFile
    }
}

/// The decisions the compromised version made differently from its baseline: for each decision
/// value, the count the last known-good version's rate (before the window, with a 95 % Wilson
/// interval) predicts for the same number of decisions, against the count made.
public struct HarmEstimate: Codable, Sendable, Equatable {
    public struct Row: Codable, Sendable, Equatable {
        public var decision: String
        public var baselineRate: Double
        public var expected: Double
        public var expectedLow: Double
        public var expectedHigh: Double
        public var made: Int64
    }

    public var baselineVersion: String
    public var baselineDecisions: Int64
    public var rows: [Row]
    /// Decisions that moved to another value: half the sum of |expected − made|, with its interval.
    public var shifted: Figure
}

/// Decisions estimated from the inference requests answered inside an impact window.
public struct RequestEstimateSummary: Codable, Sendable, Equatable {
    public struct Hour: Codable, Sendable, Equatable {
        public var hour: Timestamp
        public var low: Int64
        public var high: Int64
    }

    public struct Client: Codable, Sendable, Equatable {
        public var address: String
        public var requests: Int64
    }

    public static let clientLimit = 10

    public var low: Int64
    public var high: Int64
    /// How: which requests, which window edges, what the range stands for.
    public var method: String
    public var hourly: [Hour]
    /// The clients with the most requests in the wide window (at most ``clientLimit``).
    public var topClients: [Client]
    /// Distinct client addresses in the wide window.
    public var clients: Int64
}

/// Sensitive data found in model output.
public struct DataExposure: Codable, Sendable, Equatable {
    public var responsesWithSensitiveData: Int64
    public var distinctUsers: Int64
    public var distinctSessions: Int64
    /// Category → responses holding it (e.g. "card_number": 2).
    public var categories: [String: Int64]
    /// Category → occurrences in those responses (a response can hold several), and distinct
    /// values (the same card number leaked twice is one card). Nil in older analyses.
    public var occurrences: [String: Int64]?
    public var distinctValues: [String: Int64]?
    public var recordsPotentiallyExposed: Figure
    public var first: Timestamp?
    public var last: Timestamp?
    public var evidence: [EvidenceRef]

    /// The memberwise initializer, for the other targets of the package.
    package init(responsesWithSensitiveData: Int64,
                 distinctUsers: Int64,
                 distinctSessions: Int64,
                 categories: [String: Int64],
                 recordsPotentiallyExposed: Figure,
                 first: Timestamp? = nil,
                 last: Timestamp? = nil,
                 evidence: [EvidenceRef]) {
        self.responsesWithSensitiveData = responsesWithSensitiveData
        self.distinctUsers = distinctUsers
        self.distinctSessions = distinctSessions
        self.categories = categories
        self.recordsPotentiallyExposed = recordsPotentiallyExposed
        self.first = first
        self.last = last
        self.evidence = evidence
    }
}

/// A registry or deployment event.
public struct RegistryEvent: Codable, Sendable, Equatable {
    public var time: Timestamp
    public var model: String
    public var version: String
    public var event: String
    public var fromStage: String
    public var toStage: String
    public var principal: String
    /// Where it happened (a Kubernetes namespace), when the source says.
    public var environment: String?
    public var evidence: EvidenceRef?

    /// The memberwise initializer, for the other targets of the package.
    package init(time: Timestamp,
                 model: String,
                 version: String,
                 event: String,
                 fromStage: String,
                 toStage: String,
                 principal: String,
                 environment: String? = nil,
                 evidence: EvidenceRef? = nil) {
        self.time = time
        self.model = model
        self.version = version
        self.event = event
        self.fromStage = fromStage
        self.toStage = toStage
        self.principal = principal
        self.environment = environment
        self.evidence = evidence
    }
}

/// Model version history and what the rollback should target.
public struct RegistryHistory: Codable, Sendable, Equatable {
    public var events: [RegistryEvent]
    public var compromisedVersion: String?
    public var lastKnownGoodVersion: String?
    public var deployedAt: Timestamp?
    /// Every rollback away from the compromised version (there may be more than one).
    public var rollbacks: [Timestamp]

    /// The memberwise initializer, for the other targets of the package.
    package init(events: [RegistryEvent],
                 compromisedVersion: String? = nil,
                 lastKnownGoodVersion: String? = nil,
                 deployedAt: Timestamp? = nil,
                 rollbacks: [Timestamp]) {
        self.events = events
        self.compromisedVersion = compromisedVersion
        self.lastKnownGoodVersion = lastKnownGoodVersion
        self.deployedAt = deployedAt
        self.rollbacks = rollbacks
    }
}

/// A training-data or supply-chain finding from `fathom verify`, `deps` or `scan-artifacts`.
public struct IntegrityItem: Codable, Sendable, Equatable {
    public var kind: String
    public var severity: String
    public var subject: String
    public var detail: String
    public var evidence: String
    public var time: Timestamp?

    /// The memberwise initializer, for the other targets of the package.
    package init(kind: String,
                 severity: String,
                 subject: String,
                 detail: String,
                 evidence: String,
                 time: Timestamp? = nil) {
        self.kind = kind
        self.severity = severity
        self.subject = subject
        self.detail = detail
        self.evidence = evidence
        self.time = time
    }
}

/// A case-file statement the logs contradict; the logs win.
public struct Contradiction: Codable, Sendable, Equatable {
    public var field: String
    public var caseFile: String
    public var logs: String
    public var evidence: EvidenceRef?

    /// The memberwise initializer, for the other targets of the package.
    package init(field: String, caseFile: String, logs: String, evidence: EvidenceRef? = nil) {
        self.field = field
        self.caseFile = caseFile
        self.logs = logs
        self.evidence = evidence
    }
}

/// A measured interval of the incident: from one event to another, in seconds.
public struct KeyInterval: Codable, Sendable, Equatable {
    /// One end: what it is and when (nil when the analysis has no such event).
    public struct End: Codable, Sendable, Equatable {
        public var label: String
        public var time: Timestamp?

        package init(label: String, time: Timestamp?) {
            self.label = label
            self.time = time
        }
    }

    /// `Dwell time`, `Time to detect` or `Time to contain`.
    public var measure: String
    public var from: End
    public var to: End
    /// Nil when either end is missing.
    public var seconds: Double?

    package init(measure: String, from: End, to: End) {
        self.measure = measure
        self.from = from
        self.to = to
        if let start = from.time, let end = to.time {
            seconds = Double(start.nanoseconds(to: end)) / 1e9
        }
    }

    /// The three intervals of an incident: dwell time (first indicator → first detection, or the
    /// awareness time when no detection event is logged), time to detect (start of the earliest
    /// impact window → the same), time to contain (→ first containment event).
    package static func of(timeline: [TimelineEvent], incidents: [Incident], awarenessTime: Timestamp?) -> [KeyInterval] {
        func first(_ phase: String) -> Timestamp? {
            timeline.filter { $0.phase == phase }.compactMap(\.time).min()
        }
        let impactStart = incidents.compactMap(\.window.start.time).min()
        let detection = first("detection")
        let detected = End(label: detection != nil ? "first detection event" : "awareness time (no detection event)",
                           time: detection ?? awarenessTime)
        var intervals = [
            KeyInterval(measure: "Dwell time", from: End(label: "first indicator the analysis relies on", time: first("first-indicator") ?? impactStart),
                        to: detected),
            KeyInterval(measure: "Time to detect", from: End(label: "start of impact", time: impactStart), to: detected),
        ]
        // Containment per incident: its own containment event, or why there is none.
        for incident in incidents {
            let contained = timeline.filter { $0.phase == "containment" && $0.incident == incident.id }.compactMap(\.time).min()
            let end: End
            if let contained {
                end = End(label: "containment: " + (incident.window.end?.description ?? "containment event"), time: contained)
            } else if incident.window.ongoing {
                end = End(label: "not contained: " + (incident.type == .extraction ? "activity in the last hour of the data" : "no end in the data"), time: nil)
            } else if incident.window.end != nil {
                end = End(label: "not contained: the activity stopped on its own", time: nil)
            } else {
                end = End(label: "not determinable from the evidence", time: nil)
            }
            intervals.append(KeyInterval(measure: "Time to contain " + incident.id, from: detected, to: end))
        }
        return intervals
    }
}

/// One event of the incident timeline.
public struct TimelineEvent: Codable, Sendable, Equatable {
    /// Nil when the evidence cannot date the event (written as "").
    @UndatedTime public var time: Timestamp?
    /// "first-indicator" | "impact" | "detection" | "containment" | "recovery" | "context"
    public var phase: String
    public var source: String
    public var description: String
    public var incident: String?
    public var evidence: EvidenceRef?

    /// The memberwise initializer, for the other targets of the package.
    package init(time: Timestamp?,
                 phase: String,
                 source: String,
                 description: String,
                 incident: String? = nil,
                 evidence: EvidenceRef? = nil) {
        self.time = time
        self.phase = phase
        self.source = source
        self.description = description
        self.incident = incident
        self.evidence = evidence
    }
}

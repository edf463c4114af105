import FathomStore
import FathomSupport
import FathomCatalog

/// `audit.control-plane`: what an attacker does around an AI/ML incident in the cloud and cluster
/// control plane — blinding logging, minting credentials, granting privileges, reading secrets,
/// executing in workloads, removing guardrails, enabling model access, sharing snapshots.
package enum ControlPlane {
    /// What an action is evidence of.
    package enum Category: String, CaseIterable, Sendable {
        case loggingDisabled = "logging-disabled"
        case credentialCreated = "credential-created"
        case privilegeGranted = "privilege-granted"
        case secretRead = "secret-read"
        case remoteExecution = "remote-execution"
        case guardrailRemoved = "guardrail-removed"
        case modelAccessEnabled = "model-access-enabled"
        case dataShared = "data-shared"

        /// How the brief says it.
        package var phrase: String {
            switch self {
            case .loggingDisabled: "logging stopped or deleted"
            case .credentialCreated: "credentials created"
            case .privilegeGranted: "privileges granted"
            case .secretRead: "secrets or keys read"
            case .remoteExecution: "commands run inside workloads"
            case .guardrailRemoved: "model guardrails removed"
            case .modelAccessEnabled: "foundation-model access enabled"
            case .dataShared: "snapshots or images shared"
            }
        }
    }

    /// CloudTrail `eventName` → category.
    package static let cloudTrail: [String: Category] = [
        "StopLogging": .loggingDisabled, "DeleteTrail": .loggingDisabled,
        "DeleteModelInvocationLoggingConfiguration": .loggingDisabled, "DeleteFlowLogs": .loggingDisabled,
        "DeleteDetector": .loggingDisabled, "StopConfigurationRecorder": .loggingDisabled,
        "DeleteConfigurationRecorder": .loggingDisabled,
        "CreateAccessKey": .credentialCreated, "CreateLoginProfile": .credentialCreated,
        "UpdateLoginProfile": .credentialCreated,
        "AttachUserPolicy": .privilegeGranted, "AttachRolePolicy": .privilegeGranted, "AttachGroupPolicy": .privilegeGranted,
        "PutUserPolicy": .privilegeGranted, "PutRolePolicy": .privilegeGranted, "PutGroupPolicy": .privilegeGranted,
        "AddUserToGroup": .privilegeGranted, "CreatePolicyVersion": .privilegeGranted,
        "GetSecretValue": .secretRead, "BatchGetSecretValue": .secretRead,
        "SendCommand": .remoteExecution, "StartSession": .remoteExecution,
        "DeleteGuardrail": .guardrailRemoved,
        "PutFoundationModelEntitlement": .modelAccessEnabled, "CreateFoundationModelAgreement": .modelAccessEnabled,
        "PutUseCaseForModelAccess": .modelAccessEnabled,
        "ModifySnapshotAttribute": .dataShared, "ModifyDBSnapshotAttribute": .dataShared,
        "ModifyDBClusterSnapshotAttribute": .dataShared, "ModifyImageAttribute": .dataShared,
    ]

    /// Azure activity `operationName` (upper-cased) → category.
    package static let azureActivity: [String: Category] = [
        "MICROSOFT.INSIGHTS/DIAGNOSTICSETTINGS/DELETE": .loggingDisabled,
        "MICROSOFT.AUTHORIZATION/ROLEASSIGNMENTS/WRITE": .privilegeGranted,
        "MICROSOFT.STORAGE/STORAGEACCOUNTS/LISTKEYS/ACTION": .secretRead,
        "MICROSOFT.COGNITIVESERVICES/ACCOUNTS/LISTKEYS/ACTION": .secretRead,
        "MICROSOFT.MACHINELEARNINGSERVICES/WORKSPACES/LISTKEYS/ACTION": .secretRead,
        "MICROSOFT.KEYVAULT/VAULTS/SECRETS/GETSECRET/ACTION": .secretRead,
        "MICROSOFT.COMPUTE/VIRTUALMACHINES/RUNCOMMAND/ACTION": .remoteExecution,
        "MICROSOFT.COMPUTE/SNAPSHOTS/BEGINGETACCESS/ACTION": .dataShared,
        "MICROSOFT.COMPUTE/DISKS/BEGINGETACCESS/ACTION": .dataShared,
    ]

    /// Entra ID audit activity names → category.
    package static let entraAudit: [String: Category] = [
        "Add service principal credentials": .credentialCreated,
        "Update application – Certificates and secrets management ": .credentialCreated,
        "Add member to role": .privilegeGranted, "Add eligible member to role": .privilegeGranted,
    ]

    /// Kubernetes audit (verb, resource) → category.
    package static let kubernetes: [(verb: String, resource: String, category: Category)] = [
        ("create", "pods/exec", .remoteExecution), ("create", "pods/attach", .remoteExecution),
        ("create", "serviceaccounts/token", .credentialCreated),
        ("create", "clusterrolebindings", .privilegeGranted), ("update", "clusterrolebindings", .privilegeGranted),
        ("patch", "clusterrolebindings", .privilegeGranted),
        ("create", "rolebindings", .privilegeGranted), ("update", "rolebindings", .privilegeGranted),
        ("patch", "rolebindings", .privilegeGranted),
        ("get", "secrets", .secretRead), ("list", "secrets", .secretRead), ("watch", "secrets", .secretRead),
    ]

    /// Kubernetes users whose secret reads are the cluster's own (controllers, service accounts):
    /// not reported.
    package static let kubernetesSystemPrefix = "system:"

    private static let kubernetesTable: [String: [String: Category]] = Dictionary(
        grouping: kubernetes, by: \.verb).mapValues { Dictionary($0.map { ($0.resource, $0.category) }, uniquingKeysWith: { first, _ in first }) }

    package static let info = RuleInfo(
        id: RuleID.controlPlane, title: "Control-plane action an attacker takes (logging, credentials, privileges, secrets)",
        level: "high", atlas: ["AML.T0012", "AML.T0055"], kind: .audit,
        semantics: """
            Audit rows whose outcome is success (or not recorded) and whose action is one of: \
            logging-disabled (CloudTrail StopLogging, DeleteTrail, DeleteModelInvocationLoggingConfiguration, \
            DeleteFlowLogs, DeleteDetector, Stop/DeleteConfigurationRecorder; Azure diagnosticSettings/delete), \
            credential-created (CreateAccessKey, CreateLoginProfile, UpdateLoginProfile; Kubernetes create \
            serviceaccounts/token; Entra "Add service principal credentials"), privilege-granted \
            (Attach/Put User/Role/Group policy, AddUserToGroup, CreatePolicyVersion; Kubernetes create, \
            update or patch of clusterrolebindings/rolebindings; Azure roleAssignments/write; Entra "Add \
            member to role"), secret-read (GetSecretValue, BatchGetSecretValue; Kubernetes get/list/watch of \
            secrets by a user whose name does not start with system:; Azure listKeys of storage, Cognitive \
            Services and Machine Learning accounts, Key Vault getSecret), remote-execution (SSM SendCommand, StartSession; \
            Kubernetes create pods/exec or pods/attach; Azure runCommand), guardrail-removed (Bedrock \
            DeleteGuardrail), model-access-enabled (Bedrock PutFoundationModelEntitlement, \
            CreateFoundationModelAgreement, PutUseCaseForModelAccess) and data-shared \
            (Modify{,DB,DBCluster}SnapshotAttribute, ModifyImageAttribute, disk/snapshot beginGetAccess). \
            Actions compare exactly (Azure operation names ignoring case). One hit per row; metrics: \
            category, action; key: principal.
            """)

    package static let rule = BuiltInRule(info: info, settings: { _ in
        [("categories", Category.allCases.map(\.rawValue).joined(separator: ", "))]
    }, body: run)

    /// The category of one audit row's (source, action, service, principal), or nil.
    package static func category(source: String, action: String, service: String, principal: String) -> Category? {
        switch source {
        case "cloudtrail": return cloudTrail[action]
        case "k8s-audit":
            guard let category = kubernetesTable[action]?[service] else { return nil }
            return category == .secretRead && principal.hasPrefix(kubernetesSystemPrefix) ? nil : category
        case "azure-activity": return azureActivity[action.uppercased()]
        case "azure-audit": return entraAudit[action]
        default: return nil
        }
    }

    /// - Complexity: O(rows); the category is judged once per distinct (source, action, service,
    ///   principal) code tuple.
    package static func run(_ context: HuntContext) throws -> [Hit] {
        let perSegment = try context.map(.audit) { table -> [Hit] in
            let times = try table.int64("time")
            let sources = try table.dictionary("source")
            let actions = try table.dictionary("action")
            let services = try table.dictionary("service")
            let principals = try table.dictionary("principal")
            let outcomes = try table.dictionary("outcome")
            let failed = (0..<outcomes.entryCount).map { outcomes.entry(UInt32($0)).string == "failure" }
            // Most rows are reads no table names: an action that is in none is judged once per
            // dictionary entry; the rest once per (source, action, service, principal).
            let candidate = (0..<actions.entryCount).map { mayMatch(actions.entry(UInt32($0)).string) }
            struct Key: Hashable { var source, action, service, principal: UInt32 }
            var cache: [Key: Category?] = [:]
            var hits: [Hit] = []
            for row in 0..<table.rowCount {
                let action = actions.code(at: row)
                guard candidate[Int(action)], !failed[Int(outcomes.code(at: row))] else { continue }
                let key = Key(source: sources.code(at: row), action: action, service: services.code(at: row),
                              principal: principals.code(at: row))
                let category: Category?
                if let cached = cache[key] { category = cached } else {
                    category = self.category(source: sources.string(at: row), action: actions.string(at: row),
                                             service: services.string(at: row), principal: principals.string(at: row))
                    cache[key] = category
                }
                guard let category, context.includes(times[row]) else { continue }
                hits.append(Hit(rule: info, time: Timestamp(column: times[row]),
                                key: ["principal": .string(principals.string(at: row))],
                                metrics: ["category": .string(category.rawValue), "action": .string(actions.string(at: row))],
                                fields: context.fields(table, row: row),
                                evidence: .event(context.evidence(table, row: row))))
            }
            return hits
        }
        return perSegment.flatMap { $0 }
    }

    /// Whether an action is named by any of the tables (for some source).
    static func mayMatch(_ action: String) -> Bool {
        cloudTrail[action] != nil || azureActivity[action.uppercased()] != nil || entraAudit[action] != nil
            || kubernetesVerbs.contains(action)
    }

    private static let kubernetesVerbs = Set(kubernetes.map(\.verb))
}

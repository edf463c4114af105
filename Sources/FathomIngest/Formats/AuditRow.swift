import FathomStore
import FathomSupport
import FathomCatalog

/// The `audit` row of a record: who did what to which resource, from where, with what outcome,
/// and the original record, so that any of its fields can be read later (Sigma rules written
/// with the log's own field names read them from `record`).
///
/// Audit logs (CloudTrail, Kubernetes audit, Azure activity and Entra logs) keep an audit row for
/// every record, beside the AI/ML row a record also makes when one applies (a CloudTrail S3
/// `GetObject` is a `storage` row and an `audit` row). Other formats keep an audit row for a
/// well-formed record that no AI/ML kind describes (an embedding call in an LLM gateway log, a
/// firewall row among gateway rows) instead of dropping it.
package struct AuditRow {
    /// The log the record came from: `cloudtrail`, `k8s-audit`, `azure-activity`, … (the
    /// `source` column, which Sigma logsources select on).
    package var source: String
    package var service: JSONValue?
    /// The service as text, when the record holds it in no one field.
    package var serviceText: String?
    package var action: JSONValue?
    package var principal: JSONValue?
    package var sourceAddress: JSONValue?
    package var target: String?
    /// `success`, `failure`, or the log's own outcome word when it has no success/failure notion.
    package var outcome: String?
    package var userAgent: JSONValue?

    package init(source: String) { self.source = source }

    private static let schema = SourceKind.audit.schema
    private static let sourceColumn = schema.index(of: "source")!
    private static let serviceColumn = schema.index(of: "service")!
    private static let actionColumn = schema.index(of: "action")!
    private static let principalColumn = schema.index(of: "principal")!
    private static let addressColumn = schema.index(of: "src_ip")!
    private static let targetColumn = schema.index(of: "target")!
    private static let outcomeColumn = schema.index(of: "outcome")!
    private static let agentColumn = schema.index(of: "user_agent")!
    private static let recordColumn = schema.index(of: "record")!

    /// Writes the row for the record whose text is `record`.
    package func write(time: Int64, record: ByteView, overrides: RowOverrides, into rows: RowWriter) {
        rows.begin(.audit, time: time, overrides: overrides)
        rows.setString(source, at: Self.sourceColumn)
        if let service { JSONFields.writeString(service, column: Self.serviceColumn, into: rows) }
        if let serviceText { rows.setString(serviceText, at: Self.serviceColumn) }
        if let action { JSONFields.writeString(action, column: Self.actionColumn, into: rows) }
        if let principal { JSONFields.writeString(principal, column: Self.principalColumn, into: rows) }
        if let sourceAddress {
            JSONFields.write(sourceAddress, role: .address, column: Self.addressColumn, kind: .audit, into: rows)
        }
        if let target { rows.setString(target, at: Self.targetColumn) }
        if let outcome { rows.setString(outcome, at: Self.outcomeColumn) }
        if let userAgent { JSONFields.writeString(userAgent, column: Self.agentColumn, into: rows) }
        rows.setString(record, at: Self.recordColumn)
        rows.commit()
    }

    /// The audit row of a record no AI/ML kind describes, with what a generic reading finds:
    /// the action from common operation fields, the principal and address from common names.
    package static func generic(source: String, root: JSONValue) -> AuditRow {
        var row = AuditRow(source: source)
        row.action = JSONPaths.first(genericActionPaths, in: root)
        row.principal = JSONPaths.first(genericPrincipalPaths, in: root)
        row.sourceAddress = JSONPaths.first(genericAddressPaths, in: root)
        row.userAgent = JSONPaths.first(genericAgentPaths, in: root)
        return row
    }

    package static let genericActionPaths = JSONPaths.split([
        "operationName", "OperationName", "eventName", "action", "event", "type", "call_type", "method", "verb",
    ])
    package static let genericPrincipalPaths = JSONPaths.split([
        "user", "user_id", "userId", "principal", "caller", "Caller", "api_key_alias", "identity_claim_upn_s",
    ])
    package static let genericAddressPaths = JSONPaths.split([
        "src_ip", "client_ip", "clientIP_s", "callerIpAddress", "CallerIpAddress", "requester_ip_address", "ip",
    ])
    package static let genericAgentPaths = JSONPaths.split(["user_agent", "userAgent", "userAgent_s"])
}

import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// Runs Sigma rules over the store.
package enum SigmaEngine {
    package static func run(_ rule: SigmaRule, context: HuntContext) throws -> [Hit] {
        switch rule.body {
        case let .detection(detection):
            guard rule.generatesHits else { return [] }
            return try events(detection, context: context).map { event in
                Hit(rule: rule.info, time: Timestamp(column: event.time), key: [:], fields: event.fields,
                    evidence: .event(event.ref))
            }
        case let .correlation(correlation):
            return try correlate(rule, correlation, context: context)
        }
    }

    package struct Event: Sendable {
        package var time: Int64
        package var ref: EvidenceRef
        package var fields: HitFields
        package var groupValues: [String] = []
        package var fieldValue: String?
        package var ruleIndex = 0
    }

    /// A compiled row test of one segment.
    package typealias RowTest = (Int) -> Bool

    /// The matched rows of a detection, with their fields.
    ///
    /// - Complexity: O(rows × condition size) over the kind's overlapping segments; a dictionary
    ///   column's tests run once per dictionary entry, not per row.
    package static func events(_ detection: SigmaDetection, context: HuntContext, groupBy: [String] = [], field: String? = nil,
                       ruleIndex: Int = 0) throws -> [Event] {
        let perSegment = try context.map(detection.kind) { table -> [Event] in
            let times = try table.int64("time")
            let records = RecordAccess(table)
            let searches = try detection.searches.map { try compile($0, table: table, records: records) }
            var condition = compile(detection.condition, searches: searches)
            if let sources = detection.source.auditSources {
                // The rows of the logsource's own logs only.
                let fromSource = try compile(FieldTest(column: CanonicalColumn("source", .dictionary),
                                                       matchers: sources.map { .glob(Glob($0, cased: true)) }, requireAll: false),
                                             table: table, records: records)
                let matches = condition
                condition = { row in fromSource(row) && matches(row) }
            }
            let groupReaders = groupBy.map { valueReader(table, $0, source: detection.source, records: records) }
            let fieldReader = field.map { valueReader(table, $0, source: detection.source, records: records) }
            let wantFields = groupBy.isEmpty && field == nil
            var events: [Event] = []
            // The segment's hit columns, opened at its first event.
            var hitRows: HitRows?
            for row in 0..<table.rowCount {
                let time = times[row]
                guard context.includes(time), condition(row) else { continue }
                let rows = hitRows ?? HitRows(table, context: context, fields: wantFields)
                hitRows = rows
                var event = Event(time: time, ref: rows.evidence(row, withTime: true),
                                  fields: wantFields ? rows.fields(row) : [:], ruleIndex: ruleIndex)
                event.groupValues = groupReaders.map { $0(row) ?? "" }
                event.fieldValue = fieldReader.flatMap { $0(row) }
                events.append(event)
            }
            return events
        }
        return perSegment.flatMap { $0 }
    }

    /// The `record` column of a segment, opened when a test first needs it, and the record of the
    /// row being tested parsed once for all of a rule's tests.
    package final class RecordAccess {
        private let table: SegmentTable
        private var opened: RecordFields??

        package init(_ table: SegmentTable) { self.table = table }

        /// nil when the segment has no record column.
        package func fields() throws -> RecordFields? {
            if let opened { return opened }
            let fields = table.has("record") ? RecordFields(try table.text("record")) : nil
            opened = .some(fields)
            return fields
        }
    }

    /// Reads a field of a row as text (nil for null), for group-by and value_count fields: a
    /// column, or (for a log's own field name) the first value at its path in the record.
    package static func valueReader(_ table: SegmentTable, _ name: String, source: SigmaLogSource,
                                    records: RecordAccess) -> (Int) -> String? {
        switch source.field(name) {
        case let .column(column)?: return valueReader(table, column)
        case let .part(column, part)?:
            let read = valueReader(table, column)
            return { row in read(row).map(part.of).flatMap { $0.isEmpty ? nil : $0 } }
        case let .record(path)?:
            guard let fields = try? records.fields() else { return { _ in nil } }
            return { row in
                for value in fields.values(path, row: row) { if case let .text(text) = value { return text } }
                return nil
            }
        case nil: return { _ in nil }
        }
    }

    /// Reads one column of a row as text (nil for null), for group-by and value_count fields.
    package static func valueReader(_ table: SegmentTable, _ name: String) -> (Int) -> String? {
        guard let index = table.kind.schema.index(of: name), table.has(name) else { return { _ in nil } }
        switch table.kind.schema.columns[index].type {
        case .dictionary:
            guard let column = try? table.dictionary(name) else { return { _ in nil } }
            return { row in let text = column.string(at: row); return text.isEmpty ? nil : text }
        case .text:
            guard let column = try? table.text(name) else { return { _ in nil } }
            return { row in let text = column.string(at: row); return text.isEmpty ? nil : text }
        case .int64:
            guard let column = try? table.int64(name) else { return { _ in nil } }
            return { row in column[row] == Int64.min ? nil : String(column[row]) }
        case .float64:
            guard let column = try? table.float64(name) else { return { _ in nil } }
            return { row in column[row].isNaN ? nil : HitValue.format(column[row]) }
        case .hash128:
            guard let column = try? table.hash128(name) else { return { _ in nil } }
            return { row in column[row].isNull ? nil : column[row].description }
        }
    }

    package static func compile(_ condition: ConditionNode, searches: [RowTest]) -> RowTest {
        switch condition {
        case let .search(index): return searches[index]
        case let .not(inner):
            let test = compile(inner, searches: searches)
            return { !test($0) }
        case let .and(items):
            let tests = items.map { compile($0, searches: searches) }
            return { row in tests.allSatisfy { $0(row) } }
        case let .or(items):
            let tests = items.map { compile($0, searches: searches) }
            return { row in tests.contains { $0(row) } }
        case let .oneOf(indices):
            let tests = indices.map { searches[$0] }
            return { row in tests.contains { $0(row) } }
        case let .allOf(indices):
            let tests = indices.map { searches[$0] }
            return { row in tests.allSatisfy { $0(row) } }
        }
    }

    package static func compile(_ search: SearchNode, table: SegmentTable, records: RecordAccess) throws -> RowTest {
        switch search {
        case let .all(items):
            // Column tests first: a record is parsed only for rows that pass them.
            let ordered = items.filter { !$0.readsRecord } + items.filter(\.readsRecord)
            let tests = try ordered.map { try compile($0, table: table, records: records) }
            return { row in tests.allSatisfy { $0(row) } }
        case let .any(items):
            let tests = try items.map { try compile($0, table: table, records: records) }
            return { row in tests.contains { $0(row) } }
        case let .test(test):
            return try compile(test, table: table, records: records)
        case let .keywords(matchers):
            let columns = table.kind.schema.columns.filter {
                ($0.type == .dictionary || $0.type == .text) && $0.name != "member"
            }
            let tests = try columns.map { column in
                try compile(FieldTest(column: column, matchers: matchers, requireAll: false), table: table, records: records)
            }
            return { row in tests.contains { $0(row) } }
        }
    }

    /// Whether a value's text passes a matcher (text-valued columns).
    package static func matches(_ matcher: ValueMatcher, text: String) -> Bool {
        switch matcher {
        case .isNull: return text.isEmpty
        case let .exists(flag): return flag != text.isEmpty
        case let .glob(glob): return glob.matches(text)
        case let .regex(regex): return regex.matches(text)
        case let .cidr(block): return IPAddress(text).map(block.contains) ?? false
        case let .compare(op, bound): return Double(text).map { op.holds($0, bound) } ?? false
        case let .compareTime(op, bound): return TimeParser.parse(text).map { op.holds($0, bound) } ?? false
        case let .hash(hash): return Hash128.of(text) == hash
        case let .anyOf(variants): return variants.contains { matches($0, text: text) }
        }
    }

    /// The non-null values of a field of a row, as text (for `fieldref`).
    package static func texts(_ field: SigmaLogSource.Field, table: SegmentTable,
                              records: RecordAccess) throws -> (Int) -> [String] {
        switch field {
        case let .column(name):
            let read = valueReader(table, name)
            return { row in read(row).map { [$0] } ?? [] }
        case let .part(name, part):
            let read = valueReader(table, name)
            return { row in
                guard let text = read(row).map(part.of), !text.isEmpty else { return [] }
                return [text]
            }
        case let .record(path):
            guard let fields = try records.fields() else { return { _ in [] } }
            return { row in
                fields.values(path, row: row).compactMap { value in
                    if case let .text(text) = value { return text }
                    return nil
                }
            }
        }
    }

    /// Whether the values at a record path pass a matcher: `null` when the path is absent or
    /// every value is null, `exists` when some value is not null, any other test when one of the
    /// values passes it (so `''` matches an empty string, never an absent field).
    package static func matches(_ matcher: ValueMatcher, values: [RecordFields.Value]) -> Bool {
        switch matcher {
        case .isNull: return values.allSatisfy { $0 == .null }
        case let .exists(flag): return flag == values.contains { $0 != .null }
        case let .anyOf(variants): return variants.contains { matches($0, values: values) }
        default:
            return values.contains { value in
                guard case let .text(text) = value else { return false }
                return matches(matcher, text: text)
            }
        }
    }

    package static func combine(_ results: [Bool], all: Bool) -> Bool {
        all ? results.allSatisfy { $0 } : results.contains(true)
    }

    package static func compile(_ test: FieldTest, table: SegmentTable, records: RecordAccess) throws -> RowTest {
        let matchers = test.matchers
        let all = test.requireAll
        let name = test.column.name
        if let (left, right) = test.fieldReference {
            let leftValues = try texts(left, table: table, records: records)
            let rightValues = try texts(right, table: table, records: records)
            return { row in
                let wanted = Set(rightValues(row).map(FoldedText.folded))
                return !wanted.isEmpty && leftValues(row).contains { wanted.contains(FoldedText.folded($0)) }
            }
        }
        if let path = test.recordPath {
            guard let fields = try records.fields() else {
                return { _ in matchers.contains { if case .isNull = $0 { return true }; return false } }
            }
            return { row in
                let values = fields.values(path, row: row)
                return combine(matchers.map { matches($0, values: values) }, all: all)
            }
        }
        guard table.has(name) else { return { _ in matchers.contains { if case .isNull = $0 { return true }; return false } } }
        switch test.column.type {
        case .dictionary:
            let column = try table.dictionary(name)
            let part = test.part
            let verdicts = (0..<column.entryCount).map { code in
                let whole = column.entry(UInt32(code)).string
                let text = part.map { $0.of(whole) } ?? whole
                return combine(matchers.map { matches($0, text: text) }, all: all)
            }
            return { row in verdicts[Int(column.code(at: row))] }
        case .text:
            let column = try table.text(name)
            let part = test.part
            return { row in
                let whole = column[row].string
                let text = part.map { $0.of(whole) } ?? whole
                return combine(matchers.map { matches($0, text: text) }, all: all)
            }
        case .int64:
            let column = try table.int64(name)
            let isTime = name == "time"
            return { row in
                let value = column[row]
                return combine(matchers.map { matcher in
                    switch matcher {
                    case .isNull: return value == Int64.min
                    case let .exists(flag): return flag == (value != Int64.min)
                    case let .compare(op, bound): return value != Int64.min && op.holds(Double(value), bound)
                    case let .compareTime(op, bound): return value != Int64.min && op.holds(value, bound)
                    default:
                        guard value != Int64.min else { return false }
                        return matches(matcher, text: isTime ? TimeParser.format(value) : String(value))
                    }
                }, all: all)
            }
        case .float64:
            let column = try table.float64(name)
            return { row in
                let value = column[row]
                return combine(matchers.map { matcher in
                    switch matcher {
                    case .isNull: return value.isNaN
                    case let .exists(flag): return flag == !value.isNaN
                    case let .compare(op, bound): return !value.isNaN && op.holds(value, bound)
                    default:
                        guard !value.isNaN else { return false }
                        return matches(matcher, text: HitValue.format(value))
                    }
                }, all: all)
            }
        case .hash128:
            let column = try table.hash128(name)
            return { row in
                let value = column[row]
                return combine(matchers.map { matcher in
                    switch matcher {
                    case .isNull: return value.isNull
                    case let .exists(flag): return flag == !value.isNull
                    case let .hash(hash): return value == hash
                    default: return false
                    }
                }, all: all)
            }
        }
    }

    /// Fixed-bucket correlation: events of the referenced rules grouped by the group-by values and by
    /// `timespan` buckets aligned to the epoch (like KQL `bin()`).
    package static func correlate(_ rule: SigmaRule, _ correlation: SigmaCorrelation, context: HuntContext) throws -> [Hit] {
        var events: [Event] = []
        for (index, base) in correlation.rules.enumerated() {
            guard case let .detection(detection) = base.body else { continue }
            events += try self.events(detection, context: context, groupBy: correlation.groupBy, field: correlation.field,
                                      ruleIndex: index)
        }
        let width = correlation.timespanSeconds * 1_000_000_000
        struct Key: Hashable { var values: [String]; var bucket: Int64 }
        var groups: [Key: [Event]] = [:]
        for event in events where event.time != Int64.min {
            groups[Key(values: event.groupValues, bucket: EndpointAggregate.bucket(event.time, width)), default: []].append(event)
        }
        var hits: [Hit] = []
        for (key, members) in groups {
            let ordered = members.sorted { $0.time != $1.time ? $0.time < $1.time : $0.ruleIndex < $1.ruleIndex }
            var metrics: [String: HitValue] = [:]
            switch correlation.type {
            case .eventCount:
                let count = Int64(ordered.count)
                guard correlation.holds(count) else { continue }
                metrics["event_count"] = .int(count)
            case .valueCount:
                let count = Int64(Set(ordered.compactMap(\.fieldValue)).count)
                guard correlation.holds(count) else { continue }
                metrics["value_count"] = .int(count)
            case .temporal:
                guard Set(ordered.map(\.ruleIndex)).count == correlation.rules.count else { continue }
                metrics["rules"] = .strings(correlation.rules.map(\.info.id))
            case .temporalOrdered:
                var next = 0
                for event in ordered where next < correlation.rules.count && event.ruleIndex == next { next += 1 }
                guard next == correlation.rules.count else { continue }
                metrics["rules"] = .strings(correlation.rules.map(\.info.id))
            case .valueSum, .valueAvg, .valueMedian, .valuePercentile:
                // Events whose field is null or not a number take no part.
                let values = ordered.compactMap { $0.fieldValue.flatMap(Double.init) }.filter(\.isFinite)
                guard let value = correlation.aggregate(values), correlation.holds(value) else { continue }
                metrics[correlation.type.rawValue] = .double(value)
                metrics["values"] = .int(Int64(values.count))
            }
            guard let first = ordered.first, let last = ordered.last else { continue }
            var keyValues: [String: HitValue] = [:]
            for (index, name) in correlation.groupBy.enumerated() { keyValues[name] = .string(key.values[index]) }
            hits.append(Hit(rule: rule.info, window: HitWindow(bucket: key.bucket, width: width),
                            key: keyValues, metrics: metrics, evidence: .aggregate(first: first.ref, last: last.ref)))
        }
        return hits
    }
}

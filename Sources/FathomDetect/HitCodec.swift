import FathomStore
import Foundation
import FathomSupport

/// The texts a spool's hits share, each kept once in memory and named in a hit by its number:
/// rules (id, title, level, ATLAS ids, kind), lists of field names, and evidence paths and tar
/// members. They grow with rules, kinds and archives, not with hits.
package final class HitTables: @unchecked Sendable {
    package struct RuleEntry: Hashable, Sendable {
        var rule: String
        var title: String
        var level: String
        var atlas: [String]
        var kind: SourceKind
    }

    /// The tables as they are once every hit is encoded, for reading without a lock.
    package struct Frozen: Sendable {
        var rules: [RuleEntry]
        var nameLists: [[String]]
        var strings: [String]
    }

    /// Values numbered in the order they are first seen.
    private struct Numbering<Value: Hashable> {
        var values: [Value] = []
        var numbers: [Value: UInt32] = [:]

        mutating func number(_ value: Value) -> UInt32 {
            if let known = numbers[value] { return known }
            let number = UInt32(values.count)
            values.append(value)
            numbers[value] = number
            return number
        }
    }

    private let lock = NSLock()
    private var rules = Numbering<RuleEntry>()
    private var nameLists = Numbering<[String]>()
    private var strings = Numbering<String>()

    func rule(_ entry: RuleEntry) -> UInt32 { lock.withLock { rules.number(entry) } }

    func names(_ list: [String]) -> UInt32 { lock.withLock { nameLists.number(list) } }

    func string(_ text: String) -> UInt32 { lock.withLock { strings.number(text) } }

    func frozen() -> Frozen {
        lock.lock()
        defer { lock.unlock() }
        return Frozen(rules: rules.values, nameLists: nameLists.values, strings: strings.values)
    }
}

/// A ``Hit`` as bytes, for ``HitSpool``: the rule, field-name lists and evidence paths by their
/// number in ``HitTables``; `key`, `metrics` and `fields` as ``HitFields`` pack them. Decoding gives
/// back an equal hit.
///
/// ```
/// u32 rule · u8 flags (time, window, fields, archive, member, line, first, last)
/// [i64 time] [i64 window start, i64 window end]
/// u32 key names, u32 length, packed key · u32 metric names, u32 length, packed metrics
/// [u32 field names, u32 length, packed fields]
/// [u32 archive] [u32 member] [i64 line] [first: u32 archive, u32 member, i64 line, u8 timed, [i64 time]] [last: same]
/// ```
/// Integers are little-endian. The bytes are the process's own (never evidence on disk).
package enum HitCodec {
    private struct Flags: OptionSet {
        let rawValue: UInt8
        static let time = Flags(rawValue: 1 << 0)
        static let window = Flags(rawValue: 1 << 1)
        static let fields = Flags(rawValue: 1 << 2)
        static let archive = Flags(rawValue: 1 << 3)
        static let member = Flags(rawValue: 1 << 4)
        static let line = Flags(rawValue: 1 << 5)
        static let first = Flags(rawValue: 1 << 6)
        static let last = Flags(rawValue: 1 << 7)
    }

    /// Appends `hit` to `bytes`; returns its rule's number.
    @discardableResult
    package static func encode(_ hit: Hit, into bytes: inout [UInt8], tables: HitTables) -> UInt32 {
        let rule = tables.rule(HitTables.RuleEntry(rule: hit.rule, title: hit.title, level: hit.level, atlas: hit.atlas, kind: hit.kind))
        var flags: Flags = []
        if hit.time != nil { flags.insert(.time) }
        if hit.window != nil { flags.insert(.window) }
        if hit.fields != nil { flags.insert(.fields) }
        if hit.evidence.archive != nil { flags.insert(.archive) }
        if hit.evidence.member != nil { flags.insert(.member) }
        if hit.evidence.line != nil { flags.insert(.line) }
        if hit.evidence.first != nil { flags.insert(.first) }
        if hit.evidence.last != nil { flags.insert(.last) }
        put32(rule, &bytes)
        bytes.append(flags.rawValue)
        if let time = hit.time { put64(time.nanoseconds, &bytes) }
        if let window = hit.window {
            put64(window.start.nanoseconds, &bytes)
            put64(window.end.nanoseconds, &bytes)
        }
        func packed(_ fields: HitFields) {
            put32(tables.names(fields.names), &bytes)
            let values = fields.packedBytes
            put32(UInt32(values.count), &bytes)
            bytes.append(contentsOf: values)
        }
        packed(HitFields(hit.key))
        packed(HitFields(hit.metrics))
        if let fields = hit.fields { packed(fields) }
        if let archive = hit.evidence.archive { put32(tables.string(archive), &bytes) }
        if let member = hit.evidence.member { put32(tables.string(member), &bytes) }
        if let line = hit.evidence.line { put64(line, &bytes) }
        for ref in [hit.evidence.first, hit.evidence.last] {
            guard let ref else { continue }
            put32(tables.string(ref.archive), &bytes)
            put32(tables.string(ref.member), &bytes)
            put64(ref.line, &bytes)
            bytes.append(ref.time == nil ? 0 : 1)
            if let time = ref.time { put64(time.nanoseconds, &bytes) }
        }
        return rule
    }

    /// The hit encoded at `start` in `bytes`.
    package static func decode(_ bytes: [UInt8], from start: Int, tables: HitTables.Frozen) -> Hit {
        var position = start
        func u32() -> UInt32 {
            var value: UInt32 = 0
            for index in 0..<4 { value |= UInt32(bytes[position + index]) << (8 * UInt32(index)) }
            position += 4
            return value
        }
        func i64() -> Int64 {
            var value: UInt64 = 0
            for index in 0..<8 { value |= UInt64(bytes[position + index]) << (8 * UInt64(index)) }
            position += 8
            return Int64(bitPattern: value)
        }
        func packed() -> HitFields {
            let names = tables.nameLists[Int(u32())]
            let count = Int(u32())
            defer { position += count }
            return HitFields(sortedNames: names, packed: Array(bytes[position..<position + count]))
        }
        func string() -> String { tables.strings[Int(u32())] }
        let rule = tables.rules[Int(u32())]
        let flags = Flags(rawValue: bytes[position])
        position += 1
        let time = flags.contains(.time) ? Timestamp(nanoseconds: i64()) : nil
        var window: HitWindow?
        if flags.contains(.window) {
            let start = i64()
            window = HitWindow(start: start, end: i64())
        }
        let key = packed().dictionary
        let metrics = packed().dictionary
        let fields = flags.contains(.fields) ? packed() : nil
        var evidence = HitEvidence(archive: nil, member: nil, line: nil, first: nil, last: nil)
        if flags.contains(.archive) { evidence.archive = string() }
        if flags.contains(.member) { evidence.member = string() }
        if flags.contains(.line) { evidence.line = i64() }
        func ref() -> EvidenceRef {
            let archive = string()
            let member = string()
            let line = i64()
            let timed = bytes[position] != 0
            position += 1
            return EvidenceRef(archive: archive, member: member, line: line, time: timed ? Timestamp(nanoseconds: i64()) : nil)
        }
        if flags.contains(.first) { evidence.first = ref() }
        if flags.contains(.last) { evidence.last = ref() }
        return Hit(rule: RuleInfo(id: rule.rule, title: rule.title, level: rule.level, atlas: rule.atlas, kind: rule.kind, semantics: ""),
                   time: time, window: window, key: key, metrics: metrics, fields: fields, evidence: evidence)
    }

    private static func put32(_ value: UInt32, _ bytes: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    private static func put64(_ value: Int64, _ bytes: inout [UInt8]) {
        let bits = UInt64(bitPattern: value)
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
    }
}

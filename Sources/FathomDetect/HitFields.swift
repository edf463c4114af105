import FathomStore

/// The canonical fields of an event hit, packed: the names (in byte order, usually one array shared
/// by every hit of a kind) and the values in one byte buffer — a tag byte, then 8 bytes for a
/// number, or a length and the UTF-8 bytes of a text.
///
/// An event hit copies its row so that it can be written without the store; kept as a dictionary of
/// ``HitValue``s that copy cost a hash table and an allocation per text (about 3.4 KB a hit on LLM
/// rows, measured), which is what tens of thousands of prompt hits held until they are written
/// amount to. Packed, it is one allocation the size of the values. Reading a field decodes it;
/// ``dictionary`` decodes them all (for writing).
public struct HitFields: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral {
    /// The field names in byte order.
    public private(set) var names: [String]
    private var packed: [UInt8]

    private enum Tag: UInt8 {
        case null = 0, no, yes, int, double, string, strings
    }

    /// Packs `values` named `names` (any order; a repeated name keeps its last value).
    public init(names: [String], values: [HitValue]) {
        precondition(names.count == values.count)
        if zip(names, names.dropFirst()).allSatisfy({ $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            self.init(sorted: names, values: values)
        } else {
            self.init(Dictionary(zip(names, values), uniquingKeysWith: { _, last in last }))
        }
    }

    public init(_ dictionary: [String: HitValue]) {
        let sorted = dictionary.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        self.init(sorted: sorted, values: sorted.map { dictionary[$0] ?? .null })
    }

    private init(sorted names: [String], values: [HitValue]) {
        var packed: [UInt8] = []
        for value in values { Self.append(value, to: &packed) }
        self.names = names
        self.packed = packed
    }

    /// Fields packed value by value as they are read, texts straight from their bytes (no `String`
    /// or ``HitValue`` per field): how a hit copies its row.
    package struct Packer {
        fileprivate var packed: [UInt8] = []

        package init(capacity: Int) { packed.reserveCapacity(capacity) }

        package mutating func null() { packed.append(Tag.null.rawValue) }

        package mutating func int(_ number: Int64) {
            packed.append(Tag.int.rawValue)
            integer(UInt64(bitPattern: number))
        }

        package mutating func double(_ number: Double) {
            packed.append(Tag.double.rawValue)
            integer(number.bitPattern)
        }

        /// A text from its bytes, invalid UTF-8 repaired to U+FFFD as `String(decoding:as:)` does.
        package mutating func text(_ bytes: ByteView) {
            guard bytes.isValidUTF8 else { return string(bytes.string) }
            packed.append(Tag.string.rawValue)
            integer(UInt64(bytes.count))
            packed.append(bytes)
        }

        package mutating func string(_ text: String) {
            packed.append(Tag.string.rawValue)
            integer(UInt64(text.utf8.count))
            packed.append(contentsOf: text.utf8)
        }

        private mutating func integer(_ bits: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { packed.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        }
    }

    /// The fields named `names` (in byte order, each once) with the values `packer` holds, one per
    /// name in that order.
    package init(sortedNames names: [String], packer: Packer) {
        self.names = names
        packed = packer.packed
    }

    /// The fields named `names` (in byte order, each once) whose values are `packed` as this type
    /// packs them (``packedBytes`` of another value): how a spooled hit is read back.
    package init(sortedNames names: [String], packed: [UInt8]) {
        self.names = names
        self.packed = packed
    }

    /// The packed values, in ``names`` order.
    package var packedBytes: [UInt8] { packed }

    public init(dictionaryLiteral elements: (String, HitValue)...) {
        self.init(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }

    public var isEmpty: Bool { names.isEmpty }
    public var count: Int { names.count }

    /// The value of field `name`, or nil when the hit has no such field.
    public subscript(name: String) -> HitValue? {
        guard let index = names.firstIndex(of: name) else { return nil }
        var position = 0
        for _ in 0..<index { Self.skip(packed, at: &position) }
        return Self.read(packed, at: &position)
    }

    /// Calls `body` with every field in ``names`` order (byte order), decoded one at a time: what
    /// writing a hit needs, without the hash table of ``dictionary``.
    package func forEach(_ body: (String, HitValue) -> Void) {
        var position = 0
        for name in names { body(name, Self.read(packed, at: &position)) }
    }

    /// Every field, decoded.
    public var dictionary: [String: HitValue] {
        var result: [String: HitValue] = [:]
        result.reserveCapacity(names.count)
        var position = 0
        for name in names { result[name] = Self.read(packed, at: &position) }
        return result
    }

    /// Whether `test` holds for the UTF-8 of some text of a field (a `string` value, or one of a
    /// `strings` value), with the field's name; read where the text is packed, without decoding.
    package func anyText(where test: (String, ByteView) -> Bool) -> Bool {
        packed.withByteView { bytes in
            var position = 0
            func text(_ name: String) -> Bool {
                let length = Int(Self.integer(packed, at: &position))
                defer { position += length }
                return test(name, bytes[position..<position + length])
            }
            for name in names {
                let tag = Tag(rawValue: packed[position]) ?? .null
                switch tag {
                case .string:
                    position += 1
                    if text(name) { return true }
                case .strings:
                    position += 1
                    let count = Int(Self.integer(packed, at: &position))
                    for _ in 0..<count where text(name) { return true }
                default:
                    Self.skip(packed, at: &position)
                }
            }
            return false
        }
    }

    /// The fields with every value transformed.
    public func mapValues(_ transform: (HitValue) -> HitValue) -> HitFields {
        mapValuesWithNames { _, value in transform(value) }
    }

    /// The fields with every value transformed, knowing its field's name.
    public func mapValuesWithNames(_ transform: (String, HitValue) -> HitValue) -> HitFields {
        var copy = self
        copy.packed = []
        copy.packed.reserveCapacity(packed.count)
        var position = 0
        for name in names { Self.append(transform(name, Self.read(packed, at: &position)), to: &copy.packed) }
        return copy
    }

    public init(from decoder: any Decoder) throws {
        self.init(try [String: HitValue](from: decoder))
    }

    public func encode(to encoder: any Encoder) throws {
        try dictionary.encode(to: encoder)
    }

    // MARK: Packing

    private static func append(_ value: HitValue, to packed: inout [UInt8]) {
        func integer(_ bits: UInt64) {
            for shift in stride(from: 0, to: 64, by: 8) { packed.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        }
        func text(_ string: String) {
            let bytes = string.utf8
            integer(UInt64(bytes.count))
            packed.append(contentsOf: bytes)
        }
        switch value {
        case .null: packed.append(Tag.null.rawValue)
        case .bool(let flag): packed.append(flag ? Tag.yes.rawValue : Tag.no.rawValue)
        case .int(let number):
            packed.append(Tag.int.rawValue)
            integer(UInt64(bitPattern: number))
        case .double(let number):
            packed.append(Tag.double.rawValue)
            integer(number.bitPattern)
        case .string(let string):
            packed.append(Tag.string.rawValue)
            text(string)
        case .strings(let strings):
            packed.append(Tag.strings.rawValue)
            integer(UInt64(strings.count))
            for string in strings { text(string) }
        }
    }

    private static func integer(_ packed: [UInt8], at position: inout Int) -> UInt64 {
        var value: UInt64 = 0
        for index in 0..<8 { value |= UInt64(packed[position + index]) << (8 * UInt64(index)) }
        position += 8
        return value
    }

    private static func text(_ packed: [UInt8], at position: inout Int) -> String {
        let length = Int(integer(packed, at: &position))
        defer { position += length }
        return String(decoding: packed[position..<position + length], as: UTF8.self)
    }

    private static func read(_ packed: [UInt8], at position: inout Int) -> HitValue {
        let tag = Tag(rawValue: packed[position]) ?? .null
        position += 1
        switch tag {
        case .null: return .null
        case .no: return .bool(false)
        case .yes: return .bool(true)
        case .int: return .int(Int64(bitPattern: integer(packed, at: &position)))
        case .double: return .double(Double(bitPattern: integer(packed, at: &position)))
        case .string: return .string(text(packed, at: &position))
        case .strings:
            let count = Int(integer(packed, at: &position))
            return .strings((0..<count).map { _ in text(packed, at: &position) })
        }
    }

    private static func skip(_ packed: [UInt8], at position: inout Int) {
        let tag = Tag(rawValue: packed[position]) ?? .null
        position += 1
        switch tag {
        case .null, .no, .yes: break
        case .int, .double: position += 8
        case .string: position += Int(integer(packed, at: &position))
        case .strings:
            let count = Int(integer(packed, at: &position))
            for _ in 0..<count { position += Int(integer(packed, at: &position)) }
        }
    }
}

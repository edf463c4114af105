import FathomStore
import FuzzSupport

// Fuzz target: the JSON tape parser (`JSONParser`, `JSONValue`) and `JSONPathSet`.
//
// Input: one JSON record, raw (no header).
//
// Checked: no crash, no memory error (the record is in a heap buffer of exactly its size); every
// accessor of every value of an accepted document (kinds, raw bytes, members, elements, decoded
// strings, numbers, lookups by key and path); a reused parser gives the same tape; a document
// accepted at depth limit 4 is accepted at 512 with the same raw bytes; `JSONPathSet` finds the
// same values as `value(atPath:)` (its documented contract).
nonisolated(unsafe) let parser = JSONParser()
nonisolated(unsafe) let shallowParser = JSONParser(maxDepth: 4)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSONTape(_ data: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let input = FuzzInput(data, count, headerCount: 0)
    withExactView(input.body) { view in
        guard let document = try? parser.parse(view) else {
            if let shallow = try? shallowParser.parse(view) {
                fuzzFailure("accepted at depth 4 but rejected at 512: \(shallow.root.kind)")
            }
            return
        }
        var first = Digest()
        var paths: [[String]] = [[]]
        walk(document.root, depth: 0, path: [], into: &first, paths: &paths)
        checkPathSet(document.root, paths: paths)
        if let shallow = try? shallowParser.parse(view), !(shallow.root.rawBytes == document.root.rawBytes) {
            fuzzFailure("depth-4 parse has other raw bytes than the depth-512 parse")
        }
        // The parser is reused while `document` still holds the first tape: a fresh tape is made.
        guard let again = try? parser.parse(view) else { fuzzFailure("second parse of the same bytes failed") }
        var second = Digest()
        var ignored: [[String]] = []
        walk(again.root, depth: 0, path: [], into: &second, paths: &ignored)
        var firstAgain = Digest()
        walk(document.root, depth: 0, path: [], into: &firstAgain, paths: &ignored)
        if first != second || first != firstAgain {
            fuzzFailure("reparse gave another tape: \(first) / \(second) / \(firstAgain)")
        }
    }
    return 0
}

/// Visits every value with every accessor, recording what it sees.
private func walk(_ value: JSONValue, depth: Int, path: [String], into digest: inout Digest, paths: inout [[String]]) {
    digest.add(Int64(value.kind.rawValue))
    digest.add(value.rawBytes)
    _ = value.isNull
    switch value.kind {
    case .object:
        let members = value.members
        if members.count != value.count { fuzzFailure("members \(members.count) but count \(value.count)") }
        var visited = 0
        value.forEachMember { key, member in
            visited += 1
            digest.add(key.rawBytes)
            _ = key.string
            if paths.count < 64, let name = key.string { paths.append(path + [name]) }
            walk(member, depth: depth + 1, path: (key.string.map { path + [$0] }) ?? path, into: &digest, paths: &paths)
        }
        if visited != members.count { fuzzFailure("forEachMember visited \(visited) of \(members.count)") }
        var validKeys: [Bool] = []
        value.forEachMember { key, _ in validKeys.append(key.withDecodedString { $0.validatedString != nil } ?? false) }
        for ((key, member), valid) in zip(members, validKeys).prefix(8) where valid {
            // (A key that is not UTF-8 once decoded is repaired by `string` and cannot be looked up.)
            guard let found = value[key] else { fuzzFailure("member '\(key)' not found by subscript") }
            // The first member with that key wins, so `found` may be an earlier duplicate.
            if found.kind != member.kind, members.filter({ $0.key == key }).count == 1 {
                fuzzFailure("member '\(key)' found with another kind")
            }
            _ = value.value(atPath: [key, key])
        }
        _ = value["missing-key-\(depth)"]
        _ = value[""]
    case .array:
        let elements = value.elements
        if elements.count != value.count { fuzzFailure("elements \(elements.count) but count \(value.count)") }
        for element in elements {
            walk(element, depth: depth + 1, path: path, into: &digest, paths: &paths)
        }
        _ = value.value(atPath: ["0"])
    case .string:
        guard let raw = value.rawStringContent else { fuzzFailure("string without raw content") }
        let decoded = value.withDecodedString { $0.array } ?? []
        if decoded.count > raw.count { fuzzFailure("decoded string longer (\(decoded.count)) than its raw form (\(raw.count))") }
        digest.add(decoded)
        // A nested lend while the first holds the scratch buffer.
        _ = value.withDecodedString { outer in value.withDecodedString { inner in outer == inner } }
        _ = value.string
        _ = value.int64
        _ = value.double
    case .number:
        if let number = value.int64 { digest.add(number) }
        if let double = value.double { digest.add(Int64(truncatingIfNeeded: double.bitPattern)) }
        _ = value.string
    case .bool:
        if value.bool == nil { fuzzFailure("bool without a value") }
    case .null:
        if !value.isNull { fuzzFailure("null kind but not isNull") }
    }
}

/// `JSONPathSet` must answer what `value(atPath:)` answers.
private func checkPathSet(_ root: JSONValue, paths: [[String]]) {
    let all = paths + [["missing"], ["a", "b"], [""]]
    let set = JSONPathSet(all)
    set.find(in: root)
    for (index, path) in all.enumerated() {
        let viaSet = set.value(index, in: root)
        let viaPath = root.value(atPath: path)
        switch (viaSet, viaPath) {
        case (nil, nil):
            continue
        case let (a?, b?):
            if a.kind != b.kind || !(a.rawBytes == b.rawBytes) {
                fuzzFailure("JSONPathSet and value(atPath:) disagree on \(path)")
            }
        default:
            fuzzFailure("JSONPathSet found \(viaSet == nil ? "nothing" : "a value"), value(atPath:) \(viaPath == nil ? "nothing" : "a value") for \(path)")
        }
    }
}

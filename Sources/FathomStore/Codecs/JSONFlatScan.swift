extension JSONParser {
    /// Parses a *flat* record — an object whose member values are all strings, numbers, booleans
    /// or nulls, as most JSON Lines logs are — keeping on the tape only what `paths` (one-key
    /// paths, ``JSONPathSet/isFlat``) name, found in the same pass: the record is validated as
    /// ``parse(_:)`` validates it, but no tape entry is written for the keys and the other values,
    /// and no second pass over the members looks the keys up.
    ///
    /// After it returns a document, ``JSONPathSet/value(_:in:)`` with its root gives what it gives
    /// after ``parse(_:)`` and ``JSONPathSet/find(in:)``. The root shows no members of its own
    /// (`count` 0, no member lookups): only the paths' values are on the tape.
    ///
    /// Returns nil — and the caller parses the record whole, which reports its error if it has
    /// one — when the record is not an object, a member value is an array or an object, a key
    /// holds an escape, or the record is not valid JSON.
    ///
    /// - Complexity: O(n) in the record length, one hash lookup per member.
    public func parseFlat(_ bytes: ByteView, paths: JSONPathSet) -> JSONDocument? {
        guard paths.isFlat, bytes.count < Int(UInt32.max), let raw = bytes.base else { return nil }
        if !isKnownUniquelyReferenced(&tape) {
            tape = JSONTape()
        } else {
            tape.shrinkIfLarge()
        }
        tape.bytes = bytes
        tape.count = 0
        guard scanFlat(raw.assumingMemoryBound(to: UInt8.self), bytes.count, paths) else { return nil }
        return JSONDocument(tape: tape)
    }

    private func scanFlat(_ p: UnsafePointer<UInt8>, _ n: Int, _ paths: JSONPathSet) -> Bool {
        var tape = TapeWriter(entries: self.tape.entries, capacity: self.tape.capacity)
        defer {
            self.tape.entries = tape.entries
            self.tape.capacity = tape.capacity
            self.tape.count = tape.count
        }
        paths.resetFound()
        var i = Self.skipWhitespace(p, n, 0)
        guard i < n, p[i] == 0x7B else { return false }
        // The root: its `next` stays 1, so the values after it are not read as its members.
        tape.append(i, i + 1, TapeEntry.tagObject)
        i = Self.skipWhitespace(p, n, i + 1)
        if i < n, p[i] == 0x7D {
            i += 1
        } else {
            while true {
                // "key" :
                guard i < n, p[i] == 0x22, let key = try? Self.scanString(p, n, i), !key.escaped else { return false }
                let head = paths.unfoundHead(ByteView(unsafeStart: p + i + 1, count: key.end - i - 1))
                var j = key.end + 1
                if j < n, p[j] == 0x3A {
                    j += 1
                } else {
                    j = Self.skipWhitespace(p, n, j)
                    guard j < n, p[j] == 0x3A else { return false }
                    j += 1
                }
                i = Self.skipWhitespace(p, n, j)
                guard i < n else { return false }
                // A scalar value.
                let start: Int
                let end: Int
                let info: UInt32
                switch p[i] {
                case 0x22:
                    guard let string = try? Self.scanString(p, n, i) else { return false }
                    start = i + 1
                    end = string.end
                    info = TapeEntry.tagString | (string.escaped ? TapeEntry.hasEscape : 0)
                    i = string.end + 1
                case 0x2D, 0x30...0x39:
                    guard let number = try? Self.scanNumber(p, n, i) else { return false }
                    start = i
                    end = number.end
                    info = TapeEntry.tagNumber | (number.isInteger ? TapeEntry.isInteger : 0)
                    i = number.end
                case 0x74:  // true
                    guard i + 4 <= n, p[i + 1] == 0x72, p[i + 2] == 0x75, p[i + 3] == 0x65 else { return false }
                    (start, end, info) = (i, i + 4, TapeEntry.tagTrue)
                    i += 4
                case 0x66:  // false
                    guard i + 5 <= n, p[i + 1] == 0x61, p[i + 2] == 0x6C, p[i + 3] == 0x73, p[i + 4] == 0x65 else { return false }
                    (start, end, info) = (i, i + 5, TapeEntry.tagFalse)
                    i += 5
                case 0x6E:  // null
                    guard i + 4 <= n, p[i + 1] == 0x75, p[i + 2] == 0x6C, p[i + 3] == 0x6C else { return false }
                    (start, end, info) = (i, i + 4, TapeEntry.tagNull)
                    i += 4
                default:  // an array, an object, or not JSON
                    return false
                }
                if head >= 0 {
                    paths.setFound(head, at: tape.count)
                    tape.append(start, end, info)
                }
                // , or }
                i = Self.skipWhitespace(p, n, i)
                guard i < n else { return false }
                if p[i] == 0x2C {
                    i = Self.skipWhitespace(p, n, i + 1)
                    continue
                }
                guard p[i] == 0x7D else { return false }
                i += 1
                break
            }
        }
        guard Self.skipWhitespace(p, n, i) == n else { return false }
        tape.entries[0].end = UInt32(truncatingIfNeeded: i)
        return true
    }
}

import Testing
import FathomStore

/// ``ByteView``'s reads: every index in range reads its byte, every other index reads 0, and a view
/// has a count only when it has bytes (the subscript reads below the count without testing the
/// base, so a count without a base would read through a null pointer).
@Suite struct ByteViewTests {
    @Test func aViewWithoutBytesHasNoCount() {
        for count in [-3, 0, 1, 5, 1 << 20] {
            let view = ByteView(unsafeStart: nil, count: count)
            #expect(view.count == 0)
            #expect(view.isEmpty)
            #expect(view[0] == 0 && view[count] == 0 && view[-1] == 0)
            #expect(view[0..<max(count, 0)].count == 0)
        }
    }

    @Test func indicesInRangeReadTheirBytesAndOthersReadZero() {
        var generator = SplitMix(seed: 20_261_206)
        for _ in 0..<200 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in UInt8.random(in: 1...255, using: &generator) }
            withView(bytes) { view in
                #expect(view.count == bytes.count)
                for index in -2..<(bytes.count + 2) {
                    #expect(view[index] == (bytes.indices.contains(index) ? bytes[index] : 0))
                }
                // A slice reads its own bytes from 0, and nothing past its end.
                let lower = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &generator)
                let slice = view[lower..<bytes.count]
                for index in 0..<(slice.count + 1) {
                    #expect(slice[index] == (lower + index < bytes.count ? bytes[lower + index] : 0))
                }
            }
        }
    }
}

@testable import FathomStore
import Testing

/// The segment builder's growable runs against an `Array` doing the same operations.
@Suite struct ColumnVectorTests {
    @Test func behavesAsAnArray() {
        var rng = SeededGenerator(seed: 34)
        var vector = ColumnVector<UInt32>()
        defer { vector.free() }
        var model: [UInt32] = []
        for _ in 0..<20_000 {
            switch Int.random(in: 0..<10, using: &rng) {
            case 0 where !model.isEmpty:
                let k = Int.random(in: 0...min(5, model.count), using: &rng)
                vector.removeLast(k)
                model.removeLast(k)
            case 1 where !model.isEmpty:
                let index = Int.random(in: 0..<model.count, using: &rng)
                let value = UInt32.random(in: 0...UInt32.max, using: &rng)
                vector[index] = value
                model[index] = value
            case 2 where Int.random(in: 0..<50, using: &rng) == 0:
                vector.removeAll()
                model.removeAll()
            default:
                let value = UInt32.random(in: 0...UInt32.max, using: &rng)
                vector.append(value)
                model.append(value)
            }
            #expect(vector.count == model.count)
        }
        #expect(vector.withUnsafeBufferPointer { Array($0) } == model)
        #expect(vector.withUnsafeBytes { Array($0) } == model.withUnsafeBytes { Array($0) })
        #expect(model.indices.allSatisfy { vector[$0] == model[$0] })
    }

    @Test func emptyAndFreed() {
        var vector = ColumnVector<Int64>()
        #expect(vector.count == 0)
        #expect(vector.withUnsafeBytes { $0.count } == 0)
        for value in 0..<3_000 { vector.append(Int64(value)) }
        #expect(vector[2_999] == 2_999)
        vector.free()
        #expect(vector.count == 0)
        vector.append(7)  // usable again after free
        #expect(vector[0] == 7)
        vector.free()
    }
}

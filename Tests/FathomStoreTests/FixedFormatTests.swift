import Foundation
import Testing
@testable import FathomStore

/// `TextCodecs.fixed` writes what `String(format: "%.Nf")` writes: on ties at every digit count
/// (the double's exact value decides, as in C), random doubles of every magnitude, signed zeros,
/// and the values it hands to Foundation (non-finite, huge, more than nine digits).
struct FixedFormatTests {
    @Test func fixedIsTheFormatOfFoundation() {
        var generator = SeededGenerator(seed: 2)
        var values: [Double] = [0, -0.0, 0.5, 1.5, 2.5, -2.5, 0.125, 0.375, 0.005, 0.015, 0.025, 1.005, 2.675, 9.995,
                                99.995, 1e-300, -1e-300, 1e20, -1e30, 9.99e39, 1e40, 1e300, .infinity, -.infinity, .nan,
                                Double.leastNonzeroMagnitude, Double.greatestFiniteMagnitude, 0.1 + 0.2]
        for _ in 0..<3_000 {
            let magnitude = Double(Int.random(in: -12...42, using: &generator))
            values.append(Double.random(in: -1...1, using: &generator) * pow(10, magnitude))
            // Halves at the last digit kept: k / 2·10^d, the ties C rounds by the exact binary value.
            let digits = Int.random(in: 0...4, using: &generator)
            values.append(Double(Int.random(in: -100_000...100_000, using: &generator)) / (2 * pow(10, Double(digits))))
        }
        var checked = 0
        for value in values {
            for digits in [0, 1, 2, 3, 4, 6, 9, 10] {
                #expect(TextCodecs.fixed(value, digits: digits) == String(format: "%.\(digits)f", value), "\(value) \(digits)")
                checked += 1
            }
        }
        #expect(checked > 40_000)
    }
}

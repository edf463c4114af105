import Foundation
import FathomStore

/// Wall-clock time for catalog bookkeeping only. Reports never read it: they take an injected time.
package enum Clock {
    package static let nanosecondsPerDay: Int64 = 86_400_000_000_000

    package static func nowNanoseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1_000_000_000).rounded())
    }

    package static func monotonicSeconds() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds) / 1_000_000_000
    }
}

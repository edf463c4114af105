// Stand-ins for the two FathomStore/FathomDetect types InjectionModel.swift names besides ByteView,
// so the benchmark compiles it alone. The benchmark times scoring only, never these.
import Foundation

public enum DetectError: Error { case model(detail: String) }

struct SHA256Stream {
    private var count = 0
    mutating func update(_ bytes: [UInt8]) { count += bytes.count }
    func finalize() -> String { "not computed in the benchmark (\(count) bytes)" }
}

import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomIntegrity
import FathomDetect
import FathomAnalysis
import FathomReports
import FathomSimulator

/// Fixture locations and temporary directories for Core tests.
enum Fixtures {
    static var root: URL {
        Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    }

    static func path(_ relative: String) -> String { root.appendingPathComponent(relative).path }
}

/// A temporary directory removed when the value is released.
final class TemporaryDirectory: @unchecked Sendable {
    let url: URL
    var path: String { url.path }

    init(_ name: String = "fathom-core") throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    deinit { try? FileManager.default.removeItem(at: url) }

    func path(_ relative: String) -> String { url.appendingPathComponent(relative).path }

    @discardableResult
    func write(_ relative: String, _ text: String) throws -> String {
        try write(relative, Data(text.utf8))
    }

    @discardableResult
    func write(_ relative: String, _ text: String, modified: Date?) throws -> String {
        try write(relative, Data(text.utf8), modified: modified)
    }

    @discardableResult
    func write(_ relative: String, _ data: Data, modified: Date? = nil) throws -> String {
        let target = url.appendingPathComponent(relative)
        try FileManager.default.createDirectory(at: target.deletingLastPathComponent(), withIntermediateDirectories: true)
        try data.write(to: target)
        if let modified {
            try FileManager.default.setAttributes([.modificationDate: modified], ofItemAtPath: target.path)
        }
        return target.path
    }

    func remove(_ relative: String) throws { try FileManager.default.removeItem(atPath: path(relative)) }
}

/// Times written as literals in tests; a literal that is not an RFC 3339 time stops the test run.
extension Timestamp: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) {
        guard let time = Timestamp(rfc3339: value) else { fatalError("not an RFC 3339 time: \(value)") }
        self = time
    }
}

import Foundation

enum SimulatorTestError: Error { case tool(String), missing(String) }

/// Reading a simulated scenario's archives the way a test checks them independently of Fathom:
/// through the `zstd` and `gzip` tools and Foundation's JSON parser.
enum ScenarioText {
    /// Runs an external tool and returns its standard output.
    static func runTool(_ tool: String, _ arguments: [String]) throws -> Data {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw SimulatorTestError.tool("\(tool) \(arguments.joined(separator: " ")) exited \(process.terminationStatus)")
        }
        return data
    }


    /// The decompressed text of an archive, by its extension (the test knows what it wrote).
    static func decompressed(_ path: String) throws -> String {
        let data: Data
        if path.hasSuffix(".zst") { data = try runTool("zstd", ["-dc", "-q", path]) }
        else if path.hasSuffix(".gz") { data = try runTool("gzip", ["-dc", path]) }
        else { data = try Data(contentsOf: URL(fileURLWithPath: path)) }
        return String(decoding: data, as: UTF8.self)
    }

    static func lines(_ path: String) throws -> [Substring] {
        try decompressed(path).split(separator: "\n", omittingEmptySubsequences: true)
    }

    static func files(in directory: String, prefix: String) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: directory).filter { $0.hasPrefix(prefix) }.sorted()
            .map { "\(directory)/\($0)" }
    }

    static func json(_ text: some StringProtocol) throws -> [String: Any] {
        guard let object = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
            throw SimulatorTestError.missing("not a JSON object")
        }
        return object
    }

    /// The start of the UTC hour of an RFC 3339 UTC time, as `2026-03-02T10:00:00Z`.
    static func hourOf(rfc3339 text: String) -> String { String(text.prefix(13)) + ":00:00Z" }

    /// The start of the UTC hour of `02/Mar/2026:10:00:00 +0000`, as `2026-03-02T10:00:00Z`.
    static func hourOf(commonLog text: String) -> String {
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        let parts = text.split(whereSeparator: { $0 == "/" || $0 == ":" || $0 == " " })
        let month = (months.firstIndex(of: String(parts[1])) ?? 0) + 1
        return "\(parts[2])-\(month < 10 ? "0" : "")\(month)-\(parts[0])T\(parts[3]):00:00Z"
    }

    /// Whole seconds of an RFC 3339 UTC time (any fraction), for ordering comparisons.
    static func secondsKey(_ text: String) -> String { String(text.prefix(19)) }

    /// Splits an access-log line into fields: `[...]` and `"..."` are single fields.
    static func logFields(_ line: Substring) -> [String] {
        var fields: [String] = []
        var current = ""
        var closing: Character? = nil
        for character in line {
            if let end = closing {
                if character == end { closing = nil; fields.append(current); current = "" } else { current.append(character) }
            } else if character == " " {
                if !current.isEmpty { fields.append(current); current = "" }
            } else if current.isEmpty && (character == "\"" || character == "[") {
                closing = character == "\"" ? "\"" : "]"
            } else {
                current.append(character)
            }
        }
        if !current.isEmpty { fields.append(current) }
        return fields
    }
}

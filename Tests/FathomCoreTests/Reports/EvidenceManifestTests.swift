@testable import FathomCore
import Foundation
import Testing
import FathomStore
import FathomSupport
import FathomAnalysis
import FathomReports

/// evidence.md: every input hashed, chain of custody, the combined-hash recipe, and coverage gaps
/// judged against each source's own cadence.
@Suite struct EvidenceManifestTests {
    static let hour: Int64 = 3_600_000_000_000
    /// 2026-02-16T00:00:00Z (a Monday), in nanoseconds.
    static let start: Int64 = 1_771_200_000 * 1_000_000_000

    /// A nightly pipeline: 02:00–03:59 and weekday office hours 08:00–17:59, quiet otherwise, for 17 days.
    static func nightly(skipping skipped: Set<Int64> = []) -> [Int64: Int64] {
        var hours: [Int64: Int64] = [:]
        for day in 0..<17 {
            let weekday = (day + 1) % 7   // 0 = Sunday; day 0 is a Monday
            for hourOfDay in 0..<24 {
                let isNight = hourOfDay == 2 || hourOfDay == 3
                let isOffice = (8...17).contains(hourOfDay) && weekday != 0 && weekday != 6
                guard isNight || isOffice else { continue }
                let at = start + Int64(day * 24 + hourOfDay) * hour
                if !skipped.contains(at) { hours[at] = 3 }
            }
        }
        return hours
    }

    @Test func nightlyQuietIsNotAGap() {
        let judged = CoverageAnalysis.gaps(hours: Self.nightly())
        #expect(judged.gaps.isEmpty)
        #expect(judged.normalQuietStretches > 17)
        #expect(judged.cadence.contains("02:00–03:59"))
    }

    @Test func aMissingWorkdayIsAGap() throws {
        // Wednesday of the second week, 08:00–17:59, lost.
        let wednesday = Self.start + Int64(9 * 24) * Self.hour
        let lost = Set((8...17).map { wednesday + Int64($0) * Self.hour })
        let judged = CoverageAnalysis.gaps(hours: Self.nightly(skipping: lost))
        let gap = try #require(judged.gaps.first)
        #expect(judged.gaps.count == 1)
        #expect(gap.start.rfc3339 == "2026-02-25T04:00:00Z")
        #expect(gap.normallyActiveHours == 10)
        #expect((gap.chance ?? 1) < 0.001)
    }

    @Test func oneEmptyHourOfABusySourceIsAGapAndAnEventSourceHasNone() throws {
        var busy: [Int64: Int64] = [:]
        for index in 0..<72 where index != 30 { busy[Self.start + Int64(index) * Self.hour] = 400 }
        let judged = CoverageAnalysis.gaps(hours: busy)
        #expect(judged.gaps.map { $0.start.rfc3339 } == ["2026-02-17T06:00:00Z"])
        #expect(judged.cadence.hasPrefix("active around the clock"))
        // A registry: a few events a month.
        var events: [Int64: Int64] = [:]
        for index in stride(from: 0, to: 24 * 90, by: 24 * 11 + 5) { events[Self.start + Int64(index) * Self.hour] = 1 }
        let sparse = CoverageAnalysis.gaps(hours: events)
        #expect(sparse.gaps.isEmpty)
        #expect(sparse.cadence.contains("event-driven"))
    }

    /// The combined inputs hash is what `sha256sum FILES | cut -c1-64 | LC_ALL=C sort | sha256sum`
    /// prints (recomputed here by the system's sha256sum, independently of Fathom).
    @Test func inputsHashRecipeIsRecomputableWithSha256sum() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("inputs-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var archives: [InputArchive] = []
        var supporting: [SupportingInput] = []
        var paths: [String] = []
        for (index, text) in ["b log\n", "a log\n", "same\n", "same\n", "case: x\n"].enumerated() {
            let path = directory.appendingPathComponent("f\(index)").path
            try text.write(toFile: path, atomically: true, encoding: .utf8)
            paths.append(path)
            let sha = try ParallelHasher.hashFile(at: path).get().sha256
            if index < 4 {
                archives.append(InputArchive(path: path, size: 1, sha256: sha, compression: "", container: "", formats: [], kinds: [],
                                             rows: 0, rejected: 0, members: [], rejectReasons: [:], rejectSamples: []))
            } else {
                supporting.append(SupportingInput(path: path, role: "case-file", size: 1, sha256: sha))
            }
        }
        let shell = Process()
        shell.executableURL = URL(fileURLWithPath: "/bin/sh")
        shell.arguments = ["-c", "sha256sum \"$@\" | cut -c1-64 | LC_ALL=C sort | sha256sum | cut -c1-64", "sh"] + paths
        let pipe = Pipe()
        shell.standardOutput = pipe
        try shell.run()
        shell.waitUntilExit()
        let expected = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(expected.count == 64)
        #expect(InputSummary.inputsHash(archives, supporting: supporting) == expected)
        #expect(InputSummary.inputsHash(archives) != expected, "the case file is part of the combined hash")
    }

    /// The case file is hashed from the bytes parsed.
    @Test func caseFileIsHashedAsRead() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("case-\(UUID().uuidString).yaml").path
        try "id: IR-1\n".write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let file = try CaseFile.load(path: path)
        #expect(file.originSHA256 == (try ParallelHasher.hashFile(at: path).get().sha256))
        #expect(file.originSize == 9)
    }

    /// evidence.md lists the case file and inventories with their hashes, the chain of custody
    /// (placeholders for what is missing), the build and the recipe.
    @Test func manifestListsEveryInputCustodyAndRecipe() throws {
        var result = ReportSample.rich()
        result.supportingInputs = [SupportingInput(path: "SampleData/fathom-case.yaml", role: "case-file", size: 12, sha256: String(repeating: "ab", count: 32)),
                                   SupportingInput(path: "SampleData/sbom/a.cdx.json", role: "inventory", size: 34, sha256: String(repeating: "cd", count: 32))]
        result.caseInfo.custody = CustodyFacts(collector: "SOC on-call", acquiredAt: "2026-03-04T11:00:00Z")
        result.provenance.buildCommit = "0123456789abcdef0123456789abcdef01234567"
        let options = ReportOptions(now: "2026-03-04T12:00:00Z", verifyArchives: false)
        let evidence = try #require(try ReportWriter.render(result: result, hits: nil, options: options)["evidence.md"])
        #expect(evidence.contains("| SampleData/fathom-case.yaml | case file | 12 B | `" + String(repeating: "ab", count: 32) + "` |"))
        #expect(evidence.contains("| SampleData/sbom/a.cdx.json | inventory | 34 B |"))
        #expect(evidence.contains("| Collected by | SOC on-call | case file |"))
        #expect(evidence.contains("| Acquired at (UTC) | 2026-03-04T11:00:00Z | case file |"))
        #expect(evidence.contains("[TO BE COMPLETED: who examined the evidence (case file custody.examiner)]"))
        #expect(evidence.contains("build commit `0123456789abcdef0123456789abcdef01234567`"))
        #expect(evidence.contains("| cut -c1-64 | LC_ALL=C sort | sha256sum"))
        #expect(evidence.contains("SampleData/fathom-case.yaml SampleData/sbom/a.cdx.json"))
        // A missing custody fact blocks --final.
        var final = options
        final.isFinal = true
        var complete = ReportSample.complete()
        complete.caseInfo.custody = nil
        let outcome = Result { () throws(ReportError) -> [String: String] in try ReportWriter.render(result: complete, hits: nil, options: final) }
        guard case let .failure(error) = outcome, case let .notFinal(missing) = error else {
            Issue.record("expected a refusal")
            return
        }
        #expect(missing.contains { $0.contains("who collected the evidence") && $0.contains("evidence.md") })
    }
}

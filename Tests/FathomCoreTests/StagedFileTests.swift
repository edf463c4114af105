import FathomStore
import FathomAnalysis
import Foundation
import Testing

/// `affected_decisions.csv` is written on a thread of its own while the analysis goes on: moving it
/// into the report folder waits for it, and a failure of the writer reaches the caller.
struct StagedFileTests {
    private struct WriterFailed: Error {}

    @Test func moveWaitsForTheWriter() throws {
        let directory = try TemporaryDirectory()
        let spill = SpillDirectory(root: directory.path("tmp"))
        let staged = StagedFile(folder: spill, path: try spill.path(of: "affected_decisions.csv"))
        let path = staged.path
        let started = DispatchSemaphore(value: 0)
        staged.write {
            started.signal()
            // Still writing when the move is asked for: the move must wait, not find no file.
            Thread.sleep(forTimeInterval: 0.2)
            try Data("request_id\nr-1\n".utf8).write(to: URL(fileURLWithPath: path))
        }
        started.wait()
        let destination = directory.path("affected_decisions.csv")
        try staged.move(to: destination)
        #expect(try String(contentsOfFile: destination, encoding: .utf8) == "request_id\nr-1\n")
        #expect(!FileManager.default.fileExists(atPath: path))
    }

    @Test func theWritersErrorReachesTheMove() throws {
        let directory = try TemporaryDirectory()
        let spill = SpillDirectory(root: directory.path("tmp"))
        let staged = StagedFile(folder: spill, path: try spill.path(of: "affected_decisions.csv"))
        staged.write { throw WriterFailed() }
        #expect(throws: WriterFailed.self) { try staged.move(to: directory.path("affected_decisions.csv")) }
        #expect(!FileManager.default.fileExists(atPath: directory.path("affected_decisions.csv")))
    }
}

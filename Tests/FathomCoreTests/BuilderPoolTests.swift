import FathomStore
import Foundation
import Testing
import FathomSupport
import FathomIngest

/// Segment builders passed from one archive's row writer to the next (``BuilderPool``): a reused
/// builder writes the very bytes a new one writes, and the pool holds only the most recent few.
@Suite struct BuilderPoolTests {
    /// Fills `builder` with `count` inference rows whose addresses and keys start at `first`.
    static func fill(_ builder: SegmentBuilder, first: Int, count: Int) {
        let schema = SourceKind.inference.schema
        let ip = schema.index(of: "src_ip")!
        let principal = schema.index(of: "principal")!
        let path = schema.index(of: "path")!
        let requestID = schema.index(of: "request_id")!
        let status = schema.index(of: "status")!
        for row in first..<(first + count) {
            builder.setInt64(Int64(row) * 1_000_000_000, at: 0)
            builder.setString("10.\(row >> 16 & 255).\(row >> 8 & 255).\(row & 255)", at: ip)
            builder.setString("key-\(row % 977)", at: principal)
            builder.setString(row % 3 == 0 ? "/v1/predict" : "/health", at: path)
            builder.setString("req-\(row)", at: requestID)
            builder.setInt64(Int64(200 + row % 5), at: status)
            builder.endRow()
        }
    }

    static func bytes(_ path: String) throws -> Data { try Data(contentsOf: URL(fileURLWithPath: path)) }

    /// A builder that held a segment of 70,000 distinct addresses (its dictionary table grown past
    /// 2^17 slots, which a reset keeps) and was given back and taken again writes the next segment
    /// byte for byte as a new builder does, and counts the same size towards the segment's end.
    @Test func aReusedBuilderWritesWhatANewOneWrites() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pool-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }

        let pool = BuilderPool(limit: 2)
        let used = pool.take(.inference)
        Self.fill(used, first: 1_000_000, count: 70_000)
        _ = try used.write(to: directory + "/first.seg", archiveID: 1)
        pool.give([used])
        let reused = pool.take(.inference)
        #expect(reused === used)
        #expect(reused.rowCount == 0)
        Self.fill(reused, first: 0, count: 5_000)
        let reusedInfo = try reused.write(to: directory + "/reused.seg", archiveID: 2)

        let fresh = BuilderPool.make(.inference)
        Self.fill(fresh, first: 0, count: 5_000)
        let freshInfo = try fresh.write(to: directory + "/fresh.seg", archiveID: 2)
        // The size that decides where a segment ends does not remember the larger table either.
        #expect(reused.estimatedBytes == fresh.estimatedBytes)

        #expect(reusedInfo == freshInfo)
        #expect(try Self.bytes(directory + "/reused.seg") == Self.bytes(directory + "/fresh.seg"))
        // And the rows read back are the ones written after the reuse, not the earlier segment's.
        let reader = try SegmentReader(path: directory + "/reused.seg")
        #expect(reader.rowCount == 5_000)
    }

    /// A row left in progress when a builder is given back is dropped with the rest.
    @Test func aGivenBackBuilderIsEmpty() {
        let pool = BuilderPool(limit: 2)
        let builder = pool.take(.llm)
        builder.setInt64(1, at: 0)
        builder.endRow()
        builder.setInt64(2, at: 0)
        pool.give([builder])
        let again = pool.take(.llm)
        #expect(again === builder)
        #expect(again.rowCount == 0)
        #expect(again.estimatedBytes < 64 * 1024)
    }

    /// With a limit of two, the pool keeps the two builders given back last, and a kind none of
    /// them is gets a new builder.
    @Test func thePoolKeepsTheMostRecentBuildersUpToItsLimit() {
        let pool = BuilderPool(limit: 2)
        let inference = pool.take(.inference)
        let storage = pool.take(.storage)
        let llm = pool.take(.llm)
        pool.give([inference])
        pool.give([storage, llm])
        #expect(pool.take(.inference) !== inference)
        #expect(pool.take(.storage) === storage)
        #expect(pool.take(.llm) === llm)
        #expect(pool.take(.llm) !== llm)
    }
}

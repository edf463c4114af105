import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect

/// One results folder of the Spark job (`fathom spark-job`) that a sweep took: what it loaded
/// into the store and the job's hits, for the detections to use where they equal the native ones.
package struct SweepResultsFolder: Sendable {
    package var path: String
    /// The built-in rules the job computed (its manifest).
    package var rules: Set<String>
    /// SHA-256 of the spec the job ran with (nil in results older than the field).
    package var specSHA256: String?
    /// The job's hits of `rules`.
    package var hits: [Hit]
    /// The archives this sweep loaded from the folder.
    package var archiveIDs: Set<Int64>
    /// Whether the job's hits were computed over exactly the rows loaded: no archive of the folder
    /// with rows was already known, altered, or left out.
    package var isExact: Bool
    /// Source kinds with undated rows (a time-bounded hunt does not read them; the job's hits do).
    package var undatedKinds: Set<SourceKind>
}

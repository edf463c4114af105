import FathomStore
import Foundation
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect

/// The Spark job's results a sweep takes (`results:` in the configuration, or `--from-results`):
/// their rows are added to the store as the native sweep adds new archives, and their hits stand
/// in for the native rules wherever the two are the same computation (see
/// ``SweepDetection/jobFolder(for:from:to:results:store:)``).
package enum SweepResults {
    /// The results folders under the configured paths — a path that has `manifest/`, or each
    /// subfolder of it that has one — in path order; and the configured paths that do not exist.
    package static func folders(_ paths: [String]) -> (folders: [String], missing: [String]) {
        var folders: [String] = []
        var missing: [String] = []
        func isResults(_ path: String) -> Bool { FileSystem.status(path + "/manifest")?.isDirectory == true }
        for path in paths {
            guard FileSystem.status(path)?.isDirectory == true else {
                missing.append(path)
                continue
            }
            if isResults(path) {
                folders.append(path)
                continue
            }
            let names = (try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []
            folders += names.sorted().map { path + "/" + $0 }.filter(isResults)
        }
        return (folders, missing)
    }

    /// Loads every results folder under `paths` into `store`, skipping archives the store already
    /// knows (a folder taken by an earlier sweep has no row read again).
    package static func take(_ paths: [String], store: Store, progress: ((String) -> Void)?) throws(SweepError)
        -> (taken: [SweepResultsFolder], missing: [String], passedOver: [PassedInput]) {
        let (folders, missing) = folders(paths)
        var taken: [SweepResultsFolder] = []
        var passedOver: [PassedInput] = []
        for (index, folder) in folders.enumerated() {
            progress?("results \(index + 1)/\(folders.count): \(folder)")
            do {
                let manifest = try SparkResults.currentManifest(in: folder)
                let outcome = try SparkResults.load(from: folder, into: store, asSweep: true)
                for path in outcome.unsupported where !outcome.known.contains(path) {
                    passedOver.append(PassedInput(path: path, status: .notRead,
                                                  reason: "not decoded by the Spark job (a format it does not read, in '\(folder)'); read it natively"))
                }
                guard !outcome.loaded.isEmpty else { continue }
                let rules = Set(manifest.rules)
                let hits = try SparkResults.hits(in: folder).filter { rules.contains($0.rule) }
                taken.append(SweepResultsFolder(path: folder, rules: rules, specSHA256: manifest.specSha256, hits: hits,
                                                archiveIDs: Set(outcome.loaded), isExact: !outcome.hasRowsNotLoaded,
                                                undatedKinds: outcome.undatedKinds))
            } catch let error as SparkResults.LoadError {
                throw .results(error.description)
            } catch let error as CatalogError {
                throw .ingest(.catalog(error))
            } catch {
                throw .results("Cannot load Spark results '\(folder)': \(error)")
            }
        }
        return (taken, missing, passedOver)
    }

    /// The folders whose hits can stand in for native rules: exact (see
    /// ``SweepResultsFolder/isExact``) and computed with the spec this sweep's settings give; and
    /// the paths of those computed with another spec (other settings or Fathom version).
    package static func usable(_ taken: [SweepResultsFolder], settings: RuleSettings) throws(SweepError)
        -> (usable: [SweepResultsFolder], otherSpec: [String]) {
        guard !taken.isEmpty else { return ([], []) }
        let specSHA256: String
        do { specSHA256 = try SparkSpec.sha256(settings: settings) } catch { throw .detect("Cannot encode the Spark spec: \(error)") }
        return (taken.filter { $0.isExact && $0.specSHA256 == specSHA256 },
                taken.filter { $0.specSHA256 != specSHA256 }.map(\.path))
    }
}

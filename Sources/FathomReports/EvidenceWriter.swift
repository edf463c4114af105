import Foundation
import FathomStore
import FathomSupport
import FathomCatalog
import FathomIngest
import FathomDetect
import FathomAnalysis

/// `evidence.md`: the evidence manifest.
///
/// Sections: Inputs (every archive with size, SHA-256 and its re-verification, format, kind, rows,
/// rejected records), one section per archive (members, reject reasons, escaped samples), Tool and
/// rules (versions, hashes, the exact command lines), Reproducibility, Limitations seen in the data
/// (coverage gaps per source, clock skew between sources, case-file statements the logs contradict).
package struct EvidenceWriter {
    package let context: ReportContext
    package init(_ context: ReportContext) { self.context = context }

    private var result: AnalysisResult { context.result }

    package func render() -> String {
        var out = "# Evidence manifest — " + context.caseID + "\n\n"
        out += "Every input of the analysis as it was read. Archives are evidence and were never modified; each SHA-256 "
        out += "was recorded at ingest and re-checked when this report was written.\n\n"
        out += custody() + inputs() + supporting() + notRecorded() + archives() + tool() + reproducibility() + limitations()
        out += "---\n\n" + context.footer
        return out
    }

    /// Chain of custody from the case file; placeholders for what a person has not recorded.
    private func custody() -> String {
        let facts = result.caseInfo.custody
        func value(_ text: String?, _ what: String, _ key: String) -> String {
            text.map { context.md($0, limit: 300) } ?? Placeholder.make(what + " (case file custody." + key + ")")
        }
        var out = "## Chain of custody\n\n"
        out += context.table(["Item", "Value", "Source"], [
            ["Collected by", value(facts?.collector, "who collected the evidence", "collector"), "case file"],
            ["Acquired at (UTC)", facts?.acquiredAt.map { $0.rfc3339 } ?? Placeholder.make("when the evidence was acquired (case file custody.acquired_at)"), "case file"],
            ["Evidence source", value(facts?.source, "where the evidence came from", "source"), "case file"],
            ["Originals kept at", value(facts?.storage, "where the original evidence is kept", "storage"), "case file"],
            ["Examined by", value(facts?.examiner, "who examined the evidence", "examiner"), "case file"],
            ["Examined with", "Fathom " + context.md(result.provenance.toolVersion, limit: 40) + ", " + buildCommitText, "this run"],
            ["Analysis run", "data " + context.time(result.provenance.dataStart) + " to " + context.time(result.provenance.dataEnd)
                + "; reports generated " + context.generatedAt, "this run"],
        ]) + "\n\n"
        return out
    }

    /// The build commit, or why there is none.
    private var buildCommitText: String {
        guard let commit = result.provenance.buildCommit else {
            return "build commit not recorded (the build did not declare FATHOM_BUILD_COMMIT)"
        }
        return "build commit `" + hex(commit) + "` (declared by the build through FATHOM_BUILD_COMMIT)"
    }

    /// The case file and the inventories read through it, hashed as read and re-verified.
    private func supporting() -> String {
        guard let list = result.supportingInputs, !list.isEmpty else {
            return result.supportingInputs == nil ? "" : "## Case file and inventories\n\nNo case file and no inventory were read.\n\n"
        }
        var out = "## Case file and inventories\n\n"
        out += "Read by the analysis besides the archives (the case file's facts; the SBOMs and requirements files of the inventory it names), "
        out += "hashed from the bytes parsed and re-checked when this report was written.\n\n"
        out += context.table(["#", "File", "Role", "Size", "SHA-256 (recorded)", "Re-verified"], list.enumerated().map { index, input in
            let check = context.options.verifyArchives ? ArchiveVerifier.verify(path: input.path, expected: input.sha256) : .skipped
            return [String(result.inputs.count + index + 1), context.md(input.path, limit: 200),
                    input.role == "case-file" ? "case file" : "inventory", ReportNumber.grouped(input.size) + " B",
                    "`" + hex(input.sha256) + "`", check.text]
        })
        return out + "\n\n"
    }

    private func inputs() -> String {
        var out = "## Inputs\n\n"
        guard !result.inputs.isEmpty else { return out + "No input archives are recorded in the analysis.\n\n" }
        let rows = result.inputs.enumerated().map { index, input -> [String] in
            [String(index + 1), context.md(input.path, limit: 160), ReportNumber.grouped(input.size) + " B",
             "`" + hex(input.sha256) + "`", (context.verification[input.path] ?? .skipped).text,
             context.md(input.compression, limit: 40) + " / " + context.md(input.container, limit: 40),
             input.formats.map { context.md($0, limit: 60) }.joined(separator: ", "),
             input.kinds.map { context.md($0, limit: 40) }.joined(separator: ", "),
             ReportNumber.grouped(input.rows), ReportNumber.grouped(input.rejected),
             context.time(input.firstTime), context.time(input.lastTime)]
        }
        out += context.table(["#", "Archive", "Size", "SHA-256 (recorded)", "Re-verified", "Compression / container",
                              "Formats", "Kinds", "Rows", "Rejected", "First record", "Last record"], rows)
        return out + "\n\n"
    }

    /// Inputs the run found but did not record, so that none is passed over silently.
    private func notRecorded() -> String {
        guard let passed = result.inputsNotRecorded, !passed.isEmpty else { return "" }
        var out = "## Inputs found but not recorded\n\n"
        let notRead = passed.filter { $0.status == .notRead }.count
        if notRead > 0 {
            out += ReportNumber.grouped(Int64(notRead)) + " input" + (notRead == 1 ? " was" : "s were")
                + " not read through (changed while being read, or could not be opened); "
                + (notRead == 1 ? "it is" : "they are") + " not in this analysis, and the next run reads "
                + (notRead == 1 ? "it" : "them") + " again. Skipped entries were never read.\n\n"
        }
        out += context.table(["Path", "Status", "Reason"], passed.map { item in
            [context.md(item.path, limit: 160), item.status.rawValue, context.md(item.reason, limit: 240)]
        })
        return out + "\n\n"
    }

    private func archives() -> String {
        var out = ""
        for (index, input) in result.inputs.enumerated() {
            out += "### Archive " + String(index + 1) + ": " + context.md(input.path, limit: 160) + "\n\n"
            if input.members.isEmpty {
                out += "No members recorded.\n\n"
            } else if input.members.contains(where: { $0.lostBytes != nil }) {
                // Damage lost data: say how much, in records and bytes, next to each member.
                out += context.table(["Member", "Format", "Kind", "Rows", "Rejected", "Lost to damage (estimated)", "Note"],
                                     input.members.map { member in
                    let lost = member.lostBytes.map { bytes in
                        "≈ " + ReportNumber.grouped(member.lostRecords ?? 0) + " records (" + TextFormat.bytes(bytes) + ")"
                    } ?? ""
                    return [member.name.isEmpty ? "(whole file)" : context.md(member.name, limit: 160), context.md(member.format, limit: 60),
                            context.md(member.kind, limit: 40), ReportNumber.grouped(member.rows), ReportNumber.grouped(member.rejected),
                            lost, context.md(member.note, limit: 300)]
                }) + "\n\n"
            } else {
                out += context.table(["Member", "Format", "Kind", "Rows", "Rejected", "Note"], input.members.map { member in
                    [member.name.isEmpty ? "(whole file)" : context.md(member.name, limit: 160), context.md(member.format, limit: 60),
                     context.md(member.kind, limit: 40), ReportNumber.grouped(member.rows), ReportNumber.grouped(member.rejected),
                     context.md(member.note, limit: 200)]
                }) + "\n\n"
            }
            if !input.rejectReasons.isEmpty {
                out += "Rejected records by reason:\n\n"
                out += context.table(["Reason", "Records"], input.rejectReasons.keys.sorted().map { reason in
                    [context.md(reason, limit: 160), ReportNumber.grouped(input.rejectReasons[reason] ?? 0)]
                }) + "\n\n"
            }
            if !input.rejectSamples.isEmpty {
                out += "Samples of rejected records (escaped, truncated):\n\n"
                out += context.table(["Member", "Line", "Reason", "Sample"], input.rejectSamples.map { sample in
                    [sample.member.isEmpty ? "—" : context.md(sample.member, limit: 120), ReportNumber.grouped(sample.line),
                     context.md(sample.reason, limit: 120), context.md(sample.sample, limit: 160)]
                }) + "\n\n"
            }
        }
        return out
    }

    private func tool() -> String {
        let provenance = result.provenance
        var out = "## Tool and rules\n\n"
        out += context.table(["Item", "Value"], [
            ["Tool", "Fathom " + context.md(provenance.toolVersion, limit: 40)],
            ["Build", buildCommitText],
            ["Analysis schema version", String(result.schemaVersion)],
            ["Rule-set SHA-256", "`" + hex(provenance.rulesetHash) + "` (over each rule's description with its settings, as `fathom rules show` prints them)"],
            ["Inputs SHA-256 (combined, recipe below)", "`" + hex(provenance.inputsHash) + "`"],
            ["Data from", context.time(provenance.dataStart)],
            ["Data to", context.time(provenance.dataEnd)],
        ]) + "\n\n"
        out += "Rules that ran:\n\n"
        out += context.table(["Rule", "Title", "Level", "MITRE ATLAS", "Hits"], result.rules.map { rule in
            [context.md(rule.id, limit: 80), context.md(rule.title, limit: 160), context.md(rule.level, limit: 20),
             rule.atlas.map { context.md($0, limit: 20) }.joined(separator: ", "), ReportNumber.grouped(Int64(rule.hits))]
        }) + "\n\n"
        let settings = result.rules.flatMap { rule in (rule.settings ?? []).map { (rule.id, $0) } }
        if !settings.isEmpty {
            out += "Method: the thresholds and lists each rule ran with (`--settings`, or the defaults; "
                + "`fathom rules show ID` explains each rule):\n\n"
            out += context.table(["Rule", "Setting", "Value"], settings.map { rule, setting in
                [context.md(rule, limit: 80), context.md(setting.name, limit: 60), context.md(setting.value, limit: 300)]
            }) + "\n\n"
        }
        out += "The analysis command, exactly as run (each argument shell-quoted):\n\n"
        out += MarkdownText.fencedBlock(shellLine(provenance.commandLine), info: "sh") + "\n\n"
        if let report = context.options.commandLine {
            out += "The report command:\n\n" + MarkdownText.fencedBlock(shellLine(report), info: "sh") + "\n\n"
        }
        return out
    }

    private func reproducibility() -> String {
        let count = result.inputs.count + (result.supportingInputs?.count ?? 0)
        let files = (result.inputs.map(\.path) + (result.supportingInputs ?? []).map(\.path)).map { isPlainWord($0) ? $0 : ShellText.quote($0) }
        return "## Reproducibility\n\n"
            + "**Combined inputs hash.** The SHA-256 of the " + ReportNumber.grouped(Int64(count)) + " inputs above (archives"
            + (result.supportingInputs == nil ? "" : ", case file and inventories") + "), each written as 64 lowercase hex digits and a "
            + "line feed, sorted bytewise (duplicates kept), hashed with SHA-256. An examiner recomputes it with:\n\n"
            + MarkdownText.fencedBlock("sha256sum " + files.joined(separator: " ") + " \\\n  | cut -c1-64 | LC_ALL=C sort | sha256sum", info: "sh") + "\n\n"
            + "which prints `" + hex(result.provenance.inputsHash) + "` for the inputs as recorded.\n\n"
            + "Running `fathom analyze` of Fathom " + context.md(result.provenance.toolVersion, limit: 40)
            + " with the rule set `" + hex(result.provenance.rulesetHash) + "` over inputs whose hashes combine to `"
            + hex(result.provenance.inputsHash) + "` reproduces the stored analysis; `fathom report` renders these documents "
            + "from that analysis alone, deterministically: the same analysis and options give byte-identical files "
            + "(the generation time is pinned to " + context.generatedAt + "). No document reads the wall clock, "
            + "the local time zone or the locale.\n\n"
    }

    private func limitations() -> String {
        var out = "## Limitations seen in the data\n\n"
        if result.coverage.isEmpty {
            out += "No coverage information in the analysis.\n\n"
        } else {
            out += "Coverage gaps are judged against each source's own cadence, learnt from its data: an empty hour counts only where "
                + "the source is normally active (rows on at least half of the days at that hour of the day, or of the week with two weeks "
                + "of data or more), and a quiet stretch is a gap when the chance of that source being so quiet is below 1 in 1,000 "
                + "(each such hour's chance: the larger of e^−(the slot's mean rows per hour) and the share of the source's normally active hours that are empty, this stretch left out). A nightly "
                + "job's quiet days and an event-driven source's silences are therefore not gaps; they are counted as normal quiet stretches.\n\n"
            out += context.table(["Source kind", "Rows", "First", "Last", "Cadence", "Gaps in coverage", "Normal quiet stretches", "Clock skew vs inference logs"],
                                 result.coverage.map { coverage in
                let gaps = coverage.gaps.isEmpty ? "none" : coverage.gaps.map { gap in
                    context.time(gap.start) + " to " + context.time(gap.end) + " (" + ReportNumber.fixed(gap.hours) + " h"
                        + (gap.normallyActiveHours.map { ", " + String($0) + " normally active" } ?? "")
                        + (gap.chance.map { ", chance " + chanceText($0) } ?? "") + ")"
                }.joined(separator: "; ")
                let skew = coverage.clockSkewSeconds.map { ReportNumber.fixed($0, digits: 3) + " s" } ?? "not measurable"
                return [context.md(coverage.kind, limit: 40), ReportNumber.grouped(coverage.rows), context.time(coverage.first),
                        context.time(coverage.last), coverage.cadence.map { context.md($0, limit: 200) } ?? "not judged", gaps,
                        coverage.normalQuietStretches.map { ReportNumber.grouped(Int64($0)) } ?? "—", skew]
            }) + "\n\n"
        }
        if !result.contradictions.isEmpty {
            out += "Case-file statements the logs contradict (the logs win):\n\n"
            out += context.table(["Field", "Case file", "Logs", "Evidence"], result.contradictions.map { item in
                [context.md(item.field, limit: 80), context.md(item.caseFile, limit: 160), context.md(item.logs, limit: 160), context.evidence(item.evidence)]
            }) + "\n\n"
        }
        let damaged = result.inputs.filter { ($0.lostRecords ?? 0) > 0 }
        if !damaged.isEmpty {
            let total = damaged.reduce(Int64(0)) { $0 + ($1.lostRecords ?? 0) }
            out += "**Damaged evidence: about " + ReportNumber.grouped(total) + " records could not be read** "
                + "(truncated or corrupt frames and members; estimated from the bytes lost and each file's mean record size) in "
                + damaged.map { context.md($0.path, limit: 120) + " (≈ " + ReportNumber.grouped($0.lostRecords ?? 0) + ")" }
                    .joined(separator: ", ")
                + ". Figures computed from these files are lower bounds.\n\n"
        }
        let rejected = result.inputs.filter { $0.rejected > 0 }
        if !rejected.isEmpty {
            out += "Rejected records were skipped by the analysis (counted and sampled above) in "
                + rejected.map { context.md($0.path, limit: 120) }.joined(separator: ", ") + ".\n\n"
        }
        return out
    }

    /// A small probability as `< 1 in 10^n` or `1 in N`.
    private func chanceText(_ chance: Double) -> String {
        guard chance > 0 else { return "< 1 in 10^12" }
        let inverse = 1 / chance
        if inverse >= 1e6 { return "< 1 in 10^" + String(Int(log10(inverse).rounded(.down))) }
        return "1 in " + ReportNumber.grouped(Int64(inverse.rounded()))
    }

    /// Each argument shell-quoted when it needs it, joined by spaces.
    private func shellLine(_ arguments: [String]) -> String {
        arguments.map { isPlainWord($0) ? $0 : ShellText.quote($0) }.joined(separator: " ")
    }

    /// Whether `word` needs no shell quoting (letters, digits and `-_./=:,@` only).
    private func isPlainWord(_ word: String) -> Bool {
        guard !word.isEmpty else { return false }
        for scalar in word.unicodeScalars {
            let isLetterOrDigit = scalar.isASCII && (scalar.properties.isAlphabetic || ("0"..."9").contains(scalar))
            if !isLetterOrDigit && !"-_./=:,@".unicodeScalars.contains(scalar) { return false }
        }
        return true
    }
}

/// A hash from the model inside a code span: hex digits only, anything else replaced by `?`.
package func hex(_ text: String) -> String {
    let cleaned = String(text.prefix(128).map { $0.isHexDigit && $0.isASCII ? $0 : "?" })
    return cleaned.isEmpty ? "?" : cleaned
}

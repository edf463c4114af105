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
        out += inputs() + notRecorded() + archives() + tool() + reproducibility() + limitations()
        out += "---\n\n" + context.footer
        return out
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
            ["Analysis schema version", String(result.schemaVersion)],
            ["Rule-set SHA-256", "`" + hex(provenance.rulesetHash) + "`"],
            ["Inputs SHA-256 (over the sorted archive hashes)", "`" + hex(provenance.inputsHash) + "`"],
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
        "## Reproducibility\n\n"
            + "Running `fathom analyze` of Fathom " + context.md(result.provenance.toolVersion, limit: 40)
            + " with the rule set `" + hex(result.provenance.rulesetHash) + "` over input archives whose hashes combine to `"
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
            out += context.table(["Source kind", "Rows", "First", "Last", "Gaps in coverage", "Clock skew vs inference logs"],
                                 result.coverage.map { coverage in
                let gaps = coverage.gaps.isEmpty ? "none" : coverage.gaps.map { gap in
                    context.time(gap.start) + " to " + context.time(gap.end) + " (" + ReportNumber.fixed(gap.hours) + " h)"
                }.joined(separator: "; ")
                let skew = coverage.clockSkewSeconds.map { ReportNumber.fixed($0, digits: 3) + " s" } ?? "not measurable"
                return [context.md(coverage.kind, limit: 40), ReportNumber.grouped(coverage.rows), context.time(coverage.first),
                        context.time(coverage.last), gaps, skew]
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

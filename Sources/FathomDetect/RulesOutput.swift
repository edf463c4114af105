import FathomStore
import FathomSupport
import FathomCatalog

/// Text for `fathom rules list` and `fathom rules show` of Sigma rules.
public enum RulesOutput {
    public static func list(_ infos: [RuleInfo]) -> String {
        var rows = [["ID", "LEVEL", "KIND", "SET", "ATLAS", "TITLE"]]
        for info in infos {
            rows.append([info.id, info.level, info.kind.rawValue,
                         info.isPlaybook ? "playbook" : (info.origin == "built-in" ? "beyond" : "sigma"),
                         info.atlas.joined(separator: ","), info.title].map(TerminalText.escape))
        }
        return TextFormat.table(rows)
    }

    public static func describe(_ info: RuleInfo) -> String {
        [
            "\(info.id) — \(info.title)",
            "level: \(info.level)    kind: \(info.kind.rawValue)    from: \(info.origin)",
            "ATLAS: " + info.atlas.joined(separator: ", "),
            "",
            info.semantics,
        ].map(TerminalText.escape).joined(separator: "\n")
    }
}

import ArgumentParser
import FathomCore
import Foundation

struct Rules: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rules",
        abstract: "List, explain, check and export detection rules.",
        subcommands: [List.self, Show.self, Lint.self, Export.self]
    )

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "list", abstract: "List the built-in rules and any Sigma rules.")

        @Option(help: "A directory of Sigma rules to list as well.")
        var rules: String?

        func run() throws {
            var infos = RuleCatalog.builtIn.map(\.info)
            if let rules { infos += SigmaLoader.load(directory: rules).rules.map(\.info) }
            print(RulesOutput.list(infos))
        }
    }

    struct Show: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "show",
            abstract: "Print a rule's exact semantics, settings, ATLAS ids and equivalent KQL query.")

        @Argument(help: "The rule id.")
        var id: String

        @Option(help: "A YAML settings file whose values to show.")
        var settings: String?

        @Option(help: "A directory of Sigma rules to look in as well.")
        var rules: String?

        func run() throws {
            var values = RuleSettings()
            if let settings {
                do throws(DetectError) { values = try RuleSettings.load(path: settings) } catch {
                    printError(error.description)
                    throw ExitCode(64)
                }
            }
            if let rule = RuleCatalog.rule(id) {
                print(RuleCatalog.describe(rule, settings: values))
                return
            }
            if let rules, let rule = SigmaLoader.load(directory: rules).rules.first(where: { $0.info.id == id }) {
                print(RulesOutput.describe(rule.info))
                return
            }
            printError(DetectError.unknownRule(id).description)
            throw ExitCode(64)
        }
    }

    struct Lint: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "lint",
            abstract: "Check a directory of Sigma rules: one line per problem (file, line, rule, reason).",
            discussion: "Exit statuses: 0 every rule is usable, 6 some rules have problems (hunt and sweep skip them).")

        @Argument(help: "The directory (or file) of Sigma rules.")
        var directory: String

        func run() throws {
            let loaded = SigmaLoader.load(directory: directory)
            for problem in loaded.problems { print(TerminalText.escape(problem.description)) }
            print("\(loaded.rules.count) rule(s) usable, \(loaded.problems.count) problem(s).")
            if !loaded.problems.isEmpty { throw ExitStatus.rulesSkipped }
        }
    }

    struct Export: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export",
            abstract: "Write the playbook rules that Sigma can express as Sigma files into a directory.")

        @Argument(help: "The directory to write into (created if missing).")
        var directory: String

        @Option(help: "A YAML file of rule settings whose thresholds and lists the files carry (as the built-in rules use them).")
        var settings: String?

        func run() throws {
            var ruleSettings = RuleSettings()
            if let settings {
                do { ruleSettings = try RuleSettings.load(path: settings) } catch {
                    printError("\(error)")
                    throw ExitCode(64)
                }
            }
            do {
                let written = try SigmaLibrary.export(to: directory, settings: ruleSettings)
                for path in written { print(TerminalText.escape(path)) }
            } catch {
                printError("Cannot write into '\(directory)': \(error).")
                throw ExitStatus.storeFailure
            }
        }
    }
}

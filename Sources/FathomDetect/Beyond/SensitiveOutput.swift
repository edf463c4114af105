import FathomStore
import Foundation
import FathomSupport
import FathomCatalog

/// `llm.sensitive-output`: secrets and personal data in LLM responses.
package enum SensitiveOutput {
    package static let info = RuleInfo(
        id: RuleID.sensitiveOutput, title: "Secrets or personal data in an LLM response", level: "high",
        atlas: ["AML.T0057", "AML.T0024"], kind: .llm,
        semantics: """
            LLM rows whose response contains: an AWS access key id (AKIA/ASIA + 16 of A-Z0-9), a GitHub \
            token (ghp_/gho_/ghu_/ghs_/ghr_ + 36, github_pat_), a Slack token (xoxb-/xoxp-/…), a private key \
            block header (-----BEGIN … PRIVATE KEY-----), a generic sk-… API key (20+ characters), a card \
            number (13–19 digits, single spaces or dashes allowed between digits, Luhn-valid, not all one \
            digit), an e-mail address, a US SSN (AAA-GG-SSSS; area not 000/666/900–999, group not 00, \
            serial not 0000), a UK National Insurance number (valid prefix letters, suffix A–D) or an IBAN \
            (mod-97 check). Answers the playbook's "was sensitive data exposed in output?". metrics: \
            categories (sorted), count (matches). Matched values are not copied into metrics; the response \
            is in fields.
            """)

    package static let rule = BuiltInRule(info: info, settings: { _ in
        [("categories", "aws_access_key, github_token, slack_token, private_key, api_key, card_number, email, us_ssn, uk_nino, iban")]
    }, body: run)

    package static func run(_ context: HuntContext) throws -> [Hit] {
        try LLMHits.eachText(info, column: "response", context: context) { response in
            guard !response.isEmpty else { return nil }
            let findings = SensitiveData.findings(in: response)
            guard !findings.isEmpty else { return nil }
            let categories = Array(Set(findings.map(\.category))).sorted()
            return ["categories": .strings(categories), "count": .int(Int64(findings.count))]
        }
    }
}

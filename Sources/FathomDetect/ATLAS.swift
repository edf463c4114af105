/// MITRE ATLAS (Adversarial Threat Landscape for AI Systems): the names and tactics of the technique
/// ids that rules carry (`Hit.atlas`, `Incident.atlas`), for exports that must name a technique
/// (OCSF `attacks`, STIX `attack-pattern`).
///
/// Generated from `dist/ATLAS.yaml` (ATLAS data version 5.6.0) of the public repository
/// mitre-atlas/atlas-data at its release v5.6.1 (commit 8ee2c689a7d3c65ddf2bfe4950a4f3ecffa6f48b), Copyright MITRE, Apache License 2.0: every
/// technique and sub-technique of the ATLAS matrix with its tactics (a sub-technique has its
/// parent's). An id not listed here (a user rule naming a newer technique) keeps its id as its name.
public enum ATLAS {
    /// The ATLAS data release the table comes from.
    public static let version = "5.6.0"
    /// When that release was committed (2026-05-05T21:59:20-04:00): the `created`/`modified` time
    /// of the STIX objects that describe ATLAS techniques, so they are the same bytes in every case.
    public static let releaseTime = "2026-05-06T01:59:20.000Z"

    /// One technique or sub-technique.
    public struct Technique: Sendable, Equatable {
        public var id: String
        public var name: String
        /// The parent technique's id, for a sub-technique.
        public var parent: String?
        /// Tactic ids (`AML.TA0010`).
        public var tactics: [String]

        /// The technique's page on the ATLAS site.
        public var url: String { "https://atlas.mitre.org/techniques/" + id }
    }

    /// The technique with this id, or nil when ATLAS (this release) has none.
    public static func technique(_ id: String) -> Technique? { techniques[id] }

    /// The name of a tactic id, or nil.
    public static func tacticName(_ id: String) -> String? { tacticNames[id] }

    /// The tactic's page on the ATLAS site.
    public static func tacticURL(_ id: String) -> String { "https://atlas.mitre.org/tactics/" + id }

    private static let tacticNames: [String: String] = [
        "AML.TA0002": "Reconnaissance",
        "AML.TA0003": "Resource Development",
        "AML.TA0004": "Initial Access",
        "AML.TA0000": "AI Model Access",
        "AML.TA0005": "Execution",
        "AML.TA0006": "Persistence",
        "AML.TA0012": "Privilege Escalation",
        "AML.TA0007": "Defense Evasion",
        "AML.TA0013": "Credential Access",
        "AML.TA0008": "Discovery",
        "AML.TA0015": "Lateral Movement",
        "AML.TA0009": "Collection",
        "AML.TA0001": "AI Attack Staging",
        "AML.TA0014": "Command and Control",
        "AML.TA0010": "Exfiltration",
        "AML.TA0011": "Impact",
    ]

    private static let techniques: [String: Technique] = {
        let rows: [(String, String, String?, [String])] = [
            ("AML.T0000", "Search Open Technical Databases", nil, ["AML.TA0002"]),
            ("AML.T0000.000", "Journals and Conference Proceedings", "AML.T0000", ["AML.TA0002"]),
            ("AML.T0000.001", "Pre-Print Repositories", "AML.T0000", ["AML.TA0002"]),
            ("AML.T0000.002", "Technical Blogs", "AML.T0000", ["AML.TA0002"]),
            ("AML.T0001", "Search Open AI Vulnerability Analysis", nil, ["AML.TA0002"]),
            ("AML.T0002", "Acquire Public AI Artifacts", nil, ["AML.TA0003"]),
            ("AML.T0002.000", "Datasets", "AML.T0002", ["AML.TA0003"]),
            ("AML.T0002.001", "Models", "AML.T0002", ["AML.TA0003"]),
            ("AML.T0002.002", "AI Agent Configuration", "AML.T0002", ["AML.TA0003"]),
            ("AML.T0003", "Search Victim-Owned Websites", nil, ["AML.TA0002"]),
            ("AML.T0004", "Search Application Repositories", nil, ["AML.TA0002"]),
            ("AML.T0005", "Create Proxy AI Model", nil, ["AML.TA0001"]),
            ("AML.T0005.000", "Train Proxy via Gathered AI Artifacts", "AML.T0005", ["AML.TA0001"]),
            ("AML.T0005.001", "Train Proxy via Replication", "AML.T0005", ["AML.TA0001"]),
            ("AML.T0005.002", "Use Pre-Trained Model", "AML.T0005", ["AML.TA0001"]),
            ("AML.T0006", "Active Scanning", nil, ["AML.TA0002"]),
            ("AML.T0007", "Discover AI Artifacts", nil, ["AML.TA0008"]),
            ("AML.T0008", "Acquire Infrastructure", nil, ["AML.TA0003"]),
            ("AML.T0008.000", "AI Development Workspaces", "AML.T0008", ["AML.TA0003"]),
            ("AML.T0008.001", "Consumer Hardware", "AML.T0008", ["AML.TA0003"]),
            ("AML.T0008.002", "Domains", "AML.T0008", ["AML.TA0003"]),
            ("AML.T0008.003", "Physical Countermeasures", "AML.T0008", ["AML.TA0003"]),
            ("AML.T0008.004", "Serverless", "AML.T0008", ["AML.TA0003"]),
            ("AML.T0008.005", "AI Service Proxies", "AML.T0008", ["AML.TA0003"]),
            ("AML.T0010", "AI Supply Chain Compromise", nil, ["AML.TA0004"]),
            ("AML.T0010.000", "Hardware", "AML.T0010", ["AML.TA0004"]),
            ("AML.T0010.001", "AI Software", "AML.T0010", ["AML.TA0004"]),
            ("AML.T0010.002", "Data", "AML.T0010", ["AML.TA0004"]),
            ("AML.T0010.003", "Model", "AML.T0010", ["AML.TA0004"]),
            ("AML.T0010.004", "Container Registry", "AML.T0010", ["AML.TA0004"]),
            ("AML.T0010.005", "AI Agent Tool", "AML.T0010", ["AML.TA0004"]),
            ("AML.T0011", "User Execution", nil, ["AML.TA0005"]),
            ("AML.T0011.000", "Unsafe AI Artifacts", "AML.T0011", ["AML.TA0005"]),
            ("AML.T0011.001", "Malicious Package", "AML.T0011", ["AML.TA0005"]),
            ("AML.T0011.002", "Poisoned AI Agent Tool", "AML.T0011", ["AML.TA0005"]),
            ("AML.T0011.003", "Malicious Link", "AML.T0011", ["AML.TA0005"]),
            ("AML.T0012", "Valid Accounts", nil, ["AML.TA0004", "AML.TA0012"]),
            ("AML.T0013", "Discover AI Model Ontology", nil, ["AML.TA0008"]),
            ("AML.T0014", "Discover AI Model Family", nil, ["AML.TA0008"]),
            ("AML.T0015", "Evade AI Model", nil, ["AML.TA0004", "AML.TA0007", "AML.TA0011"]),
            ("AML.T0016", "Obtain Capabilities", nil, ["AML.TA0003"]),
            ("AML.T0016.000", "Adversarial AI Attack Implementations", "AML.T0016", ["AML.TA0003"]),
            ("AML.T0016.001", "Software Tools", "AML.T0016", ["AML.TA0003"]),
            ("AML.T0016.002", "Generative AI", "AML.T0016", ["AML.TA0003"]),
            ("AML.T0017", "Develop Capabilities", nil, ["AML.TA0003"]),
            ("AML.T0017.000", "Adversarial AI Attacks", "AML.T0017", ["AML.TA0003"]),
            ("AML.T0018", "Manipulate AI Model", nil, ["AML.TA0006", "AML.TA0001"]),
            ("AML.T0018.000", "Poison AI Model", "AML.T0018", ["AML.TA0006", "AML.TA0001"]),
            ("AML.T0018.001", "Modify AI Model Architecture", "AML.T0018", ["AML.TA0006", "AML.TA0001"]),
            ("AML.T0018.002", "Embed Malware", "AML.T0018", ["AML.TA0006", "AML.TA0001"]),
            ("AML.T0019", "Publish Poisoned Datasets", nil, ["AML.TA0003"]),
            ("AML.T0020", "Poison Training Data", nil, ["AML.TA0003", "AML.TA0006"]),
            ("AML.T0021", "Establish Accounts", nil, ["AML.TA0003"]),
            ("AML.T0024", "Exfiltration via AI Inference API", nil, ["AML.TA0010"]),
            ("AML.T0024.000", "Infer Training Data Membership", "AML.T0024", ["AML.TA0010"]),
            ("AML.T0024.001", "Invert AI Model", "AML.T0024", ["AML.TA0010"]),
            ("AML.T0024.002", "Extract AI Model", "AML.T0024", ["AML.TA0010"]),
            ("AML.T0025", "Exfiltration via Cyber Means", nil, ["AML.TA0010"]),
            ("AML.T0029", "Denial of AI Service", nil, ["AML.TA0011"]),
            ("AML.T0031", "Erode AI Model Integrity", nil, ["AML.TA0011"]),
            ("AML.T0034", "Cost Harvesting", nil, ["AML.TA0011"]),
            ("AML.T0034.000", "Excessive Queries", "AML.T0034", ["AML.TA0011"]),
            ("AML.T0034.001", "Resource-Intensive Queries", "AML.T0034", ["AML.TA0011"]),
            ("AML.T0034.002", "Agentic Resource Consumption", "AML.T0034", ["AML.TA0011"]),
            ("AML.T0035", "AI Artifact Collection", nil, ["AML.TA0009"]),
            ("AML.T0036", "Data from Information Repositories", nil, ["AML.TA0009"]),
            ("AML.T0037", "Data from Local System", nil, ["AML.TA0009"]),
            ("AML.T0040", "AI Model Inference API Access", nil, ["AML.TA0000"]),
            ("AML.T0041", "Physical Environment Access", nil, ["AML.TA0000"]),
            ("AML.T0042", "Verify Attack", nil, ["AML.TA0001"]),
            ("AML.T0043", "Craft Adversarial Data", nil, ["AML.TA0001"]),
            ("AML.T0043.000", "White-Box Optimization", "AML.T0043", ["AML.TA0001"]),
            ("AML.T0043.001", "Black-Box Optimization", "AML.T0043", ["AML.TA0001"]),
            ("AML.T0043.002", "Black-Box Transfer", "AML.T0043", ["AML.TA0001"]),
            ("AML.T0043.003", "Manual Modification", "AML.T0043", ["AML.TA0001"]),
            ("AML.T0043.004", "Insert Backdoor Trigger", "AML.T0043", ["AML.TA0001"]),
            ("AML.T0044", "Full AI Model Access", nil, ["AML.TA0000"]),
            ("AML.T0046", "Spamming AI System with Chaff Data", nil, ["AML.TA0011"]),
            ("AML.T0047", "AI-Enabled Product or Service", nil, ["AML.TA0000"]),
            ("AML.T0048", "External Harms", nil, ["AML.TA0011"]),
            ("AML.T0048.000", "Financial Harm", "AML.T0048", ["AML.TA0011"]),
            ("AML.T0048.001", "Reputational Harm", "AML.T0048", ["AML.TA0011"]),
            ("AML.T0048.002", "Societal Harm", "AML.T0048", ["AML.TA0011"]),
            ("AML.T0048.003", "User Harm", "AML.T0048", ["AML.TA0011"]),
            ("AML.T0048.004", "AI Intellectual Property Theft", "AML.T0048", ["AML.TA0011"]),
            ("AML.T0049", "Exploit Public-Facing Application", nil, ["AML.TA0004"]),
            ("AML.T0050", "Command and Scripting Interpreter", nil, ["AML.TA0005"]),
            ("AML.T0051", "LLM Prompt Injection", nil, ["AML.TA0005"]),
            ("AML.T0051.000", "Direct", "AML.T0051", ["AML.TA0005"]),
            ("AML.T0051.001", "Indirect", "AML.T0051", ["AML.TA0005"]),
            ("AML.T0051.002", "Triggered", "AML.T0051", ["AML.TA0005"]),
            ("AML.T0052", "Phishing", nil, ["AML.TA0004", "AML.TA0015"]),
            ("AML.T0052.000", "Spearphishing via Social Engineering LLM", "AML.T0052", ["AML.TA0004", "AML.TA0015"]),
            ("AML.T0052.001", "Deepfake-Assisted Phishing", "AML.T0052", ["AML.TA0004", "AML.TA0015"]),
            ("AML.T0053", "AI Agent Tool Invocation", nil, ["AML.TA0005", "AML.TA0012"]),
            ("AML.T0054", "LLM Jailbreak", nil, ["AML.TA0012", "AML.TA0007"]),
            ("AML.T0055", "Unsecured Credentials", nil, ["AML.TA0013"]),
            ("AML.T0056", "Extract LLM System Prompt", nil, ["AML.TA0010"]),
            ("AML.T0057", "LLM Data Leakage", nil, ["AML.TA0010"]),
            ("AML.T0058", "Publish Poisoned Models", nil, ["AML.TA0003"]),
            ("AML.T0059", "Erode Dataset Integrity", nil, ["AML.TA0011"]),
            ("AML.T0060", "Publish Hallucinated Entities", nil, ["AML.TA0003"]),
            ("AML.T0061", "LLM Prompt Self-Replication", nil, ["AML.TA0006"]),
            ("AML.T0062", "Discover LLM Hallucinations", nil, ["AML.TA0008"]),
            ("AML.T0063", "Discover AI Model Outputs", nil, ["AML.TA0008"]),
            ("AML.T0064", "Gather RAG-Indexed Targets", nil, ["AML.TA0002"]),
            ("AML.T0065", "LLM Prompt Crafting", nil, ["AML.TA0003"]),
            ("AML.T0066", "Retrieval Content Crafting", nil, ["AML.TA0003"]),
            ("AML.T0067", "LLM Trusted Output Components Manipulation", nil, ["AML.TA0007"]),
            ("AML.T0067.000", "Citations", "AML.T0067", ["AML.TA0007"]),
            ("AML.T0068", "LLM Prompt Obfuscation", nil, ["AML.TA0007"]),
            ("AML.T0069", "Discover LLM System Information", nil, ["AML.TA0008"]),
            ("AML.T0069.000", "Special Character Sets", "AML.T0069", ["AML.TA0008"]),
            ("AML.T0069.001", "System Instruction Keywords", "AML.T0069", ["AML.TA0008"]),
            ("AML.T0069.002", "System Prompt", "AML.T0069", ["AML.TA0008"]),
            ("AML.T0070", "RAG Poisoning", nil, ["AML.TA0006"]),
            ("AML.T0071", "False RAG Entry Injection", nil, ["AML.TA0007"]),
            ("AML.T0072", "Reverse Shell", nil, ["AML.TA0014"]),
            ("AML.T0073", "Impersonation", nil, ["AML.TA0007"]),
            ("AML.T0074", "Masquerading", nil, ["AML.TA0007"]),
            ("AML.T0075", "Cloud Service Discovery", nil, ["AML.TA0008"]),
            ("AML.T0076", "Corrupt AI Model", nil, ["AML.TA0007"]),
            ("AML.T0077", "LLM Response Rendering", nil, ["AML.TA0010"]),
            ("AML.T0078", "Drive-by Compromise", nil, ["AML.TA0004"]),
            ("AML.T0079", "Stage Capabilities", nil, ["AML.TA0003"]),
            ("AML.T0080", "AI Agent Context Poisoning", nil, ["AML.TA0006"]),
            ("AML.T0080.000", "Memory", "AML.T0080", ["AML.TA0006"]),
            ("AML.T0080.001", "Thread", "AML.T0080", ["AML.TA0006"]),
            ("AML.T0081", "Modify AI Agent Configuration", nil, ["AML.TA0006", "AML.TA0007"]),
            ("AML.T0082", "RAG Credential Harvesting", nil, ["AML.TA0013"]),
            ("AML.T0083", "Credentials from AI Agent Configuration", nil, ["AML.TA0013"]),
            ("AML.T0084", "Discover AI Agent Configuration", nil, ["AML.TA0008"]),
            ("AML.T0084.000", "Embedded Knowledge", "AML.T0084", ["AML.TA0008"]),
            ("AML.T0084.001", "Tool Definitions", "AML.T0084", ["AML.TA0008"]),
            ("AML.T0084.002", "Activation Triggers", "AML.T0084", ["AML.TA0008"]),
            ("AML.T0084.003", "Call Chains", "AML.T0084", ["AML.TA0008"]),
            ("AML.T0085", "Data from AI Services", nil, ["AML.TA0009"]),
            ("AML.T0085.000", "RAG Databases", "AML.T0085", ["AML.TA0009"]),
            ("AML.T0085.001", "AI Agent Tools", "AML.T0085", ["AML.TA0009"]),
            ("AML.T0086", "Exfiltration via AI Agent Tool Invocation", nil, ["AML.TA0010"]),
            ("AML.T0087", "Gather Victim Identity Information", nil, ["AML.TA0002"]),
            ("AML.T0088", "Generate Deepfakes", nil, ["AML.TA0001"]),
            ("AML.T0089", "Process Discovery", nil, ["AML.TA0008"]),
            ("AML.T0090", "OS Credential Dumping", nil, ["AML.TA0013"]),
            ("AML.T0091", "Use Alternate Authentication Material", nil, ["AML.TA0015"]),
            ("AML.T0091.000", "Application Access Token", "AML.T0091", ["AML.TA0015"]),
            ("AML.T0092", "Manipulate User LLM Chat History", nil, ["AML.TA0007"]),
            ("AML.T0093", "Prompt Infiltration via Public-Facing Application", nil, ["AML.TA0004", "AML.TA0006"]),
            ("AML.T0094", "Delay Execution of LLM Instructions", nil, ["AML.TA0007"]),
            ("AML.T0095", "Search Open Websites/Domains", nil, ["AML.TA0002"]),
            ("AML.T0095.000", "Code Repositories", "AML.T0095", ["AML.TA0002"]),
            ("AML.T0096", "AI Service API", nil, ["AML.TA0014"]),
            ("AML.T0097", "Virtualization/Sandbox Evasion", nil, ["AML.TA0007"]),
            ("AML.T0098", "AI Agent Tool Credential Harvesting", nil, ["AML.TA0013"]),
            ("AML.T0099", "AI Agent Tool Data Poisoning", nil, ["AML.TA0006"]),
            ("AML.T0100", "AI Agent Clickbait", nil, ["AML.TA0005"]),
            ("AML.T0101", "Data Destruction via AI Agent Tool Invocation", nil, ["AML.TA0011"]),
            ("AML.T0102", "Generate Malicious Commands", nil, ["AML.TA0001"]),
            ("AML.T0103", "Deploy AI Agent", nil, ["AML.TA0005"]),
            ("AML.T0104", "Publish Poisoned AI Agent Tool", nil, ["AML.TA0003"]),
            ("AML.T0105", "Escape to Host", nil, ["AML.TA0012"]),
            ("AML.T0106", "Exploitation for Credential Access", nil, ["AML.TA0013"]),
            ("AML.T0107", "Exploitation for Defense Evasion", nil, ["AML.TA0007"]),
            ("AML.T0108", "AI Agent", nil, ["AML.TA0014"]),
            ("AML.T0109", "AI Supply Chain Rug Pull", nil, ["AML.TA0007"]),
            ("AML.T0110", "AI Agent Tool Poisoning", nil, ["AML.TA0006"]),
            ("AML.T0111", "AI Supply Chain Reputation Inflation", nil, ["AML.TA0007"]),
            ("AML.T0112", "Machine Compromise", nil, ["AML.TA0011"]),
            ("AML.T0112.000", "Local AI Agent", "AML.T0112", ["AML.TA0011"]),
            ("AML.T0112.001", "AI Artifacts", "AML.T0112", ["AML.TA0011"]),
        ]
        var table: [String: Technique] = [:]
        for (id, name, parent, tactics) in rows { table[id] = Technique(id: id, name: name, parent: parent, tactics: tactics) }
        return table
    }()
}

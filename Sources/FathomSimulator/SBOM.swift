import FathomStore
import FathomSupport

/// CycloneDX 1.5 SBOMs of the served models, one per model, where a compromised package is a
/// transitive dependency of several of them, plus a hash-pinned `requirements.txt`.
package struct SoftwareBill {
    package struct Package: Sendable {
        package var name: String
        package var version: String
        package var repository: String?
        package var dependsOn: [String]

        package var purl: String {
            var text = "pkg:pypi/\(name)@\(version)"
            if let repository { text += "?repository_url=\(repository)" }
            return text
        }
    }

    package let scenario: Scenario

    package static let nightly = "https://download.pytorch.org/whl/nightly"

    /// Every package any model uses, by name.
    package static let packages: [String: Package] = {
        let list: [Package] = [
            Package(name: "torch", version: "2.0.0.dev20221230", repository: nightly,
                    dependsOn: ["torchtriton", "numpy", "sympy", "networkx", "filelock", "typing-extensions"]),
            Package(name: "torchtriton", version: "2.0.0", repository: nil, dependsOn: ["filelock"]),
            Package(name: "pytorch-lightning", version: "1.9.0", repository: nil, dependsOn: ["torch", "numpy", "pyyaml", "tqdm"]),
            Package(name: "transformers", version: "4.26.0", repository: nil,
                    dependsOn: ["torch", "numpy", "tokenizers", "pyyaml", "tqdm", "filelock"]),
            Package(name: "tokenizers", version: "0.13.2", repository: nil, dependsOn: []),
            Package(name: "safetensors", version: "0.4.2", repository: nil, dependsOn: []),
            Package(name: "numpy", version: "1.26.4", repository: nil, dependsOn: []),
            Package(name: "pandas", version: "2.2.1", repository: nil, dependsOn: ["numpy", "python-dateutil", "pytz"]),
            Package(name: "scikit-learn", version: "1.4.1.post1", repository: nil, dependsOn: ["numpy", "scipy", "joblib", "threadpoolctl"]),
            Package(name: "xgboost", version: "2.0.3", repository: nil, dependsOn: ["numpy", "scipy"]),
            Package(name: "scipy", version: "1.12.0", repository: nil, dependsOn: ["numpy"]),
            Package(name: "onnx", version: "1.15.0", repository: nil, dependsOn: ["numpy", "protobuf"]),
            Package(name: "protobuf", version: "4.25.3", repository: nil, dependsOn: []),
            Package(name: "sympy", version: "1.12", repository: nil, dependsOn: ["mpmath"]),
            Package(name: "mpmath", version: "1.3.0", repository: nil, dependsOn: []),
            Package(name: "networkx", version: "3.2.1", repository: nil, dependsOn: []),
            Package(name: "filelock", version: "3.13.1", repository: nil, dependsOn: []),
            Package(name: "typing-extensions", version: "4.10.0", repository: nil, dependsOn: []),
            Package(name: "pyyaml", version: "6.0.1", repository: nil, dependsOn: []),
            Package(name: "tqdm", version: "4.66.2", repository: nil, dependsOn: []),
            Package(name: "python-dateutil", version: "2.9.0", repository: nil, dependsOn: ["six"]),
            Package(name: "six", version: "1.16.0", repository: nil, dependsOn: []),
            Package(name: "pytz", version: "2024.1", repository: nil, dependsOn: []),
            Package(name: "joblib", version: "1.3.2", repository: nil, dependsOn: []),
            Package(name: "threadpoolctl", version: "3.3.0", repository: nil, dependsOn: []),
        ]
        var result: [String: Package] = [:]
        for package in list { result[package.name] = package }
        return result
    }()

    /// The direct dependencies of each model and the version its SBOM describes.
    package static let models: [(name: String, version: String, direct: [String])] = [
        ("fraud-detector", "12", ["torch", "safetensors", "onnx", "pandas", "scikit-learn"]),
        ("credit-risk", "7", ["pytorch-lightning", "pandas", "onnx"]),
        ("churn-predictor", "4", ["scikit-learn", "xgboost", "pandas"]),
        ("doc-classifier", "3", ["transformers", "safetensors"]),
    ]

    /// All packages reachable from `direct`, sorted by name.
    package static func closure(_ direct: [String]) -> [String] {
        var seen = Set<String>()
        var stack = direct
        while let name = stack.popLast() {
            guard seen.insert(name).inserted, let package = packages[name] else { continue }
            stack.append(contentsOf: package.dependsOn)
        }
        return seen.sorted()
    }

    /// The CycloneDX document of one model.
    package func document(model: (name: String, version: String, direct: [String])) -> JSONTree {
        var rng = Xoshiro256(master: scenario.seed, "sbom", model.name)
        let modelRef = "model:\(model.name)@\(model.version)"
        let names = Self.closure(model.direct)
        var components: [JSONTree] = []
        var dependencies: [JSONTree] = [["ref": .string(modelRef), "dependsOn": .array(model.direct.sorted().compactMap {
            Self.packages[$0].map { JSONTree.string($0.purl) } })]]
        for name in names {
            guard let package = Self.packages[name] else { continue }
            components.append([
                "type": "library", "bom-ref": .string(package.purl), "name": .string(package.name),
                "version": .string(package.version), "purl": .string(package.purl),
                "hashes": [["alg": "SHA-256", "content": .string(rng.hex(64))]],
            ])
            dependencies.append(["ref": .string(package.purl), "dependsOn": .array(package.dependsOn.sorted().compactMap {
                Self.packages[$0].map { JSONTree.string($0.purl) } })])
        }
        let serial = "urn:uuid:\(rng.hex(8))-\(rng.hex(4))-4\(rng.hex(3))-a\(rng.hex(3))-\(rng.hex(12))"
        return [
            "bomFormat": "CycloneDX", "specVersion": "1.5", "serialNumber": .string(serial), "version": 1,
            "metadata": [
                "timestamp": .string(ScenarioTime.rfc3339(scenario.start - 3 * ScenarioTime.day, fractionDigits: 0)),
                "tools": ["components": [["type": "application", "name": "cyclonedx-py", "version": "4.2.0"]]],
                "component": [
                    "type": "machine-learning-model", "bom-ref": .string(modelRef), "name": .string(model.name),
                    "version": .string(model.version),
                    "modelCard": ["modelParameters": ["task": model.name == "doc-classifier" ? "text-classification" : "tabular-classification"]],
                ],
            ],
            "components": .array(components),
            "dependencies": .array(dependencies),
        ]
    }

    /// `requirements.txt` of the fraud-detector's training image, pinned with hashes.
    package func requirements() -> String {
        var rng = Xoshiro256(master: scenario.seed, "requirements")
        var text = "#\n# fraud-detector training image; generated by pip-compile --generate-hashes\n#\n"
        text += "--extra-index-url \(Self.nightly)/cpu\n\n"
        for name in Self.closure(Self.models[0].direct) {
            guard let package = Self.packages[name] else { continue }
            text += "\(package.name)==\(package.version) \\\n    --hash=sha256:\(rng.hex(64))"
            if rng.chance(0.3) { text += " \\\n    --hash=sha256:\(rng.hex(64))" }
            text += "\n"
        }
        return text
    }

    /// Models whose dependency graph reaches `name`, with one path each (model → … → package).
    package static func modelsDepending(on name: String) -> [(model: String, path: [String])] {
        var result: [(String, [String])] = []
        for model in models {
            // Breadth-first over names, so the path is a shortest one; neighbours in name order.
            var previous: [String: String] = [:]
            var queue = model.direct.sorted()
            var seen = Set(queue)
            var found = model.direct.contains(name)
            var head = 0
            while head < queue.count && !found {
                let current = queue[head]
                head += 1
                for next in (packages[current]?.dependsOn ?? []).sorted() where !seen.contains(next) {
                    seen.insert(next)
                    previous[next] = current
                    queue.append(next)
                    if next == name { found = true }
                }
            }
            guard found else { continue }
            var path = [name]
            var cursor = name
            while let back = previous[cursor] { path.insert(back, at: 0); cursor = back }
            result.append((model.name, [model.name] + path.map { packages[$0]?.purl ?? $0 }))
        }
        return result.sorted { $0.0 < $1.0 }
    }
}

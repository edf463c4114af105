// swift-tools-version: 6.1
import PackageDescription

/// Every library target, for the test targets (which test each layer).
let libraryTargets: [Target.Dependency] = [
    "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomIntegrity", "FathomDetect",
    "FathomAnalysis", "FathomReports", "FathomSimulator", "FathomCore",
]

let package = Package(
    name: "Fathom",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "fathom", targets: ["fathom"]),
        .library(name: "FathomCore", targets: ["FathomCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "4.5.2"),
    ],
    targets: [
        .systemLibrary(
            name: "CZstd",
            pkgConfig: "libzstd",
            providers: [.apt(["libzstd-dev"])]
        ),
        .systemLibrary(
            name: "CZlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "FathomStore",
            dependencies: ["CZstd", "CZlib", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Segment/SEGMENT-FORMAT.md"],
            // The byte-level codecs and column scans check every offset from evidence with explicit
            // guards; -Ounchecked removes only the compiler's own overflow and precondition checks.
            swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]
        ),
        // The layers of the library, each a target so the compiler holds the direction
        // (see Sources/README.md and .ci/layers.py): Support ← Catalog ← Ingest, Detect,
        // Integrity ← Analysis ← Reports ← Core (the analyze, report and sweep engines).
        .target(
            name: "FathomSupport",
            dependencies: ["FathomStore"]
        ),
        .target(
            name: "FathomCatalog",
            dependencies: ["FathomStore", "FathomSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .target(
            name: "FathomIngest",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "FathomIntegrity",
            dependencies: ["FathomStore", "FathomSupport"]
        ),
        .target(
            name: "FathomDetect",
            dependencies: ["FathomStore", "FathomSupport", "FathomCatalog", .product(name: "Yams", package: "Yams")],
            exclude: ["RULES.md"]
        ),
        .target(
            name: "FathomAnalysis",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomIntegrity", "FathomDetect",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .target(
            name: "FathomReports",
            dependencies: ["FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomDetect", "FathomAnalysis"]
        ),
        .target(
            name: "FathomSimulator",
            dependencies: [
                "FathomStore", "FathomSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(
            name: "FathomCore",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomIntegrity", "FathomDetect",
                "FathomAnalysis", "FathomReports", "FathomSimulator",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "fathom",
            dependencies: [
                "FathomCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FathomStoreTests", dependencies: ["FathomStore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FathomCoreTests", dependencies: libraryTargets, resources: [.copy("Fixtures")]),
        .testTarget(name: "FathomCLITests", dependencies: libraryTargets + ["fathom"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)

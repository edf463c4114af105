// swift-tools-version: 6.2
import PackageDescription

/// Every library target, for the test targets (which test each layer).
let libraryTargets: [Target.Dependency] = [
    "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomIntegrity", "FathomDetect",
    "FathomAnalysis", "FathomReports", "FathomSimulator", "FathomCore",
]

/// Every target above FathomStore is safe Swift: strict memory safety checking reports any unsafe
/// construct (SE-0458), and the build treats that report as an error.
let safeCode: [SwiftSetting] = [.strictMemorySafety(), .treatWarning("StrictMemorySafety", as: .error)]

/// Dynamic exclusivity checks off in release builds (the debug builds the tests run keep them):
/// they guard against programmer errors, not against input, and a class property's accesses are
/// checked at every row and column of a scan (README, Performance). Overflow and precondition
/// checks stay on everywhere.
let uncheckedExclusivity: [SwiftSetting] = [.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))]

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
        // bzip2 and xz/.lzma: the wrappers pickled models are saved in (bz2.open, lzma.open,
        // joblib's compress=), read by `scan-artifacts`.
        .systemLibrary(
            name: "CBzip2",
            providers: [.apt(["libbz2-dev"])]
        ),
        .systemLibrary(
            name: "CLzma",
            pkgConfig: "liblzma",
            providers: [.apt(["liblzma-dev"])]
        ),
        .target(
            name: "FathomStore",
            dependencies: ["CZstd", "CZlib", "CBzip2", "CLzma", .product(name: "Crypto", package: "swift-crypto")],
            exclude: ["Segment/SEGMENT-FORMAT.md"],
            // Overflow and precondition checks stay on: this code reads hostile bytes. Dynamic
            // exclusivity checks (a class property's accesses, at every row and column) are left to
            // the debug builds the tests run: they cost a quarter of the ingest in release (README,
            // Performance) and guard against programmer errors, not against input.
            swiftSettings: uncheckedExclusivity
        ),
        // The layers of the library, each a target so the compiler holds the direction
        // (see Sources/README.md and .ci/layers.py): Support ← Catalog ← Ingest, Detect,
        // Integrity ← Analysis ← Reports ← Core (the analyze, report and sweep engines).
        .target(
            name: "FathomSupport",
            dependencies: ["FathomStore"],
            swiftSettings: safeCode + uncheckedExclusivity
        ),
        .target(
            name: "FathomCatalog",
            dependencies: ["FathomStore", "FathomSupport", .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: safeCode + uncheckedExclusivity
        ),
        .target(
            name: "FathomIngest",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Yams", package: "Yams"),
            ],
            // Dynamic exclusivity checks off in release, as in FathomStore: the row writer's
            // properties are accessed for every column of every row (README, Performance).
            swiftSettings: safeCode + uncheckedExclusivity
        ),
        .target(
            name: "FathomIntegrity",
            dependencies: ["FathomStore", "FathomSupport"],
            exclude: ["Policy/pickle-policy.json"],
            swiftSettings: safeCode
        ),
        .target(
            name: "FathomDetect",
            dependencies: ["FathomStore", "FathomSupport", "FathomCatalog", .product(name: "Yams", package: "Yams")],
            exclude: ["RULES.md"],
            swiftSettings: safeCode + uncheckedExclusivity
        ),
        .target(
            name: "FathomAnalysis",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomIntegrity", "FathomDetect",
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: safeCode + uncheckedExclusivity
        ),
        .target(
            name: "FathomReports",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomDetect", "FathomAnalysis",
                // SHA-1 for the name-based (v5) UUIDs of exported objects.
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Regulatory/regimes.json"],
            swiftSettings: safeCode
        ),
        .target(
            name: "FathomSimulator",
            dependencies: [
                "FathomStore", "FathomSupport",
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: safeCode
        ),
        .target(
            name: "FathomCore",
            dependencies: [
                "FathomStore", "FathomSupport", "FathomCatalog", "FathomIngest", "FathomIntegrity", "FathomDetect",
                "FathomAnalysis", "FathomReports", "FathomSimulator",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
            ],
            resources: [.embedInCode("Spark/fathom_spark_job.py")],
            swiftSettings: safeCode
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

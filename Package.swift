// swift-tools-version: 6.1
import PackageDescription

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
        .target(
            name: "FathomCore",
            dependencies: [
                "FathomStore",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Yams", package: "Yams"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            exclude: ["Detect/RULES.md"]
        ),
        .executableTarget(
            name: "fathom",
            dependencies: [
                "FathomCore",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "FathomStoreTests", dependencies: ["FathomStore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FathomCoreTests", dependencies: ["FathomCore", "FathomStore"], resources: [.copy("Fixtures")]),
        .testTarget(name: "FathomCLITests", dependencies: ["FathomCore", "FathomStore", "fathom"], resources: [.copy("Fixtures")]),
    ],
    swiftLanguageModes: [.v6]
)

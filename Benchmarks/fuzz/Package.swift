// swift-tools-version: 6.1
// libFuzzer targets for Fathom's decoders and parsers. Build and run with ./run.sh (see README.md).
//
// Every fuzz target is an executable target whose one file defines
// `@_cdecl("LLVMFuzzerTestOneInput")` and no Swift `main`: it is compiled with -parse-as-library
// (below) and `main` comes from libFuzzer, linked by `-sanitize=fuzzer` given on the command line
// (`swift build -c release -Xswiftc -sanitize=fuzzer,address`). Built without that flag the
// targets do not link (no `main`), which is why `swift build` alone is not the way to build them.
import PackageDescription

let fuzzTargets = [
    "fuzz-zstd", "fuzz-gzip", "fuzz-tar", "fuzz-framer", "fuzz-decoders",
    "fuzz-json", "fuzz-delimited", "fuzz-sigma", "fuzz-casefile", "fuzz-pickle",
]

let package = Package(
    name: "FathomFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Fathom", path: "../.."),
    ],
    targets: [
        // Shared helpers: the chunked in-memory ByteStream and the input header.
        // FathomStore is not a product of Fathom; it is built as a dependency of the FathomCore
        // product and its module is importable from here (SwiftPM does not check transitive imports).
        .target(
            name: "FuzzSupport",
            dependencies: [.product(name: "FathomCore", package: "Fathom")]
        ),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "FathomCore", package: "Fathom")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    },
    swiftLanguageModes: [.v6]
)

// swift-tools-version: 6.1
// libFuzzer targets for Fathom's decoders and parsers. Build and run with ./run.sh (see README.md).
//
// Every fuzz target is an executable target: `Fuzz<Name>.swift` defines the entry point
// `@_cdecl("LLVMFuzzerTestOneInput")`, and `main.swift` hands it to libFuzzer's driver
// (`LLVMFuzzerRunDriver`, declared by the CFuzzerDriver header). libFuzzer itself is linked by
// `-sanitize=fuzzer`, given on the command line with the coverage instrumentation:
//     swift build -c release -Xswiftc -sanitize=fuzzer,address -Xswiftc -enable-testing
// Why a Swift main and not -parse-as-library with libFuzzer's own `main`: SwiftPM (tools ≥ 5.5)
// compiles an executable's entry point as `<module>_main` and links with
// `--defsym main=<module>_main`, which fails when the module has no entry point and, when it has
// one, overrides libFuzzer's `main`. So the Swift entry point runs and starts libFuzzer itself.
// Without -sanitize=fuzzer the targets do not link (LLVMFuzzerRunDriver is missing).
import PackageDescription

let fuzzTargets = [
    "fuzz-zstd", "fuzz-gzip", "fuzz-tar", "fuzz-framer", "fuzz-decoders",
    "fuzz-json", "fuzz-delimited", "fuzz-sigma", "fuzz-casefile", "fuzz-pickle",
]

// The Fathom package fuzzed: this repository, or another checkout of it named by FATHOM_FUZZ_MAIN
// (e.g. a `git worktree` snapshot while the working tree is being edited).
let fathomPath = Context.environment["FATHOM_FUZZ_MAIN"] ?? "../.."

let package = Package(
    name: "FathomFuzz",
    platforms: [.macOS(.v14)],
    dependencies: [
        .package(name: "Fathom", path: fathomPath),
    ],
    targets: [
        // Shared helpers: the chunked in-memory ByteStream and the input header.
        // FathomStore is not a product of Fathom; it is built as a dependency of the FathomCore
        // product and its module is importable from here (SwiftPM does not check transitive imports).
        .target(name: "CFuzzerDriver"),
        .target(
            name: "FuzzSupport",
            dependencies: ["CFuzzerDriver", .product(name: "FathomCore", package: "Fathom")]
        ),
    ] + fuzzTargets.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "FathomCore", package: "Fathom")]
        )
    },
    swiftLanguageModes: [.v6]
)

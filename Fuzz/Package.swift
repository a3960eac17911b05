// swift-tools-version: 6.1
// libFuzzer targets for Vigil's parsers (see README.md). Built only with sanitizers, by `scripts/fuzz`:
//
//     swift build --package-path Fuzz --scratch-path .build-fuzz \
//         --sanitize fuzzer --sanitize address -Xswiftc -sanitize=fuzzer,address
//
// The library targets are Vigil's own sources through symlinks (Sources/VigilJSON -> ../../Sources/VigilJSON),
// so the fuzz targets see `package` and (with `@testable import`, debug builds) internal API without the main
// package exporting anything. Keep the five targets' dependencies as in ../Package.swift.
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

/// Each fuzz target: one source file defining `LLVMFuzzerTestOneInput` (no `main`: libFuzzer provides it).
let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
    ("fuzz-json", ["VigilJSON"]),
    ("fuzz-bulk", ["VigilJSON", "VigilStore", "VigilEQL"]),
    ("fuzz-eql", ["FuzzSupport", "VigilJSON", "VigilStore", "VigilQuery", "VigilEQL"]),
    ("fuzz-kql", ["FuzzSupport", "VigilJSON", "VigilStore", "VigilQuery"]),
    ("fuzz-lucene", ["FuzzSupport", "VigilJSON", "VigilStore", "VigilQuery"]),
    ("fuzz-dsl", ["FuzzSupport", "VigilJSON", "VigilStore", "VigilQuery"]),
    ("fuzz-esql", ["FuzzSupport", "VigilJSON", "VigilStore", "VigilQuery"]),
    ("fuzz-painless", ["FuzzSupport", "VigilJSON", "VigilStore", "VigilQuery"]),
    ("fuzz-datemath", ["VigilStore"]),
    ("fuzz-regex", ["VigilQuery"]),
]

let package = Package(
    name: "VigilFuzz",
    platforms: [.macOS(.v15)],
    targets: [
        .target(name: "VigilJSON", swiftSettings: strict),
        .target(name: "CVigilLinux"),
        .target(name: "VigilStore", dependencies: ["VigilJSON", "CVigilLinux"], swiftSettings: strict),
        .target(name: "VigilQuery", dependencies: ["VigilJSON", "VigilStore"], swiftSettings: strict),
        .target(name: "VigilEQL", dependencies: ["VigilJSON", "VigilStore", "VigilQuery", "CVigilLinux"], swiftSettings: strict),
        .target(name: "FuzzSupport", dependencies: ["VigilJSON", "VigilStore", "VigilQuery"], swiftSettings: strict),
    ] + fuzzTargets.map { .executableTarget(name: $0.name, dependencies: $0.dependencies, swiftSettings: strict) }
)

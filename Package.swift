// swift-tools-version: 6.1
import PackageDescription

let strict: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Vigil",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "vigil", targets: ["vigil"])
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
    ],
    targets: [
        .target(name: "VigilJSON", swiftSettings: strict),
        .target(name: "CVigilLinux"),
        .target(name: "VigilStore", dependencies: ["VigilJSON", "CVigilLinux"], swiftSettings: strict),
        .target(name: "VigilQuery", dependencies: ["VigilJSON", "VigilStore"], swiftSettings: strict),
        .target(name: "VigilEQL", dependencies: ["VigilJSON", "VigilStore", "VigilQuery", "CVigilLinux"], swiftSettings: strict),
        .target(
            name: "VigilDetect",
            dependencies: ["VigilJSON", "VigilStore", "VigilQuery", "VigilEQL",
                .product(name: "TOMLKit", package: "TOMLKit"), .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Mustache", package: "swift-mustache")],
            swiftSettings: strict
        ),
        .target(
            name: "VigilServer",
            dependencies: [
                "VigilJSON", "VigilStore", "VigilQuery", "VigilEQL", "VigilDetect",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "vigil",
            dependencies: [
                "VigilJSON", "VigilStore", "VigilQuery", "VigilEQL", "VigilServer", "VigilDetect",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),
        .testTarget(name: "VigilJSONTests", dependencies: ["VigilJSON"], swiftSettings: strict),
        .testTarget(name: "VigilStoreTests", dependencies: ["VigilStore", "VigilJSON"], swiftSettings: strict),
        .testTarget(name: "VigilQueryTests", dependencies: ["VigilQuery", "VigilStore", "VigilJSON"], swiftSettings: strict),
        .testTarget(name: "VigilDetectTests", dependencies: ["VigilDetect", "VigilStore", "VigilJSON"], swiftSettings: strict),
        .testTarget(name: "VigilEQLTests", dependencies: ["VigilEQL", "VigilQuery", "VigilStore", "VigilJSON"], swiftSettings: strict),
        .testTarget(name: "VigilServerTests", dependencies: ["VigilServer", "VigilDetect", "VigilEQL", "VigilQuery", "VigilStore", "VigilJSON"], swiftSettings: strict),
    ]
)

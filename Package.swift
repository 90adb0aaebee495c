// swift-tools-version: 6.2
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
]

let package = Package(
    name: "Onbrand",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "onbrand", targets: ["onbrand"]),
        .library(name: "OnbrandXML", targets: ["OnbrandXML"]),
        .library(name: "OnbrandInputs", targets: ["OnbrandInputs"]),
        .library(name: "OnbrandBudget", targets: ["OnbrandBudget"]),
        .library(name: "GeminiKit", targets: ["GeminiKit"]),
        .library(name: "GeminiEmulator", targets: ["GeminiEmulator"]),
        .library(name: "OnbrandPipeline", targets: ["OnbrandPipeline"]),
        .library(name: "OnbrandImage", targets: ["OnbrandImage"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.20.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        // Already under async-http-client; named for NIOFoundationCompat (answers as Data without a copy).
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibXML2",
            pkgConfig: "libxml-2.0",
            providers: [.apt(["libxml2-dev"])]
        ),
        .target(
            name: "OnbrandXML",
            dependencies: ["CLibXML2"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OnbrandInputs",
            dependencies: [
                "OnbrandXML",
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OnbrandBudget",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GeminiKit",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CZlib",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        .target(
            name: "GeminiEmulator",
            dependencies: [
                "GeminiKit", "OnbrandBudget", "CZlib",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OnbrandPipeline",
            dependencies: [
                "OnbrandInputs", "OnbrandBudget", "GeminiKit", "GeminiEmulator", "OnbrandImage",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "onbrand",
            dependencies: [
                "OnbrandPipeline",
                "OnbrandInputs",
                "OnbrandBudget",
                "GeminiEmulator",
                "OnbrandImage",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "onbrand-benchmarks",
            dependencies: ["OnbrandInputs", "OnbrandXML", "OnbrandBudget", "OnbrandPipeline", "GeminiKit"],
            path: "Sources/OnbrandBenchmarks",
            swiftSettings: swiftSettings
        ),
        // The JPEG decoder: libjpeg (Debian's libjpeg62-turbo-dev) behind a small C shim that turns
        // libjpeg's non-returning error handler into an error code (setjmp cannot be done in Swift).
        .target(
            name: "CJPEG",
            linkerSettings: [.linkedLibrary("jpeg")]
        ),
        .target(
            name: "OnbrandImage",
            dependencies: ["OnbrandXML", "CZlib", "CJPEG"],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OnbrandTestSupport",
            dependencies: [],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OnbrandXMLTests",
            dependencies: ["OnbrandXML", "OnbrandTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OnbrandInputsTests",
            dependencies: ["OnbrandInputs", "OnbrandXML", "OnbrandTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OnbrandBudgetTests",
            dependencies: ["OnbrandBudget", "OnbrandTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OnbrandPipelineTests",
            dependencies: ["OnbrandPipeline", "OnbrandInputs", "OnbrandBudget", "GeminiKit", "OnbrandTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "GeminiKitTests",
            dependencies: ["GeminiKit", "GeminiEmulator", "OnbrandBudget", "OnbrandTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OnbrandImageTests",
            dependencies: ["OnbrandImage", "GeminiEmulator", "OnbrandTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "OnbrandCLITests",
            dependencies: ["onbrand", "OnbrandTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

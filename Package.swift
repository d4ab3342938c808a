// swift-tools-version:6.2
import PackageDescription

/// Numeric targets are built for this machine's CPU in release builds (AVX-512 + FMA on
/// the project's machines); debug builds stay portable.
let numericFlags: [SwiftSetting] = [
    .unsafeFlags(["-target-cpu", "native"], .when(configuration: .release)),
]

let package = Package(
    name: "mlsh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mlsh", targets: ["mlsh"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", exact: "1.8.2"),
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", exact: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", exact: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", exact: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", exact: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", exact: "1.35.2"),
        .package(url: "https://github.com/apple/swift-http-types", exact: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", exact: "1.16.2"),
        .package(url: "https://github.com/vapor/postgres-nio", exact: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CLibEdit", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CLapack",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),

        // glibc's allocator controls (mallopt, malloc_trim), for the engine's memory policy.
        .systemLibrary(name: "CMalloc"),
        // The calling thread's scheduler slice (sched_setattr), for the servers' event loops.
        .systemLibrary(name: "CSched"),
        // Loops MLShEngine runs in C for AVX2 instructions Swift does not reach (filter
        // compaction), chosen at run time by the CPU.
        .target(name: "CKernels"),

        // libcrypto's SHA-256 (SHA-NI where the CPU has it), for MLShEngine.SHA256.
        .systemLibrary(name: "COpenSSL", providers: [.apt(["libssl-dev"])]),
        // Zstandard, for the compressed blocks of snapshot files and Parquet pages.
        .systemLibrary(name: "CZstd", providers: [.apt(["libzstd-dev"])]),
        // Snappy and zlib, for the SNAPPY and GZIP pages of Parquet files.
        .systemLibrary(name: "CSnappy", providers: [.apt(["libsnappy-dev"])]),
        .systemLibrary(name: "CZlib", providers: [.apt(["zlib1g-dev"])]),
        // xxHash, for the per-block digests of snapshot files.
        .systemLibrary(name: "CXXHash", providers: [.apt(["libxxhash-dev"])]),

        // What every target shares and nothing of ML: the operator table, JSON, "did you
        // mean", XML escaping, the usable core count.
        .target(name: "MLShCommon"),
        .target(name: "MLShLanguage", dependencies: ["MLShCommon"]),
        .target(name: "MLShEngine", dependencies: ["MLShCommon", "CMalloc", "COpenSSL", "CZstd", "CSnappy", "CZlib", "CKernels"],
                swiftSettings: numericFlags),
        .target(name: "MLShModels", dependencies: ["MLShCommon", "MLShEngine", "CLapack"],
                swiftSettings: numericFlags),
        .target(name: "MLShStore", dependencies: [
            "MLShCommon", "MLShEngine", "MLShModels", "CZstd", "CXXHash",
            .product(name: "GRDB", package: "GRDB.swift"),
            .product(name: "GRDBSQLite", package: "GRDB.swift"),
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
        ]),
        .target(name: "MLShPlot", dependencies: ["MLShCommon"]),
        // What watches served models: drift statistics; no HTTP.
        .target(name: "MLShMonitor", dependencies: ["MLShCommon", "MLShEngine", "MLShModels", "MLShStore"]),
        .target(name: "MLShServe", dependencies: [
            "MLShCommon", "MLShEngine", "MLShModels", "MLShStore", "MLShMonitor", "CSched",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "NIOHTTPTypesHTTP1", package: "swift-nio-extras"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // The web UI: experiments, runs, models, deployments and datasets as HTML pages and JSON.
        .target(name: "MLShUI", dependencies: [
            "MLShCommon", "MLShStore", "MLShPlot", "MLShMonitor",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // Container images of registered models (OCI layout, docker archive, Dockerfile), written directly.
        .target(name: "MLShPackage", dependencies: ["MLShCommon", "MLShEngine", "MLShStore", "CZlib"]),
        .target(name: "MLShRuntime", dependencies: [
            "MLShCommon", "MLShLanguage", "MLShEngine", "MLShModels", "MLShStore", "MLShPlot", "MLShServe", "MLShMonitor", "MLShUI",
        ]),
        .target(name: "MLShREPL",
                dependencies: ["MLShCommon", "MLShLanguage", "MLShRuntime", "CLibEdit"]),
        // Notebooks: percent cells, Markdown, HTML and Markdown pages, JUnit reports.
        .target(name: "MLShNotebook", dependencies: ["MLShCommon", "MLShLanguage", "MLShRuntime", "MLShEngine"]),
        .executableTarget(name: "mlsh", dependencies: [
            "MLShCommon", "MLShREPL", "MLShNotebook", "MLShRuntime", "MLShServe", "MLShStore", "MLShLanguage", "MLShUI", "MLShPackage",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        ]),

        // Time the kernel and the estimators alone, for scripts/bench.d/engine and models.
        .executableTarget(name: "KernelBench", dependencies: ["MLShEngine"], path: "Benchmarks/KernelBench",
                          swiftSettings: numericFlags),
        .executableTarget(name: "DataBench", dependencies: ["MLShEngine", "MLShStore"], path: "Benchmarks/DataBench",
                          swiftSettings: numericFlags),
        .executableTarget(name: "ModelBench", dependencies: ["MLShCommon", "MLShModels", "MLShEngine"],
                          path: "Benchmarks/ModelBench", swiftSettings: numericFlags),

        .target(name: "TestSupport", dependencies: ["MLShCommon", "MLShLanguage", "MLShRuntime"],
                path: "Tests/TestSupport"),
        .testTarget(name: "MLShCommonTests", dependencies: ["MLShCommon"]),
        .testTarget(name: "MLShLanguageTests", dependencies: ["MLShLanguage", "MLShCommon"]),
        .testTarget(name: "MLShEngineTests", dependencies: ["MLShCommon", "MLShEngine", "CKernels", "TestSupport"], exclude: ["fixtures"]),
        .testTarget(name: "MLShStoreTests", dependencies: [
            "MLShCommon", "MLShStore", "MLShModels", "MLShEngine", "TestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        ],
                    exclude: ["fixtures"]),
        .testTarget(name: "MLShPlotTests", dependencies: ["MLShPlot"]),
        .testTarget(name: "MLShPackageTests", dependencies: ["MLShPackage", "MLShStore", "MLShEngine", "MLShServe", "MLShCommon", "TestSupport"]),
        .testTarget(name: "MLShServeTests", dependencies: [
            "MLShCommon", "MLShServe", "MLShStore", "MLShModels", "MLShEngine", "MLShMonitor", "TestSupport",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "HummingbirdTesting", package: "hummingbird"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOEmbedded", package: "swift-nio"),
            .product(name: "NIOHTTP1", package: "swift-nio"),
        ]),
        .testTarget(name: "MLShUITests", dependencies: [
            "MLShCommon", "MLShUI", "MLShStore", "MLShLanguage", "MLShRuntime", "MLShServe", "TestSupport",
        ]),
        .testTarget(name: "MLShMonitorTests", dependencies: ["MLShMonitor", "MLShEngine", "TestSupport"]),
        .testTarget(name: "MLShNotebookTests", dependencies: ["MLShNotebook", "TestSupport"], exclude: ["notebooks"]),
        .testTarget(name: "MLShModelsTests", dependencies: ["MLShModels", "MLShEngine"], exclude: ["fixtures"]),
        .testTarget(name: "GoldenTests", dependencies: [
            "MLShCommon", "MLShEngine", "MLShLanguage", "MLShModels", "MLShRuntime", "MLShREPL", "MLShNotebook", "MLShServe", "MLShStore", "TestSupport",
        ], exclude: ["scripts", "onnx"]),
    ],
    swiftLanguageModes: [.v6]
)

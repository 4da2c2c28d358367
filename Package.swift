// swift-tools-version: 6.0
import PackageDescription

// Linux only: inotify, Glibc, libcurl and systemd are what it is built on.
let package = Package(
    name: "Accord",
    products: [
        .executable(name: "accordctl", targets: ["accordctl"]),
        .executable(name: "accordhub", targets: ["accordhub"]),
        .executable(name: "accordd", targets: ["accordd"]),
        .executable(name: "accord-bench", targets: ["accord-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.36.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.20.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        // Pure deciders: JSON, records, schemas, diff, merge. No I/O.
        .target(name: "AccordCore", dependencies: [.product(name: "Crypto", package: "swift-crypto")]),
        // The file-system side of records: walking a root, reading files, schema folders.
        .target(name: "AccordFiles", dependencies: ["AccordCore"]),
        // TOML config reading with messages that name the key.
        .target(name: "AccordConfig", dependencies: [.product(name: "TOMLKit", package: "TOMLKit")]),
        // libcurl, with typed wrappers for its variadic calls.
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        // The HTTP client on libcurl's multi interface.
        .target(name: "AccordHTTP", dependencies: ["CCurl"]),
        // The daemon's durable state: file index, bases, outbox, cursor, conflicts, events.
        .target(name: "AccordStore", dependencies: ["AccordCore", .product(name: "GRDB", package: "GRDB.swift")]),
        // The sync module: hub client, retry, differ, pusher, puller, reconciler.
        .target(name: "AccordSync", dependencies: ["AccordCore", "AccordHTTP", "AccordStore", "AccordFiles", "CLinux"]),
        // inotify: recursive watches and the debouncing aggregator.
        .target(name: "AccordWatch", dependencies: ["AccordCore", "AccordFiles"]),
        // sd_notify(3) and the watchdog, for both services.
        .target(
            name: "AccordSystemd",
            dependencies: [
                .product(name: "Logging", package: "swift-log"), .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        // The daemon: config, sync loop, feed, control API, signals, systemd notify.
        .target(
            name: "AccordDaemon",
            dependencies: [
                "AccordCore", "AccordFiles", "AccordConfig", "AccordHTTP", "AccordStore", "AccordSync", "AccordWatch", "AccordSystemd", "CLinux",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "TOMLKit", package: "TOMLKit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // Exit codes and error lines shared by the three programs.
        .target(name: "AccordCLI", dependencies: [.product(name: "ArgumentParser", package: "swift-argument-parser")]),
        // The reference hub: protocol v1, storage, auth.
        .target(
            name: "AccordHub",
            dependencies: [
                "AccordCore", "AccordConfig", "AccordSystemd", "CLinux",
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "accordctl",
            dependencies: [
                "AccordCore", "AccordFiles", "AccordCLI", "AccordHTTP",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ]
        ),
        .executableTarget(
            name: "accordhub",
            dependencies: [
                "AccordCore", "AccordFiles", "AccordHub", "AccordCLI", "AccordConfig", "AccordSystemd", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(
            name: "accordd",
            dependencies: [
                "AccordCore", "AccordConfig", "AccordDaemon", "AccordCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "accord-sync",
            dependencies: [
                "AccordCore", "AccordFiles", "AccordHTTP", "AccordStore", "AccordSync", "AccordCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Fuzz targets (libFuzzer with scripts/fuzz.sh; corpus replay when built plainly).
        .executableTarget(name: "accord-fuzz-json", dependencies: ["AccordCore"]),
        .executableTarget(name: "accord-fuzz-control", dependencies: ["AccordDaemon"]),
        .executableTarget(name: "accord-bench", dependencies: ["AccordCore", "AccordFiles", "AccordHTTP", "AccordStore", "AccordSync", "AccordTestSupport", "CLinux"]),
        .testTarget(name: "AccordCoreTests", dependencies: ["AccordCore"]),
        // Test helpers: temp folders, child processes, a raw HTTP client, the hub launcher.
        .target(name: "AccordTestSupport", dependencies: ["CLinux"]),
        // Linux calls Swift's Glibc module lacks (syncfs, renameat2).
        .target(name: "CLinux"),
        .testTarget(name: "AccordFilesTests", dependencies: ["AccordCore", "AccordFiles", "AccordTestSupport"]),
        .testTarget(
            name: "AccordSyncTests",
            dependencies: [
                "AccordSync", "AccordCore", "AccordStore", "AccordTestSupport", "accordhub", "accord-sync",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]),
        .testTarget(name: "AccordStoreTests", dependencies: ["AccordStore", "AccordCore", "AccordTestSupport"]),
        .testTarget(name: "AccordHTTPTests", dependencies: ["AccordHTTP", "AccordTestSupport", "accordhub"]),
        .testTarget(
            name: "AccordHubTests",
            dependencies: [
                "AccordCore", "AccordFiles", "AccordHub", "AccordTestSupport", "accordhub",
                .product(name: "Logging", package: "swift-log"), .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "AccordctlTests", dependencies: ["accordctl", "AccordTestSupport"]),
        .testTarget(
            name: "AccordDaemonTests",
            dependencies: [
                "AccordDaemon", "AccordSync", "AccordConfig", "AccordCore", "AccordTestSupport", "accordd", "accordctl", "accordhub",
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Whole-system scenarios: real hub, daemons and accordctl as processes.
        .testTarget(name: "EndToEndTests", dependencies: ["AccordTestSupport", "AccordStore", "AccordCore", "accordd", "accordctl", "accordhub"]),
        .testTarget(name: "AccordWatchTests", dependencies: ["AccordWatch", "AccordCore", "AccordTestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)

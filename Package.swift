// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "Accord",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "accordctl", targets: ["accordctl"]),
        .executable(name: "accord-bench", targets: ["accord-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // Pure deciders: JSON, records, schemas, diff, merge. No I/O.
        .target(name: "AccordCore"),
        // The file-system side of records: walking a root, reading files, schema folders.
        .target(name: "AccordWatch", dependencies: ["AccordCore"]),
        .executableTarget(
            name: "accordctl",
            dependencies: [
                "AccordCore", "AccordWatch",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "accord-bench", dependencies: ["AccordCore", "AccordWatch"]),
        .testTarget(name: "AccordCoreTests", dependencies: ["AccordCore"]),
        .testTarget(name: "AccordWatchTests", dependencies: ["AccordCore", "AccordWatch"]),
        .testTarget(name: "AccordctlTests", dependencies: ["accordctl"]),
    ],
    swiftLanguageModes: [.v6]
)

import Foundation
import Testing

/// Runs the real `accordctl` binary, built beside this test bundle.
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

func runAccordctl(_ arguments: [String], in directory: String? = nil) throws -> CommandRun {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [binary.appendingPathComponent("accordctl").path]
    // `swift test` runs the bundle from <build>/debug/<Package>PackageTests.xctest.
    candidates.append(binary.deletingLastPathComponent().appendingPathComponent("accordctl").path)
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates.joined(separator: ", ")])
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CommandRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self), stderr: String(decoding: stderr, as: UTF8.self))
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite("accordctl validate and diff, as a process")
struct AccordctlProcessTests {
    @Test func exampleRecordsAreValid() throws {
        let run = try runAccordctl(["validate", "examples/records"], in: repositoryRoot)
        #expect(run.status == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout == "")
        #expect(run.stderr.hasPrefix("ok: 4 files, 8 valid records"))
    }

    @Test func badFilesExitOneWithOneLinePerProblem() throws {
        let folder = NSTemporaryDirectory() + "accordctl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try Data(#"{"kind": "news", "id": "a",}"#.utf8).write(to: URL(fileURLWithPath: folder + "/comma.json"))
        try Data(#"{"kind": "agreement", "id": "b", "title": "t", "parties": ["US"], "status": "agreed"}"#.utf8).write(
            to: URL(fileURLWithPath: folder + "/schema.json"))
        let run = try runAccordctl(["validate", "--schemas", repositoryRoot + "/config/schemas", folder])
        #expect(run.status == 1)
        #expect(
            run.stdout.split(separator: "\n") == [
                "\(folder)/comma.json:1:28: trailing comma before '}'",
                "\(folder)/schema.json:1:59: /parties: must have at least 2 items, has 1",
            ])
        #expect(run.stderr.contains("2 problems in 2 files"))
    }

    @Test(
        "usage errors exit 2",
        arguments: [
            ["validate"],
            ["validate", "/no/such/path.json"],
            ["validate", "--schemas", "/no/such/folder", "examples/records"],
            ["validate", "--max-record-bytes", "0", "examples/records"],
            ["validate", "--bogus", "examples/records"],
            ["frobnicate"],
        ])
    func usageErrors(_ arguments: [String]) throws {
        let run = try runAccordctl(arguments, in: repositoryRoot)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(!run.stderr.isEmpty)
        #expect(!run.stderr.contains("Fatal error"))
    }

    @Test func versionAndHelpExitZero() throws {
        #expect(try runAccordctl(["--version"]).status == 0)
        let help = try runAccordctl(["--help"])
        #expect(help.status == 0)
        #expect(help.stdout.contains("validate"))
    }

    @Test func diffPrintsChangedFields() throws {
        let folder = NSTemporaryDirectory() + "accordctl-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let old = try String(contentsOfFile: repositoryRoot + "/examples/records/agreements/us-japan-hns-fy2021.json", encoding: .utf8)
        let new = old.replacingOccurrences(of: "1910000000", with: "2010000000").replacingOccurrences(of: "\"extended\"", with: "\"signed\"")
        try Data(new.utf8).write(to: URL(fileURLWithPath: folder + "/new.json"))
        let run = try runAccordctl(["diff", repositoryRoot + "/examples/records/agreements/us-japan-hns-fy2021.json", folder + "/new.json"])
        #expect(run.status == 1)
        #expect(
            run.stdout == """
                agreement/us-japan-hns-fy2021: 2 fields changed
                  status: extended -> signed
                  value.amount: 1910000000 -> 2010000000

                """)
    }
}

@Suite("accordctl error lines")
struct AccordctlErrorLineTests {
    @Test("usage errors are one line", arguments: [["validate"], ["validate", "--bogus", "x"], ["validate", "--max-record-bytes", "abc", "x"]])
    func oneLine(_ arguments: [String]) throws {
        let run = try runAccordctl(arguments, in: repositoryRoot)
        #expect(run.status == 2)
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("accordctl: "))
    }
}

@Suite("accordctl without a daemon")
struct AccordctlDaemonVerbTests {
    @Test(
        "every daemon verb exits 3 with one line when nothing listens",
        arguments: [
            ["status"], ["status", "--json"], ["sync", "--wait"], ["pause"], ["resume", "--allow-deletes"], ["conflicts"],
            ["resolve", "agreement/x", "--keep", "local"], ["diff", "agreement/x"], ["log", "-n", "5"],
        ])
    func unreachable(_ arguments: [String]) throws {
        let run = try runAccordctl(["--socket", "/nonexistent/accord.sock"] + arguments)
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains("is accordd running?"), "\(run.stderr)")
    }

    @Test(
        "bad arguments to daemon verbs are usage errors",
        arguments: [
            ["resolve", "not-a-key", "--keep", "local"], ["resolve", "agreement/x"], ["diff", "a", "b", "c"], ["diff", "nokey"],
            ["log", "-n", "0"], ["sync", "--timeout", "0"], ["status", "--bogus"],
        ])
    func usage(_ arguments: [String]) throws {
        let run = try runAccordctl(["--socket", "/nonexistent/accord.sock"] + arguments)
        #expect(run.status == 2, "\(run.stderr)")
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    @Test func theSocketComesFromTheDaemonConfig() throws {
        let folder = NSTemporaryDirectory() + "accordctl-config-\(getpid())"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try "[control]\nsocket = \"\(folder)/from-config.sock\"\n".write(toFile: folder + "/d.toml", atomically: true, encoding: .utf8)
        let run = try runAccordctl(["status", "--config", folder + "/d.toml"])
        #expect(run.status == 3 && run.stderr.contains("from-config.sock"), "\(run.stderr)")
    }

    @Test func completionsAreGenerated() throws {
        let run = try runAccordctl(["--generate-completion-script", "bash"])
        #expect(run.status == 0 && run.stdout.contains("resolve") && run.stdout.contains("conflicts"))
    }
}

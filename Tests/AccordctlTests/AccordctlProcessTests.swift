import AccordTestSupport
import Foundation
import Testing

/// Runs the real `accordctl` binary, built beside this test bundle.
struct CommandRun {
    var status: Int32
    var stdout: String
    var stderr: String
}

func accordctlPath() throws -> String {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [binary.appendingPathComponent("accordctl").path]
    // `swift test` runs the bundle from <build>/debug/<Package>PackageTests.xctest.
    candidates.append(binary.deletingLastPathComponent().appendingPathComponent("accordctl").path)
    guard let path = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates.joined(separator: ", ")])
    }
    return path
}

func runAccordctl(_ arguments: [String], in directory: String? = nil) throws -> CommandRun {
    try runProgram(try accordctlPath(), arguments, in: directory)
}

func runProgram(_ path: String, _ arguments: [String], in directory: String? = nil) throws -> CommandRun {
    let run = try ProgramRun.run(path, arguments, in: directory)
    return CommandRun(status: run.status, stdout: run.stdout, stderr: run.stderr)
}

let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

@Suite("accordctl validate and diff, as a process")
struct AccordctlProcessTests {
    @Test func validateTakesTheSchemasFromTheDaemonConfig() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accordctl-validate-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = folder + "/accordd.toml"
        try "root = \"/srv/records\"\nschemas = \"\(repositoryRoot)/config/schemas\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        // Run from a folder with no config/schemas of its own.
        let run = try runAccordctl(["validate", "--config", config, repositoryRoot + "/examples/records"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        try "schemas = \"\(folder)/missing\"\n".write(toFile: config, atomically: true, encoding: .utf8)
        let missing = try runAccordctl(["validate", "--config", config, repositoryRoot + "/examples/records"], in: folder)
        #expect(missing.status == 2 && missing.stderr.contains("\(folder)/missing"), "\(missing.stderr)")
    }

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
        #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains("no such socket"), "\(run.stderr)")
    }

    /// A user outside the daemon's group cannot enter /run/accord: say that, not "is
    /// accordd running?". Needs root to run accordctl as another user (CI runs as root).
    @Test(.enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv")))
    func aUserOutsideTheGroupIsToldThatPermissionIsMissing() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accordctl-denied-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o750])
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let binary = try accordctlPath()
        let run = try runProgram(
            "/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", binary, "--socket", folder + "/control.sock", "status"])
        #expect(run.status == 3, "\(run.stderr)")
        #expect(run.stderr.contains("permission denied: cannot open \(folder)") && run.stderr.contains("join the group"), "\(run.stderr)")
    }

    @Test func theErrorSaysWhatIsWrongWithTheSocketNotWhatLibcurlSaid() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("accordctl-socket-\(getpid())").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // A regular file where the socket should be.
        let file = folder + "/file.sock"
        FileManager.default.createFile(atPath: file, contents: Data())
        let notSocket = try runAccordctl(["--socket", file, "status"])
        #expect(notSocket.status == 3 && notSocket.stderr.contains("is not a socket"), "\(notSocket.stderr)")
        // A socket left behind by a daemon that is gone: bound, never listened on.
        let stale = folder + "/stale.sock"
        let bound = try runProgram("/usr/bin/python3", ["-c", "import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])", stale])
        #expect(bound.status == 0, "\(bound.stderr)")
        let refused = try runAccordctl(["--socket", stale, "status"])
        #expect(refused.status == 3 && refused.stderr.contains("nobody is listening"), "\(refused.stderr)")
        #expect(!refused.stderr.contains("port 80"), "libcurl's words: \(refused.stderr)")
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

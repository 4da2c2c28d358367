import Foundation

/// Real nginx running one `server { … }` block (the repository's examples, with their
/// addresses and certificates swapped for a test's), in the foreground with all its
/// files in a temporary folder; stopped on deinit.
package final class NginxLauncher: @unchecked Sendable {
    package static let binary = "/usr/sbin/nginx"
    package let process: ChildProcess
    let folder: TemporaryFolder

    /// The example at `example` (relative to the repository), each `replacing` pair
    /// applied; throws when an expected text is no longer in the example.
    package static func example(_ example: String, replacing: [(String, String)]) throws -> String {
        var text = try String(contentsOfFile: BuiltProducts.repositoryRoot + "/" + example, encoding: .utf8)
        for (from, to) in replacing {
            guard text.contains(from) else { throw TestSupportError("\(example) no longer has \(from)") }
            text = text.replacingOccurrences(of: from, with: to)
        }
        return text
    }

    /// Starts nginx with `server` (one or more blocks of the `http` context) and waits
    /// until `healthURL` answers 200 through it (with `caFile` for https).
    package init(server: String, healthURL: String, caFile: String) async throws {
        folder = try TemporaryFolder()
        let temp = folder.child("nginx-temp")
        try FileManager.default.createDirectory(atPath: temp, withIntermediateDirectories: true)
        let main = """
            daemon off;
            master_process off;
            pid \(folder.child("nginx.pid"));
            error_log \(folder.child("nginx-error.log")) warn;
            events { worker_connections 256; }
            http {
                access_log off;
                client_body_temp_path \(temp)/body;
                proxy_temp_path \(temp)/proxy;
                fastcgi_temp_path \(temp)/fastcgi;
                uwsgi_temp_path \(temp)/uwsgi;
                scgi_temp_path \(temp)/scgi;
            \(server)
            }
            """
        process = try ChildProcess(Self.binary, ["-p", folder.path, "-c", try folder.write("nginx.conf", main)], logFolder: folder.path)
        let folder = self.folder
        let up = try await eventuallyAsync(timeout: 15) {
            try await Self.status(healthURL, caFile: caFile, logFolder: folder.path) == "200"
        }
        guard up else {
            throw TestSupportError("nginx did not come up: \((try? String(contentsOfFile: folder.child("nginx-error.log"), encoding: .utf8)) ?? "")")
        }
    }

    /// The HTTP status curl gets for `url` (with `caFile` trusted).
    package static func status(_ url: String, caFile: String, logFolder: String) async throws -> String {
        let curl = try ChildProcess("/usr/bin/curl", ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--cacert", caFile, url], logFolder: logFolder)
        _ = try await curl.waitForExit(timeout: 10)
        return curl.standardOutput
    }

    deinit { process.signal(SIGTERM) }
}

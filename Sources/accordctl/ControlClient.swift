import AccordCLI
import AccordCore
import AccordHTTP
import ArgumentParser

#if canImport(Glibc)
    import Glibc
#endif

/// Where the daemon's control socket is: `--socket`, `ACCORD_SOCKET`, the daemon
/// config's `control.socket` (`--config`, `ACCORD_CONFIG`, /etc/accord/accordd.toml),
/// then the default.
struct ControlOptions: ParsableArguments {
    @Option(help: "The daemon's control socket (default: $ACCORD_SOCKET, then control.socket from the daemon config).")
    var socket: String?

    @Option(help: "The daemon config to find control.socket in (default: $ACCORD_CONFIG, then /etc/accord/accordd.toml).")
    var config: String?

    static let defaultSocket = "/run/accord/control.sock"

    func socketPath() throws -> String {
        if let socket { return socket }
        if let value = getenv("ACCORD_SOCKET"), !String(cString: value).isEmpty { return String(cString: value) }
        return try DaemonConfigFile.table(explicit: config)?.table["control"]?.table?["socket"]?.string ?? Self.defaultSocket
    }
}

/// The control API over libcurl on the Unix socket. Every failure to reach the daemon
/// is exit code 3 with a line saying what to check.
struct ControlClient {
    let socketPath: String

    init(_ options: ControlOptions) throws {
        socketPath = try options.socketPath()
    }

    struct Reply {
        var status: Int
        var json: JSONObject
        var text: String
    }

    /// - Parameter waits: the daemon holds the answer on purpose (`sync --wait`), so
    ///   silence until `timeout` is no sign of trouble.
    func send(_ method: String, _ path: String, body: JSONObject? = nil, timeout: Double = 30, waits: Bool = false) async throws -> Reply {
        var options = HTTPClientOptions()
        options.unixSocketPath = socketPath
        options.connectTimeoutSeconds = 5
        options.userAgent = "accordctl/\(AccordVersion.string)"
        let client = HTTPClient(options: options)
        defer { client.shutdown() }
        var headers: [(String, String)] = []
        var bytes: [UInt8]?
        if let body {
            headers.append(("Content-Type", "application/json"))
            bytes = Array(JSONWriter.line(.object(body)).utf8)
        } else if method == "POST" {
            bytes = []
        }
        let response: HTTPResponse
        do {
            var request = HTTPRequest(method: method, url: "http://accordd" + path, headers: headers, body: bytes, timeoutSeconds: timeout)
            request.isLongPoll = waits
            response = try await client.send(request)
        } catch {
            var code: Int?
            var message = "\(error)"
            switch error {
            case .transport(let curlCode, let curlMessage): (code, message) = (curlCode, curlMessage)
            case .timedOut(let timeoutMessage): message = timeoutMessage
            default: break
            }
            let diagnosis = SocketDiagnosis.examine(socketPath, curlCode: code, curlMessage: message)
            throw CommandStatus(code: 3, message: "accordctl: cannot reach accordd at \(socketPath): \(diagnosis.explanation(socket: socketPath))")
        }
        let json = (try? JSONParser.parse(response.body))?.objectValue ?? JSONObject()
        return Reply(status: response.status, json: json, text: response.text)
    }

    /// The problem's detail, as one line for stderr, with the exit code 1 (or 2 for a
    /// request the daemon found malformed). A record or conflict that is not there is
    /// an operation that failed (1), not a mistake in the command line.
    func failure(_ reply: Reply) -> CommandStatus {
        let detail = reply.json["detail"]?.stringValue ?? reply.text.trimming(" \n")
        return CommandStatus(code: reply.status == 400 ? 2 : 1, message: "accordctl: \(detail)")
    }

}

/// Terminal helpers: human output fits 80 columns on a terminal.
enum Terminal {
    static var isTTY: Bool { isatty(1) == 1 }

    static var width: Int {
        var size = winsize()
        if isTTY, ioctl(1, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 { return min(Int(size.ws_col), 120) }
        return 80
    }

    /// Cuts a line to the terminal's width (only on a terminal: pipes get it whole).
    static func fit(_ line: String) -> String {
        guard isTTY, line.count > width else { return line }
        return String(line.prefix(width - 1)) + "…"
    }

    static func printJSON(_ object: JSONObject) {
        CommandRunner.printOutput(JSONWriter.pretty(.object(object)))
    }
}

extension JSONValue {
    /// A value shown inline: strings bare, everything else as compact JSON.
    var inline: String {
        if case .string(let text) = self { return text }
        return JSONWriter.line(self)
    }

    var intValue: Int { numberValue.flatMap { Int($0.literal) } ?? 0 }
}
